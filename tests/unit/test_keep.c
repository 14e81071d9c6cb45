/* test_keep.c - the journal of paid answers (keep.h) across a reopen: what
 * a run puts is found by the next run, never held in the putting run's
 * index; the first answer of a key wins; a forgotten prompt asks again;
 * a partial last line (kill -9 mid-write) is cut. */
#include "harness.h"
#include "keep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/caigen-keep.XXXXXX";
static char path[300];

static void fresh(void)
{
	if (!path[0]) {
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "%s/answers.jsonl", dir);
	}
	unlink(path);
}

#define N 20000

/* a run of N puts: none indexed; the next open finds every one */
static void test_puts_not_indexed_found_on_resume(void)
{
	struct err e;
	struct keep *k;
	char key[32], id[32], body[64];
	size_t found = 0, wrong = 0;

	fresh();
	k = keep_open(path, &e);
	CHECK(k != NULL);
	if (!k)
		return;
	for (int i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "p-%08x", i);
		snprintf(id, sizeof(id), "q%d", i);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		CHECK(keep_put(k, key, id, body, strlen(body), &e) == 0);
	}
	CHECK(keep_indexed(k) == 0);	/* this run's answers cost no index */
	keep_close(k);

	k = keep_open(path, &e);	/* the resume */
	CHECK(k != NULL);
	if (!k)
		return;
	CHECK(keep_indexed(k) == N);
	for (int i = 0; i < N; i++) {
		char *got;

		snprintf(key, sizeof(key), "p-%08x", i);
		snprintf(body, sizeof(body), "{\"n\":%d}", i);
		got = keep_find(k, key);
		found += got != NULL;
		wrong += got && strcmp(got, body) != 0;
		free(got);
	}
	CHECK(found == N);
	CHECK(wrong == 0);
	CHECK(keep_hits(k) == N);
	CHECK(keep_find(k, "p-absent") == NULL);
	/* a key found at open is not written again */
	CHECK(keep_put(k, "p-00000000", "q0", "{}", 2, &e) == 0);
	keep_close(k);
	k = keep_open(path, &e);
	CHECK(k != NULL);
	if (!k)
		return;
	CHECK(keep_indexed(k) == N);
	{
		char *got = keep_find(k, "p-00000000");

		CHECK_STR(got, "{\"n\":0}");
		free(got);
	}
	keep_close(k);
}

/* a key put twice in a run: the next open keeps the first; forget */
static void test_first_kept_and_forget(void)
{
	struct err e;
	struct keep *k;
	char *got;
	FILE *f;

	fresh();
	k = keep_open(path, &e);
	CHECK(k != NULL);
	if (!k)
		return;
	CHECK(keep_put(k, "p-a", "qa", "first", 5, &e) == 0);
	CHECK(keep_put(k, "p-a", "qa", "second", 6, &e) == 0);
	CHECK(keep_put(k, "p-b", "qb", "bee", 3, &e) == 0);
	CHECK(keep_forget(k, "qb", &e) == 0);
	CHECK(keep_find(k, "p-a") == NULL);	/* not indexed this run */
	keep_close(k);
	/* a kill -9 in the middle of a line */
	f = fopen(path, "a");
	CHECK(f != NULL);
	if (f) {
		fputs("{\"id\":\"qc\",\"key\":\"p-c\",\"rep", f);
		fclose(f);
	}
	k = keep_open(path, &e);
	CHECK(k != NULL);
	if (!k)
		return;
	got = keep_find(k, "p-a");
	CHECK_STR(got, "first");
	free(got);
	CHECK(keep_find(k, "p-b") == NULL);	/* its prompt failed */
	CHECK(keep_find(k, "p-c") == NULL);	/* cut */
	CHECK(keep_indexed(k) == 1);
	keep_close(k);
	unlink(path);
	rmdir(dir);
}

TESTS(T(test_puts_not_indexed_found_on_resume), T(test_first_kept_and_forget))
