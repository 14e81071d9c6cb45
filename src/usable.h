/*
 * usable.h - why an input gave nothing to work on.
 *
 * A run, label or eval that read lines but found no usable prompt or pair
 * (every non-blank line rejected, now or by an earlier run) is not a
 * success: main.c exits 2 with the one sentence usable_explain builds,
 *
 *   0 usable prompts: 60 lines rejected, most for "missing 'prompt' or
 *   'messages'" (60; keys seen: question, answer); see out/rejects.jsonl;
 *   try --prompt-field question
 *
 * The reasons are tallied from the rejects file (OUT/rejects.jsonl, with
 * the shard suffix), grouped by their kind ("invalid JSON at column 7:
 * ..." counts as "invalid JSON"). When the most common reason is a
 * missing prompt field, the input's first 1,000 lines are read again for
 * the keys they have (a stdin input is not read again), and a key holding
 * a string is suggested for --prompt-field.
 */
#ifndef CAIGEN_USABLE_H
#define CAIGEN_USABLE_H

#include <stdbool.h>
#include <stddef.h>

/* Whether a run's counts mean "lines read, nothing usable". */
struct run_counts;
bool usable_none(const struct run_counts *c);

/*
 * The sentence (new heap string, no newline). noun: "prompts" or "pairs";
 * rejects: the rejects file; input: the input to read for keys, or NULL;
 * suggest_field: whether --prompt-field is a way out (run, not label).
 */
char *usable_explain(const char *noun, const char *rejects,
		     const char *input, bool suggest_field);

/* The kind of a reject reason, for tallies: a prefix of it, or the
 * reason itself. New heap string. */
char *usable_reason_kind(const char *reason);

#endif
