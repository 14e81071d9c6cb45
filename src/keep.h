/*
 * keep.h - paid answers kept: the live executor's journal of the policy
 * answers it received, so that a run stopped at any instant (a signal,
 * --max-cost, a crash, kill -9) and started again asks no sampling
 * request twice.
 *
 * File: OUT/live/answers.jsonl (the folder with the shard suffix), one
 * line per answer, appended as each 2xx reply arrives and before the
 * machine hears of it:
 *   {"id":"<prompt id>","key":"p-<callkey.h hex>","reply":"<the reply
 *    body as received>"}
 * and, when a prompt fails (it is retried by the next run, which must ask
 * again), {"forget":"<prompt id>"}: its earlier answers are not used.
 * Lines are written whole with one write(2) (a kill -9 leaves them in the
 * page cache); the file is fdatasync'ed at most every KEEP_SYNC_SECONDS
 * and at keep_close, so a machine crash loses at most that much. On open a
 * partial last line is cut and the lines are indexed by key (at most 32
 * bytes of memory per answer; the replies stay on disk and are read back
 * with pread when asked for). Only the answers found at open are indexed
 * and found: a run asks each draw once, and what it puts is for the next
 * run, so its puts cost no memory (a run of a million prompts would
 * otherwise hold a 32 MB index). The key names the draw and the request
 * (callkey.h), so an answer only ever answers the same draw of the same
 * request; a changed configuration asks again.
 *
 * The journal only grows; it is safe to delete between runs (the next
 * run then asks again what is not written yet).
 *
 * Thread-safety: every function from any thread (one mutex).
 */
#ifndef CAIGEN_KEEP_H
#define CAIGEN_KEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define KEEP_SYNC_SECONDS 1.0

struct keep;

/* Open (make) path, cut a partial last line, index the answers. NULL
 * with err ("path:line: what is wrong" for a bad line). */
struct keep *keep_open(const char *path, struct err *err);
/* The kept reply body of key, malloc'ed (caller frees), or NULL: only
 * answers that were in the file at keep_open (not those put since). */
char *keep_find(struct keep *k, const char *key);
/* Append key's reply body, with the id of its prompt (may be NULL); the
 * first answer of a key is the one kept: a key found at open is not
 * written again, and of a key put twice in this run the next open keeps
 * the first. -1 with err when the disk refuses (the answer is still
 * used). */
int keep_put(struct keep *k, const char *key, const char *id,
	     const char *body, size_t len, struct err *err)
	__attribute__((warn_unused_result));
/* Prompt id failed (it goes to failures.jsonl): its answers kept so far
 * are not used by later runs, which ask again (the failure may have come
 * from the answers: identical, cut). */
int keep_forget(struct keep *k, const char *id, struct err *err)
	__attribute__((warn_unused_result));
/* Answers indexed: those found at open (for the tests). */
size_t keep_indexed(struct keep *k);
/* Answers found this run (answered without a request). */
size_t keep_hits(struct keep *k);
/* Sync and close; NULL is fine. */
void keep_close(struct keep *k);

#endif
