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
 * The machine (call.h): judgecall_start sends the first call of each
 * order (the two orders run side by side) and returns; every reply moves
 * its order one step on; when both orders are over, `finished` runs once,
 * on the executor's thread, with rc 0 and the label filled, or rc -1 and
 * err. A failure in one order lets the other order's call in flight
 * finish, but starts nothing new.
 * Thread-safety: one machine is driven by one thread at a time; struct
 * judge_shared is the only state shared between machines, and it is
 * atomic.
 */
#ifndef CAIGEN_JUDGECALL_H
#define CAIGEN_JUDGECALL_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "call.h"
#include "config.h"
#include "guard.h"
#include "constitution.h"
#include "judge.h"
#include "prompts.h"
#include "chat.h"
#include "util.h"

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
	/* judge.calibration applied to p (calibrate.h), else NULL */
	const struct calibration *cal;
	bool rationale_cut[2];	/* per judgment: CoT rationale cut */
	struct chat_usage usage;
};

/* The clamp in force for cfg: false if none, else its bounds. */
bool judgecall_clamp(const struct config *cfg, double *lo, double *hi);

/* One order in progress (judgecall.c's own). */
struct order_job {
	struct call call;
	int phase;
	int vote;		/* votes: answers asked so far */
	json_t *msgs;		/* the request's conversation, or NULL */
	char *prompt;		/* completions: its raw prompt, or NULL */
	char *user;		/* the rendered comparison text, only
				 * while the request is built */
	struct judgment *j;
};

/* Judging one pair: the machine. judgecall_start fills it; the caller
 * owns the struct, which must stay put until finished has run. */
struct pair_job {
	/* set by judgecall_start */
	const struct config *cfg;
	const struct constitution *con;
	struct judge_shared *sh;
	struct exec *x;
	int api;		/* enum api_kind of the judge endpoint */
	int role;		/* the calls' role: ROLE_JUDGE, or a panel
				 * member's (call.h) */
	unsigned pair;		/* which of the prompt's pairs (rank.h) */
	const char *id;		/* borrowed, as are the replies */
	const char *resp[2];
	void (*finished)(struct pair_job *pj);
	void *owner;

	/* the result, valid in finished */
	struct pair_label out;
	int rc;
	struct err err;

	/* private */
	char *conv;
	int pending;
	struct order_job ord[2];
};

/*
 * Judge responses r0 and r1 to the conversation `messages` for prompt id
 * through executor x. Draws the principle (rng "principle", 0) and the
 * order when only one is asked (rng "order", 0). finished(pj) runs once
 * when done (possibly before judgecall_start returns, with an executor
 * that answers at once); after it, release pj->out with
 * pair_label_release (on success) and the machine with judgecall_release.
 */
void judgecall_start(struct pair_job *pj, struct exec *x, int api,
		     const struct config *cfg,
		     const struct constitution *con, struct judge_shared *sh,
		     const char *id, json_t *messages, const char *r0,
		     const char *r1, void (*finished)(struct pair_job *),
		     void *owner);
/* The same for pair number `pair` of a prompt's pairs (rank.h), its
 * calls sent as `role`: the principle is the prompt's one draw, the order
 * (when only one is asked) rng "order", pair, and each judgment's seeds
 * take index 2 * pair + order where a single pair takes the order, so
 * pair 0 of role ROLE_JUDGE is exactly judgecall_start. */
void judgecall_start_at(struct pair_job *pj, struct exec *x, int role,
			unsigned pair, int api, const struct config *cfg,
			const struct constitution *con,
			struct judge_shared *sh, const char *id,
			json_t *messages, const char *r0, const char *r1,
			void (*finished)(struct pair_job *), void *owner);
void judgecall_release(struct pair_job *pj);
void pair_label_release(struct pair_label *lb);

/* The caigen.preference/1 record line for a labelled pair; finish[i] is
 * responses[i]'s finish reason (NULL: unknown, written as null), kept as
 * `finish_reasons`. Caller frees. */
char *judgecall_record(const struct config *cfg, const struct prompt *pr,
		       const char *r0, const char *r1,
		       const char *const finish[2],
		       const struct pair_label *lb,
		       const struct chat_usage *usage);

/* A label's judgments as the record's `judgments` array, alone (for
 * ranking.h's records). Caller frees; NULL if a value is not finite. */
char *judgecall_judgments(const struct config *cfg,
			  const struct pair_label *lb);

#endif
