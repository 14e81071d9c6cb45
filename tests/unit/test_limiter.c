/*
 * test_limiter.c - the adaptive in-flight limit (limiter.h), driven by a
 * fake clock against simulated servers: one that answers at a fixed
 * latency, one that refuses beyond N concurrent calls, one whose latency
 * grows with the queue (CPU-bound), one that batches. No timing is
 * measured: the clock is a number the test moves.
 */
#include "harness.h"
#include "config.h"
#include "http.h"
#include "limiter.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define MAXC 8192

/* A server model: the latency and the outcome of a call that arrives
 * with `busy` others in the server. */
typedef double (*model_fn)(int busy, bool *drop);

struct sim {
	struct limiter *l;
	model_fn model;
	double due[MAXC];
	double start[MAXC];
	bool drop[MAXC];
	int n;			/* calls in the server */
	int demand;		/* most calls the client has to send at once */
	long ok, drops;		/* over the whole run */
	long late_ok, late_drops;	/* after settle */
	double settle;
};

static int limit_conn_n = 50;

static double fixed_100ms(int busy, bool *drop)
{
	(void)busy;
	*drop = false;
	return 0.1;
}

static double fixed_1s(int busy, bool *drop)
{
	(void)busy;
	*drop = false;
	return 1.0;
}

/* 429 at once beyond limit_conn_n concurrent */
static double limit_conn(int busy, bool *drop)
{
	*drop = busy >= limit_conn_n;
	return *drop ? 0.001 : 0.1;
}

/* 429 at once beyond limit_conn_n concurrent, 1 s when served */
static double limit_conn_1s(int busy, bool *drop)
{
	*drop = busy >= limit_conn_n;
	return *drop ? 0.001 : 1.0;
}

/* a server on this machine at 0 ms: client and server share the CPU,
 * 20,000 calls/s whatever is in flight (latency grows with the calls in
 * flight), and each latency up to five times that (the other
 * processes of a shared machine) */
static uint64_t noise_x = 88172645463325252ULL;
static double cpu_noisy(int busy, bool *drop)
{
	noise_x ^= noise_x << 13;
	noise_x ^= noise_x >> 7;
	noise_x ^= noise_x << 17;
	*drop = false;
	return (0.0001 + (busy + 1) / 20000.0) *
	       (1 + (double)(noise_x % 1000) / 250);
}

/* A server on this machine at 0 ms whose throughput is noise: client
 * and server share two busy cores, so the calls a second they get
 * through jump between 0.3 and 1.5 times 20,000 every 10 ms (the other
 * processes' turns), and each latency is 0.3 ms of turn-around plus its
 * queue at that rate. More than about 32 in flight only queue. */
static double sim_now;	/* the simulated clock, set by run() */
static uint64_t rate_x = 0x2545f4914f6cdd1dULL;
static double rate_at = -1, rate_now = 20000;
static double cpu_noisy_tput(int busy, bool *drop)
{
	if (sim_now < rate_at || sim_now >= rate_at + 0.010) {
		rate_at = sim_now;
		rate_x ^= rate_x << 13;
		rate_x ^= rate_x >> 7;
		rate_x ^= rate_x << 17;
		rate_now = 20000 * (0.3 + 1.2 * (double)(rate_x % 1000) /
				    1000);
	}
	*drop = false;
	return 0.0003 + (busy + 1) / rate_now;
}

/* 10,000 calls/s of CPU and 0.2 ms of wire: a queue beyond 2 */
static double cpu_bound(int busy, bool *drop)
{
	*drop = false;
	return 0.0002 + (busy + 1) / 10000.0;
}

/* a batching server: 50 ms a step whatever the batch, up to 256 */
static double batching(int busy, bool *drop)
{
	*drop = false;
	return 0.05 + (busy > 256 ? (busy - 256) * 0.05 / 256 : 0) +
	       busy * 0.00005;
}

static void run_from(struct sim *s, double from, double until, double dt)
{
	for (double t = from; t < until; t += dt) {
		sim_now = t;
		for (int i = 0; i < s->n;) {
			if (s->due[i] > t) {
				i++;
				continue;
			}
			limiter_done(s->l, t, t - s->start[i], s->drop[i] ?
				     LIMITER_DROP : LIMITER_OK);
			if (s->drop[i])
				s->drops++;
			else
				s->ok++;
			if (t >= s->settle) {
				if (s->drop[i])
					s->late_drops++;
				else
					s->late_ok++;
			}
			s->n--;
			s->due[i] = s->due[s->n];
			s->start[i] = s->start[s->n];
			s->drop[i] = s->drop[s->n];
		}
		while (s->n < s->demand && s->n < MAXC &&
		       limiter_take(s->l, t, 100) == 0) {
			bool d;
			double rtt = s->model(s->n, &d);

			s->start[s->n] = t;
			s->due[s->n] = t + rtt;
			s->drop[s->n] = d;
			s->n++;
		}
	}
}

static void run(struct sim *s, double until, double dt)
{
	run_from(s, 0, until, dt);
}

static struct sim *sim_new(struct limiter *l, model_fn m, int demand)
{
	struct sim *s = calloc(1, sizeof(*s));

	s->l = l;
	s->model = m;
	s->demand = demand;
	s->settle = 1e18;
	return s;
}

static void test_slow_start_reaches_the_ceiling(void)
{
	struct limiter l;
	struct sim *s;

	limiter_init(&l, 1, 4096, 16, 0, NULL);
	s = sim_new(&l, fixed_1s, MAXC);
	/* eightfold a round trip at 1 s: 16 -> 4096 in three round trips
	 * (doubling took nine: a third of a 25 s run) */
	run(s, 4.5, 0.01);
	fprintf(stderr, "  slow start at 1 s: limit %d after 4.5 s, %ld "
		"answers\n", limiter_limit(&l), s->ok);
	CHECK(limiter_limit(&l) == 4096);
	CHECK(s->drops == 0);
	limiter_release(&l);
	free(s);
	/* at 100 ms it still doubles: 16 -> 32 -> 64 in two round trips
	 * and a little */
	limiter_init(&l, 1, 4096, 16, 0, NULL);
	s = sim_new(&l, fixed_100ms, MAXC);
	run(s, 0.205, 0.001);
	fprintf(stderr, "  slow start at 100 ms: limit %d after 0.205 s\n",
		limiter_limit(&l));
	CHECK(limiter_limit(&l) >= 64 && limiter_limit(&l) <= 80);
	limiter_release(&l);
	free(s);
}

/* The fast slow start of a 1 s server that hits a ceiling of 300 at once:
 * one burst of refusals, then settled below it. */
static void test_slow_start_overshoot_at_1s(void)
{
	struct limiter l;
	struct sim *s;
	double frac;

	limiter_init(&l, 1, 4096, 16, 0, getenv("LIMITER_TRACE") ? stderr : NULL);
	s = sim_new(&l, limit_conn_1s, MAXC);
	limit_conn_n = 300;
	s->settle = 20;
	run(s, 80, 0.01);
	limit_conn_n = 50;
	frac = (double)s->late_drops / (double)(s->late_ok + s->late_drops);
	fprintf(stderr, "  1 s, 300 at once: limit %d, %ld ok, %ld refused "
		"in all, %.2f %% after settling\n", limiter_limit(&l), s->ok,
		s->drops, 100 * frac);
	CHECK(frac <= 0.02);
	CHECK(s->late_ok >= 0.9 * 300 * 60);
	/* the burst of the overshoot: less than two round trips' worth */
	CHECK(s->drops < 2 * 2 * 300);
	limiter_release(&l);
	free(s);
}

/* A 0 ms server on this machine: more in flight does not help, latency
 * is noise. The limit must not sink to a few calls on that noise (each
 * costs more CPU when fewer are in flight) nor grow without bound. */
static void test_noisy_local_server_keeps_the_start(void)
{
	struct limiter l;
	struct sim *s;

	long fixed_ok;

	/* the fixed limit of the old default, 8 a role */
	limiter_init(&l, 16, 16, 16, 0, NULL);
	s = sim_new(&l, cpu_noisy, MAXC);
	run(s, 5, 0.0001);
	fixed_ok = s->ok;
	limiter_release(&l);
	free(s);
	limiter_init(&l, 1, 4096, 16, 0, NULL);
	s = sim_new(&l, cpu_noisy, MAXC);
	run(s, 5, 0.0001);
	fprintf(stderr, "  0 ms, noisy: limit %d (lowest %d), %ld answers, "
		"fixed 16: %ld\n", limiter_limit(&l),
		limiter_stats(&l).min_limit, s->ok, fixed_ok);
	CHECK(limiter_stats(&l).min_limit >= 16);
	CHECK(limiter_limit(&l) <= 128);
	CHECK(s->ok >= 0.9 * fixed_ok);
	limiter_release(&l);
	free(s);
}

/* A 0 ms server on this machine whose throughput is noise (its rate
 * jumps every 10 ms): a window that happened to get more answers must
 * not ratchet the limit up (it climbed to 200-650 in flight against the
 * bench nginx, 25 MB of memory for no throughput). The limit stays near
 * the calls in flight that keep latency within its slack (about 50 here),
 * and the throughput that of a fixed 32. */
static void test_noisy_throughput_stays_small(void)
{
	struct limiter l;
	struct sim *s;
	long fixed_ok;
	double sum = 0;
	int samples = 0;

	limiter_init(&l, 32, 32, 32, 0, NULL);
	s = sim_new(&l, cpu_noisy_tput, MAXC);
	run(s, 10, 0.0001);
	fixed_ok = s->ok;
	limiter_release(&l);
	free(s);
	limiter_init(&l, 1, 4096, 16, 0, getenv("LIMITER_TRACE") ? stderr : NULL);
	s = sim_new(&l, cpu_noisy_tput, MAXC);
	for (int k = 0; k < 100; k++) {
		run_from(s, k * 0.1, (k + 1) * 0.1, 0.0001);
		if (k >= 10) {
			sum += limiter_limit(&l);
			samples++;
		}
	}
	fprintf(stderr, "  0 ms, noisy throughput: limit %d, mean %.0f, "
		"highest %d, %ld answers, fixed 32: %ld\n", limiter_limit(&l),
		sum / samples, limiter_stats(&l).max_limit, s->ok, fixed_ok);
	CHECK(limiter_stats(&l).max_limit <= 160);
	CHECK(sum / samples <= 80);
	CHECK(s->ok >= 0.9 * fixed_ok);
	limiter_release(&l);
	free(s);
}

static void test_quiet_stage_does_not_grow(void)
{
	struct limiter l;
	struct sim *s;

	limiter_init(&l, 1, 4096, 8, 0, NULL);
	s = sim_new(&l, fixed_100ms, 3);	/* 3 calls at most */
	run(s, 10, 0.001);
	CHECK(limiter_limit(&l) == 8);
	CHECK(s->ok > 250);
	limiter_release(&l);
	free(s);
}

static void test_drop_cuts_once_a_round_trip(void)
{
	struct limiter l;
	int before;

	limiter_init(&l, 1, 1000, 100, 0, NULL);
	for (int i = 0; i < 100; i++)
		CHECK(limiter_take(&l, 0, 1) == 0);
	CHECK(limiter_take(&l, 0, 1) == -1);	/* full */
	/* round trips of 0.1 s teach the latency (and, the limit being
	 * reached, slow start adds a few places) */
	for (int i = 0; i < 50; i++)
		limiter_done(&l, 0.001 * i, 0.1, LIMITER_OK);
	before = limiter_limit(&l);
	CHECK(before > 100);
	/* a burst of 429s in one round trip: one cut, by a fifth */
	for (int i = 0; i < 10; i++)
		limiter_done(&l, 0.2 + 0.001 * i, 0.1, LIMITER_DROP);
	CHECK(limiter_stats(&l).cuts == 1);
	CHECK(limiter_limit(&l) == (int)(before * 0.8));
	/* two round trips later (the calls sent before the cut are
	 * back) another one counts; no more slow start */
	before = limiter_limit(&l);
	limiter_done(&l, 0.3, 0.1, LIMITER_OK);
	CHECK(limiter_limit(&l) == before);
	limiter_done(&l, 0.45, 0.1, LIMITER_DROP);
	CHECK(limiter_stats(&l).cuts == 2);
	CHECK(limiter_limit(&l) == (int)(before * 0.8));
	CHECK(limiter_stats(&l).drops == 11);
	limiter_release(&l);
	/* while nothing has gone through yet a drop halves it, and the
	 * next cut waits CUT_BLIND */
	limiter_init(&l, 1, 1000, 100, 0, NULL);
	limiter_done(&l, 0.01, 0.001, LIMITER_DROP);
	CHECK(limiter_limit(&l) == 50);
	limiter_done(&l, 0.05, 0.001, LIMITER_DROP);
	CHECK(limiter_limit(&l) == 50);
	limiter_done(&l, 0.2, 0.001, LIMITER_DROP);
	CHECK(limiter_limit(&l) == 25);
	CHECK(limiter_stats(&l).min_limit == 25);
	CHECK(limiter_stats(&l).cuts == 2);
	limiter_release(&l);
}

static void test_settles_below_limit_conn(void)
{
	struct limiter l;
	struct sim *s;
	double frac;

	limiter_init(&l, 1, 4096, 8, 0, getenv("LIMITER_TRACE") ? stderr : NULL);
	s = sim_new(&l, limit_conn, MAXC);
	s->settle = 10;
	run(s, 60, 0.001);
	frac = (double)s->late_drops / (double)(s->late_ok + s->late_drops);
	fprintf(stderr, "  limit_conn 50: limit %d, %ld ok, %ld refused "
		"after settling (%.2f %%)\n", limiter_limit(&l), s->late_ok,
		s->late_drops, 100 * frac);
	CHECK(frac <= 0.02);
	/* 0.9 of the best: 50 in flight for 0.1 s is 500 calls/s */
	CHECK(s->late_ok >= 0.9 * 500 * 50);
	CHECK(limiter_limit(&l) <= 60);
	limiter_release(&l);
	free(s);
}

static void test_cpu_bound_server_stays_small(void)
{
	struct limiter l;
	struct sim *s;

	limiter_init(&l, 1, 4096, 8, 0, NULL);
	s = sim_new(&l, cpu_bound, MAXC);
	run(s, 5, 0.0001);
	fprintf(stderr, "  cpu-bound: limit %d, %ld answers\n",
		limiter_limit(&l), s->ok);
	/* more in flight only queues: the limit stays far from the ceiling
	 * and the throughput near the server's 10,000/s */
	CHECK(limiter_limit(&l) < 256);
	CHECK(s->ok >= 0.8 * 5 * 10000);
	limiter_release(&l);
	free(s);
}

static void test_batching_server_gets_more(void)
{
	struct limiter l;
	struct sim *s;

	limiter_init(&l, 1, 4096, 8, 0, NULL);
	s = sim_new(&l, batching, MAXC);
	run(s, 20, 0.001);
	fprintf(stderr, "  batching: limit %d\n", limiter_limit(&l));
	/* latency grows with the batch, but so does throughput */
	CHECK(limiter_limit(&l) >= 128);
	limiter_release(&l);
	free(s);
}

static void test_fixed_never_moves(void)
{
	struct limiter l;
	struct sim *s;

	limiter_init(&l, 32, 32, 32, 0, NULL);
	s = sim_new(&l, limit_conn, MAXC);
	limit_conn_n = 10;
	run(s, 5, 0.001);
	limit_conn_n = 50;
	CHECK(limiter_limit(&l) == 32);
	CHECK(limiter_stats(&l).cuts == 0);
	CHECK(limiter_stats(&l).drops > 0);
	limiter_release(&l);
	free(s);
}

static void test_retry_after_pauses(void)
{
	struct limiter l;

	limiter_init(&l, 4, 4, 4, 0, NULL);
	limiter_hint(&l, 10, 2.5, -1, -1, -1);
	CHECK_NEAR(limiter_take(&l, 10, 1), 2.5, 1e-9);
	CHECK_NEAR(limiter_take(&l, 12, 1), 0.5, 1e-9);
	CHECK(limiter_take(&l, 12.5, 1) == 0);
	/* a hint beyond 120 s is held to 120 s */
	limiter_hint(&l, 20, 1e6, -1, -1, -1);
	CHECK_NEAR(limiter_take(&l, 20, 1), 120, 1e-9);
	CHECK(limiter_stats(&l).paused == 3);
	limiter_release(&l);
}

static void test_remaining_requests_and_tokens(void)
{
	struct limiter l;

	limiter_init(&l, 1, 100, 100, 0, NULL);
	/* 2 requests left until the reset in 3 s */
	limiter_hint(&l, 1, -1, 2, -1, 3);
	CHECK(limiter_take(&l, 1, 10) == 0);
	CHECK(limiter_take(&l, 1, 10) == 0);
	CHECK_NEAR(limiter_take(&l, 1, 10), 3, 1e-9);
	CHECK(limiter_take(&l, 4, 10) == 0);	/* reset: free again */
	/* tokens: 25 left at 10 a call is 2 calls; no reset given: 1 s */
	limiter_hint(&l, 5, -1, 1000, 25, -1);
	CHECK(limiter_take(&l, 5, 10) == 0);
	CHECK(limiter_take(&l, 5, 10) == 0);
	CHECK_NEAR(limiter_take(&l, 5, 10), 1, 1e-9);
	CHECK(limiter_take(&l, 6, 10) == 0);
	limiter_release(&l);
}

static void test_trace_lines(void)
{
	struct limiter l;
	struct sim *s;
	FILE *f = tmpfile();
	char line[256];
	int n = 0, lim = 0, prev = 0;
	bool grew = true;

	limiter_init(&l, 1, 64, 8, 0, f);
	s = sim_new(&l, fixed_100ms, MAXC);
	run(s, 1, 0.001);
	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		double t;

		CHECK(sscanf(line, "%lf %d", &t, &lim) == 2);
		if (n && lim < prev)
			grew = false;
		prev = lim;
		n++;
	}
	CHECK(n >= 3);
	CHECK(grew);
	fclose(f);
	limiter_release(&l);
	free(s);
}

/* the servers' counts reach the limiter through http.h's hints */
static void test_remaining_headers(void)
{
	static const char *const lines[] = {
		"x-ratelimit-remaining-requests: 59\r\n",
		"x-ratelimit-remaining-tokens: 149984\r\n",
		"x-ratelimit-reset-requests: 1s\r\n",
		"x-ratelimit-reset-tokens: 6m0s\r\n",
	};
	struct http_hints h;

	http_hints_reset(&h);
	CHECK(h.remaining_requests < 0 && h.remaining_tokens < 0 &&
	      h.remaining_reset < 0);
	for (size_t i = 0; i < 4; i++)
		http_hints_header(&h, lines[i], strlen(lines[i]));
	CHECK_NEAR(h.remaining_requests, 59, 0);
	CHECK_NEAR(h.remaining_tokens, 149984, 0);
	CHECK_NEAR(h.remaining_reset, 1, 1e-9);	/* the requests' reset */
	http_hints_reset(&h);
	http_hints_header(&h, "anthropic-ratelimit-requests-remaining: 3\r\n",
			  44);
	http_hints_header(&h, "x-ratelimit-remaining-tokens: lots\r\n", 36);
	CHECK_NEAR(h.remaining_requests, 3, 0);
	CHECK(h.remaining_tokens < 0);
}

/* concurrency: auto (the default), [floor, ceiling], or a fixed number */
static void test_concurrency_config(void)
{
	static const struct { const char *yaml; bool autom; int c, lo, hi; }
	cases[] = {
		{ "policy:\n  model: m\n", true, 8, 1, 2048 },
		{ "policy:\n  concurrency: auto\n", true, 8, 1, 2048 },
		{ "policy:\n  concurrency: [4, 300]\n", true, 8, 4, 300 },
		{ "policy:\n  concurrency: 32\n", false, 32, 1, 2048 },
	};
	char path[] = "/tmp/test_limiter_XXXXXX";
	int fd = mkstemp(path);
	struct config c;
	struct err e = { "" };

	CHECK(fd >= 0);
	close(fd);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fopen(path, "w");

		fputs(cases[i].yaml, f);
		fclose(f);
		config_init(&c);
		CHECK(config_load_yaml(&c, path, &e) == 0);
		CHECK(c.policy.concurrency_auto == cases[i].autom);
		CHECK(c.policy.concurrency == cases[i].c);
		CHECK(c.policy.concurrency_floor == cases[i].lo);
		CHECK(c.policy.concurrency_ceiling == cases[i].hi);
		CHECK(endpoint_max_concurrency(&c.policy) ==
		      (cases[i].autom ? cases[i].hi : cases[i].c));
		CHECK(c.judge.concurrency_auto);
		config_release(&c);
	}
	/* --jobs fixes both */
	config_init(&c);
	c.jobs = 5;
	CHECK(config_validate(&c, &e) == 0);
	CHECK(!c.policy.concurrency_auto && !c.judge.concurrency_auto);
	CHECK(endpoint_max_concurrency(&c.judge) == 5);
	config_release(&c);
	/* a floor above the ceiling is refused with its place */
	{
		FILE *f = fopen(path, "w");

		fputs("judge:\n  concurrency: [9, 3]\n", f);
		fclose(f);
	}
	config_init(&c);
	CHECK(config_load_yaml(&c, path, &e) != 0);
	CHECK(strstr(e.msg, ":2:") && strstr(e.msg, "floor <= ceiling"));
	config_release(&c);
	unlink(path);
}

TESTS(T(test_slow_start_reaches_the_ceiling),
      T(test_slow_start_overshoot_at_1s),
      T(test_noisy_local_server_keeps_the_start),
      T(test_noisy_throughput_stays_small),
      T(test_quiet_stage_does_not_grow),
      T(test_drop_cuts_once_a_round_trip),
      T(test_settles_below_limit_conn),
      T(test_cpu_bound_server_stays_small),
      T(test_batching_server_gets_more),
      T(test_fixed_never_moves),
      T(test_retry_after_pauses),
      T(test_remaining_requests_and_tokens),
      T(test_trace_lines),
      T(test_remaining_headers),
      T(test_concurrency_config))
