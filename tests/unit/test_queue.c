/* test_queue.c - bounded MPMC queue, keyed rng, id set. */
#include "harness.h"
#include "idset.h"
#include "queue.h"
#include "rng.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#define PER_PRODUCER 20000
#define PRODUCERS 4
#define CONSUMERS 4

static struct queue *q;
static _Atomic unsigned long long sum_popped;
static _Atomic unsigned long popped;

static void *producer(void *arg)
{
	uintptr_t base = (uintptr_t)arg;

	for (uintptr_t i = 1; i <= PER_PRODUCER; i++)
		if (queue_push(q, (void *)(base * PER_PRODUCER + i)) < 0)
			abort();
	return NULL;
}

static void *consumer(void *arg)
{
	void *it;

	(void)arg;
	while ((it = queue_pop(q))) {
		sum_popped += (uintptr_t)it;
		popped++;
		if (queue_length(q) > 8)	/* never past capacity */
			abort();
	}
	return NULL;
}

static void test_mpmc_every_item_once(void)
{
	pthread_t p[PRODUCERS], c[CONSUMERS];
	unsigned long long want = 0;

	q = queue_new(8);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&c[i], NULL, consumer, NULL);
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		pthread_create(&p[i], NULL, producer, (void *)i);
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(p[i], NULL);
	queue_close(q);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(c[i], NULL);
	for (uintptr_t b = 0; b < PRODUCERS; b++)
		for (uintptr_t i = 1; i <= PER_PRODUCER; i++)
			want += b * PER_PRODUCER + i;
	CHECK(popped == PRODUCERS * PER_PRODUCER);
	CHECK(sum_popped == want);
	queue_free(q);
}

static void test_closed_queue(void)
{
	struct queue *k = queue_new(2);
	int x = 1;

	CHECK(queue_push(k, &x) == 0);
	queue_close(k);
	CHECK(queue_push(k, &x) < 0);
	CHECK(queue_pop(k) == &x);	/* drains what was there */
	CHECK(queue_pop(k) == NULL);
	queue_free(k);
}

static void test_rng_keyed(void)
{
	double u = rng_unit(1, "p1", "principle", 0), mean = 0;

	CHECK(u == rng_unit(1, "p1", "principle", 0));
	CHECK(u != rng_unit(2, "p1", "principle", 0));
	CHECK(u != rng_unit(1, "p2", "principle", 0));
	CHECK(u != rng_unit(1, "p1", "order", 0));
	CHECK(u != rng_unit(1, "p1", "principle", 1));
	/* key parts do not run into each other */
	CHECK(rng_u64(1, "ab", "c", 0) != rng_u64(1, "a", "bc", 0));
	for (int i = 0; i < 100000; i++) {
		double v = rng_unit(9, "id", "x", (uint64_t)i);

		CHECK(v >= 0 && v < 1);
		mean += v;
	}
	CHECK_NEAR(mean / 100000, 0.5, 0.01);
	/* the hash is part of the file formats: it must never change */
	CHECK(hash64("", 0) == hash64("", 0));
	CHECK(rng_u64(1, "p1", "principle", 0) ==
	      rng_u64(1, "p1", "principle", 0));
}

static void test_idset(void)
{
	struct idset s;

	idset_init(&s);
	for (uint64_t i = 0; i < 100000; i++)
		CHECK(idset_add(&s, i * 0x9e3779b97f4a7c15ULL));
	CHECK(s.n == 100000);
	CHECK(!idset_add(&s, 0));	/* 0 is stored as 1... */
	CHECK(idset_has(&s, 0));
	CHECK(!idset_add(&s, 5 * 0x9e3779b97f4a7c15ULL));
	CHECK(!idset_has(&s, 12345));
	CHECK(idset_has(&s, idset_hash("x")) == false);
	idset_release(&s);
}

TESTS(T(test_mpmc_every_item_once), T(test_closed_queue), T(test_rng_keyed),
      T(test_idset))
