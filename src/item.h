/*
 * item.h - one input line on its way through a run, and the machine
 * that takes a prompt from its first request to its finished record.
 *
 *   preferences:  sample (sampler.h) ─► judge (judgecall.h) ─► done
 *   ranked:       sample k ─► rank (ranking.h: pairs, panel) ─► done
 *                 (responses > 2 or a panel of judges: every judge step
 *                 above goes through the ranking machine instead)
 *   critiques:    critique chain (critique.h) ─────────────► done
 *   both:         critique chain ─► judge initial vs final ─► done
 *   label:        (the two replies came with the item) judge ─► done
 *
 * item_start runs the first step; each step's end starts the next; at the
 * end the finished line(s) or the failure are in the item and env->done
 * is called with it, on the executor's thread. A failure while the run is
 * stopping makes the item interrupted instead (it is not written, so the
 * next run does it).
 *
 * Ownership: the reader makes items (item_new_*), the machine runs them,
 * the writer frees them (item_free). Thread-safety: one item is driven by
 * one thread at a time; struct item_env is read-only or atomic.
 */
#ifndef CAIGEN_ITEM_H
#define CAIGEN_ITEM_H

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>

#include "call.h"
#include "config.h"
#include "constitution.h"
#include "critique.h"
#include "judgecall.h"
#include "prompts.h"
#include "ranking.h"
#include "sampler.h"

enum item_kind { ITEM_PROMPT, ITEM_REJECT };
enum item_status { ST_OK, ST_FAILED, ST_INTERRUPTED };

struct item;

/* What every machine of a run shares. */
struct item_env {
	const struct config *cfg;
	const struct constitution *con;
	struct sample_shared sample;	/* the policy endpoint's n mode */
	struct judge_shared judge;	/* the judge endpoint's logprobs */
	struct judge_shared members[RANKING_MEMBERS_MAX - 1];	/* the
					 * panel's other members' */
	bool two;			/* mode both: two records */
	volatile sig_atomic_t *stop;	/* set by signal handlers */
	atomic_int *fatal;		/* the output failed */
	atomic_int refused;		/* an endpoint refused too many
					 * requests in a row (guard.h) */
	atomic_int capped;		/* an executor refused a call at the
					 * spending cap (budget.h) */
	struct guard_counts *counts;	/* what the guards did */
	int parking;			/* set by the batch executor while a
					 * call it set aside for a later run
					 * (batch export) ends: a failure
					 * then is an interruption. Only
					 * that executor's thread reads it */
	void (*done)(struct item_env *env, struct item *it);
	void *owner;
};

struct item {
	struct item *next;	/* executor's queues */
	uint64_t seq;
	enum item_kind kind;
	enum item_status status;
	struct prompt pr;
	struct reject rj;
	char *responses[RANK_MAX];	/* two, or cfg->responses */
	char *finish[RANK_MAX];	/* their finish reasons, NULL if unknown */
	struct chat_usage usage;
	const char *fail_stage;
	char *error;
	char *line;		/* the finished JSON line */
	char *line2;		/* mode both: the preference line */
	char *extra;		/* feed: members appended to the record */

	/* the machine */
	struct item_env *env;
	struct exec *x;
	union {
		struct sample_job sample;
		struct critique_job critique;
		struct pair_job judge;
		struct ranking_job rank;
		struct call gen;	/* promptgen.h's one call */
	} job;
	struct ranking_panel panel;	/* ranked: the judges */
};

/* Whether the run is stopping (a signal, the output failed, an endpoint
 * refuses every request, or the spending cap is reached). */
bool item_env_stopping(const struct item_env *env);

/* Start the machine of a prompt item on executor x. */
void item_start(struct item *it, struct item_env *env, struct exec *x);
/* The item has not been started and will not be: interrupted. */
void item_interrupt(struct item *it);
void item_free(struct item *it);	/* NULL is fine */

/* Record lines for the writer. Caller frees. */
char *item_reject_line(const struct reject *rj);
char *item_failure_line(const struct item *it);

#endif
