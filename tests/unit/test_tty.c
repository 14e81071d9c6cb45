/*
 * test_tty.c - tty_safe's buffers belong to their thread and go with it:
 * 48 threads, one after another, each escape a 256 KB string (1 MB of
 * buffer each) and end; the heap grows by far less than the 48 MB they
 * would leave behind if the buffers outlived their threads (the batch
 * executor's thread did: LeakSanitizer failed its runs with exit 1).
 * And the escaping itself, on the thread and off it.
 */
#include "harness.h"
#include "util.h"

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>

#define BIG (256u << 10)

static char *big;

static void *escape_big(void *arg)
{
	const char *out = tty_safe(big);

	*(size_t *)arg = strlen(out);
	return NULL;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

static void test_buffers_freed_with_thread(void)
{
	size_t before, after, len = 0;

	big = xmalloc(BIG + 1);
	memset(big, 'a', BIG);
	big[BIG] = '\0';
	big[7] = '\x1b';
	/* the first thread also makes the key: count from after it */
	{
		pthread_t t;

		CHECK(pthread_create(&t, NULL, escape_big, &len) == 0);
		pthread_join(t, NULL);
	}
	before = heap_in_use();
	for (int i = 0; i < 48; i++) {
		pthread_t t;

		CHECK(pthread_create(&t, NULL, escape_big, &len) == 0);
		pthread_join(t, NULL);
	}
	after = heap_in_use();
	CHECK(len == BIG + 3);	/* ESC as \x1b: 3 bytes more */
	CHECK(after < before + (8u << 20));
	free(big);
}

static void test_escapes(void)
{
	CHECK_STR(tty_safe("a\x1b[2Jb"), "a\\x1b[2Jb");
	CHECK_STR(tty_safe("caf\xc3\xa9"), "caf\xc3\xa9");
	CHECK_STR(tty_safe("\xc2\x9b"), "\\u009b");
	CHECK_STR(tty_safe(NULL), "(null)");
}

TESTS(T(test_buffers_freed_with_thread), T(test_escapes))
