/* test_sha256.c - SHA-256 against the FIPS 180-4 example vectors and
 * padding boundaries, one-shot and fed in pieces. */
#include "harness.h"
#include "sha256.h"

#include <stdlib.h>

static void digest_hex(const unsigned char d[32], char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[64] = '\0';
}

static void test_empty(void)
{
	char hex[65];

	sha256_hex("", 0, hex);
	CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb924"
		       "27ae41e4649b934ca495991b7852b855");
}

static void test_abc(void)
{
	char hex[65];

	sha256_hex("abc", 3, hex);
	CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223"
		       "b00361a396177a9cb410ff61f20015ad");
}

static void test_448_bits(void)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnop"
			"nopq";
	char hex[65];

	CHECK(strlen(m) == 56);
	sha256_hex(m, strlen(m), hex);
	CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039"
		       "a33ce45964ff2167f6ecedd419db06c1");
}

static void test_896_bits(void)
{
	const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklm"
			"ghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
			"mnopqrstnopqrstu";
	char hex[65];

	CHECK(strlen(m) == 112);
	sha256_hex(m, strlen(m), hex);
	CHECK_STR(hex, "cf5b16a778af8380036ce59e7b0492370"
		       "b249b11e8f07a51afac45037afee9d1");
}

static void test_million_a(void)
{
	const char *want = "cdc76e5c9914fb9281a1c7e284d73e67"
			   "f1809a48a497200e046d39ccc7112cd0";
	size_t n = 1000000;
	char *m = malloc(n);
	char hex[65];
	unsigned char d[32];
	struct sha256 s;

	memset(m, 'a', n);
	sha256_hex(m, n, hex);
	CHECK_STR(hex, want);

	/* the same fed in uneven pieces (1, 2, ..., 1000 bytes) */
	sha256_init(&s);
	for (size_t off = 0, k = 1; off < n; k = k % 1000 + 1) {
		size_t take = n - off < k ? n - off : k;

		sha256_update(&s, m + off, take);
		off += take;
	}
	sha256_final(&s, d);
	digest_hex(d, hex);
	CHECK_STR(hex, want);
	free(m);
}

/* Lengths around the padding edges: 55 bytes fits the length in one block,
 * 56 needs a second. Expected values from sha256sum. */
static void test_padding_boundaries(void)
{
	static const struct {
		size_t n;
		const char *hex;
	} v[] = {
		{ 55, "9f4390f8d30c2dd92ec9f095b65e2b9a"
		      "e9b0a925a5258e241c9f1e910f734318" },
		{ 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f"
		      "590ce20f1bde7090ef7970686ec6738a" },
		{ 63, "7d3e74a05d7db15bce4ad9ec0658ea98"
		      "e3f06eeecf16b4c6fff2da457ddc2f34" },
		{ 64, "ffe054fe7ae0cb6dc65c3af9b61d5209"
		      "f439851db43d0ba5997337df154668eb" },
		{ 65, "635361c48bb9eab14198e76ea8ab7f1a"
		      "41685d6ad62aa9146d301d4f17eb0ae0" },
		{ 119, "31eba51c313a5c08226adf18d4a359cf"
		      "dfd8d2e816b13f4af952f7ea6584dcfb" },
		{ 120, "2f3d335432c70b580af0e8e1b3674a7c"
		      "020d683aa5f73aaaedfdc55af904c21c" },
		{ 128, "6836cf13bac400e9105071cd6af47084"
		      "dfacad4e5e302c94bfed24e013afb73e" },
	};
	char m[128], hex[65];
	unsigned char d[32];

	memset(m, 'a', sizeof(m));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct sha256 s;

		sha256_hex(m, v[i].n, hex);
		CHECK_STR(hex, v[i].hex);
		/* byte at a time */
		sha256_init(&s);
		for (size_t j = 0; j < v[i].n; j++)
			sha256_update(&s, m + j, 1);
		sha256_final(&s, d);
		digest_hex(d, hex);
		CHECK_STR(hex, v[i].hex);
	}
}

TESTS(T(test_empty), T(test_abc), T(test_448_bits), T(test_896_bits),
      T(test_million_a), T(test_padding_boundaries))
