/*
 * ratelimit.h - client-side limits for one endpoint (each event loop has
 * its share, live.h): requests per minute, tokens per minute, and an
 * adaptive cap on requests in flight.
 *
 * Buckets: each limit is a token bucket refilled continuously at rate/60
 * per second, holding at most 10 seconds' worth (at least one request's
 * cost), full at the start. A caller takes one request and its estimated
 * tokens before a call; when the reply tells the real usage, the
 * difference is settled (a bucket may go negative: the debt delays the
 * next callers). A call whose cost exceeds the whole bucket goes when the
 * bucket is full, so no call waits for ever.
 *
 * Adaptive concurrency (AIMD, as TCP's congestion window): the cap starts
 * at the configured concurrency. A call that met a 429 halves it (at least
 * 1), at most once per `cap` finished calls, so one burst of 429s counts
 * once. After `cap` calls in a row without a 429 it grows by 1, up to the
 * configured concurrency.
 *
 * Thread-safety: every function may be called from any thread; one mutex
 * guards the struct. Errors: none; acquire returns -1 only on a stop.
 */
#ifndef CAIGEN_RATELIMIT_H
#define CAIGEN_RATELIMIT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

struct ratelimit_stats {
	uint64_t waits;		/* acquires that had to wait */
	double wait_seconds;	/* time spent waiting in acquire */
	uint64_t decreases;	/* times the in-flight cap was halved */
	int min_cap;		/* lowest in-flight cap reached */
	int cap;		/* the cap at the end */
};

struct ratelimit {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	double rpm, tpm;	/* 0: no limit */
	double req_level, tok_level;	/* may be negative (debt) */
	double req_cap, tok_cap;
	double refilled;	/* now_sec() of the last refill */
	int max;		/* configured concurrency */
	int cap;		/* current cap on calls in flight */
	int inflight;
	int since_change;	/* calls finished since the cap last moved */
	struct ratelimit_stats stats;
};

/* rpm, tpm: 0 for no limit; concurrency >= 1. */
void ratelimit_init(struct ratelimit *r, double rpm, double tpm,
		    int concurrency);
void ratelimit_release(struct ratelimit *r);

/* Wait for a place in flight and for one request plus `tokens` in the
 * buckets, then take them. Returns 0, or -1 without taking anything once
 * *stop is non-zero (checked every 100 ms). */
int ratelimit_acquire(struct ratelimit *r, double tokens,
		      volatile sig_atomic_t *stop);

/* acquire without waiting, for event loops: 0 when the place and the
 * tokens were taken; -1 when no place in flight is free (try again after
 * a ratelimit_done); else the seconds until the buckets could allow it.
 * `waited`: how long the caller has been trying, for the stats. */
double ratelimit_try(struct ratelimit *r, double tokens, double waited);

/* The call taken by acquire is over: give back its place in flight,
 * charge `extra_requests` more requests (its retries) and `token_debt`
 * more tokens (real usage minus the estimate; may be negative), and adapt
 * the cap (`saw_429`: the call met at least one 429). */
void ratelimit_done(struct ratelimit *r, double extra_requests,
		    double token_debt, bool saw_429);

/* A snapshot of the counters. */
struct ratelimit_stats ratelimit_stats(struct ratelimit *r);

/* Estimated tokens of a call: request bytes / 4 + the reply budget. */
double ratelimit_estimate(size_t body_bytes, int max_tokens, int n);

#endif
