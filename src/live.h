/*
 * live.h - the live executor: item machines (item.h) driven by a few
 * event-loop threads, their calls sent over HTTP with libcurl's multi
 * interface.
 *
 * Each loop thread owns a set of items (given round-robin by
 * live_submit), a CURLM handle with its connection cache, an epoll set
 * and a timer heap. A call (call.h) goes through three places:
 *
 *   admission  a FIFO per role; a call leaves it when its loop's share of
 *              the role's limits allows (ratelimit.h: places in flight,
 *              requests and tokens per minute) and, past the highest
 *              number of calls this loop has had in flight so far, when
 *              the connection ramp allows (CONNECT_RATE new places per
 *              second), so a large concurrency never becomes a connect
 *              storm;
 *   the wire   one easy handle per attempt, on a server picked from the
 *              role's pool (endpoint.h), connections kept alive;
 *   retry      a failed attempt that may be retried (the policy of
 *              http.h; a 2xx whose body cannot be used is retried the
 *              same way, as `bad-body`) waits in the timer heap, keeping
 *              its place in flight, then goes on the wire again.
 *
 * When the call is over its machine's done function runs on the loop
 * thread, which may send more calls. The concurrency of a role is the
 * number of its calls admitted at once, split between the loops. With
 * `concurrency: auto` (the default) each loop has one limiter per server
 * (limiter.h), shared by the roles that send there: it admits the calls,
 * learns from each attempt (latency, 429/5xx/time-outs, the servers'
 * rate-limit headers) and moves the places between the roles' floor and
 * the sum of their ceilings; the 429 AIMD of ratelimit.h then stays out.
 * A call's body is built when the call is first in line, so calls
 * waiting for a place hold none. CAIGEN_LIMITER_TRACE=FILE: the first
 * loop's first limiter writes its trace there (the bench's plots).
 *
 * Stopping: at *stop == 1 calls not on the wire end at once with
 * c->stopped (their items end interrupted) and new calls are refused;
 * calls on the wire finish. At *stop >= 2 they are dropped too.
 *
 * Thread-safety: live_submit, live_close and live_tokens from any thread;
 * the rest from the thread that made the executor.
 */
#ifndef CAIGEN_LIVE_H
#define CAIGEN_LIVE_H

#include <signal.h>

#include "call.h"
#include "config.h"
#include "endpoint.h"
#include "http.h"
#include "item.h"
#include "budget.h"
#include "keep.h"
#include "ratelimit.h"

struct live;

struct live_opts {
	const struct config *cfg;
	struct endpoint_pool *pool[ROLE_COUNT];	/* borrowed */
	struct item_env *env;			/* borrowed */
	struct budget *budget;	/* the spending cap (budget.h), or NULL */
	struct keep *keep;	/* journal of policy answers (keep.h), or
				 * NULL: answers found there are not asked
				 * for, answers received are added */
	volatile sig_atomic_t *stop;
	int loops;		/* 0: one per core, at most the concurrency */
	/* finished items, handed on in batches from the loops' threads
	 * (the executor gives them away) */
	void (*deliver)(void *owner, struct item **items, size_t n);
	void *owner;
};

/* Start the loop threads. NULL with err when a thread cannot start. */
struct live *live_new(const struct live_opts *o, struct err *err);
/* Hand a prompt item to a loop; its machine starts there. */
void live_submit(struct live *lv, struct item *it);
/* An item's machine is over: env->done of a run on this executor. The
 * item goes to opts.deliver with the others finished in the same turn
 * of its loop. */
void live_item_finished(struct item_env *env, struct item *it);
/* A call of a machine another executor drives (batch.h, a mixed run):
 * sent by a loop like its own; c->done runs on that loop's thread, so
 * the caller's done hands the call back to its own thread. Any thread;
 * before live_close, and the loops keep running until live_close (the
 * caller waits for its calls before closing). */
void live_post(struct live *lv, struct call *c);
/* No more items: each loop ends when its items are done. */
void live_close(struct live *lv);
/* Wait for the loops to end. */
void live_join(struct live *lv);
/* Tokens of every reply so far, per role (each panel member its own).
 * Answers taken from the journal count nothing. Any thread. */
void live_tokens(struct live *lv, struct chat_usage u[ROLE_COUNT]);
/* After live_join: the HTTP counters and the limiters' counters per role
 * (summed over the loops; the caps are summed too). */
void live_stats(struct live *lv, struct http_stats h[ROLE_COUNT],
		struct ratelimit_stats rl[ROLE_COUNT]);
int live_loops(const struct live *lv);
/* The places in flight the limits allow now, over the loops and roles
 * (the limiters' current limits, the fixed concurrencies): the reader
 * keeps about twice this many items in flight. Any thread. */
int live_places(struct live *lv);
/* Calls waiting for a place now, over the loops and roles (not those
 * waiting for a retry): an item read while many wait holds memory and
 * no place, so the reader waits while this is more than a few. Any
 * thread. */
long live_waiting(struct live *lv);
void live_free(struct live *lv);	/* NULL is fine */

#endif
