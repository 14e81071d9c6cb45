/*
 * endpoint.c - a pool of servers for one model: least in flight, cool-down
 * after repeated failures, one probe request to come back.
 *
 * DESIGN
 * Each entry is in one of three states: in service; cooling (until
 * `until`); probing (its cool-down is over and one request is on its way).
 * States move only under the pool mutex, in endpoint_pick (cooling ->
 * probing when the probe is handed out) and endpoint_done (in service ->
 * cooling after `threshold` server faults in a row; probing -> in service
 * on success, -> cooling with a doubled cool-down on failure). Requests
 * already in flight when an entry goes out are let finish and reported
 * normally; their results still count.
 */
#include "endpoint.h"
#include "http.h"
#include "provider.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum ep_state { EP_IN, EP_COOLING, EP_PROBING };

struct ep_entry {
	const char *base;
	char *url;
	char *shown;		/* url without a password, for messages */
	enum ep_state state;
	int inflight;
	int fails_in_row;
	double until;		/* EP_COOLING: back at this now_sec() */
	double cooldown;	/* the next cool-down's length */
	struct endpoint_count count;
};

struct endpoint_pool {
	pthread_mutex_t lock;
	struct endpoint_tuning t;
	size_t n;
	size_t next;		/* round-robin start for ties */
	struct ep_entry e[];
};

/* A base URL for the counts, which outlive the pool: the configured
 * string itself, or when it holds a password a masked copy kept for the
 * life of the program (a handful at most: one per configured server). */
static const char *shown_base(const char *base)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static char **kept;
	static size_t nkept;
	char *m;

	if (!strchr(base, '@'))
		return base;
	m = url_mask(base);
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nkept; i++)
		if (!strcmp(kept[i], m)) {
			free(m);
			m = kept[i];
			goto out;
		}
	kept = xrealloc(kept, (nkept + 1) * sizeof(*kept));
	kept[nkept++] = m;
out:
	pthread_mutex_unlock(&lock);
	return m;
}

struct endpoint_pool *endpoint_pool_new(const char *const *bases, size_t n,
					int api,
					const struct endpoint_tuning *t,
					struct err *err)
{
	struct endpoint_pool *p;

	if (n == 0 || n > ENDPOINT_MAX) {
		err_set(err, "an endpoint pool needs 1 to %d base URLs, got "
			"%zu", ENDPOINT_MAX, n);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p) + n * sizeof(p->e[0]));
	pthread_mutex_init(&p->lock, NULL);
	p->t = *t;
	if (p->t.threshold < 1)
		p->t.threshold = 3;
	if (p->t.cooldown <= 0)
		p->t.cooldown = 5;
	if (p->t.cooldown_max < p->t.cooldown)
		p->t.cooldown_max = p->t.cooldown;
	p->n = n;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(bases[i]);
		char *base;

		if (len >= 2 && bases[i][len - 1] == '/' &&
		    bases[i][len - 2] != '/')
			len--;
		base = xstrndup(bases[i], len);
		p->e[i].base = bases[i];
		p->e[i].url = provider_url(base, api);
		free(base);
		p->e[i].cooldown = p->t.cooldown;
		p->e[i].shown = url_mask(p->e[i].url);
		p->e[i].count.url = shown_base(bases[i]);
	}
	return p;
}

void endpoint_pool_free(struct endpoint_pool *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].url);
		free(p->e[i].shown);
	}
	pthread_mutex_destroy(&p->lock);
	free(p);
}

size_t endpoint_pool_size(const struct endpoint_pool *p)
{
	return p->n;
}

const char *endpoint_url(const struct endpoint_pool *p, size_t i)
{
	return p->e[i].url;
}

const char *endpoint_shown_url(const struct endpoint_pool *p, size_t i)
{
	return p->e[i].shown;
}

size_t endpoint_pick(struct endpoint_pool *p, bool *backoff)
{
	double now = now_sec();
	size_t best = p->n, soonest = 0;

	pthread_mutex_lock(&p->lock);
	/* a server whose cool-down is over gets its probe first */
	for (size_t i = 0; i < p->n && best == p->n; i++)
		if (p->e[i].state == EP_COOLING && p->e[i].until <= now) {
			p->e[i].state = EP_PROBING;
			best = i;
		}
	if (best == p->n) {
		for (size_t j = 0; j < p->n; j++) {
			size_t i = (p->next + j) % p->n;

			if (p->e[i].state == EP_IN &&
			    (best == p->n ||
			     p->e[i].inflight < p->e[best].inflight))
				best = i;
		}
		if (best != p->n)
			p->next = (best + 1) % p->n;
	}
	*backoff = best == p->n;
	if (best == p->n) {
		/* nothing in service: the one back soonest (probes in
		 * flight count as back now) */
		for (size_t i = 1; i < p->n; i++)
			if (p->e[i].until < p->e[soonest].until)
				soonest = i;
		best = soonest;
	}
	p->e[best].inflight++;
	p->e[best].count.requests++;
	pthread_mutex_unlock(&p->lock);
	return best;
}

void endpoint_done(struct endpoint_pool *p, size_t i, bool ok,
		   bool server_fault)
{
	struct ep_entry *e = &p->e[i];

	pthread_mutex_lock(&p->lock);
	e->inflight--;
	if (!ok)
		e->count.failures++;
	if (ok || !server_fault) {
		e->fails_in_row = 0;
		if (e->state == EP_PROBING) {
			e->state = EP_IN;
			e->cooldown = p->t.cooldown;
		}
	} else if (e->state == EP_PROBING ||
		   (e->state == EP_IN &&
		    ++e->fails_in_row >= p->t.threshold)) {
		if (e->state == EP_PROBING) {
			e->cooldown *= 2;
			if (e->cooldown > p->t.cooldown_max)
				e->cooldown = p->t.cooldown_max;
		}
		e->state = EP_COOLING;
		e->until = now_sec() + e->cooldown;
		e->fails_in_row = 0;
		e->count.cooldowns++;
	}
	pthread_mutex_unlock(&p->lock);
}

size_t endpoint_pool_counts(struct endpoint_pool *p,
			    struct endpoint_count *out, size_t max)
{
	size_t n;

	pthread_mutex_lock(&p->lock);
	n = p->n < max ? p->n : max;
	for (size_t i = 0; i < n; i++)
		out[i] = p->e[i].count;
	pthread_mutex_unlock(&p->lock);
	return n;
}

bool endpoint_failover(long status, const char *body)
{
	return status == 0 || http_status_retryable(status, body);
}
