/*
 * reply.c - a strict reader for chat completion replies (reply.h).
 *
 * DESIGN. json_loads builds a tree of the whole reply, with a hash table
 * per object, only for us to look up a dozen values; that was about 43 %
 * of the CPU a request costs. Here one pass over the body both checks it
 * by jansson's rules and, on the few paths we read ("error",
 * "error.message", "choices[i].message.content", "choices[i].finish_reason",
 * "choices[i].logprobs.content", "usage.*"), notes where the value is: a
 * span of the body. A later duplicate key overwrites the note, which is
 * jansson's "the last one wins". Everything else goes through skip_value,
 * an iterative checker (one bit per open container instead of recursion,
 * so the depth limit costs 256 bytes of stack). Only when the whole body
 * has passed are the noted strings decoded, into one arena the reply owns.
 * The logprobs lists, when asked for, are noted in the same walk that
 * checks them, so their bytes are read once: each position and each
 * candidate an entry of two growing vectors (on the stack up to a few
 * dozen), a list a later duplicate key makes useless left behind unused.
 * fill then lays them out as struct chat_logprobs (chat.h) in the same
 * arena as the strings: one allocation a reply, no jansson. Their reals
 * are converted exactly without strtod when they are short (real_of), as
 * nearly every logprob is.
 *
 * The checks follow jansson 2.14's load.c: the grammar of RFC 8259 with a
 * root that must be an object or array; strict UTF-8 everywhere (no
 * overlong forms, no surrogates, nothing above U+10FFFF); \u escapes must
 * pair surrogates and must not be \u0000; integers must fit a long long;
 * a real must not overflow a double (strtod's ERANGE with HUGE_VAL;
 * underflow is fine); depth counts every value, the root being 1, up to
 * JSON_PARSER_MAX_DEPTH. Reals are converted with strtod like jansson's,
 * so the values are the same bits (caigen never sets LC_NUMERIC).
 */
#include "reply.h"
#include "jsonw.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH JSON_PARSER_MAX_DEPTH
#define KEY(k, lit) key_is((k), (lit), sizeof(lit) - 1)

enum kind {
	K_NONE,			/* not in the body */
	K_NULL,
	K_BOOL,
	K_INT,
	K_REAL,
	K_STRING,
	K_ARRAY,
	K_OBJECT,
};

/* A value seen in the body. K_STRING: s, n the raw text between the
 * quotes, esc when it holds a backslash. K_INT: i. K_REAL: s, n the
 * number's text. K_ARRAY, K_OBJECT: s, n from bracket to bracket. */
struct val {
	enum kind kind;
	bool esc;
	const char *s;
	size_t n;
	long long i;
};

/* A logprobs position or candidate as the walk noted it: tok a K_STRING
 * or K_NONE; lp the number's value when has_lp; a position's candidates
 * are ntop entries of the candidate vector from top. */
struct ent {
	struct val tok;
	double lp;
	bool has_lp;
	size_t top, ntop;
};

#define VEC_SMALL 32

/* A growing vector of entries, on the stack while it is small. */
struct vec {
	struct ent *e;
	size_t n, cap;
	struct ent small[VEC_SMALL];
};

/* The reading position. */
struct rd {
	const char *p, *end, *start;
	unsigned depth;		/* containers open around p */
	bool want;		/* note the logprobs lists */
	const char *why;	/* the first error, and where */
	size_t at;
	struct vec pos, cand;	/* logprobs positions, candidates */
};

struct choice_note {
	struct val content;	/* message.content */
	struct val finish;	/* finish_reason */
	struct val lp;		/* logprobs.content */
	bool list;		/* lp noted, when wanted and an array: */
	size_t first, npos;	/* its positions in rd.pos */
};

/* What the pass noted; the last duplicate key wins throughout. */
struct notes {
	struct val error;
	struct val error_msg;	/* error.message when error is an object */
	bool has_choices;	/* an array with at least one element */
	size_t nchoices;	/* noted: at most PROVIDER_MAX_CHOICES */
	struct choice_note c[PROVIDER_MAX_CHOICES];
	long long prompt_tokens, completion_tokens;
};

static int bad(struct rd *r, const char *why)
{
	if (!r->why) {
		r->why = why;
		r->at = (size_t)(r->p - r->start);
	}
	return -1;
}

static inline void ws(struct rd *r)
{
	const char *p = r->p;

	while (p < r->end && (*p == ' ' || *p == '\n' || *p == '\r' ||
			      *p == '\t'))
		p++;
	r->p = p;
}

static inline bool at(const struct rd *r, char c)
{
	return r->p < r->end && *r->p == c;
}

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The four hex digits at p (end bounds them), or -1. */
static int hex4(const unsigned char *p, const unsigned char *end)
{
	int v = 0;

	if (end - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (int)(c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* The escape at p (its backslash): where it ends, or NULL. */
static const unsigned char *escape_end(const unsigned char *p,
				       const unsigned char *end)
{
	int u, lo;

	if (++p >= end)
		return NULL;
	switch (*p) {
	case '"': case '\\': case '/':
	case 'b': case 'f': case 'n': case 'r': case 't':
		return p + 1;
	case 'u':
		break;
	default:
		return NULL;
	}
	u = hex4(p + 1, end);
	p += 5;
	if (u <= 0 || (u >= 0xdc00 && u <= 0xdfff))
		return NULL;	/* bad hex, \u0000, a lone low surrogate */
	if (u < 0xd800 || u > 0xdbff)
		return p;
	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return NULL;
	lo = hex4(p + 2, end);
	return lo >= 0xdc00 && lo <= 0xdfff ? p + 6 : NULL;
}

/*
 * Past the bytes at p a string may hold as they are (0x20..0x7f but '"'
 * and '\\'), eight at a time while eight are left, with the "has a zero
 * byte" tests of SWAR: m flags the bytes that are '"' or '\\', below 0x20
 * or have the high bit. A borrow only runs upward from a byte that is
 * flagged rightly, so the lowest flag is exact: on a little-endian
 * machine it is the first byte to stop at.
 */
static const unsigned char *plain_run(const unsigned char *p,
				      const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101u;
	const uint64_t high = 0x8080808080808080u;

	while (end - p >= 8) {
		uint64_t x, q, b, m;

		memcpy(&x, p, 8);
		q = x ^ (ones * '"');
		b = x ^ (ones * '\\');
		m = (((q - ones) & ~q) | ((b - ones) & ~b) |
		     ((x - ones * 0x20) & ~x) | x) & high;
		if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			return p + (__builtin_ctzll(m) >> 3);
#else
			break;
#endif
		}
		p += 8;
	}
	while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
		p++;
	return p;
}

/* A string at r->p, its opening quote. */
static int scan_string(struct rd *r, struct val *v)
{
	const unsigned char *p = (const unsigned char *)r->p + 1;
	const unsigned char *end = (const unsigned char *)r->end;
	bool esc = false;

	for (;;) {
		size_t n;

		p = plain_run(p, end);
		if (p >= end) {
			r->p = (const char *)p;
			return bad(r, "premature end of input");
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			const unsigned char *q = escape_end(p, end);

			if (!q) {
				r->p = (const char *)p;
				return bad(r, "invalid escape");
			}
			esc = true;
			p = q;
			continue;
		}
		if (*p < 0x20) {
			r->p = (const char *)p;
			return bad(r, "control character in string");
		}
		n = jsonw_utf8_len(p, end);
		if (!n) {
			r->p = (const char *)p;
			return bad(r, "invalid UTF-8");
		}
		p += n;
	}
	v->kind = K_STRING;
	v->esc = esc;
	v->s = r->p + 1;
	v->n = (size_t)((const char *)p - v->s);
	r->p = (const char *)p + 1;
	return 0;
}

/* Does the real s[0..n) overflow a double? (jsonp_strtod's test) */
static bool real_overflows(const char *s, size_t n)
{
	char small[64], *t = n < sizeof(small) ? small : xmalloc(n + 1);
	double d;
	bool over;

	memcpy(t, s, n);
	t[n] = '\0';
	errno = 0;
	d = strtod(t, NULL);
	over = (d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE;
	if (t != small)
		free(t);
	return over;
}

/* A number at r->p ('-' or a digit). */
static int scan_number(struct rd *r, struct val *v)
{
	const char *s = r->p, *p = s, *end = r->end, *d, *f = NULL;
	bool neg = *p == '-', eneg = false;
	long long e = 0, lead;
	size_t nint;

	if (neg)
		p++;
	d = p;
	if (p >= end || !is_digit(*p)) {
		r->p = p;
		return bad(r, "invalid number");
	}
	if (*p == '0') {
		if (++p < end && is_digit(*p)) {
			r->p = p;
			return bad(r, "invalid number");
		}
	} else {
		while (p < end && is_digit(*p))
			p++;
	}
	nint = (size_t)(p - d);
	if (p >= end || (*p != '.' && *p != 'e' && *p != 'E')) {
		unsigned long long u = 0;

		if (nint > 19 || (nint == 19 && memcmp(d, neg ?
			"9223372036854775808" : "9223372036854775807",
			19) > 0)) {
			r->p = s;
			return bad(r, "integer out of range");
		}
		for (const char *q = d; q < p; q++)
			u = u * 10 + (unsigned)(*q - '0');
		v->kind = K_INT;
		v->i = !neg ? (long long)u : u ? -(long long)(u - 1) - 1 : 0;
		r->p = p;
		return 0;
	}
	if (*p == '.') {
		f = ++p;
		if (p >= end || !is_digit(*p)) {
			r->p = p;
			return bad(r, "invalid number");
		}
		while (p < end && is_digit(*p))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		if (p >= end || !is_digit(*p)) {
			r->p = p;
			return bad(r, "invalid number");
		}
		/* saturated beyond the digits any body can hold, so that
		 * lead below stays on the right side of 308 */
		for (; p < end && is_digit(*p); p++)
			if (e < 1000000000000000LL)
				e = e * 10 + (*p - '0');
		if (eneg)
			e = -e;
	}
	v->kind = K_REAL;
	v->s = s;
	v->n = (size_t)(p - s);
	/* The power of ten of the first significant digit: below 308 the
	 * value is under 1e308 < DBL_MAX; only then is strtod asked. */
	if (*d != '0') {
		lead = (long long)nint - 1 + e;
	} else {
		const char *q = f;

		while (q && q < p && *q == '0')
			q++;
		if (!q || q >= p || !is_digit(*q))
			lead = LLONG_MIN;	/* zero */
		else
			lead = -(long long)(q - f) - 1 + e;
	}
	if (lead >= 308 && real_overflows(s, v->n)) {
		r->p = s;
		return bad(r, "real number overflow");
	}
	r->p = p;
	return 0;
}

/* true, false or null at r->p. jansson reads a whole run of letters as
 * one word, so a letter right after one is an invalid token. */
static int scan_word(struct rd *r, struct val *v)
{
	size_t left = (size_t)(r->end - r->p), n = 0;
	char c;

	if (left >= 4 && !memcmp(r->p, "true", 4)) {
		v->kind = K_BOOL;
		n = 4;
	} else if (left >= 5 && !memcmp(r->p, "false", 5)) {
		v->kind = K_BOOL;
		n = 5;
	} else if (left >= 4 && !memcmp(r->p, "null", 4)) {
		v->kind = K_NULL;
		n = 4;
	}
	c = n < left ? r->p[n] : '\0';
	if (!n || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return bad(r, "invalid token");
	r->p += n;
	return 0;
}

/* A value that is not an array or object. */
static int scan_scalar(struct rd *r, struct val *v)
{
	char c;

	if (r->p >= r->end)
		return bad(r, "premature end of input");
	c = *r->p;
	if (c == '"')
		return scan_string(r, v);
	if (c == '-' || is_digit(c))
		return scan_number(r, v);
	if (c == 't' || c == 'f' || c == 'n')
		return scan_word(r, v);
	return bad(r, "invalid token");
}

/* An object member's key and its ':', blanks around them skipped; r->p
 * then at the value. 0, or -1 with the error set. */
static int member_key(struct rd *r, struct val *key)
{
	if (!at(r, '"'))
		return bad(r, "string or '}' expected");
	if (scan_string(r, key) < 0)
		return -1;
	ws(r);
	if (!at(r, ':'))
		return bad(r, "':' expected");
	r->p++;
	ws(r);
	return 0;
}

/*
 * Any value at r->p, checked; *v says what it was. Containers are walked
 * without recursion: bit k of `obj` says whether the k-th container
 * opened here is an object.
 */
static int skip_value(struct rd *r, struct val *v)
{
	unsigned char obj[MAX_DEPTH / 8 + 1];
	const char *start = r->p;
	unsigned base = r->depth, k;
	bool in_obj;
	struct val x;

	if (r->depth >= MAX_DEPTH)
		return bad(r, "maximum parsing depth reached");
	if (!at(r, '{') && !at(r, '['))
		return scan_scalar(r, v);
	v->kind = *r->p == '{' ? K_OBJECT : K_ARRAY;
open:
	in_obj = *r->p == '{';
	k = r->depth - base;
	if (in_obj)
		obj[k / 8] |= (unsigned char)(1u << (k % 8));
	else
		obj[k / 8] &= (unsigned char)~(1u << (k % 8));
	r->depth++;
	r->p++;
	ws(r);
	if (at(r, in_obj ? '}' : ']')) {
		r->p++;
		goto close;
	}
member:
	if (in_obj && member_key(r, &x) < 0)
		return -1;
	if (r->depth >= MAX_DEPTH)
		return bad(r, "maximum parsing depth reached");
	if (at(r, '{') || at(r, '['))
		goto open;
	if (scan_scalar(r, &x) < 0)
		return -1;
after:
	ws(r);
	k = r->depth - base - 1;
	in_obj = obj[k / 8] >> (k % 8) & 1;
	if (at(r, ',')) {
		r->p++;
		ws(r);
		goto member;
	}
	if (!at(r, in_obj ? '}' : ']'))
		return bad(r, in_obj ? "'}' expected" : "']' expected");
	r->p++;
close:
	if (--r->depth > base)
		goto after;
	v->s = start;
	v->n = (size_t)(r->p - start);
	return 0;
}

/* Step into the array or object at r->p. */
static void enter(struct rd *r)
{
	r->p++;
	r->depth++;
}

/*
 * The next member of the object (obj) or element of the array entered
 * last: 1 with r->p at its value (and for an object its key in *key), 0
 * past the closing bracket, -1 on an error. *first: nothing read yet.
 */
static int next(struct rd *r, bool obj, bool *first, struct val *key)
{
	char close = obj ? '}' : ']';

	ws(r);
	if (at(r, close)) {
		r->p++;
		r->depth--;
		return 0;
	}
	if (!*first) {
		if (!at(r, ','))
			return bad(r, obj ? "'}' expected" : "']' expected");
		r->p++;
		ws(r);
	}
	*first = false;
	if (obj && member_key(r, key) < 0)
		return -1;
	if (r->depth >= MAX_DEPTH)
		return bad(r, "maximum parsing depth reached");
	return 1;
}

static size_t utf8_put(char *o, unsigned u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | u >> 6);
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | u >> 12);
		o[1] = (char)(0x80 | (u >> 6 & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | u >> 18);
	o[1] = (char)(0x80 | (u >> 12 & 0x3f));
	o[2] = (char)(0x80 | (u >> 6 & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

/* Decode the raw text of a checked string into out, which has room for
 * n + 1 bytes (decoding never lengthens), NUL-terminated; the length. */
static size_t decode(const char *s, size_t n, char *out)
{
	const char *e = s + n;
	char *o = out;

	while (s < e) {
		const char *b = memchr(s, '\\', (size_t)(e - s));
		size_t run = (size_t)((b ? b : e) - s);
		unsigned u;

		memcpy(o, s, run);
		o += run;
		s += run;
		if (!b)
			break;
		switch (s[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			u = (unsigned)hex4((const unsigned char *)s + 2,
					   (const unsigned char *)e);
			if (u >= 0xd800 && u <= 0xdbff) {
				unsigned lo = (unsigned)hex4(
					(const unsigned char *)s + 8,
					(const unsigned char *)e);

				u = 0x10000 + ((u - 0xd800) << 10) +
				    (lo - 0xdc00);
				s += 6;
			}
			o += utf8_put(o, u);
			s += 6;
			continue;
		default:	/* " \ / */
			*o++ = s[1];
			break;
		}
		s += 2;
	}
	*o = '\0';
	return (size_t)(o - out);
}

static bool key_is(const struct val *k, const char *name, size_t len)
{
	char buf[130];

	if (!k->esc)
		return k->n == len && !memcmp(k->s, name, len);
	/* an escape is at most 6 bytes a byte: longer raw keys decode to
	 * more than any name here */
	if (k->n > 128)
		return false;
	return decode(k->s, k->n, buf) == len && !memcmp(buf, name, len);
}

/* The object at r->p: note its member `name` (the last one) in *out. */
static int pick(struct rd *r, const char *name, size_t len, struct val *out)
{
	bool first = true;
	struct val k, v;
	int rc;

	out->kind = K_NONE;
	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (skip_value(r, &v) < 0)
			return -1;
		if (key_is(&k, name, len))
			*out = v;
	}
	return rc;
}

/* 10^0 .. 10^22: every one exact in a double. */
static const double exact_tens[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * The double strtod gives for the checked real s[0..n). A logprob such
 * as -0.2231 is m * 10^k with m <= 2^53 and |k| <= 22: then m and 10^|k|
 * are exact doubles and one multiplication or division rounds once, to
 * the nearest, which is what glibc's strtod returns (Clinger's fast
 * path; x86-64 evaluates doubles in doubles). Anything else goes to
 * strtod, as jansson's reader does.
 */
static double real_of(const char *s, size_t n)
{
	const char *p = s, *e = s + n;
	bool neg = *p == '-';
	uint64_t m = 0;
	int sig = 0;
	long long k = 0, x = 0;
	char small[64], *t;
	double d;

	if (neg)
		p++;
	for (; p < e && is_digit(*p); p++) {
		if ((m || *p != '0') && ++sig > 19)
			goto slow;
		m = m * 10 + (uint64_t)(*p - '0');
	}
	if (p < e && *p == '.') {
		for (p++; p < e && is_digit(*p); p++) {
			if ((m || *p != '0') && ++sig > 19)
				goto slow;
			m = m * 10 + (uint64_t)(*p - '0');
			k--;
		}
	}
	if (p < e) {		/* 'e' or 'E' */
		bool eneg = false;

		if (*++p == '+' || *p == '-')
			eneg = *p++ == '-';
		for (; p < e; p++) {
			if (x > 10000)
				goto slow;
			x = x * 10 + (*p - '0');
		}
		k += eneg ? -x : x;
	}
	if (FLT_EVAL_METHOD != 0 || m > (uint64_t)1 << 53 || k < -22 ||
	    k > 22)
		goto slow;
	d = (double)m;
	d = k < 0 ? d / exact_tens[-k] : d * exact_tens[k];
	return neg ? -d : d;
slow:
	t = n < sizeof(small) ? small : xmalloc(n + 1);
	memcpy(t, s, n);
	t[n] = '\0';
	d = strtod(t, NULL);
	if (t != small)
		free(t);
	return d;
}

/* A number's value as json_number_value gives it. */
static double number_of(const struct val *v)
{
	return v->kind == K_INT ? (double)v->i : real_of(v->s, v->n);
}

/* A new entry at the end of v (its contents unset). */
static struct ent *vec_add(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap * 2;

		if (v->e == v->small) {
			v->e = xmalloc(cap * sizeof(*v->e));
			memcpy(v->e, v->small, v->n * sizeof(*v->e));
		} else {
			v->e = xrealloc(v->e, cap * sizeof(*v->e));
		}
		v->cap = cap;
	}
	return &v->e[v->n++];
}

static void vec_init(struct vec *v)
{
	v->e = v->small;
	v->n = 0;
	v->cap = VEC_SMALL;
}

static void vec_free(struct vec *v)
{
	if (v->e != v->small)
		free(v->e);
}

static int note_list(struct rd *r, bool positions, size_t *first,
		     size_t *n);

/* One logprobs position (with its top_logprobs) or one candidate: the
 * object at r->p, checked as skip_value checks it, noted in *out (an
 * entry already in its vector: the vectors may move meanwhile, so out is
 * an index). 0, or -1 with the error set. */
static int note_entry(struct rd *r, bool position, size_t out)
{
	struct val k, v, tok = { .kind = K_NONE }, lp = { .kind = K_NONE };
	size_t top = 0, ntop = 0;
	bool first = true;
	struct ent *e;
	int rc;

	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (position && KEY(&k, "top_logprobs")) {
			top = ntop = 0;
			rc = at(r, '[') ? note_list(r, false, &top, &ntop) :
					  skip_value(r, &v);
		} else {
			rc = skip_value(r, &v);
			if (KEY(&k, "token"))
				tok = v;
			else if (KEY(&k, "logprob"))
				lp = v;
		}
		if (rc < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	e = position ? &r->pos.e[out] : &r->cand.e[out];
	e->tok = tok.kind == K_STRING ? tok : (struct val){ .kind = K_NONE };
	e->has_lp = lp.kind == K_INT || lp.kind == K_REAL;
	e->lp = e->has_lp ? number_of(&lp) : 0;
	e->top = top;
	e->ntop = ntop;
	return 0;
}

/* The array at r->p, checked, noted as positions or candidates: n
 * entries of the vector from *first; an element that is not an object
 * is an entry with neither token nor logprob. 0, or -1 with the error
 * set. */
static int note_list(struct rd *r, bool positions, size_t *first,
		     size_t *n)
{
	struct vec *vec = positions ? &r->pos : &r->cand;
	bool start = true;
	struct val v;
	int rc;

	*first = vec->n;
	*n = 0;
	enter(r);
	while ((rc = next(r, false, &start, NULL)) > 0) {
		struct ent *e = vec_add(vec);
		size_t at_ = vec->n - 1;

		memset(e, 0, sizeof(*e));
		(*n)++;
		if (at(r, '{')) {
			if (note_entry(r, positions, at_) < 0)
				break;
		} else if (skip_value(r, &v) < 0) {
			break;
		}
	}
	return rc != 0 ? -1 : 0;	/* > 0: broke out on an error */
}

/* The object at r->p, a choice's "logprobs": its member "content" (the
 * last one) noted in c->lp and, when wanted and an array, its entries
 * noted (c->list) in the same walk that checks it. */
static int read_logprobs(struct rd *r, struct choice_note *c)
{
	bool first = true;
	struct val k, v;
	int rc;

	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (!KEY(&k, "content")) {
			rc = skip_value(r, &v);
		} else {
			c->list = false;
			if (r->want && at(r, '[')) {
				c->lp.kind = K_ARRAY;
				c->lp.s = r->p;
				rc = note_list(r, true, &c->first, &c->npos);
				c->list = rc == 0;
				c->lp.n = (size_t)(r->p - c->lp.s);
			} else {
				rc = skip_value(r, &c->lp);
			}
		}
		if (rc < 0)
			return -1;
	}
	return rc;
}

static int read_choice(struct rd *r, struct choice_note *c)
{
	bool first = true;
	struct val k, v;
	int rc;

	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (KEY(&k, "message")) {
			c->content.kind = K_NONE;
			rc = at(r, '{') ? pick(r, "content", 7, &c->content) :
					  skip_value(r, &v);
		} else if (KEY(&k, "finish_reason")) {
			rc = skip_value(r, &c->finish);
		} else if (KEY(&k, "logprobs")) {
			c->lp.kind = K_NONE;
			c->list = false;
			rc = at(r, '{') ? read_logprobs(r, c) :
					  skip_value(r, &v);
		} else {
			rc = skip_value(r, &v);
		}
		if (rc < 0)
			return -1;
	}
	return rc;
}

static int read_choices(struct rd *r, struct notes *nt)
{
	bool first = true;
	struct val v;
	size_t i = 0;
	int rc;

	nt->has_choices = false;
	nt->nchoices = 0;
	if (!at(r, '['))
		return skip_value(r, &v);
	enter(r);
	while ((rc = next(r, false, &first, NULL)) > 0) {
		if (i < PROVIDER_MAX_CHOICES) {
			struct choice_note *c = &nt->c[i];

			memset(c, 0, sizeof(*c));
			nt->nchoices = i + 1;
			rc = at(r, '{') ? read_choice(r, c) : skip_value(r, &v);
		} else {
			rc = skip_value(r, &v);
		}
		if (rc < 0)
			return -1;
		i++;
	}
	nt->has_choices = i > 0;
	return rc;
}

static int read_usage(struct rd *r, struct notes *nt)
{
	bool first = true;
	struct val k, v;
	int rc;

	nt->prompt_tokens = nt->completion_tokens = 0;
	if (!at(r, '{'))
		return skip_value(r, &v);
	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (skip_value(r, &v) < 0)
			return -1;
		if (KEY(&k, "prompt_tokens"))
			nt->prompt_tokens = v.kind == K_INT ? v.i : 0;
		else if (KEY(&k, "completion_tokens"))
			nt->completion_tokens = v.kind == K_INT ? v.i : 0;
	}
	return rc;
}

static int read_error(struct rd *r, struct notes *nt)
{
	nt->error_msg.kind = K_NONE;
	if (!at(r, '{'))
		return skip_value(r, &nt->error);
	nt->error.kind = K_OBJECT;
	return pick(r, "message", 7, &nt->error_msg);
}

static int read_root(struct rd *r, struct notes *nt)
{
	bool first = true;
	struct val k, v;
	int rc;

	enter(r);
	while ((rc = next(r, true, &first, &k)) > 0) {
		if (KEY(&k, "choices"))
			rc = read_choices(r, nt);
		else if (KEY(&k, "usage"))
			rc = read_usage(r, nt);
		else if (KEY(&k, "error"))
			rc = read_error(r, nt);
		else
			rc = skip_value(r, &v);
		if (rc < 0)
			return -1;
	}
	return rc;
}

/* ---- after the check: decoding and building ---- */

/* Room for an entry's token, decoded with its NUL. */
static size_t token_room(const struct ent *e)
{
	return e->tok.kind == K_STRING ? e->tok.n + 1 : 0;
}

/* The noted entry e as a chat_logprob whose token is decoded at *a. */
static void lay_entry(const struct ent *e, struct chat_logprob *o, char **a)
{
	o->token = NULL;
	o->token_len = 0;
	if (e->tok.kind == K_STRING) {
		o->token = *a;
		o->token_len = decode(e->tok.s, e->tok.n, *a);
		*a += o->token_len + 1;
	}
	o->logprob = e->lp;
	o->has_logprob = e->has_lp;
	o->ntop = 0;
	o->top = NULL;
}

/* Fill out from the notes of a body that passed. The arena holds, in
 * this order, the chat_logprobs of the choices with a list, their
 * positions, their candidates, then the strings. */
static int fill(struct rd *r, struct notes *nt, bool want_logprobs,
		struct chat_reply *out, struct err *err)
{
	size_t i, need = 0, nlists = 0, npos = 0, ncand = 0;
	struct chat_logprobs *h;
	struct chat_logprob *pe, *ce;
	char *a;

	if (nt->error.kind != K_NONE && nt->error.kind != K_NULL) {
		const struct val *m = nt->error.kind == K_OBJECT ?
				      &nt->error_msg : &nt->error;
		char *t;

		if (m->kind != K_STRING)
			return err_set(err, "error in reply: (no message)");
		t = xmalloc(m->n + 1);
		decode(m->s, m->n, t);
		err_set(err, "error in reply: %s", t);
		free(t);
		return -1;
	}
	if (!nt->has_choices)
		return err_set(err, "reply has no choices");
	for (i = 0; i < nt->nchoices; i++) {
		if (nt->c[i].content.kind != K_STRING)
			return err_set(err, "choices[%zu].message.content is "
				       "not a string", i);
		need += nt->c[i].content.n + 1;
		if (nt->c[i].finish.kind == K_STRING)
			need += nt->c[i].finish.n + 1;
		if (!want_logprobs || !nt->c[i].list)
			continue;
		nlists++;
		for (size_t k = 0; k < nt->c[i].npos; k++) {
			const struct ent *e = &r->pos.e[nt->c[i].first + k];

			npos++;
			need += token_room(e);
			ncand += e->ntop;
			for (size_t t = 0; t < e->ntop; t++)
				need += token_room(&r->cand.e[e->top + t]);
		}
	}
	need += nlists * sizeof(*h) + (npos + ncand) * sizeof(*pe);
	out->arena = xmalloc(need);
	h = (struct chat_logprobs *)(void *)out->arena;
	pe = (struct chat_logprob *)(void *)(h + nlists);
	ce = pe + npos;
	a = (char *)(ce + ncand);
	for (i = 0; i < nt->nchoices; i++) {
		struct choice_note *c = &nt->c[i];

		out->text[i] = a;
		a += decode(c->content.s, c->content.n, a) + 1;
		if (c->finish.kind == K_STRING) {
			out->finish[i] = a;
			a += decode(c->finish.s, c->finish.n, a) + 1;
		}
		if (!want_logprobs || !c->list)	/* lp is an array */
			continue;
		h->n = c->npos;
		h->pos = pe;
		for (size_t k = 0; k < c->npos; k++, pe++) {
			const struct ent *e = &r->pos.e[c->first + k];

			lay_entry(e, pe, &a);
			if (!e->ntop)
				continue;
			pe->top = ce;
			pe->ntop = e->ntop;
			for (size_t t = 0; t < e->ntop; t++)
				lay_entry(&r->cand.e[e->top + t], ce++, &a);
		}
		out->logprobs[i] = h++;
	}
	out->n = nt->nchoices;
	out->usage.prompt_tokens = nt->prompt_tokens;
	out->usage.completion_tokens = nt->completion_tokens;
	return 0;
}

int reply_read_chat(const char *body, size_t len, bool want_logprobs,
		    struct chat_reply *out, struct err *err)
{
	struct rd r = { .p = body, .end = body + len, .start = body,
			.want = want_logprobs };
	struct notes nt;
	struct val v;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&nt, 0, sizeof(nt));
	vec_init(&r.pos);
	vec_init(&r.cand);
	ws(&r);
	if (at(&r, '{'))
		rc = read_root(&r, &nt);
	else if (at(&r, '['))
		rc = skip_value(&r, &v);	/* JSON, but no choices */
	else
		rc = bad(&r, "'[' or '{' expected");
	if (rc == 0) {
		ws(&r);
		if (r.p != r.end)
			rc = bad(&r, "end of file expected");
	}
	if (rc < 0)
		err_set(err, "reply is not JSON: %s at byte %zu", r.why, r.at);
	else
		rc = fill(&r, &nt, want_logprobs, out, err);
	vec_free(&r.pos);
	vec_free(&r.cand);
	if (rc < 0)
		chat_reply_release(out);
	return rc;
}

/* ---- comparing two replies (the differential tests) ---- */

static bool same_str(const char *x, const char *y)
{
	return x == y || (x && y && !strcmp(x, y));
}

/* Are x and y the same entry as the judge reads one: token, logprob and,
 * for a position, each of its candidates? */
static bool same_entry(const struct chat_logprob *x,
		       const struct chat_logprob *y, bool position)
{
	if (!same_str(x->token, y->token) ||
	    x->token_len != y->token_len ||
	    (x->token && strlen(x->token) != x->token_len) ||
	    x->has_logprob != y->has_logprob ||
	    memcmp(&x->logprob, &y->logprob, sizeof(x->logprob)))
		return false;	/* the same bits, -0.0 included */
	if (!position)
		return true;
	if (x->ntop != y->ntop)
		return false;
	for (size_t i = 0; i < x->ntop; i++)
		if (!same_entry(&x->top[i], &y->top[i], false))
			return false;
	return true;
}

/* Record a difference for reply_same; false. */
static bool differ(struct err *why, const char *what, size_t i, size_t j)
{
	err_set(why, "%s differ (choice %zu, position %zu)", what, i, j);
	return false;
}

bool reply_same(const struct chat_reply *a, const struct chat_reply *b,
		bool logprobs, struct err *why)
{
	if (a->n != b->n)
		return differ(why, "choice counts", 0, 0);
	if (a->usage.prompt_tokens != b->usage.prompt_tokens ||
	    a->usage.completion_tokens != b->usage.completion_tokens)
		return differ(why, "usages", 0, 0);
	for (size_t i = 0; i < a->n; i++) {
		const struct chat_logprobs *x = a->logprobs[i];
		const struct chat_logprobs *y = b->logprobs[i];

		if (!same_str(a->text[i], b->text[i]))
			return differ(why, "texts", i, 0);
		if (!same_str(a->finish[i], b->finish[i]))
			return differ(why, "finish reasons", i, 0);
		if (!logprobs)
			continue;
		if (!x != !y || (x && x->n != y->n))
			return differ(why, "logprobs sizes", i, 0);
		for (size_t j = 0; x && j < x->n; j++)
			if (!same_entry(&x->pos[j], &y->pos[j], true))
				return differ(why, "logprobs", i, j);
	}
	return true;
}
