/*
 * live.c - event loops over libcurl's multi interface (see live.h).
 *
 * DESIGN
 * One loop = one thread, one epoll set, one eventfd (woken by
 * live_submit and live_close), a CURLM per SHELF_CONNECTIONS of its
 * places (struct shelf: one on HTTP/2), a binary heap of retry timers
 * and a FIFO per role of calls waiting for admission. The loop body:
 *
 *   take new items from the inbox and start their machines
 *   stopping? end waiting calls (and, at level 2, the wire)
 *   fire due retry timers, admit what the limits allow
 *   epoll_wait until the next curl or retry timer, then let curl work
 *   hand every finished transfer to its call: retry, or done
 *
 * Machines run only here, so nothing of an item is shared between
 * threads; what the loops share (endpoint pools, the writer's queue, the
 * atomics of item_env) is thread-safe on its own.
 */
#include "live.h"
#include "provider.h"
#include "budget.h"
#include "callkey.h"
#include "keep.h"
#include "guard.h"
#include "http.h"
#include "limiter.h"
#include "preflight.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_LOOPS 16
#define SHELF_CONNECTIONS 128	/* a loop's transfers per multi handle ... */
#define MAX_SHELVES 8		/* ... in at most this many (struct shelf) */
#define LOOP_CONNECTIONS 1024	/* places in flight per loop, at most */
#define MAX_BODY (64u << 20)	/* ceiling on one reply */
#define RECV_BUFFER 4096	/* curl's receive buffer per transfer ... */
#define RECV_BUFFER_MIN 1024	/* ... and past RECV_BUFFER_FROM transfers
				 * of a loop, libcurl's smallest: a few
				 * more reads a reply, 3 KB less a place */
#define RECV_BUFFER_FROM 256
#define CONNECT_RATE 20000.0	/* new places in flight per second ... */
#define CONNECT_BURST 256.0	/* ... after a burst of this many */
#define MAX_NAP_MS 100		/* wake up at least this often */
#define FD_RESERVE 128		/* descriptors kept for the output, the
				 * journal, the loops' own and the rest */
#define KEEP_KEY (CALLKEY_HEX + 3)	/* "p-", the draw's key, NUL */
#define LIMITER_POLL 0.001	/* seconds: a loop waiting for a place of a
				 * limiter shared with other loops looks
				 * again this often */

struct loop;

/*
 * One of a loop's multi handles, each with its connection cache. libcurl
 * 7.88 walks a multi handle's connections for every transfer: for an idle
 * one to the host when it starts (ConnectionExists, past every connection
 * in use) and over all of them when it is removed (close_connect_only).
 * At 10,000 in flight, ten loops of 1,000 connections, those walks were
 * 15 % of caigen's CPU; a loop's transfers are dealt over shelves of
 * about SHELF_CONNECTIONS, so each walk is that long at most.
 */
struct shelf {
	struct loop *lp;
	CURLM *multi;
	double curl_due;	/* curl's timer, < 0 none */
	int k;			/* lp->sh[k] */
};

/* One attempt on the wire. */
struct xfer {
	CURL *easy;
	struct shelf *sh;	/* the multi handle it is added to, for good
				 * (its connections are that one's) */
	struct loop *lp;
	struct call *call;
	struct buf resp;
	struct http_hints hints;
	double sent;		/* when the attempt went on the wire */
	char curl_err[CURL_ERROR_SIZE];
	struct xfer *next;	/* idle list */
	struct xfer *next_sent;	/* the loop's sent list */
	bool sent_all;		/* on the sent list (its body went out) */
};

struct fifo {
	struct call *head, *tail;
};

struct loop {
	struct exec x;		/* first: machines hold &lp->x */
	struct live *lv;
	pthread_t tid;
	struct shelf sh[MAX_SHELVES];
	int nsh;
	int epfd, evfd;

	pthread_mutex_t lock;	/* guards inbox, calls_in and closed */
	struct item *in_head, *in_tail;
	struct call *calls_in;	/* live_post: calls of another executor */
	bool closed;

	size_t items;		/* machines running here */
	struct item **finished;	/* over this turn, to deliver */
	size_t nfinished, capfinished;
	struct fifo admit[ROLE_COUNT];
	double blocked_until[ROLE_COUNT];	/* a bucket said wait */
	struct call **heap;	/* retry timers, by due */
	size_t nheap, capheap;
	unsigned char *parked;	/* by descriptor: in epoll, curl not
				 * watching it (on_socket) */
	size_t nparked;
	struct xfer *idle;
	struct xfer *sent;	/* transfers whose body went out this turn */
	struct xfer **all;	/* every transfer made, idle or not */
	size_t nall, capall;
	size_t wire;		/* transfers on the wire */
	size_t placed;		/* calls admitted, both roles */
	size_t placed_role[ROLE_COUNT];
	size_t high;		/* the most placed at once so far */
	size_t fd_cap;		/* most connections at once, a descriptor
				 * each: a place each on HTTP/1.1, one per
				 * HTTP_H2_STREAMS places on HTTP/2 */
	bool mux[ROLE_COUNT];	/* the role's requests share connections:
				 * HTTP/2 (h2c; on https until a reply
				 * says HTTP/1.1) */
	size_t role_places[ROLE_COUNT];	/* the most placed of a role here */
	long conn_cap;		/* CURLMOPT_MAX_HOST_CONNECTIONS; 0 none */
	bool fd_full;		/* a role waits for fd_cap */
	double ramp, ramp_at;	/* connection ramp bucket */

	struct ratelimit rl[ROLE_COUNT];
	bool lim_full[ROLE_COUNT];	/* blocked by a full limiter */
	struct http_stats stats[ROLE_COUNT];
	uint64_t jitter;
};

struct live {
	const struct config *cfg;
	struct item_env *env;
	struct budget *budget;
	struct keep *keep;
	struct endpoint_pool *pool[ROLE_COUNT];
	volatile sig_atomic_t *stop;
	void (*deliver)(void *owner, struct item **items, size_t n);
	void *owner;
	const struct endpoint *ep[ROLE_COUNT];
	char *auth[ROLE_COUNT];		/* secrets: wiped on free */
	const char *hdr[ROLE_COUNT][2];	/* for scrubbing replies */
	size_t nhdr[ROLE_COUNT];
	struct curl_slist *slist[ROLE_COUNT];
	struct guard_streak streak[ROLE_COUNT];	/* refusals in a row */
	int nloops;
	struct loop loops[MAX_LOOPS];
	atomic_uint next_loop;
	atomic_llong tokens[ROLE_COUNT][2];
	atomic_long waiting;	/* calls in the loops' admit queues */
	size_t fds;		/* connections the open-file limit allows */
	atomic_int fd_said;	/* the warning that they are all used */
	FILE *trace;		/* CAIGEN_LIMITER_TRACE: the first limiter's */
	/* concurrency: auto: one limiter per server for the run, shared by
	 * the roles that send there and by every loop (lim_of[r]; NULL:
	 * the role's concurrency is fixed and each loop's rl[r] caps it) */
	struct limiter lim[ROLE_COUNT];
	struct limiter *lim_of[ROLE_COUNT];
	int nlim;
};

static int stop_level(const struct live *lv)
{
	return lv->stop ? (int)__atomic_load_n(lv->stop, __ATOMIC_RELAXED) :
	       0;
}

static bool stopping(const struct live *lv)
{
	return item_env_stopping(lv->env);
}

static double unit_random(struct loop *lp)
{
	/* xorshift64*: timing only, not the keyed generator */
	uint64_t x = lp->jitter;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	lp->jitter = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) /
	       9007199254740992.0;
}

/* ---- queues and timers ------------------------------------------------ */

static void fifo_push(struct fifo *f, struct call *c)
{
	c->next = NULL;
	if (f->tail)
		f->tail->next = c;
	else
		f->head = c;
	f->tail = c;
}

static struct call *fifo_pop(struct fifo *f)
{
	struct call *c = f->head;

	if (c) {
		f->head = c->next;
		if (!f->head)
			f->tail = NULL;
	}
	return c;
}

static void heap_push(struct loop *lp, struct call *c)
{
	size_t i;

	if (lp->nheap == lp->capheap) {
		lp->capheap = lp->capheap ? 2 * lp->capheap : 64;
		lp->heap = xrealloc(lp->heap, lp->capheap * sizeof(*lp->heap));
	}
	i = lp->nheap++;
	while (i > 0 && lp->heap[(i - 1) / 2]->due > c->due) {
		lp->heap[i] = lp->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	lp->heap[i] = c;
}

static struct call *heap_pop(struct loop *lp)
{
	struct call *top = lp->heap[0], *last = lp->heap[--lp->nheap];
	size_t i = 0;

	for (;;) {
		size_t k = 2 * i + 1;

		if (k >= lp->nheap)
			break;
		if (k + 1 < lp->nheap && lp->heap[k + 1]->due < lp->heap[k]->due)
			k++;
		if (lp->heap[k]->due >= last->due)
			break;
		lp->heap[i] = lp->heap[k];
		i = k;
	}
	if (lp->nheap)
		lp->heap[i] = last;
	return top;
}

/* ---- the end of a call ----------------------------------------------- */

/* The call leaves its place in flight: settle the limits, then run the
 * machine's step (which may send more). */
static void call_end(struct loop *lp, struct call *c, int rc)
{
	struct live *lv = lp->lv;
	const struct chat_reply *r = rc == 0 ? &c->reply : NULL;
	double used = r ? (double)(r->usage.prompt_tokens +
				   r->usage.completion_tokens) : 0;

	struct limiter *lm = lv->lim_of[c->role];

	/* with a limiter, a 429 is its input, not the AIMD's */
	ratelimit_done(&lp->rl[c->role], c->attempt, used > 0 ?
		       used - c->est_tokens : 0, c->saw_429 && !lm);
	if (lm) {
		if (!c->unplaced)
			limiter_done(lm, now_sec(), -1, LIMITER_IGNORE);
		c->unplaced = false;
		/* a place is free for every role sending there */
		for (int q = 0; q < ROLE_COUNT; q++)
			if (lv->lim_of[q] == lm && lp->lim_full[q]) {
				lp->blocked_until[q] = 0;
				lp->lim_full[q] = false;
			}
	}
	if (lv->budget)
		budget_settle(lv->budget, c->role, c->reserved, r ?
			      &r->usage : NULL);
	lp->placed--;
	lp->placed_role[c->role]--;
	if (isinf(lp->blocked_until[c->role]))
		lp->blocked_until[c->role] = 0;	/* a place is free */
	if (lp->fd_full) {	/* a descriptor is free, for any role */
		lp->fd_full = false;
		for (int q = 0; q < ROLE_COUNT; q++)
			if (isinf(lp->blocked_until[q]))
				lp->blocked_until[q] = 0;
	}
	lp->stats[c->role].seconds += now_sec() - c->t0;
	if (r) {	/* tokens are paid for whatever becomes of them */
		atomic_fetch_add(&lv->tokens[c->role][0],
				 r->usage.prompt_tokens);
		atomic_fetch_add(&lv->tokens[c->role][1],
				 r->usage.completion_tokens);
	}
	free(c->body);
	c->body = NULL;
	c->rc = rc;
	c->done(c);
}

/* End a call that never got (or will not get) an answer. */
static void call_stopped(struct call *c, bool placed, struct loop *lp)
{
	c->stopped = true;
	c->status = 0;
	err_set(call_err(c), "stopped before the request was answered");
	if (placed) {
		call_end(lp, c, -1);
		return;
	}
	free(c->body);
	c->body = NULL;
	c->rc = -1;
	c->done(c);
}

/* ---- the wire --------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *t = arg;

	if (buf_add(&t->resp, p, size * n) < 0)
		return 0;	/* too big: curl aborts the transfer */
	return size * n;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *t = arg;

	http_hints_header(&t->hints, p, size * n);
	return size * n;
}

/* libcurl's progress: once the whole body went out, its upload buffer
 * may go (drop_ulbufs) */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	struct xfer *t = arg;

	(void)dltotal;
	(void)dlnow;
	if (!t->sent_all && ultotal > 0 && ulnow >= ultotal) {
		t->sent_all = true;
		t->next_sent = t->lp->sent;
		t->lp->sent = t;
	}
	return 0;
}

/* libcurl's upload buffer of a transfer goes (setting its size frees
 * it; libcurl makes another should it need one). */
static void drop_ulbuf(struct xfer *t)
{
	curl_easy_setopt(t->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
}

/*
 * On HTTP/2 libcurl 7.88 sends a body through an upload buffer of 16 KB
 * (its least) that each easy handle then keeps: 16 KB a request in
 * flight, more than the rest of the request. Once the whole body went
 * out (libcurl's progress says so), nothing points into the buffer: it
 * goes. (On HTTP/1.1 a small body goes out with the headers, no buffer.)
 * Run between curl calls, never inside a callback.
 */
static void drop_ulbufs(struct loop *lp)
{
	struct xfer *t;

	while ((t = lp->sent)) {
		curl_off_t up = 0;

		lp->sent = t->next_sent;
		t->sent_all = false;
		/* the list may hold a transfer put back and sent again
		 * since: its own body must be out */
		if (!t->call)
			continue;
		curl_easy_getinfo(t->easy, CURLINFO_SIZE_UPLOAD_T, &up);
		if (up >= (curl_off_t)t->call->body_len)
			drop_ulbuf(t);
	}
}

static struct xfer *xfer_get(struct loop *lp)
{
	struct xfer *t = lp->idle;

	if (t) {
		lp->idle = t->next;
		return t;
	}
	t = xcalloc(1, sizeof(*t));
	t->lp = lp;
	if (lp->nall == lp->capall) {
		lp->capall = lp->capall ? 2 * lp->capall : 64;
		lp->all = xrealloc(lp->all, lp->capall * sizeof(*lp->all));
	}
	lp->all[lp->nall++] = t;
	t->sh = &lp->sh[(lp->nall - 1) % (size_t)lp->nsh];
	t->easy = curl_easy_init();
	if (!t->easy) {
		fprintf(stderr, "caigen: curl_easy_init failed\n");
		exit(2);
	}
	buf_init(&t->resp, MAX_BODY);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(t->easy, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(t->easy, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(t->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->curl_err);
	curl_easy_setopt(t->easy, CURLOPT_BUFFERSIZE, (long)(lp->nall >
			 RECV_BUFFER_FROM ? RECV_BUFFER_MIN : RECV_BUFFER));
	/* bodies go out with the request (POSTFIELDS); should libcurl ever
	 * need its upload buffer, the smallest it takes, not 64 KB */
	curl_easy_setopt(t->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L);
	curl_easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "caigen/" CAIGEN_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	return t;
}

/* The reply's bytes were parsed (or copied) by now: its buffer goes,
 * so a transfer waiting on the wire or idle holds none. */
static void xfer_put(struct loop *lp, struct xfer *t)
{
	drop_ulbuf(t);	/* an idle handle keeps none (drop_ulbufs) */
	buf_release(&t->resp);
	t->call = NULL;
	t->next = lp->idle;
	lp->idle = t;
}

/* Put attempt c->attempt on the wire, to server c->server when picked
 * before a back-off, else to the pool's pick. */
static void attempt_start(struct loop *lp, struct call *c)
{
	struct live *lv = lp->lv;
	const struct endpoint *ep = lv->ep[c->role];
	struct endpoint_pool *pool = lv->pool[c->role];
	struct xfer *t;
	bool backoff = false;

	if (!c->picked) {
		c->server = endpoint_pick(pool, &backoff);
		c->picked = true;
		if (backoff && c->attempt > 0 && endpoint_pool_size(pool) > 1) {
			/* nobody is in service: wait before sending */
			double s = fmin(ep->backoff_max, ep->backoff_base *
					ldexp(1.0, c->attempt - 1));

			c->due = now_sec() + s;
			heap_push(lp, c);
			return;
		}
	}
	t = xfer_get(lp);
	t->call = c;
	t->curl_err[0] = '\0';
	http_hints_reset(&t->hints);
	curl_easy_setopt(t->easy, CURLOPT_URL, endpoint_url(pool, c->server));
	http_setup(t->easy, ep->http, endpoint_url(pool, c->server),
		   ep->ca_file);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, lv->slist[c->role]);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, c->body);
	curl_easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)c->body_len);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS,
			 (long)(ep->timeout * 1000));
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(ep->connect_timeout * 1000));
	curl_easy_setopt(t->easy, CURLOPT_LOW_SPEED_TIME,
			 ep->stall_timeout >= 1 ? (long)ep->stall_timeout :
			 30L);
	lp->stats[c->role].requests++;
	lp->wire++;
	t->sent = now_sec();
	curl_multi_add_handle(t->sh->multi, t->easy);
}

static void refused(struct loop *lp, struct call *c);

/* The journal's key of c: "p-" and the draw's key (callkey.h), a hash
 * of the body. Made once a body (the lookup before the call and the put
 * after its answer share it): it lives in the body's block past the
 * body's NUL (build_body leaves KEEP_KEY bytes there, the first one 0
 * until the key is made), so a body built again gets a key of its own. */
static const char *keep_key(struct call *c)
{
	char *key = c->body + c->body_len + 1;

	if (!key[0]) {
		callkey_hex(c, key + 2);
		key[1] = '-';
		key[0] = 'p';
	}
	return key;
}

/* A paid policy answer goes into the journal (keep.h) before its machine
 * sees it. A disk that refuses it is said once; the answer is used. */
static void keep_answer(struct live *lv, struct call *c,
			const struct buf *resp)
{
	static atomic_int said;
	struct err err;

	if (keep_put(lv->keep, keep_key(c), c->prompt_id, resp->data,
		     resp->len, &err) < 0 &&
	    atomic_exchange(&said, 1) == 0)
		fprintf(stderr, "caigen: warning: %s: answers are not kept "
			"for a resume\n", err.msg);
}

/* A policy call whose answer is in the journal: answered from there
 * without a request (its tokens were paid by the run that asked). */
static bool kept_answer(struct loop *lp, struct call *c)
{
	struct err e;
	char *body;
	int rc;

	body = keep_find(lp->lv->keep, keep_key(c));
	if (!body)
		return false;
	memset(&c->reply, 0, sizeof(c->reply));
	rc = provider_parse(c->cp.api, body, c->cp.logprobs, &c->reply, &e);
	free(body);
	if (rc < 0)
		return false;	/* ask again */
	c->status = 200;
	free(c->body);
	c->body = NULL;
	c->rc = 0;
	c->done(c);
	return true;
}

/* What an attempt tells the server's limiter: its latency, or that the
 * server is full (429, 5xx, 408, time-out, refused connection), and the
 * server's hints. Other failures say nothing of the load. */
static void teach(struct limiter *lm, const struct xfer *t, CURLcode cc,
		  long status)
{
	double now = now_sec();
	enum limiter_outcome o = LIMITER_IGNORE;

	if (cc == CURLE_OK && status >= 200 && status < 300)
		o = LIMITER_OK;
	else if (cc == CURLE_OK)
		o = status == 429 || status == 408 || status >= 500 ?
		    LIMITER_DROP : LIMITER_IGNORE;
	else if (cc == CURLE_OPERATION_TIMEDOUT ||
		 cc == CURLE_COULDNT_CONNECT)
		o = LIMITER_DROP;
	limiter_learn(lm, now, now - t->sent, o);
	if (cc == CURLE_OK)
		limiter_hint(lm, now, status == 429 || status == 503 ?
			     t->hints.retry_after : -1,
			     t->hints.remaining_requests,
			     t->hints.remaining_tokens,
			     t->hints.remaining_reset);
}

/*
 * The connections a loop may hold to one server (libcurl's
 * CURLMOPT_MAX_HOST_CONNECTIONS): none but the descriptors' while every
 * role speaks HTTP/1.1 (a connection a place); with HTTP/2, enough for
 * each multiplexing role's places at HTTP_H2_STREAMS a connection, plus
 * the places of the others. libcurl 7.88 opens a connection for each
 * transfer it cannot put on a full one, even with CURLOPT_PIPEWAIT (a
 * burst of 1,000 to nginx took 891 connections); past the cap a transfer
 * waits inside libcurl for a stream to free instead.
 */
static void set_conn_cap(struct loop *lp)
{
	bool any = false;
	size_t cap = 0;

	for (int r = 0; r < ROLE_COUNT; r++) {
		size_t n = lp->role_places[r];

		any |= lp->mux[r] && n > 0;
		cap += lp->mux[r] ? (n + HTTP_H2_STREAMS - 1) /
		       HTTP_H2_STREAMS + 1 : n;
	}
	if (!any)
		cap = 0;
	else if (cap > lp->fd_cap)
		cap = lp->fd_cap;
	if ((long)cap != lp->conn_cap) {
		lp->conn_cap = (long)cap;
		/* (several shelves only when no role may multiplex: then
		 * the cap is 0, none) */
		for (int k = 0; k < lp->nsh; k++)
			curl_multi_setopt(lp->sh[k].multi,
					  CURLMOPT_MAX_HOST_CONNECTIONS,
					  (long)(cap + (size_t)lp->nsh - 1) /
					  lp->nsh);
	}
}

/* What the reply of role r says of its connection: HTTP/2 (ALPN chose
 * it, or h2c) or not (an https server that offers only HTTP/1.1). */
static void learn_version(struct loop *lp, int r, CURL *easy)
{
	long v = 0;
	bool mux;

	curl_easy_getinfo(easy, CURLINFO_HTTP_VERSION, &v);
	if (v == 0)
		return;
	mux = v == CURL_HTTP_VERSION_2_0;
	if (mux != lp->mux[r]) {
		lp->mux[r] = mux;
		set_conn_cap(lp);
	}
}

/* An attempt is over: success, a retry, or the end of the call. */
static void attempt_end(struct loop *lp, struct xfer *t, CURLcode cc)
{
	struct live *lv = lp->lv;
	struct call *c = t->call;
	const struct endpoint *ep = lv->ep[c->role];
	struct endpoint_pool *pool = lv->pool[c->role];
	struct http_stats *st = &lp->stats[c->role];
	const char *url = endpoint_shown_url(pool, c->server);
	long status = 0;
	bool retry, several = endpoint_pool_size(pool) > 1;
	enum retry_cause cause;
	char msg[512] = "";
	struct err perr;
	double wait;

	curl_multi_remove_handle(t->sh->multi, t->easy);
	lp->wire--;
	c->picked = false;
	if (cc == CURLE_OK)
		curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	if (cc == CURLE_OK)
		learn_version(lp, c->role, t->easy);
	http_scrub(&t->resp, lv->hdr[c->role], lv->nhdr[c->role]);
	c->status = status;
	if (lv->lim_of[c->role])
		teach(lv->lim_of[c->role], t, cc, status);
	if (cc == CURLE_OK && status >= 200 && status < 300) {
		st->ok++;
		guard_streak_ok(&lv->streak[c->role]);
		memset(&c->reply, 0, sizeof(c->reply));
		/* a reply without the logprobs asked for is the
		 * machine's to judge (judgecall.h), not a retry */
		if (provider_parse(ep->api, t->resp.data, c->cp.logprobs,
				   &c->reply, &perr) == 0) {
			endpoint_done(pool, c->server, true, false);
			if (lv->keep && c->role == ROLE_POLICY)
				keep_answer(lv, c, &t->resp);
			xfer_put(lp, t);
			call_end(lp, c, 0);
			return;
		}
		*call_err(c) = perr;
		endpoint_done(pool, c->server, false, true);
		retry = true;
		cause = RETRY_BODY;
	} else if (cc == CURLE_OK) {
		http_error_message(t->resp.data, msg, sizeof(msg));
		err_set(call_err(c), "HTTP %ld from %s: %s", status, url,
			msg[0] ? msg : "(empty body)");
		snprintf(c->fault->body, sizeof(c->fault->body), "%s",
			 t->resp.data ? t->resp.data : "");
		retry = t->hints.should_retry >= 0 ?
			t->hints.should_retry == 1 :
			http_status_retryable(status, t->resp.data);
		if (several)
			retry = endpoint_failover(status, t->resp.data);
		cause = status == 429 ? RETRY_429 : status >= 500 ?
			RETRY_5XX : RETRY_408_409;
		c->saw_429 |= status == 429;
		endpoint_done(pool, c->server, false, status >= 500);
		if (!several && guard_unmendable(status, t->resp.data)) {
			xfer_put(lp, t);
			refused(lp, c);
			return;
		}
	} else {
		if (cc == CURLE_WRITE_ERROR)
			err_set(call_err(c), "reply from %s is larger than %u "
				"bytes", url, MAX_BODY);
		else
			err_set(call_err(c), "cannot reach %s: %s", url,
				t->curl_err[0] ? t->curl_err :
				curl_easy_strerror(cc));
		c->fault->body[0] = '\0';
		retry = cc != CURLE_WRITE_ERROR &&
			cc != CURLE_URL_MALFORMAT &&
			cc != CURLE_UNSUPPORTED_PROTOCOL;
		cause = cc == CURLE_OPERATION_TIMEDOUT ? RETRY_TIMEOUT :
			RETRY_CONNECT;
		endpoint_done(pool, c->server, false, true);
	}
	if (retry && c->attempt + 1 < ep->max_attempts && !stopping(lv)) {
		st->retries[cause]++;
		wait = several && cause != RETRY_BODY ? 0 :
		       http_retry_wait(&t->hints, status, msg, c->attempt,
				       ep->backoff_base > 0 ?
				       ep->backoff_base : 0.5,
				       ep->backoff_max > 0 ?
				       ep->backoff_max : 8,
				       unit_random(lp));
		xfer_put(lp, t);
		c->attempt++;
		c->due = now_sec() + wait;
		if (lv->lim_of[c->role]) {
			/* the place goes back while it waits: after a cut
			 * the retry takes a place like any call */
			limiter_done(lv->lim_of[c->role], now_sec(), -1,
				     LIMITER_IGNORE);
			c->unplaced = true;
		}
		heap_push(lp, c);
		return;
	}
	xfer_put(lp, t);
	st->gave_up++;
	if (c->attempt > 0 && !several) {
		char tmp[sizeof(c->fault->err.msg)];

		snprintf(tmp, sizeof(tmp), "%s", call_errmsg(c));
		err_set(call_err(c), "%s (after %d attempts)", tmp,
			c->attempt + 1);
	}
	call_end(lp, c, -1);
}

/*
 * A refusal no retry mends (guard.h) ended attempt c. The role's streak
 * counts it; at the limit the run stops, with one line naming the
 * endpoint and the fix. Below it the same request is sent again after a
 * backoff (a confirmation, not an attempt; fewer than the limit and than
 * max(max_attempts, 3) of them), so a key refused for good is confirmed
 * by the next requests before anything is recorded as failed, while
 * requests that go through in between (one prompt refused alone) end the
 * streak.
 */
static void refused(struct loop *lp, struct call *c)
{
	struct live *lv = lp->lv;
	const struct endpoint *ep = lv->ep[c->role];
	const char *field = c->role == ROLE_POLICY ? "policy" : "judge";
	int limit = lv->cfg->stop_after_refusals;
	int most = ep->max_attempts > GUARD_REFUSALS_DEFAULT ?
		   ep->max_attempts : GUARD_REFUSALS_DEFAULT;

	if (guard_streak_refused(&lv->streak[c->role]) &&
	    atomic_exchange(&lv->env->refused, 1) == 0) {
		char fix[300], *msg;
		/* a password in the URL is masked (util.h) */
		char *shown = url_mask(ep->nbase_urls ? ep->base_urls[0] :
				       ep->base_url);

		preflight_advice(ep, field, c->status, fix, sizeof(fix));
		msg = xasprintf("caigen: %s endpoint %s: %d requests in a row "
				"refused (%s): %s; stopping: the prompts not "
				"done are left for the next run\n", field,
				shown, limit, call_errmsg(c), fix);
		free(shown);
		for (int r = 0; r < ROLE_COUNT; r++)
			http_redact(msg, lv->ep[r]->api_key);
		fputs(msg, stderr);
		free(msg);
	} else if (!stopping(lv) && ++c->confirms < limit &&
		   c->confirms < most) {
		c->due = now_sec() + guard_backoff(c->confirms - 1,
			ep->backoff_base, ep->backoff_max, unit_random(lp));
		heap_push(lp, c);
		return;
	}
	lp->stats[c->role].gave_up++;
	call_end(lp, c, -1);
}

/* Every transfer curl has finished. */
static void reap(struct loop *lp)
{
	CURLMsg *m;
	int left;

	for (int k = 0; k < lp->nsh; k++)
		while ((m = curl_multi_info_read(lp->sh[k].multi, &left))) {
			struct xfer *t;

			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
					  (char **)&t);
			attempt_end(lp, t, m->data.result);
		}
}

/* ---- admission -------------------------------------------------------- */

/* The body of the call first in line, built once (shrunk to its size
 * and the room for its journal key, keep_key: a body lives as long as
 * its call's place). */
static void build_body(struct call *c)
{
	if (c->body)
		return;
	c->body = provider_body(&c->cp, &c->body_len);
	c->body = xrealloc(c->body, c->body_len + 1 + KEEP_KEY);
	c->body[c->body_len + 1] = '\0';	/* no journal key yet */
	c->est_tokens = ratelimit_estimate(c->body_len, c->cp.max_tokens,
					   c->cp.n);
}

/* The executor's send: queue the call for a place. */
static void loop_send(struct exec *x, struct call *c)
{
	struct loop *lp = (struct loop *)x;
	const struct endpoint *ep = lp->lv->ep[c->role];

	c->attempt = 0;
	c->confirms = 0;
	c->picked = false;
	c->saw_429 = false;
	c->unplaced = false;
	c->stopped = false;
	c->status = 0;
	call_forget(c);
	if (stopping(lp->lv)) {
		call_stopped(c, false, lp);
		return;
	}
	c->cp.api = ep->api;	/* the endpoint's flavour (flavour.h) */
	/* the body is built when the call is first in line (admit): a
	 * call waiting behind others holds none; but the journal's key is
	 * the body's hash */
	c->body = NULL;
	c->body_len = 0;
	if (lp->lv->keep && c->role == ROLE_POLICY) {
		build_body(c);
		if (kept_answer(lp, c))
			return;
	}
	c->t0 = now_sec();
	c->held = 0;
	fifo_push(&lp->admit[c->role], c);
	atomic_fetch_add_explicit(&lp->lv->waiting, 1, memory_order_relaxed);
}

/* The places in flight reached what the open-file limit allows: say so
 * once for the run. */
static void fd_warn(struct loop *lp)
{
	struct live *lv = lp->lv;
	bool mux = false;

	if (lv->cfg->quiet || atomic_exchange(&lv->fd_said, 1))
		return;
	for (int r = 0; r < ROLE_COUNT; r++)
		mux |= lp->mux[r];
	if (mux)
		fprintf(stderr, "caigen: warning: the open-file limit (ulimit "
			"-n) leaves room for %zu connections (HTTP/2: up to "
			"%d requests each): no more requests are sent at once "
			"(raise the limit for more)\n", lv->fds,
			HTTP_H2_STREAMS);
	else
		fprintf(stderr, "caigen: warning: the open-file limit (ulimit "
			"-n) leaves room for %zu requests in flight: no more "
			"are sent at once (raise the limit for more)\n",
			lv->fds);
}

/* What one more place costs of the connection ramp: a connection on
 * HTTP/1.1, a stream of one on HTTP/2. */
static double ramp_cost(const struct loop *lp, int r)
{
	return lp->mux[r] ? 1.0 / HTTP_H2_STREAMS : 1.0;
}

/* May one more place of role r open now (the connection ramp)? */
static bool ramp_allows(struct loop *lp, int r, double now)
{
	if (lp->placed < lp->high)
		return true;
	lp->ramp = fmin(CONNECT_BURST, lp->ramp + (now - lp->ramp_at) *
			CONNECT_RATE);
	lp->ramp_at = now;
	if (lp->ramp < ramp_cost(lp, r))
		return false;
	lp->ramp -= ramp_cost(lp, r);
	return true;
}

/*
 * Is there a descriptor for one more place of role r? Each place on
 * HTTP/1.1 holds a connection; on HTTP/2 HTTP_H2_STREAMS places share
 * one, and the connections to a server are capped within the
 * descriptors (set_conn_cap): with a server that allows fewer streams a
 * connection, transfers wait inside libcurl for one rather than open
 * more.
 */
static bool fd_room(const struct loop *lp, int r)
{
	size_t need = 0;

	for (int q = 0; q < ROLE_COUNT; q++) {
		size_t n = lp->placed_role[q] + (q == r);

		need += lp->mux[q] ? (n + HTTP_H2_STREAMS - 1) /
				     HTTP_H2_STREAMS : n;
	}
	return need <= lp->fd_cap;
}

/* Admit what the limits allow, in order, per role: the judges (and panel
 * members) before the policy. Roles on one server share its limiter, and
 * a judge's call finishes an item the policy has already paid for, while
 * a policy call starts a new one: with the roles taking turns, the policy
 * took places the judges then waited for (llama.cpp, 4 slots, 16 places
 * shared: 0.80-0.88 of fixed 8 + 8; judges first: 0.94). The policy is
 * not starved: the judges' calls come only from its answers. */
static void admit(struct loop *lp, double now)
{
	for (int k = 0; k < ROLE_COUNT; k++) {
		int r = ROLE_COUNT - 1 - k;
		struct fifo *f = &lp->admit[r];
		struct limiter *lm = lp->lv->lim_of[r];

		while (f->head && now >= lp->blocked_until[r]) {
			struct call *c = f->head;
			double w;

			if (!fd_room(lp, r)) {
				/* no descriptor for one more connection:
				 * until a call ends */
				lp->blocked_until[r] = INFINITY;
				lp->fd_full = true;
				fd_warn(lp);
				break;
			}
			if (!ramp_allows(lp, r, now)) {
				lp->blocked_until[r] = now + 1 / CONNECT_RATE;
				break;
			}
			build_body(c);
			w = lm ? limiter_take(lm, now, c->est_tokens) : 0;
			if (w == 0) {
				w = ratelimit_try(&lp->rl[r], c->est_tokens,
						  c->held > 0 ? now - c->held :
						  0);
				if (w != 0 && lm)	/* give it back */
					limiter_done(lm, now, -1,
						     LIMITER_IGNORE);
			}
			if (w != 0) {
				lp->ramp += ramp_cost(lp, r);	/* unused */
				if (w > 0) {
					lp->blocked_until[r] = now + w;
					if (c->held == 0)
						c->held = now;
				} else if (lm && w < 0 && lp->lv->nloops > 1) {
					/* the server's places are shared
					 * with the other loops, whose calls
					 * end unseen here: look again soon */
					lp->blocked_until[r] = now + LIMITER_POLL;
					lp->lim_full[r] = true;
				} else {
					/* no place: until a call ends */
					lp->blocked_until[r] = INFINITY;
					lp->lim_full[r] = lm != NULL;
				}
				break;
			}
			fifo_pop(f);
			atomic_fetch_sub_explicit(&lp->lv->waiting, 1,
						  memory_order_relaxed);
			if (c->prepare && c->prepare(c)) {
				double est = c->est_tokens;	/* taken */

				free(c->body);
				c->body = NULL;
				c->cp.api = lp->lv->ep[r]->api;
				build_body(c);
				c->est_tokens = est;
			}
			lp->placed++;
			lp->placed_role[r]++;
			if (lp->placed > lp->high)
				lp->high = lp->placed;
			c->reserved = 0;
			if (lp->lv->budget &&
			    !budget_take(lp->lv->budget, r,
					 (double)c->body_len / 4.0,
					 (double)c->cp.max_tokens *
					 (c->cp.n > 1 ? c->cp.n : 1),
					 &c->reserved)) {
				/* the cap: this call and the run stop */
				atomic_store(&lp->lv->env->capped, 1);
				call_stopped(c, true, lp);
				continue;
			}
			attempt_start(lp, c);
		}
	}
}

/* ---- curl's callbacks ------------------------------------------------- */

/*
 * Parked sockets. curl says CURL_POLL_REMOVE when no transfer uses a
 * socket any more: mostly a kept-alive connection between two requests.
 * Taking it out of epoll there and putting it back at its next request
 * cost two epoll_ctl calls a request; so a socket curl parks stays in
 * epoll, marked in lp->parked (one byte a descriptor). curl's next use of
 * it is one EPOLL_CTL_MOD, or an ADD when the descriptor was closed
 * meanwhile (closing a descriptor takes it out of epoll by itself, so MOD
 * then fails with ENOENT, also when the number now names a new socket).
 * curl does not watch a parked socket: an event on one (the server closed
 * the connection, say) takes it out of epoll then, else level-triggered
 * epoll would report it at every wait; curl is not told, as it would
 * ignore it.
 */
static void park(struct loop *lp, curl_socket_t s, bool on)
{
	size_t i = (size_t)s;

	if (i >= lp->nparked) {
		size_t n = lp->nparked ? lp->nparked : 256;

		if (!on)
			return;
		while (n <= i)
			n *= 2;
		lp->parked = xrealloc(lp->parked, n);
		memset(lp->parked + lp->nparked, 0, n - lp->nparked);
		lp->nparked = n;
	}
	lp->parked[i] = on;
}

static bool parked(const struct loop *lp, curl_socket_t s)
{
	return s >= 0 && (size_t)s < lp->nparked && lp->parked[s];
}

/* An epoll event's data: the descriptor and its shelf. */
static uint64_t ev_data(const struct shelf *sh, int fd)
{
	return (uint64_t)sh->k << 32 | (uint32_t)fd;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *arg,
		     void *sockp)
{
	struct shelf *sh = arg;
	struct loop *lp = sh->lp;
	struct epoll_event ev = { 0 };

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sockp) {	/* stays in epoll, parked */
			park(lp, s, true);
			curl_multi_assign(sh->multi, s, NULL);
		}
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) |
		    (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	ev.data.u64 = ev_data(sh, s);
	if (sockp) {
		epoll_ctl(lp->epfd, EPOLL_CTL_MOD, s, &ev);
	} else {
		bool was = parked(lp, s);

		if (was)
			park(lp, s, false);
		if ((!was || epoll_ctl(lp->epfd, EPOLL_CTL_MOD, s, &ev) < 0) &&
		    epoll_ctl(lp->epfd, EPOLL_CTL_ADD, s, &ev) < 0 &&
		    errno == EEXIST)
			epoll_ctl(lp->epfd, EPOLL_CTL_MOD, s, &ev);
		curl_multi_assign(sh->multi, s, sh);
	}
	return 0;
}

static int on_timer(CURLM *m, long ms, void *arg)
{
	struct shelf *sh = arg;

	(void)m;
	sh->curl_due = ms < 0 ? -1 : now_sec() + (double)ms / 1000.0;
	return 0;
}

void live_item_finished(struct item_env *env, struct item *it)
{
	struct loop *lp = (struct loop *)it->x;

	(void)env;
	if (lp->nfinished == lp->capfinished) {
		lp->capfinished = lp->capfinished ? 2 * lp->capfinished : 64;
		lp->finished = xrealloc(lp->finished, lp->capfinished *
					sizeof(*lp->finished));
	}
	lp->finished[lp->nfinished++] = it;
}

/* Hand this turn's finished items on. */
static void deliver(struct loop *lp)
{
	if (!lp->nfinished)
		return;
	lp->items -= lp->nfinished;
	lp->lv->deliver(lp->lv->owner, lp->finished, lp->nfinished);
	lp->nfinished = 0;
}

/* ---- the loop ---------------------------------------------------------- */

static void take_inbox(struct loop *lp, bool *closed)
{
	struct item *it, *next;
	struct call *c, *cn;

	pthread_mutex_lock(&lp->lock);
	it = lp->in_head;
	lp->in_head = lp->in_tail = NULL;
	c = lp->calls_in;
	lp->calls_in = NULL;
	*closed = lp->closed;
	pthread_mutex_unlock(&lp->lock);
	for (; it; it = next) {
		next = it->next;
		lp->items++;
		item_start(it, lp->lv->env, &lp->x);
	}
	for (; c; c = cn) {	/* posted in reverse; order is free */
		cn = c->next;
		loop_send(&lp->x, c);
	}
}

/* The run is stopping: end every call that is not on the wire (and at
 * level 2 those on it too). Their done functions may send more, which
 * ends at once. */
static void stop_calls(struct loop *lp)
{
	struct call *c;

	for (int r = 0; r < ROLE_COUNT; r++)
		while ((c = fifo_pop(&lp->admit[r]))) {
			atomic_fetch_sub_explicit(&lp->lv->waiting, 1,
						  memory_order_relaxed);
			call_stopped(c, false, lp);
		}
	while (lp->nheap) {
		c = heap_pop(lp);
		if (c->picked)
			endpoint_done(lp->lv->pool[c->role], c->server, false,
				      false);
		c->picked = false;
		call_stopped(c, true, lp);
	}
	if (stop_level(lp->lv) < 2)
		return;
	for (size_t i = 0; i < lp->nall; i++) {
		struct xfer *t = lp->all[i];

		if (!t->call)
			continue;
		c = t->call;
		curl_multi_remove_handle(t->sh->multi, t->easy);
		lp->wire--;
		endpoint_done(lp->lv->pool[c->role], c->server, false, false);
		c->picked = false;
		xfer_put(lp, t);
		call_stopped(c, true, lp);
	}
}

static void fire_timers(struct loop *lp, double now)
{
	while (lp->nheap && lp->heap[0]->due <= now) {
		struct call *c = heap_pop(lp);
		struct limiter *lm = lp->lv->lim_of[c->role];

		if (c->unplaced) {
			/* a retry takes its place back first */
			double w = limiter_take(lm, now, c->est_tokens);

			if (w != 0) {
				c->due = now + (w > 0 ? w : LIMITER_POLL);
				heap_push(lp, c);
				continue;
			}
			c->unplaced = false;
		}
		attempt_start(lp, c);
	}
}

static int nap_ms(struct loop *lp, double now)
{
	double due = now + MAX_NAP_MS / 1000.0;

	for (int k = 0; k < lp->nsh; k++)
		if (lp->sh[k].curl_due >= 0 && lp->sh[k].curl_due < due)
			due = lp->sh[k].curl_due;
	if (lp->nheap && lp->heap[0]->due < due)
		due = lp->heap[0]->due;
	for (int r = 0; r < ROLE_COUNT; r++)
		if (lp->admit[r].head && lp->blocked_until[r] < due)
			due = lp->blocked_until[r];
	if (due <= now)
		return 0;
	return (int)ceil((due - now) * 1000);
}

static void *loop_main(void *arg)
{
	struct loop *lp = arg;
	struct epoll_event evs[256];
	bool closed = false;
	int running;

	for (;;) {
		double now;
		int n, ms;

		take_inbox(lp, &closed);
		if (stopping(lp->lv))
			stop_calls(lp);
		now = now_sec();
		fire_timers(lp, now);
		admit(lp, now);
		deliver(lp);
		if (closed && lp->items == 0) {
			pthread_mutex_lock(&lp->lock);
			closed = lp->in_head == NULL;
			pthread_mutex_unlock(&lp->lock);
			if (closed)
				break;
			continue;
		}
		ms = nap_ms(lp, now);
		n = epoll_wait(lp->epfd, evs, (int)ARRAY_SIZE(evs), ms);
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64, mask = 0;
			int k = (int)(evs[i].data.u64 >> 32);

			if (fd == lp->evfd) {
				uint64_t v;

				if (read(lp->evfd, &v, sizeof(v)) < 0) {
					/* nothing pending: fine */
				}
				continue;
			}
			if (parked(lp, fd)) {	/* curl does not watch it */
				park(lp, fd, false);
				epoll_ctl(lp->epfd, EPOLL_CTL_DEL, fd, NULL);
				continue;
			}
			mask |= evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0;
			mask |= evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0;
			mask |= evs[i].events & (EPOLLERR | EPOLLHUP) ?
				CURL_CSELECT_ERR : 0;
			curl_multi_socket_action(lp->sh[k].multi, fd, mask,
						 &running);
		}
		now = now_sec();
		for (int k = 0; k < lp->nsh; k++) {
			struct shelf *sh = &lp->sh[k];

			if (sh->curl_due >= 0 && now >= sh->curl_due) {
				sh->curl_due = -1;
				curl_multi_socket_action(sh->multi,
							 CURL_SOCKET_TIMEOUT,
							 0, &running);
			}
		}
		drop_ulbufs(lp);	/* before reap puts transfers back */
		reap(lp);
		deliver(lp);
	}
	return NULL;
}

/* ---- the executor ----------------------------------------------------- */

static void loop_free(struct loop *lp)
{
	for (size_t i = 0; i < lp->nall; i++) {
		struct xfer *t = lp->all[i];

		curl_easy_cleanup(t->easy);
		buf_release(&t->resp);
		free(t);
	}
	free(lp->all);
	free(lp->heap);
	free(lp->finished);
	for (int k = 0; k < lp->nsh; k++)
		if (lp->sh[k].multi)
			curl_multi_cleanup(lp->sh[k].multi);
	free(lp->parked);	/* after curl's last on_socket */
	if (lp->epfd >= 0)
		close(lp->epfd);
	if (lp->evfd >= 0)
		close(lp->evfd);
	for (int r = 0; r < ROLE_COUNT; r++)
		ratelimit_release(&lp->rl[r]);
	pthread_mutex_destroy(&lp->lock);
}

/* Share k of n of a total, at least 1 when the total is. */
static int share(int total, int k, int n)
{
	int s = total / n + (k < total % n);

	return s > 0 ? s : total > 0;
}

/* Thousands of connections need as many descriptors: raise the soft
 * limit to the hard one. Returns how many connections the limit leaves
 * room for (FD_RESERVE kept for the rest); SIZE_MAX: no limit. */
static size_t raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return SIZE_MAX;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > SIZE_MAX / 2)
		return SIZE_MAX;
	return rl.rlim_cur > 2 * FD_RESERVE ? rl.rlim_cur - FD_RESERVE :
	       rl.rlim_cur / 2;
}

/* One loop per core; and at least one per LOOP_CONNECTIONS places in
 * flight (a loop's transfers are dealt over shelves, multi handles of
 * SHELF_CONNECTIONS each, so libcurl's walks of its connections stay
 * short). Never more loops than the smaller concurrency has places. */
static int loops_for(const struct live_opts *o)
{
	const struct config *cfg = o->cfg;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int judge = cfg->mode != MODE_CRITIQUES ?
		    endpoint_max_concurrency(&cfg->judge) : 0;
	int total = endpoint_max_concurrency(&cfg->policy) + judge;
	/* 0: no policy (label) */
	int least = endpoint_max_concurrency(&cfg->policy);
	int n = o->loops;

	if (n <= 0) {
		n = cores > 0 ? (int)cores : 1;
		if (n < (total + LOOP_CONNECTIONS - 1) / LOOP_CONNECTIONS)
			n = (total + LOOP_CONNECTIONS - 1) / LOOP_CONNECTIONS;
	}
	if (judge && (least == 0 || judge < least))
		least = judge;
	/* every loop needs a place of every panel member too */
	for (size_t m = 0; judge && m < cfg->nmembers; m++)
		if (endpoint_max_concurrency(&cfg->member_views[m]->judge) <
		    least)
			least = endpoint_max_concurrency(
				&cfg->member_views[m]->judge);
	if (n > least)
		n = least;
	if (n > MAX_LOOPS)
		n = MAX_LOOPS;
	return n > 0 ? n : 1;
}

/* Loop i's share of the panel members' places (beyond judge's). */
static int panel_places(const struct config *cfg, int i, int n)
{
	int sum = 0;

	for (size_t m = 0; m < cfg->nmembers; m++)
		sum += share(endpoint_max_concurrency(
			&cfg->member_views[m]->judge), i, n);
	return sum;
}

/* Does role r send at all in this run? */
static bool role_used(const struct config *cfg, int r)
{
	if (r == ROLE_POLICY)
		return cfg->policy.concurrency > 0;
	if (cfg->mode == MODE_CRITIQUES)
		return false;
	return r == ROLE_JUDGE || (size_t)(r - ROLE_JUDGE) <= cfg->nmembers;
}

/* Are all of an endpoint's servers https ones (auto: HTTP/2 likely)? */
static bool all_https(const struct endpoint *ep)
{
	if (!ep->nbase_urls)
		return !strncasecmp(ep->base_url, "https://", 8);
	for (size_t i = 0; i < ep->nbase_urls; i++)
		if (strncasecmp(ep->base_urls[i], "https://", 8))
			return false;
	return true;
}

static bool same_server(const struct endpoint *a, const struct endpoint *b)
{
	if (a->nbase_urls != b->nbase_urls)
		return false;
	if (!a->nbase_urls)
		return a->base_url && b->base_url &&
		       !strcmp(a->base_url, b->base_url);
	for (size_t i = 0; i < a->nbase_urls; i++)
		if (strcmp(a->base_urls[i], b->base_urls[i]))
			return false;
	return true;
}

/* concurrency: auto: one limiter per server for the run, shared by the
 * roles sending there and by the loops: its floor the highest floor, its
 * ceiling and its start the sums of theirs. */
static void live_limiters(struct live *lv)
{
	const struct config *cfg = lv->cfg;

	for (int r = 0; r < ROLE_COUNT; r++) {
		const struct endpoint *ep = lv->ep[r];
		int lo = 1, hi = 0, start = 0;

		lv->lim_of[r] = NULL;
		if (!role_used(cfg, r) || !ep->concurrency_auto)
			continue;
		for (int q = 0; q < r && !lv->lim_of[r]; q++)
			if (lv->lim_of[q] && same_server(lv->ep[q], ep))
				lv->lim_of[r] = lv->lim_of[q];
		if (lv->lim_of[r])
			continue;
		for (int q = r; q < ROLE_COUNT; q++) {
			const struct endpoint *e = lv->ep[q];

			if (!role_used(cfg, q) || !e->concurrency_auto ||
			    !same_server(e, ep))
				continue;
			if (e->concurrency_floor > lo)
				lo = e->concurrency_floor;
			hi += e->concurrency_ceiling;
			start += e->concurrency;
		}
		lv->lim_of[r] = &lv->lim[lv->nlim++];
		limiter_init(lv->lim_of[r], lo, hi, start, now_sec(),
			     lv->nlim == 1 ? lv->trace : NULL);
	}
}

static void role_headers(struct live *lv, int r)
{
	const struct endpoint *ep = lv->ep[r];
	struct curl_slist *sl = NULL;

	lv->auth[r] = provider_key_header(ep->api, ep->api_key);
	if (lv->auth[r])
		lv->hdr[r][lv->nhdr[r]++] = lv->auth[r];
	if (provider_fixed_header(ep->api))
		lv->hdr[r][lv->nhdr[r]++] = provider_fixed_header(ep->api);
	for (size_t i = 0; i < lv->nhdr[r]; i++)
		sl = curl_slist_append(sl, lv->hdr[r][i]);
	sl = curl_slist_append(sl, "Content-Type: application/json");
	sl = curl_slist_append(sl, "Expect:");
	lv->slist[r] = sl;
}

struct live *live_new(const struct live_opts *o, struct err *err)
{
	struct live *lv = xcalloc(1, sizeof(*lv));
	const struct config *cfg = o->cfg;
	int n = loops_for(o);
	size_t fds, places;
	bool lim_any = false;

	lv->cfg = cfg;
	lv->env = o->env;
	lv->budget = o->budget;
	lv->keep = o->keep;
	lv->deliver = o->deliver;
	lv->owner = o->owner;
	lv->stop = o->stop;
	for (int r = 0; r < ROLE_COUNT; r++) {
		/* a panel member's role has its endpoint; one the config
		 * has not is judge's and never used */
		lv->ep[r] = ranking_role_endpoint(cfg, r);
		lv->streak[r].limit = cfg->stop_after_refusals;
		lv->pool[r] = o->pool[r];
		role_headers(lv, r);
		atomic_init(&lv->tokens[r][0], 0);
		atomic_init(&lv->tokens[r][1], 0);
	}
	atomic_init(&lv->next_loop, 0);
	atomic_init(&lv->waiting, 0);
	atomic_init(&lv->fd_said, 0);
	if (getenv("CAIGEN_LIMITER_TRACE"))
		lv->trace = fopen(getenv("CAIGEN_LIMITER_TRACE"), "w");
	/* past the limit, connections fail and the output cannot be
	 * written: fewer in flight instead (said when it happens) */
	fds = raise_fd_limit();
	lv->fds = fds;
	live_limiters(lv);
	for (int r = 0; r < ROLE_COUNT; r++)
		lim_any |= lv->lim_of[r] != NULL;
	/* every place of the run, which one loop may hold */
	places = (size_t)endpoint_max_concurrency(&cfg->policy) +
		 (cfg->mode != MODE_CRITIQUES ?
		  (size_t)endpoint_max_concurrency(&cfg->judge) +
		  (size_t)panel_places(cfg, 0, 1) : 0);
	for (int i = 0; i < n; i++) {
		struct loop *lp = &lv->loops[i];
		struct epoll_event ev = { .events = EPOLLIN };
		size_t maxconn, per;
		bool mux = false;

		lp->x.send = loop_send;
		lp->lv = lv;
		lp->jitter = (uint64_t)time(NULL) * 2654435761u + (uint64_t)i + 1;
		lp->ramp = CONNECT_BURST;
		lp->ramp_at = now_sec();
		lp->fd_cap = fds == SIZE_MAX ? SIZE_MAX :
			     fds / (size_t)n + ((size_t)i < fds % (size_t)n);
		if (lp->fd_cap < 1)
			lp->fd_cap = 1;
		pthread_mutex_init(&lp->lock, NULL);
		for (int r = 0; r < ROLE_COUNT; r++) {
			const struct endpoint *ep = lv->ep[r];
			int cap = lv->lim_of[r] ? lv->lim_of[r]->ceiling :
				  share(ep->concurrency, i, n);

			ratelimit_init(&lp->rl[r], ep->requests_per_minute / n,
				       ep->tokens_per_minute / n, cap);
		}
		lp->epfd = epoll_create1(EPOLL_CLOEXEC);
		lp->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		lv->nloops = i + 1;
		for (int r = 0; r < ROLE_COUNT; r++) {
			const struct endpoint *ep = lv->ep[r];

			if (!role_used(cfg, r))
				continue;
			/* HTTP/2 until a reply says otherwise (http.h) */
			lp->mux[r] = ep->http != HTTP_1_1 &&
				     (ep->http == HTTP_2 ||
				      all_https(ep));
			lp->role_places[r] = (size_t)share(
				endpoint_max_concurrency(ep), i, n);
			mux |= lp->mux[r];
		}
		/* a loop's expected places (a shared limiter's spread over
		 * the loops) on shelves of SHELF_CONNECTIONS; HTTP/2 holds
		 * few connections: one shelf */
		per = (places + (size_t)n - 1) / (size_t)n;
		lp->nsh = mux ? 1 : (int)((per + SHELF_CONNECTIONS - 1) /
					  SHELF_CONNECTIONS);
		if (lp->nsh < 1)
			lp->nsh = 1;
		if (lp->nsh > MAX_SHELVES)
			lp->nsh = MAX_SHELVES;
		for (int k = 0; k < lp->nsh; k++) {
			lp->sh[k].lp = lp;
			lp->sh[k].k = k;
			lp->sh[k].curl_due = -1;
			lp->sh[k].multi = curl_multi_init();
		}
		if (lp->epfd < 0 || lp->evfd < 0 ||
		    !lp->sh[lp->nsh - 1].multi) {
			err_set(err, "cannot set up event loop %d: %s", i + 1,
				strerror(errno));
			goto fail;
		}
		ev.data.u64 = (uint32_t)lp->evfd;
		epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->evfd, &ev);
		/* keep a connection per place in flight alive, within the
		 * descriptors (idle connections hold one too). The places
		 * of a limiter shared by the loops are not shared out
		 * evenly: a loop may hold more than its share, up to all of
		 * them, and with a cache of its share libcurl closed a
		 * connection at every answer past it and opened another
		 * for the next call (at 10,000 in flight, 12,700-20,300
		 * connections opened for 60,000 requests; now 10,255). A
		 * loop's idle connections are never more than it once had
		 * in flight. */
		maxconn = lim_any ? (size_t)places + 16 :
			  (size_t)(share(endpoint_max_concurrency(
					&cfg->policy), i, n) +
				   share(endpoint_max_concurrency(
					&cfg->judge), i, n) +
				   panel_places(cfg, i, n) + 16);
		for (int k = 0; k < lp->nsh; k++) {
			CURLM *m = lp->sh[k].multi;

			curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION,
					  on_socket);
			curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &lp->sh[k]);
			curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
			curl_multi_setopt(m, CURLMOPT_TIMERDATA, &lp->sh[k]);
			/* HTTP/2: requests share connections,
			 * HTTP_H2_STREAMS on one at most (fewer if the
			 * server says so) */
			curl_multi_setopt(m, CURLMOPT_PIPELINING,
					  (long)CURLPIPE_MULTIPLEX);
			curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS,
					  (long)HTTP_H2_STREAMS);
			/* a shelf's connections are never more than its
			 * transfers */
			curl_multi_setopt(m, CURLMOPT_MAXCONNECTS,
					  (long)(maxconn < lp->fd_cap ?
						 maxconn : lp->fd_cap));
		}
		set_conn_cap(lp);
	}
	for (int i = 0; i < n; i++) {
		int e = pthread_create(&lv->loops[i].tid, NULL, loop_main,
				       &lv->loops[i]);

		if (e) {
			/* nothing was submitted yet: the others end at
			 * once when closed */
			err_set(err, "cannot start event loop thread %d of "
				"%d: %s", i + 1, n, strerror(e));
			lv->nloops = i;
			live_close(lv);
			live_join(lv);
			lv->nloops = n;
			goto fail_started;
		}
	}
	return lv;
fail:
	for (int i = 0; i < lv->nloops; i++)
		lv->loops[i].tid = 0;
fail_started:
	live_free(lv);
	return NULL;
}

void live_submit(struct live *lv, struct item *it)
{
	struct loop *lp = &lv->loops[atomic_fetch_add(&lv->next_loop, 1) %
				     (unsigned)lv->nloops];
	uint64_t one = 1;

	bool wake;

	it->next = NULL;
	pthread_mutex_lock(&lp->lock);
	wake = !lp->in_head;	/* a non-empty inbox has woken it already */
	if (lp->in_tail)
		lp->in_tail->next = it;
	else
		lp->in_head = it;
	lp->in_tail = it;
	pthread_mutex_unlock(&lp->lock);
	if (wake && write(lp->evfd, &one, sizeof(one)) < 0) {
		/* the counter is already non-zero: it will wake */
	}
}

void live_post(struct live *lv, struct call *c)
{
	unsigned i = atomic_fetch_add(&lv->next_loop, 1) %
		     (unsigned)lv->nloops;
	struct loop *lp = &lv->loops[i];
	uint64_t one = 1;

	pthread_mutex_lock(&lp->lock);
	c->next = lp->calls_in;
	lp->calls_in = c;
	pthread_mutex_unlock(&lp->lock);
	if (write(lp->evfd, &one, sizeof(one)) < 0) {
		/* the counter is full: the loop is awake anyway */
	}
}

void live_close(struct live *lv)
{
	for (int i = 0; i < lv->nloops; i++) {
		struct loop *lp = &lv->loops[i];
		uint64_t one = 1;

		pthread_mutex_lock(&lp->lock);
		lp->closed = true;
		pthread_mutex_unlock(&lp->lock);
		if (write(lp->evfd, &one, sizeof(one)) < 0) {
			/* already woken */
		}
	}
}

void live_join(struct live *lv)
{
	for (int i = 0; i < lv->nloops; i++) {
		if (lv->loops[i].tid)
			pthread_join(lv->loops[i].tid, NULL);
		lv->loops[i].tid = 0;
	}
}

void live_tokens(struct live *lv, struct chat_usage u[ROLE_COUNT])
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		u[r].prompt_tokens = atomic_load(&lv->tokens[r][0]);
		u[r].completion_tokens = atomic_load(&lv->tokens[r][1]);
	}
}

/* The limiters' counters go to the roles that use them. */
static void limiter_counts(struct live *lv,
			   struct ratelimit_stats rl[ROLE_COUNT])
{
	for (int k = 0; k < lv->nlim; k++) {
		struct limiter_stats ls = limiter_stats(&lv->lim[k]);

		for (int r = 0; r < ROLE_COUNT; r++) {
			if (lv->lim_of[r] != &lv->lim[k])
				continue;
			rl[r].decreases = ls.cuts;
			rl[r].min_cap = ls.min_limit;
			rl[r].cap = ls.limit;
		}
	}
}

void live_stats(struct live *lv, struct http_stats h[ROLE_COUNT],
		struct ratelimit_stats rl[ROLE_COUNT])
{
	memset(h, 0, ROLE_COUNT * sizeof(*h));
	memset(rl, 0, ROLE_COUNT * sizeof(*rl));
	for (int i = 0; i < lv->nloops; i++) {
		struct loop *lp = &lv->loops[i];

		for (int r = 0; r < ROLE_COUNT; r++) {
			struct http_stats *a = &h[r];
			struct http_stats *b = &lp->stats[r];
			struct ratelimit_stats s = ratelimit_stats(&lp->rl[r]);
			struct ratelimit_stats *t = &rl[r];

			if (lv->lim_of[r])
				s.decreases = s.min_cap = s.cap = 0;	/* below */

			a->requests += b->requests;
			a->ok += b->ok;
			a->gave_up += b->gave_up;
			a->seconds += b->seconds;
			for (int k = 0; k < RETRY_CAUSES; k++)
				a->retries[k] += b->retries[k];
			t->waits += s.waits;
			t->wait_seconds += s.wait_seconds;
			t->decreases += s.decreases;
			t->min_cap += s.min_cap;
			t->cap += s.cap;
		}
	}
	limiter_counts(lv, rl);
}

int live_places(struct live *lv)
{
	long n = 0;

	for (int k = 0; k < lv->nlim; k++)
		n += limiter_limit(&lv->lim[k]);
	for (int r = 0; r < ROLE_COUNT; r++)
		if (!lv->lim_of[r] && role_used(lv->cfg, r))
			n += lv->ep[r]->concurrency;
	return n < INT_MAX ? (int)n : INT_MAX;
}

long live_waiting(struct live *lv)
{
	return atomic_load_explicit(&lv->waiting, memory_order_relaxed);
}

int live_loops(const struct live *lv)
{
	return lv->nloops;
}

void live_free(struct live *lv)
{
	if (!lv)
		return;
	for (int i = 0; i < lv->nloops; i++)
		loop_free(&lv->loops[i]);
	for (int r = 0; r < ROLE_COUNT; r++) {
		curl_slist_free_all(lv->slist[r]);
		provider_free_secret(lv->auth[r]);
	}
	for (int k = 0; k < lv->nlim; k++)
		limiter_release(&lv->lim[k]);
	if (lv->trace)
		fclose(lv->trace);
	free(lv);
}
