/*
 * ranking.h - the ranking machine: a prompt's k answers (responses > 2) or
 * a panel of judges, from the answers to the caigen.preference/2 records.
 *
 *   collapse duplicates ─► pairs (rank.h) ─► every pair to every member
 *   (judgecall.h, both orders) ─► panel label per pair ─► Bradley-Terry
 *   ─► order ─► binarize ─► record line(s)
 *
 * Duplicates: answers equal after trimming (guard.h) are one answer; the
 * first in sampling order is kept and ranked, the others are listed in
 * the record (`duplicates`) and never judged. Pairs are chosen among the
 * kept answers by their rank among the kept ones (rank_pairs) and written
 * with their indices in `responses`.
 *
 * Every pair is put to every member at once (the executor limits each
 * member by its own endpoint); member m's calls have role ROLE_JUDGE + m
 * (call.h) and seeds as judgecall_start_at says, pair q having number q.
 * One failed judgment fails the prompt (the other calls in flight finish
 * first). The principle is the prompt's one draw, so every pair is judged
 * under the same principle.
 *
 * The record (schema caigen.preference/2), TRL's prompt / chosen /
 * rejected first, then:
 *   margin          |p - 0.5|
 *   responses       the k answers in sampling order; finish_reasons
 *   chosen_index, rejected_index   their indices in responses
 *   p               P(chosen better than rejected) under the fitted
 *                   scores, rank_prob
 *   clamp           the clamp in force for member 0, as in /1
 *   duplicates      [{index, same_as}] answers collapsed into an earlier
 *   ranking         [{index, score}] best first (rank.h)
 *   binarize        the setting; with all-pairs also `part` (0-based)
 *                   and `parts`, this record's place among the prompt's
 *   principle       as in /1
 *   comparisons     [{pair: [i, j], p: P(i better), judgments: [...]}]
 *                   (the judgments as in /1's `judgments`); with a panel,
 *                   instead of judgments, `panel`: [{member, model, p,
 *                   p_raw, judgments}] and p is the members' p combined
 *                   by the `panel` rule (rank.h)
 *   models          {policy, judge: member 0's model}, and with a panel
 *                   `panel`: every member's model
 *   usage, seed     as in /1
 * Numbers are written with 8 significant digits, as in /1.
 *
 * Ownership: the caller owns the struct and the texts it lends; it must
 * stay put until finished has run. Thread-safety: one machine is driven
 * by one thread at a time.
 */
#ifndef CAIGEN_RANKING_H
#define CAIGEN_RANKING_H

#include "call.h"
#include "config.h"
#include "constitution.h"
#include "judgecall.h"
#include "prompts.h"
#include "rank.h"

#define RANKING_MEMBERS_MAX CONFIG_PANEL_MAX	/* judges in a panel */

/* The judges of a run: member 0 is `judge`, others its panel. */
struct ranking_panel {
	int n;
	const struct config *cfg[RANKING_MEMBERS_MAX];	/* per member: the
							 * run's config with
							 * its judge keys */
	struct judge_shared *sh[RANKING_MEMBERS_MAX];
};

struct ranking_job {
	/* set by ranking_start */
	const struct config *cfg;	/* the run's (member 0's) */
	const struct constitution *con;
	const struct ranking_panel *panel;
	struct exec *x;
	const struct prompt *pr;
	const char *const *resp;	/* k answers, borrowed */
	const char *const *finish;	/* their finish reasons */
	int k;
	void (*finished)(struct ranking_job *rj);
	void *owner;

	/* the result, valid in finished: rc 0 with the line(s) (owned,
	 * several joined by '\n'), or -1 with err; usage: the base given
	 * to ranking_start plus every judge call's (the records' usage) */
	char *line;
	int rc;
	struct err err;
	struct chat_usage usage;

	/* private */
	int nd;			/* kept answers */
	int keep[RANK_MAX];	/* their indices in resp */
	int same_as[RANK_MAX];	/* per answer: the kept one it repeats */
	int np;			/* pairs, in kept positions */
	int pair[RANK_MAX_PAIRS][2];
	int njobs, pending;
	struct pair_job *jobs;	/* pair q, member m: jobs[q * n + m] */
};

/* The endpoint of a role (call.h): policy, judge or a panel member's;
 * a member the config does not have gets judge's. The one lookup of a
 * role's endpoint (the run rules, executors, costs and reports use it). */
const struct endpoint *ranking_role_endpoint(const struct config *cfg,
					     int role);

/* Rank the k answers resp of pr; base (may be NULL) is the usage so far
 * (the sampling's); finished runs once (possibly before this returns). */
void ranking_start(struct ranking_job *rj, struct exec *x,
		   const struct config *cfg, const struct constitution *con,
		   const struct ranking_panel *panel, const struct prompt *pr,
		   const char *const *resp, const char *const *finish, int k,
		   const struct chat_usage *base,
		   void (*finished)(struct ranking_job *), void *owner);
/* Free the machine and, unless taken (set to NULL), the line. */
void ranking_release(struct ranking_job *rj);
/* Judge requests ranking_start will make for d distinct answers at the
 * start (no refusal of logprobs met yet): the formula of rank.h. */
long ranking_requests(const struct ranking_panel *panel, int d);

#endif
