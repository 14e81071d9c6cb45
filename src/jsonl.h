/*
 * jsonl.h - read a JSONL file one parsed line at a time: the loop that
 * eval, calibrate and review share.
 *
 * jsonl_each opens path, reads it line by line (any length: the buffer
 * grows), parses each line that is not blank with jansson and hands the
 * value to a callback with its 1-based line number. A line may end in
 * "\n" or "\r\n"; a line of spaces and tabs only is blank (skipped, still
 * counted). A gzip file (by its magic bytes, whatever its name; members
 * may be concatenated) is read as the text it holds, as the prompt reader
 * does (prompts.h).
 *
 * Errors say where, in one form:
 *   cannot open 'PATH': REASON
 *   PATH:LINE: invalid JSON: REASON
 *   PATH:LINE: MESSAGE          (the callback's err.msg)
 *   cannot read 'PATH': REASON  (I/O, or a damaged or cut gzip stream)
 *
 * Thread-safety: none beyond the callback's own.
 */
#ifndef CAIGEN_JSONL_H
#define CAIGEN_JSONL_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

/* A last line without its newline is left out (not parsed, not counted):
 * the line a crash cut mid-write, never acknowledged. */
#define JSONL_DROP_CUT_LAST	1u

/*
 * Called per parsed line with the value (borrowed: take a reference to
 * keep it). Returns 0 to go on, 1 to stop reading (not an error), or -1
 * with err set to the reason alone (jsonl_each adds "PATH:LINE: ").
 */
typedef int (*jsonl_fn)(void *ctx, json_t *value, size_t lineno,
			struct err *err);

/* Every line of path, as above. The number of lines read (blank ones
 * too), or -1 with err. */
long jsonl_each(const char *path, unsigned flags, jsonl_fn fn, void *ctx,
		struct err *err) __attribute__((warn_unused_result));

#endif
