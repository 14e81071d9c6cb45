/*
 * endpoint.h - a pool of servers that serve the same model, shared by the
 * event loops that send one role's requests (policy or judge).
 *
 * Picking: the server with the fewest requests in flight among those in
 * service; ties go round-robin. A server that fails `threshold` requests
 * in a row (no answer, a timeout, a 5xx, or a 2xx body that cannot be
 * read) is taken out for a cool-down of `cooldown` seconds, doubled after
 * each failed probe up to `cooldown_max`. When its cool-down is over it
 * gets one request (the probe): success puts it back in service and
 * resets the cool-down, failure sends it out again. If no server is in
 * service, the pick is the one whose cool-down ends first (a server with
 * its probe in flight counts as back now, so it may get a second request)
 * and the caller is told to back off before sending.
 *
 * With a single server the pool only counts: the HTTP layer retries on
 * its own (http.h), and a call with its retries counts as one request.
 *
 * The answers do not depend on which server gave them (the same model,
 * seeded requests), so the pick order does not affect output bytes.
 *
 * Thread-safety: every function may be called from any thread; one mutex
 * guards the pool. URLs are copied.
 */
#ifndef CAIGEN_ENDPOINT_H
#define CAIGEN_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ENDPOINT_MAX 64		/* servers per pool */

struct endpoint_count {
	const char *url;	/* base URL as configured, a password in it
				 * masked (owned by the pool) */
	uint64_t requests;	/* attempts sent to it */
	uint64_t failures;	/* attempts that failed (see above) */
	uint64_t cooldowns;	/* times it was taken out */
};

struct endpoint_tuning {
	int threshold;		/* failures in a row before a cool-down (3) */
	double cooldown;	/* first cool-down, seconds (5) */
	double cooldown_max;	/* cap, seconds (60) */
};

struct endpoint_pool;

/*
 * A pool over base URLs (each like "http://h:8000/v1"; one trailing '/' is
 * dropped); each entry's request URL is provider_url(base, api). The base
 * strings must
 * outlive the pool. Returns
 * NULL with err when n is 0 or above ENDPOINT_MAX. Free with
 * endpoint_pool_free (NULL is safe).
 */
struct endpoint_pool *endpoint_pool_new(const char *const *bases, size_t n,
					int api,
					const struct endpoint_tuning *t,
					struct err *err);
void endpoint_pool_free(struct endpoint_pool *p);
size_t endpoint_pool_size(const struct endpoint_pool *p);

/*
 * Choose a server for one attempt and count it in flight. *backoff is set
 * to true when no server is in service (the caller should wait before
 * sending; the pick is still the best guess). Returns the index.
 */
size_t endpoint_pick(struct endpoint_pool *p, bool *backoff);
/* The request URL of entry i. Valid until endpoint_pool_free. */
const char *endpoint_url(const struct endpoint_pool *p, size_t i);
/* The same with a password in it masked (util.h url_mask): the one for
 * messages. */
const char *endpoint_shown_url(const struct endpoint_pool *p, size_t i);
/*
 * Report how attempt i ended: ok, or failed. Only server trouble
 * (`server_fault`: no answer, timeout, 5xx, unreadable 2xx) counts towards
 * a cool-down; any other failure (a 4xx) just ends the in-flight count.
 */
void endpoint_done(struct endpoint_pool *p, size_t i, bool ok,
		   bool server_fault);
/* Copy up to max per-server counts into out; returns how many. */
size_t endpoint_pool_counts(struct endpoint_pool *p,
			    struct endpoint_count *out, size_t max);

/* Whether an attempt that ended with this HTTP status (0 = no answer) is
 * worth sending to another server of the pool. */
bool endpoint_failover(long status, const char *body);

#endif
