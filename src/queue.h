/*
 * queue.h - bounded multi-producer multi-consumer queue of pointers.
 *
 * A mutex and two condition variables. Push blocks while the queue is full,
 * which is how a slow stage holds back the ones before it; pop blocks while
 * it is empty. After queue_close, pushes fail and pops drain what is left,
 * then return NULL: that is how stages shut down.
 *
 * Ownership: queue_push gives the item away; queue_pop hands it to the
 * caller. The queue never frees items. Every function is thread-safe.
 */
#ifndef CAIGEN_QUEUE_H
#define CAIGEN_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct queue;

struct queue *queue_new(size_t capacity);
/* The queue must be empty or its items owned elsewhere. NULL is fine. */
void queue_free(struct queue *q);
/* 0, or -1 if the queue is closed (the caller still owns item). */
int queue_push(struct queue *q, void *item)
	__attribute__((warn_unused_result));
/* Push items[0..n) in order with one wake-up of the consumer; waits
 * while full. Returns how many were pushed (fewer only if the queue was
 * closed: the caller still owns the rest). */
size_t queue_push_many(struct queue *q, void *const *items, size_t n)
	__attribute__((warn_unused_result));
/* The next item, or NULL once the queue is closed and drained. */
void *queue_pop(struct queue *q);
/* Wait for at least one item, then (linger seconds > 0 and fewer than
 * max / 2 there) let more arrive for that long; take up to max. 0 once
 * the queue is closed and drained. */
size_t queue_pop_many(struct queue *q, void **out, size_t max,
		      double linger);
/* Wake every waiter; later pushes fail, pops drain then return NULL. */
void queue_close(struct queue *q);
size_t queue_length(struct queue *q);

#endif
