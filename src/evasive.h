/*
 * evasive.h - refusals and evasive answers: which answers refuse, by a
 * replaceable phrase list, and how the judge treats them (caigen audit,
 * eval and card).
 *
 * The phrase list (constitution/refusals.txt, installed next to the
 * constitutions and found as they are, datadir.h; --refusals FILE for
 * another): one phrase a line, '#' comments and blank lines ignored.
 * An answer refuses when a phrase occurs in its first EVASIVE_SCAN
 * characters (bytes of UTF-8) once both are normalised: ASCII letters in
 * lower case, U+2018/U+2019 read as "'", every run of white space as one
 * space, leading white space dropped.
 *
 * Per pair (a caigen.preference/1 record: responses[0..1] and p =
 * P(responses[0] better)); "chosen" is the answer the label prefers
 * (responses[0] when p >= 1/2, as chosen_index):
 *   pairs              pairs counted
 *   chosen_refusals    pairs whose chosen answer refuses; chosen_rate =
 *                      that / pairs
 *   rejected_refusals  likewise the rejected answer; rejected_rate
 *   one_refuses        pairs where exactly one answer refuses
 *   judge_chose_refusal  among those, the share where the label prefers
 *                      the refusing answer (p = 1/2 counts half); null
 *                      without such pairs
 *   reference_pairs, reference_chose_refusal  (eval only) among those
 *                      pairs with a reference that is not a tie, the
 *                      share where the reference (human) preferred the
 *                      refusal
 * Blocks: "overall", then "by_DIM": {name: STATS} for each dimension
 * the caller gives (principle, tag, model; eval: input_tag).
 * "warning": a sentence when overall one_refuses >= EVASIVE_MIN_PAIRS and
 * judge_chose_refusal > 1/2 (the judge prefers refusals in most pairs
 * where exactly one answer refuses: its labels teach evasiveness), else
 * null; "warn_principles": the principles for which the same holds.
 *
 * Not thread-safe; deterministic.
 */
#ifndef CAIGEN_EVASIVE_H
#define CAIGEN_EVASIVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

#define EVASIVE_DEFAULT "constitution/refusals.txt"
#define EVASIVE_SCAN 300
#define EVASIVE_MIN_PAIRS 10

struct evasive_list {
	char **phrase;		/* normalised */
	size_t n;
	char *path;
};

/* Load a phrase list: path, or NULL for the shipped one. -1 with err
 * ("file:line: ..." for a bad line, or the places looked in). */
int evasive_load(struct evasive_list *l, const char *path, struct err *err)
	__attribute__((warn_unused_result));
void evasive_release(struct evasive_list *l);
/* Whether text refuses. */
bool evasive_refuses(const struct evasive_list *l, const char *text);

struct evasive_tally;

struct evasive_tally *evasive_tally_new(const struct evasive_list *l);
void evasive_tally_free(struct evasive_tally *t);	/* NULL is fine */
/*
 * Count one record: its two responses and p; y = 1 when the reference
 * prefers responses[0], 0 for responses[1], 1/2 a tie, NAN none. groups
 * are "dim\tname" strings. Records without two string responses or a p
 * are skipped.
 */
void evasive_tally_record(struct evasive_tally *t, json_t *rec, double y,
			  const char *const *groups, size_t ngroups);
/* The report block (above) with by_DIM for each of dims. New ref. */
json_t *evasive_tally_json(const struct evasive_tally *t,
			   const char *const *dims, size_t ndims);
/* Text: the overall line and the warning, if any. */
void evasive_print_text(FILE *f, json_t *block);

#endif
