/*
 * http.c - the retry policy, the servers' wait hints, key scrubbing and
 * error messages, for the live executor (live.c).
 */
#include "http.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const cause_names[RETRY_CAUSES] = {
	"429", "5xx", "408/409", "connect", "timeout", "bad-body",
};

const char *retry_cause_name(enum retry_cause c)
{
	return cause_names[c];
}

static bool is_https(const char *url)
{
	return url && !strncasecmp(url, "https://", 8);
}

bool http_h2c_usable(char *why, size_t n)
{
	const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

	if (!(v->features & CURL_VERSION_HTTP2)) {
		snprintf(why, n, "libcurl %s is built without HTTP/2",
			 v->version);
		return false;
	}
	if (v->version_num < 0x080000) {
		snprintf(why, n, "libcurl %s fails the second request on an "
			 "h2c connection (curl issue 10634, fixed in 8.0.0)",
			 v->version);
		return false;
	}
	return true;
}

/* libcurl's built-in CA bundle (NULL: none), put back on a handle that
 * carried another endpoint's ca_file: CURLOPT_CAINFO NULL would mean no
 * bundle rather than the default. */
static char *default_ca;
static pthread_once_t default_ca_once = PTHREAD_ONCE_INIT;

static void default_ca_init(void)
{
	CURL *h = curl_easy_init();
	char *p = NULL;

	if (h && curl_easy_getinfo(h, CURLINFO_CAINFO, &p) == CURLE_OK && p)
		default_ca = xstrdup(p);
	curl_easy_cleanup(h);
}

void http_setup(CURL *easy, int version, const char *url,
		const char *ca_file)
{
	long v;

	if (version == HTTP_1_1 || (version == HTTP_AUTO && !is_https(url)))
		v = CURL_HTTP_VERSION_1_1;
	else if (is_https(url))
		v = CURL_HTTP_VERSION_2TLS;	/* ALPN; 1.1 if not offered */
	else
		v = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
	curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, v);
	curl_easy_setopt(easy, CURLOPT_PIPEWAIT,
			 v == CURL_HTTP_VERSION_1_1 ? 0L : 1L);
	if (is_https(url)) {
		if (!ca_file) {
			pthread_once(&default_ca_once, default_ca_init);
			ca_file = default_ca;
		}
		curl_easy_setopt(easy, CURLOPT_CAINFO, ca_file);
	}
}

const char *http_wire_name(int version, const char *url)
{
	if (version == HTTP_1_1 || (version == HTTP_AUTO && !is_https(url)))
		return "HTTP/1.1";
	if (is_https(url))
		return "HTTP/2 if the server offers it, else HTTP/1.1";
	return "HTTP/2 (h2c, prior knowledge)";
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

/* ---- rate-limit reset hints ----------------------------------------- */

double http_parse_duration(const char *v)
{
	static const struct { const char *u; double s; } units[] = {
		/* longest first, so "ms" is not read as "m" */
		{ "ms", 1e-3 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 },
		{ "ns", 1e-9 }, { "h", 3600 }, { "m", 60 }, { "s", 1 },
	};
	double total = 0;
	int parts = 0;

	while (*v == ' ' || *v == '\t')
		v++;
	while (*v && *v != ' ' && *v != '\t' && *v != '\r' && *v != '\n') {
		char *end;
		double x;
		size_t i;

		if (!((*v >= '0' && *v <= '9') || *v == '.'))
			return -1;
		x = strtod(v, &end);
		if (end == v || !isfinite(x) || x < 0)
			return -1;
		v = end;
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			size_t k = strlen(units[i].u);

			if (strncmp(v, units[i].u, k) == 0) {
				total += x * units[i].s;
				v += k;
				break;
			}
		}
		if (i == ARRAY_SIZE(units))
			return -1;
		parts++;
	}
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	return parts && *v == '\0' && isfinite(total) ? total : -1;
}

/* Exactly n decimal digits at *p, as a number; -1 if not. */
static int digits(const char **p, int n)
{
	int x = 0;

	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		x = x * 10 + (**p - '0');
	}
	return x;
}

double http_parse_rfc3339(const char *v)
{
	struct tm tm;
	double frac = 0, s;
	long off = 0;
	int f[6];
	time_t t;

	memset(&tm, 0, sizeof(tm));
	while (*v == ' ' || *v == '\t')
		v++;
	if ((f[0] = digits(&v, 4)) < 0 || *v++ != '-' ||
	    (f[1] = digits(&v, 2)) < 1 || f[1] > 12 || *v++ != '-' ||
	    (f[2] = digits(&v, 2)) < 1 || f[2] > 31 ||
	    (*v != 'T' && *v != 't' && *v != ' ') || !*v++ ||
	    (f[3] = digits(&v, 2)) < 0 || f[3] > 23 || *v++ != ':' ||
	    (f[4] = digits(&v, 2)) < 0 || f[4] > 59 || *v++ != ':' ||
	    (f[5] = digits(&v, 2)) < 0 || f[5] > 60)
		return -1;
	if (*v == '.') {
		double scale = 0.1;

		if (*++v < '0' || *v > '9')
			return -1;
		for (; *v >= '0' && *v <= '9'; v++, scale /= 10)
			frac += (*v - '0') * scale;
	}
	if (*v == 'Z' || *v == 'z') {
		v++;
	} else if (*v == '+' || *v == '-') {
		int sign = *v++ == '-' ? -1 : 1, hh, mm;

		if ((hh = digits(&v, 2)) < 0 || hh > 23 || *v++ != ':' ||
		    (mm = digits(&v, 2)) < 0 || mm > 59)
			return -1;
		off = sign * (hh * 3600L + mm * 60L);
	} else {
		return -1;
	}
	while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
		v++;
	if (*v)
		return -1;
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_sec = f[5];
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	s = difftime(t - off, time(NULL)) + frac;
	return s < 0 ? 0 : s;
}

double http_parse_try_again(const char *msg)
{
	static const char pat[] = "try again in ";
	const char *p = msg ? strcasestr(msg, pat) : NULL;
	char tok[64];
	size_t n;

	if (!p)
		return -1;
	p += sizeof(pat) - 1;
	/* the duration runs to a blank, or to a "." that ends the sentence */
	for (n = 0; n + 1 < sizeof(tok) && p[n] && p[n] != ' ' &&
	     p[n] != ',' && p[n] != ')'; n++)
		tok[n] = p[n];
	if (n && tok[n - 1] == '.')
		n--;
	tok[n] = '\0';
	return n ? http_parse_duration(tok) : -1;
}

void http_redact(char *s, const char *secret)
{
	static const char mark[] = "[redacted]";
	size_t k = secret ? strlen(secret) : 0, m = sizeof(mark) - 1;
	char *hit;

	if (k < 4 || !s)
		return;		/* too short to be a key: would hit words */
	while ((hit = strstr(s, secret))) {
		if (k >= m) {
			memcpy(hit, mark, m);
			memmove(hit + m, hit + k, strlen(hit + k) + 1);
		} else {
			memset(hit, '*', k);
		}
	}
}

static void note_hint(struct http_hints *h, double s)
{
	if (s >= 0 && s > h->reset_hint)
		h->reset_hint = s;
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

void http_hints_reset(struct http_hints *h)
{
	h->retry_after = -1;
	h->reset_hint = -1;
	h->should_retry = -1;
	h->remaining_requests = -1;
	h->remaining_tokens = -1;
	h->remaining_reset = -1;
}

/* A count header's value: a non-negative number, else -1. */
static double count_value(const char *v)
{
	char *end;
	double x = strtod(v, &end);

	while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
		end++;
	return end != v && *end == '\0' && isfinite(x) && x >= 0 ? x : -1;
}

void http_hints_header(struct http_hints *h, const char *p, size_t len)
{
	const char *v;
	char tmp[128];

	if (len >= sizeof(tmp))
		return;
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
	} else if (header_is(tmp, len, "x-ratelimit-reset-requests", &v)) {
		note_hint(h, http_parse_duration(v));
		h->remaining_reset = http_parse_duration(v);
	} else if (header_is(tmp, len, "x-ratelimit-reset-tokens", &v)) {
		note_hint(h, http_parse_duration(v));
		if (h->remaining_reset < 0)
			h->remaining_reset = http_parse_duration(v);
	} else if (header_is(tmp, len, "x-ratelimit-remaining-requests", &v) ||
		   header_is(tmp, len, "anthropic-ratelimit-requests-remaining",
			     &v)) {
		h->remaining_requests = count_value(v);
	} else if (header_is(tmp, len, "x-ratelimit-remaining-tokens", &v) ||
		   header_is(tmp, len, "anthropic-ratelimit-tokens-remaining",
			     &v)) {
		h->remaining_tokens = count_value(v);
	} else if (strncasecmp(tmp, "anthropic-ratelimit-", 20) == 0 &&
		   (v = memchr(tmp, ':', len)) && v - tmp > 26 &&
		   strncasecmp(v - 6, "-reset", 6) == 0) {
		note_hint(h, http_parse_rfc3339(v + 1));
		if (h->remaining_reset < 0)
			h->remaining_reset = http_parse_rfc3339(v + 1);
	}
}

double http_retry_wait(struct http_hints *h, long status, const char *msg,
		       int k, double base, double cap, double unit)
{
	if (status == 429 && h->retry_after < 0)
		note_hint(h, http_parse_try_again(msg));
	if (h->retry_after > 0 && h->retry_after <= 120)
		return h->retry_after;
	if (status == 429 && h->retry_after < 0 && h->reset_hint > 0 &&
	    h->reset_hint <= 120)
		return h->reset_hint;
	return unit * fmin(cap, base * ldexp(1.0, k));
}

/* A server may echo what it was sent (a proxy's error page, a debug
 * echo): take the key of every secret header out of the reply before any
 * of it is read, cut or quoted. */
void http_scrub(struct buf *resp, const char *const *headers, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *v = NULL;
		size_t len = strlen(headers[i]);

		if (!header_is(headers[i], len, "authorization", &v) &&
		    !header_is(headers[i], len, "x-api-key", &v) &&
		    !header_is(headers[i], len, "api-key", &v))
			continue;
		while (*v == ' ')
			v++;
		if (strncasecmp(v, "Bearer ", 7) == 0)
			v += 7;
		if (resp->data && *v && strstr(resp->data, v)) {
			http_redact(resp->data, v);
			resp->len = strlen(resp->data);
		}
	}
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
