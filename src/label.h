/*
 * label.h - existing pairs as the pipeline's input (caigen label, caigen
 * eval): a pair_feed (pipeline.h) over the pairs reader (pairs.h).
 *
 * Each pair is shown to the judges in a seeded random order: the reply the
 * input stores first becomes responses[1] when rng_unit(seed, id,
 * "label-swap", 0) >= 0.5, else responses[0]; so the chosen reply is not
 * always in slot A, whatever the judge's order settings. When the input
 * had a label, the record gets
 *   "reference": {"preferred": 0 | 1 | null (a tie), "format": "...",
 *                 "tags": [...]}
 * where preferred indexes responses[]. The record's models.policy is
 * "input" (the replies were not sampled).
 *
 * Not thread-safe: the pipeline's reader thread alone calls the feed.
 */
#ifndef CAIGEN_LABEL_H
#define CAIGEN_LABEL_H

#include "pairs.h"
#include "pipeline.h"
#include "prompts.h"

struct label_feed {
	struct pair_feed feed;	/* points at this struct */
	struct pairs *in;
	unsigned long long seed;
	struct prompts_stats st;
};

/* Open path as format f; -1 with err. Release with label_feed_close. */
int label_feed_open(struct label_feed *lf, const char *path,
		    enum pairs_format f, size_t max_line,
		    unsigned long long seed, struct err *err)
	__attribute__((warn_unused_result));
void label_feed_close(struct label_feed *lf);

/*
 * caigen eval's report on OUT/preferences{suffix}.jsonl (every record
 * there, earlier runs' too): price per 1000 pairs from the records' usage
 * and cfg's prices, time per 1000 from this run's seconds over the pairs
 * it wrote. Prints text (or JSON) to stdout, writes OUT/eval{suffix}.json
 * (through a rename) and, when html is set, that page. Both carry
 * "provenance" (provenance.h): the records' judge models, "input" (the
 * pairs file input, or when NULL the records file read), the time and
 * caigen's version. 0, or -1 after printing the error.
 */
int label_eval_report(const struct config *cfg, const char *suffix,
		      const struct run_counts *counts, int boot, bool json,
		      const char *html, const char *input)
	__attribute__((warn_unused_result));

/* Whether the pair with this id is shown with its stored order swapped. */
bool label_swapped(unsigned long long seed, const char *id);

#endif
