/* queue.c - bounded MPMC queue: a ring of pointers under one mutex. */
#include "queue.h"
#include "util.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full;
	pthread_cond_t not_empty;
	void **ring;
	size_t cap;
	size_t head;	/* next to pop */
	size_t len;
	bool closed;
};

struct queue *queue_new(size_t capacity)
{
	struct queue *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	q->cap = capacity ? capacity : 1;
	q->ring = xcalloc(q->cap, sizeof(*q->ring));
	return q;
}

void queue_free(struct queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	free(q->ring);
	free(q);
}

int queue_push(struct queue *q, void *item)
{
	int rc = -1;

	pthread_mutex_lock(&q->lock);
	while (q->len == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (!q->closed) {
		q->ring[(q->head + q->len) % q->cap] = item;
		q->len++;
		pthread_cond_signal(&q->not_empty);
		rc = 0;
	}
	pthread_mutex_unlock(&q->lock);
	return rc;
}

size_t queue_push_many(struct queue *q, void *const *items, size_t n)
{
	size_t i;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < n && !q->closed; i++) {
		while (q->len == q->cap && !q->closed) {
			pthread_cond_signal(&q->not_empty);
			pthread_cond_wait(&q->not_full, &q->lock);
		}
		if (q->closed)
			break;
		q->ring[(q->head + q->len) % q->cap] = items[i];
		q->len++;
	}
	if (i)
		pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return i;
}

size_t queue_pop_many(struct queue *q, void **out, size_t max,
		      double linger)
{
	size_t n = 0;

	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (linger > 0 && q->len < max / 2 && !q->closed) {
		/* let more come: fewer wake-ups of this thread and of the
		 * producers that would signal it */
		struct timespec ts = { 0, (long)(linger * 1e9) };

		pthread_mutex_unlock(&q->lock);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&q->lock);
	}
	while (q->len && n < max) {
		out[n++] = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
	}
	if (n)
		pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return n;
}

void *queue_pop(struct queue *q)
{
	void *item = NULL;

	pthread_mutex_lock(&q->lock);
	while (q->len == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->len) {
		item = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		q->len--;
		pthread_cond_signal(&q->not_full);
	}
	pthread_mutex_unlock(&q->lock);
	return item;
}

void queue_close(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = true;
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

size_t queue_length(struct queue *q)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->len;
	pthread_mutex_unlock(&q->lock);
	return n;
}
