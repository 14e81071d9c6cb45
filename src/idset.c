/* idset.c - open-addressing set of 64-bit hashes, and a map of them. */
#include "idset.h"
#include "rng.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void idset_init(struct idset *s)
{
	s->slot = NULL;
	s->cap = 0;
	s->n = 0;
}

void idset_release(struct idset *s)
{
	free(s->slot);
	idset_init(s);
}

uint64_t idset_hash(const char *id)
{
	return hash64(id, strlen(id));
}

static bool insert(uint64_t *slot, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slot[i]) {
		if (slot[i] == h)
			return false;
		i = (i + 1) & (cap - 1);
	}
	slot[i] = h;
	return true;
}

/*
 * Double the table in place, so growing a big set never holds the old and
 * the new table at once (glibc's realloc moves a large block with mremap).
 * The first empty slot w splits the old table: the elements before it
 * (the cluster that may wrap around the end) are set aside, then the
 * elements after it are re-inserted in ascending order, each after its own
 * slot is emptied: a probe then stops at that slot at the latest, so it
 * never lands on an element not yet re-inserted. The set-aside ones go
 * last.
 */
static void grow(struct idset *s)
{
	size_t old = s->cap, cap = old ? 2 * old : 1024, w = 0, nkept = 0;
	uint64_t *kept;

	s->slot = xrealloc(s->slot, cap * sizeof(*s->slot));
	memset(s->slot + old, 0, (cap - old) * sizeof(*s->slot));
	s->cap = cap;
	while (w < old && s->slot[w])
		w++;
	kept = xmalloc((w ? w : 1) * sizeof(*kept));
	for (size_t i = 0; i < w; i++) {
		kept[nkept++] = s->slot[i];
		s->slot[i] = 0;
	}
	for (size_t i = w + 1; i < old; i++) {
		uint64_t h = s->slot[i];

		if (h) {
			s->slot[i] = 0;
			insert(s->slot, cap, h);
		}
	}
	for (size_t i = 0; i < nkept; i++)
		insert(s->slot, cap, kept[i]);
	free(kept);
}

bool idset_add(struct idset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap)
		grow(s);
	if (!insert(s->slot, s->cap, h))
		return false;
	s->n++;
	return true;
}

bool idset_has(const struct idset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (!s->cap)
		return false;
	for (size_t i = (size_t)h & (s->cap - 1); s->slot[i];
	     i = (i + 1) & (s->cap - 1))
		if (s->slot[i] == h)
			return true;
	return false;
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
