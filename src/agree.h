/*
 * agree.h - how far the members of a judge panel agree: over the
 * comparisons of caigen.preference/2 records that carry a `panel`
 * (ranking.h), per pair of members the share of comparisons where both
 * pick the same side, and per member the share where it picks the side of
 * the panel's combined label. A label's side is the first answer (p >
 * 0.5), the second (p < 0.5) or a tie (p = 0.5); two ties agree.
 *
 * Members are told apart by their `member` number (0..7), named by the
 * `model` the first comparison gave them.
 *
 * JSON (agree_json): null without a panel comparison, else
 *   {"comparisons": n,
 *    "members": [{"member", "model", "comparisons", "with_panel"}...],
 *    "pairs": [{"a", "b", "model_a", "model_b", "comparisons",
 *               "agreement"}...]}
 * rates in [0, 1], null when nothing was compared.
 *
 * Thread-safety: none; one struct per thread.
 */
#ifndef CAIGEN_AGREE_H
#define CAIGEN_AGREE_H

#include <jansson.h>
#include <stdint.h>

#define AGREE_MAX 8

struct agree {
	uint64_t comparisons;
	char *model[AGREE_MAX];		/* owned; NULL: never seen */
	uint64_t seen[AGREE_MAX];	/* comparisons judged by the member */
	uint64_t with_panel[AGREE_MAX];	/* ... on the panel's side */
	uint64_t both[AGREE_MAX][AGREE_MAX];	/* judged by both */
	uint64_t same[AGREE_MAX][AGREE_MAX];	/* ... on the same side */
};

/* Zero-initialise, or: */
void agree_init(struct agree *g);
void agree_release(struct agree *g);
/* One element of a record's `comparisons`; without `panel` it is not
 * counted. */
void agree_add(struct agree *g, json_t *comparison);
/* The summary as above (new reference). */
json_t *agree_json(const struct agree *g);
/* The side of a label: 1, -1 or 0. */
int agree_side(double p);

#endif
