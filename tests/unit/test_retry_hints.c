/*
 * test_retry_hints.c - the wait-hint parsers of http.c (Retry-After, Go
 * durations of x-ratelimit-reset-*, RFC 3339 times of
 * anthropic-ratelimit-*-reset, "try again in" messages) and key
 * redaction.
 */
#include "harness.h"
#include "http.h"

#include <time.h>

static void test_duration(void)
{
	CHECK_NEAR(http_parse_duration("6m0s"), 360, 1e-9);
	CHECK_NEAR(http_parse_duration("1.574s"), 1.574, 1e-9);
	CHECK_NEAR(http_parse_duration("20ms"), 0.02, 1e-12);
	CHECK_NEAR(http_parse_duration("1h2m3.5s"), 3723.5, 1e-9);
	CHECK_NEAR(http_parse_duration(" 7us \r\n"), 7e-6, 1e-15);
	CHECK_NEAR(http_parse_duration("3\xc2\xb5s"), 3e-6, 1e-15);
	CHECK_NEAR(http_parse_duration("0s"), 0, 1e-12);
	CHECK(http_parse_duration("") == -1);
	CHECK(http_parse_duration("5") == -1);		/* no unit */
	CHECK(http_parse_duration("-1s") == -1);
	CHECK(http_parse_duration("1x") == -1);
	CHECK(http_parse_duration("1s junk") == -1);
	CHECK(http_parse_duration("ms") == -1);
}

static void test_rfc3339(void)
{
	time_t now = time(NULL);
	struct tm tm;
	char buf[64];
	double s;

	gmtime_r(&(time_t){ now + 30 }, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s = http_parse_rfc3339(buf);
	CHECK(s >= 28 && s <= 31);
	/* the same instant one hour east */
	gmtime_r(&(time_t){ now + 3600 + 30 }, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.25+01:00", &tm);
	s = http_parse_rfc3339(buf);
	CHECK(s >= 28 && s <= 31.5);
	CHECK(http_parse_rfc3339("2001-01-01T00:00:00Z") == 0);	/* past */
	CHECK(http_parse_rfc3339("2001-13-01T00:00:00Z") == -1);
	CHECK(http_parse_rfc3339("2001-01-01 00:00:00") == -1);	/* no zone */
	CHECK(http_parse_rfc3339("2001-01-01T00:00Z") == -1);
	CHECK(http_parse_rfc3339("soon") == -1);
}

static void test_retry_after(void)
{
	CHECK_NEAR(http_parse_retry_after("120"), 120, 1e-9);
	CHECK_NEAR(http_parse_retry_after(" 0.25\r\n"), 0.25, 1e-9);
	CHECK(http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);
	CHECK(http_parse_retry_after("later") == -1);
}

static void test_try_again(void)
{
	CHECK_NEAR(http_parse_try_again("Rate limit reached for gpt-4 in "
		"organization org-x on tokens per min. Limit: 10000, Used: "
		"9000. Please try again in 1.574s. Visit https://..."),
		1.574, 1e-9);
	CHECK_NEAR(http_parse_try_again("please try again in 20ms."), 0.02,
		   1e-12);
	CHECK_NEAR(http_parse_try_again("Try again in 6m0s"), 360, 1e-9);
	CHECK(http_parse_try_again("Please try again later.") == -1);
	CHECK(http_parse_try_again("no hint") == -1);
	CHECK(http_parse_try_again(NULL) == -1);
}

static void test_redact(void)
{
	char a[] = "key sk-abcdef123456 and again sk-abcdef123456!";
	char b[] = "short key abc9 here";
	char c[] = "abc";

	http_redact(a, "sk-abcdef123456");
	CHECK_STR(a, "key [redacted] and again [redacted]!");
	http_redact(b, "abc9");
	CHECK_STR(b, "short key **** here");
	http_redact(c, "ab");	/* too short to be a key: left alone */
	CHECK_STR(c, "abc");
	http_redact(NULL, "x");
}

TESTS(T(test_duration), T(test_rfc3339), T(test_retry_after),
      T(test_try_again), T(test_redact))
