/*
 * test_sha256_paths.c - sha256.c has two compression functions: the x86
 * SHA extensions where the processor has them, the plain one elsewhere.
 * Both must give the FIPS 180-4 digests and the same digest as each other
 * on messages of every length around the block edges, fed whole and in
 * pieces.
 */
#include "harness.h"

#include "sha256.h"
#include "util.h"

#include <stdlib.h>

/* hex of p[0..n), fed in pieces of `step` bytes (0: whole) */
static void digest(const unsigned char *p, size_t n, size_t step,
		   char hex[65])
{
	struct sha256 s;
	unsigned char out[32];

	sha256_init(&s);
	if (!step)
		step = n ? n : 1;
	for (size_t i = 0; i < n; i += step)
		sha256_update(&s, p + i, n - i < step ? n - i : step);
	sha256_final(&s, out);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", out[i]);
}

static void test_vectors_both(void)
{
	static const struct {
		const char *msg, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb924"
		      "27ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223"
			 "b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039"
		  "a33ce45964ff2167f6ecedd419db06c1" },
	};
	char hex[65];

	for (int plain = 0; plain < 2; plain++) {
		sha256_plain(plain);
		for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
			sha256_hex(v[i].msg, strlen(v[i].msg), hex);
			CHECK_STR(hex, v[i].hex);
		}
	}
	sha256_plain(false);
}

static void test_paths_agree(void)
{
	unsigned char *m = xmalloc(4200);
	uint64_t x = 0x853c49e6748fea9bULL;
	char a[65], b[65];
	int bad = 0;

	for (size_t i = 0; i < 4200; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		m[i] = (unsigned char)x;
	}
	for (size_t n = 0; n < 4200; n += n < 200 ? 1 : 61) {
		sha256_plain(true);
		digest(m, n, 0, a);
		sha256_plain(false);
		digest(m, n, n % 7 + 1, b);
		if (strcmp(a, b) && bad++ < 3)
			fprintf(stderr, "  length %zu: %s != %s\n", n, a, b);
	}
	CHECK(bad == 0);
	free(m);
}

TESTS(T(test_vectors_both), T(test_paths_agree))
