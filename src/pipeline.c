/*
 * pipeline.c - reader, sampler and judge pools, ordered writer.
 *
 * DESIGN
 * Every random choice of an item (principle, slot order, per-request
 * seeds, fence tags) is drawn from rng keyed by (run seed, prompt id,
 * purpose, index), so results do not depend on which thread took which
 * item or when. The writer restores input order, so against a
 * deterministic server the output bytes do not depend on --jobs either.
 *
 * The work of a prompt is its item machine (item.h), driven by an
 * executor: the live one's event loops (live.h), or the batch one's
 * waves (batch.h) when an endpoint says `executor: batch`; this file only
 * wires the reader, the executor and the writer:
 *
 *   reader ─► window ─► executor (item machines) ─► [q_write] ─► writer
 *      └──────────── rejects ─────────────────────────────► [q_write]
 *
 * Shutdown: the reader closes the executor when the input ends (or a
 * stop is requested); each loop ends when its items are done, the last
 * one closes q_write, and the writer drains it. On a stop request, items
 * that have not started are marked interrupted and are not written, so
 * the next run does them; requests already on the wire are let finish.
 */
#include "pipeline.h"
#include "batch.h"
#include "batchopen.h"
#include "cost.h"
#include "guard.h"
#include "idset.h"
#include "item.h"
#include "keep.h"
#include "live.h"
#include "progress.h"
#include "prompts.h"
#include "queue.h"
#include "ranking.h"
#include "ratelimit.h"
#include "rng.h"
#include "runrules.h"
#include "writer.h"

#include <curl/curl.h>
#include <sys/stat.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FLUSH_EVERY 1.0	/* seconds between fsyncs */
#define WRITER_LINGER 0.001	/* seconds the writer lets results gather */
#define READ_AHEAD_MIN 64	/* calls waiting for a place before the
				 * reader waits, and a sixteenth of the
				 * places */
#define READ_AHEAD_POLL (2 * 1000 * 1000)	/* ns between looks then */

struct pipeline {
	const struct run_opts *o;
	const struct config *cfg;
	struct queue *q_write;
	struct writer w;
	struct idset done, rejected;
	struct idset done2;	/* mode both: ids in preferences.jsonl */
	bool two;		/* mode both: two records per prompt */
	struct item_env env;	/* what every item machine shares */
	struct live *live;	/* the executors: live (its roles' calls), */
	struct batch *batch;	/* batch (drives the machines when a role
				 * is batch, handing live roles' calls to
				 * live: batch.h) */
	bool batch_mode;
	bool live_role[ROLE_COUNT];	/* used roles that go out live */
	bool any_live;
	struct keep *keep;	/* the journal of policy answers (keep.h) */
	struct prompts *in;

	/* the in-flight window */
	pthread_mutex_t lock;
	pthread_cond_t slot_free;
	size_t inflight, window;

	atomic_int loops_left;
	atomic_int fatal;	/* writer failed: stop everything */

	struct run_counts *c;
	struct err fatal_err;
	struct progress prog;
	struct ratelimit_stats rl[ROLE_COUNT];	/* after the join */
	struct budget budget;	/* max_cost */
	struct endpoint_pool *pool[ROLE_COUNT];	/* policy, judge, panel
						 * members: their servers */
};

static bool stopping(const struct pipeline *pl)
{
	return item_env_stopping(&pl->env);
}

/* The limiter's counters for the manifest. */
static json_t *limiter_json(const struct ratelimit_stats *s)
{
	return json_pack("{s:I,s:f,s:I,s:i,s:i}",
			 "waits", (json_int_t)s->waits,
			 "wait_seconds", s->wait_seconds,
			 "concurrency_cuts", (json_int_t)s->decreases,
			 "concurrency_min", s->min_cap,
			 "concurrency_end", s->cap);
}


/* Items whose machines are over (on a loop's thread): to the writer. */
static void deliver(void *owner, struct item **items, size_t n)
{
	struct pipeline *pl = owner;
	size_t k = queue_push_many(pl->q_write, (void *const *)items, n);

	while (k < n)	/* cannot happen: closed after the loops */
		item_free(items[k++]);
}

/* ---- the in-flight window ------------------------------------------- */

/* The window for now: with limiters moving the places in flight
 * (concurrency: auto), twice their places and a little, within the
 * window sized for their ceilings, so items are not read far ahead of
 * what the servers take. */
static size_t window_now(const struct pipeline *pl)
{
	size_t w;

	if (!pl->live)
		return pl->window;
	w = 2 * (size_t)live_places(pl->live) + 16;
	return w < pl->window ? w : pl->window;
}

/* Are so many calls waiting for a place that one more item would only
 * wait too? An item read early holds its memory and no place: at a fixed
 * --jobs 5000 a quarter of the window was items whose first call waited
 * behind thousands of others. The loops take calls from their queues far
 * faster than the reader looks again (READ_AHEAD_POLL), so a few dozen
 * plus a sixteenth of the places keep every place busy. */
static bool read_ahead_full(const struct pipeline *pl)
{
	if (!pl->live || pl->batch)
		return false;
	return live_waiting(pl->live) >
	       READ_AHEAD_MIN + live_places(pl->live) / 16;
}

/* Wait for a free slot; false if the run is stopping. */
static bool window_take(struct pipeline *pl)
{
	bool ok;

	pthread_mutex_lock(&pl->lock);
	for (;;) {
		bool full = pl->inflight >= window_now(pl);
		bool ahead = !full && read_ahead_full(pl);
		struct timespec ts;

		if ((!full && !ahead) || stopping(pl))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		/* the slot is given back by the writer (a signal); calls
		 * leave their queues unseen: look again soon */
		ts.tv_nsec += ahead ? READ_AHEAD_POLL : 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&pl->slot_free, &pl->lock, &ts);
	}
	ok = !stopping(pl);
	if (ok)
		pl->inflight++;
	pthread_mutex_unlock(&pl->lock);
	return ok;
}

static void window_give(struct pipeline *pl, size_t n)
{
	pthread_mutex_lock(&pl->lock);
	pl->inflight -= n;
	pthread_cond_signal(&pl->slot_free);
	pthread_mutex_unlock(&pl->lock);
}

/* ---- reader --------------------------------------------------------- */

struct reader {
	pthread_t tid;
	struct pipeline *pl;
	int rc;
	struct err err;
	size_t interrupted;	/* read, not emitted; added after join */
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct pipeline *pl = rd->pl;
	struct run_counts *c = pl->c;
	long long limit = pl->cfg->limit, taken = 0;
	uint64_t seq = 0;
	const struct pair_feed *feed = pl->o->feed;

	for (;;) {
		struct item *it;
		struct prompt pr;
		struct reject rj;
		enum prompts_status st;
		char *resp[2] = { NULL, NULL }, *extra = NULL;

		if (stopping(pl) || (limit > 0 && taken >= limit))
			break;
		st = feed ? feed->next(feed->ctx, &pr, resp, &extra, &rj,
				       &rd->err) :
			    prompts_next(pl->in, &pr, &rj, &rd->err);
		if (st == PROMPTS_EOF)
			break;
		if (st == PROMPTS_ERROR) {
			rd->rc = -1;
			break;
		}
		taken++;
		if (pl->o->shard.n > 1 && (st == PROMPTS_OK ?
		    !shard_owns(&pl->o->shard, pr.id) : pl->o->shard.k)) {
			/* another shard's prompt; bad lines are shard 0's */
			c->other_shard++;
			prompt_release(&pr);
			reject_release(&rj);
			free(resp[0]);
			free(resp[1]);
			free(extra);
			continue;
		}
		if (st == PROMPTS_REJECT &&
		    idset_has(&pl->rejected, (uint64_t)rj.line + 1)) {
			c->rejected_before++;
			reject_release(&rj);
			continue;
		}
		if (st == PROMPTS_OK &&
		    idset_has(&pl->done, idset_hash(pr.id)) &&
		    (!pl->two || idset_has(&pl->done2, idset_hash(pr.id)))) {
			c->skipped_done++;
			prompt_release(&pr);
			free(resp[0]);
			free(resp[1]);
			free(extra);
			continue;
		}
		it = xcalloc(1, sizeof(*it));
		if (st == PROMPTS_OK) {
			it->kind = ITEM_PROMPT;
			it->pr = pr;
			/* feed: the replies exist, the machine judges them */
			it->responses[0] = resp[0];
			it->responses[1] = resp[1];
			it->extra = extra;
		} else {
			it->kind = ITEM_REJECT;
			it->rj = rj;
		}
		if (!window_take(pl)) {
			item_free(it);
			/* this one was read but will not be done now (the
			 * writer owns c->interrupted until the join) */
			rd->interrupted += st == PROMPTS_OK;
			break;
		}
		it->seq = seq++;
		if (it->kind == ITEM_PROMPT) {
			if (pl->batch)
				batch_submit(pl->batch, it);
			else
				live_submit(pl->live, it);
		} else if (queue_push(pl->q_write, it) < 0) {
			item_free(it);
			window_give(pl, 1);
		}
	}
	/* the executor ends when its items are; then nothing more comes
	 * (live after batch: a mixed run's batch executor waits for the
	 * calls it handed to live) */
	if (pl->batch) {
		batch_close(pl->batch);
		batch_join(pl->batch);
	}
	if (pl->live) {
		live_close(pl->live);
		live_join(pl->live);
	}
	queue_close(pl->q_write);
	return NULL;
}

/* ---- writer --------------------------------------------------------- */

/*
 * Mode both: write the preference line to the second file unless it holds
 * the id already (a run stopped between the two files' writes leaves one
 * record; the prompt is redone and only the missing one written). Returns
 * whether the critique line must still be written.
 */
static bool emit_second(struct pipeline *pl, struct item *it)
{
	uint64_t h = idset_hash(it->pr.id);
	struct err err;

	if (it->line2 && !idset_has(&pl->done2, h) &&
	    !atomic_load(&pl->fatal) &&
	    writer_put(&pl->w, OUT_RECORDS2, it->line2, strlen(it->line2),
		       &err) < 0) {
		pl->fatal_err = err;
		atomic_store(&pl->fatal, 1);
	}
	return !idset_has(&pl->done, h);
}

static void emit(struct pipeline *pl, struct item *it)
{
	struct run_counts *c = pl->c;
	enum out_file f;
	char *line = NULL;
	struct err err;

	if (it->kind == ITEM_REJECT) {
		f = OUT_REJECTS;
		line = item_reject_line(&it->rj);
	} else if (it->status == ST_OK && it->line) {
		f = OUT_RECORDS;
		line = it->line;
		it->line = NULL;
		if (pl->two && !emit_second(pl, it)) {
			free(line);	/* written by an earlier run */
			c->written++;
			chat_usage_add(&c->usage, &it->usage);
			return;
		}
	} else if (it->status == ST_FAILED) {
		f = OUT_FAILURES;
		line = item_failure_line(it);
		/* the next run retries it: with new answers (keep.h); a
		 * journal that cannot say so fails the output below too */
		if (pl->keep && keep_forget(pl->keep, it->pr.id, &err) < 0) {
			/* nothing more to do here */
		}
	} else {
		c->interrupted++;
		return;
	}
	if (atomic_load(&pl->fatal)) {
		/* output is broken: leave the prompt for the next run */
		c->interrupted += it->kind == ITEM_PROMPT;
		free(line);
		return;
	}
	if (writer_put(&pl->w, f, line, strlen(line), &err) < 0) {
		pl->fatal_err = err;
		atomic_store(&pl->fatal, 1);
		c->interrupted += it->kind == ITEM_PROMPT;
		free(line);
		return;
	}
	free(line);
	if (f == OUT_RECORDS) {
		c->written++;
		chat_usage_add(&c->usage, &it->usage);
	} else if (f == OUT_FAILURES) {
		c->failed++;
		c->failed_by[reason_of(it->error)]++;
	} else {
		c->rejected++;
	}
}

/* Tokens of every reply so far, per role (each role goes through one
 * executor; the other's count is 0). */
static void tokens_now(struct pipeline *pl, struct chat_usage u[ROLE_COUNT])
{
	struct chat_usage v[ROLE_COUNT];

	memset(u, 0, ROLE_COUNT * sizeof(*u));
	if (pl->batch) {
		batch_tokens(pl->batch, v);
		for (int r = 0; r < ROLE_COUNT; r++)
			chat_usage_add(&u[r], &v[r]);
	}
	if (pl->live) {
		live_tokens(pl->live, v);
		for (int r = 0; r < ROLE_COUNT; r++)
			chat_usage_add(&u[r], &v[r]);
	}
}

/* The progress line, when one is due: with the tokens and cost so far. */
static void progress_now(struct pipeline *pl)
{
	struct chat_usage u[ROLE_COUNT];

	if (!progress_due(&pl->prog))
		return;
	tokens_now(pl, u);
	progress_usage(&pl->prog, pl->cfg, u);
	progress_update(&pl->prog, pl->c->written, pl->c->failed,
			pl->c->rejected, true);
}

static void writer_loop(struct pipeline *pl)
{
	struct item **ring = xcalloc(pl->window, sizeof(*ring));
	struct item **got = xcalloc(pl->window, sizeof(*got));
	uint64_t next = 0;
	double last_sync = now_sec();
	struct item *it;
	struct err err;
	size_t n;

	while ((n = queue_pop_many(pl->q_write, (void **)got, pl->window,
				   WRITER_LINGER))) {
		size_t freed = 0;

		for (size_t i = 0; i < n; i++)
			ring[got[i]->seq % pl->window] = got[i];
		while ((it = ring[next % pl->window]) && it->seq == next) {
			ring[next % pl->window] = NULL;
			emit(pl, it);
			item_free(it);
			freed++;
			next++;
		}
		if (freed)
			window_give(pl, freed);
		/* write when nothing else is waiting: small latency, big
		 * batches under load */
		if (queue_length(pl->q_write) == 0 && !atomic_load(&pl->fatal)) {
			double t = now_sec();
			int sync = t - last_sync >= FLUSH_EVERY;

			if (writer_flush(&pl->w, sync, &err) < 0) {
				pl->fatal_err = err;
				atomic_store(&pl->fatal, 1);
			}
			if (sync)
				last_sync = t;
		}
		progress_now(pl);
	}
	free(got);
	free(ring);
}

/* ---- the run -------------------------------------------------------- */

/* The servers of both roles (endpoint.h): from base_urls, else base_url. */
static int pools_open(struct pipeline *pl, struct err *err)
{
	/* feed: no policy; a panel: a pool per member (ranking.h) */
	int roles = ROLE_JUDGE + 1 + (int)pl->cfg->nmembers;

	for (int r = 0; r < roles; r++) {
		const struct endpoint *ep = ranking_role_endpoint(pl->cfg, r);
		const char *one = ep->base_url;
		struct endpoint_tuning t = { 3, ep->cooldown, 60 };

		if (!pl->live_role[r])
			continue;	/* not used, or batch */
		pl->pool[r] = ep->nbase_urls ?
			endpoint_pool_new((const char *const *)ep->base_urls,
					  ep->nbase_urls, ep->api, &t, err) :
			endpoint_pool_new(&one, 1, ep->api, &t, err);
		if (!pl->pool[r])
			return -1;
	}
	return 0;
}

/* Keep the per-server counts in the run's counts, free the pools. */
static void pools_close(struct pipeline *pl)
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (pl->pool[r] && r <= ROLE_JUDGE)
			pl->c->nendpoints[r] = endpoint_pool_counts(
				pl->pool[r], pl->c->endpoints[r],
				ENDPOINT_MAX);
		endpoint_pool_free(pl->pool[r]);
		pl->pool[r] = NULL;
	}
}

/* Manifest parts of job arrays and server pools: the shard, prompts left
 * to other shards, per-server counts. */
static void manifest_cluster(const struct pipeline *pl, json_t *o)
{
	const struct run_counts *c = pl->c;

	json_object_set_new(json_object_get(o, "counts"), "other_shard",
			    json_integer((json_int_t)c->other_shard));
	if (pl->o->shard.n > 1)
		json_object_set_new(o, "shard", json_pack("{s:i,s:i}",
			"k", (int)pl->o->shard.k, "n", (int)pl->o->shard.n));
	for (int r = 0; r < 2; r++) {
		json_t *a = json_array();

		for (size_t i = 0; i < c->nendpoints[r]; i++) {
			const struct endpoint_count *e = &c->endpoints[r][i];

			json_array_append_new(a, json_pack(
				"{s:s,s:I,s:I,s:I}", "url", e->url,
				"requests", (json_int_t)e->requests,
				"failures", (json_int_t)e->failures,
				"cooldowns", (json_int_t)e->cooldowns));
		}
		json_object_set_new(o, r ? "judge_endpoints" :
				    "policy_endpoints", a);
	}
}

static char *manifest_json(const struct pipeline *pl, double started)
{
	const struct run_counts *c = pl->c;
	json_t *o = json_object(), *srcs = json_array(), *retries;
	char *s;

	for (size_t i = 0; i < pl->o->con->nsources; i++)
		json_array_append_new(srcs,
				      json_string(pl->o->con->sources[i]));
	json_object_set_new(o, "schema", json_string("caigen.manifest/1"));
	json_object_set_new(o, "version", json_string(CAIGEN_VERSION));
	json_object_set_new(o, "started", json_integer((json_int_t)started));
	json_object_set_new(o, "wall_seconds", json_real(c->seconds));
	json_object_set_new(o, "constitutions", srcs);
	json_object_set_new(o, "config", config_to_json(pl->cfg));
	json_object_set_new(o, "counts", json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
		"lines", (json_int_t)c->lines,
		"blank", (json_int_t)c->blank,
		"records_total", (json_int_t)c->records_total,
		"written", (json_int_t)c->written,
		"skipped_done", (json_int_t)c->skipped_done,
		"failed", (json_int_t)c->failed,
		"rejected", (json_int_t)c->rejected,
		"rejected_before", (json_int_t)c->rejected_before,
		"interrupted", (json_int_t)c->interrupted,
		"not_read", (json_int_t)c->not_read));
	json_object_set_new(o, "usage", json_pack("{s:I,s:I}",
		"prompt_tokens", (json_int_t)c->usage.prompt_tokens,
		"completion_tokens", (json_int_t)c->usage.completion_tokens));
	for (int r = 0; r < 2; r++) {
		const struct http_stats *h = &c->http[r];

		retries = json_object();
		for (int k = 0; k < RETRY_CAUSES; k++)
			json_object_set_new(retries, retry_cause_name(k),
					    json_integer((json_int_t)
							 h->retries[k]));
		json_object_set_new(o, r ? "judge_http" : "policy_http",
			json_pack("{s:I,s:I,s:I,s:o}",
				  "requests", (json_int_t)h->requests,
				  "ok", (json_int_t)h->ok,
				  "gave_up", (json_int_t)h->gave_up,
				  "retries", retries));
		json_object_set_new(json_object_get(o, r ? "judge_http" :
						    "policy_http"), "limiter",
				    limiter_json(&pl->rl[r]));
	}
	manifest_cluster(pl, o);
	json_object_set_new(o, "guards",
			    guard_counts_json((struct guard_counts *)&c->guards));
	json_object_set_new(json_object_get(o, "counts"), "refused",
			    json_integer(c->refused));
	if (pl->cfg->max_cost > 0)
		json_object_set_new(o, "max_cost", json_pack("{s:f,s:f,s:b}",
			"cap_usd", pl->cfg->max_cost, "spent_usd", c->spent,
			"reached", c->capped));
	cost_manifest(o, pl->cfg, c->usage_role);
	s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(o);
	return s;
}

/* Which executor each used role goes through (runrules.h, which also
 * refuses what cannot be carried; check and the dry run call it too). */
static int choose_executor(struct pipeline *pl, struct err *err)
{
	const struct config *cfg = pl->cfg;
	bool feed = pl->o->feed != NULL, exp = pl->o->batch_export;
	bool batched[ROLE_COUNT] = { false };

	if (runrules_check(cfg, feed, exp, err) < 0)
		return -1;
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (!runrules_used(cfg, feed, r))
			continue;
		if (runrules_batch(cfg, exp, r))
			pl->batch_mode = batched[r] = true;
		else
			pl->live_role[r] = pl->any_live = true;
	}
	/* batches a role left open when it went live (or out of use):
	 * said before this run sends its work (batchopen.h) */
	batchopen_say(cfg, pl->o->suffix, batched, stderr);
	return 0;
}

/* Fold per-role counters into the policy / judge pair of the summary
 * and the manifest (a panel's members count as the judge there). */
static void fold_roles(struct pipeline *pl, const struct http_stats *h,
		       const size_t *exp, bool from_live)
{
	struct run_counts *c = pl->c;

	for (int r = 0; r < ROLE_COUNT; r++) {
		int to = r == ROLE_POLICY ? 0 : 1;
		struct http_stats *a = &c->http[to];

		if (!runrules_used(pl->cfg, pl->o->feed != NULL, r) ||
		    pl->live_role[r] != from_live)
			continue;
		c->http_role[r].requests += h[r].requests;
		c->http_role[r].ok += h[r].ok;
		c->http_role[r].gave_up += h[r].gave_up;
		c->http_role[r].seconds += h[r].seconds;
		for (int k = 0; k < RETRY_CAUSES; k++)
			c->http_role[r].retries[k] += h[r].retries[k];
		a->requests += h[r].requests;
		a->ok += h[r].ok;
		a->gave_up += h[r].gave_up;
		a->seconds += h[r].seconds;
		for (int k = 0; k < RETRY_CAUSES; k++)
			a->retries[k] += h[r].retries[k];
		if (exp)
			c->exported[to] += exp[r];
		if (from_live && r != to) {
			struct ratelimit_stats *t = &pl->rl[to];
			const struct ratelimit_stats *f = &pl->rl[r];

			t->waits += f->waits;
			t->wait_seconds += f->wait_seconds;
			t->decreases += f->decreases;
			t->min_cap += f->min_cap;
			t->cap += f->cap;
		}
	}
}

int pipeline_run(const struct run_opts *o, struct run_counts *c,
		 struct err *err)
{
	const struct config *cfg = o->cfg;
	struct pipeline pl;
	struct writer_resume res;
	struct reader rd;
	struct live_opts lo;
	int np = endpoint_max_concurrency(&cfg->policy);
	int nj = endpoint_max_concurrency(&cfg->judge);
	size_t records2 = 0;
	double t0 = now_sec();
	time_t started = time(NULL);
	int rc = -1;
	char *m;
	const struct prompts_stats *ps;
	size_t todo;	/* progress total: the input's lines (--limit) */

	memset(c, 0, sizeof(*c));
	memset(&pl, 0, sizeof(pl));
	pl.o = o;
	pl.cfg = cfg;
	pl.c = c;
	pl.two = cfg->mode == MODE_BOTH;
	if (cfg->mode == MODE_CRITIQUES)
		nj = 0;		/* nothing to judge */
	if (o->feed)
		np = 0;		/* the replies exist: no policy stage */
	idset_init(&pl.done2);
	atomic_init(&pl.fatal, 0);
	idset_init(&pl.done);
	idset_init(&pl.rejected);
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.slot_free, NULL);
	pl.env.cfg = cfg;
	pl.env.con = o->con;
	sample_shared_init(&pl.env.sample, cfg);
	atomic_init(&pl.env.judge.no_logprobs, 0);
	pl.env.two = pl.two;
	pl.env.stop = o->stop;
	pl.env.fatal = &pl.fatal;
	atomic_init(&pl.env.refused, 0);
	pl.env.counts = &c->guards;
	pl.env.sample.counts = &c->guards;
	pl.env.judge.counts = &c->guards;
	atomic_init(&pl.env.capped, 0);
	if (choose_executor(&pl, err) < 0)
		goto out_budget;
	{
		bool used[ROLE_COUNT] = { !o->feed,
					  cfg->mode != MODE_CRITIQUES };

		if (budget_init(&pl.budget, cfg, used, err) < 0)
			goto out_budget;
	}
	pl.env.done = pl.batch_mode ? batch_item_finished :
				      live_item_finished;
	pl.env.owner = &pl;
	if (pools_open(&pl, err) < 0)
		goto out;

	pl.in = o->feed ? NULL : prompts_open(cfg->prompts,
					      cfg->max_line_bytes, err);
	if (!pl.in && !o->feed)
		goto out;
	if (pl.in)
		prompts_only_shard(pl.in, &o->shard);	/* memory follows the shard */
	if (writer_open(&pl.w, cfg->out, cfg->mode == MODE_PREFERENCES ?
			"preferences" : "critiques", o->suffix, &pl.done,
			&pl.rejected, &res, err) < 0)
		goto out_in;
	/* mode both: a prompt is done when both files hold its id */
	if (pl.two && writer_open_second(&pl.w, "preferences", o->suffix,
					 &pl.done2, &records2, err) < 0) {
		writer_close(&pl.w, NULL);
		goto out_in;
	}
	c->repaired_bytes = res.repaired_bytes;
	if (res.repaired_bytes && !cfg->quiet)
		fprintf(stderr, "caigen: cut %zu bytes of a partial last "
			"line in '%s'\n", res.repaired_bytes, cfg->out);
	if (res.records && !cfg->quiet)
		fprintf(stderr, "caigen: resuming: %zu records already in "
			"'%s'\n", res.records, pl.w.path[OUT_RECORDS]);

	/* items in flight: one per place of both roles (an item in flight
	 * holds at least one place), and a little for the writer's order;
	 * batch: the wave running and the next one, read meanwhile */
	pl.window = pl.batch_mode ? 2 * (size_t)cfg->batch_prompts + 16 :
		    (size_t)(np + nj) + 16;
	pl.q_write = queue_new(pl.window);
	todo = o->total_hint;	/* lines; a shard's share: ~1/n of them */
	if (cfg->limit > 0 && (!todo || (size_t)cfg->limit < todo))
		todo = todo ? (size_t)cfg->limit : 0;	/* stdin: unknown */
	progress_init(&pl.prog, o->feed ? "pairs" : "prompts",
		      o->shard.n > 1 && todo ? todo / o->shard.n : todo,
		      o->shard.n > 1, cfg->limit > 0 ? (size_t)cfg->limit : 0,
		      res.records + res.rejects, cfg->progress_interval,
		      cfg->quiet);

	if (pl.live_role[ROLE_POLICY] && !o->batch_export) {
		/* paid policy answers are kept for a resume (keep.h), in
		 * a state folder of their own like OUT/batch */
		char *kd = xasprintf("%s/live%s", cfg->out, o->suffix);
		char *kp = xasprintf("%s/answers.jsonl", kd);

		if (mkdir(kd, 0777) < 0 && errno != EEXIST) {
			err_set(err, "cannot make '%s': %s", kd,
				strerror(errno));
			pl.keep = NULL;
		} else {
			pl.keep = keep_open(kp, err);
		}
		free(kp);
		free(kd);
		if (!pl.keep) {
			writer_close(&pl.w, NULL);
			queue_free(pl.q_write);
			goto out_in;
		}
	}
	if (pl.any_live) {
		memset(&lo, 0, sizeof(lo));
		lo.cfg = cfg;
		for (int r = 0; r < ROLE_COUNT; r++)
			lo.pool[r] = pl.pool[r];
		lo.env = &pl.env;
		lo.budget = &pl.budget;
		lo.keep = pl.keep;
		lo.stop = o->stop;
		lo.loops = cfg->loops;
		lo.deliver = deliver;
		lo.owner = &pl;
		pl.live = live_new(&lo, err);
		if (!pl.live) {
			/* nothing has been read or written yet: leave now,
			 * the output files are as they were */
			fprintf(stderr, "caigen: %s (lower --jobs or the "
				"concurrency settings)\n", err->msg);
			exit(2);
		}
	}
	if (pl.batch_mode) {
		struct batch_opts bo;
		char *dir = xasprintf("%s/batch%s", cfg->out, o->suffix);

		memset(&bo, 0, sizeof(bo));
		bo.cfg = cfg;
		bo.env = &pl.env;
		bo.budget = &pl.budget;
		bo.live = pl.live;
		for (int r = 0; r < ROLE_COUNT; r++)
			bo.live_role[r] = pl.live_role[r];
		bo.stop = o->stop;
		bo.dir = dir;
		bo.export_only = o->batch_export;
		bo.imported = o->imported;
		bo.deliver = deliver;
		bo.owner = &pl;
		pl.batch = batch_new(&bo, err);
		free(dir);
		if (!pl.batch) {
			if (pl.live) {
				live_close(pl.live);
				live_join(pl.live);
				live_free(pl.live);
			}
			keep_close(pl.keep);
			writer_close(&pl.w, NULL);
			queue_free(pl.q_write);
			goto out_in;
		}
	}
	rd.pl = &pl;
	rd.rc = 0;
	rd.interrupted = 0;
	if (pthread_create(&rd.tid, NULL, reader_main, &rd)) {
		/* nothing has been read or written yet: leave now */
		fprintf(stderr, "caigen: cannot start the reader thread\n");
		exit(2);
	}

	writer_loop(&pl);

	pthread_join(rd.tid, NULL);
	c->interrupted += rd.interrupted;
	if (pl.batch) {
		struct http_stats h[ROLE_COUNT];
		size_t ex[ROLE_COUNT];

		batch_join(pl.batch);
		batch_stats(pl.batch, h, ex);
		fold_roles(&pl, h, ex, false);
		c->batch = true;
	}
	if (pl.live) {
		struct http_stats h[ROLE_COUNT];

		live_join(pl.live);
		live_stats(pl.live, h, pl.rl);
		fold_roles(&pl, h, NULL, true);
	}
	c->n_fallback = (size_t)atomic_load(&pl.env.sample.fell_back);
	c->refused = atomic_load(&pl.env.refused);
	c->capped = budget_reached(&pl.budget);
	c->spent = budget_spent(&pl.budget);
	tokens_now(&pl, c->usage_role);
	progress_usage(&pl.prog, cfg, c->usage_role);
	pools_close(&pl);

	ps = o->feed ? o->feed->stats(o->feed->ctx) : prompts_stats(pl.in);
	c->lines = ps->lines;
	c->blank = ps->blank;
	c->records_total = res.records + c->written;
	c->seconds = now_sec() - t0;
	if (o->total_hint > c->lines)
		c->not_read = o->total_hint - c->lines;
	{
		/* the last progress line, from the exact counts: the job
		 * is what was read, and what a stop left unread */
		size_t before = c->skipped_done + c->rejected_before;
		size_t seen = before + c->written + c->failed + c->rejected +
			      c->interrupted;
		bool whole = !stopping(&pl) && !c->capped && !c->refused;

		progress_finish(&pl.prog, whole ? seen : pl.prog.total,
				before, c->written, c->failed, c->rejected);
	}

	if (writer_flush(&pl.w, 1, err) < 0 && !atomic_load(&pl.fatal)) {
		pl.fatal_err = *err;
		atomic_store(&pl.fatal, 1);
	}
	m = manifest_json(&pl, (double)started);
	if (!atomic_load(&pl.fatal) && writer_manifest(&pl.w, m, err) < 0) {
		pl.fatal_err = *err;
		atomic_store(&pl.fatal, 1);
	}
	free(m);
	if (atomic_load(&pl.fatal))
		*err = pl.fatal_err;
	else if (rd.rc < 0)
		*err = rd.err;
	else
		rc = 0;
	writer_close(&pl.w, NULL);
	queue_free(pl.q_write);
	batch_free(pl.batch);
	live_free(pl.live);
	keep_close(pl.keep);
out_in:
	prompts_close(pl.in);
out:
	idset_release(&pl.done);
	idset_release(&pl.rejected);
	idset_release(&pl.done2);
	pthread_mutex_destroy(&pl.lock);
	pthread_cond_destroy(&pl.slot_free);
	pools_close(&pl);
	budget_release(&pl.budget);
	return rc;
out_budget:
	pthread_mutex_destroy(&pl.lock);
	pthread_cond_destroy(&pl.slot_free);
	idset_release(&pl.done);
	idset_release(&pl.rejected);
	idset_release(&pl.done2);
	return -1;
}
