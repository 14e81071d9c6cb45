/* runrules.c - the rules across a run's keys (see runrules.h). */
#include "runrules.h"
#include "ranking.h"

#include <stdio.h>

bool runrules_used(const struct config *cfg, bool feed, int r)
{
	if (r == ROLE_POLICY)
		return !feed;
	if (cfg->mode == MODE_CRITIQUES)
		return false;
	return r == ROLE_JUDGE || (size_t)(r - ROLE_JUDGE) <= cfg->nmembers;
}

bool runrules_batch(const struct config *cfg, bool export, int r)
{
	return export || ranking_role_endpoint(cfg, r)->executor == EXEC_BATCH;
}

/* "policy", "judge" or "judge[i]" (a member). */
static const char *role_name(int r, char buf[24])
{
	if (r <= ROLE_JUDGE)
		return r == ROLE_POLICY ? "policy" : "judge";
	snprintf(buf, 24, "judge[%d]", r - ROLE_JUDGE);
	return buf;
}

int runrules_rates(const struct config *cfg, int r, double *in,
		   double *out, struct err *err)
{
	const struct endpoint *ep = ranking_role_endpoint(cfg, r);
	char buf[24];

	if (config_rates(cfg, ep, in, out))
		return 0;
	return err_set(err, "max_cost %.2f cannot be checked: model '%s' "
		       "(%s) has no row in 'prices' (add its USD per million "
		       "tokens, input and output)", cfg->max_cost, ep->model,
		       role_name(r, buf));
}

int runrules_check(const struct config *cfg, bool feed, bool export,
		   struct err *err)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		const struct endpoint *ep = ranking_role_endpoint(cfg, r);
		char buf[24];
		const char *name = role_name(r, buf);
		double in, out;

		if (!runrules_used(cfg, feed, r))
			continue;
		if (runrules_batch(cfg, export, r) &&
		    ep->api == API_COMPLETIONS)
			return err_set(err, "%s.api: completions has no batch "
				       "file format (%s takes api: chat%s)",
				       name, export ? "batch export" :
				       "executor: batch", export ? "" :
				       " or anthropic");
		if (export && ep->api == API_ANTHROPIC)
			return err_set(err, "%s.api: anthropic: batch export "
				       "writes the OpenAI batch format (vllm "
				       "run-batch), which Anthropic requests "
				       "do not fit; use executor: batch to send "
				       "Message Batches to Anthropic, or api: "
				       "chat for an OpenAI-compatible server",
				       name);
		if (cfg->max_cost > 0 &&
		    runrules_rates(cfg, r, &in, &out, err) < 0)
			return -1;
	}
	return 0;
}
