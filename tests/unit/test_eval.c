/*
 * test_eval.c - judge evaluation metrics against numbers computed by hand
 * (and, for the ten-item vector, by an independent script).
 */
#include "harness.h"
#include "eval.h"

#include <stdlib.h>
#include <unistd.h>

static struct eval_item item(double p, double y)
{
	struct eval_item it;

	memset(&it, 0, sizeof(it));
	it.p = it.p_raw = p;
	it.y = y;
	it.q[0] = it.q[1] = NAN;
	it.len[0] = it.len[1] = 10;
	return it;
}

static double get(json_t *r, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(r, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

static json_t *ten_items(unsigned long long seed, struct eval **out)
{
	static const double p[] = { 0.95, 0.80, 0.70, 0.62, 0.55, 0.45, 0.30,
				    0.20, 0.10, 0.50 };
	static const double y[] = { 1, 1, 0, 1, 0, 1, 0, 0, 1, 1 };
	struct eval_opts o = { seed, 200, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);

	for (size_t i = 0; i < ARRAY_SIZE(p); i++) {
		struct eval_item it = item(p[i], y[i]);
		const char *g[] = { i < 5 ? "principle\tfirst-half" :
				    "principle\tsecond-half", "method\tlogprobs" };

		it.cluster = i;
		eval_add(ev, &it, g, 2);
	}
	*out = ev;
	return eval_report(ev);
}

/* p, y and the expected values from EVAL.md's test vector, recomputed
 * with an independent script: hard 0.55, soft 0.567, Brier 0.24719,
 * log loss 0.7129011612213173, symmetric ECE (left-closed) 0.26, MCE
 * 0.55. */
static void test_ten_item_vector(void)
{
	struct eval *ev;
	json_t *r = ten_items(1, &ev), *rel = json_object_get(r,
							      "reliability");

	CHECK_NEAR(get(r, "overall", "agreement_hard", "value"), 0.55, 1e-12);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "judge_ties"), 1, 0);
	CHECK_NEAR(get(r, "overall", "agreement_soft", "value"), 0.567, 1e-12);
	CHECK_NEAR(get(r, "overall", "brier", NULL), 0.24719, 1e-12);
	CHECK_NEAR(get(r, "overall", "log_loss", NULL), 0.7129011612213173,
		   1e-12);
	CHECK_NEAR(get(r, "overall", "ece", NULL), 0.26, 1e-12);
	CHECK_NEAR(get(r, "overall", "mce", NULL), 0.55, 1e-12);
	/* all ten bins are populated: 1,2,1,3,2,4,1,2,2,2 points of 20 */
	CHECK(json_array_size(rel) == 10);
	CHECK_NEAR(get(json_array_get(rel, 5), "count", NULL, NULL), 4, 0);
	CHECK_NEAR(get(json_array_get(rel, 5), "mean_p", NULL, NULL), 0.525,
		   1e-12);
	CHECK_NEAR(get(json_array_get(rel, 5), "freq", NULL, NULL), 0.25,
		   1e-12);
	CHECK_NEAR(get(json_array_get(rel, 3), "mean_p", NULL, NULL),
		   0.98 / 3, 1e-12);
	/* per principle: items 0-4 (p .95 .8 .7 .62 .55, y 1 1 0 1 0) */
	CHECK_NEAR(get(json_object_get(r, "by_principle"), "first-half",
		       "agreement_hard", "value"), 0.6, 1e-12);
	CHECK_NEAR(get(json_object_get(r, "by_principle"), "first-half",
		       "agreement_soft", "value"), (0.95 + 0.8 + 0.3 + 0.62 +
						    0.45) / 5, 1e-12);
	CHECK_NEAR(get(json_object_get(r, "by_method"), "logprobs", "n",
		       NULL), 10, 0);
	json_decref(r);
	eval_free(ev);
}

static void test_bootstrap_reproducible(void)
{
	struct eval *a, *b, *c;
	json_t *ra = ten_items(7, &a), *rb = ten_items(7, &b);
	json_t *rc = ten_items(8, &c);
	double lo = get(ra, "overall", "agreement_hard", "ci_low");
	double hi = get(ra, "overall", "agreement_hard", "ci_high");

	CHECK(lo < 0.55 && 0.55 < hi);
	CHECK(get(rb, "overall", "agreement_hard", "ci_low") == lo);
	CHECK(get(rb, "overall", "agreement_hard", "ci_high") == hi);
	CHECK(get(rb, "overall", "agreement_soft", "ci_low") ==
	      get(ra, "overall", "agreement_soft", "ci_low"));
	CHECK(get(rc, "overall", "agreement_soft", "ci_low") !=
	      get(ra, "overall", "agreement_soft", "ci_low") ||
	      get(rc, "overall", "agreement_soft", "ci_high") !=
	      get(ra, "overall", "agreement_soft", "ci_high"));
	json_decref(ra);
	json_decref(rb);
	json_decref(rc);
	eval_free(a);
	eval_free(b);
	eval_free(c);
}

/* Two prompts, one right (hard 1) and one wrong: a resample of two has
 * agreement 0, 1/2 or 1 with chances 1/4, 1/2, 1/4, so the 2.5 % and
 * 97.5 % quantiles of 1000 resamples are 0 and 1. Items of one prompt
 * move together: three items of prompt 5 never split. */
static void test_bootstrap_clusters(void)
{
	struct eval_opts o = { 3, 1000, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);
	struct eval_item a = item(0.9, 1), b = item(0.9, 0);
	json_t *r;

	a.cluster = 5;
	b.cluster = 9;
	eval_add(ev, &a, NULL, 0);
	eval_add(ev, &b, NULL, 0);
	r = eval_report(ev);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "value"), 0.5, 0);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "ci_low"), 0, 0);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "ci_high"), 1, 0);
	json_decref(r);
	eval_free(ev);

	/* one prompt only: every resample is the data itself */
	b.cluster = 5;
	ev = eval_new(&o);
	eval_add(ev, &a, NULL, 0);
	eval_add(ev, &a, NULL, 0);
	eval_add(ev, &b, NULL, 0);
	r = eval_report(ev);
	CHECK_NEAR(get(r, "overall", "agreement_soft", "ci_low"),
		   (0.9 + 0.9 + 0.1) / 3, 1e-12);
	CHECK_NEAR(get(r, "overall", "agreement_soft", "ci_high"),
		   (0.9 + 0.9 + 0.1) / 3, 1e-12);
	json_decref(r);
	eval_free(ev);
}

/* Reference ties: out of agreement, in Brier as y = 1/2. */
static void test_reference_ties(void)
{
	struct eval_opts o = { 1, 10, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);
	struct eval_item a = item(0.8, 1), t = item(0.7, 0.5);
	json_t *r;

	eval_add(ev, &a, NULL, 0);
	eval_add(ev, &t, NULL, 0);
	r = eval_report(ev);
	CHECK_NEAR(get(r, "overall", "scored", NULL), 1, 0);
	CHECK_NEAR(get(r, "overall", "reference_ties", NULL), 1, 0);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "value"), 1, 0);
	CHECK_NEAR(get(r, "overall", "brier", NULL), (0.04 + 0.04) / 2,
		   1e-12);
	CHECK_NEAR(get(r, "overall", "log_loss", NULL),
		   (-log(0.8) - 0.5 * log(0.7) - 0.5 * log(0.3)) / 2, 1e-12);
	json_decref(r);
	eval_free(ev);
}

/* Position: a first-slot judge that always says "A" gets no credit. */
static void test_position(void)
{
	struct eval_opts o = { 1, 10, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);
	/* q1 = P(slot A) with responses[0] in A; q2 with responses[1] in A */
	static const double q[][2] = {
		{ 0.9, 0.2 },	/* consistent: r0 both times */
		{ 0.3, 0.8 },	/* consistent: r1 */
		{ 0.9, 0.9 },	/* first slot both times */
		{ 0.7, 0.6 },	/* first */
		{ 0.2, 0.1 },	/* second */
		{ 0.5, 0.7 },	/* mixed */
		{ 0.5, 0.5 },	/* consistent (both ties) */
		{ 0.8, NAN },	/* unparsed: one order */
	};
	json_t *r, *pos;

	for (size_t i = 0; i < ARRAY_SIZE(q); i++) {
		struct eval_item it = item(0.5, 1);

		it.q[0] = q[i][0];
		it.q[1] = q[i][1];
		it.p = it.p_raw = isnan(q[i][1]) ? q[i][0] :
				  (q[i][0] + 1 - q[i][1]) / 2;
		eval_add(ev, &it, NULL, 0);
	}
	r = eval_report(ev);
	pos = json_object_get(json_object_get(r, "overall"), "position");
	CHECK_NEAR(get(pos, "n", NULL, NULL), 7, 0);
	CHECK_NEAR(get(pos, "consistent", NULL, NULL), 3, 0);
	CHECK_NEAR(get(pos, "first", NULL, NULL), 2, 0);
	CHECK_NEAR(get(pos, "second", NULL, NULL), 1, 0);
	CHECK_NEAR(get(pos, "mixed", NULL, NULL), 1, 0);
	CHECK_NEAR(get(pos, "unparsed", NULL, NULL), 1, 0);
	/* no tie in either order: rows 1-5 */
	CHECK_NEAR(get(pos, "same_position", NULL, NULL), 3.0 / 5, 1e-12);
	/* 2 of 3 at 1/2: two-sided p = 1 */
	CHECK_NEAR(get(pos, "binomial_p", NULL, NULL), 1, 1e-12);
	json_decref(r);
	eval_free(ev);

	/* always "A": q1 = q2 = 0.99, so p = 1/2 on every pair; with the
	 * chosen reply always first, hard credit is exactly 1/2 and soft
	 * 1/2, never the 0.99 a single order would give */
	ev = eval_new(&o);
	for (int i = 0; i < 20; i++) {
		struct eval_item it = item(0.5, 1);

		it.q[0] = it.q[1] = 0.99;
		it.cluster = (uint64_t)i;
		eval_add(ev, &it, NULL, 0);
	}
	r = eval_report(ev);
	CHECK_NEAR(get(r, "overall", "agreement_hard", "value"), 0.5, 0);
	CHECK_NEAR(get(r, "overall", "agreement_soft", "value"), 0.5, 0);
	/* each order alone: AB says responses[0] (right every time), BA
	 * says responses[1] (wrong every time) */
	CHECK_NEAR(get(r, "overall", "agreement_single_order", "ab"), 1, 0);
	CHECK_NEAR(get(r, "overall", "agreement_single_order", "ba"), 0, 0);
	CHECK_NEAR(get(r, "overall", "agreement_single_order", "n_ba"), 20, 0);
	pos = json_object_get(json_object_get(r, "overall"), "position");
	CHECK_NEAR(get(pos, "first", NULL, NULL), 20, 0);
	CHECK_NEAR(get(pos, "binomial_p", NULL, NULL), 2.0 / 1048576,
		   1e-15);
	json_decref(r);
	eval_free(ev);
}

static void test_length_bias(void)
{
	struct eval_opts o = { 1, 10, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);
	struct {
		size_t l0, l1;
		double p, y;
	} rows[] = {
		{ 100, 10, 0.8, 1 },	/* judge longer, human longer */
		{ 10, 100, 0.8, 1 },	/* judge shorter, human shorter */
		{ 50, 10, 0.5, 0 },	/* judge tie (1/2), human shorter */
		{ 40, 20, 0.9, 1 },	/* |d| = 20: not counted, baseline 1 */
		{ 30, 30, 0.9, 1 },	/* equal: baseline 1/2 */
	};
	json_t *r, *len;

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct eval_item it = item(rows[i].p, rows[i].y);

		it.len[0] = rows[i].l0;
		it.len[1] = rows[i].l1;
		eval_add(ev, &it, NULL, 0);
	}
	r = eval_report(ev);
	len = json_object_get(json_object_get(r, "overall"), "length");
	CHECK_NEAR(get(len, "n", NULL, NULL), 3, 0);
	CHECK_NEAR(get(len, "judge_longer", NULL, NULL), 1.5 / 3, 1e-12);
	CHECK_NEAR(get(len, "reference_longer", NULL, NULL), 1.0 / 3, 1e-12);
	/* baseline: 1, 0, 0, 1, 1/2 */
	CHECK_NEAR(get(len, "longer_baseline", NULL, NULL), 2.5 / 5, 1e-12);
	json_decref(r);
	eval_free(ev);
}

static void test_building_blocks(void)
{
	static const double v[] = { 1, 2, 3, 4 };

	CHECK(eval_bin(0.0, 10) == 0);
	CHECK(eval_bin(0.1, 10) == 1);
	CHECK(eval_bin(0.3, 10) == 3);
	CHECK(eval_bin(1 - 0.7, 10) == 3);	/* 0.30000000000000004 */
	CHECK(eval_bin(1 - 0.8, 10) == 1);	/* 0.19999999999999996 */
	CHECK(eval_bin(0.5, 10) == 5);
	CHECK(eval_bin(0.7, 10) == 7);
	CHECK(eval_bin(0.9999, 10) == 9);
	CHECK(eval_bin(1.0, 10) == 9);
	CHECK_NEAR(eval_binom_two_sided(0, 5), 2.0 / 32, 1e-15);
	CHECK_NEAR(eval_binom_two_sided(2, 10), 2.0 * 56 / 1024, 1e-15);
	CHECK_NEAR(eval_binom_two_sided(8, 10), 2.0 * 56 / 1024, 1e-15);
	CHECK_NEAR(eval_binom_two_sided(5, 10), 1, 0);
	CHECK_NEAR(eval_quantile(v, 4, 0.5), 2.5, 1e-15);
	CHECK_NEAR(eval_quantile(v, 4, 0.025), 1.075, 1e-12);
	CHECK_NEAR(eval_quantile(v, 4, 1), 4, 0);
}

static void test_records(void)
{
	struct eval_opts o = { 1, 10, 0.5, 2.0, 0 };
	struct eval *ev = eval_new(&o);
	struct err err;
	json_t *rec = json_loads(
		"{\"schema\":\"caigen.preference/1\",\"id\":\"a\",\"prompt\":"
		"\"q\",\"responses\":[\"short\",\"a much longer reply\"],"
		"\"p\":0.4,\"p_raw\":0.2,\"principle\":{\"id\":\"h1\","
		"\"tags\":[\"harm\"]},\"judgments\":[{\"order\":\"AB\","
		"\"p_a\":0.1,\"method\":\"logprobs\"},{\"order\":\"BA\","
		"\"p_a\":0.3,\"method\":\"text\"}],\"reference\":"
		"{\"preferred\":1,\"tags\":[\"sub\"]}}", 0, NULL);
	json_t *norf = json_loads("{\"p\":0.5,\"responses\":[\"a\",\"b\"]}",
				  0, NULL);
	json_t *bad = json_loads("{\"p\":2,\"responses\":[\"a\",\"b\"],"
				 "\"reference\":{\"preferred\":0}}", 0, NULL);
	json_t *r;

	CHECK(eval_add_record(ev, rec, &err) == 1);
	CHECK(eval_add_record(ev, norf, &err) == 0);
	CHECK(eval_add_record(ev, bad, &err) == -1);
	CHECK(strstr(err.msg, "'p' must be") != NULL);
	r = eval_report(ev);
	CHECK_NEAR(get(r, "counts", "items", NULL), 1, 0);
	CHECK_NEAR(get(r, "counts", "no_reference", NULL), 1, 0);
	CHECK_NEAR(get(r, "overall", "agreement_soft", "value"), 0.6, 1e-12);
	CHECK_NEAR(get(r, "overall", "brier", NULL), 0.16, 1e-12);
	CHECK_NEAR(get(r, "overall", "raw", "brier"), 0.04, 1e-12);
	CHECK_NEAR(get(r, "overall", "position", "second"), 1, 0);
	CHECK_NEAR(get(r, "cost", "price_per_1000", NULL), 500, 1e-9);
	CHECK_NEAR(get(r, "cost", "seconds_per_1000", NULL), 2000, 1e-9);
	CHECK(json_object_get(json_object_get(r, "by_principle"), "h1"));
	CHECK(json_object_get(json_object_get(r, "by_tag"), "harm"));
	CHECK(json_object_get(json_object_get(r, "by_input_tag"), "sub"));
	CHECK(json_object_get(json_object_get(r, "by_method"), "mixed"));
	json_decref(r);
	json_decref(rec);
	json_decref(norf);
	json_decref(bad);
	eval_free(ev);
}

/* Nothing to grade: every value is null, nothing crashes, the text and
 * HTML still render. */
static void test_empty(void)
{
	struct eval_opts o = { 1, 10, NAN, NAN, 0 };
	struct eval *ev = eval_new(&o);
	json_t *r = eval_report(ev);
	char path[] = "/tmp/caigen-eval-XXXXXX";
	int fd = mkstemp(path);
	struct err err;
	FILE *f = fopen("/dev/null", "w");

	CHECK(json_is_null(json_object_get(json_object_get(json_object_get(
		r, "overall"), "agreement_hard"), "value")));
	CHECK(json_is_null(json_object_get(json_object_get(r, "overall"),
					   "brier")));
	CHECK(json_array_size(json_object_get(r, "reliability")) == 0);
	CHECK(json_is_null(json_object_get(json_object_get(r, "cost"),
					   "price_per_1000")));
	eval_print_text(f, r);
	fclose(f);
	close(fd);
	CHECK(eval_html_write(r, path, &err) == 0);
	unlink(path);
	CHECK(eval_html_write(r, "/nonexistent/dir/x.html", &err) == -1);
	CHECK(strstr(err.msg, "cannot write '/nonexistent/dir/x.html'") !=
	      NULL);
	json_decref(r);
	eval_free(ev);
}

TESTS(T(test_ten_item_vector), T(test_bootstrap_reproducible),
      T(test_bootstrap_clusters), T(test_reference_ties), T(test_position),
      T(test_length_bias), T(test_building_blocks), T(test_records),
      T(test_empty))
