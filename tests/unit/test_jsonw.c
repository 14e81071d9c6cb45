/* test_jsonw.c - jsonw writes what json_dumps writes, byte for byte. */
#include "harness.h"
#include "jsonw.h"
#include "provider.h"
#include "util.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

static double tens_for_test(int k)
{
	double t = 1;

	while (k-- > 0)
		t *= 10;
	return t;
}

/* Both writers on v at this precision: equal bytes, or both refuse. */
static int same(const json_t *v, int precision)
{
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
				JSON_REAL_PRECISION(precision));
	struct buf b;
	int got, ok;

	buf_init(&b, 1u << 24);
	got = jsonw_value(&b, v, precision);
	ok = want ? got == 0 && !strcmp(want, b.data) : got < 0;
	if (!ok)
		fprintf(stderr, "  jsonw '%s' != json_dumps '%s'\n",
			b.data ? b.data : "", want ? want : "(refused)");
	free(want);
	buf_release(&b);
	return ok;
}

static void test_scalars(void)
{
	static const double reals[] = {
		0, -0.0, 1, -1, 0.1, 0.7, 1.5, 2.5e-7, 1e21, 123456789.0,
		1e100, -3.14159265358979, 5e-324, 1.7976931348623157e308,
		1e5, 1e-5, 100000000000000000000.0, 0.30000000000000004,
	};
	static const int precs[] = { 6, 8, 17 };

	for (size_t i = 0; i < ARRAY_SIZE(reals); i++)
		for (size_t k = 0; k < ARRAY_SIZE(precs); k++) {
			json_t *r = json_real(reals[i]);

			CHECK(same(r, precs[k]));
			json_decref(r);
		}
	for (long long v = -1000000; v <= 1000000; v += 99991) {
		json_t *x = json_integer(v);

		CHECK(same(x, 6));
		json_decref(x);
	}
	/* the edges of the digit loop */
	static const long long edges[] = {
		0, 9, 10, -9, -10, 99, 100, LLONG_MAX, LLONG_MIN,
		LLONG_MIN + 1, 1000000000000000000LL, -999999999999999999LL,
	};
	for (size_t i = 0; i < ARRAY_SIZE(edges); i++) {
		json_t *x = json_integer(edges[i]);

		CHECK(same(x, 6));
		json_decref(x);
	}
}

static void test_strings(void)
{
	static const char *const s[] = {
		"", "plain", "quote \" backslash \\ slash /",
		"\b\f\n\r\t\x01\x1f\x7f", "caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80",
		"</script>", "tab\tand\nnewline",
	};

	for (size_t i = 0; i < ARRAY_SIZE(s); i++) {
		json_t *x = json_string(s[i]);

		CHECK(x && same(x, 6));
		json_decref(x);
	}
}

/* Random trees of every kind of value, many times over. */
static uint64_t st = 88172645463325252ULL;

static uint64_t next(void)
{
	st ^= st << 13;
	st ^= st >> 7;
	st ^= st << 17;
	return st;
}

static json_t *random_value(int depth)
{
	char s[24];
	size_t n;

	switch (next() % (depth > 4 ? 5 : 7)) {
	case 0:
		return json_integer((json_int_t)next());
	case 1: {
		double d;
		uint64_t u = next();

		memcpy(&d, &u, sizeof(d));
		return isfinite(d) ? json_real(d) :
		       json_real((double)(int64_t)u / 7.0);
	}
	case 2:
		n = next() % sizeof(s);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)(next() % 128);	/* ASCII, controls */
		return json_stringn(s, n);
	case 3:
		return next() % 2 ? json_true() : json_null();
	case 4:
		return json_false();
	case 5: {
		json_t *a = json_array();

		for (n = next() % 5; n; n--)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();

		for (n = next() % 5; n; n--) {
			snprintf(s, sizeof(s), "k%u\n\"", (unsigned)(next() % 9));
			json_object_set_new(o, s, random_value(depth + 1));
		}
		return o;
	}
	}
}

static void test_random_trees(void)
{
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		json_t *v = random_value(0);

		bad += !same(v, (int)(next() % 18));
		json_decref(v);
	}
	CHECK(bad == 0);
}

static void test_refuses_nan(void)
{
	struct buf b;

	buf_init(&b, 64);
	CHECK(jsonw_real(&b, NAN, 6) < 0);
	CHECK(jsonw_real(&b, INFINITY, 6) < 0);
	buf_release(&b);
}

/* The request body equals the one jansson built before. */
static void test_chat_body(void)
{
	json_t *msgs = json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "system",
				 "content", "be \"brief\"\n", "role", "user",
				 "content", "caf\xc3\xa9?");
	struct chat_params p = {
		.model = "m", .messages = msgs, .temperature = 0.7,
		.top_p = 0.9, .max_tokens = 5, .n = 2, .has_seed = true,
		.seed = 0xffffffffffULL, .logprobs = true, .top_logprobs = 20,
	};
	json_t *o = json_pack("{s:s,s:O,s:f,s:f,s:i,s:i,s:I,s:b,s:i}",
		"model", "m", "messages", msgs, "temperature", 0.7,
		"top_p", 0.9, "max_tokens", 5, "n", 2, "seed",
		(json_int_t)(0xffffffffffULL & 0x7fffffff), "logprobs", 1,
		"top_logprobs", 20);
	char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	size_t len;
	char *got = provider_chat_body(&p, &len);

	CHECK_STR(got, want);
	CHECK(len == strlen(want));
	free(got);
	free(want);
	p.top_p = 1;
	p.n = 1;
	p.has_seed = false;
	p.logprobs = false;
	json_object_del(o, "top_p");
	json_object_del(o, "n");
	json_object_del(o, "seed");
	json_object_del(o, "logprobs");
	json_object_del(o, "top_logprobs");
	want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));
	got = provider_chat_body(&p, &len);
	CHECK_STR(got, want);
	free(got);
	free(want);
	json_decref(o);
	json_decref(msgs);
}

/* jsonw_utf8 accepts what json_stringn accepts: the edges of every
 * sequence length, then random bytes biased to the high half (runs long
 * enough for the eight-byte path, with a bad byte at any offset). */
static void test_utf8(void)
{
	static const char *const cases[] = {
		"", "plain ascii text, longer than eight", "caf\xc3\xa9",
		"\xc2\x80", "\xc1\xbf", "\xe0\xa0\x80", "\xe0\x9f\xbf",
		"\xed\x9f\xbf", "\xed\xa0\x80", "\xf0\x90\x80\x80",
		"\xf0\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80",
		"\xf5\x80\x80\x80", "\xe2\x82", "abcdefgh\xe2\x82\xac",
		"abcdefg\x80", "\xff", "\xc3", "abcdefghijklmno\xc3",
	};
	uint64_t x = 88172645463325252ULL;
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		json_t *j = json_stringn(cases[i], strlen(cases[i]));

		CHECK(jsonw_utf8(cases[i], strlen(cases[i])) == (j != NULL));
		json_decref(j);
	}
	for (int r = 0; r < 20000; r++) {
		unsigned char t[40];
		size_t n = (size_t)(r % 40);
		json_t *j;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* mostly ASCII, now and then a high byte */
			t[i] = (unsigned char)(x % 8 ? 'a' + x % 26 :
					       0x80 + (x >> 8) % 128);
		}
		j = json_stringn((const char *)t, n);
		if (jsonw_utf8((const char *)t, n) != (j != NULL))
			bad++;
		json_decref(j);
	}
	CHECK(bad == 0);
}

/* Long strings: runs of every length around jsonw_str's chunk (1024
 * bytes; a run past 512 goes to the buffer directly) between escapes,
 * and escape-only stretches; the bytes must be json_dumps's. */
static void test_long_strings(void)
{
	static const size_t runs[] = { 0, 1, 7, 8, 9, 500, 511, 512, 513,
				       1000, 1023, 1024, 1025, 3000 };
	static const char escs[] = { '"', '\\', '\n', '\x01', '\x1f', 'a' };
	uint64_t x = 0x2545F4914F6CDD1DULL;
	char every[128 * 3];
	json_t *all;

	for (int c = 0; c < 128; c++) {	/* every ASCII byte, NUL too */
		every[3 * c] = (char)c;
		every[3 * c + 1] = 'q';
		every[3 * c + 2] = (char)c;
	}
	all = json_stringn(every, sizeof(every));
	CHECK(all && same(all, 6));
	json_decref(all);
	for (size_t r = 0; r < ARRAY_SIZE(runs); r++)
		for (size_t e = 0; e < ARRAY_SIZE(escs); e++) {
			size_t n = 0;
			char *t = xmalloc(4 * (runs[r] + 3) + 1200);
			json_t *v;

			for (int rep = 0; rep < 4; rep++) {
				memset(t + n, 'x', runs[r]);
				n += runs[r];
				t[n++] = escs[e];
			}
			for (int k = 0; k < 1100; k++)	/* escapes only */
				t[n++] = escs[k % ARRAY_SIZE(escs)];
			v = json_stringn(t, n);
			CHECK(v && same(v, 6));
			json_decref(v);
			free(t);
		}
	for (int r = 0; r < 300; r++) {
		size_t n = (size_t)(r * 37 % 5000);
		char *t = xmalloc(n + 1);
		json_t *v;

		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			t[i] = x % 5 == 0 ? escs[x % ARRAY_SIZE(escs)] :
			       (char)('a' + x % 26);
		}
		v = json_stringn(t, n);
		CHECK(v && same(v, 6));
		json_decref(v);
		free(t);
	}
}

/* A buffer's ceiling: refused exactly when the written string would not
 * fit, whatever the chunks. */
static void test_string_ceiling(void)
{
	char t[3000];
	struct buf b;

	for (size_t i = 0; i < sizeof(t); i++)
		t[i] = i % 3 ? 'y' : '"';
	/* 2 quotes + 2000 plain + 1000 escaped as two bytes = 4002 */
	for (size_t max = 3990; max <= 4010; max++) {
		buf_init(&b, max);
		CHECK((jsonw_str(&b, t, sizeof(t)) == 0) == (max >= 4002));
		buf_release(&b);
	}
}

/* Reals at the precisions jsonw_real writes without snprintf (1-9):
 * random bits, short decimals such as logprobs, halves and other ties,
 * the powers of ten around the fixed / exponent switch, and values whose
 * rounding carries into a new digit. All must be json_dumps's bytes. */
static void test_reals_fast(void)
{
	static const double edge[] = {
		0.0, 0.5, 1.5, 2.5, 0.125, 0.375, 1e-5, 1e-4, 9.9999e-5, 1e9,
		999999999.5, 99999.95, 0.99999999, 9.5, 0.95, 0.015, 1e16,
		123456789, 12345678.9, 1e-20, 1e22, 1e23, 5e-324,
		0.80198095, -0.21067839, -1.6094, 0.1, 0.2, 0.3, 0.7,
		4503599627370496.5, 9007199254740993.0, 1e300, 1e-300,
	};
	uint64_t x = 0xdeadbeefcafef00dULL;
	int bad = 0;

	for (int p = 1; p <= 9; p++)
		for (size_t i = 0; i < ARRAY_SIZE(edge); i++)
			for (int sg = 0; sg < 2; sg++) {
				json_t *r = json_real(sg ? -edge[i] : edge[i]);

				bad += !same(r, p);
				json_decref(r);
			}
	for (int r = 0; r < 60000; r++) {
		double d;
		json_t *v;
		int p = r % 9 + 1;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch (r % 4) {
		case 0:		/* any bits */
			memcpy(&d, &x, sizeof(d));
			if (!isfinite(d))
				continue;
			break;
		case 1:		/* a logprob */
			d = -(double)(x % 100000000) / 1e4;
			break;
		case 2:		/* p digits and a five: near a tie */
			d = ((double)(x % 1000000000) + 0.5) /
			    tens_for_test((int)(x >> 40) % 15);
			break;
		default:	/* a probability */
			d = (double)(x >> 11) / 9007199254740992.0;
		}
		v = json_real(d);
		bad += !same(v, p);
		json_decref(v);
	}
	CHECK(bad == 0);
}

TESTS(T(test_scalars), T(test_strings), T(test_random_trees),
      T(test_refuses_nan), T(test_chat_body), T(test_utf8),
      T(test_long_strings), T(test_string_ceiling),
      T(test_reals_fast))
