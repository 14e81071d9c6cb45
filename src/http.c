/*
 * http.c - libcurl easy handle per worker, JSON POST with retries.
 *
 * The handle is reused for every request of the worker so connections stay
 * alive. CURLOPT_NOSIGNAL is set (threads). Response bodies are capped at
 * HTTP_MAX_BODY so a misbehaving server cannot exhaust memory.
 */
#include "http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HTTP_MAX_BODY (64u << 20)

static const char *const cause_names[RETRY_CAUSES] = {
	"429", "5xx", "408/409", "connect", "timeout", "bad-body",
};

const char *retry_cause_name(enum retry_cause c)
{
	return cause_names[c];
}

void http_init(struct http *h, volatile sig_atomic_t *stop)
{
	memset(h, 0, sizeof(*h));
	h->curl = curl_easy_init();
	if (!h->curl) {
		fprintf(stderr, "caigen: curl_easy_init failed\n");
		exit(2);
	}
	buf_init(&h->resp, HTTP_MAX_BODY);
	h->stop = stop;
	h->retry_after = -1;
	h->should_retry = -1;
	h->jitter_state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)h;
}

void http_release(struct http *h)
{
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	buf_release(&h->resp);
	h->curl = NULL;
	h->headers = NULL;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;

	if (buf_add(&h->resp, p, size * n) < 0)
		return 0;	/* too big: curl aborts the transfer */
	return size * n;
}

double http_parse_retry_after(const char *v)
{
	char *end;
	double s;
	time_t t;

	while (*v == ' ' || *v == '\t')
		v++;
	s = strtod(v, &end);
	if (end != v) {
		while (*end == ' ' || *end == '\t' || *end == '\r' ||
		       *end == '\n')
			end++;
		if (*end == '\0' && isfinite(s) && s >= 0)
			return s;
	}
	t = curl_getdate(v, NULL);
	if (t == -1)
		return -1;
	s = difftime(t, time(NULL));
	return s < 0 ? 0 : s;
}

static bool header_is(const char *line, size_t n, const char *name,
		      const char **value)
{
	size_t k = strlen(name);

	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	*value = line + k + 1;
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http *h = arg;
	size_t len = size * n;
	const char *v;
	char tmp[128];

	if (len >= sizeof(tmp))
		return len;
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	if (header_is(tmp, len, "retry-after-ms", &v)) {
		double ms = strtod(v, NULL);

		if (ms > 0)
			h->retry_after = ms / 1000.0;
	} else if (header_is(tmp, len, "retry-after", &v)) {
		/* retry-after-ms wins when both are present */
		if (h->retry_after < 0)
			h->retry_after = http_parse_retry_after(v);
	} else if (header_is(tmp, len, "x-should-retry", &v)) {
		while (*v == ' ')
			v++;
		h->should_retry = strncasecmp(v, "true", 4) == 0 ? 1 :
				  strncasecmp(v, "false", 5) == 0 ? 0 : -1;
	}
	return len;
}

void http_error_message(const char *body, char *out, size_t outlen)
{
	json_t *j = body ? json_loads(body, 0, NULL) : NULL;
	json_t *e;
	const char *m = NULL;

	out[0] = '\0';
	if (j) {
		e = json_object_get(j, "error");
		if (json_is_object(e))
			m = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			m = json_string_value(e);
		if (!m)
			m = json_string_value(json_object_get(j, "message"));
	}
	if (m)
		snprintf(out, outlen, "%s", m);
	else if (body)
		snprintf(out, outlen, "%.200s", body);
	json_decref(j);
}

bool http_status_retryable(long status, const char *body)
{
	if (status == 429)
		return !(body && strstr(body, "insufficient_quota"));
	return status == 408 || status == 409 || status >= 500;
}

static double jitter(struct http *h)
{
	/* xorshift64*: timing only, so not part of the keyed generator */
	uint64_t x = h->jitter_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	h->jitter_state = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) /
	       9007199254740992.0;
}

/* Sleep s seconds in slices, giving up early when asked to stop. */
static void nap(struct http *h, double s)
{
	while (s > 0 && !(h->stop && *h->stop)) {
		double d = s < 0.1 ? s : 0.1;
		struct timespec ts = { (time_t)d,
				       (long)((d - (time_t)d) * 1e9) };

		nanosleep(&ts, NULL);
		s -= d;
	}
}

static int perform(struct http *h, const char *url,
		   const char *const *headers, size_t nheaders,
		   const char *body, size_t body_len,
		   const struct http_opts *o, CURLcode *cc)
{
	CURL *c = h->curl;
	struct curl_slist *sl = NULL;

	curl_slist_free_all(h->headers);
	for (size_t i = 0; i < nheaders; i++)
		sl = curl_slist_append(sl, headers[i]);
	if (body) {
		sl = curl_slist_append(sl, "Content-Type: application/json");
		sl = curl_slist_append(sl, "Expect:");
	}
	h->headers = sl;
	buf_reset(&h->resp);
	h->status = 0;
	h->retry_after = -1;
	h->should_retry = -1;
	h->curl_err[0] = '\0';

	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)body_len);
	} else {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(o->connect_timeout * 1000));
	/* a stalled peer: under 1 byte/s for 30 s is a timeout */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "caigen/" CAIGEN_VERSION);

	h->stats.requests++;
	*cc = curl_easy_perform(c);
	if (*cc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	return *cc == CURLE_OK ? 0 : -1;
}

static enum retry_cause curl_cause(CURLcode cc)
{
	return cc == CURLE_OPERATION_TIMEDOUT ? RETRY_TIMEOUT : RETRY_CONNECT;
}

static int request(struct http *h, const char *url,
		   const char *const *headers, size_t nheaders,
		   const char *body, size_t body_len,
		   const struct http_opts *o, int attempts, struct err *err)
{
	double t0 = now_sec();
	double base = o->backoff_base > 0 ? o->backoff_base : 0.5;
	double cap = o->max_wait > 0 ? o->max_wait : 8;
	char msg[512];
	int rc = -1, k;

	for (k = 0; k < attempts; k++) {
		CURLcode cc;
		enum retry_cause cause;
		bool retry;
		double wait;

		if (perform(h, url, headers, nheaders, body, body_len, o,
			    &cc) == 0) {
			if (h->status >= 200 && h->status < 300) {
				h->stats.ok++;
				rc = 0;
				goto out;
			}
			http_error_message(h->resp.data, msg, sizeof(msg));
			err_set(err, "HTTP %ld from %s: %s", h->status, url,
				msg[0] ? msg : "(empty body)");
			retry = h->should_retry >= 0 ? h->should_retry == 1 :
				http_status_retryable(h->status,
						      h->resp.data);
			cause = h->status == 429 ? RETRY_429 :
				h->status >= 500 ? RETRY_5XX : RETRY_408_409;
		} else {
			if (cc == CURLE_WRITE_ERROR)
				err_set(err, "reply from %s is larger than "
					"%u bytes", url, HTTP_MAX_BODY);
			else
				err_set(err, "cannot reach %s: %s", url,
					h->curl_err[0] ? h->curl_err :
					curl_easy_strerror(cc));
			retry = cc != CURLE_WRITE_ERROR &&
				cc != CURLE_URL_MALFORMAT &&
				cc != CURLE_UNSUPPORTED_PROTOCOL;
			cause = curl_cause(cc);
		}
		if (!retry || k + 1 == attempts || (h->stop && *h->stop))
			break;
		h->stats.retries[cause]++;
		if (h->retry_after > 0 && h->retry_after <= 120)
			wait = h->retry_after;
		else
			wait = jitter(h) * fmin(cap, base * ldexp(1.0, k));
		nap(h, wait);
	}
	h->stats.gave_up++;
	if (k > 0) {
		char tmp[sizeof(err->msg)];

		snprintf(tmp, sizeof(tmp), "%s", err->msg);
		err_set(err, "%s (after %d attempts)", tmp,
			k + 1 < attempts ? k + 1 : attempts);
	}
out:
	h->stats.seconds += now_sec() - t0;
	return rc;
}

int http_post(struct http *h, const char *url, const char *const *headers,
	      size_t nheaders, const char *body, size_t body_len,
	      const struct http_opts *o, struct err *err)
{
	return request(h, url, headers, nheaders, body, body_len, o,
		       o->max_attempts > 0 ? o->max_attempts : 1, err);
}

int http_get(struct http *h, const char *url, const char *const *headers,
	     size_t nheaders, const struct http_opts *o, struct err *err)
{
	return request(h, url, headers, nheaders, NULL, 0, o, 1, err);
}
