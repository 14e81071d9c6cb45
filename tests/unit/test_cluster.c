/*
 * test_cluster.c - what a task of a big job array relies on: the shard
 * from each scheduler's variables, the id map that names both lines of a
 * duplicate, the reader of `caigen split` shard files (indexes, stored
 * rejects, a file cut short), and a reader that remembers only its own
 * shard's ids.
 */
#include "harness.h"
#include "idset.h"
#include "prompts.h"
#include "shard.h"
#include "split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const vars[] = {
	"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_COUNT",
	"SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX",
	"JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX",
	"AWS_BATCH_JOB_ARRAY_SIZE", SHARD_COUNT_VAR,
};

static void clear_env(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

/* rc of shard_from_env, and the shard as "K/N" in out */
static int env_shard(char *out, size_t n, struct err *err)
{
	struct shard s = { 9, 9 };
	int rc = shard_from_env(&s, err);

	snprintf(out, n, "%u/%u", s.k, s.n);
	return rc;
}

static void test_env_kubernetes(void)
{
	struct err err;
	char got[32];

	clear_env();
	CHECK(env_shard(got, sizeof(got), &err) == 0);
	CHECK_STR(got, "0/1");
	setenv("JOB_COMPLETION_INDEX", "7", 1);
	setenv(SHARD_COUNT_VAR, "1000", 1);
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "7/1000");
	/* no count: Kubernetes does not say it, so it is an error */
	unsetenv(SHARD_COUNT_VAR);
	CHECK(env_shard(got, sizeof(got), &err) == -1);
	CHECK(strstr(err.msg, "JOB_COMPLETION_INDEX is set") != NULL);
	CHECK(strstr(err.msg, SHARD_COUNT_VAR) != NULL);
	CHECK_STR(got, "0/1");
	setenv(SHARD_COUNT_VAR, "7", 1);
	CHECK(env_shard(got, sizeof(got), &err) == -1);
	CHECK(strstr(err.msg, "outside the job of 7 tasks") != NULL);
	setenv(SHARD_COUNT_VAR, "x", 1);
	CHECK(env_shard(got, sizeof(got), &err) == -1);
	CHECK(strstr(err.msg, SHARD_COUNT_VAR " must be a number") != NULL);
	clear_env();
}

static void test_env_aws_batch(void)
{
	struct err err;
	char got[32];

	clear_env();
	setenv("AWS_BATCH_JOB_ARRAY_INDEX", "3", 1);
	setenv("AWS_BATCH_JOB_ARRAY_SIZE", "10", 1);
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "3/10");
	/* the array's own size wins over CAIGEN_SHARD_COUNT */
	setenv(SHARD_COUNT_VAR, "20", 1);
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "3/10");
	unsetenv("AWS_BATCH_JOB_ARRAY_SIZE");
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "3/20");
	unsetenv(SHARD_COUNT_VAR);
	CHECK(env_shard(got, sizeof(got), &err) == -1);
	CHECK(strstr(err.msg, "AWS_BATCH_JOB_ARRAY_SIZE nor "
		     SHARD_COUNT_VAR) != NULL);
	setenv("AWS_BATCH_JOB_ARRAY_SIZE", "3", 1);
	CHECK(env_shard(got, sizeof(got), &err) == -1);
	CHECK(strstr(err.msg, "AWS_BATCH_JOB_ARRAY_INDEX 3 is outside") !=
	      NULL);
	clear_env();
}

/* Slurm first, then Kubernetes, then AWS Batch */
static void test_env_order(void)
{
	struct err err;
	char got[32];

	clear_env();
	setenv("AWS_BATCH_JOB_ARRAY_INDEX", "1", 1);
	setenv("AWS_BATCH_JOB_ARRAY_SIZE", "4", 1);
	setenv("JOB_COMPLETION_INDEX", "2", 1);
	setenv(SHARD_COUNT_VAR, "5", 1);
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "2/5");
	setenv("SLURM_ARRAY_TASK_ID", "3", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "6", 1);
	CHECK(env_shard(got, sizeof(got), &err) == 1);
	CHECK_STR(got, "3/6");
	clear_env();
}

static void test_idmap(void)
{
	struct idmap m;
	uint64_t old = 0;
	size_t bad = 0;

	idmap_init(&m);
	CHECK(!idmap_has(&m, 5));
	for (uint64_t i = 0; i < 50000; i++)
		bad += !idmap_put(&m, i * 0x9e3779b97f4a7c15ull, i, NULL);
	CHECK(bad == 0);
	CHECK(m.n == 50000);
	CHECK(2 * m.n <= m.cap);
	for (uint64_t i = 0; i < 50000; i++) {
		old = 0;
		bad += idmap_put(&m, i * 0x9e3779b97f4a7c15ull, 7, &old);
		bad += old != i;	/* the first value stays */
	}
	CHECK(bad == 0);
	CHECK(idmap_has(&m, 0) && !idmap_has(&m, 3));
	/* a hash of 0 and of 1 are the same slot, as in idset */
	CHECK(!idmap_put(&m, 1, 9, &old) && old == 0);
	idmap_release(&m);
	CHECK(m.cap == 0 && !idmap_has(&m, 1));
}

static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/caigen-cluster-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

/* Read a file to a one-line-per-result transcript. */
static char *transcript(const char *path, size_t max_line,
			const struct shard *only, struct prompts_stats *st)
{
	struct err err;
	struct prompts *r = prompts_open(path, max_line, &err);
	char *out = calloc(1, 1);
	size_t len = 0;
	enum prompts_status s;

	if (!r) {
		free(out);
		return strdup(err.msg);
	}
	if (only)
		prompts_only_shard(r, only);
	for (;;) {
		struct prompt p;
		struct reject rj;
		char line[2048];

		s = prompts_next(r, &p, &rj, &err);
		if (s == PROMPTS_EOF)
			break;
		if (s == PROMPTS_ERROR)
			snprintf(line, sizeof(line), "error %s\n", err.msg);
		else if (s == PROMPTS_OK)
			snprintf(line, sizeof(line), "ok %zu %s %s\n",
				 p.index, p.id, p.text ? p.text : "(msgs)");
		else
			snprintf(line, sizeof(line), "rej %zu %s\n", rj.line,
				 rj.reason);
		out = realloc(out, len + strlen(line) + 1);
		strcpy(out + len, line);
		len += strlen(line);
		prompt_release(&p);
		reject_release(&rj);
		if (s == PROMPTS_ERROR)
			break;
	}
	if (st)
		*st = *prompts_stats(r);
	prompts_close(r);
	return out;
}

static void test_split_file_reads_as_source(void)
{
	char *path = write_tmp(
		SPLIT_MAGIC ",\"k\":0,\"n\":3,\"format\":\"jsonl\"}\n"
		"4 {\"id\":\"a\",\"prompt\":\"first\"}\n"
		"7!\"invalid JSON at column 1: x\"\n"
		"9 {\"prompt\":\"no id\"}\n"
		"12 {\"id\":\"a\",\"prompt\":\"again\"}\n"
		"{\"lines\":20,\"blank\":2,\"prompts\":3,\"rejects\":1}\n");
	char *got;
	char want[512];
	struct prompts_stats st;
	char *text = write_tmp("no id\n");
	char *h = transcript(text, 0, NULL, NULL);	/* the text's id */

	h[strcspn(h + 5, " ") + 5] = '\0';
	snprintf(want, sizeof(want),
		 "ok 4 a first\n"
		 "rej 8 invalid JSON at column 1: x\n"
		 "ok 9 %s no id\n"
		 "rej 13 duplicate id 'a'\n", h + 5);
	got = transcript(path, 0, NULL, &st);
	CHECK_STR(got, want);
	/* at the end the stats are the source's: 20 lines, 2 blank */
	CHECK(st.lines == 20 && st.blank == 2);
	CHECK(st.ok == 2 && st.rejected == 2);
	free(got);
	free(h);
	unlink(text);
	free(text);
	unlink(path);
	free(path);
}

static void test_split_file_text_and_errors(void)
{
	char *path = write_tmp(
		SPLIT_MAGIC ",\"k\":1,\"n\":2,\"format\":\"text\"}\n"
		"0 {not json but text}\n"
		"{\"lines\":1,\"blank\":0}\n");
	char *got = transcript(path, 0, NULL, NULL);

	CHECK(strncmp(got, "ok 0 h", 6) == 0);
	CHECK(strstr(got, " {not json but text}\n") != NULL);
	free(got);
	unlink(path);
	free(path);
	/* cut short: no trailer is an error at the end, not a quiet EOF */
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "0 {\"prompt\":\"x\"}\n");
	got = transcript(path, 0, NULL, NULL);
	CHECK(strstr(got, "error ") && strstr(got, "ends before its "
					      "trailer"));
	free(got);
	unlink(path);
	free(path);
	/* an entry without its index */
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "{\"prompt\":\"x\"} 3\n");
	got = transcript(path, 0, NULL, NULL);
	CHECK(strstr(got, "error ") && strstr(got, "a bad trailer"));
	free(got);
	unlink(path);
	free(path);
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "x3 {\"prompt\":\"x\"}\n");
	got = transcript(path, 0, NULL, NULL);
	CHECK(strstr(got, "is not 'INDEX LINE'") != NULL);
	free(got);
	unlink(path);
	free(path);
	/* entries out of source order, or after the trailer: not a split */
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "5 {\"prompt\":\"x\"}\n"
			 "3 {\"prompt\":\"y\"}\n");
	got = transcript(path, 0, NULL, NULL);
	CHECK(strncmp(got, "ok 5 ", 5) == 0);
	CHECK(strstr(got, "the entry for line 4 comes after line 6") != NULL);
	free(got);
	unlink(path);
	free(path);
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "{\"lines\":9,\"blank\":0}\n"
			 "7 {\"prompt\":\"y\"}\n");
	got = transcript(path, 0, NULL, NULL);
	CHECK(strstr(got, "lines after the trailer") != NULL);
	free(got);
	unlink(path);
	free(path);
	/* a line over the run's limit is rejected as on the source */
	path = write_tmp(SPLIT_MAGIC ",\"k\":0,\"n\":2,\"format\":\"jsonl\"}\n"
			 "5 {\"prompt\":\"0123456789\"}\n"
			 "{\"lines\":6,\"blank\":0}\n");
	got = transcript(path, 10, NULL, NULL);
	CHECK_STR(got, "rej 6 line is longer than the limit of 10 bytes\n");
	free(got);
	unlink(path);
	free(path);
}

/*
 * Shard k != 0 remembers only its own ids: a repeat of another shard's id
 * comes out (its caller drops it), a repeat of its own is rejected; shard
 * 0 rejects every repeat, since it records the rejects.
 */
static void test_only_own_ids(void)
{
	char src[4096] = "";
	struct shard s1 = { 1, 2 }, s0 = { 0, 2 };
	const char *own = NULL, *other = NULL;
	char id[16][8];
	char *path, *got;
	char want[1024];

	for (int i = 0; i < 16 && (!own || !other); i++) {
		snprintf(id[i], sizeof(id[i]), "x%u", (unsigned)i % 100);
		if (shard_owns(&s1, id[i]) && !own)
			own = id[i];
		else if (!shard_owns(&s1, id[i]) && !other)
			other = id[i];
	}
	CHECK(own && other);
	if (!own || !other)
		return;
	snprintf(src, sizeof(src),
		 "{\"id\":\"%s\",\"prompt\":\"p\"}\n"
		 "{\"id\":\"%s\",\"prompt\":\"p\"}\n"
		 "{\"id\":\"%s\",\"prompt\":\"p\"}\n"
		 "{\"id\":\"%s\",\"prompt\":\"p\"}\n", own, other, own, other);
	path = write_tmp(src);
	got = transcript(path, 0, &s1, NULL);
	snprintf(want, sizeof(want), "ok 0 %s p\nok 1 %s p\n"
		 "rej 3 duplicate id '%s'\nok 3 %s p\n", own, other, own,
		 other);
	CHECK_STR(got, want);
	free(got);
	got = transcript(path, 0, &s0, NULL);
	snprintf(want, sizeof(want), "ok 0 %s p\nok 1 %s p\n"
		 "rej 3 duplicate id '%s'\nrej 4 duplicate id '%s'\n", own,
		 other, own, other);
	CHECK_STR(got, want);
	free(got);
	unlink(path);
	free(path);
}

TESTS(T(test_env_kubernetes), T(test_env_aws_batch), T(test_env_order),
      T(test_idmap), T(test_split_file_reads_as_source),
      T(test_split_file_text_and_errors), T(test_only_own_ids))
