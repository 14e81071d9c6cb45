/* idset.c - open-addressing set of 64-bit hashes, and a map of them. */
#include "idset.h"
#include "rng.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * The set is one mapping of 8-byte slots: a sorted array of the older
 * hashes, then a small hash table of the recent ones (linear probing, at
 * most half full). When the table fills, its hashes are sorted and merged
 * into the array from the back (in place: the mapping grows with mremap,
 * which moves pages, not bytes), and a new empty table follows the array.
 * The table has at least 1/16 of the array's size (and TABLE_MIN slots),
 * so each merge adds at least 1/32 to the array: merging costs about 32
 * moves an id in all, and the set takes 8 bytes an id plus at most 1/8.
 * A lookup is an interpolation search of the array (the hashes are
 * uniform: a few probes) and a probe of the table.
 *
 * The mapping is anonymous memory of our own, not malloc's: a set of a
 * million ids is 8 MB that glibc would put in its heap once its mmap
 * threshold has risen, where growing it copies and the old block stays
 * resident.
 */
#define TABLE_MIN 1024

static size_t page_round(size_t bytes)
{
	static size_t page;

	if (!page) {
		long p = sysconf(_SC_PAGESIZE);

		page = p > 0 ? (size_t)p : 4096;
	}
	return (bytes + page - 1) / page * page;
}

static void *mapping(void *old, size_t old_bytes, size_t bytes)
{
	void *p;

	if (!old)
		p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	else
		p = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		fprintf(stderr, "caigen: out of memory (mapping %zu bytes)\n",
			bytes);
		exit(2);
	}
	return p;
}

void idset_init(struct idset *s)
{
	memset(s, 0, sizeof(*s));
}

void idset_release(struct idset *s)
{
	if (s->slot)
		munmap(s->slot, s->bytes);
	idset_init(s);
}

uint64_t idset_hash(const char *id)
{
	return hash64(id, strlen(id));
}

/* The table's slot for h: Fibonacci hashing of all its bits (ids whose
 * hashes share their low bits do not pile up). */
static size_t table_home(uint64_t h, size_t tcap)
{
	return (size_t)((h * 0x9e3779b97f4a7c15ULL) >>
			(64 - __builtin_ctzll((unsigned long long)tcap)));
}

static bool table_has(const uint64_t *t, size_t tcap, uint64_t h)
{
	for (size_t i = table_home(h, tcap); t[i]; i = (i + 1) & (tcap - 1))
		if (t[i] == h)
			return true;
	return false;
}

/* Interpolation search, every other probe a bisection, so a skewed array
 * costs at most twice a binary search. */
static bool sorted_has(const uint64_t *a, size_t n, uint64_t h)
{
	size_t lo = 0, hi = n;	/* h can only be in [lo, hi) */
	bool interp = true;

	if (!n || h < a[0] || h > a[n - 1])
		return false;
	while (hi - lo > 8) {
		size_t mid = lo + (hi - lo) / 2;

		if (interp) {
			uint64_t a0 = a[lo], a1 = a[hi - 1];

			if (h < a0 || h > a1)
				return false;
			mid = lo + (size_t)((double)(h - a0) /
					    (double)(a1 - a0 ? a1 - a0 : 1) *
					    (double)(hi - 1 - lo));
			if (mid >= hi)
				mid = hi - 1;
		}
		interp = !interp;
		if (a[mid] == h)
			return true;
		if (a[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < hi && a[lo] <= h; lo++)
		if (a[lo] == h)
			return true;
	return false;
}

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return a < b ? -1 : a > b;
}

/* The table is full (or there is none yet): merge it into the array and
 * start an empty one after it. */
static void merge(struct idset *s)
{
	size_t nd = 0, ns = s->nsorted, tcap, bytes;
	uint64_t *t = s->slot ? s->slot + ns : NULL, *d;

	d = xmalloc((s->tn ? s->tn : 1) * sizeof(*d));
	for (size_t i = 0; i < s->tcap; i++)
		if (t[i])
			d[nd++] = t[i];
	qsort(d, nd, sizeof(*d), cmp_u64);
	tcap = TABLE_MIN;
	while (tcap < (ns + nd) / 16)
		tcap *= 2;
	bytes = page_round((ns + nd + tcap) * sizeof(uint64_t));
	if (bytes != s->bytes) {
		s->slot = mapping(s->slot, s->bytes, bytes);
		s->bytes = bytes;
	}
	/* from the back: a slot written is at or after every array slot
	 * not yet read, and the table's slots were read into d */
	for (size_t i = ns, j = nd, k = ns + nd; j > 0;) {
		if (i > 0 && s->slot[i - 1] > d[j - 1])
			s->slot[--k] = s->slot[--i];
		else
			s->slot[--k] = d[--j];
	}
	free(d);
	s->nsorted = ns + nd;
	memset(s->slot + s->nsorted, 0, tcap * sizeof(uint64_t));
	s->tcap = tcap;
	s->tn = 0;
	s->cap = s->nsorted + tcap;
}

bool idset_add(struct idset *s, uint64_t h)
{
	uint64_t *t;
	size_t i;

	if (!h)
		h = 1;
	if (idset_has(s, h))
		return false;
	if (2 * (s->tn + 1) > s->tcap)
		merge(s);
	t = s->slot + s->nsorted;
	for (i = table_home(h, s->tcap); t[i]; i = (i + 1) & (s->tcap - 1))
		;
	t[i] = h;
	s->tn++;
	s->n++;
	return true;
}

bool idset_has(const struct idset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (!s->cap)
		return false;
	return table_has(s->slot + s->nsorted, s->tcap, h) ||
	       sorted_has(s->slot, s->nsorted, h);
}

/* ---- idmap ---------------------------------------------------------- */

void idmap_init(struct idmap *m)
{
	m->key = NULL;
	m->val = NULL;
	m->cap = 0;
	m->n = 0;
}

void idmap_release(struct idmap *m)
{
	free(m->key);
	free(m->val);
	idmap_init(m);
}

/* The slot of h, or the empty slot where it would go. */
static size_t map_slot(const uint64_t *key, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (key[i] && key[i] != h)
		i = (i + 1) & (cap - 1);
	return i;
}

static void map_grow(struct idmap *m)
{
	size_t cap = m->cap ? 2 * m->cap : 1024;
	uint64_t *key = xcalloc(cap, sizeof(*key));
	uint64_t *val = xmalloc(cap * sizeof(*val));

	for (size_t i = 0; i < m->cap; i++) {
		if (m->key[i]) {
			size_t j = map_slot(key, cap, m->key[i]);

			key[j] = m->key[i];
			val[j] = m->val[i];
		}
	}
	free(m->key);
	free(m->val);
	m->key = key;
	m->val = val;
	m->cap = cap;
}

bool idmap_put(struct idmap *m, uint64_t h, uint64_t v, uint64_t *old)
{
	size_t i;

	if (!h)
		h = 1;
	if (2 * (m->n + 1) > m->cap)
		map_grow(m);
	i = map_slot(m->key, m->cap, h);
	if (m->key[i]) {
		if (old)
			*old = m->val[i];
		return false;
	}
	m->key[i] = h;
	m->val[i] = v;
	m->n++;
	return true;
}

bool idmap_has(const struct idmap *m, uint64_t h)
{
	if (!h)
		h = 1;
	return m->cap && m->key[map_slot(m->key, m->cap, h)] == h;
}

bool idmap_get(const struct idmap *m, uint64_t h, uint64_t *v)
{
	size_t i;

	if (!h)
		h = 1;
	if (!m->cap)
		return false;
	i = map_slot(m->key, m->cap, h);
	if (m->key[i] != h)
		return false;
	*v = m->val[i];
	return true;
}

void idmap_set(struct idmap *m, uint64_t h, uint64_t v)
{
	size_t i;

	if (!h)
		h = 1;
	if (2 * (m->n + 1) > m->cap)
		map_grow(m);
	i = map_slot(m->key, m->cap, h);
	if (!m->key[i]) {
		m->key[i] = h;
		m->n++;
	}
	m->val[i] = v;
}
