/*
 * limiter.c - the adaptive in-flight limit for one server (limiter.h).
 */
#include "limiter.h"

#include <math.h>
#include <string.h>

#define FLOOR_SLACK 1.25	/* latency within this of the floor ... */
#define FLOOR_SLACK_ABS 0.0025	/* ... plus this is "no queue" */
#define FLOOR_FORGET 60.0	/* seconds: the floor creeps up to the
				 * windows' latency on this time scale */
#define CUT 0.8			/* a cut keeps this of the limit ... */
#define CUT_ALL 0.5		/* ... this when nothing went through yet */
#define CUT_BLIND 0.1		/* seconds between cuts before any answer */
#define PROBE_EVERY 8		/* windows between probes near a ceiling */
#define PROBE_GAP_MIN 100.0	/* ... and answers: a probe above a ceiling
				 * costs a drop or a few, so this keeps the
				 * drops near 1 %; doubled by each cut ... */
#define PROBE_GAP_MAX 6400.0	/* ... up to this */
#define TPUT_GAIN 1.05		/* throughput up by this pays for latency */
#define HINT_MAX 120.0		/* longest wait a hint may impose */
#define SS_RTT_UNIT 0.125	/* slow start adds a place per answer for
				 * each of these in the round trip ... */
#define SS_END_ANSWERS 8	/* answers in a window before their
				 * latency may end slow start */
#define SS_INC_MAX 7.0		/* ... at most this many: a 1 s server's
				 * limit grows eightfold a round trip, a
				 * 100 ms one's doubles */

static void clamp(struct limiter *l)
{
	if (l->limit > l->ceiling)
		l->limit = l->ceiling;
	if (l->limit < l->floor)
		l->limit = l->floor;
	if ((int)l->limit < l->stats.min_limit)
		l->stats.min_limit = (int)l->limit;
	if ((int)l->limit > l->stats.max_limit)
		l->stats.max_limit = (int)l->limit;
}

void limiter_init(struct limiter *l, int floor, int ceiling, int start,
		  double now, FILE *trace)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->floor = floor > 0 ? floor : 1;
	l->ceiling = ceiling > l->floor ? ceiling : l->floor;
	l->limit = start;
	l->start = start;
	l->stats.min_limit = l->stats.max_limit = l->ceiling;
	clamp(l);
	l->start = l->limit;
	l->ss_mark = l->limit;
	l->stats.min_limit = l->stats.max_limit = (int)l->limit;
	l->slow_start = true;
	l->win_start = now;
	l->t0 = now;
	l->trace = trace;
	l->hint_left = -1;
	l->full_at = -1e300;
	l->probe_gap = PROBE_GAP_MIN;
}

void limiter_release(struct limiter *l)
{
	pthread_mutex_destroy(&l->lock);
}

static bool fixed(const struct limiter *l)
{
	return l->floor == l->ceiling;
}

double limiter_take(struct limiter *l, double now, double tokens)
{
	double rc = 0;

	pthread_mutex_lock(&l->lock);
	if (l->hint_left >= 0 && now >= l->hint_until)
		l->hint_left = -1;	/* the server's period is over */
	if (now < l->pause_until) {
		rc = l->pause_until - now;
		l->stats.paused++;
	} else if (l->hint_left >= 0 && l->hint_left < 1 &&
		   now < l->hint_until) {
		rc = l->hint_until - now;
		l->stats.paused++;
	} else if (l->inflight >= (int)(l->limit + 0.5)) {
		rc = -1;
	} else {
		l->inflight++;
		if (l->inflight > l->win_peak)
			l->win_peak = l->inflight;
		if (l->inflight >= (int)(l->limit + 0.5) -
		    (int)(l->limit / 10))
			l->full_at = now;	/* the limit binds */
		if (l->hint_left >= 0)
			l->hint_left -= 1;
		/* the mean size of a call, for the token hints */
		l->tokens_avg = l->tokens_avg > 0 ?
				0.99 * l->tokens_avg + 0.01 * tokens : tokens;
	}
	pthread_mutex_unlock(&l->lock);
	return rc;
}

/* Just below a plateau: where the limit settles after a cut, a margin
 * of 5 % and one place (a server's count of requests at once lags its
 * answers a little). */
static double below(double plateau)
{
	return plateau * 0.95 - 1;
}

/* The window is over: move the limit by what it saw. */
static void step(struct limiter *l, double now)
{
	double dt = now - l->win_start;
	double tput = dt > 0 ? l->win_ok / dt : 0;
	double avg = l->win_ok ? l->win_rtt_sum / l->win_ok : 0;
	double before = l->limit;
	bool reached = l->full_at >= l->win_start;

	l->calm++;
	l->calm_ok += l->win_ok;
	if (fixed(l)) {
		/* nothing to learn */
	} else if (l->win_drops > 0) {
		l->probe = 0;
		l->calm = 0;
		l->calm_ok = 0;
		if (now >= l->cut_after) {
			/* a probe above the plateau that costs drops:
			 * probe more rarely */
			if (l->plateau > 0 && l->limit >= below(l->plateau))
				l->probe_gap = fmin(PROBE_GAP_MAX,
						    2 * l->probe_gap);
			l->plateau = l->limit;
			l->limit *= l->srtt > 0 ? CUT : CUT_ALL;
			/* a slow start that grew more than twofold a round
			 * trip overshoots as far: back to twice the limit
			 * of a round trip ago, which met no drop */
			if (l->slow_start && l->srtt > 0 &&
			    l->limit > 2 * l->ss_mark)
				l->limit = 2 * l->ss_mark;
			l->slow_start = false;
			/* the calls sent before the cut still come back
			 * refused for a round trip or so */
			l->cut_after = now + (l->srtt > 0 ?
				2 * fmax(l->srtt, avg) : CUT_BLIND);
			l->stats.cuts++;
			l->cut_at = now;
		}
	} else if (!reached || !l->win_ok) {
		/* demand-limited: the limit says nothing (and a step up
		 * being measured is taken back: its places were not used) */
		if (l->probe)
			l->limit = l->base_limit;
		l->probe = 0;
	} else if (avg <= l->rtt_floor * FLOOR_SLACK + FLOOR_SLACK_ABS) {
		l->probe = 0;
		if (l->slow_start)
			;	/* grown with every answer (limiter_done) */
		else if (l->plateau > 0 && l->limit < below(l->plateau))
			l->limit = fmin(below(l->plateau), l->limit +
					(below(l->plateau) - l->limit) / 2 +
					1);
		else if (l->plateau > 0 && (l->calm < PROBE_EVERY ||
					    l->calm_ok < l->probe_gap))
			;	/* near a known ceiling: probe now and then */
		else if (l->plateau > 0) {
			/* a probe; the last one cost no cut, so the
			 * server may have room: probe sooner */
			if (l->limit >= l->plateau)
				l->probe_gap = fmax(PROBE_GAP_MIN,
						    l->probe_gap / 2);
			l->limit += fmax(1, l->limit * 0.02);
			l->calm = 0;
			l->calm_ok = 0;
		} else
			l->limit += fmax(1, l->limit * 0.05);
		if (l->plateau > 0 && l->limit > l->plateau)
			l->plateau = l->limit;
		l->last_tput = tput;
	} else if (l->probe == 1 && dt < 4 * l->srtt) {
		/* the window after a step up: its answers were mostly sent
		 * before it */
		l->probe = 2;
		l->slow_start = false;
	} else if (l->probe) {
		/* a step up is kept only if the throughput rose by half as
		 * much as the limit, in the window after its first round
		 * trip (or in the first, when it is long against the round
		 * trip) and again in the next one: a saturated server's
		 * throughput is noise that a step would otherwise ratchet
		 * on, and its latency rises with the limit (Little's law) */
		bool paid = tput >= l->base_tput *
			    (1 + 0.5 * (l->limit / l->base_limit - 1));

		if (paid && l->probe < 3) {
			l->probe = 3;
		} else if (paid) {
			l->base_tput = tput;
			l->base_limit = l->limit;
			l->limit += fmax(1, l->limit * 0.10);
			l->probe = 1;
		} else {
			/* it bought nothing: back below where it started
			 * (not below the start for latency alone) */
			l->limit = fmin(l->base_limit,
					fmax(l->start, l->base_limit * 0.9));
			l->probe = 0;
		}
		l->slow_start = false;
		l->last_tput = tput;
	} else if (l->last_tput > 0 && tput > l->last_tput * TPUT_GAIN) {
		/* more in flight may still pay (a batching server): step up,
		 * measured against this window */
		l->base_tput = tput;
		l->base_limit = l->limit;
		l->limit += fmax(1, l->limit * 0.10);
		l->probe = 1;
		l->slow_start = false;
		l->last_tput = tput;
	} else {
		/* a queue for nothing: smaller, but not below the start
		 * for latency alone (against a server on this machine the
		 * latency is mostly this process's own turn-around, noise
		 * at a few calls in flight, and fewer calls cost more CPU
		 * each); drops still cut below it */
		if (l->limit > l->start)
			l->limit = fmax(l->start, l->limit * 0.9);
		l->slow_start = false;
		l->last_tput = tput;
	}
	clamp(l);
	if (l->slow_start)
		l->ss_mark = l->limit;
	if (l->trace)
		fprintf(l->trace, "%.3f %d %d %.1f %.3f %.3f %d\n",
			now - l->t0, (int)before, l->win_peak, tput,
			avg * 1000, l->rtt_floor * 1000, l->win_drops);
	l->win_start = now;
	l->win_ok = l->win_drops = 0;
	l->win_peak = l->inflight;
	l->win_rtt_sum = 0;
}

static void learn(struct limiter *l, double now, double rtt,
		  enum limiter_outcome o)
{
	double need;

	if (o == LIMITER_OK && rtt >= 0) {
		l->win_ok++;
		l->win_rtt_sum += rtt;
		if (l->rtt_floor == 0 || rtt < l->rtt_floor)
			l->rtt_floor = rtt;
		l->srtt = l->srtt > 0 ? 0.9 * l->srtt + 0.1 * rtt : rtt;
		/* slow start ends once the answers met a queue (their
		 * smoothed latency), without waiting for the window's end
		 * (at 0 ms it would double several times more) */
		if (l->slow_start && l->win_ok >= SS_END_ANSWERS &&
		    l->srtt > l->rtt_floor * FLOOR_SLACK + FLOOR_SLACK_ABS)
			l->slow_start = false;
		/* slow start: one more place per answer that met no queue
		 * while the limit was reached, as TCP's slow start: the
		 * limit doubles every round trip, without waiting for the
		 * window */
		if (l->slow_start && !fixed(l) && l->win_drops == 0 &&
		    now - l->full_at <= 1.5 * fmax(rtt, l->srtt) &&
		    rtt <= l->rtt_floor * FLOOR_SLACK + FLOOR_SLACK_ABS) {
			/* a round trip of a second costs more waiting
			 * than a tenth's: grow faster the longer it is */
			l->limit += fmin(SS_INC_MAX,
					 fmax(1, floor(rtt / SS_RTT_UNIT)));
			clamp(l);
		}
	} else if (o == LIMITER_DROP) {
		l->win_drops++;
		l->stats.drops++;
		/* after a cut, while its calls come back: a refused call's
		 * place is one the server does not have, so it is not given
		 * to the next call when it was sent after the cut (a 429
		 * comes back at once: a place kept
		 * would draw a refusal a millisecond for the round trips
		 * the cut waits out) */
		if (!fixed(l) && l->srtt > 0 && now < l->cut_after &&
		    rtt >= 0 &&
		    now - rtt >= l->cut_at) {
			l->limit = fmax(l->floor, l->limit - 1);
			clamp(l);
		}
	}
	/* a window: about a round trip, and some answers to go by */
	need = fmin(l->limit / 2, 16);
	/* a drop acts at once (a 429 comes back fast: waiting a round trip
	 * would let the same excess places draw many more) */
	if ((o == LIMITER_DROP && now >= l->cut_after) ||
	    (now - l->win_start >= fmax(l->srtt, LIMITER_WINDOW_MIN) &&
	     l->win_ok + l->win_drops >= need)) {
		if (l->win_ok) {
			double wavg = l->win_rtt_sum / l->win_ok;

			/* forget an old floor slowly: the path may have
			 * become slower for good */
			if (wavg > l->rtt_floor)
				l->rtt_floor += (wavg - l->rtt_floor) *
					fmin(1, (now - l->win_start) /
					     FLOOR_FORGET);
		}
		step(l, now);
	}
}

void limiter_done(struct limiter *l, double now, double rtt,
		  enum limiter_outcome o)
{
	pthread_mutex_lock(&l->lock);
	if (l->inflight > 0)
		l->inflight--;
	learn(l, now, rtt, o);
	pthread_mutex_unlock(&l->lock);
}

void limiter_learn(struct limiter *l, double now, double rtt,
		   enum limiter_outcome o)
{
	pthread_mutex_lock(&l->lock);
	learn(l, now, rtt, o);
	pthread_mutex_unlock(&l->lock);
}

void limiter_hint(struct limiter *l, double now, double retry_after,
		  double remaining_requests, double remaining_tokens,
		  double reset)
{
	double left = -1;

	pthread_mutex_lock(&l->lock);
	if (retry_after > 0 && now + fmin(retry_after, HINT_MAX) >
	    l->pause_until)
		l->pause_until = now + fmin(retry_after, HINT_MAX);
	if (remaining_requests >= 0)
		left = remaining_requests;
	if (remaining_tokens >= 0 && l->tokens_avg > 0) {
		double calls = floor(remaining_tokens / l->tokens_avg);

		left = left < 0 ? calls : fmin(left, calls);
	}
	if (left >= 0) {
		l->hint_left = left;
		l->hint_until = now + (reset > 0 ? fmin(reset, HINT_MAX) : 1);
	}
	pthread_mutex_unlock(&l->lock);
}

int limiter_limit(struct limiter *l)
{
	int n;

	pthread_mutex_lock(&l->lock);
	n = (int)(l->limit + 0.5);
	pthread_mutex_unlock(&l->lock);
	return n;
}

struct limiter_stats limiter_stats(struct limiter *l)
{
	struct limiter_stats s;

	pthread_mutex_lock(&l->lock);
	s = l->stats;
	s.limit = (int)(l->limit + 0.5);
	pthread_mutex_unlock(&l->lock);
	return s;
}
