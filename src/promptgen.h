/*
 * promptgen.h - `caigen prompts`: where the prompts come from.
 *
 *   caigen prompts generate       new requests per category, few-shot
 *   caigen prompts persuade       rewrites under persuasion techniques
 *   caigen prompts dedup          exact and near duplicates (dedup.h)
 *   caigen prompts decontaminate  overlap with evaluation sets (decontam.h)
 *
 * generate and persuade run as `caigen run` does, through the same
 * pipeline and executors (live or batch), so resume, shards, --dry-run,
 * cost, --max-cost and determinism are the run's. They work in three
 * steps:
 *
 *   1. plan: OUT/plan.jsonl, one line per model request, built
 *      deterministically from the catalog (catalog.h), the seeds and the
 *      run seed: for generate, request k of category c asks for
 *      --per-request new requests with --shots examples drawn without
 *      replacement from c's seeds by rng(seed, id, "shot", j); for
 *      persuade, one line per (input prompt, technique). Each line's
 *      prompt is the filled template, its id "gen-C-K" or "PARENT~T".
 *   2. run: `caigen run --prompts OUT/plan.jsonl --mode critiques` with
 *      the other flags as given, but every item runs the promptgen machine
 *      (promptgen_start) instead of the critique chain: one policy call,
 *      seed rng(seed, id, "generate"|"persuade", 0), then the reply is
 *      parsed and checked into a record {"schema":"caigen.promptgen/1",
 *      "id", ...} in OUT/critiques.jsonl (so resume skips plan lines done).
 *   3. harvest (an unsharded run that finished): OUT/prompts.jsonl, one
 *      prompt `run` reads per line with id, tags ("category:C",
 *      "technique:T"), category, technique, parent_id and source;
 *      OUT/prompt_failures.jsonl for rewrites that lost the request
 *      (refusal phrase, or too few of its content words kept) and replies
 *      with nothing usable; OUT/dropped.jsonl for generated prompts that
 *      repeat a seed or an earlier prompt (dedup.h, seeds as reference).
 *
 * Thread-safety: the plan is built before the run and read-only during
 * it; promptgen_start runs on executor threads, one item per thread.
 */
#ifndef CAIGEN_PROMPTGEN_H
#define CAIGEN_PROMPTGEN_H

#include <stdbool.h>
#include <stddef.h>

struct item;
struct item_env;
struct exec;

/* The run entry (`caigen run`'s main) that generate and persuade call. */
typedef int (*prompts_run_fn)(int argc, char **argv);

/* `caigen prompts SUBCOMMAND ...`: argv[0] is "prompts". */
int prompts_cmd_main(int argc, char **argv, prompts_run_fn run);

/* Whether a generate or persuade run is under way in this process: then
 * item_start hands every prompt item to promptgen_start. */
bool promptgen_active(void);
void promptgen_start(struct item *it, struct item_env *env, struct exec *x);
struct call;
struct config;
struct prompt;
/* The machine's one request for plan line pr (for the dry run). */
void promptgen_params(struct call *c, const struct config *cfg,
		      const struct prompt *pr);

/* The cheap intent check of persuade, exposed for tests: the share of
 * the parent's content words (lower-cased words of 4+ letters that are
 * not common function words) found in the rewrite; 1 when the parent has
 * none. */
double promptgen_overlap(const char *parent, const char *rewrite);
/* The refusal phrase found near the start of text, or NULL. */
const char *promptgen_refusal(const char *text);
/* Requests parsed from a generate reply: one a line, list markers,
 * numbering and quotes stripped, lines under 3 words or ending in ':'
 * skipped; at most max. Returns how many; out[i] are new strings. */
size_t promptgen_parse_list(const char *reply, char **out, size_t max);

#endif
