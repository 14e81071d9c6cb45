/* cost.c - token totals per model and their price (see cost.h). */
#include "cost.h"

#include <math.h>
#include <string.h>

static const char *role_model(const struct config *cfg, int r)
{
	return r == COST_JUDGE ? cfg->judge.model : cfg->policy.model;
}

/* The judge's row is the policy's when both name the same model. */
static bool same_model(const struct config *cfg)
{
	return !strcmp(cfg->policy.model, cfg->judge.model);
}

static double model_cost(const struct config *cfg, const char *model,
			 long long in, long long out)
{
	const struct price *p = config_price(cfg, model);

	if (!in && !out)
		return 0;
	if (!p)
		return NAN;
	return ((double)in * p->input + (double)out * p->output) / 1e6;
}

double cost_usd(const struct config *cfg, const struct chat_usage *u)
{
	double usd = 0;

	for (int r = 0; r < COST_ROLES; r++)
		usd += model_cost(cfg, role_model(cfg, r),
				  u[r].prompt_tokens, u[r].completion_tokens);
	return usd;
}

json_t *cost_models_json(const struct config *cfg, const struct chat_usage *u)
{
	json_t *o = json_object();
	int nrows = same_model(cfg) ? 1 : COST_ROLES;

	for (int r = 0; r < nrows; r++) {
		long long in = u[r].prompt_tokens, out = u[r].completion_tokens;
		double usd;

		if (nrows == 1) {
			in += u[COST_JUDGE].prompt_tokens;
			out += u[COST_JUDGE].completion_tokens;
		}
		usd = model_cost(cfg, role_model(cfg, r), in, out);
		json_object_set_new(o, role_model(cfg, r), json_pack(
			"{s:I,s:I,s:o}", "prompt_tokens", (json_int_t)in,
			"completion_tokens", (json_int_t)out, "cost_usd",
			isnan(usd) ? json_null() : json_real(usd)));
	}
	return o;
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

void cost_print(FILE *f, const struct config *cfg, const struct chat_usage *u)
{
	json_t *rows = cost_models_json(cfg, u), *row;
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
