/* test_idset.c - the id set across its merges (sorted array + table), the resume scan that
 * fills it (fast path and parsed fallback), and jansson's per-thread block
 * cache (jsonmem). */
#include "harness.h"
#include "idset.h"
#include "jsonmem.h"
#include "writer.h"

#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

/* every value added is found, absent values are not, duplicates refused */
static void check_all(struct idset *s, const uint64_t *v, size_t n)
{
	size_t missing = 0, again = 0;

	for (size_t i = 0; i < n; i++) {
		missing += !idset_has(s, v[i]);
		again += idset_add(s, v[i]);
	}
	CHECK(missing == 0);
	CHECK(again == 0);
	CHECK(s->n == n);
	CHECK(s->nsorted + s->tn == n);
	/* 8 bytes an id, plus a table of at most an eighth of them */
	CHECK(s->cap <= n + n / 8 + 1024);
	CHECK(s->bytes >= s->cap * sizeof(uint64_t));
	CHECK(s->bytes <= s->cap * sizeof(uint64_t) + 4096);
	/* the array is sorted and the table at most half full */
	for (size_t i = 1; i < s->nsorted; i++)
		CHECK(s->slot[i - 1] < s->slot[i]);
	CHECK(2 * s->tn <= s->tcap);
}

static void run(uint64_t (*gen)(size_t), size_t n)
{
	struct idset s;
	uint64_t *v = malloc(n * sizeof(*v));
	size_t added = 0, merged = 0, checks = 0;

	idset_init(&s);
	for (size_t i = 0; i < n; i++) {
		v[i] = gen(i);
		added += idset_add(&s, v[i]);
		/* after every merge of the table into the array, everything
		 * so far is still there */
		if (s.nsorted != merged) {
			merged = s.nsorted;
			check_all(&s, v, i + 1);
			checks++;
		}
	}
	CHECK(checks >= 5);
	CHECK(added == n);
	check_all(&s, v, n);
	CHECK(!idset_has(&s, 0x9e3779b97f4a7c15ULL));
	idset_release(&s);
	free(v);
}

/* well spread hashes */
static uint64_t spread(size_t i)
{
	uint64_t x = (uint64_t)i * 0x9e3779b97f4a7c15ULL + 12345;

	x ^= x >> 31;
	return x * 0xbf58476d1ce4e5b9ULL;
}

/* long clusters: many values share low bits, so probes run far */
static uint64_t clustered(size_t i)
{
	return ((uint64_t)(i + 1) << 40) | (i % 7);
}

/* clusters at the end of every table size, which wrap around to slot 0 */
static uint64_t wrapping(size_t i)
{
	return ((uint64_t)(i + 1) << 32) | (0xffffffffu - (i % 5));
}

static void test_idset_growth_spread(void)
{
	run(spread, 200000);
}

static void test_idset_growth_clustered(void)
{
	run(clustered, 20000);
}

static void test_idset_growth_wrapping(void)
{
	run(wrapping, 20000);
}

/* a million ids in 9 MB (a table kept under half full took 16 MB), and
 * the set reads the same on ids never added */
static void test_idset_million(void)
{
	struct idset s;
	size_t false_hits = 0;

	idset_init(&s);
	for (size_t i = 0; i < 1000000; i++)
		CHECK(idset_add(&s, spread(i)));
	CHECK(s.n == 1000000);
	CHECK(s.bytes <= 9u * 1024 * 1024);
	for (size_t i = 1000000; i < 1100000; i++)
		false_hits += idset_has(&s, spread(i));
	CHECK(false_hits == 0);
	for (size_t i = 0; i < 1000000; i += 997)
		CHECK(idset_has(&s, spread(i)));
	/* a sorted array with one big gap: the interpolation search still
	 * finds everything (its bisection steps) */
	idset_release(&s);
	idset_init(&s);
	for (uint64_t i = 1; i <= 50000; i++)
		CHECK(idset_add(&s, i < 49990 ? i : UINT64_MAX - i));
	for (uint64_t i = 1; i <= 50000; i++)
		CHECK(idset_has(&s, i < 49990 ? i : UINT64_MAX - i));
	CHECK(!idset_has(&s, 50001) && !idset_has(&s, UINT64_MAX / 2));
	idset_release(&s);
}

/* jsonmem: values built and freed by many threads, some freed by another
 * thread than the one that built them; the cache stays within budget */
#define THREADS 8
static json_t *handed[THREADS];

static void *churn(void *arg)
{
	uintptr_t k = (uintptr_t)arg;
	size_t bytes = 0;

	for (int r = 0; r < 2000; r++) {
		json_t *o = json_pack("{s:s,s:[i,f,s],s:{s:b}}", "text",
				      "some reply text that is not short",
				      "list", r, 0.5, "x", "obj", "ok", 1);
		char *s = json_dumps(o, JSON_COMPACT);

		if (!s || !strstr(s, "\"list\":["))
			abort();
		free(s);	/* json_dumps output is a malloc block */
		json_decref(o);
	}
	handed[k] = json_loads("{\"a\":[1,2,3],\"b\":\"text\"}", 0, NULL);
	jsonmem_cached(&bytes);
	return (void *)(uintptr_t)(bytes <= JSONMEM_CACHE_BYTES);
}

static void test_jsonmem_threads(void)
{
	pthread_t t[THREADS];
	void *ok;

	for (uintptr_t k = 0; k < THREADS; k++)
		pthread_create(&t[k], NULL, churn, (void *)k);
	for (int k = 0; k < THREADS; k++) {
		pthread_join(t[k], &ok);
		CHECK(ok != NULL);
	}
	/* freed here, built there */
	for (int k = 0; k < THREADS; k++) {
		CHECK(json_integer_value(json_array_get(
			json_object_get(handed[k], "a"), 2)) == 3);
		json_decref(handed[k]);
	}
}

/* the resume scan: ids read from the record prefix without parsing, and
 * every other shape parsed, give the same set as parsing everything */
static void test_resume_ids(void)
{
	static const char *const lines[] = {
		"{\"schema\":\"caigen.preference/1\",\"id\":\"plain-1\","
		"\"index\":0}",
		"{\"schema\":\"caigen.preference/1\",\"id\":\"q\\\"uote\","
		"\"index\":1}",
		"{\"schema\":\"caigen.preference/1\",\"id\":\"caf\\u00e9\","
		"\"index\":2}",
		"{\"id\":\"order-swapped\",\"schema\":\"caigen.preference/1\"}",
		"{\"schema\":\"caigen.critique/1\",\"id\":\"other-schema\"}",
		"{\"schema\":\"caigen.preference/1\",\"id\":\"\",\"index\":5}",
	};
	static const char *const want[] = {
		"plain-1", "q\"uote", "caf\xc3\xa9", "order-swapped",
		"other-schema", "",
	};
	char dir[] = "/tmp/caigen-idset.XXXXXX", path[64];
	struct idset done, rejected;
	struct writer_resume res;
	struct writer w;
	struct err err;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/preferences.jsonl", dir);
	f = fopen(path, "w");
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		fprintf(f, "%s\n", lines[i]);
	fclose(f);
	idset_init(&done);
	idset_init(&rejected);
	CHECK(writer_open(&w, dir, "preferences", "", &done, &rejected,
			  &res, &err) == 0);
	CHECK(res.records == 6);
	CHECK(done.n == 6);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK(idset_has(&done, idset_hash(want[i])));
	CHECK(!idset_has(&done, idset_hash("q\\\"uote")));
	CHECK(!idset_has(&done, idset_hash("caf\\u00e9")));
	writer_close(&w, NULL);
	idset_release(&done);
	idset_release(&rejected);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

TESTS(T(test_idset_growth_spread), T(test_idset_growth_clustered),
      T(test_idset_growth_wrapping), T(test_idset_million),
      T(test_resume_ids),
      T(test_jsonmem_threads))
