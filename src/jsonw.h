/*
 * jsonw.h - JSON text written straight into a buffer, byte for byte as
 * jansson's json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(p)) writes
 * it, for the hot paths (request bodies) where building a tree only to
 * print it costs more than the rest of the request.
 *
 * Strings are written as jansson writes them: '"' '\\' and control
 * characters escaped (\b \f \n \r \t, else \u00XX in upper-case hex),
 * everything else as it is (the caller's strings are valid UTF-8, as
 * jansson's own are). Reals as "%.{p}g" with ".0" added when neither '.'
 * nor 'e' appears and the exponent stripped of '+' and leading zeros;
 * NaN and infinities are refused, as jansson refuses them.
 *
 * Every function returns 0, or -1 when the buffer's ceiling is reached
 * or the value cannot be written; the buffer may then hold a part.
 * tests/unit/test_jsonw.c and tests/fuzz/fuzz_jsonw.c check the output
 * against json_dumps on the same values.
 */
#ifndef CAIGEN_JSONW_H
#define CAIGEN_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

int jsonw_str(struct buf *b, const char *s, size_t n)
	__attribute__((warn_unused_result));
int jsonw_cstr(struct buf *b, const char *s)
	__attribute__((warn_unused_result));
int jsonw_real(struct buf *b, double d, int precision)
	__attribute__((warn_unused_result));
int jsonw_int(struct buf *b, long long v)
	__attribute__((warn_unused_result));
/* Is s[0..n) valid UTF-8, as jansson's json_stringn checks it (no
 * overlong forms, surrogates or code points above U+10FFFF; NUL allowed)?
 * Eight ASCII bytes at a time: a fraction of jansson's cost, so a caller
 * checks once and builds with json_stringn_nocheck or jsonw_str. */
bool jsonw_utf8(const char *s, size_t n);
/* The length of the valid UTF-8 sequence of two to four bytes at p (p <
 * end), or 0: the multi-byte sequences jsonw_utf8 accepts. */
size_t jsonw_utf8_len(const unsigned char *p, const unsigned char *end);
/* Any value, compact; precision as JSON_REAL_PRECISION (0: 17). */
int jsonw_value(struct buf *b, const json_t *v, int precision)
	__attribute__((warn_unused_result));

#endif
