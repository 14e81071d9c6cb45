/*
 * import.h - `caigen import`: published constitutions to our YAML.
 *
 *   caigen import anthropic FILE.json [-o OUT.yaml] [--name NAME]
 *   caigen import hf FILE.json [-o OUT.yaml] [--name NAME]
 *
 * Shapes read:
 *   anthropic, critique set: an object {"<name>": {"prompt": ["<critique
 *     request>", ...], "edit_request": "<revision request>"}, ...}; the
 *     first prompt of each entry is used. Becomes critique/revise
 *     principles with ids "imp-crt-<slug of name>".
 *   anthropic, comparison set: a list of strings. Becomes compare
 *     principles with ids "imp-cmp-<NN>-<hash>".
 *   hf: {"constitutions": [{"critic": ..., "revision": ...}],
 *     "system_chat": [[{"role", "content"}, ...], ...]}. Constitutions
 *     become critique/revise principles "hf-<NN>-<hash>"; each system_chat
 *     dialogue must hold six user/assistant turns (prompt, answer,
 *     critique request, critique, revision request, revision) and becomes
 *     a `fewshot` entry.
 * <hash> is 6 hex digits of hash64 of the principle's text, so importing
 * the same file again gives the same ids, and an edited text a new one.
 * A slug that would repeat gets "-<hash>" too.
 *
 * The constitution's name is NAME, else the output file's base name
 * without ".yaml", else "imported"; characters other than letters,
 * digits, '.', '_', '-' become '-'. Output is written to OUT.tmp and
 * renamed, or to standard output without -o.
 */
#ifndef CAIGEN_IMPORT_H
#define CAIGEN_IMPORT_H

#include <stdio.h>

#include "util.h"

enum import_format { IMPORT_ANTHROPIC, IMPORT_HF };

/* Convert the JSON file at `path` and write YAML to out. -1 with err
 * ("'x.json': expected an object or a list of strings", ...). */
int import_file(enum import_format fmt, const char *path, const char *name,
		FILE *out, struct err *err)
	__attribute__((warn_unused_result));

/* The `caigen import` command (argv[0] is "import"). Exit code. */
int import_main(int argc, char **argv);

#endif
