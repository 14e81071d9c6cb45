/*
 * http.h - the retry policy every request follows and the parsing of
 * the servers' wait hints; the requests themselves go through the event
 * loops of live.h (the start-up probe, preflight.c, has its own handle).
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
 * Thread-safety: pure functions, but for the hints struct the caller
 * owns.
 */
#ifndef CAIGEN_HTTP_H
#define CAIGEN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

#include <curl/curl.h>

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

/* What a reply's headers say about retrying it. */
struct http_hints {
	double retry_after;	/* retry-after(-ms), seconds; < 0 none */
	double reset_hint;	/* x-ratelimit-reset-*, anthropic-*-reset */
	int should_retry;	/* x-should-retry: -1 absent, 0 false, 1 true */
	/* x-ratelimit-remaining-requests / -tokens (anthropic-ratelimit-
	 * requests-remaining / tokens-remaining); < 0 absent. The reset
	 * of the requests' (else the tokens') window in seconds, < 0
	 * absent. Read on every reply, for the limiter (limiter.h). */
	double remaining_requests, remaining_tokens, remaining_reset;
};

/*
 * The wire an endpoint's requests take (the `http` key of an endpoint):
 *
 *   auto  https: HTTP/2 when the server offers it in the TLS handshake
 *         (ALPN), else HTTP/1.1; http: HTTP/1.1. What caigen did before
 *         the key, except that on https a transfer waits for a connection
 *         that is being opened to say whether it multiplexes
 *         (CURLOPT_PIPEWAIT) instead of opening one of its own: a burst of
 *         1,000 requests to an HTTP/2 server takes a few connections, not
 *         1,000.
 *   1.1   HTTP/1.1 whatever the scheme: one connection a request in flight.
 *   2     HTTP/2: on https as auto; on http the server is spoken to in
 *         HTTP/2 from the first byte (h2c with prior knowledge, as nginx
 *         `listen ... http2` and envoy expect). Many requests share a
 *         connection, up to the streams the server allows on one
 *         (SETTINGS_MAX_CONCURRENT_STREAMS) and HTTP_H2_STREAMS.
 */
enum http_version { HTTP_AUTO = 0, HTTP_1_1 = 1, HTTP_2 = 2 };

/* Requests a caigen connection carries at once at most (libcurl's
 * CURLMOPT_MAX_CONCURRENT_STREAMS; the server's own limit when lower). */
#define HTTP_H2_STREAMS 100

/*
 * Can this libcurl speak h2c (`http: 2` on an http URL)? libcurl before
 * 8.0.0 fails the second request on an h2c connection ("Error in the
 * HTTP2 framing layer": curl issue 10634, fixed by curl PR 10643), and a
 * libcurl without nghttp2 has no HTTP/2 at all. When not, why in why.
 */
bool http_h2c_usable(char *why, size_t n);

/*
 * Set on an easy handle the wire of one request to url: the HTTP version
 * and the wait for a multiplexed connection by version (above), and, when
 * ca_file is not NULL, the certificates that sign the server's (PEM, in
 * place of the system's: a private or corporate CA; libcurl ignores the
 * curl tool's CURL_CA_BUNDLE and OpenSSL's SSL_CERT_FILE). The strings
 * are copied by libcurl.
 */
void http_setup(CURL *easy, int version, const char *url,
		const char *ca_file);

/* "HTTP/2", "HTTP/1.1" or "HTTP/2 if offered, else HTTP/1.1": the wire
 * of url under version v, for the dry run and check. Static string. */
const char *http_wire_name(int version, const char *url);

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
