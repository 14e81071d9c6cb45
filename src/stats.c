/*
 * stats.c - incomplete gamma, chi-square tails, binomial intervals.
 *
 * The incomplete gamma follows the classic two-branch scheme: below
 * x = a + 1 the series P(a, x) = e^-x x^a / Gamma(a) * sum x^n /
 * (a (a+1) ... (a+n)) converges fast; above it the continued fraction for
 * Q(a, x) does, evaluated with the modified Lentz method. Each branch gives
 * the other function by subtraction from one.
 */
#include "stats.h"

#include <float.h>
#include <math.h>

#define GAMMA_EPS	1e-15
#define GAMMA_TINY	1e-300
#define GAMMA_ITERS	100000

/* e^-x x^a / Gamma(a), the factor both branches share. */
static double gamma_front(double a, double x)
{
	return exp(-x + a * log(x) - lgamma(a));
}

/* P(a, x) by its series; good for x < a + 1. */
static double gamma_series(double a, double x)
{
	double term = 1.0 / a, sum = term, denom = a;

	for (int i = 0; i < GAMMA_ITERS; i++) {
		denom += 1.0;
		term *= x / denom;
		sum += term;
		if (fabs(term) < fabs(sum) * GAMMA_EPS)
			break;
	}
	return sum * gamma_front(a, x);
}

/* Q(a, x) by its continued fraction; good for x >= a + 1. */
static double gamma_fraction(double a, double x)
{
	double b = x + 1.0 - a, c = 1.0 / GAMMA_TINY, d = 1.0 / b, h = d;

	for (int i = 1; i < GAMMA_ITERS; i++) {
		double an = -i * (i - a), delta;

		b += 2.0;
		d = an * d + b;
		if (fabs(d) < GAMMA_TINY)
			d = GAMMA_TINY;
		c = b + an / c;
		if (fabs(c) < GAMMA_TINY)
			c = GAMMA_TINY;
		d = 1.0 / d;
		delta = d * c;
		h *= delta;
		if (fabs(delta - 1.0) < GAMMA_EPS)
			break;
	}
	return h * gamma_front(a, x);
}

double stats_gamma_q(double a, double x)
{
	if (!(a > 0) || !(x >= 0) || isinf(a))
		return NAN;
	if (x == 0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	if (x < a + 1.0)
		return 1.0 - gamma_series(a, x);
	return gamma_fraction(a, x);
}

double stats_gamma_p(double a, double x)
{
	if (!(a > 0) || !(x >= 0) || isinf(a))
		return NAN;
	if (x == 0)
		return 0.0;
	if (isinf(x))
		return 1.0;
	if (x < a + 1.0)
		return gamma_series(a, x);
	return 1.0 - gamma_fraction(a, x);
}

double stats_chi2_sf(double x, double dof)
{
	if (!(dof > 0))
		return NAN;
	if (x <= 0)
		return 1.0;
	return stats_gamma_q(dof / 2.0, x / 2.0);
}

void stats_binom_interval(uint64_t n, double p, double level,
			  uint64_t *lo, uint64_t *hi)
{
	double mu, sd, lp, total = 0, cum = 0, tail, lratio;
	double from, to;
	uint64_t a, b;
	int have_lo = 0;

	if (!(p > 0)) {
		*lo = *hi = 0;
		return;
	}
	if (!(p < 1)) {
		*lo = *hi = n;
		return;
	}
	tail = (1.0 - level) / 2.0;
	mu = (double)n * p;
	sd = sqrt(mu * (1.0 - p));
	from = floor(mu - 12.0 * sd - 10.0);
	to = ceil(mu + 12.0 * sd + 10.0);
	a = from < 0 ? 0 : (uint64_t)from;
	b = to > (double)n ? n : (uint64_t)to;
	lratio = log(p) - log1p(-p);
	/* two passes over the window: the total (about 1, but the window
	 * cuts a little), then the cumulative sums against it */
	for (int pass = 0; pass < 2; pass++) {
		lp = lgamma((double)n + 1) - lgamma((double)a + 1) -
		     lgamma((double)(n - a) + 1) + (double)a * log(p) +
		     (double)(n - a) * log1p(-p);
		for (uint64_t k = a; k <= b; k++) {
			double pk = exp(lp);

			if (pass == 0) {
				total += pk;
			} else {
				cum += pk / total;
				if (!have_lo && cum >= tail) {
					*lo = k;
					have_lo = 1;
				}
				if (cum >= 1.0 - tail) {
					*hi = k;
					return;
				}
			}
			if (k < n)
				lp += log((double)(n - k) / (double)(k + 1)) +
				      lratio;
		}
	}
	/* rounding left the top unreached: the window's end */
	if (!have_lo)
		*lo = b;
	*hi = b;
}

int stats_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}
