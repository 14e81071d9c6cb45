/*
 * promptgen.c - `caigen prompts` (promptgen.h).
 */
#include "promptgen.h"
#include "decontam.h"
#include "dedup.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: caigen prompts <subcommand> [options]\n\n"
	      "subcommands:\n"
	      "  decontaminate  drop or tag prompts that overlap evaluation "
	      "sets\n"
	      "  dedup          remove exact and near-duplicate prompts\n"
	      "\n'caigen prompts <subcommand> --help' describes one.\n", f);
	if (f == stdout) {
		fputs("\n", f);
		decontam_usage(f);
		fputs("\n", f);
		dedup_usage(f);
	}
}

int prompts_cmd_main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "decontaminate"))
		return prompts_decontaminate_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dedup"))
		return prompts_dedup_main(argc - 1, argv + 1);
	fprintf(stderr, "caigen: prompts: unknown subcommand '%s'\n",
		argv[1]);
	usage(stderr);
	return 2;
}
