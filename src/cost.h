/*
 * cost.h - tokens and money per model: a run's token totals per endpoint,
 * priced by the config's price table (config.h, `prices`).
 *
 * Prices are USD per million tokens, input (prompt) and output
 * (completion) apart. Roles may serve the same model (policy and judge,
 * panel members); then their tokens are one model's row. A model that used tokens but has no row
 * in the table makes the total unknown (NAN), never zero.
 *
 * Thread-safety: pure functions of their arguments.
 */
#ifndef CAIGEN_COST_H
#define CAIGEN_COST_H

#include <jansson.h>
#include <stdio.h>

#include "call.h"
#include "config.h"
#include "chat.h"

/* u holds ROLE_COUNT usages, one per role (call.h): policy, judge, and
 * each panel member its own, each priced at its own endpoint's rates. */

/* USD for the tokens of every role; NAN when a model that used tokens
 * has no price. */
double cost_usd(const struct config *cfg, const struct chat_usage *u);

/* {"MODEL": {"prompt_tokens", "completion_tokens", "cost_usd": USD or
 * null}} over the endpoints' models. New reference. */
json_t *cost_models_json(const struct config *cfg, const struct chat_usage *u);

/* Set "usage_by_model" (cost_models_json) and "cost_usd" (USD or null)
 * in a manifest object. */
void cost_manifest(json_t *manifest, const struct config *cfg,
		   const struct chat_usage *u);

/* One summary line: "caigen: tokens by model: 'M' N in, N out ($X); ...",
 * then "; cost $X" (or why it is unknown) when there is a price table.
 * used[ROLE_COUNT] (NULL: every role) leaves out the models of roles a
 * run did not have (label and eval: the policy). */
void cost_print(FILE *f, const struct config *cfg, const struct chat_usage *u,
		const bool *used);

#endif
