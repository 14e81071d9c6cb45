/* idset.c - open-addressing set of 64-bit hashes. */
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

bool idset_add(struct idset *s, uint64_t h)
{
	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 1024;
		uint64_t *slot = xcalloc(cap, sizeof(*slot));

		for (size_t i = 0; i < s->cap; i++)
			if (s->slot[i])
				insert(slot, cap, s->slot[i]);
		free(s->slot);
		s->slot = slot;
		s->cap = cap;
	}
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
