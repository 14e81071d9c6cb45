/*
 * merge.h - `caigen merge`: the shard files of a job array into one file.
 *
 *   caigen merge SHARD.jsonl... -o OUT.jsonl [--expect PROMPTS]
 *                [--no-manifest] [--quiet]
 *
 * Records come out sorted by their "index" (the input line), ties in the
 * order the files were named, each id once: a later record with an id
 * already written is dropped and counted. So the shards of a run merge
 * into exactly the bytes one process would have written. A shard file
 * need not be sorted: every run of caigen appends one ascending stretch
 * (a resumed run fills its gaps after the earlier records), so each file
 * is read as its ascending stretches, and those are merged k ways. Memory:
 * one line per stretch plus a map of id hashes to their first line
 * (idset.h idmap: 32 MiB per million records).
 *
 * A duplicate whose index differs from the kept record's (the same id on
 * two input lines: the prompts changed between the shards' runs, or the
 * inputs differ) is reported with both line numbers and both files, the
 * first 20 on stderr, and counted as duplicate_ids_on_two_lines.
 *
 * Records without an "id" (rejects) are keyed by their index, so the same
 * command merges failures and rejects files too (with --no-manifest).
 *
 * --expect PROMPTS reads the prompts file (prompts.h, the same ids a run
 * gives) and lists the first 20 ids with no record, and how many; any
 * missing makes the exit status 1.
 *
 * Unless --no-manifest: the manifests beside the inputs (X.shard-...jsonl
 * -> manifest.shard-....json in the same folder) are combined into OUT's
 * (OUT folder/manifest{OUT suffix}.json): counts, usage and HTTP counts
 * summed (lines and blank: the largest, since every shard reads the whole
 * file), config and constitutions from the first, plus a "merge" object.
 *
 * OUT is written to OUT.tmp and renamed, so it is whole or absent. A last
 * line without its newline (a shard killed mid-write) is left out and
 * reported.
 *
 * Exit status: 0 merged, 1 ids missing or lines unreadable (OUT is still
 * written), 2 usage error or an input/output error.
 */
#ifndef CAIGEN_MERGE_H
#define CAIGEN_MERGE_H

/* The command; argv[0] is "merge". Prints to stderr. */
int merge_main(int argc, char **argv);

#endif
