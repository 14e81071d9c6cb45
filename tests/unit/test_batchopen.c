/* test_batchopen.c - the open batches of a batch journal (batchopen.h):
 * the last line of each (role, seq) decides; created and made-only are
 * open, fetched and failed are over; members' names (judge1..); a torn
 * or foreign line is skipped; the roles batched now are left out. */
#include "harness.h"
#include "batchopen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/caigen-batchopen.XXXXXX";

static void write_journal(const char *text)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void test_open_by_last_line(void)
{
	struct batch_open *v;
	size_t n;

	write_journal(
	    "{\"n\":4,\"op\":\"make\",\"role\":\"policy\",\"seq\":1}\n"
	    "{\"id\":\"b-p1\",\"op\":\"created\",\"role\":\"policy\",\"seq\":1}\n"
	    "{\"op\":\"make\",\"role\":\"policy\",\"seq\":2}\n"
	    "{\"id\":\"b-p2\",\"op\":\"created\",\"role\":\"policy\",\"seq\":2}\n"
	    "{\"id\":\"b-p2\",\"op\":\"fetched\",\"role\":\"policy\",\"seq\":2,\"file\":\"x\"}\n"
	    "{\"op\":\"make\",\"role\":\"judge\",\"seq\":1}\n"
	    "{\"id\":\"b-j1\",\"op\":\"created\",\"role\":\"judge1\",\"seq\":1}\n"
	    "{\"id\":\"b-j21\",\"op\":\"created\",\"role\":\"judge2\",\"seq\":1}\n"
	    "{\"id\":\"b-j21\",\"op\":\"failed\",\"role\":\"judge2\",\"seq\":1}\n"
	    "{\"id\":\"x\",\"op\":\"created\",\"role\":\"judge9\",\"seq\":1}\n"
	    "{\"id\":\"x\",\"op\":\"created\",\"role\":\"other\",\"seq\":1}\n"
	    "not json\n"
	    "{\"id\":\"b-p3\",\"op\":\"created\",\"role\":\"policy\",\"se");
	n = batchopen_list(path, NULL, &v);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(v[0].role == ROLE_POLICY && v[0].seq == 1 &&
		      v[0].created);
		CHECK_STR(v[0].id, "b-p1");
		CHECK(v[1].role == ROLE_JUDGE && v[1].seq == 1 &&
		      !v[1].created);
		CHECK_STR(v[1].id, "");
		CHECK(v[2].role == ROLE_JUDGE + 1 && v[2].created);
		CHECK_STR(v[2].id, "b-j1");
	}
	free(v);
	/* the policy batched now: its batches are its executor's */
	{
		bool batched[ROLE_COUNT] = { true };

		n = batchopen_list(path, batched, &v);
		CHECK(n == 2);
		CHECK(n && v[0].role == ROLE_JUDGE);
		free(v);
	}
	unlink(path);
}

static void test_none(void)
{
	struct batch_open *v = (struct batch_open *)&v;

	CHECK(batchopen_list("/nonexistent/journal.jsonl", NULL, &v) == 0);
	CHECK(v == NULL);
	strcpy(path, "/tmp/caigen-batchopen.XXXXXX");
	write_journal("{\"id\":\"a\",\"op\":\"created\",\"role\":\"policy\",\"seq\":1}\n"
		      "{\"id\":\"a\",\"op\":\"fetched\",\"role\":\"policy\",\"seq\":1}\n");
	CHECK(batchopen_list(path, NULL, &v) == 0);
	CHECK(v == NULL);
	unlink(path);
}

TESTS(T(test_open_by_last_line), T(test_none))
