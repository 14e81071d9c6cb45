/*
 * buf.h - a growable byte buffer with a ceiling (after curl's dynbuf).
 *
 * The contents are always NUL-terminated. A buffer never grows past its
 * ceiling: appends that would are refused with -1 and the buffer is left
 * as it was, so a runaway server reply cannot eat the machine.
 */
#ifndef CAIGEN_BUF_H
#define CAIGEN_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NUL-terminated, owned */
	size_t len;
	size_t cap;
	size_t max;	/* ceiling on len */
};

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);	/* len = 0, keeps the memory */
/* 0, or -1 if the ceiling would be passed. */
int buf_add(struct buf *b, const void *p, size_t n)
	__attribute__((warn_unused_result));
int buf_addstr(struct buf *b, const char *s)
	__attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), warn_unused_result));
/* Take the contents; the buffer is left empty. Caller frees. */
char *buf_detach(struct buf *b);

#endif
