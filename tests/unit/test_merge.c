/* test_merge.c - shards (shard.c), the endpoint pool (endpoint.c) and
 * `caigen merge` (merge.c) on files in a temporary folder. */
#include "endpoint.h"
#include "harness.h"
#include "merge.h"
#include "shard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_shard_parse(void)
{
	struct shard s;
	struct err e;

	CHECK(shard_parse(&s, "3/16", &e) == 0 && s.k == 3 && s.n == 16);
	CHECK(shard_parse(&s, "0/1", &e) == 0 && s.k == 0 && s.n == 1);
	CHECK(shard_parse(&s, "4/4", &e) < 0);
	CHECK(strstr(e.msg, "'4/4'") != NULL);
	CHECK(shard_parse(&s, "3", &e) < 0);
	CHECK(shard_parse(&s, "-1/4", &e) < 0);
	CHECK(shard_parse(&s, "1/0", &e) < 0);
	CHECK(shard_parse(&s, "1/4x", &e) < 0);
	CHECK(shard_parse(&s, "/4", &e) < 0);
	CHECK(shard_parse(&s, "1/999999999999", &e) < 0);
}

static void test_shard_env(void)
{
	struct shard s;
	struct err e;

	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("SLURM_ARRAY_TASK_COUNT");
	unsetenv("SLURM_ARRAY_TASK_MIN");
	unsetenv("SLURM_ARRAY_TASK_MAX");
	CHECK(shard_from_env(&s, &e) == 0 && s.n == 1);
	setenv("SLURM_ARRAY_TASK_ID", "5", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "16", 1);
	CHECK(shard_from_env(&s, &e) == 1 && s.k == 5 && s.n == 16);
	unsetenv("SLURM_ARRAY_TASK_COUNT");
	setenv("SLURM_ARRAY_TASK_MIN", "3", 1);
	setenv("SLURM_ARRAY_TASK_MAX", "6", 1);
	CHECK(shard_from_env(&s, &e) == 1 && s.k == 2 && s.n == 4);
	setenv("SLURM_ARRAY_TASK_ID", "7", 1);
	CHECK(shard_from_env(&s, &e) < 0);
	CHECK(strstr(e.msg, "outside the array") != NULL);
	setenv("SLURM_ARRAY_TASK_ID", "x", 1);
	CHECK(shard_from_env(&s, &e) < 0);
	unsetenv("SLURM_ARRAY_TASK_MAX");
	setenv("SLURM_ARRAY_TASK_ID", "1", 1);
	CHECK(shard_from_env(&s, &e) < 0);	/* no count, no max */
	unsetenv("SLURM_ARRAY_TASK_ID");
	unsetenv("SLURM_ARRAY_TASK_MIN");
}

static void test_shard_owns_partition(void)
{
	struct shard s[8];
	int per[8] = { 0 };
	char id[32];
	char *suf;

	for (unsigned k = 0; k < 8; k++)
		s[k] = (struct shard){ k, 8 };
	for (int i = 0; i < 8000; i++) {
		int owners = 0;

		snprintf(id, sizeof(id), "prompt-%d", i);
		for (int k = 0; k < 8; k++)
			if (shard_owns(&s[k], id)) {
				owners++;
				per[k]++;
			}
		CHECK(owners == 1);
	}
	for (int k = 0; k < 8; k++)
		CHECK(per[k] > 800 && per[k] < 1200);
	CHECK(shard_owns(&(struct shard){ 0, 1 }, "anything"));
	suf = shard_suffix(&(struct shard){ 3, 16 });
	CHECK_STR(suf, ".shard-00003-of-00016");
	free(suf);
	suf = shard_suffix(&(struct shard){ 0, 1 });
	CHECK_STR(suf, "");
	free(suf);
}

static struct endpoint_pool *pool3(double cooldown)
{
	static const char *const urls[] = { "http://a/v1", "http://b/v1/",
					    "http://c/v1" };
	struct endpoint_tuning t = { 2, cooldown, cooldown * 4 };
	struct err e;

	return endpoint_pool_new(urls, 3, 0, &t, &e);
}

static void test_endpoint_least_in_flight(void)
{
	struct endpoint_pool *p = pool3(5);
	bool back;
	size_t a, b, c, d;

	CHECK_STR(endpoint_url(p, 1), "http://b/v1/chat/completions");
	a = endpoint_pick(p, &back);
	b = endpoint_pick(p, &back);
	c = endpoint_pick(p, &back);
	CHECK(!back);
	CHECK(a != b && b != c && a != c);	/* one each */
	endpoint_done(p, b, true, false);
	d = endpoint_pick(p, &back);
	CHECK(d == b);			/* the only one with 0 in flight */
	endpoint_done(p, a, true, false);
	endpoint_done(p, c, true, false);
	endpoint_done(p, d, true, false);
	endpoint_pool_free(p);
}

static void test_endpoint_cooldown_and_probe(void)
{
	struct endpoint_pool *p = pool3(0.05);
	struct endpoint_count cnt[3];
	bool back;
	size_t e;

	/* server 0 fails twice in a row: out */
	for (int i = 0; i < 2; i++) {
		do {
			e = endpoint_pick(p, &back);
			if (e != 0)
				endpoint_done(p, e, true, false);
		} while (e != 0);
		endpoint_done(p, 0, false, true);
	}
	for (int i = 0; i < 20; i++) {
		e = endpoint_pick(p, &back);
		CHECK(e != 0 && !back);
		endpoint_done(p, e, true, false);
	}
	/* a 4xx is not the server's fault: no cool-down for server 1 */
	for (int i = 0; i < 5; i++) {
		e = endpoint_pick(p, &back);
		endpoint_done(p, e, false, false);
	}
	usleep(100 * 1000);
	e = endpoint_pick(p, &back);	/* the probe */
	CHECK(e == 0);
	endpoint_done(p, e, false, true);	/* fails: out again */
	for (int i = 0; i < 10; i++) {
		e = endpoint_pick(p, &back);
		CHECK(e != 0);
		endpoint_done(p, e, true, false);
	}
	usleep(250 * 1000);		/* > the doubled cool-down */
	e = endpoint_pick(p, &back);
	CHECK(e == 0);
	endpoint_done(p, e, true, false);	/* probe works: back */
	{
		int zeros = 0;

		for (int i = 0; i < 9; i++) {
			e = endpoint_pick(p, &back);
			zeros += e == 0;
			endpoint_done(p, e, true, false);
		}
		CHECK(zeros == 3);
	}
	CHECK(endpoint_pool_counts(p, cnt, 3) == 3);
	CHECK(cnt[0].cooldowns == 2);
	CHECK(cnt[0].failures == 3);
	CHECK(cnt[1].cooldowns == 0 && cnt[2].cooldowns == 0);
	CHECK_STR(cnt[1].url, "http://b/v1/");
	endpoint_pool_free(p);
}

static void test_endpoint_all_out(void)
{
	static const char *const one[] = { "http://a/v1" };
	struct endpoint_tuning t = { 1, 10, 60 };
	struct err e;
	struct endpoint_pool *p = endpoint_pool_new(one, 1, 0, &t, &e);
	bool back;

	CHECK(endpoint_pick(p, &back) == 0 && !back);
	endpoint_done(p, 0, false, true);
	CHECK(endpoint_pick(p, &back) == 0 && back);
	endpoint_done(p, 0, false, true);
	endpoint_pool_free(p);
	CHECK(endpoint_pool_new(one, 0, 0, &t, &e) == NULL);
	CHECK(endpoint_failover(0, NULL) && endpoint_failover(503, NULL) &&
	      endpoint_failover(429, "{}") && !endpoint_failover(400, NULL) &&
	      !endpoint_failover(401, NULL));
}

/* ---- merge on files ---- */

static char dir[64];

static void put(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *get(const char *name)
{
	char path[128];
	FILE *f;
	static char buf[4096];
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int merge(int n, ...)
{
	char *argv[16];
	char paths[16][128];
	va_list ap;
	int rc;

	va_start(ap, n);
	argv[0] = "merge";
	for (int i = 0; i < n; i++) {
		const char *a = va_arg(ap, const char *);

		if (a[0] == '-') {
			snprintf(paths[i], sizeof(paths[i]), "%s", a);
		} else {
			snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir, a);
		}
		argv[i + 1] = paths[i];
	}
	va_end(ap);
	argv[n + 1] = NULL;
	rc = merge_main(n + 1, argv);
	return rc;
}

#define R(id, ix) "{\"schema\":\"caigen.preference/1\",\"id\":\"" id \
	"\",\"index\":" #ix ",\"p\":0.5}\n"

static void test_merge_files(void)
{
	char *s;

	snprintf(dir, sizeof(dir), "/tmp/test_merge.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	/* shard a: resumed, so two ascending stretches; a torn last line */
	put("a.shard-00000-of-00002.jsonl", R("x0", 0) R("x4", 4) R("x2", 2)
	    R("x6", 6) "{\"schema\":\"caigen.pref");
	/* shard b: an escaped id, a line without index, a duplicate of x4 */
	put("b.shard-00001-of-00002.jsonl", R("x1", 1)
	    "{\"id\":\"x\\\"3\",\"index\":3}\n" "{\"id\":\"junk\"}\n"
	    R("x4", 4) R("x5", 5));
	put("manifest.shard-00000-of-00002.json",
	    "{\"counts\":{\"lines\":7,\"written\":4,\"failed\":1},"
	    "\"policy_endpoints\":[{\"url\":\"u\",\"requests\":3}]}");
	put("manifest.shard-00001-of-00002.json",
	    "{\"counts\":{\"lines\":7,\"written\":3,\"failed\":0,"
	    "\"other_shard\":4},"
	    "\"policy_endpoints\":[{\"url\":\"u\",\"requests\":2},"
	    "{\"url\":\"v\",\"requests\":1}]}");
	put("in.jsonl", "{\"id\":\"x0\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x1\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x2\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x\\\"3\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x4\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x5\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x6\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x7\",\"prompt\":\"p\"}\n");
	/* the junk line makes it exit 1, x7 is missing */
	CHECK(merge(6, "-q", "a.shard-00000-of-00002.jsonl",
		    "b.shard-00001-of-00002.jsonl", "-o", "out.jsonl",
		    "--expect") == 2);	/* --expect needs its value */
	/* x7 missing: exit 1, and no output (nor manifest) left */
	CHECK(merge(7, "-q", "a.shard-00000-of-00002.jsonl",
		    "b.shard-00001-of-00002.jsonl", "-o", "out.jsonl",
		    "--expect", "in.jsonl") == 1);
	CHECK(get("out.jsonl") == NULL && get("out.jsonl.tmp") == NULL &&
	      get("manifest.json") == NULL);
	/* every expected id there: the junk line alone makes it exit 1 */
	put("in7.jsonl", "{\"id\":\"x0\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x1\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x2\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x\\\"3\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x4\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x5\",\"prompt\":\"p\"}\n"
	    "{\"id\":\"x6\",\"prompt\":\"p\"}\n");
	CHECK(merge(7, "-q", "a.shard-00000-of-00002.jsonl",
		    "b.shard-00001-of-00002.jsonl", "-o", "out.jsonl",
		    "--expect", "in7.jsonl") == 1);
	s = get("out.jsonl");
	CHECK_STR(s, R("x0", 0) R("x1", 1) R("x2", 2)
		  "{\"id\":\"x\\\"3\",\"index\":3}\n" R("x4", 4) R("x5", 5)
		  R("x6", 6));
	s = get("manifest.json");
	CHECK(s && strstr(s, "\"written\": 7") && strstr(s, "\"lines\": 7") &&
	      strstr(s, "\"failed\": 1") && !strstr(s, "other_shard") &&
	      strstr(s, "\"duplicates_dropped\": 1") &&
	      strstr(s, "\"missing\": 0") &&
	      strstr(s, "\"partial_lines\": 1") &&
	      strstr(s, "\"requests\": 5"));
	/* in place is refused, a missing input is an error */
	CHECK(merge(3, "a.shard-00000-of-00002.jsonl", "-o",
		    "a.shard-00000-of-00002.jsonl") == 2);
	CHECK(merge(3, "nope.jsonl", "-o", "x.jsonl") == 2);
	CHECK(get("x.jsonl") == NULL && get("x.jsonl.tmp") == NULL);
	/* rejects have no id: keyed by index, merged as well */
	put("r0.jsonl", "{\"line\":2,\"index\":1}\n{\"line\":9,\"index\":8}\n");
	put("r1.jsonl", "{\"line\":2,\"index\":1}\n{\"line\":4,\"index\":3}\n");
	CHECK(merge(6, "-q", "--no-manifest", "r0.jsonl", "r1.jsonl", "-o",
		    "r.jsonl") == 0);
	CHECK_STR(get("r.jsonl"), "{\"line\":2,\"index\":1}\n"
		  "{\"line\":4,\"index\":3}\n{\"line\":9,\"index\":8}\n");
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
}

TESTS(T(test_shard_parse), T(test_shard_env), T(test_shard_owns_partition),
      T(test_endpoint_least_in_flight), T(test_endpoint_cooldown_and_probe),
      T(test_endpoint_all_out), T(test_merge_files))
