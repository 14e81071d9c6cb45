/*
 * judgecall.h - labelling one pair of replies: the judge calls in both
 * orders under a drawn principle, by the method the endpoint allows, and
 * the preference record built from the result.
 *
 * Methods (each judgment records which one produced it):
 *   logprobs  chat or completions endpoints: the answer-letter logprobs,
 *             summed over token variants and renormalised (judge.h). On
 *             /v1/completions the prompt ends in "The answer is: (" so the
 *             letter is the next token.
 *   text      no logprobs (Anthropic; a model that refused them): the
 *             letter read from the reply; Anthropic gets an assistant
 *             prefill "(" so the letter is the next character. p_a is 1
 *             or 0.
 *   votes     judge.votes = k > 0 and no logprobs: k answers sampled at
 *             temperature 1; p_a = votes_A / (votes_A + votes_B), which is
 *             votes_A / k when every answer names a letter.
 * A chat or completions endpoint starts with logprobs; the first reply
 * that refuses them (provider_refuses_logprobs), or a 2xx whose choice
 * carries no logprobs although they were asked for (a proxy, an older
 * server, a model that drops them), flips the endpoint's shared flag
 * once, prints one warning, and every later judgment (that one included)
 * uses text, or votes when configured.
 *
 * Chain of thought (judge.cot): first a greedy call (temperature 0, at
 * most judge.cot_max_tokens) asks for reasoning only; then the rationale
 * is appended as the assistant's turn, a user turn asks for the letter,
 * and the letter is read by the method above. Each judgment keeps its
 * rationale.
 *
 * Clamp: the record's `p` is clamped to judge.clamp ([0.4, 0.6] by default
 * with CoT, none without); `p_raw` keeps the unclamped value and every
 * judgment's p_a is unclamped, so users can re-clamp later.
 *
 * Calls go through the caller's transport (struct llm), so retries and
 * whatever else the pipeline does per request apply to them too.
 * Thread-safety: any number of threads; struct judge_shared is the only
 * shared state, and it is atomic.
 */
#ifndef CAIGEN_JUDGECALL_H
#define CAIGEN_JUDGECALL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "guard.h"
#include "constitution.h"
#include "judge.h"
#include "prompts.h"
#include "provider.h"
#include "util.h"

/* One request through the caller's transport: 0, or -1 with err. */
typedef int (*llm_call_fn)(void *ctx, const struct chat_params *cp,
			   struct chat_reply *r, struct err *err);

struct llm {
	llm_call_fn call;
	void *ctx;
	int api;		/* enum api_kind of the endpoint */
};

/* Per judge endpoint, shared by its threads. Zero-initialise. */
struct judge_shared {
	atomic_int no_logprobs;	/* the endpoint refused logprobs */
	struct guard_counts *counts;	/* borrowed, may be NULL: cut
					 * rationales, replies without
					 * logprobs */
};

struct pair_label {
	const struct principle *pr;
	struct judgment j[2];
	int nj;
	double p;		/* P(responses[0] better), clamped if asked */
	double p_raw;		/* unclamped */
	bool clamped;		/* a clamp was in force */
	double lo, hi;
	bool rationale_cut[2];	/* per judgment: CoT rationale cut */
	struct chat_usage usage;
};

/* The clamp in force for cfg: false if none, else its bounds. */
bool judgecall_clamp(const struct config *cfg, double *lo, double *hi);

/*
 * Judge responses r0 and r1 to the conversation `messages` for prompt id.
 * Draws the principle (rng "principle", 0), the order when only one is
 * asked (rng "order", 0). 0 on success with *out filled (release it with
 * pair_label_release), -1 with err.
 */
int judgecall_pair(const struct llm *l, const struct config *cfg,
		   const struct constitution *con, struct judge_shared *sh,
		   const char *id, json_t *messages, const char *r0,
		   const char *r1, struct pair_label *out, struct err *err)
	__attribute__((warn_unused_result));
void pair_label_release(struct pair_label *lb);

/* The caigen.preference/1 record line for a labelled pair; finish[i] is
 * responses[i]'s finish reason (NULL: unknown, written as null), kept as
 * `finish_reasons`. Caller frees. */
char *judgecall_record(const struct config *cfg, const struct prompt *pr,
		       const char *r0, const char *r1,
		       const char *const finish[2],
		       const struct pair_label *lb,
		       const struct chat_usage *usage);

#endif
