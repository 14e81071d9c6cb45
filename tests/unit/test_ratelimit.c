/*
 * test_ratelimit.c - the client-side limiter (ratelimit.h): bucket sizes
 * and debts, the AIMD in-flight cap, giving up on a stop. No timing is
 * asserted: a set stop flag turns "would wait" into an immediate -1.
 */
#include "harness.h"
#include "ratelimit.h"

static volatile sig_atomic_t stop_now = 1;

static void test_no_limits_never_wait(void)
{
	struct ratelimit r;

	ratelimit_init(&r, 0, 0, 2);
	CHECK(ratelimit_acquire(&r, 1e9, NULL) == 0);
	CHECK(ratelimit_acquire(&r, 1e9, NULL) == 0);
	/* the third call is over the in-flight cap of 2 */
	CHECK(ratelimit_acquire(&r, 1, &stop_now) == -1);
	ratelimit_done(&r, 0, 0, false);
	CHECK(ratelimit_acquire(&r, 1, &stop_now) == 0);
	CHECK(ratelimit_stats(&r).waits == 0);
	ratelimit_release(&r);
}

static void test_request_bucket(void)
{
	struct ratelimit r;
	int ok = 0;

	/* 60/min holds 10 s' worth: 10 calls at once, then a wait */
	ratelimit_init(&r, 60, 0, 100);
	for (int i = 0; i < 20; i++)
		if (ratelimit_acquire(&r, 0, &stop_now) == 0)
			ok++;
	CHECK(ok == 10);
	ratelimit_release(&r);
}

static void test_retries_are_charged(void)
{
	struct ratelimit r;

	ratelimit_init(&r, 60, 0, 100);
	CHECK(ratelimit_acquire(&r, 0, &stop_now) == 0);
	/* that call took 9 retries: the bucket is empty */
	ratelimit_done(&r, 9, 0, false);
	CHECK(ratelimit_acquire(&r, 0, &stop_now) == -1);
	ratelimit_release(&r);
}

static void test_token_bucket_and_debt(void)
{
	struct ratelimit r;

	/* 600 tokens/min: a bucket of 100 */
	ratelimit_init(&r, 0, 600, 100);
	CHECK(ratelimit_acquire(&r, 60, &stop_now) == 0);
	CHECK(ratelimit_acquire(&r, 60, &stop_now) == -1);	/* 40 left */
	/* the reply used 20 fewer than estimated: refunded */
	ratelimit_done(&r, 0, -20, false);
	CHECK(ratelimit_acquire(&r, 60, &stop_now) == 0);
	/* it used 100 more: the bucket is in debt, nothing goes */
	ratelimit_done(&r, 0, 100, false);
	CHECK(ratelimit_acquire(&r, 1, &stop_now) == -1);
	ratelimit_release(&r);
}

static void test_big_call_goes_when_full(void)
{
	struct ratelimit r;

	/* a call larger than the whole bucket is not blocked for ever */
	ratelimit_init(&r, 0, 60, 4);	/* bucket of 10 tokens */
	CHECK(ratelimit_acquire(&r, 5000, &stop_now) == 0);
	CHECK(ratelimit_acquire(&r, 5000, &stop_now) == -1);
	ratelimit_release(&r);
}

static void test_aimd(void)
{
	struct ratelimit r;
	struct ratelimit_stats s;

	ratelimit_init(&r, 0, 0, 8);
	/* the first 429 halves the cap at once */
	CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
	ratelimit_done(&r, 0, 0, true);
	CHECK(ratelimit_stats(&r).cap == 4);
	/* more 429s from the same burst (fewer than cap calls) count once */
	for (int i = 0; i < 3; i++) {
		CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
		ratelimit_done(&r, 0, 0, true);
	}
	CHECK(ratelimit_stats(&r).cap == 4);
	/* the 4th call since the cut: a new window, halve again */
	CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
	ratelimit_done(&r, 0, 0, true);
	CHECK(ratelimit_stats(&r).cap == 2);
	/* never below 1 */
	for (int i = 0; i < 20; i++) {
		CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
		ratelimit_done(&r, 0, 0, true);
	}
	s = ratelimit_stats(&r);
	CHECK(s.cap == 1 && s.min_cap == 1 && s.decreases == 3);
	/* with the cap at 1, a second call in flight must wait */
	CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
	CHECK(ratelimit_acquire(&r, 0, &stop_now) == -1);
	ratelimit_done(&r, 0, 0, false);
	/* growth: +1 per `cap` successes, up to the configured 8 */
	for (int i = 0; i < 200; i++) {
		CHECK(ratelimit_acquire(&r, 0, NULL) == 0);
		ratelimit_done(&r, 0, 0, false);
	}
	CHECK(ratelimit_stats(&r).cap == 8);
	ratelimit_release(&r);
}

static void test_estimate(void)
{
	CHECK_NEAR(ratelimit_estimate(400, 50, 1), 150, 1e-9);
	CHECK_NEAR(ratelimit_estimate(400, 50, 2), 200, 1e-9);
	CHECK_NEAR(ratelimit_estimate(0, 0, 1), 0, 1e-9);
}

TESTS(T(test_no_limits_never_wait), T(test_request_bucket),
      T(test_retries_are_charged), T(test_token_bucket_and_debt),
      T(test_big_call_goes_when_full), T(test_aimd), T(test_estimate))
