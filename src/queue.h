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
/* The next item, or NULL once the queue is closed and drained. */
void *queue_pop(struct queue *q);
/* Wake every waiter; later pushes fail, pops drain then return NULL. */
void queue_close(struct queue *q);
size_t queue_length(struct queue *q);

#endif
