/* ranking.c - k answers or a panel of judges: pairs, labels, ranking,
 * the caigen.preference/2 records. */
#include "ranking.h"
#include "buf.h"
#include "guard.h"
#include "rng.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REC_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(8))

_Static_assert(ROLE_JUDGE + RANKING_MEMBERS_MAX == ROLE_COUNT,
	       "a role per panel member");

const struct endpoint *ranking_role_endpoint(const struct config *cfg,
					     int role)
{
	size_t m = role > ROLE_JUDGE ? (size_t)(role - ROLE_JUDGE) : 0;

	if (role == ROLE_POLICY)
		return &cfg->policy;
	if (m && m <= cfg->nmembers && cfg->member_views)
		return &cfg->member_views[m - 1]->judge;
	return &cfg->judge;
}

long ranking_requests(const struct ranking_panel *panel, int d)
{
	long total = 0;

	for (int m = 0; m < panel->n; m++) {
		const struct config *c = panel->cfg[m];
		int pairs = rank_npairs(c->pairs_mode, c->pairs_m, d);
		int orders = c->both_orders ? 2 : 1;
		int per = (c->cot ? 1 : 0) +
			  (c->judge.api == API_ANTHROPIC && c->votes > 0 ?
			   c->votes : 1);

		total += (long)pairs * orders * per;
	}
	return total;
}

/* A reply as TRL wants it: a string, or a one-message assistant list. */
static json_t *turn(const struct prompt *pr, const char *text)
{
	if (pr->text)
		return json_string(text);
	return json_pack("[{s:s,s:s}]", "role", "assistant", "content", text);
}

/* The judgments of a label as /1 writes them. */
static json_t *judgments(const struct config *cfg,
			 const struct pair_label *lb)
{
	char *s = judgecall_judgments(cfg, lb);
	json_t *j = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;

	free(s);
	return j ? j : json_array();
}

static json_t *principle(const struct principle *p)
{
	json_t *tags = json_array();

	for (size_t t = 0; t < p->ntags; t++)
		json_array_append_new(tags, json_string(p->tags[t]));
	return json_pack("{s:s,s:s,s:o}", "id", p->id, "constitution",
			 p->source, "tags", tags);
}

static json_t *seed_json(unsigned long long seed)
{
	char num[24];

	if (seed <= (unsigned long long)LLONG_MAX)
		return json_integer((json_int_t)seed);
	snprintf(num, sizeof(num), "%llu", seed);
	return json_string(num);
}

/* Combined label of pair q, P(first better), and the comparisons
 * entry. */
static json_t *comparison(struct ranking_job *rj, int q, double *p)
{
	int n = rj->panel->n;
	const struct pair_label *lb0 = &rj->jobs[q * n].out;
	json_t *o = json_pack("{s:[ii]}", "pair", rj->keep[rj->pair[q][0]],
			      rj->keep[rj->pair[q][1]]);
	double ps[RANKING_MEMBERS_MAX];

	if (n == 1) {
		*p = lb0->p;
		json_object_set_new(o, "p", json_real(lb0->p));
		json_object_set_new(o, "judgments", judgments(rj->cfg, lb0));
		return o;
	}
	json_t *members = json_array();

	for (int m = 0; m < n; m++) {
		const struct pair_label *lb = &rj->jobs[q * n + m].out;

		ps[m] = lb->p;
		json_array_append_new(members, json_pack(
			"{s:i,s:s,s:f,s:f,s:o}", "member", m, "model",
			rj->panel->cfg[m]->judge.model, "p", lb->p, "p_raw",
			lb->p_raw, "judgments",
			judgments(rj->panel->cfg[m], lb)));
	}
	*p = rank_panel(rj->cfg->panel, n, ps);
	json_object_set_new(o, "p", json_real(*p));
	json_object_set_new(o, "panel", members);
	return o;
}

/* Every record line of the prompt, from the judged pairs. */
static char *records(struct ranking_job *rj)
{
	const struct config *cfg = rj->cfg;
	double p[RANK_MAX_PAIRS], score[RANK_MAX];
	int order[RANK_MAX], out[RANK_MAX_PAIRS][2], nrec;
	json_t *comps = json_array(), *ranking = json_array();
	json_t *dups = json_array(), *resp = json_array();
	json_t *fin = json_array(), *models, *base;
	struct buf b;
	bool ok = true;

	for (int q = 0; q < rj->np; q++)
		json_array_append_new(comps, comparison(rj, q, &p[q]));
	rank_fit(rj->nd, rj->np, (const int (*)[2])rj->pair, p, score);
	rank_order(rj->nd, score, cfg->seed, rj->pr->id, order);
	for (int r = 0; r < rj->nd; r++)
		json_array_append_new(ranking, json_pack("{s:i,s:f}", "index",
			rj->keep[order[r]], "score", score[order[r]]));
	for (int i = 0; i < rj->k; i++) {
		json_array_append_new(resp, json_string(rj->resp[i]));
		json_array_append_new(fin, rj->finish && rj->finish[i] ?
				      json_string(rj->finish[i]) :
				      json_null());
		if (rj->same_as[i] != i)
			json_array_append_new(dups, json_pack("{s:i,s:i}",
				"index", i, "same_as", rj->same_as[i]));
	}
	models = json_pack("{s:s,s:s}", "policy", cfg->policy.model, "judge",
			   cfg->judge.model);
	if (rj->panel->n > 1) {
		json_t *names = json_array();

		for (int m = 0; m < rj->panel->n; m++)
			json_array_append_new(names, json_string(
				rj->panel->cfg[m]->judge.model));
		json_object_set_new(models, "panel", names);
	}
	{
		const struct pair_label *lb0 = &rj->jobs[0].out;

		base = json_pack("{s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:{s:I,s:I},"
				 "s:o}",
			"clamp", lb0->clamped ? json_pack("[ff]", lb0->lo,
							  lb0->hi) :
			json_null(),
			"duplicates", dups, "ranking", ranking, "binarize",
			json_string(cfg->binarize == BIN_ALL_PAIRS ?
				    "all-pairs" : cfg->binarize ==
				    BIN_BEST_RANDOM ? "best-random" :
				    "best-worst"),
			"principle", principle(lb0->pr),
			"comparisons", comps, "models", models,
			"seed", seed_json(cfg->seed),
			"usage", "prompt_tokens",
			(json_int_t)rj->usage.prompt_tokens,
			"completion_tokens",
			(json_int_t)rj->usage.completion_tokens,
			"responses", resp);
	}
	nrec = rank_binarize(cfg->binarize, rj->nd, order, cfg->seed,
			     rj->pr->id, out);
	buf_init(&b, 1u << 30);
	for (int r = 0; r < nrec && ok; r++) {
		int ci = rj->keep[out[r][0]], ri = rj->keep[out[r][1]];
		double pc = rank_prob(score[out[r][0]], score[out[r][1]]);
		json_t *o = json_object();
		char *s;

		json_object_set_new(o, "schema",
				    json_string("caigen.preference/2"));
		json_object_set_new(o, "id", json_string(rj->pr->id));
		json_object_set_new(o, "index",
				    json_integer((json_int_t)rj->pr->index));
		json_object_set_new(o, "prompt", rj->pr->text ?
				    json_string(rj->pr->text) :
				    json_incref(rj->pr->messages));
		json_object_set_new(o, "chosen", turn(rj->pr, rj->resp[ci]));
		json_object_set_new(o, "rejected",
				    turn(rj->pr, rj->resp[ri]));
		json_object_set_new(o, "margin", json_real(fabs(pc - 0.5)));
		json_object_set(o, "responses",
				json_object_get(base, "responses"));
		json_object_set_new(o, "finish_reasons", json_incref(fin));
		json_object_set_new(o, "chosen_index", json_integer(ci));
		json_object_set_new(o, "rejected_index", json_integer(ri));
		json_object_set_new(o, "p", json_real(pc));
		json_object_set(o, "clamp", json_object_get(base, "clamp"));
		json_object_set(o, "duplicates",
				json_object_get(base, "duplicates"));
		json_object_set(o, "ranking", json_object_get(base, "ranking"));
		json_object_set(o, "binarize",
				json_object_get(base, "binarize"));
		if (nrec > 1) {
			json_object_set_new(o, "part", json_integer(r));
			json_object_set_new(o, "parts", json_integer(nrec));
		}
		json_object_set(o, "principle",
				json_object_get(base, "principle"));
		json_object_set(o, "comparisons",
				json_object_get(base, "comparisons"));
		json_object_set(o, "models", json_object_get(base, "models"));
		json_object_set(o, "usage", json_object_get(base, "usage"));
		json_object_set(o, "seed", json_object_get(base, "seed"));
		s = json_dumps(o, REC_FLAGS);
		json_decref(o);
		ok = s && (!r || buf_add(&b, "\n", 1) == 0) &&
		     buf_addstr(&b, s) == 0;
		free(s);
	}
	json_decref(fin);
	json_decref(base);
	if (!ok || !b.len) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static void pair_done(struct pair_job *pj)
{
	struct ranking_job *rj = pj->owner;

	if (pj->rc < 0 && rj->rc == 0) {
		rj->rc = -1;
		rj->err = pj->err;
	}
	if (pj->rc == 0)
		chat_usage_add(&rj->usage, &pj->out.usage);
	judgecall_release(pj);
	if (--rj->pending > 0)
		return;
	if (rj->rc == 0) {
		rj->line = records(rj);
		if (!rj->line) {
			rj->rc = -1;
			err_set(&rj->err, "the record cannot be written (a "
				"value is not finite, or it is over 1 GiB)");
		}
	}
	rj->finished(rj);
}

void ranking_start(struct ranking_job *rj, struct exec *x,
		   const struct config *cfg, const struct constitution *con,
		   const struct ranking_panel *panel, const struct prompt *pr,
		   const char *const *resp, const char *const *finish, int k,
		   const struct chat_usage *base,
		   void (*finished)(struct ranking_job *), void *owner)
{
	int n = panel->n, total;

	memset(rj, 0, sizeof(*rj));
	if (base)
		rj->usage = *base;
	rj->cfg = cfg;
	rj->con = con;
	rj->panel = panel;
	rj->x = x;
	rj->pr = pr;
	rj->resp = resp;
	rj->finish = finish;
	rj->k = k;
	rj->finished = finished;
	rj->owner = owner;
	for (int i = 0; i < k; i++) {
		rj->same_as[i] = i;
		for (int d = 0; d < rj->nd; d++)
			if (guard_same_text(resp[rj->keep[d]], resp[i])) {
				rj->same_as[i] = rj->keep[d];
				break;
			}
		if (rj->same_as[i] == i)
			rj->keep[rj->nd++] = i;
	}
	if (rj->nd < 2) {	/* all the same, kept by policy.identical */
		rj->nd = 2;
		rj->keep[1] = 1;
		rj->same_as[1] = 1;
	}
	rj->np = rank_pairs(cfg->pairs_mode, cfg->pairs_m, rj->nd, cfg->seed,
			    pr->id, rj->pair);
	total = rj->np * n;
	rj->njobs = total;
	rj->pending = total;
	rj->jobs = xcalloc((size_t)total, sizeof(*rj->jobs));
	/* each start may end the machine: nothing touches rj after the
	 * last one */
	for (int j = 0; j < total; j++) {
		int q = j / n, m = j % n;
		const struct config *mc = panel->cfg[m];

		judgecall_start_at(&rj->jobs[j], x, ROLE_JUDGE + m,
				   (unsigned)q, mc->judge.api, mc, con,
				   panel->sh[m], pr->id, pr->messages,
				   resp[rj->keep[rj->pair[q][0]]],
				   resp[rj->keep[rj->pair[q][1]]], pair_done,
				   rj);
	}
}

void ranking_release(struct ranking_job *rj)
{
	for (int j = 0; rj->jobs && j < rj->njobs; j++)
		if (rj->jobs[j].rc == 0)
			pair_label_release(&rj->jobs[j].out);
	free(rj->jobs);
	rj->jobs = NULL;
	free(rj->line);
	rj->line = NULL;
}
