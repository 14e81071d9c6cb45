/*
 * rank.h - more than two answers per prompt: which pairs are judged, the
 * Bradley-Terry ranking fitted on their soft labels, the pairs written as
 * records, and a panel's labels combined into one. Pure functions of their
 * arguments (randomness from rng.h, keyed by seed and prompt id), so any
 * executor, thread count or shard layout gets the same result.
 *
 * Pairs (config `pairs`), over k distinct answers 0..k-1:
 *   all       every pair (i, j), i < j, in that order: k(k-1)/2 pairs
 *   adjacent  (0,1), (1,2), ... (k-2,k-1): k-1 pairs
 *   random:m  m pairs drawn without replacement from `all` by a seeded
 *             shuffle (rng "pairs", step), then sorted as in `all`;
 *             min(m, k(k-1)/2) pairs
 * A pair (i, j) is judged with answer i as the first response, in both
 * orders when judge.both_orders, exactly as a two-answer prompt is.
 *
 * Judge requests per prompt, for k distinct answers:
 *   sum over panel members of  P(k) * O * S
 *   P(k) the pair count above; O = 2 with judge.both_orders, else 1;
 *   S = requests per judgment: 1, or 2 with judge.cot (rationale, letter);
 *   a judge without logprobs under judge.votes = v asks v instead of 1.
 *
 * Bradley-Terry: answer i has a strength w_i = exp(s_i). A judged pair
 * (i, j) with label p = P(i better) counts as p of a win of i over j and
 * 1 - p of a win of j over i. The prior: every pair of answers, judged or
 * not, also counts RANK_PRIOR / 2 of a win each way (a virtual tie), so
 * the fit exists when some answer won or lost everything (labels of 0 or
 * 1) and a pair never compared is pulled towards a tie unless the
 * comparisons through other answers say otherwise. The maximum of that
 * likelihood is found by the minorise-maximise iteration (Hunter 2004,
 * soft counts), scores s_i = log w_i shifted to mean 0.
 *
 * Order: by score, highest first; scores within RANK_TIE of each other are
 * tied, and tied answers are ordered by rng(seed, id, "rank-tie", i),
 * then by index.
 *
 * Binarise (config `binarize`), from the order o[0] (best) .. o[k-1]:
 *   best-worst   one record: (o[0], o[k-1])
 *   best-random  one record: (o[0], o[r]), r = 1 + rng(seed, id,
 *                "binarize", 0) mod (k-1)
 *   all-pairs    k(k-1)/2 records: (o[a], o[b]) for a < b, in that order
 *
 * Panel (config `panel`), from the members' labels p_1..p_n of one pair:
 *   mean      their mean
 *   median    their median (the mean of the middle two for even n)
 *   majority  the share of members with p > 0.5, a member at exactly 0.5
 *             counting half: (#{p > 0.5} + #{p = 0.5} / 2) / n
 */
#ifndef CAIGEN_RANK_H
#define CAIGEN_RANK_H

#include <stdint.h>

#define RANK_MAX 16		/* most answers per prompt */
#define RANK_MAX_PAIRS (RANK_MAX * (RANK_MAX - 1) / 2)
#define RANK_PRIOR 0.1		/* virtual-tie weight on every pair */
#define RANK_TIE 1e-9		/* scores closer than this are tied */

enum rank_pairs { PAIRS_ALL = 0, PAIRS_ADJACENT = 1, PAIRS_RANDOM = 2 };
enum rank_binarize { BIN_BEST_WORST = 0, BIN_BEST_RANDOM = 1,
		     BIN_ALL_PAIRS = 2 };
enum rank_panel { PANEL_MEAN = 0, PANEL_MEDIAN = 1, PANEL_MAJORITY = 2 };

/* How many pairs `mode` (m for random:m) judges among k answers. */
int rank_npairs(int mode, int m, int k);

/* The pairs themselves into out (room for RANK_MAX_PAIRS); returns how
 * many (rank_npairs). */
int rank_pairs(int mode, int m, int k, uint64_t seed, const char *id,
	       int out[][2]);

/* Fit the scores of k answers from n judged pairs, pair[q] = (i, j) with
 * p[q] = P(i better than j). */
void rank_fit(int k, int n, const int pair[][2], const double *p,
	      double *score);

/* The answers 0..k-1 best first into order. */
void rank_order(int k, const double *score, uint64_t seed, const char *id,
		int *order);

/* The (chosen, rejected) pairs of the records into out (room for
 * RANK_MAX_PAIRS); returns how many. */
int rank_binarize(int mode, int k, const int *order, uint64_t seed,
		  const char *id, int out[][2]);

/* One label from a panel's n labels. */
double rank_panel(int mode, int n, const double *p);

/* P(i better than j) under the fitted scores: 1 / (1 + exp(s_j - s_i)). */
double rank_prob(double si, double sj);

#endif
