/*
 * jsonmem.h - a per-thread cache of small blocks for jansson's allocations.
 *
 * Parsing a reply or building a record makes jansson allocate and free a
 * few hundred small blocks; with thousands of threads, glibc's arenas turn
 * that into lock traffic and cache misses. jsonmem gives jansson an
 * allocator that keeps freed small blocks on a list of the freeing thread
 * (at most JSONMEM_CACHE_BYTES a thread) and hands them out again.
 *
 * Contract: the blocks are ordinary malloc(3) blocks, so anything jansson
 * returns (json_dumps) may still be released with free(3), and a block may
 * be freed by another thread than the one that allocated it. It is
 * installed before main() runs (a constructor), so every jansson value in
 * the process uses it; a thread's cache is returned to malloc when the
 * thread exits. Builds with a sanitizer leave jansson on malloc/free so
 * use-after-free is still caught.
 */
#ifndef CAIGEN_JSONMEM_H
#define CAIGEN_JSONMEM_H

#include <stddef.h>

#ifndef JSONMEM_CACHE_BYTES
#define JSONMEM_CACHE_BYTES (32u << 10)
#endif

/* Blocks and bytes held by the calling thread's cache (for tests). */
size_t jsonmem_cached(size_t *bytes);

#endif
