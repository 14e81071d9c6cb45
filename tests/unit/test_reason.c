/* test_reason.c - failure reasons as the run writes them, sorted. */
#include "harness.h"
#include "reason.h"

#include <stdio.h>
#include <string.h>

static void test_reason_guards(void)
{
	CHECK(reason_of("truncated") == REASON_TRUNCATED);
	CHECK(reason_of("identical responses") == REASON_IDENTICAL);
	CHECK(reason_of("no answer letter in the first 4 positions (first "
			"token 'Well')") == REASON_NO_LETTER);
	CHECK(reason_of("no answer letter in the reply text 'I think'") ==
	      REASON_NO_LETTER);
	CHECK(reason_of("none of 5 sampled judge replies named A or B") ==
	      REASON_NO_LETTER);
	CHECK(reason_of("reply carries no logprobs (does the server support "
			"logprobs/top_logprobs?)") == REASON_NO_LOGPROBS);
	CHECK(reason_of("the record cannot be written (a value is not "
			"UTF-8)") == REASON_RECORD);
}

static void test_reason_http(void)
{
	CHECK(reason_of("HTTP 401 from http://h/v1: bad key") == REASON_KEY);
	CHECK(reason_of("HTTP 403 from http://h/v1: forbidden (after 3 "
			"attempts)") == REASON_KEY);
	CHECK(reason_of("HTTP 404 from http://h/v1: no model") ==
	      REASON_NOT_FOUND);
	CHECK(reason_of("HTTP 429 from http://h/v1: slow down (after 5 "
			"attempts)") == REASON_RATE);
	CHECK(reason_of("HTTP 400 from http://h/v1: This model's maximum "
			"context length is 4096 tokens") == REASON_TOO_LONG);
	CHECK(reason_of("HTTP 400 from http://h/v1: unknown field 'seed'") ==
	      REASON_BAD_REQUEST);
	CHECK(reason_of("HTTP 500 from http://h/v1: (empty body) (after 3 "
			"attempts)") == REASON_SERVER);
	CHECK(reason_of("HTTP 503 from http://h/v1: overloaded") ==
	      REASON_SERVER);
	/* a port number is not a status */
	CHECK(reason_of("cannot reach http://127.0.0.1:8404/v1: Couldn't "
			"connect to server") == REASON_UNREACHABLE);
	CHECK(reason_of("cannot reach http://h/v1: Operation timed out after "
			"30000 milliseconds") == REASON_TIMEOUT);
	CHECK(reason_of("cannot reach http://h/v1: Operation too slow") ==
	      REASON_TIMEOUT);
	CHECK(reason_of("reply is not JSON: '[' expected at byte 0") ==
	      REASON_BAD_REPLY);
	CHECK(reason_of("reply from http://h/v1 is larger than 67108864 "
			"bytes") == REASON_BAD_REPLY);
	CHECK(reason_of("something new") == REASON_OTHER);
	CHECK(reason_of(NULL) == REASON_OTHER);
	CHECK(reason_of("") == REASON_OTHER);
}

/* Every kind has a distinct name, a label and a fix of one line. */
static void test_reason_table(void)
{
	for (int k = 0; k < REASON_COUNT; k++) {
		CHECK(reason_name(k) && *reason_name(k));
		CHECK(reason_label(k) && *reason_label(k));
		CHECK(reason_fix(k) && strlen(reason_fix(k)) > 20);
		CHECK(!strchr(reason_fix(k), '\n'));
		for (int j = 0; j < k; j++)
			CHECK(strcmp(reason_name(j), reason_name(k)) != 0);
	}
	CHECK(strstr(reason_fix(REASON_TRUNCATED), "max_tokens"));
	CHECK(strstr(reason_fix(REASON_TRUNCATED), "truncated: keep"));
	CHECK(strstr(reason_fix(REASON_IDENTICAL), "temperature"));
	CHECK(strstr(reason_fix(REASON_NO_LETTER), "judge.api"));
	CHECK(strstr(reason_fix(REASON_KEY), "key"));
	CHECK_STR(reason_name(REASON_COUNT + 3), "other");
}

TESTS(T(test_reason_guards), T(test_reason_http), T(test_reason_table))
