/*
 * audit.h - `caigen audit`: how a dataset covered the principles, and how
 * the judge behaved under each of them.
 *
 * Reads JSONL files in one streaming pass (one line in memory at a time):
 *   - preference records (schema "caigen.preference/1"): one compare-stage
 *     draw of principle.id each, with the label p and the judgments;
 *   - ranked records (schema "caigen.preference/2", ranking.h): one draw
 *     each (with binarize all-pairs, part 0 only), and each comparison a
 *     label of the judge that made it: with a panel one per member, in
 *     the member's model row; the panel's comparisons also go to the
 *     report's "panel" block (agree.h: each member's agreement with the
 *     combined label and with each other member), present only when
 *     there was one;
 *   - critique records (schema "caigen.critique/1"): one critique-stage
 *     draw per element of rounds[] (rounds[i].principle.id);
 *   - Hugging Face CAI recipe records (no schema, a `critic_prompt`
 *     string): one critique-stage draw, the principle found by comparing
 *     critic_prompt (trimmed) with the `critique` texts of the loaded
 *     constitutions; an unmatched text becomes a principle of its own with
 *     id "text-" + 16 hex digits of its hash.
 * Anything else is counted as unrecognized, a line that is not JSON as
 * invalid. Memory: tables sized by the number of distinct principles, tags,
 * models and label methods, plus the duplicate-id set (struct idset: 8
 * bytes per slot, under half full, so 16 to 32 bytes per distinct id).
 *
 * Definitions (per row: overall, principle, tag, model):
 *   draws/share        draws in the stage and draws / all draws of the stage
 *   expected_share     weight / total weight of the stage's principles
 *                      (needs --constitution)
 *   chi-square         over the constitution's principles of the stage:
 *                      sum (O - E)^2 / E with E = known draws * share,
 *                      dof = principles - 1, p-value = Q(dof/2, stat/2)
 *   interval99         central 99 % interval of Binomial(known draws,
 *                      share); flag "high"/"low" when the count is outside
 *   mean_p             mean of the record's p (P(responses[0] better))
 *   decisiveness       mean |p - 0.5|
 *   near_tie_rate      share of labels with |p - 0.5| < 0.05
 *   slot_a_wins        per order (judgments[0] is "AB", [1] "BA", or as
 *                      their `order` field says): share with p_a > 0.5
 *   position_bias      share of two-order pairs where the same slot wins in
 *                      both orders (p_a > 0.5 twice, or < 0.5 twice); split
 *                      into position_bias_a and position_bias_b
 *   order_disagreement share of pairs where the two orders do not pick the
 *                      same response: the position-biased pairs plus those
 *                      where exactly one order is an exact tie (p_a = 0.5)
 *   mean_order_gap     mean |p_a(AB) - (1 - p_a(BA))|
 *   mean_other_mass    mean judgments[].other_mass
 *   methods            count of judgments per `method`
 *   length_pairs       labels whose two responses differ in length by
 *                      more than EVAL_LEN_DELTA (30) code points
 *   prefers_longer     share of those where p prefers the longer reply
 *                      (p = 0.5 counts half), as caigen eval's length
 *   letter_mass_n      judgments with method "logprobs" and other_mass
 *   mean_letter_mass   their mean 1 - other_mass: the probability the
 *                      judge put on the two letters
 *   low_letter_mass    judgments marked `low_letter_mass: true` (a run's
 *                      judge.min_letter_mass guard)
 *   clamped            records where the record or a judgment has
 *                      `clamped: true`, or a `p_raw` different from its p
 *                      (p_a for a judgment)
 *   critiques          records, rounds, mean answer length in bytes before
 *                      and after each revision, of the first answer and of
 *                      the final revision
 *                      (records, mean_rounds and the first/final lengths
 *                      are per record, so only overall and model rows
 *                      have them; a principle or tag row counts rounds)
 * The model of a row is models.judge for preference records, models.policy
 * for critique records, "(none)" without one.
 *
 * JSON shape (--json), stable: keys are only ever added. A rate whose
 * denominator is zero is null.
 *
 * {"schema": "caigen.audit/1",
 *  "inputs": [path...], "constitutions": ["name@sha256:hex"...],
 *  "provenance": provenance.h's block (the judge models of the
 *                preference records, the time, caigen's version) with
 *                "inputs",
 *  "health": {"records", "preference", "critique", "hf", "invalid_lines",
 *             "unrecognized", "duplicate_ids", "unknown_principles",
 *             "unmatched_texts", "failures", "failures_unresolved",
 *             "rejects", "sibling_files": [path...]},
 *  "coverage": {"compare"|"critique": {
 *        "draws", "known_draws", "principles",
 *        "chi_square": {"statistic", "dof", "p_value"} | null,
 *        "never_drawn": [id...], "flagged": [id...]}},
 *  "overall": ROW,
 *  "principles": [ROW + {"id", "tags", "known", "text"}...],
 *  "tags": [ROW + {"tag", "principles"}...],
 *  "models": [ROW + {"model"}...],
 *  "p_histogram": {"bin_width": 0.05, "counts": [20 numbers]},
 *  "near_tie_halfwidth": 0.05}
 * ROW = {"coverage": {"compare"|"critique": {"draws", "share",
 *          "expected_share", "expected_draws", "interval99": [lo, hi],
 *          "flag": "high"|"low"|null}},
 *        "labels": {"n", "mean_p", "decisiveness", "near_tie_rate",
 *          "slot_a_wins": {"AB", "BA"}, "pairs", "position_bias",
 *          "position_bias_a", "position_bias_b", "order_disagreement",
 *          "mean_order_gap", "mean_other_mass", "methods": {name: n},
 *          "clamped", "length_pairs", "prefers_longer", "letter_mass_n",
 *          "mean_letter_mass", "low_letter_mass"},
 *        "critiques": {"records", "rounds", "mean_rounds",
 *          "mean_len_before", "mean_len_after", "mean_len_initial",
 *          "mean_len_final"}}
 * Principles come in constitution order, then unknown ones as first seen;
 * tags and models sorted by name. "principles" in a tag row counts the
 * principles carrying it. "text" is null except for unmatched texts.
 *
 * Thread-safety: none; one struct audit per thread.
 */
#ifndef CAIGEN_AUDIT_H
#define CAIGEN_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "util.h"

struct audit;

struct audit *audit_new(void);
void audit_free(struct audit *a);	/* NULL is fine */

/* Before any data: load a constitution (several may be given). */
int audit_add_constitution(struct audit *a, const char *path,
			   struct err *err) __attribute__((warn_unused_result));
/* Before any data: a prompts file (prompts.h) the records came from;
 * each record whose id is one of its prompts also counts in a row per tag
 * of that prompt: its "tags" strings, "category:C" for a "category" key,
 * "technique:T" for a "technique" key (caigen prompts writes all three).
 * The report then has "input_tags" rows (the text report a table). */
int audit_add_prompts(struct audit *a, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* Before any data: count refusals (evasive.h) with the phrase list at
 * path (NULL: the shipped one); the report then has "refusals":
 * evasive.h's block with by_principle, by_tag and by_model. */
int audit_set_refusals(struct audit *a, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* Stream one JSONL file ("-" for stdin) into the tallies; its directory is
 * remembered for the failures*.jsonl / rejects*.jsonl count. A file named
 * like those is not read as records, only counted with them. -1 with err
 * if it cannot be opened or read. */
int audit_scan_file(struct audit *a, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* One line of JSONL (no newline needed), as if read from a file. */
void audit_add_line(struct audit *a, const char *line, size_t len);
/* After all data: count sibling files and build the report (new ref). */
json_t *audit_report(struct audit *a);

/* The report as aligned text tables. */
void audit_print_text(json_t *report, FILE *f);

/* `caigen audit ...`: returns the exit code (0, or 2 on usage errors and
 * unreadable inputs). */
int audit_main(int argc, char **argv);

/* A member of a JSON object by dotted path ("labels.slot_a_wins.AB");
 * NULL if absent. Borrowed. */
json_t *audit_json_at(json_t *o, const char *path);

#endif
