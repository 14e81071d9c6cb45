/* cost.c - token totals per model and their price (see cost.h). */
#include "cost.h"
#include "ranking.h"

#include <math.h>
#include <string.h>

/* The roles a config has: policy, judge, the panel's other members. */
static int nroles(const struct config *cfg)
{
	return ROLE_JUDGE + 1 + (int)cfg->nmembers;
}

/* USD for role r's tokens, at its endpoint's (live or batch) price; NAN
 * when it used tokens and its model has no price. */
static double role_cost(const struct config *cfg, int r,
			const struct chat_usage *u)
{
	double in, out;

	if (!u->prompt_tokens && !u->completion_tokens)
		return 0;
	if (!config_rates(cfg, ranking_role_endpoint(cfg, r), &in, &out))
		return NAN;
	return (double)u->prompt_tokens * in +
	       (double)u->completion_tokens * out;
}

double cost_usd(const struct config *cfg, const struct chat_usage *u)
{
	double usd = 0;

	for (int r = 0; r < nroles(cfg); r++)
		usd += role_cost(cfg, r, &u[r]);
	return usd;
}

/* The rows of cost_models_json over the roles `used` marks (NULL: all). */
static json_t *models_json(const struct config *cfg, const struct chat_usage *u,
			   const bool *used)
{
	json_t *o = json_object();

	/* a row per model; roles that serve one model share its row */
	for (int r = 0; r < nroles(cfg); r++) {
		if (used && !used[r])
			continue;
		const char *model = ranking_role_endpoint(cfg, r)->model;
		json_t *row = json_object_get(o, model);
		long long in = u[r].prompt_tokens, out = u[r].completion_tokens;
		double usd = role_cost(cfg, r, &u[r]);

		if (row) {
			json_t *c = json_object_get(row, "cost_usd");

			in += json_integer_value(json_object_get(row,
							"prompt_tokens"));
			out += json_integer_value(json_object_get(row,
							"completion_tokens"));
			usd = json_is_number(c) ? usd + json_number_value(c) :
			      NAN;
		}
		json_object_set_new(o, model, json_pack(
			"{s:I,s:I,s:o}", "prompt_tokens", (json_int_t)in,
			"completion_tokens", (json_int_t)out, "cost_usd",
			isnan(usd) ? json_null() : json_real(usd)));
	}
	return o;
}

json_t *cost_models_json(const struct config *cfg, const struct chat_usage *u)
{
	return models_json(cfg, u, NULL);
}

void cost_manifest(json_t *manifest, const struct config *cfg,
		   const struct chat_usage *u)
{
	double usd = cost_usd(cfg, u);

	json_object_set_new(manifest, "usage_by_model",
			    cost_models_json(cfg, u));
	json_object_set_new(manifest, "cost_usd",
			    isnan(usd) ? json_null() : json_real(usd));
}

void cost_print(FILE *f, const struct config *cfg, const struct chat_usage *u,
		const bool *used)
{
	json_t *rows = models_json(cfg, u, used), *row;
	const char *model, *sep = "";
	double usd = cost_usd(cfg, u);

	fprintf(f, "caigen: tokens by model:");
	json_object_foreach(rows, model, row) {
		json_t *c = json_object_get(row, "cost_usd");

		fprintf(f, "%s '%s' %lld in, %lld out", sep, model,
			(long long)json_integer_value(json_object_get(row,
				"prompt_tokens")),
			(long long)json_integer_value(json_object_get(row,
				"completion_tokens")));
		if (cfg->nprices && json_is_number(c))
			fprintf(f, " ($%.4f)", json_number_value(c));
		sep = ";";
	}
	if (!cfg->nprices)
		fprintf(f, "; cost: no 'prices' in the config");
	else if (isnan(usd))
		fprintf(f, "; cost unknown: a model has no row in 'prices'");
	else
		fprintf(f, "; cost $%.4f", usd);
	fputc('\n', f);
	json_decref(rows);
}
