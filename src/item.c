/* item.c - the per-prompt machine: sample or critique, then judge. */
#include "item.h"
#include "promptgen.h"

#include <stdlib.h>
#include <string.h>

bool item_env_stopping(const struct item_env *env)
{
	return (env->stop && __atomic_load_n(env->stop, __ATOMIC_RELAXED)) ||
	       atomic_load(env->fatal) || atomic_load(&env->refused) ||
	       atomic_load(&env->capped);
}

void item_free(struct item *it)
{
	if (!it)
		return;
	if (it->kind == ITEM_PROMPT)
		prompt_release(&it->pr);
	else
		reject_release(&it->rj);
	for (int k = 0; k < RANK_MAX; k++) {
		free(it->responses[k]);
		free(it->finish[k]);
	}
	free(it->error);
	free(it->line);
	free(it->line2);
	free(it->extra);
	free(it);
}

/* Replace every occurrence of the key in s by "[redacted]": a server may
 * echo what it was sent in an error message. */
static char *redact(char *s, const char *key)
{
	char *hit;

	if (!s || !key || !*key)
		return s;
	while ((hit = strstr(s, key))) {
		char *t = xasprintf("%.*s[redacted]%s", (int)(hit - s), s,
				    hit + strlen(key));

		free(s);
		s = t;
	}
	return s;
}


/* The machine is over: hand the item on. Nothing may touch it after. */
static void finish(struct item *it)
{
	it->env->done(it->env, it);
}

static void fail(struct item *it, const char *stage, const char *msg)
{
	const struct config *cfg = it->env->cfg;

	if (item_env_stopping(it->env) || it->env->parking) {
		it->status = ST_INTERRUPTED;
	} else {
		it->status = ST_FAILED;
		it->fail_stage = stage;
		free(it->error);
		it->error = redact(redact(xstrdup(msg), cfg->policy.api_key),
				   cfg->judge.api_key);
	}
	finish(it);
}

void item_interrupt(struct item *it)
{
	it->status = ST_INTERRUPTED;
}

/* ---- judge ----------------------------------------------------------- */

/* The letter-mass guard (guard.h): count this pair's judgments by
 * logprobs and the low ones; the call that crosses the threshold warns. */
static void letter_mass(struct item_env *env, const struct pair_label *lb)
{
	double min = env->cfg->min_letter_mass;
	int n = 0, low = 0;

	if (!env->counts)
		return;
	for (int i = 0; i < lb->nj; i++) {
		if (!lb->j[i].method || strcmp(lb->j[i].method, "logprobs"))
			continue;
		n++;
		low += guard_low_mass(lb->j[i].method, lb->j[i].other_mass,
				      min);
	}
	if (guard_counts_mass(env->counts, n, low))
		guard_mass_warn(stderr, env->counts, min);
}

static void judged(struct pair_job *pj)
{
	struct item *it = pj->owner;
	struct item_env *env = it->env;

	if (pj->rc < 0) {
		struct err e = pj->err;

		judgecall_release(pj);
		fail(it, "judge", e.msg);
		return;
	}
	chat_usage_add(&it->usage, &pj->out.usage);
	letter_mass(env, &pj->out);
	*(env->two ? &it->line2 : &it->line) = judgecall_record(env->cfg,
		&it->pr, it->responses[0], it->responses[1],
		(const char *const *)it->finish, &pj->out, &it->usage);
	pair_label_release(&pj->out);
	judgecall_release(pj);
	if (!(env->two ? it->line2 : it->line)) {
		fail(it, "judge", "the record cannot be written (a value "
		     "is not finite, or it is over 256 MiB)");
		return;
	}
	if (it->extra && it->line) {	/* feed: "{...}" -> "{...,extra}" */
		char *s = xasprintf("%.*s,%s}", (int)strlen(it->line) - 1,
				    it->line, it->extra);

		free(it->line);
		it->line = s;
	}
	finish(it);
}

/* ---- rank: more answers than two, or a panel -------------------------- */

/* Do this run's prompts go through the ranking machine? */
static bool ranked(const struct config *cfg)
{
	return (cfg->responses > 2 && cfg->mode == MODE_PREFERENCES) ||
	       cfg->nmembers > 0;
}

static void rank_done(struct ranking_job *rj)
{
	struct item *it = rj->owner;
	struct item_env *env = it->env;
	char **line = env->two ? &it->line2 : &it->line;

	if (rj->rc < 0) {
		struct err e = rj->err;

		ranking_release(rj);
		fail(it, "judge", e.msg);
		return;
	}
	it->usage = rj->usage;	/* it started from it->usage */
	for (int j = 0; j < rj->njobs; j++)
		letter_mass(env, &rj->jobs[j].out);
	*line = rj->line;
	rj->line = NULL;
	ranking_release(rj);
	if (it->extra && it->line) {	/* feed: members appended */
		char *s = xasprintf("%.*s,%s}", (int)strlen(it->line) - 1,
				    it->line, it->extra);

		free(it->line);
		it->line = s;
	}
	finish(it);
}

static void rank(struct item *it)
{
	struct item_env *env = it->env;
	const struct config *cfg = env->cfg;
	struct ranking_panel *p = &it->panel;
	int k = 0;

	p->n = 1 + (int)cfg->nmembers;
	p->cfg[0] = cfg;
	p->sh[0] = &env->judge;
	for (int m = 1; m < p->n; m++) {
		p->cfg[m] = cfg->member_views[m - 1];
		p->sh[m] = &env->members[m - 1];
	}
	while (k < RANK_MAX && it->responses[k])
		k++;
	ranking_start(&it->job.rank, it->x, cfg, env->con, p, &it->pr,
		      (const char *const *)it->responses,
		      (const char *const *)it->finish, k, &it->usage, rank_done,
		      it);
}

static void judge(struct item *it)
{
	struct item_env *env = it->env;

	if (item_env_stopping(env)) {
		it->status = ST_INTERRUPTED;
		finish(it);
		return;
	}
	if (ranked(env->cfg)) {
		rank(it);
		return;
	}
	judgecall_start(&it->job.judge, it->x, env->cfg->judge.api, env->cfg,
			env->con, &env->judge, it->pr.id, it->pr.messages,
			it->responses[0], it->responses[1], judged, it);
}

/* ---- sample ---------------------------------------------------------- */

static void sampled(struct sample_job *sj)
{
	struct item *it = sj->owner;

	if (sj->rc < 0) {
		struct err e = sj->err;

		sample_job_release(sj);
		fail(it, "sample", e.msg);
		return;
	}
	for (int k = 0; k < sj->k; k++) {
		it->responses[k] = sj->text[k];
		it->finish[k] = sj->finish[k];
		sj->text[k] = sj->finish[k] = NULL;
	}
	chat_usage_add(&it->usage, &sj->usage);
	sample_job_release(sj);
	judge(it);
}

/* ---- critique -------------------------------------------------------- */

/* The critique chain; in mode both, its initial answer and final
 * revision become the pair the judge labels. */
static void critiqued(struct critique_job *cj)
{
	struct item *it = cj->owner;
	struct item_env *env = it->env;
	struct critique_chain *ch = &cj->out;
	struct guard_counts *g = env->counts;

	if (g) {
		atomic_fetch_add(&g->truncated_retries, ch->cut_retries);
		atomic_fetch_add(&g->truncated_kept, ch->cut_kept);
		if (cj->rc < 0)
			atomic_fetch_add(&g->truncated_failed,
					 ch->cut_failed);
	}
	if (cj->rc < 0) {
		struct err e = cj->err;

		critique_job_release(cj);
		fail(it, "critique", e.msg);
		return;
	}
	chat_usage_add(&it->usage, &ch->usage);
	it->line = critique_record(env->cfg, &it->pr, ch);
	if (env->two) {
		const char *f0 = critique_finish(ch, 0);
		const char *f1 = critique_finish(ch, 2 * ch->nrounds);

		it->responses[0] = xstrdup(ch->initial);
		it->responses[1] = xstrdup(ch->rounds[ch->nrounds - 1].revision);
		it->finish[0] = f0 ? xstrdup(f0) : NULL;
		it->finish[1] = f1 ? xstrdup(f1) : NULL;
	}
	critique_chain_release(ch);
	critique_job_release(cj);
	if (env->two)
		judge(it);
	else
		finish(it);
}

void item_start(struct item *it, struct item_env *env, struct exec *x)
{
	it->env = env;
	it->x = x;
	if (item_env_stopping(env)) {
		it->status = ST_INTERRUPTED;
		finish(it);
	} else if (promptgen_active()) {
		promptgen_start(it, env, x);	/* caigen prompts generate,
						 * persuade */
	} else if (it->responses[0] && it->responses[1]) {
		judge(it);	/* the pair came with its replies */
	} else if (env->cfg->mode == MODE_PREFERENCES) {
		sample_start(&it->job.sample, x, env->cfg, &it->pr,
			     &env->sample, sampled, it);
	} else {
		critique_start(&it->job.critique, x, env->cfg, env->con,
			       &it->pr, critiqued, it);
	}
}

/* ---- lines ------------------------------------------------------------ */

char *item_reject_line(const struct reject *rj)
{
	json_t *o = json_pack("{s:s,s:I,s:I,s:s}",
		"schema", "caigen.reject/1",
		"line", (json_int_t)rj->line,
		"index", (json_int_t)(rj->line - 1),
		"reason", rj->reason);
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}

char *item_failure_line(const struct item *it)
{
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:s}",
		"schema", "caigen.failure/1",
		"id", it->pr.id,
		"index", (json_int_t)it->pr.index,
		"stage", it->fail_stage ? it->fail_stage : "?",
		"reason", it->error ? it->error : "unknown");
	char *s = json_dumps(o, JSON_COMPACT);

	json_decref(o);
	return s;
}
