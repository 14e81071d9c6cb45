/*
 * stats.h - the few distributions the audit needs: the regularized upper
 * incomplete gamma function (hence chi-square tail probabilities) and
 * central binomial intervals.
 *
 * All functions are pure and thread-safe. Arguments outside their domain
 * give NAN (gamma) or an empty-safe interval (binomial), never a crash.
 */
#ifndef CAIGEN_STATS_H
#define CAIGEN_STATS_H

#include <stdint.h>

/*
 * Q(a, x) = Gamma(a, x) / Gamma(a), for a > 0 and x >= 0: a power series
 * for x < a + 1 (giving P = 1 - Q), a continued fraction (modified Lentz)
 * otherwise. Relative accuracy about 1e-14. NAN outside the domain.
 */
double stats_gamma_q(double a, double x);
/* P(a, x) = 1 - Q(a, x), computed directly where that is the accurate
 * side. */
double stats_gamma_p(double a, double x);

/* P(X >= x) for X chi-square with `dof` degrees of freedom (dof > 0). */
double stats_chi2_sf(double x, double dof);

/*
 * The central `level` interval (e.g. 0.99) of Binomial(n, p): *lo is the
 * smallest k with P(X <= k) >= (1 - level) / 2 and *hi the smallest k with
 * P(X <= k) >= 1 - (1 - level) / 2, so a count outside [lo, hi] has
 * probability at most 1 - level. The probabilities are summed exactly over
 * the mean +- 12 standard deviations (+- 10 more counts), outside of which
 * the mass is below 1e-30. p is clamped to [0, 1].
 */
void stats_binom_interval(uint64_t n, double p, double level,
			  uint64_t *lo, uint64_t *hi);
/* qsort order of doubles, ascending. */
int stats_cmp_double(const void *a, const void *b);

#endif
