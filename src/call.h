/*
 * call.h - one model request, as an item machine asks for it and an
 * executor answers it.
 *
 * A machine (sampler.h, critique.h, judgecall.h, item.h) never blocks and
 * never touches a socket: it fills a struct call (role, parameters, a
 * completion function) and hands it to its executor with exec_send. It
 * depends on the data a call carries (chat.h), not on the wire. The
 * executor (live.h: HTTP through libcurl's multi interface; batch.h:
 * provider batch APIs or an offline runner's files) sends it, with the
 * retries, limits and server picks it owns, and when the call is over,
 * whatever the outcome, fills the result fields and calls c->done(c) on
 * the thread that drives the machine. done may send the same call again
 * (its next step) or others. What may be sent at all (the spending cap,
 * the limits) is the executor's decision: a call it will not send ends
 * with c->stopped, and the cap sets item_env.capped.
 *
 * Ownership: the call struct and everything cp points to belong to the
 * machine and must stay alive until done runs. On success c->reply is the
 * machine's to release (chat_reply_release). Exactly one done per send.
 *
 * Thread-safety: a machine and its calls are driven by one thread at a
 * time (the executor loop that owns the item).
 */
#ifndef CAIGEN_CALL_H
#define CAIGEN_CALL_H

#include <stdbool.h>
#include <stdlib.h>

#include "chat.h"
#include "util.h"

/* A panel of judges (ranking.h) gives member m the role ROLE_JUDGE + m,
 * with its own endpoint, pool, limits, tokens and cost in the executor
 * and the run's counts. */
enum role { ROLE_POLICY = 0, ROLE_JUDGE = 1, ROLE_COUNT = ROLE_JUDGE + 8 };

struct call;
typedef void (*call_done_fn)(struct call *c);

/* What went wrong with a call. Every item in flight holds its calls and
 * most calls never fail, so this is kept off the struct until something
 * does: 1.3 KB less a call. */
struct call_fault {
	struct err err;		/* key-free */
	char body[256];		/* start of the last error body */
};

struct call {
	/* set by the machine */
	int role;		/* enum role */
	struct chat_params cp;	/* cp.api is set by the executor */
	call_done_fn done;
	/* optional: called when the call leaves its wait for a place, so
	 * the machine can still change it by what other calls learnt
	 * meanwhile; true if it changed cp */
	bool (*prepare)(struct call *c);
	void *owner;		/* the machine's own pointer */
	const char *prompt_id;	/* the prompt's id, for a policy call (the
				 * live journal, keep.h, forgets the answers
				 * of a prompt that failed); may be NULL */
	int tag;		/* the machine's own step number */

	/* set by the executor before done */
	int rc;			/* 0: reply holds a usable 2xx reply */
	struct chat_reply reply;
	struct call_fault *fault;	/* rc < 0: what went wrong (call_err,
					 * call_errmsg, call_errbody); NULL
					 * while nothing did */
	long status;		/* last HTTP status, 0 if none */
	bool stopped;		/* not sent or dropped: the run is stopping */

	/* executor-private */
	struct call *next;
	int attempt;		/* attempts made before the current one */
	double due;		/* retry timer */
	double t0;		/* when it was sent */
	double held;		/* when a rate bucket first held it, or 0 */
	double est_tokens;
	size_t server;		/* picked before a back-off wait */
	bool picked;		/* server is picked and counted in flight */
	bool saw_429;
	bool unplaced;		/* its limiter place given back while it
				 * waits to be retried (live.c) */
	int confirms;		/* refusals sent again to confirm them */
	double reserved;	/* USD held by the spending cap */
	char *body;
	size_t body_len;
	char cid[48];		/* batch: the request's custom_id */
	call_done_fn relay;	/* mixed run: the machine's done while a
				 * live loop has the call (batch.h) */
	void *relay_to;		/* ... and the executor it goes back to */
};

/* The call's error, to fill: made on first use (the executor's, on a
 * failure; the machine's copy of it in done). */
static inline struct err *call_err(struct call *c)
{
	if (!c->fault)
		c->fault = xcalloc(1, sizeof(*c->fault));
	return &c->fault->err;
}

/* What went wrong ("" if nothing), and the start of the last error
 * body ("" if none). Valid until the call is sent again or forgotten. */
static inline const char *call_errmsg(const struct call *c)
{
	return c->fault ? c->fault->err.msg : "";
}

static inline const char *call_errbody(const struct call *c)
{
	return c->fault ? c->fault->body : "";
}

/* Drop the error: the executor does at each send, the machine when it
 * releases the call. */
static inline void call_forget(struct call *c)
{
	free(c->fault);
	c->fault = NULL;
}

/* The executor a machine sends through. */
struct exec {
	void (*send)(struct exec *x, struct call *c);
};

static inline void exec_send(struct exec *x, struct call *c)
{
	x->send(x, c);
}

#endif
