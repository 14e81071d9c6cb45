/*
 * sampler.h - k answers to one prompt from the policy model (k =
 * `responses`, 2 by default): the sampling machine (call.h).
 *
 * With n: 2 (or auto, until the server says otherwise) one request asks
 * for k choices, seed rng(seed, id, "sample", 0). A server that refuses
 * n > 1 (a 400 that names the choice count, as llama.cpp's "Only one
 * completion choice is allowed") flips the shared mode to one choice per
 * request once, with a warning, and the refused prompt is asked again
 * that way; from then on every prompt makes k n=1 requests, side by side,
 * seeds rng(seed, id, "sample", 1) .. (.., k). With n: 2 a refusal or a
 * reply with fewer than k choices fails the prompt. Above
 * PROVIDER_MAX_CHOICES answers the k n=1 requests are made from the start.
 *
 * Then the guards (guard.h), in order: an answer cut by max_tokens is
 * handled by policy.truncated (retry: one more sample with the seed
 * guard_seed(seed, id, "truncated", i) for answer i, then the prompt
 * fails with "truncated"; keep; fail); answers equal after trimming are
 * handled by policy.identical: with two answers, (resample: answer 2
 * again with guard_seed(.., "identical", r) up to
 * policy.identical_resamples times, each new answer going through the cut
 * guard as answer k + r, then "identical responses"; keep; fail). With
 * more than two the same applies only when every answer is the same;
 * otherwise duplicates are left for the item to collapse (item.h).
 *
 * Thread-safety: one machine is driven by one thread at a time; struct
 * sample_shared is shared by all and atomic.
 */
#ifndef CAIGEN_SAMPLER_H
#define CAIGEN_SAMPLER_H

#include <stdatomic.h>

#include "call.h"
#include "guard.h"
#include "config.h"
#include "prompts.h"
#include "rank.h"

/* Per policy endpoint, shared by every machine. */
struct sample_shared {
	atomic_int n_mode;	/* enum n_mode: AUTO until the server tells */
	atomic_int fell_back;	/* 1 once n=2 was found unsupported */
	struct guard_counts *counts;	/* what the guards did; borrowed */
};

void sample_shared_init(struct sample_shared *sh, const struct config *cfg);

struct sample_job {
	struct call *call;	/* k calls: call2, or on the heap above 2 */
	struct call call2[2];
	int k;			/* answers asked for */
	struct exec *x;
	const struct config *cfg;
	const struct prompt *pr;	/* borrowed */
	struct sample_shared *sh;
	void (*finished)(struct sample_job *sj);
	void *owner;

	/* the result, valid in finished: rc 0 with k texts and their
	 * finish reasons (owned, the reasons may be NULL; take them or
	 * free them), or -1 with err */
	char *text[RANK_MAX];
	char *finish[RANK_MAX];
	struct chat_usage usage;
	int rc;
	struct err err;

	/* private */
	int pending;
	int tries[RANK_MAX];	/* cut guard: retries of answer i */
	uint64_t cut_index[RANK_MAX];	/* its index in the "truncated"
					 * seeds */
	bool settled[RANK_MAX];	/* answer i passed the cut guard */
	int resamples;		/* identical guard: resamples so far */
};

/* Sample cfg->responses answers for pr through x; finished runs once (possibly
 * before this returns). */
void sample_start(struct sample_job *sj, struct exec *x,
		  const struct config *cfg, const struct prompt *pr,
		  struct sample_shared *sh,
		  void (*finished)(struct sample_job *), void *owner);
/* Free what the owner did not take, and the calls (none may be in
 * flight). */
void sample_job_release(struct sample_job *sj);

#endif
