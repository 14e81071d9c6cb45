/*
 * split.h - `caigen split`: one pass over a prompts file writes the files
 * of an N-way job array, so that each task reads its own share only.
 *
 *   caigen split PROMPTS -n N -o DIR [--max-line-bytes B] [--quiet]
 *
 * The rule is shard.h's: a prompt goes to shard hash64(id) mod N, so
 * shard K of the split holds exactly the prompts `--shard K/N` takes from
 * the unsplit file, and every occurrence of an id lands in one shard.
 *
 * DIR/prompts.shard-0000K-of-0000N.split, one per shard:
 *   {"schema":"caigen.split/1","k":K,"n":N,"format":"jsonl"}   header
 *   17 {"id":"a","prompt":"..."}      INDEX (0-based source line) + line
 *   23!"invalid JSON at column 2: ..."  INDEX + a stored reject reason
 *   {"lines":L,"blank":B,"prompts":P,"rejects":R}           trailer
 * prompts.h reads such a file as the part of the source it holds: same
 * ids, indexes and rejects. Every reject (bad lines, lines over
 * max_line_bytes, the second and later occurrences of an id) is stored in
 * shard 0, which alone records rejects, as it does on the unsplit file.
 *
 * DIR/split.json, written last (its presence means the split is whole):
 * source path, size and mtime, format, N, counts, per-shard counts, and the
 * duplicate ids found, each with both line numbers.
 *
 * Memory: one 16-byte slot pair per id (idset.h idmap: 32 MiB per
 * million prompts), for duplicates reported with the first line.
 *
 * Exit status: 0 written (rejects and duplicates are reported, and the
 * run of shard 0 records them), 2 usage or I/O error (DIR is left without
 * split.json).
 */
#ifndef CAIGEN_SPLIT_H
#define CAIGEN_SPLIT_H

#include <stdbool.h>
#include <stddef.h>

#include "shard.h"
#include "util.h"

/* How a shard file starts: prompts.c recognises it by this. */
#define SPLIT_MAGIC "{\"schema\":\"caigen.split/1\""
/* Room for the "INDEX " in front of a line (20 digits and a space). */
#define SPLIT_PREFIX_MAX 24

/* N of the split folder at path (its split.json), or 0 when path is not
 * a whole split folder. */
unsigned split_size(const char *path);
/* Whether the split that shard_file belongs to (its folder's split.json)
 * has a prompt given as a message list (prompts.h: one format per
 * dataset); false for a split of an older caigen. */
bool split_conversational(const char *shard_file);
/* The command; argv[0] is "split". Prints to stderr. */
int split_main(int argc, char **argv);

/*
 * If path is a folder, it must hold a split (split.json) made for s->n
 * shards: set *file to the shard file of s (new string; the caller frees
 * it) and *lines to the source's line count, and return 1. Return 0 when
 * path is not a folder (nothing set), -1 with err when the folder is not
 * a whole split or was split for another number of shards. Warns on
 * stderr when the source file has changed since the split.
 */
int split_resolve(const char *path, const struct shard *s, char **file,
		  size_t *lines, struct err *err)
	__attribute__((warn_unused_result));

/* "DIR/prompts.shard-00003-of-01000.split": new string. */
char *split_file(const char *dir, const struct shard *s);

#endif
