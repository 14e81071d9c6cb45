/*
 * minhash.c - words, shingles and signatures (see minhash.h).
 *
 * DESIGN
 * Each of the k functions is h(x) = f((x32 ^ xa[i]) * ma[i]) with f a
 * xorshift-multiply finaliser in 32 bits and ma[i] odd: a keyed bijection
 * of the 32-bit shingle hash, so distinct shingles keep distinct values.
 * The inner loop runs over the k functions for one shingle with only
 * 32-bit lanes, which the compiler turns into SIMD code; that loop is
 * nearly all of dedup's time.
 */
#include "minhash.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void minhash_init(struct minhash *m, int perms, int ngram, uint64_t seed)
{
	m->perms = perms;
	m->ngram = ngram < 1 ? 1 : ngram;
	m->xa = xmalloc(sizeof(uint32_t) * (size_t)perms);
	m->ma = xmalloc(sizeof(uint32_t) * (size_t)perms);
	for (int i = 0; i < perms; i++) {
		uint64_t r = mix64(seed * 0x2545f4914f6cdd1dULL + (uint64_t)i);

		m->xa[i] = (uint32_t)r;
		m->ma[i] = (uint32_t)(r >> 32) | 1u;
	}
}

void minhash_release(struct minhash *m)
{
	free(m->xa);
	free(m->ma);
	m->xa = m->ma = NULL;
}

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

uint64_t word_hash(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		h ^= c;
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

void words_split(struct words *w, const char *text, size_t len)
{
	size_t i = 0;

	w->n = 0;
	while (i < len) {
		size_t s;

		while (i < len && !word_byte((unsigned char)text[i]))
			i++;
		if (i >= len)
			break;
		s = i;
		while (i < len && word_byte((unsigned char)text[i]))
			i++;
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 64;
			w->h = xrealloc(w->h, w->cap * sizeof(*w->h));
		}
		w->h[w->n++] = word_hash(text + s, i - s);
	}
}

void words_release(struct words *w)
{
	free(w->h);
	memset(w, 0, sizeof(*w));
}

void words_key(const struct words *w, uint64_t out[2])
{
	uint64_t a = 0x243f6a8885a308d3ULL, b = 0x13198a2e03707344ULL;

	for (size_t i = 0; i < w->n; i++) {
		a = mix64(a ^ w->h[i]);
		b = (b ^ (w->h[i] >> 7)) * 0x9fb21c651e98df25ULL + 1;
		b ^= b >> 29;
	}
	out[0] = mix64(a ^ w->n);
	out[1] = mix64(b + w->n);
}

uint64_t words_gram(const struct words *w, size_t i, size_t n)
{
	uint64_t g = 0x452821e638d01377ULL ^ n;

	for (size_t j = 0; j < n; j++)
		g = (g ^ w->h[i + j]) * 0x100000001b3ULL + (g >> 31);
	return mix64(g);
}

static inline uint32_t fmix(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

/* One shingle into the running minimum: the hot loop. On x86-64 with
 * GCC or clang it is built twice, for AVX2 and for the baseline, and the
 * loader picks the one the CPU runs (the results are the same). */
#if defined(__x86_64__) && (defined(__clang__) || __GNUC__ >= 6) && \
	!defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
__attribute__((target_clones("avx2", "default")))
#endif
static void sign_one(const struct minhash *m, uint32_t x,
		     uint32_t *restrict sig)
{
	const uint32_t *restrict xa = m->xa, *restrict ma = m->ma;
	int k = m->perms;

	for (int i = 0; i < k; i++) {
		uint32_t v = fmix((x ^ xa[i]) * ma[i]);

		sig[i] = v < sig[i] ? v : sig[i];
	}
}

void minhash_sign(const struct minhash *m, const struct words *w,
		  uint32_t *sig)
{
	size_t n = (size_t)m->ngram;

	for (int i = 0; i < m->perms; i++)
		sig[i] = UINT32_MAX;
	if (w->n == 0)
		return;
	if (w->n <= n) {
		uint64_t g = words_gram(w, 0, w->n);

		sign_one(m, (uint32_t)(g ^ (g >> 32)), sig);
		return;
	}
	for (size_t i = 0; i + n <= w->n; i++) {
		uint64_t g = words_gram(w, i, n);

		sign_one(m, (uint32_t)(g ^ (g >> 32)), sig);
	}
}

static int cmp32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

size_t minhash_shingles(const struct minhash *m, const struct words *w,
			uint32_t **buf, size_t *cap)
{
	size_t n = (size_t)m->ngram, k = 0, out = 0;
	size_t want = w->n <= n ? 1 : w->n - n + 1;

	if (w->n == 0)
		return 0;
	if (want > *cap) {
		*cap = want * 2;
		*buf = xrealloc(*buf, *cap * sizeof(uint32_t));
	}
	if (w->n <= n) {
		uint64_t g = words_gram(w, 0, w->n);

		(*buf)[k++] = (uint32_t)(g ^ (g >> 32));
	} else {
		for (size_t i = 0; i + n <= w->n; i++) {
			uint64_t g = words_gram(w, i, n);

			(*buf)[k++] = (uint32_t)(g ^ (g >> 32));
		}
	}
	qsort(*buf, k, sizeof(uint32_t), cmp32);
	for (size_t i = 0; i < k; i++)
		if (!out || (*buf)[out - 1] != (*buf)[i])
			(*buf)[out++] = (*buf)[i];
	return out;
}

void minhash_sign_set(const struct minhash *m, const uint32_t *x, size_t n,
		      uint32_t *sig)
{
	for (int i = 0; i < m->perms; i++)
		sig[i] = UINT32_MAX;
	for (size_t i = 0; i < n; i++)
		sign_one(m, x[i], sig);
}

double minhash_jaccard(const uint32_t *a, size_t na, const uint32_t *b,
		       size_t nb)
{
	size_t i = 0, j = 0, same = 0;

	if (na + nb == 0)
		return 1;
	while (i < na && j < nb) {
		if (a[i] == b[j]) {
			same++;
			i++;
			j++;
		} else if (a[i] < b[j]) {
			i++;
		} else {
			j++;
		}
	}
	return (double)same / (double)(na + nb - same);
}

double minhash_estimate(const uint8_t *a, const uint8_t *b, int k)
{
	int same = 0;
	double p, j;

	for (int i = 0; i < k; i++)
		same += a[i] == b[i];
	p = (double)same / k;
	j = (p - 1.0 / 256) / (1.0 - 1.0 / 256);
	return j < 0 ? 0 : j > 1 ? 1 : j;
}
