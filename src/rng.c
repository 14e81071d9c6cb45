/* rng.c - keyed counter-based draws (see rng.h). */
#include "rng.h"

#include <string.h>

static uint64_t mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define FNV_OFFSET 0xcbf29ce484222325ULL

uint64_t hash64(const void *p, size_t n)
{
	return mix64(fnv1a(FNV_OFFSET, p, n));
}

uint64_t rng_u64(uint64_t seed, const char *id, const char *purpose,
		 uint64_t index)
{
	uint64_t h = mix64(seed ^ FNV_OFFSET);

	/* the NUL separators keep ("ab","c") apart from ("a","bc") */
	h = fnv1a(h, id, strlen(id) + 1);
	h = fnv1a(h, purpose, strlen(purpose) + 1);
	return mix64(h ^ mix64(index));
}

double rng_unit(uint64_t seed, const char *id, const char *purpose,
		uint64_t index)
{
	return (double)(rng_u64(seed, id, purpose, index) >> 11) *
	       (1.0 / 9007199254740992.0);
}

uint64_t rng_stream(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}
