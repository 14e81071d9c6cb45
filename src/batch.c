/*
 * batch.c - the batch executor (see batch.h).
 *
 * DESIGN
 * One thread. A wave's machines send calls into `pending`; drain() takes
 * them in order and, for each, either answers it from the results index
 * (a result fetched now or by an earlier run), or hangs it on `waiting`
 * under its custom_id, where it waits for a batch already open with that
 * id or for the one being made (`round`, per role). make_batches() turns
 * the round into batch files and creates them; wait_some() sleeps to the
 * next poll, polls, fetches what ended and answers the calls of each
 * ended batch in the order of its file. Answers make machines send more;
 * the loop goes on until the wave's items are finished.
 *
 *   send ─► pending ─► drain ─┬─► answered from the index ─► done
 *                             └─► waiting[cid] ─► round ─► batch file
 *                                   ▲                       │ create
 *                                   └── poll, fetch, index ◄┘
 */
#include "batch.h"
#include "batchapi.h"
#include "provider.h"
#include "budget.h"
#include "callkey.h"
#include "idset.h"
#include "live.h"
#include "ranking.h"
#include "rng.h"
#include "sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LULL 2.0		/* seconds without a new item: start the wave
				 * with what came (the input is slow) */
#define NAP 0.05		/* seconds between looks at the stop flag */
#define SAY_EVERY 30.0		/* seconds between progress lines per batch */
#define MAX_TROUBLE 10		/* failed polls or fetches in a row */

/* Per role (call.h; a panel's members after the judge): the name of its
 * files and the tag that starts its custom_ids. */
static const char *const role_names[ROLE_COUNT] = {
	"policy", "judge", "judge1", "judge2", "judge3", "judge4", "judge5",
	"judge6", "judge7"
};
static const char *const role_tags[ROLE_COUNT] = {
	"p", "j", "j1", "j2", "j3", "j4", "j5", "j6", "j7"
};

/* ---- a map from 64-bit keys to pointers (open addressing) ------------- */

struct hmap {
	uint64_t *k;	/* 0: empty */
	void **v;
	size_t cap, n;
};

/* The key of a custom_id (rng.h's hash64; 0 marks an empty slot). */
static uint64_t hkey(const char *s)
{
	uint64_t h = hash64(s, strlen(s));

	return h ? h : 1;
}

static void hmap_grow(struct hmap *m);

static size_t hmap_slot(const struct hmap *m, uint64_t k)
{
	size_t i = (size_t)(k * 0x9e3779b97f4a7c15ULL) & (m->cap - 1);

	while (m->k[i] && m->k[i] != k)
		i = (i + 1) & (m->cap - 1);
	return i;
}

static void *hmap_get(const struct hmap *m, uint64_t k)
{
	size_t i;

	if (!m->cap)
		return NULL;
	i = hmap_slot(m, k);
	return m->k[i] ? m->v[i] : NULL;
}

static void hmap_put(struct hmap *m, uint64_t k, void *v)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		hmap_grow(m);
	i = hmap_slot(m, k);
	if (!m->k[i]) {
		m->k[i] = k;
		m->n++;
	}
	m->v[i] = v;
}

static void hmap_grow(struct hmap *m)
{
	struct hmap g = { 0 };

	g.cap = m->cap ? 2 * m->cap : 64;
	g.k = xcalloc(g.cap, sizeof(*g.k));
	g.v = xcalloc(g.cap, sizeof(*g.v));
	for (size_t i = 0; i < m->cap; i++)
		if (m->k[i]) {
			size_t j = hmap_slot(&g, m->k[i]);

			g.k[j] = m->k[i];
			g.v[j] = m->v[i];
			g.n++;
		}
	free(m->k);
	free(m->v);
	*m = g;
}

/* Remove k, shifting the run after it back (no tombstones). */
static void hmap_del(struct hmap *m, uint64_t k)
{
	size_t i, j;

	if (!m->cap)
		return;
	i = hmap_slot(m, k);
	if (!m->k[i])
		return;
	m->k[i] = 0;
	m->n--;
	for (j = (i + 1) & (m->cap - 1); m->k[j]; j = (j + 1) & (m->cap - 1)) {
		size_t home = (size_t)(m->k[j] * 0x9e3779b97f4a7c15ULL) &
			      (m->cap - 1);

		/* j's entry may move to i if i lies on its probe path */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			m->k[i] = m->k[j];
			m->v[i] = m->v[j];
			m->k[j] = 0;
			i = j;
		}
	}
}

static void hmap_free(struct hmap *m)
{
	free(m->k);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* ---- the executor ------------------------------------------------------ */

/* One result line kept in ROLE.results.jsonl. */
struct result {
	uint64_t off;
	uint32_t len;
	bool ok;
	bool fresh;	/* fetched by this run: its tokens count here */
};

/* A batch at the provider, created and not yet fetched. */
struct open_batch {
	int role;
	unsigned seq;
	struct batch_info info;
	double next_poll, said_at;
	char said[32];		/* the status last printed */
	int poll_errors;	/* polls failed in a row */
	int fetch_errors;	/* fetches failed in a row */
	uint64_t *cids;		/* hkey of its custom_ids, in file order */
	size_t ncids;
	struct open_batch *next;
};

struct calls {
	struct call *head, *tail;
	size_t n;
};

/* The new requests of a round, in order. Not chained through call.next:
 * that links the calls waiting on one custom_id. */
struct round {
	struct call **v;
	size_t n, cap, at;	/* v[at..n) are left */
};

struct batch {
	struct exec x;		/* first: machines hold &b->x */
	const struct config *cfg;
	struct item_env *env;
	struct budget *budget;
	struct live *live;		/* a mixed run: live roles' calls */
	bool live_role[ROLE_COUNT];
	pthread_mutex_t back_lock;	/* back, back_cond */
	pthread_cond_t back_cond;
	struct call *back;		/* calls live has ended, to run */
	size_t at_live;			/* calls out at live (own thread) */
	volatile sig_atomic_t *stop;
	char *dir;
	char tag[24];		/* the folder's random id */
	bool export_only;
	void (*deliver)(void *owner, struct item **items, size_t n);
	void *owner;
	pthread_t tid;
	bool started;

	pthread_mutex_t lock;	/* inbox, closed */
	pthread_cond_t wake;
	struct item *in_head, *in_tail;
	size_t in_n;
	double in_last;		/* when the last item came */
	bool closed;

	const struct endpoint *ep[ROLE_COUNT];
	struct batchapi *api[ROLE_COUNT];
	int results_fd[ROLE_COUNT];
	int export_fd[ROLE_COUNT];
	int journal_fd;
	unsigned seq[ROLE_COUNT];	/* last batch file number */
	int nroles;			/* policy, judge, panel members */

	struct result *res;	/* the results index: res[i - 1] */
	size_t nres, capres;
	struct hmap index[ROLE_COUNT];	/* cid -> result number */
	struct hmap waiting;	/* cid -> calls (chained by next) */
	struct hmap member;	/* cid -> open_batch holding it */
	struct open_batch *open;
	struct calls pending;
	struct round round[ROLE_COUNT];	/* new requests, per role */

	size_t items;		/* machines running */
	struct item **finished;
	size_t nfinished, capfinished;

	atomic_llong tokens[ROLE_COUNT][2];
	struct http_stats stats[ROLE_COUNT];
	size_t exported[ROLE_COUNT];
	char *line;		/* scratch for a result line */
	size_t line_cap;
};

static void calls_push(struct calls *q, struct call *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->n++;
}

static void round_push(struct round *q, struct call *c)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? 2 * q->cap : 256;
		q->v = xrealloc(q->v, q->cap * sizeof(*q->v));
	}
	q->v[q->n++] = c;
}

static struct call *round_peek(const struct round *q)
{
	return q->at < q->n ? q->v[q->at] : NULL;
}

static struct call *round_pop(struct round *q)
{
	struct call *c = round_peek(q);

	if (c && ++q->at == q->n)
		q->at = q->n = 0;
	return c;
}

static struct call *calls_pop(struct calls *q)
{
	struct call *c = q->head;

	if (c) {
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		c->next = NULL;
		q->n--;
	}
	return c;
}

/* A signal, a broken output or a refused endpoint: abandon the waits.
 * (The spending cap alone does not: what was sent is paid for.) */
static bool hard_stop(const struct batch *b)
{
	/* the flag is set by a signal handler: read it atomically */
	return (b->stop && __atomic_load_n(b->stop, __ATOMIC_RELAXED)) ||
	       atomic_load(b->env->fatal) || atomic_load(&b->env->refused);
}

static void say(const struct batch *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(const struct batch *b, const char *fmt, ...)
{
	va_list ap;
	char *line;

	if (b->cfg->quiet)
		return;
	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	/* batch ids, custom_ids and statuses come from files and servers:
	 * no control character reaches the terminal raw */
	if (line)
		fprintf(stderr, "caigen: %s\n", tty_safe(line));
	free(line);
}

/* The executor cannot go on (a batch API error, a state file): say why
 * once and stop the run like a refused endpoint; prompts not done are
 * left for the next run. */
static void give_up(struct batch *b, const char *what, const struct err *e)
{
	if (atomic_exchange(&b->env->refused, 1) == 0)
		fprintf(stderr, "caigen: %s: %s; stopping: the prompts not "
			"done are left for the next run\n", what, e->msg);
}

/* ---- files ------------------------------------------------------------- */

static char *path_of(const struct batch *b, const char *name)
{
	return xasprintf("%s/%s", b->dir, name);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Append one journal line and fsync it. */
static int journal(struct batch *b, json_t *o, struct err *err)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	int rc = 0;

	json_decref(o);
	if (!s || write_all(b->journal_fd, s, strlen(s)) < 0 ||
	    write_all(b->journal_fd, "\n", 1) < 0 ||
	    fsync(b->journal_fd) < 0)
		rc = err_set(err, "cannot write %s/journal.jsonl: %s", b->dir,
			     strerror(errno));
	free(s);
	return rc;
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path);

	for (char *q = p + 1; *q; q++)
		if (*q == '/') {
			*q = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				free(p);
				return -1;
			}
			*q = '/';
		}
	free(p);
	return mkdir(path, 0777) < 0 && errno != EEXIST ? -1 : 0;
}

/* The folder's random id: made once, kept in DIR/id. */
static int folder_tag(struct batch *b, struct err *err)
{
	char *path = path_of(b, "id");
	FILE *f = fopen(path, "r");
	unsigned char rnd[8];
	int rc = 0;

	if (f) {
		if (!fgets(b->tag, sizeof(b->tag), f))
			b->tag[0] = '\0';
		fclose(f);
		b->tag[strcspn(b->tag, "\n")] = '\0';
	}
	if (!b->tag[0]) {
		int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, rnd, sizeof(rnd)) != sizeof(rnd)) {
			uint64_t t = (uint64_t)time(NULL) ^
				     ((uint64_t)getpid() << 32);

			memcpy(rnd, &t, sizeof(rnd));
		}
		if (fd >= 0)
			close(fd);
		for (int i = 0; i < 8; i++)
			snprintf(b->tag + 2 * i, 3, "%02x", rnd[i]);
		f = fopen(path, "w");
		if (!f || fprintf(f, "%s\n", b->tag) < 0 || fflush(f) ||
		    fsync(fileno(f)))
			rc = err_set(err, "cannot write '%s': %s", path,
				     strerror(errno));
		if (f)
			fclose(f);
	}
	free(path);
	return rc;
}

/* ---- the results index ------------------------------------------------- */

/* Index one result line at byte off of role r's file. */
static void index_line(struct batch *b, int r, const char *p, size_t n,
		       uint64_t off, bool fresh, size_t *bad)
{
	struct batch_result res;
	struct err e;
	uint64_t k;
	size_t at;

	if (!n)
		return;
	if (batchapi_parse_result(b->ep[r]->api, p, n, &res, &e) < 0) {
		(*bad)++;
		return;
	}
	free(res.body);
	k = hkey(res.custom_id);
	at = (size_t)(uintptr_t)hmap_get(&b->index[r], k);
	if (at && (b->res[at - 1].ok || !res.ok))
		return;		/* a success wins over a failure */
	if (b->nres == b->capres) {
		b->capres = b->capres ? 2 * b->capres : 1024;
		b->res = xrealloc(b->res, b->capres * sizeof(*b->res));
	}
	b->res[b->nres++] = (struct result){ off, (uint32_t)n, res.ok, fresh };
	hmap_put(&b->index[r], k, (void *)(uintptr_t)b->nres);
}

/* Index the result lines of role r's file from byte `from` on; fresh
 * marks lines fetched by this run. Lines naming no request are skipped
 * (counted in *bad); so is a last line without its newline. */
static int index_results(struct batch *b, int r, uint64_t from, bool fresh,
			 size_t *bad, struct err *err)
{
	size_t cap = 1 << 16, have = 0;
	char *buf = xmalloc(cap);
	uint64_t off = from;	/* file offset of buf[0] */

	for (;;) {
		ssize_t got;
		size_t start = 0;
		char *nl;

		if (have == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		got = pread(b->results_fd[r], buf + have, cap - have,
			    (off_t)(off + have));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			free(buf);
			return err_set(err, "cannot read %s/%s.results.jsonl: "
				       "%s", b->dir, role_names[r],
				       strerror(errno));
		}
		if (got == 0)
			break;
		have += (size_t)got;
		while ((nl = memchr(buf + start, '\n', have - start))) {
			size_t n = (size_t)(nl - (buf + start));

			index_line(b, r, buf + start, n, off + start, fresh,
				   bad);
			start += n + 1;
		}
		memmove(buf, buf + start, have - start);
		have -= start;
		off += start;
	}
	free(buf);
	return 0;
}

/* Read and parse result number `at` of role r. */
static int result_read(struct batch *b, int r, size_t at,
		       struct batch_result *res, struct err *err)
{
	const struct result *e = &b->res[at - 1];

	if (e->len + 1 > b->line_cap) {
		b->line_cap = e->len + 1;
		b->line = xrealloc(b->line, b->line_cap);
	}
	if (pread(b->results_fd[r], b->line, e->len, (off_t)e->off) !=
	    (ssize_t)e->len)
		return err_set(err, "cannot read %s/%s.results.jsonl",
			       b->dir, role_names[r]);
	b->line[e->len] = '\0';
	return batchapi_parse_result(b->ep[r]->api, b->line, e->len, res,
				     err);
}

/* ---- the end of a call ------------------------------------------------- */

static void call_stopped(struct batch *b, struct call *c)
{
	int parked = b->env->parking;

	/* export: the item is left for the run after the import */
	b->env->parking = b->export_only;
	c->stopped = true;
	c->status = 0;
	c->rc = -1;
	err_set(call_err(c), "stopped before the request was answered");
	free(c->body);
	c->body = NULL;
	c->done(c);
	b->env->parking = parked;
}

static void call_finish(struct batch *b, struct call *c, int rc,
			const struct chat_usage *paid)
{
	if (b->budget)
		budget_settle(b->budget, c->role, c->reserved, paid);
	c->reserved = 0;
	if (paid) {
		atomic_fetch_add(&b->tokens[c->role][0], paid->prompt_tokens);
		atomic_fetch_add(&b->tokens[c->role][1],
				 paid->completion_tokens);
	}
	free(c->body);
	c->body = NULL;
	c->rc = rc;
	c->done(c);
}

/* custom_id of c's current attempt. */
static void make_cid(struct call *c)
{
	char hex[CALLKEY_HEX + 1];

	callkey_hex(c, hex);	/* the draw and the body (callkey.h) */
	if (c->attempt > 0)
		snprintf(c->cid, sizeof(c->cid), "%s-%s-%d",
			 role_tags[c->role], hex, c->attempt);
	else
		snprintf(c->cid, sizeof(c->cid), "%s-%s",
			 role_tags[c->role], hex);
}

/* Try the call again under its next attempt's id, or fail it. */
static void retry_or_fail(struct batch *b, struct call *c, bool retry,
			  enum retry_cause cause)
{
	const struct endpoint *ep = b->ep[c->role];

	if (retry && c->attempt + 1 < ep->max_attempts && !hard_stop(b)) {
		b->stats[c->role].retries[cause]++;
		c->attempt++;
		calls_push(&b->pending, c);
		return;
	}
	b->stats[c->role].gave_up++;
	if (c->attempt > 0) {
		char tmp[sizeof(c->fault->err.msg)];

		snprintf(tmp, sizeof(tmp), "%s", call_errmsg(c));
		err_set(call_err(c), "%s (after %d attempts)", tmp,
			c->attempt + 1);
	}
	call_finish(b, c, -1, NULL);
}

/* Answer c with result number `at` of its role. */
static void answer(struct batch *b, struct call *c, size_t at)
{
	struct result *e = &b->res[at - 1];
	const struct endpoint *ep = b->ep[c->role];
	struct batch_result res;
	struct err err;

	if (result_read(b, c->role, at, &res, &err) < 0) {
		err_set(call_err(c), "batch result %s: %s", c->cid, err.msg);
		retry_or_fail(b, c, true, RETRY_BODY);
		return;
	}
	c->status = res.status;
	if (res.ok) {
		memset(&c->reply, 0, sizeof(c->reply));
		if (provider_parse(ep->api, res.body, c->cp.logprobs,
				   &c->reply, &err) == 0) {
			bool fresh = e->fresh;

			e->fresh = false;	/* its tokens count once */
			free(res.body);
			b->stats[c->role].ok++;
			call_finish(b, c, 0, fresh ? &c->reply.usage : NULL);
			return;
		}
		free(res.body);
		*call_err(c) = err;
		retry_or_fail(b, c, true, RETRY_BODY);
		return;
	}
	free(res.body);
	err_set(call_err(c), "batch request %s: %s", c->cid, res.error);
	snprintf(c->fault->body, sizeof(c->fault->body), "%s", res.error);
	retry_or_fail(b, c, res.retry, res.status == 429 ? RETRY_429 :
		      res.status >= 500 ? RETRY_5XX : RETRY_TIMEOUT);
}

/* ---- sending ----------------------------------------------------------- */

/* A live role's call is over (on a live loop's thread): back to ours. */
static void from_live(struct call *c)
{
	struct batch *b = c->relay_to;

	pthread_mutex_lock(&b->back_lock);
	c->next = b->back;
	b->back = c;
	pthread_cond_signal(&b->back_cond);
	pthread_mutex_unlock(&b->back_lock);
}

/* Run the machines' steps of the calls live has ended, in the order
 * they ended. */
static bool take_back(struct batch *b)
{
	struct call *c, *rev = NULL, *next;

	if (!b->at_live)
		return false;
	pthread_mutex_lock(&b->back_lock);
	c = b->back;
	b->back = NULL;
	pthread_mutex_unlock(&b->back_lock);
	for (; c; c = next) {
		next = c->next;
		c->next = rev;
		rev = c;
	}
	for (c = rev; c; c = next) {
		next = c->next;
		b->at_live--;
		c->done = c->relay;
		c->relay = NULL;
		c->done(c);
	}
	return rev != NULL;
}

/* Wait up to s seconds for live to end a call. */
static void wait_back(struct batch *b, double s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)s;
	ts.tv_nsec += (long)((s - floor(s)) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&b->back_lock);
	if (!b->back)
		pthread_cond_timedwait(&b->back_cond, &b->back_lock, &ts);
	pthread_mutex_unlock(&b->back_lock);
}

static void bx_send(struct exec *x, struct call *c)
{
	struct batch *b = (struct batch *)x;

	if (b->live_role[c->role]) {
		/* a mixed run: live sends it; its done comes back here */
		c->relay = c->done;
		c->relay_to = b;
		c->done = from_live;
		b->at_live++;
		live_post(b->live, c);
		return;
	}

	c->attempt = 0;
	c->stopped = false;
	c->status = 0;
	call_forget(c);
	c->reserved = 0;
	if (item_env_stopping(b->env)) {
		call_stopped(b, c);
		return;
	}
	c->cp.api = b->ep[c->role]->api;
	c->body = provider_body(&c->cp, &c->body_len);
	calls_push(&b->pending, c);
}

/* Every pending call: answered from the index, hung on a wait, or put
 * in the round (a new request). Answers may send more; those are taken
 * too. */
static void drain(struct batch *b)
{
	struct call *c;

	while ((c = calls_pop(&b->pending))) {
		int r = c->role;
		size_t at;
		uint64_t k;
		struct call *w;

		if (hard_stop(b)) {
			call_stopped(b, c);
			continue;
		}
		if (c->attempt == 0 && c->prepare && c->prepare(c)) {
			free(c->body);
			c->cp.api = b->ep[r]->api;
			c->body = provider_body(&c->cp, &c->body_len);
		}
		make_cid(c);
		k = hkey(c->cid);
		at = (size_t)(uintptr_t)hmap_get(&b->index[r], k);
		if (at) {
			answer(b, c, at);
			continue;
		}
		w = hmap_get(&b->waiting, k);
		if (w) {		/* the same request is on its way */
			c->next = w->next;
			w->next = c;
			continue;
		}
		if (!hmap_get(&b->member, k)) {
			/* a new request: it goes into this round's batch */
			if (item_env_stopping(b->env)) {
				call_stopped(b, c);
				continue;
			}
			if (b->budget && !b->export_only &&
			    !budget_take(b->budget, r,
					 (double)c->body_len / 4.0,
					 (double)c->cp.max_tokens *
					 (c->cp.n > 1 ? c->cp.n : 1),
					 &c->reserved)) {
				atomic_store(&b->env->capped, 1);
				call_stopped(b, c);
				continue;
			}
			round_push(&b->round[r], c);
		}
		c->next = NULL;
		hmap_put(&b->waiting, k, c);
	}
}

/* The calls waiting on cid key k, unhooked. */
static struct call *unwait(struct batch *b, uint64_t k)
{
	struct call *w = hmap_get(&b->waiting, k);

	if (w)
		hmap_del(&b->waiting, k);
	return w;
}

/* ---- making batches ---------------------------------------------------- */

static long long max_bytes(const struct endpoint *ep)
{
	if (ep->batch_max_bytes > 0)
		return ep->batch_max_bytes;
	return ep->api == API_ANTHROPIC ? BATCHAPI_ANTHROPIC_MAX_BYTES :
					  BATCHAPI_OPENAI_MAX_BYTES;
}

static long max_requests(const struct endpoint *ep)
{
	if (ep->batch_max_requests > 0)
		return ep->batch_max_requests;
	return ep->api == API_ANTHROPIC ? BATCHAPI_ANTHROPIC_MAX_REQUESTS :
					  BATCHAPI_OPENAI_MAX_REQUESTS;
}

static char *batch_file(const struct batch *b, int r, unsigned seq)
{
	return xasprintf("%s/%s-%06u.jsonl", b->dir, role_names[r], seq);
}

/* The open batch's custom_ids become members (their calls wait on it). */
static void open_add(struct batch *b, struct open_batch *ob)
{
	for (size_t i = 0; i < ob->ncids; i++)
		hmap_put(&b->member, ob->cids[i], ob);
	ob->next = b->open;
	b->open = ob;
	ob->next_poll = now_sec() + b->cfg->batch_poll;
}

static void open_remove(struct batch *b, struct open_batch *ob)
{
	struct open_batch **pp = &b->open;

	while (*pp && *pp != ob)
		pp = &(*pp)->next;
	if (*pp)
		*pp = ob->next;
	for (size_t i = 0; i < ob->ncids; i++)
		if (hmap_get(&b->member, ob->cids[i]) == ob)
			hmap_del(&b->member, ob->cids[i]);
	free(ob->cids);
	free(ob);
}

/* Calls that will get no answer from this run. */
static void end_calls(struct batch *b, struct call *w, const char *why,
		      bool stopped)
{
	while (w) {
		struct call *next = w->next;

		w->next = NULL;
		if (stopped) {
			if (b->budget)
				budget_settle(b->budget, w->role,
					      w->reserved, NULL);
			w->reserved = 0;
			call_stopped(b, w);
		} else {
			err_set(call_err(w), "%s", why);
			b->stats[w->role].gave_up++;
			call_finish(b, w, -1, NULL);
		}
		w = next;
	}
}

/* Write the lines of up to the limits' worth of the round's calls of
 * role r to a batch file; *ob gets their ids. */
static int write_file(struct batch *b, int r, const char *path,
		      struct open_batch *ob, struct err *err)
{
	const struct endpoint *ep = b->ep[r];
	long long bytes = 0, cap = max_bytes(ep);
	long most = max_requests(ep);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	size_t cap_ids = 0;

	if (fd < 0)
		return err_set(err, "cannot create '%s': %s", path,
			       strerror(errno));
	while (round_peek(&b->round[r]) && (long)ob->ncids < most) {
		struct call *c = round_peek(&b->round[r]);
		size_t n;
		char *line = batchapi_line(b->api[r], c->cid, c->body,
					   c->body_len, &n);

		if (ob->ncids && bytes + (long long)n > cap) {
			free(line);
			break;
		}
		if (write_all(fd, line, n) < 0) {
			free(line);
			close(fd);
			return err_set(err, "cannot write '%s': %s", path,
				       strerror(errno));
		}
		free(line);
		bytes += (long long)n;
		round_pop(&b->round[r]);
		if (ob->ncids == cap_ids) {
			cap_ids = cap_ids ? 2 * cap_ids : 256;
			ob->cids = xrealloc(ob->cids, cap_ids *
					    sizeof(*ob->cids));
		}
		ob->cids[ob->ncids++] = hkey(c->cid);
		b->stats[r].requests++;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return err_set(err, "cannot write '%s': %s", path,
			       strerror(errno));
	return 0;
}

/* Make, record and create one batch of role r from its round. */
static int make_one(struct batch *b, int r, struct err *err)
{
	struct open_batch *ob = xcalloc(1, sizeof(*ob));
	unsigned seq = ++b->seq[r];
	char *path = batch_file(b, r, seq);
	char tag[64];

	ob->role = r;
	ob->seq = seq;
	snprintf(tag, sizeof(tag), "%s-%s%06u", b->tag, role_tags[r], seq);
	if (write_file(b, r, path, ob, err) < 0 ||
	    journal(b, json_pack("{s:s,s:s,s:i,s:I}", "op", "make", "role",
				 role_names[r], "seq", (int)seq, "n",
				 (json_int_t)ob->ncids), err) < 0)
		goto fail;
	if (batchapi_create(b->api[r], path, ob->ncids, tag, &ob->info,
			    err) < 0)
		goto fail;
	if (journal(b, json_pack("{s:s,s:s,s:i,s:s}", "op", "created", "role",
				 role_names[r], "seq", (int)seq, "id",
				 ob->info.id), err) < 0)
		goto fail;
	say(b, "batch %s-%06u: %zu requests sent as %s", role_names[r], seq,
	    ob->ncids, ob->info.id);
	free(path);
	open_add(b, ob);
	return 0;
fail:
	/* not sent: the run stops first, so its calls end stopped and
	 * their prompts are left for the next run, not failed */
	if (!hard_stop(b))
		give_up(b, "cannot send a batch", err);
	for (size_t i = 0; i < ob->ncids; i++)
		end_calls(b, unwait(b, ob->cids[i]), NULL, true);
	free(ob->cids);
	free(ob);
	free(path);
	return -1;
}

/* Export: the round's requests go to ROLE.export.jsonl; their calls end
 * stopped (answered by `caigen batch import` and the next run). */
static void export_round(struct batch *b, int r)
{
	struct call *c;

	while ((c = round_pop(&b->round[r]))) {
		size_t n;
		char *line = batchapi_line(b->api[r], c->cid, c->body,
					   c->body_len, &n);

		if (write_all(b->export_fd[r], line, n) < 0) {
			struct err e;

			err_set(&e, "%s", strerror(errno));
			give_up(b, "cannot write the export file", &e);
		}
		free(line);
		b->exported[r]++;
		end_calls(b, unwait(b, hkey(c->cid)), NULL, true);
	}
}

static void make_batches(struct batch *b)
{
	for (int r = 0; r < b->nroles; r++) {
		if (b->export_only) {
			export_round(b, r);
			continue;
		}
		while (round_peek(&b->round[r])) {
			struct err e;

			if (hard_stop(b) || make_one(b, r, &e) < 0) {
				struct call *c;

				if (!hard_stop(b))
					give_up(b, "cannot send a batch", &e);
				while ((c = round_pop(&b->round[r])))
					end_calls(b, unwait(b, hkey(c->cid)),
						  NULL, true);
			}
		}
	}
}

/* ---- waiting ----------------------------------------------------------- */

/* Answer the calls of an ended (fetched) batch, in its file's order. */
static void answer_batch(struct batch *b, struct open_batch *ob)
{
	int r = ob->role;

	for (size_t i = 0; i < ob->ncids; i++) {
		uint64_t k = ob->cids[i];
		size_t at = (size_t)(uintptr_t)hmap_get(&b->index[r], k);
		struct call *w;

		if (hmap_get(&b->member, k) == ob)
			hmap_del(&b->member, k);
		w = unwait(b, k);
		while (w) {
			struct call *next = w->next;

			w->next = NULL;
			if (at) {
				answer(b, w, at);
			} else {
				err_set(call_err(w), "batch %s ended without a "
					"result for %s", ob->info.id, w->cid);
				retry_or_fail(b, w, true, RETRY_TIMEOUT);
			}
			w = next;
		}
	}
}

/* Fetch an ended batch's results into the index. */
static int harvest(struct batch *b, struct open_batch *ob, struct err *err)
{
	int r = ob->role;
	struct stat st;
	size_t bad = 0;
	char *path = xasprintf("%s/%s.results.jsonl", b->dir, role_names[r]);
	int rc;

	if (fstat(b->results_fd[r], &st) < 0) {
		err_set(err, "cannot stat '%s'", path);
		free(path);
		return -1;
	}
	rc = batchapi_fetch(b->api[r], &ob->info, path, err);
	free(path);
	if (rc < 0)
		return -1;
	if (index_results(b, r, (uint64_t)st.st_size, true, &bad, err) < 0)
		return -1;
	if (bad)
		say(b, "batch %s: %zu result lines name no request "
		    "(skipped)", ob->info.id, bad);
	return journal(b, json_pack("{s:s,s:s,s:i,s:s,s:s}", "op", "fetched",
				    "role", role_names[r], "seq", (int)ob->seq,
				    "id", ob->info.id, "status",
				    ob->info.status), err);
}

/* Progress of one batch: when its status changes, or every SAY_EVERY. */
static void say_status(struct batch *b, struct open_batch *ob, double now)
{
	const struct batch_info *in = &ob->info;

	if (!strcmp(ob->said, in->status) && now - ob->said_at < SAY_EVERY)
		return;
	snprintf(ob->said, sizeof(ob->said), "%s", in->status);
	ob->said_at = now;
	say(b, "batch %s-%06u (%s): %s, %ld of %ld done, %ld failed",
	    role_names[ob->role], ob->seq, in->id, in->status, in->completed,
	    in->total ? in->total : (long)ob->ncids, in->failed);
}

/* A poll or fetch failed (after batchapi's own retries): try again at
 * the next poll; MAX_TROUBLE in a row stop the run (the batch stays in
 * the journal, the next run polls it). */
static void trouble(struct batch *b, struct open_batch *ob, int *count,
		    const char *what, const struct err *e)
{
	char msg[256];

	if (++*count < MAX_TROUBLE) {
		say(b, "batch %s: %s failed (trying again at the next poll): "
		    "%s", ob->info.id, what, e->msg);
		return;
	}
	snprintf(msg, sizeof(msg), "batch %s: %s failed %d times in a row",
		 ob->info.id, what, *count);
	give_up(b, msg, e);
}

/* Poll the batches due; fetch and answer what ended. */
static void poll_due(struct batch *b)
{
	struct open_batch *ob = b->open, *next;
	double now = now_sec();

	for (; ob && !hard_stop(b); ob = next) {
		struct err e;

		next = ob->next;
		if (ob->next_poll > now)
			continue;
		/* a little jitter keeps many tasks' polls apart */
		ob->next_poll = now + b->cfg->batch_poll *
				(0.9 + 0.2 * (double)rand() / RAND_MAX);
		if (batchapi_poll(b->api[ob->role], ob->info.id, &ob->info,
				  &e) < 0) {
			trouble(b, ob, &ob->poll_errors, "poll", &e);
			continue;
		}
		ob->poll_errors = 0;
		say_status(b, ob, now);
		if (ob->info.phase == BATCH_RUNNING)
			continue;
		if (ob->info.phase == BATCH_FAILED) {
			char why[700];

			say(b, "batch %s failed validation: %s", ob->info.id,
			    ob->info.why);
			snprintf(why, sizeof(why), "batch %s failed "
				 "validation: %s", ob->info.id, ob->info.why);
			if (journal(b, json_pack("{s:s,s:s,s:i,s:s,s:s}", "op",
						 "failed", "role",
						 role_names[ob->role], "seq",
						 (int)ob->seq, "id",
						 ob->info.id, "why",
						 ob->info.why), &e) < 0)
				give_up(b, "batch journal", &e);
			for (size_t i = 0; i < ob->ncids; i++)
				end_calls(b, unwait(b, ob->cids[i]), why,
					  false);
			open_remove(b, ob);
			continue;
		}
		if (harvest(b, ob, &e) < 0) {
			trouble(b, ob, &ob->fetch_errors, "fetching results",
				&e);
			continue;
		}
		answer_batch(b, ob);
		open_remove(b, ob);
	}
}

/* Sleep until the next poll is due (or a stop). */
static void nap(struct batch *b)
{
	double due = INFINITY, now = now_sec();

	for (struct open_batch *ob = b->open; ob; ob = ob->next)
		if (ob->next_poll < due)
			due = ob->next_poll;
	while (now < due && !hard_stop(b)) {
		double s = fmin(due - now, NAP);
		struct timespec ts = { (time_t)s,
				       (long)((s - floor(s)) * 1e9) };

		nanosleep(&ts, NULL);
		now = now_sec();
	}
}

/* ---- waves ------------------------------------------------------------- */

static void flush_finished(struct batch *b)
{
	if (!b->nfinished)
		return;
	b->deliver(b->owner, b->finished, b->nfinished);
	b->nfinished = 0;
}

/* Take the next wave's items; 0 when the input is over. */
static size_t take_wave(struct batch *b, struct item ***out, size_t *cap)
{
	size_t want = (size_t)b->cfg->batch_prompts, n = 0;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		double now = now_sec();

		if (b->in_n >= want || b->closed ||
		    (b->in_n && now - b->in_last >= LULL))
			break;
		{
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += (time_t)LULL;
			ts.tv_nsec += (long)((LULL - floor(LULL)) * 1e9);
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&b->wake, &b->lock, &ts);
		}
	}
	while (b->in_head && n < want) {
		struct item *it = b->in_head;

		b->in_head = it->next;
		if (!b->in_head)
			b->in_tail = NULL;
		b->in_n--;
		it->next = NULL;
		if (n == *cap) {
			*cap = *cap ? 2 * *cap : 1024;
			*out = xrealloc(*out, *cap * sizeof(**out));
		}
		(*out)[n++] = it;
	}
	pthread_mutex_unlock(&b->lock);
	return n;
}

/* End every waiting call stopped (their batches, if any, stay with the
 * provider for the next run). */
static void end_all_waiting(struct batch *b)
{
	for (size_t i = 0; i < b->waiting.cap; i++)
		while (b->waiting.k[i]) {
			uint64_t k = b->waiting.k[i];

			/* hmap_del may shift another key into slot i */
			end_calls(b, unwait(b, k), NULL, true);
		}
}

static void run_wave(struct batch *b, struct item **items, size_t n)
{
	b->items += n;
	for (size_t i = 0; i < n; i++)
		item_start(items[i], b->env, &b->x);
	for (;;) {
		take_back(b);
		drain(b);
		/* batches are made when no machine can move: none has a
		 * call out at live that may still send more */
		if (!b->at_live)
			make_batches(b);
		flush_finished(b);
		if (!b->items)
			break;
		if (b->pending.head)
			continue;
		if (b->at_live) {
			wait_back(b, NAP);
			if (b->open && !hard_stop(b))
				poll_due(b);
			continue;
		}
		if (hard_stop(b) || !b->open) {
			/* a stop (the open batches stay with the provider
			 * for the next run), or nothing left to wait on */
			if (!b->waiting.n) {
				/* a machine without a call out: a bug; do not
				 * spin */
				fprintf(stderr, "caigen: batch: %zu prompts "
					"wait for nothing\n", b->items);
				abort();
			}
			end_all_waiting(b);
			continue;
		}
		nap(b);
		poll_due(b);
	}
}

static void *batch_main(void *arg)
{
	struct batch *b = arg;
	struct item **items = NULL;
	size_t cap = 0, n;

	while ((n = take_wave(b, &items, &cap)))
		run_wave(b, items, n);
	free(items);
	return NULL;
}

/* ---- setting up -------------------------------------------------------- */

/* Read the custom_ids of a batch file (its lines' "custom_id"). */
static int read_cids(const char *path, struct open_batch *ob,
		     struct err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, capids = 0;
	ssize_t n;

	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *o = json_loadb(line, (size_t)n, 0, NULL);
		const char *id = json_string_value(json_object_get(o,
								   "custom_id"));

		if (id) {
			if (ob->ncids == capids) {
				capids = capids ? 2 * capids : 256;
				ob->cids = xrealloc(ob->cids, capids *
						    sizeof(*ob->cids));
			}
			ob->cids[ob->ncids++] = hkey(id);
		}
		json_decref(o);
	}
	free(line);
	fclose(f);
	return 0;
}

static int role_of(const char *name)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		if (name && !strcmp(name, role_names[r]))
			return r;
	return -1;
}

/* Replay the journal: the last file number per role, and the batches
 * created and not fetched (open again; a "make" without "created" is
 * looked for by its tag). */
static int replay(struct batch *b, struct err *err)
{
	char *path = path_of(b, "journal.jsonl");
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	json_t *state = json_object();	/* "role-seq" -> last op line */
	const char *key;
	json_t *v;
	int rc = 0;

	free(path);
	if (f) {
		while (getline(&line, &cap, f) > 0) {
			json_t *o = json_loads(line, 0, NULL);
			int r = role_of(json_string_value(
				json_object_get(o, "role")));
			json_int_t seq = json_integer_value(
				json_object_get(o, "seq"));
			char k[32];

			if (!o || r < 0 || seq <= 0) {
				json_decref(o);	/* a torn last line */
				continue;
			}
			if ((unsigned)seq > b->seq[r])
				b->seq[r] = (unsigned)seq;
			snprintf(k, sizeof(k), "%d-%lld", r, (long long)seq);
			json_object_set_new(state, k, o);
		}
		free(line);
		fclose(f);
	}
	json_object_foreach(state, key, v) {
		const char *op = json_string_value(json_object_get(v, "op"));
		int r = role_of(json_string_value(json_object_get(v, "role")));
		unsigned seq = (unsigned)json_integer_value(
			json_object_get(v, "seq"));
		struct open_batch *ob;
		char *file;

		if (strcmp(op, "make") && strcmp(op, "created"))
			continue;	/* fetched or failed: over */
		if (b->export_only || !b->api[r])
			continue;
		ob = xcalloc(1, sizeof(*ob));
		ob->role = r;
		ob->seq = seq;
		if (!strcmp(op, "make")) {
			char tag[64];
			int found;

			snprintf(tag, sizeof(tag), "%s-%s%06u", b->tag,
				 role_tags[r], seq);
			found = batchapi_find(b->api[r], tag, &ob->info, err);
			if (found <= 0) {
				free(ob);
				if (found < 0) {
					rc = -1;
					break;
				}
				continue;	/* never created */
			}
			if (journal(b, json_pack("{s:s,s:s,s:i,s:s}", "op",
						 "created", "role",
						 role_names[r], "seq",
						 (int)seq, "id", ob->info.id),
				    err) < 0) {
				free(ob);
				rc = -1;
				break;
			}
		} else {
			snprintf(ob->info.id, sizeof(ob->info.id), "%s",
				 json_string_value(json_object_get(v, "id")));
		}
		file = batch_file(b, r, seq);
		rc = read_cids(file, ob, err);
		free(file);
		if (rc < 0) {
			free(ob);
			break;
		}
		say(b, "batch %s-%06u (%s): still open, polling it again",
		    role_names[r], seq, ob->info.id);
		open_add(b, ob);
		ob->next_poll = 0;
	}
	json_decref(state);
	return rc;
}

struct batch *batch_new(const struct batch_opts *o, struct err *err)
{
	struct batch *b = xcalloc(1, sizeof(*b));
	const struct config *cfg = o->cfg;

	b->x.send = bx_send;
	b->cfg = cfg;
	b->env = o->env;
	b->budget = o->budget;
	b->live = o->live;
	for (int r = 0; r < ROLE_COUNT; r++)
		b->live_role[r] = o->live && o->live_role[r];
	pthread_mutex_init(&b->back_lock, NULL);
	pthread_cond_init(&b->back_cond, NULL);
	b->stop = o->stop;
	b->dir = xstrdup(o->dir);
	b->export_only = o->export_only;
	b->deliver = o->deliver;
	b->owner = o->owner;
	b->journal_fd = -1;
	b->nroles = ROLE_JUDGE + 1 + (int)cfg->nmembers;
	for (int r = 0; r < b->nroles; r++)
		b->ep[r] = ranking_role_endpoint(cfg, r);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->wake, NULL);
	for (int r = 0; r < ROLE_COUNT; r++) {
		b->results_fd[r] = -1;
		b->export_fd[r] = -1;
		atomic_init(&b->tokens[r][0], 0);
		atomic_init(&b->tokens[r][1], 0);
	}
	if (mkdir_p(b->dir) < 0) {
		err_set(err, "cannot make '%s': %s", b->dir, strerror(errno));
		goto fail;
	}
	if (folder_tag(b, err) < 0)
		goto fail;
	{
		char *jp = path_of(b, "journal.jsonl");

		b->journal_fd = open(jp, O_WRONLY | O_CREAT | O_APPEND |
				     O_CLOEXEC, 0666);
		if (b->journal_fd < 0)
			err_set(err, "cannot open '%s': %s", jp,
				strerror(errno));
		free(jp);
		if (b->journal_fd < 0)
			goto fail;
	}
	for (int r = 0; r < b->nroles; r++) {
		char *rp;
		size_t bad = 0;

		if (b->live_role[r])
			continue;	/* its calls go to live */
		rp = xasprintf("%s/%s.results.jsonl", b->dir, role_names[r]);

		b->results_fd[r] = open(rp, O_RDWR | O_CREAT | O_CLOEXEC,
					0666);
		if (b->results_fd[r] < 0) {
			err_set(err, "cannot open '%s': %s", rp,
				strerror(errno));
			free(rp);
			goto fail;
		}
		free(rp);
		{
			size_t before = b->nres;

			if (index_results(b, r, 0, false, &bad, err) < 0)
				goto fail;
			/* imported just now: paid for by this run */
			for (size_t i = before; o->imported && i < b->nres;
			     i++)
				if (b->res[i].off >= o->imported[r])
					b->res[i].fresh = true;
		}
		if (b->ep[r]->api == API_COMPLETIONS)
			continue;	/* no batch API (config refuses it
					 * for a batch endpoint) */
		b->api[r] = batchapi_new(b->ep[r], err);
		if (!b->api[r])
			goto fail;
		if (b->export_only) {
			char *ep = xasprintf("%s/%s.export.jsonl", b->dir,
					     role_names[r]);

			b->export_fd[r] = open(ep, O_WRONLY | O_CREAT |
					       O_TRUNC | O_CLOEXEC, 0666);
			if (b->export_fd[r] < 0)
				err_set(err, "cannot create '%s': %s", ep,
					strerror(errno));
			free(ep);
			if (b->export_fd[r] < 0)
				goto fail;
		}
	}
	if (replay(b, err) < 0)
		goto fail;
	if (pthread_create(&b->tid, NULL, batch_main, b)) {
		err_set(err, "cannot start the batch thread");
		goto fail;
	}
	b->started = true;
	return b;
fail:
	batch_free(b);
	return NULL;
}

void batch_submit(struct batch *b, struct item *it)
{
	it->next = NULL;
	pthread_mutex_lock(&b->lock);
	if (b->in_tail)
		b->in_tail->next = it;
	else
		b->in_head = it;
	b->in_tail = it;
	b->in_n++;
	b->in_last = now_sec();
	if (b->in_n >= (size_t)b->cfg->batch_prompts)
		pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

void batch_item_finished(struct item_env *env, struct item *it)
{
	struct batch *b = (struct batch *)it->x;

	(void)env;
	if (b->nfinished == b->capfinished) {
		b->capfinished = b->capfinished ? 2 * b->capfinished : 256;
		b->finished = xrealloc(b->finished, b->capfinished *
				       sizeof(*b->finished));
	}
	b->finished[b->nfinished++] = it;
	b->items--;
}

void batch_close(struct batch *b)
{
	pthread_mutex_lock(&b->lock);
	b->closed = true;
	pthread_cond_signal(&b->wake);
	pthread_mutex_unlock(&b->lock);
}

void batch_join(struct batch *b)
{
	if (b->started) {
		pthread_join(b->tid, NULL);
		b->started = false;
	}
}

void batch_tokens(struct batch *b, struct chat_usage u[ROLE_COUNT])
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		u[r].prompt_tokens = atomic_load(&b->tokens[r][0]);
		u[r].completion_tokens = atomic_load(&b->tokens[r][1]);
	}
}

void batch_stats(struct batch *b, struct http_stats h[ROLE_COUNT],
		 size_t exported[ROLE_COUNT])
{
	for (int r = 0; r < ROLE_COUNT; r++) {
		h[r] = b->stats[r];
		if (exported)
			exported[r] = b->exported[r];
	}
}

void batch_free(struct batch *b)
{
	if (!b)
		return;
	batch_join(b);
	while (b->open)
		open_remove(b, b->open);
	for (int r = 0; r < ROLE_COUNT; r++) {
		batchapi_free(b->api[r]);
		if (b->results_fd[r] >= 0)
			close(b->results_fd[r]);
		if (b->export_fd[r] >= 0)
			close(b->export_fd[r]);
		hmap_free(&b->index[r]);
		free(b->round[r].v);
	}
	pthread_mutex_destroy(&b->back_lock);
	pthread_cond_destroy(&b->back_cond);
	if (b->journal_fd >= 0)
		close(b->journal_fd);
	hmap_free(&b->waiting);
	hmap_free(&b->member);
	free(b->res);
	free(b->finished);
	free(b->line);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->wake);
	free(b->dir);
	free(b);
}

/* ---- import ------------------------------------------------------------ */

/* The role of a result line by its custom_id's tag, with the line
 * parsed in that role's flavour into *res (res->body: caller frees). */
static int import_line(const struct config *cfg, const char *line,
		       size_t len, struct batch_result *res, struct err *err)
{
	int r = -1;
	size_t n;

	/* the role letter of the id says which results it joins */
	if (batchapi_parse_result(API_CHAT, line, len, res, err) < 0 &&
	    batchapi_parse_result(API_ANTHROPIC, line, len, res, err) < 0)
		return -1;
	free(res->body);
	res->body = NULL;
	for (int k = 0; k < ROLE_JUDGE + 1 + (int)cfg->nmembers; k++) {
		n = strlen(role_tags[k]);
		if (!strncmp(res->custom_id, role_tags[k], n) &&
		    res->custom_id[n] == '-')
			r = k;
	}
	if (r < 0)
		return err_set(err, "custom_id '%s' is not one of this run's "
			       "(they start with p-, j- or a panel member's "
			       "j1-...)", res->custom_id);
	if (batchapi_parse_result(ranking_role_endpoint(cfg, r)->api, line,
				  len, res, err) < 0)
		return -1;
	return r;
}

/* What a result says, as one number: the answer texts of a success, the
 * error of a failure. Two lines of one custom_id that differ here are
 * two different answers. */
static uint64_t result_sig(int api, const struct batch_result *res)
{
	struct chat_reply rep;
	struct err e;
	uint64_t h;

	if (!res->ok)
		return hash64(res->error, strlen(res->error)) ^ 1;
	if (provider_parse(api, res->body, false, &rep, &e) < 0)
		return hash64(res->body, strlen(res->body));
	h = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < rep.n; i++) {
		const char *t = rep.text[i] ? rep.text[i] : "";

		h = (h ^ hash64(t, strlen(t))) * 0x100000001b3ULL;
	}
	chat_reply_release(&rep);
	return h ? h : 2;
}

/* Add the custom_ids of the request file `path` (lines with
 * "custom_id":"...") to ids. */
static void request_ids(const char *path, struct idmap *ids)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *p, *q;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		p = strstr(line, "\"custom_id\":\"");
		if (!p)
			continue;
		p += strlen("\"custom_id\":\"");
		q = strchr(p, '"');
		if (q)
			idmap_put(ids, hash64(p, (size_t)(q - p)) | 1, 1, NULL);
	}
	free(line);
	fclose(f);
}

/* The requests this run made for role r: its batch files and its export
 * file in dir. */
static void run_requests(const char *dir, int r, struct idmap *ids)
{
	char *pat = xasprintf("%s/%s-[0-9]*.jsonl", dir, role_names[r]);
	char *ex = xasprintf("%s/%s.export.jsonl", dir, role_names[r]);
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			request_ids(g.gl_pathv[i], ids);
		globfree(&g);
	}
	request_ids(ex, ids);
	free(pat);
	free(ex);
}

/* The results kept for role r: custom_id -> result_sig (ok results with
 * the low bit clear, failures set). */
static void kept_results(const char *dir, const struct config *cfg, int r,
			 struct idmap *kept)
{
	char *path = xasprintf("%s/%s.results.jsonl", dir, role_names[r]);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int api = ranking_role_endpoint(cfg, r)->api;

	free(path);
	if (!f)
		return;
	while ((len = getline(&line, &cap, f)) > 0) {
		struct batch_result res;
		struct err e;
		uint64_t k, old;

		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (!len || batchapi_parse_result(api, line, (size_t)len, &res,
						  &e) < 0)
			continue;
		k = hash64(res.custom_id, strlen(res.custom_id)) | 1;
		/* a success wins over a failure */
		if (!idmap_get(kept, k, &old) || (old & 1))
			idmap_set(kept, k, (result_sig(api, &res) & ~1ULL) |
				  !res.ok);
		free(res.body);
	}
	free(line);
	fclose(f);
}

int batch_import(const char *dir, const struct config *cfg, const char *path,
		 size_t *n, uint64_t from[ROLE_COUNT], struct err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, nroles = ROLE_JUDGE + 1 + cfg->nmembers;
	ssize_t len;
	int fd[ROLE_COUNT];
	struct idmap asked[ROLE_COUNT], kept[ROLE_COUNT], here;
	struct idset skip;	/* line numbers not to append */
	struct err sem;		/* the first line that is not ours */
	bool bad = false;
	int rc = 0;

	*n = 0;
	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	for (size_t r = 0; r < ROLE_COUNT; r++) {
		fd[r] = -1;
		idmap_init(&asked[r]);
		idmap_init(&kept[r]);
		if (r < nroles) {
			run_requests(dir, (int)r, &asked[r]);
			kept_results(dir, cfg, (int)r, &kept[r]);
		}
	}
	idmap_init(&here);	/* custom_id -> line number << 1 | sig bit */
	idset_init(&skip);
	/* first every line is checked, then they are added */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		rewind(f);
		lineno = 0;
		while ((len = getline(&line, &cap, f)) > 0) {
			struct batch_result res;
			struct err e;
			uint64_t k, sig, old;
			int r;

			lineno++;
			while (len && (line[len - 1] == '\n' ||
				       line[len - 1] == '\r'))
				line[--len] = '\0';
			if (!len)
				continue;
			if (pass == 1) {
				if (idset_has(&skip, lineno))
					continue;
				r = import_line(cfg, line, (size_t)len, &res,
						&e);
				free(res.body);
				goto append;
			}
			r = import_line(cfg, line, (size_t)len, &res, &e);
			if (r < 0) {
				rc = err_set(err, "%s:%zu: %s", path, lineno,
					     e.msg);
				break;
			}
			k = hash64(res.custom_id, strlen(res.custom_id)) | 1;
			sig = (result_sig(ranking_role_endpoint(cfg, r)->api,
					  &res) & ~1ULL) | !res.ok;
			free(res.body);
			/* a line that is no results line is said before
			 * one that is not this run's (the first found) */
			if (bad)
				continue;
			if (!idmap_has(&asked[r], k) &&
			    !idmap_has(&kept[r], k)) {
				bad = true;
				err_set(&sem, "%s:%zu: custom_id '%s' is "
					"no request of this run (not in "
					"%s's batch, export or results "
					"files): "
					"results of another run or "
					"config?", path, lineno,
					res.custom_id, dir);
				continue;
			}
			if (idmap_get(&here, k, &old)) {
				/* the same id twice in this file */
				if (old != sig) {
					bad = true;
					err_set(&sem, "%s:%zu: custom_id '%s' "
						"again with another answer: "
						"refused (keep one of the two "
						"lines)", path, lineno,
						res.custom_id);
					continue;
				}
				idset_add(&skip, lineno);
				continue;
			}
			idmap_set(&here, k, sig);
			if (idmap_get(&kept[r], k, &old)) {
				if (old == sig || (!(old & 1) && (sig & 1))) {
					/* kept already, or a failure where a
					 * success is kept: nothing to add */
					idset_add(&skip, lineno);
					continue;
				}
				if (!(old & 1) && !(sig & 1)) {
					bad = true;
					err_set(&sem, "%s:%zu: custom_id '%s' "
						"has another answer kept in "
						"%s/%s.results.jsonl: refused",
						path, lineno, res.custom_id,
						dir, role_names[r]);
					continue;
				}
			}
			continue;
append:
			if (fd[r] < 0) {
				char *rp = xasprintf("%s/%s.results.jsonl",
						     dir, role_names[r]);

				if (mkdir_p(dir) == 0)
					fd[r] = open(rp, O_WRONLY | O_CREAT |
						     O_APPEND | O_CLOEXEC,
						     0666);
				if (fd[r] < 0)
					rc = err_set(err, "cannot open '%s': "
						     "%s", rp,
						     strerror(errno));
				free(rp);
				if (rc)
					break;
				if (from) {
					off_t end = lseek(fd[r], 0, SEEK_END);

					if (end >= 0 && (uint64_t)end < from[r])
						from[r] = (uint64_t)end;
				}
			}
			line[len] = '\n';
			if (write_all(fd[r], line, (size_t)len + 1) < 0) {
				rc = err_set(err, "cannot write to '%s': %s",
					     dir, strerror(errno));
				break;
			}
			(*n)++;
		}
		if (pass == 0 && rc == 0 && bad) {
			*err = sem;
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (fd[r] >= 0) {
			if (fsync(fd[r]) < 0 && rc == 0)
				rc = err_set(err, "cannot write to '%s': %s",
					     dir, strerror(errno));
			close(fd[r]);
		}
		idmap_release(&asked[r]);
		idmap_release(&kept[r]);
	}
	idmap_release(&here);
	idset_release(&skip);
	return rc;
}
