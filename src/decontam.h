/*
 * decontam.h - `caigen prompts decontaminate`: prompts that share long
 * word n-grams with evaluation sets.
 *
 * The evaluation files (--against, any number) are read first: JSONL in
 * any human-label format `caigen eval` reads (pairs.h: trl, hh-rlhf,
 * ultrafeedback, caigen, hhh, mt-bench) or plain prompt files (prompts.h:
 * JSONL with prompt/messages, or text). A JSONL file is read as pairs
 * when its first object has none of "prompt" and "messages" without
 * "chosen", else as prompts. Each item's prompt text (all message
 * contents) is split into words as minhash.h does, and every run of n
 * words (default 13, as in GPT-3's contamination study) is indexed; an
 * item of fewer than n words but at least --min-words (8) is indexed as
 * one run of its whole length, shorter ones are skipped (counted).
 *
 * Then each prompt of the input is flagged when one of its word runs is
 * in the index: the report names the evaluation item with the most runs
 * in common (file, line, id), the number of runs shared, the share of
 * the prompt's runs, and the first shared run's text. Flagged prompts
 * are removed (default) or, with --tag, kept with "contaminated" added
 * to their "tags" and a "contamination" object (then every output line is
 * JSONL: text lines become {"id","prompt"} with the id `run` would give
 * them). Other lines are copied unchanged.
 *
 * Memory: 16 bytes an indexed run, plus the ids of the evaluation items.
 */
#ifndef CAIGEN_DECONTAM_H
#define CAIGEN_DECONTAM_H

#include <stdio.h>

/* `caigen prompts decontaminate`: argv[0] is "decontaminate". */
int prompts_decontaminate_main(int argc, char **argv);
void decontam_usage(FILE *f);

#endif
