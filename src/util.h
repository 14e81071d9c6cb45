/*
 * util.h - the few helpers every module uses: error reports, allocation that
 * cannot fail (out of memory ends the program, as in git's wrapper.c), and
 * small string functions.
 */
#ifndef CAIGEN_UTIL_H
#define CAIGEN_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A user-facing error. Messages are lower-case, without a full stop, and
 * quote their subject: "cannot open 'x.yaml': No such file or directory".
 * Where a position in a file is known it comes first: "x.yaml:3:7: ...".
 */
struct err {
	char msg[1024];
};

/* Fill e->msg (printf-style). Always returns -1 so callers can
 * `return err_set(e, ...)`. e may be NULL. Messages quote data and are
 * printed to terminals: control characters other than '\n' and '\t' (and
 * bytes that are not UTF-8) are escaped as tty_safe does. */
int err_set(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Out of memory: print and exit(2). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new heap string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Levenshtein distance, for "did you mean" suggestions. */
size_t edit_distance(const char *a, const char *b);

/* Monotonic seconds. */
double now_sec(void);

/*
 * A file written whole (an HTML report, a card, a merged output, a
 * manifest): the bytes go to a temporary file in the same folder, created
 * exclusively (O_CREAT|O_EXCL|O_NOFOLLOW, so a planted file or symlink of
 * that name is never written through; another name is tried instead),
 * then fsynced and renamed over the target. A reader sees the old file or
 * the new one, whole; a crash leaves at most a NAME.tmp* file behind.
 *
 *	struct wfile w;
 *	FILE *f = wfile_open(&w, path, err);	// NULL with err
 *	... write to f ...
 *	wfile_commit(&w, err);			// or wfile_abort(&w)
 *
 * wfile_commit and wfile_abort free everything; after either, w is done.
 */
/* The first step alone: PATH.tmp (or PATH.tmp.PID.N when that name is
 * taken) created exclusively, its heap name in *tmp; NULL with err. */
FILE *fopen_excl_tmp(const char *path, char **tmp, struct err *err)
	__attribute__((warn_unused_result));
struct wfile {
	char *path, *tmp;
	FILE *f;
};
FILE *wfile_open(struct wfile *w, const char *path, struct err *err)
	__attribute__((warn_unused_result));
int wfile_commit(struct wfile *w, struct err *err)
	__attribute__((warn_unused_result));
void wfile_abort(struct wfile *w);
/* The whole of data (len bytes) as path, through a wfile. */
int write_file_atomic(const char *path, const char *data, size_t len,
		      struct err *err) __attribute__((warn_unused_result));

/*
 * Open a file of the user's folder for reading, never blocking: NULL with
 * errno ENOENT when there is none (err not set), NULL with err when it
 * cannot be opened or is not a regular file (a FIFO, a device, a folder).
 */
FILE *fopen_regular(const char *path, struct err *err);

/* Whether a and b name one existing file (same device and inode). */
bool is_same_file(const char *a, const char *b);
/*
 * Whether out may be written as a report (HTML) of the files in[0..n-1]:
 * -1 with err when out is one of them, or names a data or settings file
 * (NAME.jsonl, .json, .yaml, .yml: records, logs, manifests, configs).
 */
int report_out_check(const char *out, const char *const *in, size_t n,
		     struct err *err) __attribute__((warn_unused_result));

/*
 * URLs with a password: in "http://user:secret@host/v1" the userinfo is
 * replaced by three stars and the '@' kept. url_mask does one URL;
 * text_mask_urls every URL in a text (a message, a JSON document, a log
 * line). Both return a new heap string.
 */
char *url_mask(const char *url);
char *text_mask_urls(const char *text);
/* The same on an error's message, in place. */
void err_mask_urls(struct err *e);

/*
 * A string from data (an id, a tag, a model name, a file name) as it may
 * go to a terminal: control characters (C0, DEL, C1 as UTF-8 or raw) as
 * \xNN, so ESC sequences cannot retitle, clear or recolour it. The
 * result lives in one of 8 per-thread buffers, reused in turn: enough
 * for the arguments of one printf.
 */
const char *tty_safe(const char *s);

/* A command-line option's whole-number value in [lo, hi]: 0, or -1 after
 * saying on stderr what `name` takes. */
int option_long(const char *name, const char *v, long lo, long hi,
		long *out);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
