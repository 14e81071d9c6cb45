/*
 * idset.h - a set of 64-bit id hashes.
 *
 * Used for "ids already written" on resume and "ids seen" in the input
 * (duplicate ids are refused: a per-prompt set for the whole run). Stores
 * hashes, not strings: a sorted array of the older ones and a small hash
 * table of the recent ones, merged into the array when it fills
 * (idset.c), 8 bytes an id plus at most 1/8: a million ids cost 9 MB
 * (a table kept under half full took 16-32 bytes an id). Two different
 * ids colliding in 64 bits is ignored (about 1 in 10^7 for a billion
 * pairs). Not thread-safe.
 */
#ifndef CAIGEN_IDSET_H
#define CAIGEN_IDSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* slot[0, cap) holds every element (0 = empty; a hash of 0 is stored as
 * 1): the sorted array slot[0, nsorted), then the table of tcap slots. */
struct idset {
	uint64_t *slot;
	size_t cap;	/* nsorted + tcap */
	size_t n;	/* elements */
	size_t nsorted;	/* elements in the sorted array */
	size_t tcap;	/* slots of the table (a power of two) */
	size_t tn;	/* elements in the table */
	size_t bytes;	/* mapped for slot */
};

void idset_init(struct idset *s);
void idset_release(struct idset *s);
/* true if added, false if it was already there. */
bool idset_add(struct idset *s, uint64_t h);
bool idset_has(const struct idset *s, uint64_t h);
/* Hash an id string the way every set user must. */
uint64_t idset_hash(const char *id);

/*
 * A map from 64-bit id hashes to a 64-bit value (the line where an id was
 * first seen, for reports that name both lines). 16 bytes per slot, load
 * under 1/2: 32 MiB per million ids. Growing holds the old and the new
 * table for a moment. Not thread-safe.
 */
struct idmap {
	uint64_t *key;	/* 0 = empty; a hash of 0 is stored as 1 */
	uint64_t *val;
	size_t cap;	/* power of two */
	size_t n;
};

void idmap_init(struct idmap *m);
void idmap_release(struct idmap *m);
/* Add h -> v and return true; if h is there already, leave its value,
 * store it in *old (may be NULL) and return false. */
bool idmap_put(struct idmap *m, uint64_t h, uint64_t v, uint64_t *old);
bool idmap_has(const struct idmap *m, uint64_t h);
/* The value of h in *v; false (and *v untouched) if h is not there. */
bool idmap_get(const struct idmap *m, uint64_t h, uint64_t *v);
/* h -> v, added or replaced. */
void idmap_set(struct idmap *m, uint64_t h, uint64_t v);

#endif
