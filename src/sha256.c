/*
 * sha256.c - SHA-256 as specified in FIPS 180-4.
 *
 * Bytes collect in a 64-byte block; each full block goes through the
 * compression function. sha256_final pads with 0x80, zeros and the message
 * length in bits (big-endian), as section 5.1.1 describes.
 */
#include "sha256.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_SHA_NI 1
#endif

/* First 32 bits of the fractional parts of the cube roots of the first 64
 * primes (FIPS 180-4 section 4.2.2). */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5,
	0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
	0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3,
	0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5,
	0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void store_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void compress(uint32_t h[8], const unsigned char *blk)
{
	uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = load_be32(blk + 4 * i);
	for (i = 16; i < 64; i++) {
		uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^
			      (w[i - 15] >> 3);
		uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^
			      (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; k = h[7];
	for (i = 0; i < 64; i++) {
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);

		t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ch +
		     K[i] + w[i];
		t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + maj;
		k = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

#ifdef HAVE_SHA_NI
/*
 * The compression function with the x86 SHA extensions (SHA-NI), where
 * the processor has them: about a fifth of the instructions of the plain
 * one. A journal key (callkey.h) hashes each policy request's body, so
 * this runs for every policy call. The state is kept as the instructions
 * want it (ABEF, CDGH) over the rounds; each sha256rnds2 does two rounds
 * with the message words plus K, and sha256msg1 / sha256msg2 extend the
 * message schedule four words at a time:
 *   W[i..i+3] = msg2(msg1(W[i-16..], W[i-12..]) + W[i-7..i-4], W[i-4..]).
 */
__attribute__((target("sha,sse4.1")))
static void compress_ni(uint32_t h[8], const unsigned char *blk)
{
	const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL,
					    0x0405060700010203LL);
	__m128i t, s0, s1, abef, cdgh, w[4];

	t = _mm_loadu_si128((const __m128i *)&h[0]);	/* DCBA */
	s1 = _mm_loadu_si128((const __m128i *)&h[4]);	/* HGFE */
	t = _mm_shuffle_epi32(t, 0xb1);			/* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1b);		/* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);			/* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xf0);		/* CDGH */
	abef = s0;
	cdgh = s1;
	for (int i = 0; i < 16; i++) {
		__m128i m;

		if (i < 4)
			w[i] = _mm_shuffle_epi8(_mm_loadu_si128(
				(const __m128i *)(blk + 16 * i)), swap);
		else
			w[i % 4] = _mm_sha256msg2_epu32(_mm_add_epi32(
				_mm_sha256msg1_epu32(w[i % 4],
						     w[(i + 1) % 4]),
				_mm_alignr_epi8(w[(i + 3) % 4],
						w[(i + 2) % 4], 4)),
				w[(i + 3) % 4]);
		m = _mm_add_epi32(w[i % 4], _mm_loadu_si128(
			(const __m128i *)&K[4 * i]));
		s1 = _mm_sha256rnds2_epu32(s1, s0, m);
		m = _mm_shuffle_epi32(m, 0x0e);
		s0 = _mm_sha256rnds2_epu32(s0, s1, m);
	}
	s0 = _mm_add_epi32(s0, abef);
	s1 = _mm_add_epi32(s1, cdgh);
	t = _mm_shuffle_epi32(s0, 0x1b);		/* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xb1);		/* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xf0);		/* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);			/* HGFE */
	_mm_storeu_si128((__m128i *)&h[0], s0);
	_mm_storeu_si128((__m128i *)&h[4], s1);
}

/* Has this processor the SHA extensions (and SSSE3 / SSE4.1, which
 * every one of them has)? Asked once; a race only asks twice. */
static bool have_sha_ni(void)
{
	static int known;	/* 0 not asked, 1 no, 2 yes */

	if (!known) {
		__builtin_cpu_init();
		known = __builtin_cpu_supports("sha") &&
			__builtin_cpu_supports("sse4.1") ? 2 : 1;
	}
	return known == 2;
}
#endif

static bool plain_only;

bool sha256_plain(bool on)
{
	bool was = plain_only;

	plain_only = on;
#ifdef HAVE_SHA_NI
	return !have_sha_ni() || was;
#else
	return true;
#endif
}

/* One block into h, the fastest way this processor allows. */
static void compress_block(uint32_t h[8], const unsigned char *blk)
{
#ifdef HAVE_SHA_NI
	if (!plain_only && have_sha_ni()) {
		compress_ni(h, blk);
		return;
	}
#endif
	compress(h, blk);
}

void sha256_init(struct sha256 *s)
{
	/* First 32 bits of the fractional parts of the square roots of the
	 * first 8 primes (section 5.3.3). */
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(s->h, iv, sizeof(iv));
	s->len = 0;
	s->fill = 0;
}

void sha256_update(struct sha256 *s, const void *p, size_t n)
{
	const unsigned char *in = p;

	s->len += n;
	if (s->fill) {
		size_t take = 64 - s->fill;

		if (take > n)
			take = n;
		memcpy(s->block + s->fill, in, take);
		s->fill += take;
		in += take;
		n -= take;
		if (s->fill < 64)
			return;
		compress_block(s->h, s->block);
		s->fill = 0;
	}
	for (; n >= 64; in += 64, n -= 64)
		compress_block(s->h, in);
	if (n) {
		memcpy(s->block, in, n);
		s->fill = n;
	}
}

void sha256_final(struct sha256 *s, unsigned char out[32])
{
	uint64_t bits = s->len * 8;
	int i;

	s->block[s->fill++] = 0x80;
	if (s->fill > 56) {
		memset(s->block + s->fill, 0, 64 - s->fill);
		compress_block(s->h, s->block);
		s->fill = 0;
	}
	memset(s->block + s->fill, 0, 56 - s->fill);
	for (i = 0; i < 8; i++)
		s->block[56 + i] = (unsigned char)(bits >> (56 - 8 * i));
	compress_block(s->h, s->block);
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, s->h[i]);
	s->fill = 0;
}

void sha256_hex(const void *p, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	struct sha256 s;
	unsigned char d[32];
	int i;

	sha256_init(&s);
	sha256_update(&s, p, n);
	sha256_final(&s, d);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}
