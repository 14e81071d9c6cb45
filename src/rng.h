/*
 * rng.h - counter-based random numbers keyed by (run seed, prompt id,
 * purpose, index).
 *
 * There is no generator state: every draw is a pure function of its key, so
 * the same seed and input give the same draws whatever the thread count,
 * scheduling or shard layout. Purposes are short fixed strings
 * ("principle", "order", "sample-seed", "fence", ...).
 *
 * The hash is 64-bit FNV-1a over the bytes, finished with the splitmix64
 * mixer; it is not cryptographic and need not be.
 */
#ifndef CAIGEN_RNG_H
#define CAIGEN_RNG_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit hash of a byte string (stable across versions: ids, shards and
 * output files depend on it). */
uint64_t hash64(const void *p, size_t n);
/* The keyed draw: a uniform 64-bit value. */
uint64_t rng_u64(uint64_t seed, const char *id, const char *purpose,
		 uint64_t index);
/* The keyed draw as a double in [0, 1). */
double rng_unit(uint64_t seed, const char *id, const char *purpose,
		uint64_t index);
/* A seeded sequential stream (splitmix64) for resampling loops such as
 * bootstraps: the next value after *state, which it advances. */
uint64_t rng_stream(uint64_t *state);

#endif
