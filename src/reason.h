/*
 * reason.h - why prompts failed, in kinds a user can act on: the one
 * table from a failure's reason (the `reason` of a line in
 * failures.jsonl) to its kind, a short label and the fix.
 *
 * A failure's reason is free text made where the failure happened (an
 * HTTP status and the server's message, "truncated", "identical
 * responses", "no answer letter ..."). reason_of sorts it into a kind by
 * the words it starts with or holds, first match in table order; what
 * no row matches is REASON_OTHER. The end-of-run summary prints one line
 * per kind seen (count, label, fix); the README's troubleshooting section
 * is written from the same table, and `reason_print_table` prints it.
 *
 * Thread-safety: pure functions over a constant table.
 */
#ifndef CAIGEN_REASON_H
#define CAIGEN_REASON_H

#include <stdio.h>

enum reason_kind {
	REASON_TRUNCATED,	/* an answer cut at max_tokens */
	REASON_IDENTICAL,	/* the two answers were the same */
	REASON_NO_LETTER,	/* the judge named neither A nor B */
	REASON_NO_LOGPROBS,	/* the judge's server gave no logprobs */
	REASON_KEY,		/* HTTP 401/403: key refused */
	REASON_NOT_FOUND,	/* HTTP 404: no such model or route */
	REASON_RATE,		/* HTTP 429 after every retry */
	REASON_TOO_LONG,	/* HTTP 400/413 about context or length */
	REASON_BAD_REQUEST,	/* other HTTP 4xx */
	REASON_SERVER,		/* HTTP 5xx after every retry */
	REASON_TIMEOUT,		/* no answer within timeout */
	REASON_UNREACHABLE,	/* no connection */
	REASON_BAD_REPLY,	/* a 2xx reply caigen cannot read */
	REASON_RECORD,		/* the record cannot be written */
	REASON_OTHER,
	REASON_COUNT
};

/* The kind of a failure reason (NULL: REASON_OTHER). */
enum reason_kind reason_of(const char *reason);
/* A short name for scripts and the manifest: "truncated", "key", ... */
const char *reason_name(enum reason_kind k);
/* What the user sees: "answers cut at max_tokens", ... */
const char *reason_label(enum reason_kind k);
/* One line: what to change. */
const char *reason_fix(enum reason_kind k);
/* The whole table, one "name: label: fix" line per kind, for docs. */
void reason_print_table(FILE *f);

#endif
