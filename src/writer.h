/*
 * writer.h - the output folder: appends, fsync, resume scan, repair.
 *
 * Files (SUFFIX is "" or ".shard-00003-of-00016"):
 *   preferences{SUFFIX}.jsonl  finished records, one per prompt
 *   failures{SUFFIX}.jsonl     prompts whose calls failed for good (log;
 *                              they are retried by the next run)
 *   rejects{SUFFIX}.jsonl      input lines that could not be read
 *   manifest{SUFFIX}.json      settings, counts, usage (rewritten whole)
 *
 * Crash safety: each file is opened O_APPEND and written only in whole
 * lines, a batch of lines per write(2). writer_sync() fsyncs. On open, a
 * last line without its '\n' (a crash mid-write) is cut off, so the file
 * again ends at a record boundary; ids of finished records are read back so
 * the run skips them, and the line numbers of recorded rejects so they are
 * not written twice.
 *
 * Two runs appending to the same files would duplicate work, so
 * writer_open takes an exclusive lock on DIR/.lock{SUFFIX} and fails if
 * another process holds it. A sharded run also fails, before creating
 * anything, when DIR holds non-empty files of a job of another shard
 * count (two splits of the same prompts would mix). manifest.json is
 * written with any password of a URL masked (util.h text_mask_urls), and
 * so are failure lines.
 *
 * Only one thread (the pipeline's writer) may use a struct writer.
 */
#ifndef CAIGEN_WRITER_H
#define CAIGEN_WRITER_H

#include <stddef.h>

#include "buf.h"
#include "idset.h"
#include "util.h"

/* OUT_RECORDS2 is open only after writer_open_second (mode both). */
enum out_file { OUT_RECORDS = 0, OUT_FAILURES, OUT_REJECTS, OUT_RECORDS2,
		OUT_COUNT };

struct writer_resume {
	size_t records;		/* finished records found */
	size_t rejects;		/* reject records found */
	size_t failures;	/* failure records found (history) */
	size_t repaired_bytes;	/* cut from partial last lines */
};

struct writer {
	char *dir;
	char *path[OUT_COUNT];
	int fd[OUT_COUNT];
	struct buf pending[OUT_COUNT];
	char *manifest_path;
	int lock_fd;		/* flock on DIR/.lock{SUFFIX}: one run per
				 * output at a time */
};

/*
 * Create dir if needed, open (creating) the files for appending, repair
 * partial last lines, and fill `done` with the ids in the records file and
 * `rejected` with (line number) of the reject records. `records_name` is
 * the base name of the records file ("preferences" or "critiques").
 */
int writer_open(struct writer *w, const char *dir, const char *records_name,
		const char *suffix, struct idset *done, struct idset *rejected,
		struct writer_resume *res, struct err *err)
	__attribute__((warn_unused_result));
/*
 * A second records file, NAME{SUFFIX}.jsonl, as OUT_RECORDS2 (mode both:
 * critiques and preferences). Repaired like the others on open; the ids
 * of its records go into `done` and their count into *records.
 */
int writer_open_second(struct writer *w, const char *name,
		       const char *suffix, struct idset *done,
		       size_t *records, struct err *err)
	__attribute__((warn_unused_result));
/* Queue one line (without '\n'; one is added). Whole lines only reach the
 * file. Flushes by itself when the batch grows past 256 KiB. */
int writer_put(struct writer *w, enum out_file f, const char *line,
	       size_t len, struct err *err)
	__attribute__((warn_unused_result));
/* Write queued lines; with sync, fsync the files too. */
int writer_flush(struct writer *w, int sync, struct err *err)
	__attribute__((warn_unused_result));
/* Replace manifest.json atomically (write temp, fsync, rename). */
int writer_manifest(struct writer *w, const char *json, struct err *err)
	__attribute__((warn_unused_result));
/* Flush, fsync and close. Returns -1 if the final flush failed. */
int writer_close(struct writer *w, struct err *err);

/* The id of a record line, as written by caigen ("id" key). Heap string
 * or NULL. */
char *writer_line_id(const char *line, size_t len);

#endif
