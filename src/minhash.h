/*
 * minhash.h - words of a prompt, their n-grams, and MinHash signatures.
 *
 * Words: maximal runs of ASCII letters and digits or of non-ASCII bytes
 * (so UTF-8 letters stay inside words); ASCII is lower-cased, everything
 * else (spaces, punctuation, control bytes) separates words. The
 * normalised text is the words joined by one space: "Hello,  WORLD!" and
 * "hello world" are the same text.
 *
 * A shingle is a run of n consecutive words (a text of fewer than n words
 * is one shingle of all its words); each is hashed to 64 bits from its
 * words' hashes, so no string is built. A signature holds, for each of k
 * hash functions (keyed by the seed), the least 32-bit value over the
 * shingles. Two signatures agree at a position with probability equal to
 * the Jaccard similarity of the two shingle sets.
 *
 * Stored signatures keep the low 8 bits of each value ("b-bit MinHash",
 * Li and König 2010): k bytes a prompt. Two unrelated values agree in 8
 * bits with chance 1/256, so the estimate corrects for it:
 * J = (agree - 1/256) / (1 - 1/256), clipped to [0, 1].
 *
 * All functions are pure; a struct minhash is read-only after
 * minhash_init and may be shared between threads.
 */
#ifndef CAIGEN_MINHASH_H
#define CAIGEN_MINHASH_H

#include <stddef.h>
#include <stdint.h>

#define MINHASH_MAX_PERMS 1024

struct minhash {
	int perms;		/* k, a multiple of 8, 8..MINHASH_MAX_PERMS */
	int ngram;		/* words per shingle, >= 1 */
	uint32_t *xa, *ma;	/* per-function keys (owned) */
};

/* A growable list of word hashes, reused from prompt to prompt. */
struct words {
	uint64_t *h;
	size_t n, cap;
};

void minhash_init(struct minhash *m, int perms, int ngram, uint64_t seed);
void minhash_release(struct minhash *m);

/* The word hashes of text[0..len) into w (cleared first). */
void words_split(struct words *w, const char *text, size_t len);
void words_release(struct words *w);
/* Hash of one word's bytes (lower-cased ASCII), as words_split uses. */
uint64_t word_hash(const char *s, size_t n);
/* The normalised text as 128 bits (two independent 64-bit hashes of the
 * word sequence): equal iff the normalised texts are equal, but for a
 * chance of 2^-128. */
void words_key(const struct words *w, uint64_t out[2]);
/* The hash of the n-gram of words w->h[i..i+n). */
uint64_t words_gram(const struct words *w, size_t i, size_t n);

/* The signature of the words' shingles into sig[perms] (32-bit values).
 * No words: every value is UINT32_MAX. */
void minhash_sign(const struct minhash *m, const struct words *w,
		  uint32_t *sig);
/* The distinct 32-bit shingle values of the words (the values the
 * signature is computed from), sorted, into *buf (grown as needed,
 * *cap its size); returns their number. */
size_t minhash_shingles(const struct minhash *m, const struct words *w,
			uint32_t **buf, size_t *cap);
/* The signature of n shingle values (as minhash_shingles gives). */
void minhash_sign_set(const struct minhash *m, const uint32_t *x, size_t n,
		      uint32_t *sig);
/* Exact Jaccard of two sorted sets of distinct values. */
double minhash_jaccard(const uint32_t *a, size_t na, const uint32_t *b,
		       size_t nb);
/* Estimated Jaccard from two stored (8-bit) signatures of k values. */
double minhash_estimate(const uint8_t *a, const uint8_t *b, int k);

#endif
