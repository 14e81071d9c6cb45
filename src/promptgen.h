/*
 * promptgen.h - `caigen prompts`: where the prompts come from.
 *
 *   caigen prompts dedup          exact and near duplicates (dedup.h)
 *   caigen prompts decontaminate  overlap with evaluation sets (decontam.h)
 *
 * prompts_cmd_main dispatches on argv[1]; each subcommand parses its own
 * options and returns the exit status (0 done, 2 usage or bad input).
 */
#ifndef CAIGEN_PROMPTGEN_H
#define CAIGEN_PROMPTGEN_H

/* `caigen prompts SUBCOMMAND ...`: argv[0] is "prompts". */
int prompts_cmd_main(int argc, char **argv);

#endif
