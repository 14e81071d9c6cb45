/* test_dedup.c - MinHash/LSH dedup against exact Jaccard. */
#include "harness.h"
#include "dedup.h"
#include "minhash.h"
#include "planted.h"

static void add(struct dedup *d, const char *s, struct dedup_result *r)
{
	dedup_add(d, s, strlen(s), r);
}

static void test_exact_normalised(void)
{
	struct dedup_params p;
	struct dedup *d;
	struct dedup_result r;

	dedup_params_default(&p);
	d = dedup_new(&p);
	add(d, "Hello,  World! How are you?", &r);
	CHECK(r.kind == DEDUP_KEEP);
	add(d, "something else", &r);
	CHECK(r.kind == DEDUP_KEEP);
	add(d, "hello world how ARE you", &r);
	CHECK(r.kind == DEDUP_EXACT);
	CHECK(r.kept == 0);
	CHECK_NEAR(r.jaccard, 1, 0);
	add(d, "hello world how are you doing", &r);
	CHECK(r.kind != DEDUP_EXACT);
	CHECK(dedup_kept(d) == 2 + (r.kind == DEDUP_KEEP));
	dedup_free(d);
}

static void test_near_first_kept(void)
{
	struct dedup_params p;
	struct dedup *d;
	struct dedup_result r;
	const char *a = "please describe the slow history of the old stone "
			"bridge over the river in the town centre";
	const char *b = "please describe the slow history of the old stone "
			"bridge over the river in the city centre";

	dedup_params_default(&p);
	d = dedup_new(&p);
	add(d, "an unrelated question about tea and biscuits", &r);
	add(d, a, &r);
	CHECK(r.kind == DEDUP_KEEP);
	add(d, b, &r);
	CHECK(r.kind == DEDUP_NEAR);
	CHECK(r.kept == 1);
	CHECK(r.jaccard > 0.7 && r.jaccard < 1);
	dedup_free(d);
	/* the other order keeps the other one */
	d = dedup_new(&p);
	add(d, b, &r);
	CHECK(r.kind == DEDUP_KEEP);
	add(d, a, &r);
	CHECK(r.kind == DEDUP_NEAR && r.kept == 0);
	dedup_free(d);
	/* exact only: the near copy stays */
	p.near = 0;
	d = dedup_new(&p);
	add(d, a, &r);
	add(d, b, &r);
	CHECK(r.kind == DEDUP_KEEP);
	dedup_free(d);
}

static void test_params_check(void)
{
	struct dedup_params p;
	struct err e;

	dedup_params_default(&p);
	CHECK(dedup_params_check(&p, &e) == 0);
	p.bands = 40;
	CHECK(dedup_params_check(&p, &e) < 0);
	CHECK(strstr(e.msg, "more than --perms") != NULL);
	dedup_params_default(&p);
	p.perms = 100;
	CHECK(dedup_params_check(&p, &e) < 0);
	dedup_params_default(&p);
	p.threshold = 0;
	CHECK(dedup_params_check(&p, &e) < 0);
}

/* The 8-bit estimate stays near the exact Jaccard of the shingle sets. */
static void test_estimate(void)
{
	char **t = planted_make(400, 7);
	struct minhash m;
	struct words w = { 0 };
	uint32_t s1[128], s2[128];
	uint8_t b1[128], b2[128];
	double worst = 0;

	minhash_init(&m, 128, 2, 1);
	for (size_t i = 1; i < 400; i++) {
		uint64_t *x, *y;
		size_t nx = planted_shingles(t[i - 1], 2, &x);
		size_t ny = planted_shingles(t[i], 2, &y);
		double j = planted_jaccard(x, nx, y, ny), e;

		words_split(&w, t[i - 1], strlen(t[i - 1]));
		minhash_sign(&m, &w, s1);
		words_split(&w, t[i], strlen(t[i]));
		minhash_sign(&m, &w, s2);
		for (int k = 0; k < 128; k++) {
			b1[k] = (uint8_t)s1[k];
			b2[k] = (uint8_t)s2[k];
		}
		e = minhash_estimate(b1, b2, 128);
		if (fabs(e - j) > worst)
			worst = fabs(e - j);
		free(x);
		free(y);
	}
	CHECK(worst < 0.2);
	words_release(&w);
	minhash_release(&m);
	for (size_t i = 0; i < 400; i++)
		free(t[i]);
	free(t);
}

/* Recall and precision of the removed set against the exact greedy
 * answer, at the default parameters, with planted near duplicates. */
static void test_planted_recall_precision(void)
{
	size_t n = 4000, tp = 0, fp = 0, fn = 0;
	char **t = planted_make(n, 42);
	unsigned char *truth = xcalloc(n, 1);
	struct dedup_params p;
	struct dedup *d;

	dedup_params_default(&p);
	planted_truth(t, n, p.ngram, p.threshold, truth);
	d = dedup_new(&p);
	for (size_t i = 0; i < n; i++) {
		struct dedup_result r;
		int gone;

		add(d, t[i], &r);
		gone = r.kind != DEDUP_KEEP;
		tp += gone && truth[i];
		fp += gone && !truth[i];
		fn += !gone && truth[i];
	}
	fprintf(stderr, "  planted %zu: tp %zu fp %zu fn %zu\n", n, tp, fp,
		fn);
	CHECK(tp > n / 8);	/* the set really holds duplicates */
	CHECK((double)tp / (double)(tp + fp) >= 0.95);
	CHECK((double)tp / (double)(tp + fn) >= 0.95);
	dedup_free(d);
	for (size_t i = 0; i < n; i++)
		free(t[i]);
	free(t);
	free(truth);
}

TESTS(T(test_exact_normalised), T(test_near_first_kept),
      T(test_params_check), T(test_estimate),
      T(test_planted_recall_precision))
