/*
 * runrules.h - the rules a run's configuration must keep that no single
 * key states: which roles a run uses, which executor each goes through,
 * and what that executor can carry. `caigen run` (pipeline.h), `caigen
 * check` and `--dry-run` all call runrules_check, so a configuration
 * `run` refuses is refused by the other two as well, before any request
 * is sent.
 *
 * Roles (call.h): the policy, the judge, a panel's other members. A run
 * uses the policy unless the answers come with the input (label, eval),
 * and the judges unless mode is critiques. Each used role goes out its
 * endpoint's way (`executor: live | batch`); live and batch roles mix in
 * one run (batch.h). `caigen batch export` sends every used role to
 * files instead.
 *
 * The rules, on used roles only:
 *   - a batch role (or any role, in batch export) needs a batch file
 *     format: api chat or anthropic, not completions;
 *   - batch export writes the OpenAI batch shape (vllm run-batch): a role
 *     with api anthropic is refused there (its batches go to Anthropic
 *     with executor: batch);
 *   - max_cost needs a price for the model of every used role.
 *
 * The endpoint of a role is ranking_role_endpoint's (ranking.h), the one
 * lookup every module uses.
 *
 * Thread-safety: pure.
 */
#ifndef CAIGEN_RUNRULES_H
#define CAIGEN_RUNRULES_H

#include <stdbool.h>

#include "call.h"
#include "config.h"
#include "util.h"

/* Does a run use role r? feed: the answers come with the input. */
bool runrules_used(const struct config *cfg, bool feed, int r);
/* Does role r go through the batch executor? */
bool runrules_batch(const struct config *cfg, bool export, int r);
/* Role r's model's prices, USD per token (config_rates), into *in and
 * *out; -1 with err naming the model when `prices` has no row for it
 * (the max_cost rule; the spending cap, budget.h, takes its prices
 * here). */
int runrules_rates(const struct config *cfg, int r, double *in,
		   double *out, struct err *err)
	__attribute__((warn_unused_result));
/* 0, or -1 with err naming the key and the fix. */
int runrules_check(const struct config *cfg, bool feed, bool export,
		   struct err *err) __attribute__((warn_unused_result));

#endif
