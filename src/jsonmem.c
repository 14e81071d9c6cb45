/*
 * jsonmem.c - per-thread free lists of small blocks, given to jansson.
 *
 * A block is filed under class usable_size / 8 when freed, so every block
 * of class k has at least 8k usable bytes; a request for n bytes takes
 * from the class glibc would round n to, whose blocks are therefore big
 * enough whatever the allocator underneath. Misses go to malloc(3), and
 * frees beyond the thread's byte budget go to free(3).
 */
#include "jsonmem.h"

#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define JSONMEM_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define JSONMEM_OFF 1
#endif
#endif

#define CLASSES 130		/* usable sizes up to 1,039 bytes */

struct cache {
	void *head[CLASSES];
	size_t blocks, bytes;
	int registered;
};

static __thread struct cache tc;
static pthread_key_t key;

static void cache_drop(void *arg)
{
	struct cache *c = arg;

	for (int k = 0; k < CLASSES; k++) {
		while (c->head[k]) {
			void *p = c->head[k];

			c->head[k] = *(void **)p;
			free(p);
		}
	}
	c->blocks = c->bytes = 0;
	c->registered = 0;
}

/* The class of the block malloc(n) returns on glibc: 16-byte chunks with
 * 8 bytes of header, 24 usable bytes at least. */
static size_t class_of_request(size_t n)
{
	size_t u = ((n + 8 + 15) & ~(size_t)15) - 8;

	return (u < 24 ? 24 : u) / 8;
}

static void *jm_malloc(size_t n)
{
	size_t k = class_of_request(n);
	void *p;

	if (k < CLASSES && (p = tc.head[k])) {
		tc.head[k] = *(void **)p;
		tc.blocks--;
		tc.bytes -= 8 * k;
		return p;
	}
	return malloc(n);
}

static void jm_free(void *p)
{
	size_t u, k;

	if (!p)
		return;
	u = malloc_usable_size(p);
	k = u / 8;
	if (k >= CLASSES || tc.bytes + 8 * k > JSONMEM_CACHE_BYTES) {
		free(p);
		return;
	}
	if (!tc.registered) {
		/* the destructor gives the cache back at thread exit */
		pthread_setspecific(key, &tc);
		tc.registered = 1;
	}
	*(void **)p = tc.head[k];
	tc.head[k] = p;
	tc.blocks++;
	tc.bytes += 8 * k;	/* the class size: no header read on reuse */
}

size_t jsonmem_cached(size_t *bytes)
{
	if (bytes)
		*bytes = tc.bytes;
	return tc.blocks;
}

__attribute__((constructor)) static void jsonmem_install(void)
{
#ifdef JSONMEM_OFF
	if (0)
#endif
	if (pthread_key_create(&key, cache_drop) == 0)
		json_set_alloc_funcs(jm_malloc, jm_free);
}
