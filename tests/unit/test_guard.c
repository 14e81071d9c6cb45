/* test_guard.c - cut answers, identical pairs, unmendable refusals. */
#include "harness.h"
#include "guard.h"
#include "rng.h"

static void test_is_cut(void)
{
	CHECK(guard_is_cut("length"));
	CHECK(guard_is_cut("max_tokens"));	/* Anthropic */
	CHECK(!guard_is_cut("stop"));
	CHECK(!guard_is_cut("end_turn"));
	CHECK(!guard_is_cut(NULL));
	CHECK(!guard_is_cut("lengthy"));
}

static void test_cut_verdict(void)
{
	CHECK(guard_cut_verdict(GUARD_CUT_RETRY, false, 0) == GUARD_ACCEPT);
	CHECK(guard_cut_verdict(GUARD_CUT_RETRY, true, 0) == GUARD_RETRY);
	/* one more sample only */
	CHECK(guard_cut_verdict(GUARD_CUT_RETRY, true, 1) == GUARD_REJECT);
	CHECK(guard_cut_verdict(GUARD_CUT_RETRY, false, 1) == GUARD_ACCEPT);
	CHECK(guard_cut_verdict(GUARD_CUT_KEEP, true, 0) == GUARD_KEEP_CUT);
	CHECK(guard_cut_verdict(GUARD_CUT_FAIL, true, 0) == GUARD_REJECT);
	CHECK(guard_cut_verdict(GUARD_CUT_FAIL, false, 0) == GUARD_ACCEPT);
}

static void test_same_text(void)
{
	CHECK(guard_same_text("Yes.", "Yes."));
	CHECK(guard_same_text("  Yes.\n", "Yes."));
	CHECK(guard_same_text("\t\n", ""));
	CHECK(guard_same_text(NULL, " "));
	CHECK(!guard_same_text("Yes.", "Yes!"));
	CHECK(!guard_same_text("a b", "a  b"));	/* inner space counts */
	CHECK(!guard_same_text("Yes", "Yes."));
}

static void test_same_verdict(void)
{
	CHECK(guard_same_verdict(GUARD_SAME_RESAMPLE, "a", "b", 0, 2) ==
	      GUARD_ACCEPT);
	CHECK(guard_same_verdict(GUARD_SAME_RESAMPLE, "a", " a", 0, 2) ==
	      GUARD_RETRY);
	CHECK(guard_same_verdict(GUARD_SAME_RESAMPLE, "a", "a", 1, 2) ==
	      GUARD_RETRY);
	CHECK(guard_same_verdict(GUARD_SAME_RESAMPLE, "a", "a", 2, 2) ==
	      GUARD_REJECT);
	CHECK(guard_same_verdict(GUARD_SAME_RESAMPLE, "a", "a", 0, 0) ==
	      GUARD_REJECT);
	CHECK(guard_same_verdict(GUARD_SAME_KEEP, "a", "a", 0, 2) ==
	      GUARD_KEEP_CUT);
	CHECK(guard_same_verdict(GUARD_SAME_FAIL, "a", "a", 0, 2) ==
	      GUARD_REJECT);
}

static void test_unmendable(void)
{
	static const char quota[] = "{\"error\":{\"message\":\"You exceeded "
		"your current quota\",\"type\":\"insufficient_quota\"}}";
	static const char rate[] = "{\"error\":{\"message\":\"Rate limit "
		"reached\",\"type\":\"rate_limit_exceeded\"}}";
	static const char lp403[] = "{\"error\":{\"message\":\"You are not "
		"allowed to request logprobs from this model\"}}";
	static const char nomodel[] = "{\"error\":{\"message\":\"The model "
		"`x` does not exist or you do not have access to it.\"}}";
	static const char ctx400[] = "{\"error\":{\"message\":\"This model's "
		"maximum context length is 32768 tokens\"}}";

	CHECK(guard_unmendable(401, NULL));
	CHECK(guard_unmendable(403, "{\"error\":\"forbidden\"}"));
	CHECK(!guard_unmendable(403, lp403));	/* a method change */
	CHECK(guard_unmendable(404, nomodel));
	CHECK(guard_unmendable(429, quota));
	CHECK(!guard_unmendable(429, rate));
	CHECK(guard_unmendable(400, nomodel));
	CHECK(!guard_unmendable(400, ctx400));
	CHECK(!guard_unmendable(500, NULL));
	CHECK(!guard_unmendable(0, NULL));
	CHECK(!guard_unmendable(200, NULL));
}

static void test_seed(void)
{
	uint64_t a = guard_seed(1, "q1", "identical", 0);

	CHECK(a == guard_seed(1, "q1", "identical", 0));
	CHECK(a != guard_seed(1, "q1", "identical", 1));
	CHECK(a != guard_seed(2, "q1", "identical", 0));
	CHECK(a != guard_seed(1, "q2", "identical", 0));
	CHECK(a != guard_seed(1, "q1", "truncated", 0));
	/* never the seed of the first draw under the same purpose */
	CHECK(guard_seed(1, "q1", "sample", 1) != rng_u64(1, "q1", "sample",
							  1));
}

static void test_backoff(void)
{
	CHECK_NEAR(guard_backoff(0, 0.5, 8, 1.0), 0.5, 1e-12);
	CHECK_NEAR(guard_backoff(1, 0.5, 8, 1.0), 1.0, 1e-12);
	CHECK_NEAR(guard_backoff(3, 0.5, 8, 1.0), 4.0, 1e-12);
	CHECK_NEAR(guard_backoff(10, 0.5, 8, 1.0), 8.0, 1e-12);	/* cap */
	CHECK_NEAR(guard_backoff(200, 0.5, 8, 0.5), 4.0, 1e-12);
	CHECK_NEAR(guard_backoff(2, 0.5, 8, 0.0), 0.0, 1e-12);
}

static void test_streak(void)
{
	struct guard_streak s = { .limit = 3 };

	CHECK(!guard_streak_refused(&s));
	CHECK(!guard_streak_refused(&s));
	guard_streak_ok(&s);		/* a 2xx: start again */
	CHECK(!guard_streak_refused(&s));
	CHECK(!guard_streak_refused(&s));
	CHECK(!guard_streak_tripped(&s));
	CHECK(guard_streak_refused(&s));	/* third in a row */
	CHECK(guard_streak_tripped(&s));
	CHECK(!guard_streak_refused(&s));	/* reported once */
}

static void test_counts(void)
{
	struct guard_counts g = { 0 };
	json_t *j;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	guard_counts_print(f, &g);	/* all zero: nothing */
	fflush(f);
	CHECK(n == 0);
	atomic_fetch_add(&g.identical_resamples, 4);
	atomic_fetch_add(&g.truncated_failed, 1);
	guard_counts_print(f, &g);
	fclose(f);
	CHECK(buf && strstr(buf, "identical pairs: 4 resampled"));
	CHECK(buf && strstr(buf, "1 failed; 0 cut rationales"));
	free(buf);
	j = guard_counts_json(&g);
	CHECK(json_integer_value(json_object_get(j, "identical_resamples"))
	      == 4);
	CHECK(json_integer_value(json_object_get(j, "truncated_failed")) == 1);
	CHECK(json_object_size(j) == 10);
	CHECK(json_integer_value(json_object_get(j, "low_letter_mass")) == 0);
	json_decref(j);
}

static void test_letter_mass(void)
{
	struct guard_counts g = { 0 };
	int warned = 0;
	char *line = NULL;
	size_t n = 0;
	FILE *f;

	CHECK(guard_low_mass("logprobs", 0.6, 0.5));	/* 0.4 < 0.5 */
	CHECK(!guard_low_mass("logprobs", 0.5, 0.5));	/* 0.5: not under */
	CHECK(!guard_low_mass("logprobs", 0.01, 0.5));
	CHECK(!guard_low_mass("text", 1.0, 0.5));	/* no mass to miss */
	CHECK(!guard_low_mass("votes", 0.9, 0.5));
	CHECK(!guard_low_mass(NULL, 0.9, 0.5));
	CHECK(!guard_low_mass("logprobs", 1.0, 0));	/* 0: off */
	/* at least 20 judgments, more than 20 % low */
	CHECK(!guard_mass_alarming(19, 19));
	CHECK(guard_mass_alarming(5, 20));
	CHECK(!guard_mass_alarming(4, 20));		/* exactly 20 % */
	CHECK(!guard_mass_alarming(0, 1000));
	/* 9 pairs of two, 4 low: 18 judged, not yet 20 */
	for (int i = 0; i < 9; i++)
		warned += guard_counts_mass(&g, 2, i < 2 ? 2 : 0);
	CHECK(warned == 0);
	warned += guard_counts_mass(&g, 2, 0);		/* 4 of 20: no */
	CHECK(warned == 0);
	warned += guard_counts_mass(&g, 2, 1);		/* 5 of 22: yes */
	CHECK(warned == 1);
	for (int i = 0; i < 10; i++)			/* once only */
		warned += guard_counts_mass(&g, 2, 2);
	CHECK(warned == 1);
	CHECK(guard_counts_mass(&g, 0, 0) == false);
	CHECK(atomic_load(&g.logprobs_judgments) == 42);
	CHECK(atomic_load(&g.low_letter_mass) == 25);
	f = open_memstream(&line, &n);
	guard_mass_warn(f, &g, 0.5);
	guard_counts_print(f, &g);
	fclose(f);
	CHECK(strstr(line, "25 of 42 judge answers put less than 0.5 ") &&
	      strstr(line, "chat template"));
	CHECK(strstr(line, "25 of 42 judgments low in letter mass"));
	free(line);
}

TESTS(T(test_is_cut), T(test_cut_verdict), T(test_same_text),
      T(test_same_verdict), T(test_unmendable), T(test_seed),
      T(test_backoff), T(test_streak), T(test_counts),
      T(test_letter_mass))
