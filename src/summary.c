/* summary.c - the end-of-run summary (see summary.h). */
#include "summary.h"
#include "cost.h"
#include "guard.h"
#include "ranking.h"
#include "reason.h"
#include "runrules.h"

#include <string.h>

/* "policy", "judge" or "judge[m]" */
static const char *role_name(int r, char buf[16])
{
	if (r <= ROLE_JUDGE)
		return r == ROLE_POLICY ? "policy" : "judge";
	snprintf(buf, 16, "judge[%d]", r - ROLE_JUDGE);
	return buf;
}

static void tokens(FILE *f, const struct run_opts *o,
		   const struct run_counts *c, const bool *used)
{
	const char *sep = "";
	char buf[16];

	fprintf(f, "caigen: tokens by role:");
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (!used[r])
			continue;
		fprintf(f, "%s %s %lld in, %lld out", sep, role_name(r, buf),
			c->usage_role[r].prompt_tokens,
			c->usage_role[r].completion_tokens);
		if (r > ROLE_JUDGE)
			fprintf(f, " ('%s')",
				ranking_role_endpoint(o->cfg, r)->model);
		sep = ";";
	}
	fputc('\n', f);
	cost_print(f, o->cfg, c->usage_role, used);
}

static void failures(FILE *f, const struct run_opts *o,
		     const struct run_counts *c)
{
	for (int k = 0; k < REASON_COUNT; k++) {
		if (!c->failed_by[k])
			continue;
		fprintf(f, "caigen: failed %zu: %s: %s\n", c->failed_by[k],
			reason_label(k), reason_fix(k));
	}
	if (c->failed)
		fprintf(f, "caigen: each failure's reason is in "
			"'%s/failures%s.jsonl'; a rerun into the same --out "
			"tries the failed %s again\n", o->cfg->out,
			o->suffix ? o->suffix : "", o->feed ? "pairs" :
			"prompts");
}

static void requests(FILE *f, const struct run_opts *o,
		     const struct run_counts *c, const bool *used)
{
	char buf[16];

	for (int r = 0; r < ROLE_COUNT; r++) {
		const struct http_stats *h = &c->http_role[r];
		uint64_t tot = 0;

		if (!used[r])
			continue;
		for (int k = 0; k < RETRY_CAUSES; k++)
			tot += h->retries[k];
		fprintf(f, "caigen: %s: %llu requests, %llu retries",
			role_name(r, buf), (unsigned long long)h->requests,
			(unsigned long long)tot);
		for (int k = 0; k < RETRY_CAUSES; k++)
			if (h->retries[k])
				fprintf(f, " %s=%llu", retry_cause_name(k),
					(unsigned long long)h->retries[k]);
		if (r > ROLE_JUDGE)
			fprintf(f, " ('%s')",
				ranking_role_endpoint(o->cfg, r)->model);
		fputc('\n', f);
	}
}

void summary_print(FILE *f, const struct run_opts *o,
		   const struct run_counts *c)
{
	const char *names[2] = { "policy", "judge" };
	bool used[ROLE_COUNT];
	long long in = 0, out = 0;

	for (int r = 0; r < ROLE_COUNT; r++) {
		used[r] = runrules_used(o->cfg, o->feed != NULL, r);
		in += c->usage_role[r].prompt_tokens;
		out += c->usage_role[r].completion_tokens;
	}
	fprintf(f, "caigen: %zu lines read: %zu written, %zu already done, "
		"%zu failed, %zu rejected (+%zu recorded before), %zu blank, "
		"%zu left for the next run\n",
		c->lines, c->written, c->skipped_done, c->failed, c->rejected,
		c->rejected_before, c->blank, c->interrupted);
	fprintf(f, "caigen: %zu records in total in '%s'; %.1f s, %.1f "
		"%s/s; tokens: %lld in, %lld out (every reply received, "
		"failed %s' too)\n", c->records_total, o->cfg->out, c->seconds,
		c->seconds > 0 ? (double)c->written / c->seconds : 0.0,
		o->feed ? "pairs" : "prompts", in, out,
		o->feed ? "pairs" : "prompts");
	tokens(f, o, c, used);
	failures(f, o, c);
	guard_counts_print(f, (struct guard_counts *)&c->guards);
	requests(f, o, c, used);
	if (o->shard.n > 1)
		fprintf(f, "caigen: shard %u/%u: %zu lines left to the other "
			"shards\n", o->shard.k, o->shard.n, c->other_shard);
	for (int r = 0; r < 2; r++)
		for (size_t i = 0; used[r] && c->nendpoints[r] > 1 &&
		     i < c->nendpoints[r]; i++)
			fprintf(f, "caigen: %s server %s: %llu requests, %llu "
				"failed, %llu cool-downs\n", names[r],
				c->endpoints[r][i].url,
				(unsigned long long)c->endpoints[r][i].requests,
				(unsigned long long)c->endpoints[r][i].failures,
				(unsigned long long)
				c->endpoints[r][i].cooldowns);
}
