/*
 * eval.h - how good is the judge: agreement, calibration and biases of
 * judged pairs against a reference (human) label, for `caigen eval`.
 *
 * Input: caigen.preference/1 records that carry "reference" (written by
 * `caigen label` when the input had a label): reference.preferred is the
 * index into responses[] of the reply the reference prefers, null for a
 * tie. Records without it are counted (no_reference) and left out.
 * caigen.preference/2 records of one pair (a judge panel, ranking.h) are
 * read as /1: p and judgments from their one comparison (with a panel the
 * combined p and member 0's judgments); and then the report gets "panel"
 * (agree.h): per member its hard and soft agreement with the reference
 * over the scored items ("scored", "agreement_hard", "agreement_soft"),
 * its agreement with the combined label, and the members' agreement with
 * each other. Without a panel the report has no "panel" key.
 *
 * Notation: p = the record's p, P(responses[0] better); y = 1 when the
 * reference prefers responses[0], 0 when responses[1], 1/2 for a tie.
 * "Scored" items are those whose reference is not a tie.
 *
 * Metrics (each block: overall, then per principle, per principle tag,
 * per input tag, per judge method; a record whose two judgments used
 * different methods is "mixed"):
 *   agreement_hard  over scored items: 1 when p > 1/2 and y = 1 or p < 1/2
 *                   and y = 0, 1/2 when p = 1/2 exactly (judge tie), else
 *                   0; the mean (RLAIF's alignment, judge ties half).
 *   agreement_soft  over scored items: mean probability the judge gave
 *                   the preferred reply (p when y = 1, else 1 - p).
 *   Both with a 95 % percentile bootstrap interval over prompts: the
 *   items of one prompt (same prompt JSON) are resampled together;
 *   EVAL_BOOT resamples (default 1000), resample b drawn from a splitmix64
 *   stream seeded with rng_u64(seed, group key, "eval-bootstrap", b), so
 *   the interval is a function of the seed and the data; quantiles by
 *   linear interpolation between order statistics (h = (B - 1) q).
 *   agreement_single_order  hard agreement of each order alone over the
 *                   scored items that have it: ab from p_a of order AB,
 *                   ba from 1 - p_a of order BA (the gap to
 *                   agreement_hard is what asking both orders buys).
 *   brier           mean (p - y)^2 over every labelled item (ties y = 1/2).
 *   log_loss        -mean [y ln p + (1 - y) ln(1 - p)], p clipped to
 *                   [1e-6, 1 - 1e-6], every labelled item.
 *   ece, mce        over scored items, "symmetric" (all predictions): each
 *                   item adds (p, y) and (1 - p, 1 - y); 10 equal-width
 *                   bins, left-closed: bin m holds m/10 <= q < (m+1)/10
 *                   (the edge m/10 as the double nearest to it), and 1.0
 *                   goes to the last bin. ECE = sum over bins of
 *                   (count / 2N) |freq - conf|; MCE = the largest gap.
 *   reliability     (overall only) per non-empty bin: lo, hi, mean p,
 *                   observed frequency, count (of the 2N points).
 *   raw             when a clamp changed any p: brier, log_loss and ece
 *                   of p_raw too.
 *   position        per item with both orders: q1 = p_a of order AB
 *                   (responses[0] in slot A), q2 = p_a of order BA. Each
 *                   order's winner (ties when exactly 1/2): consistent
 *                   (same winner, or both ties), first (slot A won both
 *                   times), second (slot B both times), mixed (one order
 *                   a tie); unparsed = items without both orders. Exact
 *                   two-sided binomial test of first against second at
 *                   1/2 (binomial_p); same_position = (first + second) /
 *                   items with no tie in either order.
 *   length          lengths in code points; over scored items whose
 *                   replies differ by more than 30: the share where the
 *                   judge preferred the longer (ties 1/2) and where the
 *                   reference did; longer_baseline = the agreement of
 *                   always choosing the longer reply over all scored
 *                   items (equal lengths 1/2).
 *   cost            (overall) price_per_1000 and seconds_per_1000 from the
 *                   caller's totals divided by the items (the
 *                   seconds by the pairs they timed); null if unknown.
 *
 * Memory: about 80 bytes per item, plus its group list. Not thread-safe;
 * all functions are deterministic.
 */
#ifndef CAIGEN_EVAL_H
#define CAIGEN_EVAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util.h"

#define EVAL_BOOT 1000
#define EVAL_BINS 10
#define EVAL_LEN_DELTA 30
#define EVAL_EPS 1e-6

struct eval_opts {
	unsigned long long seed;	/* bootstrap seed */
	int boot;		/* resamples; 0 = EVAL_BOOT */
	double cost_usd;	/* total cost of the judged items; NAN = ? */
	double seconds;		/* wall seconds spent labelling; NAN = ? */
	size_t timed;		/* pairs those seconds labelled; 0 = all */
};

/* One judged item (the fields eval reads from a record). */
struct eval_item {
	double p, p_raw;
	double q[2];		/* p_a of order AB, BA; NAN when missing */
	double y;		/* 1, 0 or 0.5 */
	size_t len[2];		/* code points of responses[0], [1] */
	uint64_t cluster;	/* hash of the prompt */
	uint32_t *groups;	/* indexes into the eval's group table */
	uint32_t ngroups;
};

struct eval;

struct eval *eval_new(const struct eval_opts *o);
void eval_free(struct eval *ev);	/* NULL is safe */

/*
 * Add one caigen.preference/1 record. Returns 1 when added, 0 when the
 * record has no reference (counted), -1 with err when it is not a usable
 * preference record (the caller adds "file:line: ").
 */
int eval_add_record(struct eval *ev, json_t *rec, struct err *err)
	__attribute__((warn_unused_result));
/* Before reading records: reviews (review.h, borrowed) whose majority
 * replaces the reference of the records they reviewed, by record id, and
 * gives a reference to records without one. The report then has
 * "reviews": review.h's summary (agreement between reviewers) plus
 * "references_from_reviews", the items whose reference came from them. */
struct reviews;
void eval_set_reviews(struct eval *ev, const struct reviews *rv);
/* Before reading records: count refusals with phrase list l (evasive.h,
 * borrowed); the report then has "refusals" (by_principle, by_tag,
 * by_input_tag, with the reference's choice among the pairs where
 * exactly one answer refuses). */
struct evasive_list;
void eval_set_refusals(struct eval *ev, const struct evasive_list *l);
/* Tokens of the records added so far (their "usage"). */
void eval_tokens(const struct eval *ev, long long *prompt_tokens,
		 long long *completion_tokens);
/* The judge models of the records added so far (provenance.h);
 * borrowed, valid until eval_free. */
struct provenance;
const struct provenance *eval_judges(const struct eval *ev);
/* Set the cost totals after reading (see eval_opts). */
void eval_set_cost(struct eval *ev, double cost_usd, double seconds,
		   size_t timed);
/* Add every record of a preferences file. -1 with err ("file:line:
 * reason") on a bad line or I/O error. */
int eval_read_file(struct eval *ev, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* Add one item directly (tests): groups are given as "dim\tname"
 * strings, e.g. "principle\tharm-1". Copies what it needs. */
void eval_add(struct eval *ev, const struct eval_item *it,
	      const char *const *groups, size_t ngroups);

/* The report (schemas/eval.schema.json). New reference. */
json_t *eval_report(struct eval *ev);

/* Plain-text rendering of a report. */
void eval_print_text(FILE *f, json_t *report);
/* A self-contained HTML page (eval_html.c): summary, reliability diagram
 * (svg#chart-reliability), per-principle agreement (svg#chart-principles),
 * tables. -1 with err when the file cannot be written. */
int eval_html_write(json_t *report, const char *path, struct err *err)
	__attribute__((warn_unused_result));

/* Building blocks, exposed for tests. */
/* The bin of q in [0, 1] by the convention above. */
int eval_bin(double q, int bins);
/* Exact two-sided binomial test of k successes in n at 1/2. */
double eval_binom_two_sided(uint64_t k, uint64_t n);
/* Percentile (type 7) of sorted v[0..n-1]. */
double eval_quantile(const double *v, size_t n, double q);

#endif
