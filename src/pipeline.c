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
 * Shutdown: the reader closes q_sample when the input ends (or a stop is
 * requested); the last sampler to leave closes q_judge, the last judge
 * closes q_write, and the writer drains it. On a stop request, items that
 * have not started are marked interrupted and are not written, so the
 * next run does them; requests already on the wire are let finish.
 */
#include "pipeline.h"
#include "idset.h"
#include "judge.h"
#include "progress.h"
#include "prompts.h"
#include "queue.h"
#include "rng.h"
#include "writer.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FLUSH_EVERY 1.0	/* seconds between fsyncs */

enum item_kind { ITEM_PROMPT, ITEM_REJECT };
enum item_status { ST_OK, ST_FAILED, ST_INTERRUPTED };

struct item {
	uint64_t seq;
	enum item_kind kind;
	enum item_status status;
	struct prompt pr;
	struct reject rj;
	char *responses[2];
	struct chat_usage usage;
	const char *fail_stage;
	char *error;
	char *line;		/* the finished JSON line */
};

struct pipeline;

struct worker {
	struct pipeline *pl;
	pthread_t tid;
	struct http http;
	const struct endpoint *ep;
	char *url;
	char *auth;		/* secret: wiped on release */
	int role;		/* 0 policy, 1 judge */
};

struct pipeline {
	const struct run_opts *o;
	const struct config *cfg;
	struct queue *q_sample, *q_judge, *q_write;
	struct writer w;
	struct idset done, rejected;
	struct prompts *in;

	/* the in-flight window */
	pthread_mutex_t lock;
	pthread_cond_t slot_free;
	size_t inflight, window;

	atomic_int samplers_left, judges_left;
	atomic_int n_mode;	/* enum n_mode; AUTO until the server tells */
	atomic_int fatal;	/* writer failed: stop everything */

	struct run_counts *c;
	struct err fatal_err;
	struct progress prog;
};

static bool stopping(const struct pipeline *pl)
{
	return (pl->o->stop && *pl->o->stop) || atomic_load(&pl->fatal);
}

static void item_free(struct item *it)
{
	if (!it)
		return;
	if (it->kind == ITEM_PROMPT)
		prompt_release(&it->pr);
	else
		reject_release(&it->rj);
	free(it->responses[0]);
	free(it->responses[1]);
	free(it->error);
	free(it->line);
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

static void item_fail(struct item *it, const struct pipeline *pl,
		      const char *stage, const char *msg)
{
	if (stopping(pl)) {
		it->status = ST_INTERRUPTED;
		return;
	}
	it->status = ST_FAILED;
	it->fail_stage = stage;
	free(it->error);
	it->error = redact(redact(xstrdup(msg), pl->cfg->policy.api_key),
			   pl->cfg->judge.api_key);
}

/* ---- calls ---------------------------------------------------------- */

static struct http_opts endpoint_opts(const struct endpoint *ep)
{
	struct http_opts o = {
		.timeout = ep->timeout,
		.connect_timeout = ep->connect_timeout,
		.max_attempts = ep->max_attempts,
		.backoff_base = 0.5,
		.max_wait = 8,
	};
	return o;
}

/*
 * One chat completion with retries. A 2xx whose body is unusable (not
 * JSON, no choices, an error object) is retried like a 5xx, within the
 * same attempt budget.
 */
static int chat(struct worker *w, const struct chat_params *cp,
		struct chat_reply *r, struct err *err)
{
	struct http_opts o = endpoint_opts(w->ep);
	const char *hdr[1];
	size_t nhdr = 0, len;
	char *body = provider_chat_body(cp, &len);
	int rc = -1;

	if (w->auth)
		hdr[nhdr++] = w->auth;
	for (int k = 0; k < o.max_attempts; k++) {
		struct http_opts once = o;

		once.max_attempts = o.max_attempts - k;
		if (http_post(&w->http, w->url, hdr, nhdr, body, len, &once,
			      err) < 0)
			break;
		if (provider_parse_chat(w->http.resp.data, r, err) == 0) {
			rc = 0;
			break;
		}
		if (k + 1 < o.max_attempts && !stopping(w->pl))
			w->http.stats.retries[RETRY_BODY]++;
	}
	free(body);
	return rc;
}

static void usage_add(struct chat_usage *a, const struct chat_usage *b)
{
	a->prompt_tokens += b->prompt_tokens;
	a->completion_tokens += b->completion_tokens;
}

/* Does a 400 say the server cannot do n > 1? (llama.cpp: "Only one
 * completion choice is allowed".) Other 400s are ordinary failures. */
static bool refuses_n(const struct http *h)
{
	const char *b = h->resp.data;

	return h->status == 400 && b &&
	       (strstr(b, "choice") || strstr(b, "'n'") ||
		strstr(b, "\"n\""));
}

static void sample(struct worker *w, struct item *it)
{
	const struct config *cfg = w->pl->cfg;
	struct chat_params cp = {
		.model = cfg->policy.model,
		.messages = it->pr.messages,
		.temperature = cfg->policy.temperature,
		.top_p = cfg->policy.top_p,
		.max_tokens = cfg->policy.max_tokens,
		.n = 1,
		.has_seed = true,
	};
	struct chat_reply r;
	struct err err;
	int mode = atomic_load(&w->pl->n_mode);

	if (mode != N_ONE) {
		cp.n = 2;
		cp.seed = rng_u64(cfg->seed, it->pr.id, "sample", 0);
		if (chat(w, &cp, &r, &err) == 0) {
			if (r.n >= 2) {
				it->responses[0] = xstrdup(r.text[0]);
				it->responses[1] = xstrdup(r.text[1]);
				usage_add(&it->usage, &r.usage);
				chat_reply_release(&r);
				return;
			}
			chat_reply_release(&r);
			if (mode == N_TWO) {
				item_fail(it, w->pl, "sample", "the policy "
					  "server returned 1 choice for n=2 "
					  "(set policy.n: 1)");
				return;
			}
		} else if (mode == N_TWO || !refuses_n(&w->http)) {
			item_fail(it, w->pl, "sample", err.msg);
			return;
		}
		/* the server cannot do n=2: from now on, two calls */
		if (atomic_exchange(&w->pl->n_mode, N_ONE) != N_ONE) {
			fprintf(stderr, "caigen: the policy server does not "
				"return 2 choices per request; making two "
				"calls per prompt\n");
			w->pl->c->n_fallback = 1;
		}
	}
	cp.n = 1;
	for (int k = 0; k < 2; k++) {
		cp.seed = rng_u64(cfg->seed, it->pr.id, "sample", 1 + k);
		if (chat(w, &cp, &r, &err) < 0) {
			item_fail(it, w->pl, "sample", err.msg);
			return;
		}
		it->responses[k] = xstrdup(r.text[0]);
		usage_add(&it->usage, &r.usage);
		chat_reply_release(&r);
	}
}

/* ---- the record ----------------------------------------------------- */

static json_t *lp_json(double mass)
{
	return mass > 0 ? json_real(log(mass)) : json_null();
}

static json_t *as_turn(const struct item *it, const char *text)
{
	json_t *m;

	if (it->pr.text)
		return json_string(text);
	m = json_object();
	json_object_set_new(m, "role", json_string("assistant"));
	json_object_set_new(m, "content", json_string(text));
	return json_pack("[o]", m);
}

static char *record_line(const struct pipeline *pl, const struct item *it,
			 const struct principle *pr,
			 const struct judgment *j, int nj, double p)
{
	const struct config *cfg = pl->cfg;
	int ci = p >= 0.5 ? 0 : 1;
	json_t *o = json_object(), *js = json_array(), *tags = json_array();
	char *s;

	for (int i = 0; i < nj; i++) {
		json_t *x = json_object();

		json_object_set_new(x, "order", json_string(
			j[i].order == ORDER_AB ? "AB" : "BA"));
		json_object_set_new(x, "p_a", json_real(j[i].p_a));
		json_object_set_new(x, "lp_a", lp_json(j[i].mass_a));
		json_object_set_new(x, "lp_b", lp_json(j[i].mass_b));
		json_object_set_new(x, "other_mass",
				    json_real(j[i].other_mass));
		json_object_set_new(x, "position",
				    json_integer(j[i].position));
		json_object_set_new(x, "method", json_string(j[i].method));
		json_object_set_new(x, "rationale", json_null());
		json_array_append_new(js, x);
	}
	for (size_t t = 0; t < pr->ntags; t++)
		json_array_append_new(tags, json_string(pr->tags[t]));

	json_object_set_new(o, "schema", json_string("caigen.preference/1"));
	json_object_set_new(o, "id", json_string(it->pr.id));
	json_object_set_new(o, "index", json_integer((json_int_t)
						     it->pr.index));
	json_object_set_new(o, "prompt", it->pr.text ?
			    json_string(it->pr.text) :
			    json_deep_copy(it->pr.messages));
	json_object_set_new(o, "chosen", as_turn(it, it->responses[ci]));
	json_object_set_new(o, "rejected", as_turn(it, it->responses[1 - ci]));
	json_object_set_new(o, "margin", json_real(fabs(p - 0.5)));
	json_object_set_new(o, "responses", json_pack("[ss]",
		it->responses[0], it->responses[1]));
	json_object_set_new(o, "chosen_index", json_integer(ci));
	json_object_set_new(o, "p", json_real(p));
	json_object_set_new(o, "principle", json_pack("{s:s,s:s,s:o}",
		"id", pr->id, "constitution", pr->source, "tags", tags));
	json_object_set_new(o, "judgments", js);
	json_object_set_new(o, "models", json_pack("{s:s,s:s}",
		"policy", cfg->policy.model, "judge", cfg->judge.model));
	json_object_set_new(o, "usage", json_pack("{s:I,s:I}",
		"prompt_tokens", (json_int_t)it->usage.prompt_tokens,
		"completion_tokens", (json_int_t)it->usage.completion_tokens));
	json_object_set_new(o, "seed", json_integer((json_int_t)cfg->seed));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(8));
	json_decref(o);
	return s;
}

static void judge_item(struct worker *w, struct item *it)
{
	const struct pipeline *pl = w->pl;
	const struct config *cfg = pl->cfg;
	const struct constitution *con = pl->o->con;
	const struct principle *pr;
	struct judgment j[2];
	int nj = cfg->both_orders ? 2 : 1;
	char *conv = NULL;
	struct err err;
	double p;

	pr = constitution_draw(con, STAGE_COMPARE,
			       rng_unit(cfg->seed, it->pr.id, "principle", 0));
	conv = judge_conversation(it->pr.messages);
	j[0].order = ORDER_AB;
	j[1].order = ORDER_BA;
	if (nj == 1 && rng_unit(cfg->seed, it->pr.id, "order", 0) >= 0.5)
		j[0].order = ORDER_BA;
	for (int i = 0; i < nj; i++) {
		int swap = j[i].order == ORDER_BA;
		char *user = judge_render(
			constitution_template(con, TPL_COMPARE), conv,
			pr->compare, it->responses[swap],
			it->responses[!swap], cfg->seed, it->pr.id);
		json_t *msgs = json_pack("[{s:s,s:s},{s:s,s:s}]",
			"role", "system", "content",
			constitution_template(con, TPL_COMPARE_SYSTEM),
			"role", "user", "content", user);
		struct chat_params cp = {
			.model = cfg->judge.model,
			.messages = msgs,
			.temperature = cfg->judge.temperature,
			.top_p = cfg->judge.top_p,
			.max_tokens = cfg->judge.max_tokens,
			.n = 1,
			.has_seed = true,
			.seed = rng_u64(cfg->seed, it->pr.id, "judge",
					(uint64_t)j[i].order),
			.logprobs = true,
			.top_logprobs = cfg->top_logprobs,
		};
		struct chat_reply r;
		int rc = chat(w, &cp, &r, &err);

		free(user);
		json_decref(msgs);
		if (rc < 0) {
			item_fail(it, pl, "judge", err.msg);
			goto out;
		}
		usage_add(&it->usage, &r.usage);
		rc = judge_read_logprobs(r.logprobs[0], cfg->scan_positions,
					 &j[i], &err);
		chat_reply_release(&r);
		if (rc < 0) {
			item_fail(it, pl, "judge", err.msg);
			goto out;
		}
	}
	p = judge_combine(j, nj);
	it->line = record_line(pl, it, pr, j, nj, p);
out:
	free(conv);
}

/* ---- workers -------------------------------------------------------- */

static void worker_setup(struct worker *w, struct pipeline *pl, int role)
{
	w->pl = pl;
	w->role = role;
	w->ep = role ? &pl->cfg->judge : &pl->cfg->policy;
	w->url = xasprintf("%s/chat/completions", w->ep->base_url);
	w->auth = provider_auth_header(w->ep->api_key);
	http_init(&w->http, pl->o->stop);
}

static void worker_release(struct worker *w)
{
	http_release(&w->http);
	free(w->url);
	provider_free_secret(w->auth);
}

static void *sampler_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *pl = w->pl;
	struct item *it;

	while ((it = queue_pop(pl->q_sample))) {
		if (stopping(pl))
			it->status = ST_INTERRUPTED;
		else
			sample(w, it);
		if (queue_push(pl->q_judge, it) < 0)
			item_free(it);	/* cannot happen: closed after us */
	}
	if (atomic_fetch_sub(&pl->samplers_left, 1) == 1)
		queue_close(pl->q_judge);
	return NULL;
}

static void *judge_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *pl = w->pl;
	struct item *it;

	while ((it = queue_pop(pl->q_judge))) {
		if (it->status == ST_OK) {
			if (stopping(pl))
				it->status = ST_INTERRUPTED;
			else
				judge_item(w, it);
		}
		if (queue_push(pl->q_write, it) < 0)
			item_free(it);
	}
	if (atomic_fetch_sub(&pl->judges_left, 1) == 1)
		queue_close(pl->q_write);
	return NULL;
}

/* ---- the in-flight window ------------------------------------------- */

/* Wait for a free slot; false if the run is stopping. */
static bool window_take(struct pipeline *pl)
{
	bool ok;

	pthread_mutex_lock(&pl->lock);
	while (pl->inflight >= pl->window && !stopping(pl)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
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

static void window_give(struct pipeline *pl)
{
	pthread_mutex_lock(&pl->lock);
	pl->inflight--;
	pthread_cond_signal(&pl->slot_free);
	pthread_mutex_unlock(&pl->lock);
}

/* ---- reader --------------------------------------------------------- */

static char *reject_line(const struct reject *rj)
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

struct reader {
	pthread_t tid;
	struct pipeline *pl;
	int rc;
	struct err err;
};

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct pipeline *pl = rd->pl;
	struct run_counts *c = pl->c;
	long long limit = pl->cfg->limit, taken = 0;
	uint64_t seq = 0;

	for (;;) {
		struct item *it;
		struct prompt pr;
		struct reject rj;
		enum prompts_status st;
		struct queue *to;

		if (stopping(pl) || (limit > 0 && taken >= limit))
			break;
		st = prompts_next(pl->in, &pr, &rj, &rd->err);
		if (st == PROMPTS_EOF)
			break;
		if (st == PROMPTS_ERROR) {
			rd->rc = -1;
			break;
		}
		taken++;
		if (st == PROMPTS_REJECT &&
		    idset_has(&pl->rejected, (uint64_t)rj.line + 1)) {
			c->rejected_before++;
			reject_release(&rj);
			continue;
		}
		if (st == PROMPTS_OK &&
		    idset_has(&pl->done, idset_hash(pr.id))) {
			c->skipped_done++;
			prompt_release(&pr);
			continue;
		}
		it = xcalloc(1, sizeof(*it));
		if (st == PROMPTS_OK) {
			it->kind = ITEM_PROMPT;
			it->pr = pr;
			to = pl->q_sample;
		} else {
			it->kind = ITEM_REJECT;
			it->rj = rj;
			to = pl->q_write;
		}
		if (!window_take(pl)) {
			item_free(it);
			/* this one was read but will not be done now */
			c->interrupted += st == PROMPTS_OK;
			break;
		}
		it->seq = seq++;
		if (queue_push(to, it) < 0) {
			item_free(it);
			window_give(pl);
		}
	}
	queue_close(pl->q_sample);
	return NULL;
}

/* ---- writer --------------------------------------------------------- */

static char *failure_line(const struct item *it)
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

static void emit(struct pipeline *pl, struct item *it)
{
	struct run_counts *c = pl->c;
	enum out_file f;
	char *line = NULL;
	struct err err;

	if (it->kind == ITEM_REJECT) {
		f = OUT_REJECTS;
		line = reject_line(&it->rj);
	} else if (it->status == ST_OK && it->line) {
		f = OUT_RECORDS;
		line = it->line;
		it->line = NULL;
	} else if (it->status == ST_FAILED) {
		f = OUT_FAILURES;
		line = failure_line(it);
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
		usage_add(&c->usage, &it->usage);
	} else if (f == OUT_FAILURES) {
		c->failed++;
	} else {
		c->rejected++;
	}
}

static void writer_loop(struct pipeline *pl)
{
	struct item **ring = xcalloc(pl->window, sizeof(*ring));
	uint64_t next = 0;
	double last_sync = now_sec();
	struct item *it;
	struct err err;

	while ((it = queue_pop(pl->q_write))) {
		ring[it->seq % pl->window] = it;
		while ((it = ring[next % pl->window]) && it->seq == next) {
			ring[next % pl->window] = NULL;
			emit(pl, it);
			item_free(it);
			window_give(pl);
			next++;
		}
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
		progress_update(&pl->prog, pl->c->written, pl->c->failed,
				pl->c->rejected, false);
	}
	free(ring);
}

/* ---- the run -------------------------------------------------------- */

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
	}
	s = json_dumps(o, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(o);
	return s;
}

static void stats_add(struct http_stats *a, const struct http_stats *b)
{
	a->requests += b->requests;
	a->ok += b->ok;
	a->gave_up += b->gave_up;
	a->seconds += b->seconds;
	for (int k = 0; k < RETRY_CAUSES; k++)
		a->retries[k] += b->retries[k];
}

int pipeline_run(const struct run_opts *o, struct run_counts *c,
		 struct err *err)
{
	const struct config *cfg = o->cfg;
	struct pipeline pl;
	struct writer_resume res;
	struct reader rd;
	struct worker *ws = NULL;
	int np = cfg->policy.concurrency, nj = cfg->judge.concurrency;
	double t0 = now_sec();
	time_t started = time(NULL);
	int rc = -1;
	char *m;
	const struct prompts_stats *ps;

	memset(c, 0, sizeof(*c));
	memset(&pl, 0, sizeof(pl));
	pl.o = o;
	pl.cfg = cfg;
	pl.c = c;
	atomic_init(&pl.n_mode, cfg->n);
	atomic_init(&pl.fatal, 0);
	atomic_init(&pl.samplers_left, np);
	atomic_init(&pl.judges_left, nj);
	idset_init(&pl.done);
	idset_init(&pl.rejected);
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.slot_free, NULL);

	pl.in = prompts_open(cfg->prompts, cfg->max_line_bytes, err);
	if (!pl.in)
		goto out;
	if (writer_open(&pl.w, cfg->out, "preferences", o->suffix, &pl.done,
			&pl.rejected, &res, err) < 0)
		goto out_in;
	c->repaired_bytes = res.repaired_bytes;
	if (res.repaired_bytes && !cfg->quiet)
		fprintf(stderr, "caigen: cut %zu bytes of a partial last "
			"line in '%s'\n", res.repaired_bytes, cfg->out);
	if (res.records && !cfg->quiet)
		fprintf(stderr, "caigen: resuming: %zu records already in "
			"'%s'\n", res.records, pl.w.path[OUT_RECORDS]);

	pl.window = 2 * (size_t)(np + nj) + 16;
	pl.q_sample = queue_new(pl.window);
	pl.q_judge = queue_new(pl.window);
	pl.q_write = queue_new(pl.window);
	progress_init(&pl.prog, o->total_hint > res.records + res.rejects ?
		      o->total_hint - res.records - res.rejects : 0,
		      cfg->progress_interval, cfg->quiet);

	ws = xcalloc((size_t)(np + nj), sizeof(*ws));
	for (int i = 0; i < np + nj; i++) {
		worker_setup(&ws[i], &pl, i >= np);
		pthread_create(&ws[i].tid, NULL,
			       i < np ? sampler_main : judge_main, &ws[i]);
	}
	rd.pl = &pl;
	rd.rc = 0;
	pthread_create(&rd.tid, NULL, reader_main, &rd);

	writer_loop(&pl);

	pthread_join(rd.tid, NULL);
	for (int i = 0; i < np + nj; i++) {
		pthread_join(ws[i].tid, NULL);
		stats_add(&c->http[ws[i].role], &ws[i].http.stats);
		worker_release(&ws[i]);
	}
	progress_update(&pl.prog, c->written, c->failed, c->rejected, true);
	progress_finish(&pl.prog);

	ps = prompts_stats(pl.in);
	c->lines = ps->lines;
	c->blank = ps->blank;
	c->records_total = res.records + c->written;
	c->seconds = now_sec() - t0;
	if (o->total_hint > c->lines)
		c->not_read = o->total_hint - c->lines;

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
	queue_free(pl.q_sample);
	queue_free(pl.q_judge);
	queue_free(pl.q_write);
	free(ws);
out_in:
	prompts_close(pl.in);
out:
	idset_release(&pl.done);
	idset_release(&pl.rejected);
	pthread_mutex_destroy(&pl.lock);
	pthread_cond_destroy(&pl.slot_free);
	return rc;
}

void pipeline_summary(FILE *f, const struct run_opts *o,
		      const struct run_counts *c)
{
	const char *names[2] = { "policy", "judge" };

	fprintf(f, "caigen: %zu lines read: %zu written, %zu already done, "
		"%zu failed, %zu rejected (+%zu recorded before), %zu blank, "
		"%zu left for the next run\n",
		c->lines, c->written, c->skipped_done, c->failed, c->rejected,
		c->rejected_before, c->blank, c->interrupted);
	fprintf(f, "caigen: %zu records in total in '%s'; %.1f s, %.1f "
		"prompts/s; tokens: %lld in, %lld out\n", c->records_total,
		o->cfg->out, c->seconds,
		c->seconds > 0 ? (double)c->written / c->seconds : 0.0,
		c->usage.prompt_tokens, c->usage.completion_tokens);
	for (int r = 0; r < 2; r++) {
		const struct http_stats *h = &c->http[r];
		uint64_t tot = 0;

		for (int k = 0; k < RETRY_CAUSES; k++)
			tot += h->retries[k];
		fprintf(f, "caigen: %s: %llu requests, %llu retries", names[r],
			(unsigned long long)h->requests,
			(unsigned long long)tot);
		for (int k = 0; k < RETRY_CAUSES; k++)
			if (h->retries[k])
				fprintf(f, " %s=%llu", retry_cause_name(k),
					(unsigned long long)h->retries[k]);
		fputc('\n', f);
	}
}
