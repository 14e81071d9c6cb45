/*
 * pairs.h - streaming reader of existing preference pairs (JSONL), for
 * `caigen label` and `caigen eval`.
 *
 * Formats, detected per line by their keys (or forced with a format name):
 *   trl            "chosen" + "rejected", with an explicit "prompt"
 *                  (string or message list) or without one (implicit:
 *                  the prompt is the common part of chosen and rejected,
 *                  characters for strings, whole messages for lists, as
 *                  TRL's extract_prompt; a string prefix ending in a space
 *                  gives the space to the replies). Label: chosen.
 *   hh-rlhf        "chosen" + "rejected" strings holding transcripts that
 *                  start with "\n\nHuman:": the prompt is the common part
 *                  cut back to its last "\n\nAssistant:", split into
 *                  user/assistant turns. Label: chosen.
 *   ultrafeedback  "chosen" + "rejected" message lists with "prompt_id" or
 *                  "score_chosen": as trl conversational; equal scores
 *                  are a tie.
 *   caigen         "schema": "caigen.preference/1": prompt + responses;
 *                  label: its chosen_index (another judge's label), or its
 *                  "reference" when it has one (an integer index, or null
 *                  for a tie; any other value is rejected). A /2 record of
 *                  two responses is read the same way; one of more gives
 *                  the pair it binarized (responses[chosen_index], then
 *                  responses[rejected_index]; label: the first), and a part
 *                  of binarize all-pairs ("parts" > 1) has the id
 *                  "ID#PART".
 *   (UltraFeedback's score_chosen / score_rejected must be numbers.)
 *   hhh            the Constitutional AI paper's HHH evaluation:
 *                  "text_correct" + "text_incorrect" transcripts (hh-rlhf
 *                  style). Label: the correct one.
 *   mt-bench       MT-Bench human judgments: "conversation_a",
 *                  "conversation_b", "winner" (model_a | model_b | tie...),
 *                  "turn". Only turn 1 (the two conversations differ
 *                  before a later turn's answer).
 * Detection order: schema caigen; conversation_a; text_correct; chosen +
 * rejected (hh-rlhf when both are strings starting with "\n\nHuman:",
 * ultrafeedback when lists with prompt_id or score_chosen, else trl).
 *
 * Every pair gives the prompt (text, or messages ending with a user turn),
 * the two replies in the order the input stores them (chosen first), the
 * input's own label, and tags: the strings of a "tags" list and a
 * "subset" string, when present.
 *
 * Identity: "id" (string, or integer as decimal text), else for mt-bench
 * the question, models, judge and turn, else "p" + 16 hex digits of
 * hash64 of the compact JSON of [prompt, reply 1, reply 2]. A repeated id
 * is rejected like a bad line.
 *
 * A bad line does not stop the reader: pairs_next returns PAIRS_REJECT with
 * the 1-based line and the reason ("identical replies", "no common
 * prompt", "'chosen' is not a string or message list", ...), and reading
 * goes on. Blank lines are skipped; a UTF-8 BOM and CR before LF are
 * ignored; a line longer than max_line bytes is rejected (and skipped
 * without holding it in memory).
 *
 * Not thread-safe: one reader thread.
 */
#ifndef CAIGEN_PAIRS_H
#define CAIGEN_PAIRS_H

#include <jansson.h>
#include <stddef.h>

#include "idset.h"
#include "util.h"

enum pairs_format {
	PAIRS_AUTO = 0,
	PAIRS_TRL,
	PAIRS_HH,
	PAIRS_ULTRAFEEDBACK,
	PAIRS_CAIGEN,
	PAIRS_HHH,
	PAIRS_MTBENCH,
	PAIRS_NFORMATS,
};

/* The input's own label for the replies as stored. */
enum pair_label_kind {
	PAIR_NONE = -1,		/* the input says nothing */
	PAIR_FIRST = 0,		/* resp[0] preferred */
	PAIR_SECOND = 1,	/* resp[1] preferred */
	PAIR_TIE = 2,
};

struct pair {
	size_t index;		/* 0-based line number */
	char *id;		/* owned */
	char *text;		/* prompt string, or NULL if messages */
	json_t *messages;	/* always set (owned): [{"role":"user",...}]
				 * for a string prompt */
	char *resp[2];		/* owned, as stored */
	int label;		/* enum pair_label_kind */
	json_t *tags;		/* owned array of strings, maybe empty */
	enum pairs_format format;	/* the format this line was read as */
};

enum pairs_status {
	PAIRS_OK = 0,
	PAIRS_REJECT = 1,
	PAIRS_EOF = 2,
	PAIRS_ERROR = -1,	/* I/O error; err set */
};

struct pairs_stats {
	size_t lines;		/* physical lines (blank included) */
	size_t blank;
	size_t ok;
	size_t rejected;
};

struct pairs;

/* "auto", "trl", "hh-rlhf", "ultrafeedback", "caigen", "hhh", "mt-bench". */
const char *pairs_format_name(enum pairs_format f);
/* The format of a name above; -1 if unknown. */
int pairs_format_parse(const char *name);

/* Open path ("-" = stdin) forcing format f (PAIRS_AUTO: per line by keys).
 * max_line 0 means 1 MiB. NULL with err. Free with pairs_close. */
struct pairs *pairs_open(const char *path, enum pairs_format f,
			 size_t max_line, struct err *err);
/* Next pair: PAIRS_OK fills *out (release with pair_release); PAIRS_REJECT
 * fills *line and *reason (reason owned by the caller). Both zeroed
 * first. */
enum pairs_status pairs_next(struct pairs *r, struct pair *out,
			     size_t *line, char **reason, struct err *err);
const struct pairs_stats *pairs_stats(const struct pairs *r);
void pairs_close(struct pairs *r);	/* NULL is safe */
void pair_release(struct pair *p);	/* safe on a zeroed pair */

/* Parse one line's JSON object as format f (PAIRS_AUTO: detect). 0 with
 * *out filled (index and id left for the caller when absent: id NULL),
 * or -1 with a reason in err. Exposed for tests. */
int pairs_parse(json_t *o, enum pairs_format f, struct pair *out,
		struct err *err) __attribute__((warn_unused_result));

#endif
