/*
 * limiter.h - an adaptive cap on the requests in flight to one server,
 * shared by every role (policy, judge, panel members) and every event
 * loop that sends there, so the stage with more work takes the places
 * the other does not need.
 *
 * The limit moves once per window (about one round trip: at least the
 * smoothed latency and at least WINDOW_MIN seconds, and enough answers)
 * on what the window saw:
 *
 *   - a drop (429, 5xx, time-out, refused connection): the limit falls
 *     to 0.8 of itself (0.5 while nothing has gone through yet), at once, then
 *     not again for two round trips (the calls sent before the cut come
 *     back refused too), but every call sent after the cut and refused
 *     in those round trips takes its place away (a 429 comes back at
 *     once: its place would draw another); the limit it fell from
 *     becomes the plateau;
 *   - the limit was not reached (the run had fewer calls to send): no
 *     change, so a quiet stage never inflates its limit;
 *   - latency near its floor (the lowest seen, slowly forgotten), within
 *     25 % plus 2.5 ms (a server on the same machine at 0 ms answers
 *     more a second with a few ms of queue; 5 ms held twice the calls
 *     in flight, and memory, for the same answers a second): no queue
 *     is building, so
 *     the limit grows: half
 *     way to 0.95 of the plateau less one below it, near it by 2 % (at least 1)
 *     after PROBE_EVERY windows and probe_gap answers without a drop
 *     (a gap that doubles with each cut and halves with each probe that
 *     cost none, so probing a fixed ceiling costs about 1 % of drops),
 *     and by 5 % without a plateau;
 *   - latency above that but throughput up by 5 % since the window
 *     before: more in flight may still pay (a batching server), so up by
 *     10 %, on probation: the step is kept only if the throughput rose by
 *     half as much as the limit (5 %) over the window before the step,
 *     in the window after its first round trip and again in the next
 *     one; else the limit goes back to 0.9 of where the step started. A
 *     saturated server's latency rises with the limit (Little's law) and
 *     its throughput is noise: a single window's rise is no evidence
 *     (against nginx at 0 ms the limit ratcheted to 200-650 on it);
 *   - latency above and throughput flat: a queue is building for
 *     nothing, so down by 10 %, but not below the start (latency alone
 *     is noise at a few calls in flight to a server on this machine;
 *     drops still cut below it).
 *
 * Until the first cut or the first rise of latency (slow start, as TCP's)
 * every answer that met no queue, the limit having been reached within
 * the last round trip and a half, adds places at once: one for each
 * 125 ms of its round trip, 1 to 7, so the limit doubles every round trip
 * at 100 ms and grows eightfold at 1 s (the ceiling in three round trips
 * instead of nine). Slow start ends when the answers' smoothed latency
 * leaves the slack (or at a drop). A drop in slow start takes the limit
 * back to at most twice what it was a round trip before.
 *
 * The limit stays within [floor, ceiling]. A fixed limiter (floor =
 * ceiling) never moves but still obeys the servers' hints:
 *
 *   - retry-after on a 429 or 503 pauses every call to the server until
 *     then (at most 120 s);
 *   - x-ratelimit-remaining-requests (or anthropic-ratelimit-requests-
 *     remaining) R with its reset T: at most R more calls start before T
 *     (1 s when no reset is given); remaining tokens count the same way
 *     in calls of the average estimated size.
 *
 * Time is passed in by the caller (seconds on any monotonic clock), so
 * tests drive the limiter with a fake clock. The trace (when a FILE is
 * given) gets one line per window: time since the start, the limit,
 * calls in flight at most, answers per second, mean and floor latency in
 * ms, drops.
 *
 * Thread-safety: every function may be called from any thread; a mutex
 * guards the struct. Errors: none.
 */
#ifndef CAIGEN_LIMITER_H
#define CAIGEN_LIMITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LIMITER_WINDOW_MIN 0.1	/* seconds: the shortest window (a
				 * few of the scheduler's turns: shorter
				 * ones measure noise at 0 ms) */

/* How one call's attempt ended, for the limiter. */
enum limiter_outcome {
	LIMITER_OK,	/* an answer (any 2xx, or a 4xx that is not load) */
	LIMITER_DROP,	/* 429, 5xx, time-out, refused: the server is full */
	LIMITER_IGNORE,	/* ended without a measurement (stopped) */
};

struct limiter_stats {
	uint64_t cuts;		/* times the limit was cut */
	uint64_t drops;		/* attempts that ended in a drop */
	uint64_t paused;	/* takes refused by a server's hint */
	int min_limit, max_limit, limit;	/* lowest, highest, at the end */
};

struct limiter {
	pthread_mutex_t lock;
	int floor, ceiling;
	double limit;
	double start;		/* the first limit: latency alone never
				 * takes the limit below it */
	double ss_mark;		/* the limit at the last window of slow start */
	int inflight;
	/* the window */
	double win_start;
	int win_ok, win_drops, win_peak;
	double full_at;		/* when a take last met the limit */
	double win_rtt_sum;
	/* what the windows learnt */
	double rtt_floor;	/* lowest latency seen; 0 none yet */
	double srtt;		/* smoothed latency; 0 none yet */
	double last_tput;	/* answers/s of the window before the step */
	int probe;		/* a step up above the latency slack being
				 * measured: 1 its first window, 2 the
				 * measure, 3 the confirmation; 0 none */
	double base_tput;	/* answers/s before that step */
	double base_limit;	/* the limit before it */
	double plateau;		/* the server's ceiling as last seen; 0 none */
	int calm;		/* windows since the last drop or probe */
	long calm_ok;		/* answers since then */
	double probe_gap;	/* answers between probes */
	bool slow_start;
	double cut_after;	/* no second cut before this */
	double cut_at;		/* when the last cut was made */
	/* the servers' hints */
	double pause_until;
	double hint_left;	/* calls allowed before hint_until */
	double hint_until;
	double tokens_avg;	/* mean estimated tokens of a call */
	double t0;
	FILE *trace;		/* borrowed; NULL: none */
	struct limiter_stats stats;
};

/* start: the first limit, clamped to [floor, ceiling]; floor == ceiling
 * makes a fixed limiter. now: the clock's current time. */
void limiter_init(struct limiter *l, int floor, int ceiling, int start,
		  double now, FILE *trace);
void limiter_release(struct limiter *l);

/* Take a place for a call estimated at `tokens`: 0 when taken; -1 when
 * every place is taken (try again after a limiter_done); else the
 * seconds until a server's hint allows it. */
double limiter_take(struct limiter *l, double now, double tokens);

/* The call taken has ended its attempt after `rtt` seconds on the wire:
 * give its place back and learn from the outcome. */
void limiter_done(struct limiter *l, double now, double rtt,
		  enum limiter_outcome o);

/* An attempt of a call that keeps its place (it will be retried) ended
 * after `rtt` seconds: learn from it. */
void limiter_learn(struct limiter *l, double now, double rtt,
		   enum limiter_outcome o);

/* A server's hints from the reply just read, each < 0 when absent:
 * retry_after (seconds, from a 429 or 503), the remaining requests and
 * tokens, and the seconds until they reset. */
void limiter_hint(struct limiter *l, double now, double retry_after,
		  double remaining_requests, double remaining_tokens,
		  double reset);

/* The current limit, and a snapshot of the counters. */
int limiter_limit(struct limiter *l);
struct limiter_stats limiter_stats(struct limiter *l);

#endif
