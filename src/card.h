/*
 * card.h - `caigen card OUT/`: a Hugging Face dataset card for an output
 * folder, written to OUT/README.md.
 *
 * The card is made from the folder's files alone:
 *   - the data files: OUT/preferences.jsonl and OUT/critiques.jsonl, or,
 *     where such a file is absent, its shard files
 *     (preferences.shard-KKKKK-of-NNNNN.jsonl); their records are counted
 *     and read once by the audit (audit.h);
 *   - failures*.jsonl and rejects*.jsonl, counted;
 *   - OUT/manifest.json, when there is one: version, constitution hashes,
 *     the manifest's counts, models and a fixed list of settings (never a
 *     URL, a key's variable or file name, nor anything not on the list),
 *     tokens, cost and guards;
 *   - OUT/eval.json (`caigen eval`), when there is one: agreement,
 *     calibration, position and length numbers, the reliability table.
 * A "Provenance" section names the judge models the records name (the
 * audit's), the input (the data files; the last name only of the run's
 * prompts file and of eval.json's input, never a local folder), a time
 * and the versions of caigen that wrote the card and made the data. The
 * time is the modification time of the newest file read, not the clock,
 * so the card of an unchanged folder is the same bytes each time.
 * It reads no environment variable and no key, and sends nothing.
 *
 * Shape: a YAML front matter ("---" lines) with `pretty_name`, `license:`
 * left empty for the user (a comment says so), `tags`,
 * `task_categories`, `size_categories` and `configs` (one config per
 * kind of data present, split "train", `path` the file, the list of shard
 * files, or a glob over them when there are more than CARD_MAX_LISTED),
 * then Markdown sections. The first line after the front matter is the
 * marker CARD_MARKER: a README.md without it was not written by caigen
 * and is replaced only with `force`.
 *
 * Strings from the folder's files (version, model and constitution
 * names, keys, principle ids and tags) are data, not markup: in text they
 * are escaped for Markdown and HTML, in code spans fenced by a backtick
 * run longer than any inside them; YAML scalars are double-quoted with
 * escapes.
 *
 * The card is written through a temporary file created exclusively
 * beside README.md and renamed over it (util.h wfile), so a reader sees
 * the old card or the new one, whole, and a planted README.md.tmp link
 * is never written through.
 */
#ifndef CAIGEN_CARD_H
#define CAIGEN_CARD_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

#define CARD_MARKER "<!-- written by caigen card; it replaces this file " \
		    "when run again -->"
#define CARD_MAX_LISTED 32

/* Render the card of folder dir on f. -1 with err when dir has no data
 * file, a data file or a JSON file in it cannot be read. */
int card_render(const char *dir, FILE *f, struct err *err)
	__attribute__((warn_unused_result));

/* Render the card of dir into dir/README.md (through a temporary file
 * and a rename). An existing README.md without CARD_MARKER is kept
 * unless force: -1 with err. */
int card_write(const char *dir, bool force, struct err *err)
	__attribute__((warn_unused_result));

/* `caigen card OUT [--force]`: the exit code (0, or 2). */
int card_main(int argc, char **argv);

#endif
