/*
 * prompts.h - streaming reader of the prompts file.
 *
 * Formats (chosen by extension: .jsonl/.json = JSONL, .txt = text; otherwise
 * JSONL if the first non-blank line starts with '{'):
 *   JSONL: one object per line with "prompt" (string) or "messages" (a
 *          non-empty list of {"role","content"} with role system|user|
 *          assistant and string content, ending with a user turn), and
 *          optionally "id" (non-empty string, or integer: kept as its
 *          decimal text). Other keys are ignored.
 *   text:  one prompt per line.
 * Both: a UTF-8 BOM at the start is skipped, CRLF is read as LF, blank lines
 * are skipped (counted in `blank`). Input that starts with gzip's magic
 * bytes is inflated as it is read (zlib; concatenated members are one
 * stream; the name's ".gz" is ignored when choosing the format), from a
 * file or a pipe.
 *
 * A bad line does not stop the reader: prompts_next returns PROMPTS_REJECT
 * with the 1-based line number and the reason, and reading goes on. Reasons
 * include: invalid JSON (with jansson's column), not an object, missing
 * prompt/messages, wrong types, empty prompt, last message not from the
 * user, invalid UTF-8, NUL byte, line longer than max_line bytes (the rest
 * of that line is skipped, memory stays bounded), duplicate id (the second
 * and later occurrences are rejected).
 *
 * Identity: id = the "id" field, else "h" + 16 hex digits of hash64 of the
 * prompt text (string prompts and text lines) or of the compact JSON of the
 * messages list.
 *
 * A shard file written by `caigen split` (split.h) is read as the part of
 * the source file it holds: prompts and rejects keep the source's line
 * numbers, so every record is the one the source file would give. Its
 * stats say how far into the source the reader got: lines is the source
 * line of the last entry read, and at EOF the source's line and blank
 * counts. A shard file cut short (no trailer) is PROMPTS_ERROR at its end.
 *
 * Not thread-safe: one reader thread.
 */
#ifndef CAIGEN_PROMPTS_H
#define CAIGEN_PROMPTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "shard.h"
#include "util.h"

struct prompt {
	size_t index;		/* 0-based line number in the file */
	char *id;		/* owned */
	char *text;		/* the prompt string, or NULL if given as messages */
	json_t *messages;	/* always set: [{"role":"user","content":text}]
				 * for string prompts; owned reference */
};

struct reject {
	size_t line;		/* 1-based */
	char *reason;		/* owned, e.g. "invalid JSON at column 7: ..." */
};

enum prompts_status {
	PROMPTS_OK = 0,
	PROMPTS_REJECT = 1,
	PROMPTS_EOF = 2,
	PROMPTS_ERROR = -1,	/* I/O error on the file itself; err is set */
};

struct prompts_stats {
	size_t lines;		/* physical lines read (including blank) */
	size_t blank;
	size_t ok;
	size_t rejected;
};

struct prompts;

/* Open the file (or "-" for stdin, sniffed). NULL with err on failure; an
 * empty file is not an error here (it yields EOF at once). max_line is the
 * longest line kept, in bytes without the line end; 0 means 1 MiB. The
 * caller frees the reader with prompts_close. */
struct prompts *prompts_open(const char *path, size_t max_line,
			     struct err *err);
/*
 * Read the next prompt. On PROMPTS_OK fills *out (caller releases with
 * prompt_release); on PROMPTS_REJECT fills *rej (caller releases with
 * reject_release).
 */
enum prompts_status prompts_next(struct prompts *r, struct prompt *out,
				 struct reject *rej, struct err *err);
const struct prompts_stats *prompts_stats(const struct prompts *r);
/*
 * Remember for the duplicate check only the ids that shard s owns, so
 * that memory follows the shard, not the file; other ids are handed out
 * unchecked (the caller leaves them to their shard). Shard 0 keeps every
 * id, since it records the rejects of the whole file. Call before the
 * first prompts_next.
 */
void prompts_only_shard(struct prompts *r, const struct shard *s);
/* Turn the duplicate-id check off (on by default): `caigen split` does
 * its own, to name both lines. */
void prompts_check_dups(struct prompts *r, bool on);
/* Whether r reads a shard file of `caigen split`. */
bool prompts_is_split(const struct prompts *r);
/* The line the last prompts_next read (without its line end), valid
 * until the next call; empty after a line too long to keep. */
const char *prompts_line(const struct prompts *r, size_t *len);
/* The tags of a prompts file's line (o: the line's JSON object), as the
 * prompts commands and audit read them: "category:X" for a "category"
 * key X, "technique:X" for a "technique" key, then the strings of its
 * "tags" array; each once, in that order. A new array (empty without
 * tags, or when o is no object). */
json_t *prompts_line_tags(const json_t *o);
/* The reject reason for a repeated id: "duplicate id 'ID'" (clipped). New
 * string; the caller frees it. */
char *prompts_dup_reason(const char *id);
/* "jsonl" or "text": from the extension, else sniffed from the first
 * non-blank line. A file that opens with more than 64 KiB of blank space
 * is sniffed only when prompts_next reaches its first non-blank line;
 * until then this says "jsonl". Static string. */
const char *prompts_format(const struct prompts *r);
/* The key that holds the prompt in JSONL input, for every reader opened
 * after the call (process-wide: main.c sets it from prompt_field before
 * any reader opens); NULL or "prompt" is the default. A named key may hold
 * a string or a message list. Reasons name it: "missing 'question' or
 * 'messages'". */
void prompts_set_field(const char *name);
/*
 * One prompt format per dataset (process-wide, as prompts_set_field):
 * KEEP gives each prompt as its line has it (a string prompt has text, a
 * message list has none); CONVERSATIONAL gives every prompt as a message
 * list (text NULL; a string becomes one user turn, its id unchanged);
 * STANDARD gives every prompt as a string (a list of one user turn
 * becomes its content; a longer list is rejected, the reason naming
 * prompt_format); FIRST is STANDARD or CONVERSATIONAL as the first usable
 * prompt of each reader is (for stdin, which cannot be read twice).
 */
enum prompts_format_mode {
	PROMPTS_KEEP = 0,
	PROMPTS_STANDARD = 1,
	PROMPTS_CONVERSATIONAL = 2,
	PROMPTS_FIRST = 3,
};
void prompts_set_format(enum prompts_format_mode m);
/* Whether any usable prompt of the file is a message list (one pass,
 * a prompt field applied; only the JSONL lines holding a '[' are
 * parsed); false when it cannot be opened. */
bool prompts_any_messages(const char *path, size_t max_line);
/* For the tests: off, every JSONL line is read by jansson, also the
 * plain ones the reader otherwise reads itself (on by default). Not
 * thread-safe: call it while no prompts are read. */
void prompts_set_flat(bool on);
/* Closes the file (not stdin) and frees r; NULL is safe. */
void prompts_close(struct prompts *r);

/* Free the contents and zero the struct; safe on a zeroed struct, and
 * prompts_next zeroes both *out and *rej whatever it returns. */
void prompt_release(struct prompt *p);
void reject_release(struct reject *r);

#endif
