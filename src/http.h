/*
 * http.h - the retry policy every request follows, the parsing of the
 * servers' wait hints, and a blocking HTTP client (a libcurl easy handle,
 * JSON POSTs with timeouts and retries) used by the start-up probe; the
 * run's requests go through the event loops of live.h with the same
 * policy.
 *
 * Retry policy (after the OpenAI and Anthropic SDKs): 408, 409, 429 and
 * every 5xx (529 included) are retried, as are connection failures and
 * timeouts; 400, 401, 403, 404 and OpenAI's `insufficient_quota` 429 are not.
 * `x-should-retry: true|false` from the server overrides the status rule.
 * The wait before attempt k+1 is `retry-after-ms`, else `retry-after`
 * (seconds or an HTTP date) when 0 < wait <= max_wait, else exponential
 * backoff base * 2^k capped at `max_wait`, with full jitter.
 * For a 429 without those, the rate-limit reset hints are used when
 * present: `x-ratelimit-reset-requests` / `-tokens` (OpenAI, Go durations
 * such as "6m0s", "1.574s", "20ms"), then `anthropic-ratelimit-*-reset`
 * (RFC 3339 times), then "Please try again in 1.574s" in the message; the
 * longest hint wins, and like retry-after it is used when <= 120 s.
 *
 * Thread-safety: a struct http belongs to one thread (libcurl easy handles
 * must not be shared). curl_global_init must have run before http_init.
 */
#ifndef CAIGEN_HTTP_H
#define CAIGEN_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

enum retry_cause {
	RETRY_429 = 0,	/* rate limited */
	RETRY_5XX,	/* server error, 529 overloaded included */
	RETRY_408_409,
	RETRY_CONNECT,	/* refused, reset, DNS */
	RETRY_TIMEOUT,
	RETRY_BODY,	/* 2xx whose body could not be used (caller asks) */
	RETRY_CAUSES
};

const char *retry_cause_name(enum retry_cause c);

/* Counters per client (a probe, an event loop), summed at the end. */
struct http_stats {
	uint64_t requests;	/* attempts sent */
	uint64_t ok;		/* 2xx received */
	uint64_t retries[RETRY_CAUSES];
	uint64_t gave_up;	/* requests that failed for good */
	double seconds;		/* time in requests, retries included */
};

struct http_opts {
	double timeout;		/* whole request, seconds */
	double connect_timeout;
	int max_attempts;	/* >= 1 */
	double backoff_base;	/* seconds, default 0.5 */
	double max_wait;	/* cap on one wait, seconds, default 8 */
	double stall_timeout;	/* under 1 byte/s this long: timeout (30) */
};

/* What a reply's headers say about retrying it. */
struct http_hints {
	double retry_after;	/* retry-after(-ms), seconds; < 0 none */
	double reset_hint;	/* x-ratelimit-reset-*, anthropic-*-reset */
	int should_retry;	/* x-should-retry: -1 absent, 0 false, 1 true */
};

struct http {
	void *curl;		/* CURL *, opaque here */
	void *headers;		/* struct curl_slist * of the last request */
	struct buf resp;
	long status;
	struct http_hints hints;	/* of the last response */
	char curl_err[256];
	uint64_t jitter_state;
	struct http_stats stats;
	volatile sig_atomic_t *stop;	/* if set and non-zero: give up waits;
					 * >= 2: abort transfers too */
};

void http_init(struct http *h, volatile sig_atomic_t *stop);
void http_release(struct http *h);

/*
 * POST a JSON body to url with the given header lines ("Name: value"; the
 * Authorization line carries the key and is never echoed in errors).
 * Retries per the policy above. On success returns 0 with h->status 2xx and
 * the body in h->resp. On failure returns -1 with err saying what happened
 * ("HTTP 401 from http://...: Incorrect API key ...", "cannot connect to
 * http://...: Connection refused", "giving up after 5 attempts: ...").
 * h->status holds the last status (0 if no response).
 */
int http_post(struct http *h, const char *url, const char *const *headers,
	      size_t nheaders, const char *body, size_t body_len,
	      const struct http_opts *o, struct err *err)
	__attribute__((warn_unused_result));

/* GET, single attempt (for preflight probes). Same result conventions. */
int http_get(struct http *h, const char *url, const char *const *headers,
	     size_t nheaders, const struct http_opts *o, struct err *err)
	__attribute__((warn_unused_result));

/* Forget every hint (before a new response). */
void http_hints_reset(struct http_hints *h);
/* Read one response header line ("Name: value\r\n", not NUL-terminated)
 * into the hints; other headers are ignored. */
void http_hints_header(struct http_hints *h, const char *line, size_t len);
/*
 * The wait in seconds before attempt k + 1 (k from 0) after attempt k
 * failed with `status` (0: no answer) and error message msg, by the policy
 * above; `unit` is a uniform draw in [0, 1) for the jitter. Also notes a
 * "try again in" hint of a 429 message in h.
 */
double http_retry_wait(struct http_hints *h, long status, const char *msg,
		       int k, double base, double cap, double unit);
/* Redact from a reply the key of every secret header among headers
 * (Authorization, x-api-key, api-key), before anything reads it. */
void http_scrub(struct buf *resp, const char *const *headers, size_t n);

/* Whether a status is worth retrying (body used for insufficient_quota). */
bool http_status_retryable(long status, const char *body);

/* Parse a Retry-After value: seconds (maybe fractional) or an HTTP date.
 * Returns seconds from now, or -1 if unparseable. */
double http_parse_retry_after(const char *v);

/* A Go duration ("6m0s", "1.574s", "20ms", "1h2m3.5s"; units h m s ms
 * us µs ns) in seconds, or -1 if v is not one. Trailing blanks are ok. */
double http_parse_duration(const char *v);

/* An RFC 3339 time ("2026-01-02T03:04:05.5Z", "...+01:00") as seconds
 * from now (0 if past), or -1 if unparseable. */
double http_parse_rfc3339(const char *v);

/* OpenAI's "Please try again in 1.574s" (or "in 20ms", "in 6m0s") in an
 * error message: the wait in seconds, or -1 if there is none. */
double http_parse_try_again(const char *msg);

/* Replace every occurrence of secret in s, in place, by "[redacted]" (or
 * by '*'s when the secret is shorter than that); secrets under 4 bytes
 * are left alone. Replies are scrubbed of the keys in the request's
 * Authorization / x-api-key / api-key headers before anything reads
 * them, so no error built from a reply can carry a key. */
void http_redact(char *s, const char *secret);

/* The human part of an error body: error.message | message | error. Static
 * buffer owned by the caller (out, outlen). */
void http_error_message(const char *body, char *out, size_t outlen);

#endif
