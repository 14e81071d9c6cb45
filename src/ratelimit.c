/*
 * ratelimit.c - token buckets and an AIMD in-flight cap per endpoint.
 */
#include "ratelimit.h"
#include "util.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define BURST_SECONDS 10.0	/* a bucket holds this long's worth */
#define POLL_NS (100 * 1000 * 1000L)

static void refill(struct ratelimit *r, double now)
{
	double dt = now - r->refilled;

	if (dt <= 0)
		return;
	r->refilled = now;
	if (r->rpm > 0)
		r->req_level = fmin(r->req_cap, r->req_level +
				    dt * r->rpm / 60.0);
	if (r->tpm > 0)
		r->tok_level = fmin(r->tok_cap, r->tok_level +
				    dt * r->tpm / 60.0);
}

void ratelimit_init(struct ratelimit *r, double rpm, double tpm,
		    int concurrency)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->rpm = rpm > 0 ? rpm : 0;
	r->tpm = tpm > 0 ? tpm : 0;
	r->req_cap = fmax(1.0, r->rpm / 60.0 * BURST_SECONDS);
	r->tok_cap = fmax(1.0, r->tpm / 60.0 * BURST_SECONDS);
	r->req_level = r->req_cap;
	r->tok_level = r->tok_cap;
	r->refilled = now_sec();
	r->max = concurrency > 0 ? concurrency : 1;
	r->cap = r->max;
	r->since_change = r->max;	/* the first 429 counts at once */
	r->stats.min_cap = r->max;
}

void ratelimit_release(struct ratelimit *r)
{
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->changed);
}

double ratelimit_estimate(size_t body_bytes, int max_tokens, int n)
{
	return (double)body_bytes / 4.0 +
	       (double)(max_tokens > 0 ? max_tokens : 0) * (n > 1 ? n : 1);
}

/* Can a call costing `tokens` go now? */
static bool ready(const struct ratelimit *r, double tokens)
{
	if (r->inflight >= r->cap)
		return false;
	if (r->rpm > 0 && r->req_level < 1.0)
		return false;
	/* a call bigger than the bucket goes when the bucket is full */
	if (r->tpm > 0 && r->tok_level < fmin(tokens, r->tok_cap))
		return false;
	return true;
}

/* Seconds until the buckets could allow the call (a bound for the wait). */
static double eta(const struct ratelimit *r, double tokens)
{
	double t = 0;

	if (r->rpm > 0 && r->req_level < 1.0)
		t = fmax(t, (1.0 - r->req_level) * 60.0 / r->rpm);
	if (r->tpm > 0 && r->tok_level < fmin(tokens, r->tok_cap))
		t = fmax(t, (fmin(tokens, r->tok_cap) - r->tok_level) * 60.0 /
			 r->tpm);
	return t;
}

int ratelimit_acquire(struct ratelimit *r, double tokens,
		      volatile sig_atomic_t *stop)
{
	double t0 = 0;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	refill(r, now_sec());
	while (!ready(r, tokens)) {
		struct timespec ts;
		long ns = POLL_NS;
		double e = eta(r, tokens);

		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED)) {
			rc = -1;
			goto out;
		}
		if (t0 == 0)
			t0 = now_sec();
		if (e > 0 && e < 0.1)
			ns = (long)(e * 1e9) + 1000000L;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += ns;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->changed, &r->lock, &ts);
		refill(r, now_sec());
	}
	r->inflight++;
	if (r->rpm > 0)
		r->req_level -= 1.0;
	if (r->tpm > 0)
		r->tok_level -= tokens;
out:
	if (t0 != 0) {
		r->stats.waits++;
		r->stats.wait_seconds += now_sec() - t0;
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

double ratelimit_try(struct ratelimit *r, double tokens, double waited)
{
	double rc = 0;

	pthread_mutex_lock(&r->lock);
	refill(r, now_sec());
	if (r->inflight >= r->cap) {
		rc = -1;
	} else if (!ready(r, tokens)) {
		rc = fmax(eta(r, tokens), 0.001);
	} else {
		r->inflight++;
		if (r->rpm > 0)
			r->req_level -= 1.0;
		if (r->tpm > 0)
			r->tok_level -= tokens;
		if (waited > 0) {
			r->stats.waits++;
			r->stats.wait_seconds += waited;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void ratelimit_done(struct ratelimit *r, double extra_requests,
		    double token_debt, bool saw_429)
{
	pthread_mutex_lock(&r->lock);
	r->inflight--;
	if (r->rpm > 0 && extra_requests > 0)
		r->req_level -= extra_requests;
	if (r->tpm > 0)
		r->tok_level = fmin(r->tok_cap, r->tok_level - token_debt);
	r->since_change++;
	if (saw_429) {
		if (r->cap > 1 && r->since_change >= r->cap) {
			r->cap = r->cap / 2 > 1 ? r->cap / 2 : 1;
			r->since_change = 0;
			r->stats.decreases++;
			if (r->cap < r->stats.min_cap)
				r->stats.min_cap = r->cap;
		}
	} else if (r->cap < r->max && r->since_change >= r->cap) {
		r->cap++;
		r->since_change = 0;
	}
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

struct ratelimit_stats ratelimit_stats(struct ratelimit *r)
{
	struct ratelimit_stats s;

	pthread_mutex_lock(&r->lock);
	s = r->stats;
	s.cap = r->cap;
	pthread_mutex_unlock(&r->lock);
	return s;
}
