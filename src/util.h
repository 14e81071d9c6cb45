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

/*
 * A user-facing error. Messages are lower-case, without a full stop, and
 * quote their subject: "cannot open 'x.yaml': No such file or directory".
 * Where a position in a file is known it comes first: "x.yaml:3:7: ...".
 */
struct err {
	char msg[1024];
};

/* Fill e->msg (printf-style). Always returns -1 so callers can
 * `return err_set(e, ...)`. e may be NULL. */
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

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
