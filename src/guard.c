/* guard.c - cut answers, identical pairs, unmendable refusals (guard.h). */
#include "guard.h"
#include "rng.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

bool guard_is_cut(const char *finish)
{
	return finish && (!strcmp(finish, "length") ||
			  !strcmp(finish, "max_tokens"));
}

enum guard_verdict guard_cut_verdict(enum guard_cut_mode mode, bool cut,
				     int retries)
{
	if (!cut)
		return GUARD_ACCEPT;
	if (mode == GUARD_CUT_KEEP)
		return GUARD_KEEP_CUT;
	if (mode == GUARD_CUT_RETRY && retries < 1)
		return GUARD_RETRY;
	return GUARD_REJECT;
}

bool guard_low_mass(const char *method, double other_mass, double min)
{
	return method && !strcmp(method, "logprobs") &&
	       1.0 - other_mass < min;
}

bool guard_mass_alarming(long flagged, long judged)
{
	return judged >= GUARD_MASS_MIN_JUDGMENTS &&
	       (double)flagged > GUARD_MASS_WARN_SHARE * (double)judged;
}

bool guard_counts_mass(struct guard_counts *g, int n, int low)
{
	long judged, flagged;

	if (n <= 0)
		return false;
	flagged = atomic_fetch_add(&g->low_letter_mass, low) + low;
	judged = atomic_fetch_add(&g->logprobs_judgments, n) + n;
	return guard_mass_alarming(flagged, judged) &&
	       atomic_exchange(&g->mass_warned, 1) == 0;
}

void guard_mass_warn(FILE *f, struct guard_counts *g, double min)
{
	fprintf(f, "caigen: warning: %ld of %ld judge answers put less than "
		"%g of the probability on the letters A and B "
		"(judge.min_letter_mass); likely causes: the judge model gets "
		"the wrong chat template, a base model is on the chat route "
		"(try judge.api: completions), or the judge is too small to "
		"follow the format; those labels are marked low_letter_mass\n",
		atomic_load(&g->low_letter_mass),
		atomic_load(&g->logprobs_judgments), min);
}

/* s without leading and trailing whitespace: start and length. */
static const char *trimmed(const char *s, size_t *n)
{
	size_t len;

	s = s ? s : "";
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	*n = len;
	return s;
}

bool guard_same_text(const char *a, const char *b)
{
	size_t na, nb;
	const char *ta = trimmed(a, &na), *tb = trimmed(b, &nb);

	return na == nb && memcmp(ta, tb, na) == 0;
}

enum guard_verdict guard_same_verdict(enum guard_same_mode mode,
				      const char *a, const char *b,
				      int resamples, int max)
{
	if (!guard_same_text(a, b))
		return GUARD_ACCEPT;
	if (mode == GUARD_SAME_KEEP)
		return GUARD_KEEP_CUT;
	if (mode == GUARD_SAME_RESAMPLE && resamples < max)
		return GUARD_RETRY;
	return GUARD_REJECT;
}

/* A 403 can be a model refusing logprobs: that is a method change
 * (judgecall.h), not a refused key. */
static bool logprobs_refusal(const char *body)
{
	return body && strstr(body, "logprobs") &&
	       (strstr(body, "not allowed") || strstr(body, "not supported"));
}

bool guard_unmendable(long status, const char *body)
{
	switch (status) {
	case 401:
		return true;
	case 403:
		return !logprobs_refusal(body);
	case 404:
		return true;
	case 429:
		return body && strstr(body, "insufficient_quota");
	case 400:
		return body && strstr(body, "model") &&
		       (strstr(body, "does not exist") ||
			strstr(body, "model_not_found"));
	default:
		return false;
	}
}

uint64_t guard_seed(uint64_t seed, const char *id, const char *purpose,
		    uint64_t k)
{
	char p[64];

	snprintf(p, sizeof(p), "%s/again", purpose);
	return rng_u64(seed, id, p, k);
}

double guard_backoff(int k, double base, double cap, double u)
{
	double w = base * ldexp(1.0, k < 30 ? k : 30);

	return u * (w < cap ? w : cap);
}

bool guard_streak_refused(struct guard_streak *s)
{
	int limit = s->limit > 0 ? s->limit : GUARD_REFUSALS_DEFAULT;
	int n = atomic_fetch_add(&s->run, 1) + 1;

	return n >= limit && atomic_exchange(&s->tripped, 1) == 0;
}

void guard_streak_ok(struct guard_streak *s)
{
	atomic_store(&s->run, 0);
}

bool guard_streak_tripped(struct guard_streak *s)
{
	return atomic_load(&s->tripped) != 0;
}

json_t *guard_counts_json(struct guard_counts *g)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"identical_resamples",
		(json_int_t)atomic_load(&g->identical_resamples),
		"identical_failed",
		(json_int_t)atomic_load(&g->identical_failed),
		"identical_kept", (json_int_t)atomic_load(&g->identical_kept),
		"truncated_retries",
		(json_int_t)atomic_load(&g->truncated_retries),
		"truncated_kept", (json_int_t)atomic_load(&g->truncated_kept),
		"truncated_failed",
		(json_int_t)atomic_load(&g->truncated_failed),
		"rationale_cut", (json_int_t)atomic_load(&g->rationale_cut),
		"nologprobs_fallbacks",
		(json_int_t)atomic_load(&g->nologprobs_fallbacks),
		"logprobs_judgments",
		(json_int_t)atomic_load(&g->logprobs_judgments),
		"low_letter_mass",
		(json_int_t)atomic_load(&g->low_letter_mass));
}

void guard_counts_print(FILE *f, struct guard_counts *g)
{
	long v[9] = {
		atomic_load(&g->identical_resamples),
		atomic_load(&g->identical_failed),
		atomic_load(&g->identical_kept),
		atomic_load(&g->truncated_retries),
		atomic_load(&g->truncated_kept),
		atomic_load(&g->truncated_failed),
		atomic_load(&g->rationale_cut),
		atomic_load(&g->nologprobs_fallbacks),
		atomic_load(&g->low_letter_mass),
	};
	long any = 0;

	for (int i = 0; i < 9; i++)
		any |= v[i];
	if (!any)
		return;
	fprintf(f, "caigen: guards: identical pairs: %ld resampled, %ld "
		"failed, %ld kept; cut answers: %ld sampled again, %ld kept, "
		"%ld failed; %ld cut rationales; %ld judge replies without "
		"logprobs; %ld of %ld judgments low in letter mass\n", v[0],
		v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
		atomic_load(&g->logprobs_judgments));
}
