/*
 * fuzz_retry_after.c - libFuzzer target for the wait-hint parsers of
 * http.c: Retry-After (seconds or HTTP date), Go durations
 * (x-ratelimit-reset-*), RFC 3339 times (anthropic-ratelimit-*-reset),
 * "try again in ..." in messages, and the error-body message reader.
 * Each result must be -1 or a finite number >= 0.
 */
#include "http.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(double s)
{
	if (!(s == -1 || (isfinite(s) && s >= 0)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	char msg[512];

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	check(http_parse_retry_after(s));
	check(http_parse_duration(s));
	check(http_parse_rfc3339(s));
	check(http_parse_try_again(s));
	http_error_message(s, msg, sizeof(msg));
	if (strlen(msg) >= sizeof(msg))
		abort();
	free(s);
	return 0;
}
