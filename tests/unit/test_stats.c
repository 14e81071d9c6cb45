/*
 * test_stats.c - the incomplete gamma function, chi-square tails and
 * binomial intervals against values computed another way: closed forms
 * (Q(1, x) = e^-x, Q(1/2, x) = erfc(sqrt x), Q(k, x) for integer k as a
 * Poisson sum) and brute-force binomial sums.
 */
#include "harness.h"
#include "stats.h"

#include <stdint.h>

/* Q(k, x) for integer k: e^-x sum_{i<k} x^i / i!, summed in logs. */
static double poisson_q(int k, double x)
{
	double s = 0;

	for (int i = 0; i < k; i++)
		s += exp(-x + i * log(x) - lgamma(i + 1.0));
	return s;
}

static void test_gamma_closed_forms(void)
{
	static const double xs[] = { 1e-3, 0.1, 0.7, 1, 1.5, 5, 30, 200 };

	for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
		double x = xs[i];

		CHECK_NEAR(stats_gamma_q(1, x), exp(-x), 1e-14);
		CHECK_NEAR(stats_gamma_q(0.5, x), erfc(sqrt(x)), 1e-14);
		CHECK_NEAR(stats_gamma_p(0.5, x) + stats_gamma_q(0.5, x), 1,
			   1e-14);
	}
}

static void test_gamma_integer_shapes(void)
{
	static const int ks[] = { 2, 3, 10, 50, 100 };
	static const double xs[] = { 0.5, 3, 9.5, 20, 45, 90, 130 };

	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		for (size_t j = 0; j < sizeof(xs) / sizeof(xs[0]); j++) {
			double want = poisson_q(ks[i], xs[j]);
			double got = stats_gamma_q(ks[i], xs[j]);

			/* relative where the value is not tiny */
			CHECK_NEAR(got, want, 1e-12 * (want > 1e-3 ? want :
						       1e-3));
		}
	}
}

static void test_gamma_domain(void)
{
	CHECK(isnan(stats_gamma_q(0, 1)));
	CHECK(isnan(stats_gamma_q(-1, 1)));
	CHECK(isnan(stats_gamma_q(1, -1)));
	CHECK(isnan(stats_gamma_q(NAN, 1)));
	CHECK(stats_gamma_q(3, 0) == 1);
	CHECK(stats_gamma_q(3, INFINITY) == 0);
}

static void test_chi2(void)
{
	/* the textbook 5 % points */
	CHECK_NEAR(stats_chi2_sf(3.841458820694124, 1), 0.05, 1e-12);
	CHECK_NEAR(stats_chi2_sf(11.070497693516351, 5), 0.05, 1e-12);
	CHECK_NEAR(stats_chi2_sf(30.143527205646155, 19), 0.05, 1e-12);
	/* dof 2: exp(-x/2) */
	CHECK_NEAR(stats_chi2_sf(7.3, 2), exp(-3.65), 1e-15);
	CHECK(stats_chi2_sf(0, 4) == 1);
	CHECK(isnan(stats_chi2_sf(1, 0)));
}

/* The interval by summing every probability from k = 0. */
static void brute_interval(uint64_t n, double p, double level,
			   uint64_t *lo, uint64_t *hi)
{
	double cum = 0, tail = (1 - level) / 2;
	int have_lo = 0;

	*lo = *hi = n;
	for (uint64_t k = 0; k <= n; k++) {
		cum += exp(lgamma(n + 1.0) - lgamma(k + 1.0) -
			   lgamma((double)(n - k) + 1) + k * log(p) +
			   (double)(n - k) * log1p(-p));
		if (!have_lo && cum >= tail) {
			*lo = k;
			have_lo = 1;
		}
		if (cum >= 1 - tail) {
			*hi = k;
			return;
		}
	}
}

static void test_binomial_interval(void)
{
	static const struct { uint64_t n; double p; } c[] = {
		{ 100, 0.5 }, { 1000, 0.125 }, { 20, 0.01 }, { 5000, 0.9 },
		{ 1, 0.3 }, { 12345, 0.037 }, { 7, 0.5 },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t lo, hi, blo, bhi;

		stats_binom_interval(c[i].n, c[i].p, 0.99, &lo, &hi);
		brute_interval(c[i].n, c[i].p, 0.99, &blo, &bhi);
		if (lo != blo || hi != bhi)
			fprintf(stderr, "  n=%llu p=%g: [%llu, %llu] vs "
				"[%llu, %llu]\n", (unsigned long long)c[i].n,
				c[i].p, (unsigned long long)lo,
				(unsigned long long)hi,
				(unsigned long long)blo,
				(unsigned long long)bhi);
		CHECK(lo == blo);
		CHECK(hi == bhi);
	}
}

static void test_binomial_edges(void)
{
	uint64_t lo, hi;

	stats_binom_interval(50, 0, 0.99, &lo, &hi);
	CHECK(lo == 0 && hi == 0);
	stats_binom_interval(50, 1, 0.99, &lo, &hi);
	CHECK(lo == 50 && hi == 50);
	stats_binom_interval(0, 0.5, 0.99, &lo, &hi);
	CHECK(lo == 0 && hi == 0);
	/* a big n stays quick: the sum runs over +-12 sd only */
	stats_binom_interval(1000000000ULL, 0.25, 0.99, &lo, &hi);
	CHECK(lo < 250000000ULL && hi > 250000000ULL);
	/* about 2 x 2.576 sd, sd = 13693 */
	CHECK(hi - lo > 70000 && hi - lo < 71200);
}

TESTS(T(test_gamma_closed_forms), T(test_gamma_integer_shapes),
      T(test_gamma_domain), T(test_chi2), T(test_binomial_interval),
      T(test_binomial_edges))
