/*
 * guard.h - the checks that keep what real servers and real models do out
 * of a training set: cut answers, identical pairs, refusals that no retry
 * mends. Decisions are pure functions of their arguments so that any
 * executor (the thread pools today, item machines later) makes the same
 * ones; the only state is the refusal streak and the counters, both
 * atomic.
 *
 * - A reply is cut when its finish reason is "length" (OpenAI-compatible
 *   servers) or "max_tokens" (Anthropic).
 * - Two answers are identical when they are equal after trimming leading
 *   and trailing whitespace.
 * - An unmendable refusal is a 401, a 403 other than a refusal of
 *   logprobs, a 429 saying insufficient_quota, a 404 (no such model or
 *   route), or a 400 saying the model does not exist. The same request
 *   would get the same answer.
 * - Derived seeds for resamples and retries come from the keyed generator
 *   (rng.h) with their own purposes, so they are reproducible.
 *
 * Thread-safety: the struct guard_streak and struct guard_counts
 * functions may be called from any number of threads.
 */
#ifndef CAIGEN_GUARD_H
#define CAIGEN_GUARD_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* What to do with a cut answer (policy.truncated) and with two identical
 * ones (policy.identical). Values are the config enums'. */
enum guard_cut_mode { GUARD_CUT_RETRY = 0, GUARD_CUT_KEEP = 1,
		      GUARD_CUT_FAIL = 2 };
enum guard_same_mode { GUARD_SAME_RESAMPLE = 0, GUARD_SAME_KEEP = 1,
		       GUARD_SAME_FAIL = 2 };

/* The verdict on one answer after `retries` retries of it. */
enum guard_verdict { GUARD_ACCEPT, GUARD_RETRY, GUARD_KEEP_CUT,
		     GUARD_REJECT };

/* Letter mass: a judgment by logprobs whose two letters got less than
 * judge.min_letter_mass of the probability is flagged (low_letter_mass in
 * its record) and counted; once at least GUARD_MASS_MIN_JUDGMENTS such
 * judgments were made and more than GUARD_MASS_WARN_SHARE of them were
 * flagged, the run warns once. */
#define GUARD_MASS_MIN_JUDGMENTS 20
#define GUARD_MASS_WARN_SHARE 0.2

/* Refusals of one endpoint in a row that stop a run, by default. */
#define GUARD_REFUSALS_DEFAULT 3

/* Is a reply with this finish reason cut by max_tokens? NULL: no. */
bool guard_is_cut(const char *finish);

/* A cut (or whole) answer under mode after `retries` retries: accept a
 * whole one; retry a cut one once under retry, then reject; keep it under
 * keep; reject it under fail. */
enum guard_verdict guard_cut_verdict(enum guard_cut_mode mode, bool cut,
				     int retries);

/* Is a judgment of this method (NULL: unknown) whose letters missed
 * other_mass of the probability under the minimum mass `min`? Only
 * "logprobs" judgments are ever low: text and votes have no mass. */
bool guard_low_mass(const char *method, double other_mass, double min);

/* Past the warning threshold with `flagged` of `judged` judgments low? */
bool guard_mass_alarming(long flagged, long judged);

/* Equal after trimming whitespace at both ends? NULLs are "". */
bool guard_same_text(const char *a, const char *b);

/* Two answers a, b after `resamples` resamples of b, with at most `max`
 * allowed: ACCEPT (different, or keep), RETRY (resample b again) or
 * REJECT (fail the prompt with "identical responses"). */
enum guard_verdict guard_same_verdict(enum guard_same_mode mode,
				      const char *a, const char *b,
				      int resamples, int max);

/* Is this failed request a refusal no retry can mend? body may be NULL. */
bool guard_unmendable(long status, const char *body);

/* The derived seed for retry or resample k (0-based) of what was drawn
 * under `purpose`: rng_u64(seed, id, "<purpose>/again", k). */
uint64_t guard_seed(uint64_t seed, const char *id, const char *purpose,
		    uint64_t k);

/* The wait before retry k (0-based) of an unusable body: like HTTP
 * retries, base * 2^k capped at cap, times u in [0, 1) (full jitter). */
double guard_backoff(int k, double base, double cap, double u);

/* Unmendable refusals of one endpoint in a row. Zero-initialise; `limit`
 * <= 0 means GUARD_REFUSALS_DEFAULT. */
struct guard_streak {
	atomic_int run;		/* refusals since the last 2xx */
	atomic_int tripped;	/* the limit was reached */
	int limit;
};

/* A refusal: true if this one reached the limit (the run must stop). */
bool guard_streak_refused(struct guard_streak *s);
/* A 2xx: the streak starts again. */
void guard_streak_ok(struct guard_streak *s);
bool guard_streak_tripped(struct guard_streak *s);

/* What the guards did in a run. Zero-initialise; add from any thread. */
struct guard_counts {
	atomic_long identical_resamples;	/* second answers resampled */
	atomic_long identical_failed;		/* prompts failed: identical */
	atomic_long identical_kept;		/* identical pairs kept */
	atomic_long truncated_retries;		/* cut answers sampled again */
	atomic_long truncated_kept;		/* cut answers kept */
	atomic_long truncated_failed;		/* prompts failed: truncated */
	atomic_long rationale_cut;		/* CoT rationales cut */
	atomic_long nologprobs_fallbacks;	/* judge 200s without logprobs */
	atomic_long logprobs_judgments;		/* judgments by logprobs */
	atomic_long low_letter_mass;		/* of which flagged low */
	atomic_int mass_warned;			/* the warning was given */
};

/* Count n judgments by logprobs, `low` of them flagged (guard_low_mass).
 * Returns true exactly once per run: for the call that took the counts
 * past the threshold (guard_mass_alarming); the caller then warns with
 * guard_mass_warn. Any thread. */
bool guard_counts_mass(struct guard_counts *g, int n, int low);
/* The warning, one line on f with the counts and the likely causes. */
void guard_mass_warn(FILE *f, struct guard_counts *g, double min);

/* The counters as a JSON object (new reference), for the manifest. */
json_t *guard_counts_json(struct guard_counts *g);
/* One summary line, "caigen: guards: ...", or nothing when all are 0. */
void guard_counts_print(FILE *f, struct guard_counts *g);

#endif
