/* rank.c - pairs to judge, Bradley-Terry scores, binarising, panels. */
#include "rank.h"
#include "rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIT_ROUNDS 10000
#define FIT_EPS 1e-13

int rank_npairs(int mode, int m, int k)
{
	int all = k * (k - 1) / 2;

	if (k < 2)
		return 0;
	if (mode == PAIRS_ADJACENT)
		return k - 1;
	if (mode == PAIRS_RANDOM)
		return m < all ? (m > 0 ? m : 0) : all;
	return all;
}

/* The pairs of `all` in order. */
static int all_pairs(int k, int out[][2])
{
	int n = 0;

	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++) {
			out[n][0] = i;
			out[n][1] = j;
			n++;
		}
	return n;
}

static int by_pair(const void *a, const void *b)
{
	const int *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

int rank_pairs(int mode, int m, int k, uint64_t seed, const char *id,
	       int out[][2])
{
	int all, want = rank_npairs(mode, m, k);

	if (want == 0)
		return 0;
	if (mode == PAIRS_ADJACENT) {
		for (int i = 0; i + 1 < k; i++) {
			out[i][0] = i;
			out[i][1] = i + 1;
		}
		return want;
	}
	all = all_pairs(k, out);
	if (mode != PAIRS_RANDOM || want == all)
		return all;
	/* the first `want` steps of a Fisher-Yates shuffle */
	for (int s = 0; s < want; s++) {
		int r = s + (int)(rng_u64(seed, id, "pairs", (uint64_t)s) %
				  (uint64_t)(all - s));
		int t0 = out[s][0], t1 = out[s][1];

		out[s][0] = out[r][0];
		out[s][1] = out[r][1];
		out[r][0] = t0;
		out[r][1] = t1;
	}
	qsort(out, (size_t)want, sizeof(out[0]), by_pair);
	return want;
}

void rank_fit(int k, int n, const int pair[][2], const double *p,
	      double *score)
{
	/* wins[i]: soft wins of i; games[i][j]: comparisons of i and j,
	 * prior included */
	double wins[RANK_MAX], games[RANK_MAX][RANK_MAX], w[RANK_MAX];
	double mean = 0;

	if (k < 1)
		return;
	for (int i = 0; i < k; i++) {
		wins[i] = RANK_PRIOR / 2 * (k - 1);
		w[i] = 1;
		for (int j = 0; j < k; j++)
			games[i][j] = i == j ? 0 : RANK_PRIOR;
	}
	for (int q = 0; q < n; q++) {
		int i = pair[q][0], j = pair[q][1];
		double x = p[q] < 0 ? 0 : p[q] > 1 ? 1 : p[q];

		if (i == j || i < 0 || j < 0 || i >= k || j >= k)
			continue;
		wins[i] += x;
		wins[j] += 1 - x;
		games[i][j] += 1;
		games[j][i] += 1;
	}
	for (int round = 0; round < FIT_ROUNDS; round++) {
		double nw[RANK_MAX], change = 0, sum = 0;

		for (int i = 0; i < k; i++) {
			double d = 0;

			for (int j = 0; j < k; j++)
				if (j != i)
					d += games[i][j] / (w[i] + w[j]);
			nw[i] = d > 0 ? wins[i] / d : w[i];
		}
		/* keep the strengths' geometric mean at 1 */
		for (int i = 0; i < k; i++)
			sum += log(nw[i]);
		for (int i = 0; i < k; i++) {
			double v = exp(log(nw[i]) - sum / k);

			change = fmax(change, fabs(log(v) - log(w[i])));
			w[i] = v;
		}
		if (change < FIT_EPS)
			break;
	}
	for (int i = 0; i < k; i++) {
		score[i] = log(w[i]);
		mean += score[i];
	}
	for (int i = 0; i < k; i++)
		score[i] -= mean / k;
}

/* For qsort: a key per answer. */
struct entry {
	double score;
	uint64_t tie;
	int index;
};

static int by_rank(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (fabs(x->score - y->score) >= RANK_TIE)
		return x->score > y->score ? -1 : 1;
	if (x->tie != y->tie)
		return x->tie < y->tie ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void rank_order(int k, const double *score, uint64_t seed, const char *id,
		int *order)
{
	struct entry e[RANK_MAX];

	for (int i = 0; i < k; i++)
		e[i] = (struct entry){ score[i],
			rng_u64(seed, id, "rank-tie", (uint64_t)i), i };
	/* insertion sort: stable, and a tie window is not transitive, so
	 * qsort's contract would not hold */
	for (int i = 1; i < k; i++) {
		struct entry t = e[i];
		int j = i;

		while (j > 0 && by_rank(&t, &e[j - 1]) < 0) {
			e[j] = e[j - 1];
			j--;
		}
		e[j] = t;
	}
	for (int i = 0; i < k; i++)
		order[i] = e[i].index;
}

int rank_binarize(int mode, int k, const int *order, uint64_t seed,
		  const char *id, int out[][2])
{
	int n = 0;

	if (k < 2)
		return 0;
	switch (mode) {
	case BIN_BEST_RANDOM:
		out[0][0] = order[0];
		out[0][1] = order[1 + (int)(rng_u64(seed, id, "binarize", 0) %
					    (uint64_t)(k - 1))];
		return 1;
	case BIN_ALL_PAIRS:
		for (int a = 0; a < k; a++)
			for (int b = a + 1; b < k; b++) {
				out[n][0] = order[a];
				out[n][1] = order[b];
				n++;
			}
		return n;
	default:
		out[0][0] = order[0];
		out[0][1] = order[k - 1];
		return 1;
	}
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double rank_panel(int mode, int n, const double *p)
{
	double s = 0, v[64];

	if (n <= 0)
		return 0.5;
	if (mode == PANEL_MEDIAN && n <= 64) {
		memcpy(v, p, (size_t)n * sizeof(*p));
		qsort(v, (size_t)n, sizeof(*v), by_double);
		return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	}
	for (int i = 0; i < n; i++)
		s += mode == PANEL_MAJORITY ? (p[i] > 0.5 ? 1 :
					       p[i] == 0.5 ? 0.5 : 0) : p[i];
	return s / n;
}

double rank_prob(double si, double sj)
{
	return 1 / (1 + exp(sj - si));
}
