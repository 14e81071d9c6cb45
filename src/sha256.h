/* sha256.h - SHA-256 (FIPS 180-4), for constitution and input fingerprints. */
#ifndef CAIGEN_SHA256_H
#define CAIGEN_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[32]);
/* For the tests: on, the plain compression function even where the
 * processor has the SHA extensions. Returns whether the plain one was
 * in use before (true too where there are no extensions). Not
 * thread-safe: call it while nothing hashes. */
bool sha256_plain(bool on);
/* Hex digest of a memory block into hex[65]. */
void sha256_hex(const void *p, size_t n, char hex[65]);

#endif
