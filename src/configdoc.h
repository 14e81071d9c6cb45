/*
 * configdoc.h - the run config's keys documented: one line (and, for the
 * man page, any further text) per key, and the two texts made from it:
 * `caigen config --example`, a complete commented YAML run config, and
 * `caigen config --man`, the CONFIGURATION section of caigen.1.
 *
 * The keys, their order, their defaults and the values they accept come
 * from config.h's key walker (config_key_info, config_key_text on a
 * config_init'ed config), so neither text can drift from the parser; this
 * file adds only the words. A row describes the key `name` in one place:
 * the top level, policy, judge, or both endpoints (a key both policy and
 * judge have). Every key must match exactly one row and every row at
 * least one key (tests/unit/test_configdoc.c); a key without a row is
 * printed with "(not described yet)".
 *
 * The example sets every key to its default, uncommented: `caigen check`
 * accepts it as printed from the source tree (the default prompts file
 * and constitution are there), and loading it gives the same settings as
 * an empty file. Forms the defaults do not show (base_urls, a judge
 * panel, prices, concurrency ranges) follow their key as "# e.g." lines.
 *
 * The man text sits in caigen.1 between the lines `.\" caigen-keys-begin`
 * and `.\" caigen-keys-end`, which --man prints too; `make man` replaces
 * them, tests/e2e/cli_config_example.sh fails when they differ.
 *
 * Markup in the rows: `x` is bold in the man page and plain x in the YAML
 * comments. ASCII only.
 */
#ifndef CAIGEN_CONFIGDOC_H
#define CAIGEN_CONFIGDOC_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* How many rows describe key k (1 when the table is right). */
size_t configdoc_rows_for(const struct config_key_info *k);
/* Rows that describe no key (0 when the table is right); names the first
 * in *first (or NULL). */
size_t configdoc_unused_rows(const char **first);

/* The commented example YAML and the man page section. 0, or -1 on a
 * write error. */
int configdoc_example(FILE *f);
int configdoc_man(FILE *f);

/* `caigen config`: --example, --man, --help. Exit status. */
int configdoc_main(int argc, char **argv);

#endif
