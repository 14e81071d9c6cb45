/*
 * dedup.h - exact and near-duplicate removal of prompts, streaming, and
 * `caigen prompts dedup`.
 *
 * Prompts are offered in input order. Each one is, in this order:
 *   - an exact duplicate if its normalised text (minhash.h) equals that of
 *     a prompt kept before: removed, Jaccard 1;
 *   - a near duplicate if LSH finds kept prompts sharing a band with it
 *     and the estimated Jaccard of its word n-gram set to one of them is
 *     at least the threshold: removed, naming the earliest such kept
 *     prompt and the estimate;
 *   - else kept.
 * Only kept prompts are remembered and compared with, so the first of a
 * cluster by input order is the one kept and the result depends on the
 * input alone (no threads, no clock).
 *
 * LSH: the first bands*rows values of the 32-bit signature are cut into
 * `bands` bands of `rows` values; two prompts are candidates when one
 * band hashes alike. With perms > bands*rows the rest of the signature
 * only sharpens the estimate. Memory per kept prompt: perms bytes of
 * signature, 8 bytes a band in tables kept under 3/4 full, 24 bytes of
 * exact key: with the defaults about 350 bytes.
 *
 * `caigen prompts dedup` writes the kept prompts of its inputs (not of
 * --reference files) as they are; a kept prompt whose id a prompt kept
 * before holds (the inputs may each be free of duplicates, as two
 * generate runs are) is bad input like a broken line: named by
 * file:line, exit 2, nothing written.
 *
 * Not thread-safe: one caller.
 */
#ifndef CAIGEN_DEDUP_H
#define CAIGEN_DEDUP_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "util.h"

struct dedup_params {
	int ngram;		/* words per shingle (default 2) */
	int perms;		/* signature length (default 128) */
	int bands;		/* LSH bands (default 16) */
	int rows;		/* values a band (default 4) */
	double threshold;	/* estimated Jaccard that removes (0.7) */
	uint64_t seed;		/* of the hash functions (default 1) */
	int near;		/* 0: exact duplicates only */
};

enum dedup_kind { DEDUP_KEEP = 0, DEDUP_EXACT = 1, DEDUP_NEAR = 2 };

struct dedup_result {
	enum dedup_kind kind;
	uint32_t kept;		/* removed: the kept prompt's number (the
				 * order of dedup_add calls that kept) */
	double jaccard;		/* removed: 1 for exact, else the estimate */
};

struct dedup;

void dedup_params_default(struct dedup_params *p);
/* Check the parameters: -1 with err ("--rows: bands * rows (160) is
 * more than --perms (128)") if they do not fit. */
int dedup_params_check(const struct dedup_params *p, struct err *err);
/* A new deduplicator; p must have passed dedup_params_check. */
struct dedup *dedup_new(const struct dedup_params *p);
void dedup_free(struct dedup *d);	/* NULL is fine */
/* Offer the next prompt's text; fills *res. A kept prompt gets the next
 * kept number (0, 1, ...). */
void dedup_add(struct dedup *d, const char *text, size_t len,
	       struct dedup_result *res);
size_t dedup_kept(const struct dedup *d);
/* The LSH candidates checked so far (estimates computed). */
size_t dedup_candidates(const struct dedup *d);

struct prompt;
/* The text a prompt is compared by: its string, or its messages'
 * contents joined by newlines. New string (caller frees); *len its
 * length. */
char *dedup_prompt_text(const struct prompt *pr, size_t *len);

/* `caigen prompts dedup`: argv[0] is "dedup". Exit status. */
int prompts_dedup_main(int argc, char **argv);
/* Its usage text. */
void dedup_usage(FILE *f);

#endif
