/*
 * critique.h - critique and revision chains (the SL stage of
 * Constitutional AI).
 *
 * For one prompt: the policy model answers; then for round k = 0..R-1 a
 * principle is drawn afresh from the critique stage with
 * rng_unit(seed, id, "critique-principle", k), the model is asked for a
 * critique of its last answer under the principle's critique request, and
 * then for a revision under its revision request. Rounds chain: round k
 * revises round k-1's revision. The conversation grows as messages:
 *
 *   user: prompt                 assistant: initial answer
 *   user: critique request 1     assistant: critique 1
 *   user: revision request 1     assistant: revision 1
 *   user: critique request 2     ...
 *
 * The constitution's few-shot dialogues (constitution.h `fewshot`) are
 * sent before the prompt's own turns (after its leading system messages)
 * in the same six-turn shape, but are not part of the record.
 *
 * Request texts: the critique/revise templates (TPL_CRITIQUE, TPL_REVISE)
 * with {principle} the principle's text and {conversation} the
 * conversation so far as plain turns.
 *
 * Per-request seeds: rng_u64(seed, id, "critique-call", i) for the i-th
 * call of the chain (0 = the initial answer).
 *
 * Cut replies (guard.h): an answer, critique or revision that max_tokens
 * cut is handled by policy.truncated like a sampled answer: retry (one
 * more call with the seed guard_seed(seed, id, "critique-call", i), then
 * the chain fails with "truncated"), keep, or fail. Every step's finish
 * reason is kept in the record (initial_finish, and critique_finish and
 * revision_finish per round).
 *
 * The machine (call.h): critique_start sends the answer's call; each
 * reply sends the next step; `finished` runs once after the last reply or
 * the first failure (possibly before critique_start returns, with an
 * executor that answers at once).
 *
 * Thread-safety: one machine is driven by one thread at a time; nothing
 * is shared but the read-only config and constitution.
 */
#ifndef CAIGEN_CRITIQUE_H
#define CAIGEN_CRITIQUE_H

#include <jansson.h>

#include "config.h"
#include "constitution.h"
#include "call.h"
#include "judgecall.h"
#include "prompts.h"
#include "chat.h"
#include "util.h"

struct critique_round {
	const struct principle *pr;
	char *critique_request, *critique;	/* owned */
	char *revision_request, *revision;	/* owned */
};

struct critique_chain {
	char *initial;			/* owned */
	char **finish;			/* owned, NULL or 1 + 2 * rounds
					 * finish reasons (each owned, may be
					 * NULL): the initial answer's, then
					 * each round's critique and
					 * revision */
	int cut_retries, cut_kept;	/* cut replies called again, kept */
	bool cut_failed;		/* failed: still cut ("truncated") */
	struct critique_round *rounds;	/* owned, nrounds of them */
	int nrounds;
	json_t *messages;		/* owned: the whole chat, few-shot
					 * dialogues left out */
	struct chat_usage usage;
};

/* A chain in progress: the machine. The caller owns the struct, which
 * must stay put until finished has run. */
struct critique_job {
	struct call call;	/* one step at a time */
	struct exec *x;
	const struct config *cfg;
	const struct constitution *con;
	const struct prompt *pr;	/* borrowed */
	void (*finished)(struct critique_job *cj);
	void *owner;

	/* the result, valid in finished: rc 0 with out filled (release it
	 * with critique_chain_release), or -1 with err (out released) */
	struct critique_chain out;
	int rc;
	struct err err;

	/* private */
	int step;		/* 0 answer; 2k+1 critique k; 2k+2 revision k */
	int tries;		/* calls of this step cut and made again */
	json_t *fewshot, *sent;
};

/* Run the chain for prompt pr through executor x: cfg->rounds rounds.
 * Release the machine with critique_job_release after finished. */
void critique_start(struct critique_job *cj, struct exec *x,
		    const struct config *cfg,
		    const struct constitution *con, const struct prompt *pr,
		    void (*finished)(struct critique_job *), void *owner);
void critique_job_release(struct critique_job *cj);
void critique_chain_release(struct critique_chain *c);
/* The finish reason of call i of a chain (0: the initial answer, then
 * 2k + 1 and 2k + 2 for round k's critique and revision), or NULL when
 * unknown. Points into c. */
const char *critique_finish(const struct critique_chain *c, int i);

/* The few-shot dialogues as a message list. New reference. */
json_t *critique_fewshot_messages(const struct constitution *con);

/* Fill a critique or revise template: {principle}, {conversation}, and
 * "{{" / "}}" for braces. Caller frees. */
char *critique_render(const char *tpl, const char *principle,
		      const char *conversation);

/*
 * The caigen.critique/1 record line: id, index, prompt, initial, rounds[]
 * (principle {id, constitution, tags}, critique_request, critique,
 * revision_request, revision), revision (the last), and the Hugging Face
 * recipe's fields: init_prompt (the last user turn's text),
 * init_response, critic_prompt, critic_response, revision_prompt,
 * revision_response (those four from the LAST round), messages (the whole
 * chat), chosen (prompt turns + final revision), rejected (prompt turns +
 * initial answer); then usage, models, seed. Caller frees.
 */
char *critique_record(const struct config *cfg, const struct prompt *pr,
		      const struct critique_chain *c);

#endif
