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
#include "cost.h"
#include "critique.h"
#include "idset.h"
#include "judge.h"
#include "judgecall.h"
#include "progress.h"
#include "prompts.h"
#include "queue.h"
#include "ratelimit.h"
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
#include <unistd.h>

#define FLUSH_EVERY 1.0	/* seconds between fsyncs */
/* Worker stacks: 1 MiB instead of the 8 MiB default keeps thousands of
 * threads cheap in address space; jansson's nesting limit needs far less. */
#define WORKER_STACK (1u << 20)

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
	char *line2;		/* mode both: the preference line */
};

struct pipeline;

struct worker {
	struct pipeline *pl;
	pthread_t tid;
	struct http http;
	const struct endpoint *ep;	/* URLs: pl->pool[role] */
	char *auth;		/* secret: wiped on release */
	int role;		/* 0 policy, 1 judge */
};

struct pipeline {
	const struct run_opts *o;
	const struct config *cfg;
	struct queue *q_sample, *q_judge, *q_write;
	struct queue *q_policy_out;	/* q_judge, or q_write in mode
					 * critiques (no judges) */
	struct writer w;
	struct idset done, rejected;
	struct idset done2;	/* mode both: ids in preferences.jsonl */
	bool two;		/* mode both: two records per prompt */
	struct judge_shared jshared;	/* the judge endpoint's state */
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
	struct ratelimit rl[2];	/* policy, judge: client-side limits */
	struct endpoint_pool *pool[2];	/* policy, judge: their servers */
	atomic_llong tokens[2][2];	/* policy, judge: prompt and
					 * completion tokens of every reply */
};

static bool stopping(const struct pipeline *pl)
{
	return (pl->o->stop && __atomic_load_n(pl->o->stop, __ATOMIC_RELAXED))
	       || atomic_load(&pl->fatal);
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
	free(it->line2);
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
		.backoff_base = ep->backoff_base,
		.max_wait = ep->backoff_max,
		.stall_timeout = ep->stall_timeout,
	};
	return o;
}

/* Client-side limits around one call (ratelimit.h): take a place and the
 * estimated tokens; on the way out, settle the real usage and tell the
 * limiter whether a 429 came back. */
static int limit_take(struct worker *w, double est,
		      struct http_stats *before, struct err *err)
{
	*before = w->http.stats;
	if (ratelimit_acquire(&w->pl->rl[w->role], est, w->pl->o->stop) < 0)
		return err_set(err, "stopped while waiting for the rate limit");
	return 0;
}

/* The limiter's counters for the manifest (the lock is not const). */
static json_t *limiter_json(const struct ratelimit *rl)
{
	struct ratelimit_stats s = ratelimit_stats((struct ratelimit *)rl);

	return json_pack("{s:I,s:f,s:I,s:i,s:i}",
			 "waits", (json_int_t)s.waits,
			 "wait_seconds", s.wait_seconds,
			 "concurrency_cuts", (json_int_t)s.decreases,
			 "concurrency_min", s.min_cap,
			 "concurrency_end", s.cap);
}

/* A 200 without the logprobs that were asked for (a server dropping them
 * under load) is retried like any unusable body; a server that refuses
 * logprobs says so with an error instead (judgecall.h). */
static bool has_logprobs(const struct chat_params *cp, struct chat_reply *r,
			 struct err *err)
{
	if (!cp->logprobs || (r->n > 0 && json_array_size(r->logprobs[0])))
		return true;
	chat_reply_release(r);
	err_set(err, "reply carries no logprobs (does the server support "
		"logprobs/top_logprobs?)");
	return false;
}

static void limit_give(struct worker *w, double est,
		       const struct http_stats *before,
		       const struct chat_reply *r)
{
	const struct http_stats *now = &w->http.stats;
	double used = r ? (double)(r->usage.prompt_tokens +
				   r->usage.completion_tokens) : 0;
	bool saw_429 = now->retries[RETRY_429] > before->retries[RETRY_429] ||
		       w->http.status == 429;

	ratelimit_done(&w->pl->rl[w->role],
		       (double)(now->requests - before->requests) - 1,
		       used > 0 ? used - est : 0, saw_429);
}

/* Choose the server for attempt k (endpoint.h). With several servers each
 * attempt is one request and a failure moves on to the next pick; when
 * none is in service, wait a backoff first. */
static size_t pool_pick(struct worker *w, int k, struct http_opts *once)
{
	struct endpoint_pool *p = w->pl->pool[w->role];
	bool backoff;
	size_t e = endpoint_pick(p, &backoff);

	if (endpoint_pool_size(p) > 1) {
		once->max_attempts = 1;
		if (backoff && k > 0) {
			double s = once->backoff_base * ldexp(1.0, k - 1);

			s = s < once->max_wait ? s : once->max_wait;
			for (; s > 0 && !stopping(w->pl); s -= 0.05)
				usleep(50 * 1000);
		}
	}
	return e;
}

/* Attempt k on server e failed: tell the pool, and say whether to try
 * again on another pick (several servers, a retryable failure, attempts
 * left). Such a retry is counted as one, not as a give-up. */
static bool pool_failover(struct worker *w, size_t e, int k, int attempts)
{
	struct endpoint_pool *p = w->pl->pool[w->role];
	struct http_stats *st = &w->http.stats;
	long status = w->http.status;

	endpoint_done(p, e, false, status == 0 || status >= 500);
	if (endpoint_pool_size(p) < 2 || k + 1 >= attempts ||
	    stopping(w->pl) || !endpoint_failover(status, w->http.resp.data))
		return false;
	if (st->gave_up)
		st->gave_up--;
	st->retries[status == 0 ? RETRY_CONNECT : status == 429 ? RETRY_429 :
		    status >= 500 ? RETRY_5XX : RETRY_408_409]++;
	return true;
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
	struct chat_params flav = *cp;
	const char *hdr[2];
	size_t nhdr = 0, len;
	char *body;
	int rc = -1;
	struct http_stats before;
	double est;

	flav.api = w->ep->api;	/* the endpoint's flavour (flavour.h) */
	body = provider_body(&flav, &len);
	est = ratelimit_estimate(len, cp->max_tokens, cp->n);
	if (limit_take(w, est, &before, err) < 0) {
		free(body);
		return -1;
	}
	if (w->auth)
		hdr[nhdr++] = w->auth;
	if (provider_fixed_header(flav.api))
		hdr[nhdr++] = provider_fixed_header(flav.api);
	for (int k = 0; k < o.max_attempts; k++) {
		struct http_opts once = o;
		size_t e;

		once.max_attempts = o.max_attempts - k;
		e = pool_pick(w, k, &once);
		if (http_post(&w->http, endpoint_url(w->pl->pool[w->role], e),
			      hdr, nhdr, body, len, &once, err) < 0) {
			if (pool_failover(w, e, k, o.max_attempts))
				continue;
			break;
		}
		/* logprobs built only when asked for (reply.h) */
		if (provider_parse(flav.api, w->http.resp.data, cp->logprobs,
				   r, err) == 0 &&
		    has_logprobs(cp, r, err)) {
			endpoint_done(w->pl->pool[w->role], e, true, false);
			rc = 0;
			break;
		}
		endpoint_done(w->pl->pool[w->role], e, false, true);
		if (k + 1 < o.max_attempts && !stopping(w->pl))
			w->http.stats.retries[RETRY_BODY]++;
	}
	free(body);
	limit_give(w, est, &before, rc == 0 ? r : NULL);
	if (rc == 0) {	/* tokens are paid for whatever becomes of them */
		atomic_fetch_add(&w->pl->tokens[w->role][0],
				 r->usage.prompt_tokens);
		atomic_fetch_add(&w->pl->tokens[w->role][1],
				 r->usage.completion_tokens);
	}
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

/* ---- judging and critiques (judgecall.h, critique.h) ---------------- */

/* The pipeline's transport for the modules that make their own calls. */
static int worker_call(void *ctx, const struct chat_params *cp,
		       struct chat_reply *r, struct err *err)
{
	return chat(ctx, cp, r, err);
}

static struct llm worker_llm(struct worker *w)
{
	struct llm l = { worker_call, w, w->ep->api };

	return l;
}

/* Label responses[0] vs responses[1]; the preference line goes to
 * it->line, or to it->line2 in mode both (it->line is the critique). */
static void judge_item(struct worker *w, struct item *it)
{
	struct pipeline *pl = w->pl;
	struct llm l = worker_llm(w);
	struct pair_label lb;
	struct err err;

	if (judgecall_pair(&l, pl->cfg, pl->o->con, &pl->jshared, it->pr.id,
			   it->pr.messages, it->responses[0],
			   it->responses[1], &lb, &err) < 0) {
		item_fail(it, pl, "judge", err.msg);
		return;
	}
	usage_add(&it->usage, &lb.usage);
	*(pl->two ? &it->line2 : &it->line) = judgecall_record(pl->cfg,
		&it->pr, it->responses[0], it->responses[1], &lb, &it->usage);
	pair_label_release(&lb);
}

/* The critique chain; in mode both, its initial answer and final
 * revision become the pair the judges label. */
static void critique_item(struct worker *w, struct item *it)
{
	struct pipeline *pl = w->pl;
	struct llm l = worker_llm(w);
	struct critique_chain ch;
	struct err err;

	if (critique_run(&l, pl->cfg, pl->o->con, &it->pr, &ch, &err) < 0) {
		item_fail(it, pl, "critique", err.msg);
		return;
	}
	usage_add(&it->usage, &ch.usage);
	it->line = critique_record(pl->cfg, &it->pr, &ch);
	if (pl->two) {
		it->responses[0] = xstrdup(ch.initial);
		it->responses[1] = xstrdup(ch.rounds[ch.nrounds - 1].revision);
	}
	critique_chain_release(&ch);
}

/* ---- workers -------------------------------------------------------- */

static void worker_setup(struct worker *w, struct pipeline *pl, int role)
{
	w->pl = pl;
	w->role = role;
	w->ep = role ? &pl->cfg->judge : &pl->cfg->policy;
	w->auth = provider_key_header(w->ep->api, w->ep->api_key);
	http_init(&w->http, pl->o->stop);
}

static void worker_release(struct worker *w)
{
	http_release(&w->http);
	provider_free_secret(w->auth);
}

/* The policy pool, from q_sample to q_policy_out: samplers in mode
 * preferences (two answers, then q_judge), critics in modes critiques
 * (straight to q_write: nothing to judge) and both (then q_judge). */
static void *policy_main(void *arg)
{
	struct worker *w = arg;
	struct pipeline *pl = w->pl;
	struct item *it;

	while ((it = queue_pop(pl->q_sample))) {
		if (stopping(pl))
			it->status = ST_INTERRUPTED;
		else if (pl->cfg->mode == MODE_PREFERENCES)
			sample(w, it);
		else
			critique_item(w, it);
		if (queue_push(pl->q_policy_out, it) < 0)
			item_free(it);	/* cannot happen: closed after us */
	}
	if (atomic_fetch_sub(&pl->samplers_left, 1) == 1)
		queue_close(pl->q_policy_out);
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
	size_t interrupted;	/* read, not emitted; added after join */
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
		if (pl->o->shard.n > 1 && (st == PROMPTS_OK ?
		    !shard_owns(&pl->o->shard, pr.id) : pl->o->shard.k)) {
			/* another shard's prompt; bad lines are shard 0's */
			c->other_shard++;
			prompt_release(&pr);
			reject_release(&rj);
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
			/* this one was read but will not be done now (the
			 * writer owns c->interrupted until the join) */
			rd->interrupted += st == PROMPTS_OK;
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
		line = reject_line(&it->rj);
	} else if (it->status == ST_OK && it->line) {
		f = OUT_RECORDS;
		line = it->line;
		it->line = NULL;
		if (pl->two && !emit_second(pl, it)) {
			free(line);	/* written by an earlier run */
			c->written++;
			usage_add(&c->usage, &it->usage);
			return;
		}
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

/* Tokens of every reply so far, per role. */
static void tokens_now(struct pipeline *pl, struct chat_usage u[2])
{
	for (int r = 0; r < 2; r++) {
		u[r].prompt_tokens = atomic_load(&pl->tokens[r][0]);
		u[r].completion_tokens = atomic_load(&pl->tokens[r][1]);
	}
}

/* The cost so far for the progress line; -1 without a price table. */
static double cost_now(struct pipeline *pl)
{
	struct chat_usage u[2];

	if (!pl->cfg->nprices)
		return -1;
	tokens_now(pl, u);
	return cost_usd(pl->cfg, u);
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
		pl->prog.cost = cost_now(pl);
		progress_update(&pl->prog, pl->c->written, pl->c->failed,
				pl->c->rejected, false);
	}
	free(ring);
}

/* ---- the run -------------------------------------------------------- */

/* The servers of both roles (endpoint.h): from base_urls, else base_url. */
static int pools_open(struct pipeline *pl, struct err *err)
{
	for (int r = 0; r < 2; r++) {
		const struct endpoint *ep = r ? &pl->cfg->judge
					      : &pl->cfg->policy;
		const char *one = ep->base_url;
		struct endpoint_tuning t = { 3, ep->cooldown, 60 };

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
	for (int r = 0; r < 2; r++) {
		if (pl->pool[r])
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
	cost_manifest(o, pl->cfg, c->usage_role);
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
	pthread_attr_t attr;
	int np = cfg->policy.concurrency, nj = cfg->judge.concurrency;
	size_t records2 = 0;
	double t0 = now_sec();
	time_t started = time(NULL);
	int rc = -1;
	char *m;
	const struct prompts_stats *ps;
	size_t todo;	/* progress total: this shard's part of the input */

	memset(c, 0, sizeof(*c));
	memset(&pl, 0, sizeof(pl));
	pl.o = o;
	pl.cfg = cfg;
	pl.c = c;
	pl.two = cfg->mode == MODE_BOTH;
	if (cfg->mode == MODE_CRITIQUES)
		nj = 0;		/* nothing to judge */
	idset_init(&pl.done2);
	/* Anthropic has no n: two calls from the start */
	atomic_init(&pl.n_mode, cfg->policy.api == API_ANTHROPIC ? N_ONE :
		    cfg->n);
	atomic_init(&pl.fatal, 0);
	atomic_init(&pl.samplers_left, np);
	atomic_init(&pl.judges_left, nj);
	idset_init(&pl.done);
	idset_init(&pl.rejected);
	pthread_mutex_init(&pl.lock, NULL);
	pthread_cond_init(&pl.slot_free, NULL);
	ratelimit_init(&pl.rl[0], cfg->policy.requests_per_minute,
		       cfg->policy.tokens_per_minute, np);
	ratelimit_init(&pl.rl[1], cfg->judge.requests_per_minute,
		       cfg->judge.tokens_per_minute, nj);
	if (pools_open(&pl, err) < 0)
		goto out;

	pl.in = prompts_open(cfg->prompts, cfg->max_line_bytes, err);
	if (!pl.in)
		goto out;
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

	pl.window = 2 * (size_t)(np + nj) + 16;
	pl.q_sample = queue_new(pl.window);
	pl.q_judge = queue_new(pl.window);
	pl.q_write = queue_new(pl.window);
	pl.q_policy_out = cfg->mode == MODE_CRITIQUES ? pl.q_write :
							pl.q_judge;
	todo = o->total_hint / (o->shard.n > 1 ? o->shard.n : 1); /* ~ours */
	progress_init(&pl.prog, todo > res.records + res.rejects ?
		      todo - res.records - res.rejects : 0,
		      cfg->progress_interval, cfg->quiet);

	ws = xcalloc((size_t)(np + nj), sizeof(*ws));
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, WORKER_STACK);
	for (int i = 0; i < np + nj; i++) {
		int e;

		worker_setup(&ws[i], &pl, i >= np);
		e = pthread_create(&ws[i].tid, &attr,
				   i < np ? policy_main : judge_main, &ws[i]);
		if (e) {
			/* nothing has been read or written yet: leave now,
			 * the output files are as they were */
			fprintf(stderr, "caigen: cannot start worker thread "
				"%d of %d: %s (lower --jobs or the "
				"concurrency settings)\n", i + 1, np + nj,
				strerror(e));
			exit(2);
		}
	}
	pthread_attr_destroy(&attr);
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
	for (int i = 0; i < np + nj; i++) {
		pthread_join(ws[i].tid, NULL);
		stats_add(&c->http[ws[i].role], &ws[i].http.stats);
		worker_release(&ws[i]);
	}
	tokens_now(&pl, c->usage_role);
	pl.prog.cost = cost_now(&pl);
	progress_update(&pl.prog, c->written, c->failed, c->rejected, true);
	progress_finish(&pl.prog);
	pools_close(&pl);

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
	idset_release(&pl.done2);
	pthread_mutex_destroy(&pl.lock);
	pthread_cond_destroy(&pl.slot_free);
	ratelimit_release(&pl.rl[0]);
	ratelimit_release(&pl.rl[1]);
	pools_close(&pl);
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
	cost_print(f, o->cfg, c->usage_role);
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
	if (o->shard.n > 1)
		fprintf(f, "caigen: shard %u/%u: %zu lines left to the other "
			"shards\n", o->shard.k, o->shard.n, c->other_shard);
	for (int r = 0; r < 2; r++)
		for (size_t i = 0; c->nendpoints[r] > 1 &&
		     i < c->nendpoints[r]; i++)
			fprintf(f, "caigen: %s server %s: %llu requests, %llu "
				"failed, %llu cool-downs\n", names[r],
				c->endpoints[r][i].url,
				(unsigned long long)c->endpoints[r][i].requests,
				(unsigned long long)c->endpoints[r][i].failures,
				(unsigned long long)
				c->endpoints[r][i].cooldowns);
}
