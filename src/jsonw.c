/* jsonw.c - compact JSON output into a buffer, as jansson writes it. */
#include "jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Does any of the 8 bytes at p need an escape ('"', '\\', < 0x20)? The
 * classic has-zero-byte test on x ^ byte and on x - 0x20 (ASCII bytes
 * only: a byte >= 0x80 never needs one, and is masked out). Nonzero: the
 * high bit of each byte flagged. A borrow only runs upward from a byte
 * flagged rightly, so the lowest flag is exact: on a little-endian
 * machine, the first byte that needs one. */
static uint64_t needs_escape8(const char *p)
{
	const uint64_t ones = 0x0101010101010101ULL;
	const uint64_t high = 0x8080808080808080ULL;
	uint64_t x, q, bs, lo;

	memcpy(&x, p, 8);
	q = x ^ (ones * '"');
	bs = x ^ (ones * '\\');
	lo = x;
	return (((q - ones) & ~q) | ((bs - ones) & ~bs) |
		((lo - ones * 0x20) & ~lo)) & high;
}

size_t jsonw_utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0xc2 || c > 0xf4)
		return 0;
	n = c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;	/* overlong */
	else if (c == 0xed)
		hi = 0x9f;	/* surrogates */
	else if (c == 0xf0)
		lo = 0x90;	/* overlong */
	else if (c == 0xf4)
		hi = 0x8f;	/* above U+10FFFF */
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

bool jsonw_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;

	while (p < end) {
		size_t k;
		uint64_t x;

		if ((size_t)(end - p) >= 8) {
			memcpy(&x, p, 8);
			if (!(x & 0x8080808080808080ULL)) {
				p += 8;
				continue;
			}
		}
		if (*p < 0x80) {
			p++;
			continue;
		}
		if (!(k = jsonw_utf8_len(p, end)))
			return false;
		p += k;
	}
	return true;
}

/*
 * jsonw_str's output gathers in a chunk on the stack and goes to the
 * buffer a chunk at a time: a reply kept in the journal is mostly short
 * runs between quotes, and two buf_add calls an escape were most of the
 * cost of writing it. escape_of[c]: 0 for a byte written as it is, else
 * the letter after the backslash ('u': \u00XX).
 */
static const char escape_of[256] = {
	['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
	[0] = 'u', [1] = 'u', [2] = 'u', [3] = 'u', [4] = 'u', [5] = 'u',
	[6] = 'u', [7] = 'u', [11] = 'u', [14] = 'u', [15] = 'u', [16] = 'u',
	[17] = 'u', [18] = 'u', [19] = 'u', [20] = 'u', [21] = 'u',
	[22] = 'u', [23] = 'u', [24] = 'u', [25] = 'u', [26] = 'u',
	[27] = 'u', [28] = 'u', [29] = 'u', [30] = 'u', [31] = 'u',
	['"'] = '"', ['\\'] = '\\',
};

#define CHUNK 1024

int jsonw_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	char t[CHUNK];
	size_t tn = 1, run = 0, i = 0;

	t[0] = '"';
	for (;;) {
		size_t len;
		unsigned char ch;
		char e;

		/* eight bytes at a time while none needs escaping */
		for (;;) {
			uint64_t m;

			if (i + 8 > n) {
				while (i < n && !escape_of[u[i]])
					i++;
				break;
			}
			m = needs_escape8(s + i);
			if (!m) {
				i += 8;
				continue;
			}
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			i += (size_t)__builtin_ctzll(m) >> 3;
#else
			while (!escape_of[u[i]])
				i++;
#endif
			break;
		}
		len = i - run;
		if (len > CHUNK / 2) {	/* a long run: no copy in between */
			if (buf_add(b, t, tn) < 0 ||
			    buf_add(b, s + run, len) < 0)
				return -1;
			tn = 0;
		} else if (len) {
			if (tn + len > CHUNK) {
				if (buf_add(b, t, tn) < 0)
					return -1;
				tn = 0;
			}
			memcpy(t + tn, s + run, len);
			tn += len;
		}
		if (i >= n)
			break;
		if (tn + 6 > CHUNK) {
			if (buf_add(b, t, tn) < 0)
				return -1;
			tn = 0;
		}
		ch = u[i];
		e = escape_of[ch];
		run = ++i;
		t[tn++] = '\\';
		t[tn++] = e;
		if (e == 'u') {
			t[tn++] = '0';
			t[tn++] = '0';
			t[tn++] = hex[ch >> 4];
			t[tn++] = hex[ch & 15];
		}
	}
	if (tn + 1 > CHUNK) {
		if (buf_add(b, t, tn) < 0)
			return -1;
		tn = 0;
	}
	t[tn++] = '"';
	return buf_add(b, t, tn);
}

int jsonw_cstr(struct buf *b, const char *s)
{
	return jsonw_str(b, s, strlen(s));
}

/* 10^0 .. 10^22: every one exact in a double. */
static const double tens[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/*
 * "%.*g" of d at precision p (1..9) without snprintf (which was 1,900
 * instructions a real, 4 % of a run: a record holds a dozen), the same
 * bytes, or 0 when this cannot be sure of them (snprintf then writes it).
 * glibc rounds the exact value of d to p digits, ties to even. Here
 * s = |d| * 10^k (k = p - 1 - the decimal exponent, |k| <= 22 so 10^|k| is
 * exact) is off the exact product by one rounding, under 10^9 * 2^-53 =
 * 1.2e-7 (also where x87 is emulated in doubles, as under valgrind); so
 * rounding s to an integer is the right rounding unless s lies within
 * 1e-4 of a half, a tie included: then 0.
 */
static int fast_g(char *t, double d, int p)
{
	double a = fabs(d), s, f;
	long long D, lo, hi;
	int x, k, n = 0, len;
	char dig[20];

	if (p < 1 || p > 9)
		return 0;
	if (a == 0) {		/* "0", "-0" */
		t[n] = '-';
		n = signbit(d) ? 1 : 0;
		t[n++] = '0';
		t[n] = '\0';
		return n;
	}
	if (!(a >= 1e-300 && a < 1e300))
		return 0;
	x = (int)floor(log10(a));
	for (int tries = 0;; tries++) {
		k = p - 1 - x;
		if (k < -22 || k > 22 || tries == 2)
			return 0;
		s = k >= 0 ? a * tens[k] : a / tens[-k];
		lo = (long long)tens[p - 1];
		hi = (long long)tens[p];
		if (s < (double)lo - 0.5)
			x--;	/* log10 said one too many */
		else if (s >= (double)hi)
			x++;
		else
			break;
	}
	f = s - floor(s);
	if (fabs(f - 0.5) < 1e-4)
		return 0;
	D = (long long)floor(s) + (f > 0.5);
	if (D >= hi) {		/* 9.99...95 up to 10.0...0 */
		D /= 10;
		x++;
	}
	if (D < lo)
		return 0;
	for (len = 0; len < p; len++, D /= 10)
		dig[p - 1 - len] = (char)('0' + D % 10);
	while (len > 1 && dig[len - 1] == '0')
		len--;		/* %g drops trailing zeros */
	if (d < 0)
		t[n++] = '-';
	if (x < -4 || x >= p) {
		t[n++] = dig[0];
		if (len > 1) {
			t[n++] = '.';
			memcpy(t + n, dig + 1, (size_t)len - 1);
			n += len - 1;
		}
		n += sprintf(t + n, "e%c%02d", x < 0 ? '-' : '+', abs(x));
	} else if (x >= 0) {
		for (int i = 0; i <= x; i++)
			t[n++] = i < len ? dig[i] : '0';
		if (len > x + 1) {
			t[n++] = '.';
			memcpy(t + n, dig + x + 1, (size_t)(len - x - 1));
			n += len - x - 1;
		}
	} else {
		t[n++] = '0';
		t[n++] = '.';
		for (int i = 0; i < -x - 1; i++)
			t[n++] = '0';
		memcpy(t + n, dig, (size_t)len);
		n += len;
	}
	t[n] = '\0';
	return n;
}

int jsonw_real(struct buf *b, double d, int precision)
{
	char t[64];
	int n;
	char *e;

	if (!isfinite(d))
		return -1;
	n = fast_g(t, d, precision);
	if (!n)
		n = snprintf(t, sizeof(t), "%.*g",
			     precision ? precision : 17, d);
	if (n < 0 || (size_t)n + 3 >= sizeof(t))
		return -1;
	if (!strchr(t, '.') && !strchr(t, 'e')) {
		memcpy(t + n, ".0", 3);
		n += 2;
	}
	e = strchr(t, 'e');
	if (e) {	/* "1e+05" -> "1e5", "1e-05" -> "1e-5" */
		char *start = e + 1, *end = e + 2;

		if (*start == '-')
			start++;
		while (*end == '0')
			end++;
		if (end != start) {
			memmove(start, end, (size_t)(t + n - end) + 1);
			n -= (int)(end - start);
		}
	}
	return buf_add(b, t, (size_t)n);
}

/* "%lld" by hand: snprintf cost a tenth of a record's writing */
int jsonw_int(struct buf *b, long long v)
{
	char t[24], *e = t + sizeof(t), *p = e;
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
				       (unsigned long long)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	return buf_add(b, p, (size_t)(e - p));
}

int jsonw_value(struct buf *b, const json_t *v, int precision)
{
	size_t i, n;
	const char *k;
	json_t *x;
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (buf_add(b, "{", 1) < 0)
			return -1;
		i = 0;
		json_object_foreach((json_t *)v, k, x) {
			if ((i++ && buf_add(b, ",", 1) < 0) ||
			    jsonw_cstr(b, k) < 0 || buf_add(b, ":", 1) < 0 ||
			    jsonw_value(b, x, precision) < 0)
				return -1;
		}
		return buf_add(b, "}", 1);
	case JSON_ARRAY:
		if (buf_add(b, "[", 1) < 0)
			return -1;
		n = json_array_size(v);
		for (i = 0; i < n && rc == 0; i++)
			rc = (i && buf_add(b, ",", 1) < 0) ||
			     jsonw_value(b, json_array_get(v, i),
					 precision) < 0 ? -1 : 0;
		return rc < 0 ? -1 : buf_add(b, "]", 1);
	case JSON_STRING:
		return jsonw_str(b, json_string_value(v),
				 json_string_length(v));
	case JSON_INTEGER:
		return jsonw_int(b, (long long)json_integer_value(v));
	case JSON_REAL:
		return jsonw_real(b, json_real_value(v), precision);
	case JSON_TRUE:
		return buf_add(b, "true", 4);
	case JSON_FALSE:
		return buf_add(b, "false", 5);
	case JSON_NULL:
		return buf_add(b, "null", 4);
	}
	return -1;
}
