/*
 * batchapi.c - the providers' batch endpoints as a blocking client
 * (batchapi.h).
 *
 * One curl easy handle per client, reset before every attempt. JSON
 * replies are read into a buffer; result files go straight to the
 * caller's file through the write callback (only a 2xx body: an error
 * body goes to the buffer), and an attempt that fails half way is cut
 * off the file again before the next one. The Anthropic create body is
 * not built in memory: a read callback streams {"requests":[ ... ]}
 * from the lines file, a comma for each newline between two lines.
 */
#include "batchapi.h"
#include "buf.h"
#include "http.h"
#include "provider.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REPLY_MAX	(16u << 20)	/* a JSON reply or error body */
#define CHUNK		(64u << 10)
#define BIG_STALL_MIN	120		/* seconds without a byte, at least,
					 * for an upload or a download */

static const char create_head[] = "{\"requests\":[";
static const char create_tail[] = "]}";

/* The Anthropic create body, streamed from the lines file. */
struct stream {
	FILE *f;
	int stage;		/* 0 head, 1 lines, 2 tail, 3 done */
	size_t pos;		/* in head or tail */
	bool any;		/* a line went out: the next needs a comma */
	bool in_line;		/* inside a line */
	bool comma;		/* a comma is owed before the next byte */
	char chunk[CHUNK];
	size_t clen, cpos;
};

struct batchapi {
	const struct endpoint *ep;
	int api;
	CURL *curl;
	char *base;		/* base URL, no trailing slash */
	char *origin;		/* scheme://host[:port] of base */
	char *path;		/* base's path: "/v1" or "" */
	char *key;		/* the key header, or NULL */
	struct buf resp;
	struct http_hints hints;
	char curl_err[CURL_ERROR_SIZE];
	uint64_t jitter;
	int fd;			/* >= 0: a 2xx body is written here */
	int write_errno;
	struct stream *st;
};

/* ---- pure functions ------------------------------------------------ */

bool batchapi_custom_id_ok(const char *id)
{
	size_t n = 0;

	if (!id)
		return false;
	for (; id[n]; n++) {
		char c = id[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return n >= 1 && n <= 64;
}

/* s as a JSON string, quotes included, into o. */
static int add_json_string(struct buf *o, const char *s)
{
	int rc = buf_add(o, "\"", 1);

	for (; *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = buf_printf(o, "\\%c", c);
		else if (c < 0x20)
			rc = buf_printf(o, "\\u%04x", c);
		else
			rc = buf_add(o, s, 1);
	}
	return rc ? rc : buf_add(o, "\"", 1);
}

char *batchapi_line(const struct batchapi *b, const char *custom_id,
		    const char *body, size_t len, size_t *n)
{
	struct buf o;
	int rc;

	buf_init(&o, (size_t)-1 / 2);
	rc = buf_addstr(&o, "{\"custom_id\":");
	rc |= add_json_string(&o, custom_id);
	if (b->api == API_ANTHROPIC) {
		rc |= buf_addstr(&o, ",\"params\":");
	} else {
		rc |= buf_addstr(&o, ",\"method\":\"POST\",\"url\":");
		rc |= buf_add(&o, "\"", 1);
		rc |= buf_addstr(&o, b->path);
		rc |= buf_addstr(&o, "/chat/completions\",\"body\":");
	}
	rc |= buf_add(&o, body, len);
	rc |= buf_addstr(&o, "}\n");
	if (rc) {
		/* cannot happen below the ceiling; as out of memory */
		fprintf(stderr, "caigen: batch line too long\n");
		exit(2);
	}
	*n = o.len;
	return buf_detach(&o);
}

/* ---- result lines -------------------------------------------------- */

static const char *str_member(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* An error type no new attempt mends. */
static bool type_final(const char *t)
{
	static const char *const final[] = {
		"invalid_request_error", "authentication_error",
		"permission_error", "not_found_error", "billing_error",
		"request_too_large",
	};

	for (size_t i = 0; t && i < ARRAY_SIZE(final); i++)
		if (strcmp(t, final[i]) == 0)
			return true;
	return false;
}

/* An error type (or code) worth another attempt. */
static bool type_transient(const char *t)
{
	static const char *const again[] = {
		"rate_limit_error", "overloaded_error", "api_error",
		"timeout_error", "server_error", "batch_expired",
		"batch_cancelled", "batch_canceled", "rate_limit_exceeded",
	};

	for (size_t i = 0; t && i < ARRAY_SIZE(again); i++)
		if (strcmp(t, again[i]) == 0)
			return true;
	return false;
}

/* Anthropic has no per-request status: the one its error type goes
 * with on the live API. */
static long anthropic_status(const char *type)
{
	static const struct { const char *t; long s; } map[] = {
		{ "invalid_request_error", 400 }, { "authentication_error", 401 },
		{ "billing_error", 402 }, { "permission_error", 403 },
		{ "not_found_error", 404 }, { "request_too_large", 413 },
		{ "rate_limit_error", 429 }, { "api_error", 500 },
		{ "timeout_error", 504 }, { "overloaded_error", 529 },
	};

	for (size_t i = 0; type && i < ARRAY_SIZE(map); i++)
		if (strcmp(type, map[i].t) == 0)
			return map[i].s;
	return 0;
}

/* "code: message" into r->error from an error object: {code, message},
 * {type, message}, or either wrapped in an "error" member. */
static void error_from(json_t *e, const char **type, const char **code,
		       const char **msg)
{
	json_t *inner = json_object_get(e, "error");

	if (json_is_object(inner))
		e = inner;
	*type = str_member(e, "type");
	*code = str_member(e, "code");
	*msg = str_member(e, "message");
}

static int parse_openai(json_t *j, struct batch_result *r)
{
	json_t *resp = json_object_get(j, "response");
	json_t *error = json_object_get(j, "error");
	json_t *body = json_object_get(resp, "body");
	json_t *sc = json_object_get(resp, "status_code");
	const char *type = NULL, *code = NULL, *msg = NULL;
	char head[96];

	r->status = json_is_integer(sc) ? (long)json_integer_value(sc) : 0;
	if (json_is_null(error) || !error) {
		if (json_is_object(resp) && r->status == 200 &&
		    json_is_object(body)) {
			r->body = json_dumps(body, JSON_COMPACT |
					     JSON_REAL_PRECISION(17));
			if (!r->body) {
				fprintf(stderr, "caigen: out of memory\n");
				exit(2);
			}
			r->ok = true;
			return 0;
		}
		if (json_is_object(body))
			error_from(body, &type, &code, &msg);
	} else if (json_is_string(error)) {
		msg = json_string_value(error);
	} else if (json_is_object(error)) {
		/* vLLM's integer code (the status) reads as no code */
		error_from(error, &type, &code, &msg);
	}
	if (type_final(type) || type_final(code))
		r->retry = false;
	else if (type_transient(code) || type_transient(type))
		r->retry = true;
	else if (r->status >= 400 && r->status < 600)
		r->retry = http_status_retryable(r->status, code ? code : type);
	else
		r->retry = true;	/* status 0, 200 without a body, ... */
	if (code)
		snprintf(head, sizeof(head), "%s", code);
	else if (type)
		snprintf(head, sizeof(head), "%s", type);
	else if (!json_is_object(resp))
		snprintf(head, sizeof(head), "no response");
	else
		snprintf(head, sizeof(head), "status_code %ld", r->status);
	if (!msg) {
		msg = !json_is_object(resp) ? "the line has no response" :
		      r->status == 200 ? "the response has no body" :
		      "the response has no error message";
	}
	snprintf(r->error, sizeof(r->error), "%s: %s", head, msg);
	return 0;
}

static int parse_anthropic(json_t *j, struct batch_result *r)
{
	json_t *res = json_object_get(j, "result");
	const char *t = str_member(res, "type");
	const char *type = NULL, *code = NULL, *msg = NULL;

	r->retry = true;
	if (t && strcmp(t, "succeeded") == 0) {
		json_t *m = json_object_get(res, "message");

		if (json_is_object(m)) {
			r->body = json_dumps(m, JSON_COMPACT |
					     JSON_REAL_PRECISION(17));
			if (!r->body) {
				fprintf(stderr, "caigen: out of memory\n");
				exit(2);
			}
			r->ok = true;
			r->status = 200;
			return 0;
		}
		snprintf(r->error, sizeof(r->error), "succeeded: the result "
			 "has no message");
		return 0;
	}
	if (t && strcmp(t, "errored") == 0) {
		error_from(json_object_get(res, "error"), &type, &code, &msg);
		r->status = anthropic_status(type);
		r->retry = !type_final(type);
		snprintf(r->error, sizeof(r->error), "%s: %s",
			 type ? type : "errored", msg ? msg :
			 "the request failed without a message");
		return 0;
	}
	if (t && strcmp(t, "canceled") == 0)
		snprintf(r->error, sizeof(r->error), "canceled: the batch was "
			 "canceled before this request ran");
	else if (t && strcmp(t, "expired") == 0)
		snprintf(r->error, sizeof(r->error), "expired: the batch "
			 "expired before this request ran");
	else
		snprintf(r->error, sizeof(r->error), "unknown result type "
			 "'%.60s'", t ? t : "(none)");
	return 0;
}

int batchapi_parse_result(int api, const char *line, size_t len,
			  struct batch_result *r, struct err *err)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *id;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!json_is_object(j)) {
		json_decref(j);
		return err_set(err, "result line is not JSON");
	}
	id = str_member(j, "custom_id");
	if (!id || !*id) {
		json_decref(j);
		return err_set(err, "result line has no custom_id");
	}
	if (strlen(id) >= sizeof(r->custom_id)) {
		err_set(err, "result line's custom_id '%.70s...' is longer "
			"than 64", id);
		json_decref(j);
		return -1;
	}
	strcpy(r->custom_id, id);
	rc = api == API_ANTHROPIC ? parse_anthropic(j, r) : parse_openai(j, r);
	json_decref(j);
	return rc;
}

/* ---- the client ---------------------------------------------------- */

static double unit_random(struct batchapi *b)
{
	uint64_t x = b->jitter;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->jitter = x;
	return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) /
	       9007199254740992.0;
}

struct batchapi *batchapi_new(const struct endpoint *ep, struct err *err)
{
	const char *base = ep->base_url ? ep->base_url :
			   ep->nbase_urls ? ep->base_urls[0] : NULL;
	struct batchapi *b;
	const char *host, *slash;
	size_t n;

	if (ep->api != API_CHAT && ep->api != API_ANTHROPIC)
		return err_set(err, "the completions API has no batch "
			       "endpoints: batch mode needs api: chat "
			       "(OpenAI) or api: anthropic"), NULL;
	if (!base || !(host = strstr(base, "://")))
		return err_set(err, "batch mode needs a base_url like "
			       "https://HOST/v1, not '%s'",
			       base ? base : "(none)"), NULL;
	b = xcalloc(1, sizeof(*b));
	b->curl = curl_easy_init();
	if (!b->curl) {
		free(b);
		return err_set(err, "curl_easy_init failed"), NULL;
	}
	b->ep = ep;
	b->api = ep->api;
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	b->base = xstrndup(base, n);
	host = strstr(b->base, "://") + 3;
	slash = strchr(host, '/');
	b->origin = slash ? xstrndup(b->base, (size_t)(slash - b->base)) :
			    xstrdup(b->base);
	b->path = xstrdup(slash ? slash : "");
	b->key = provider_key_header(ep->api, ep->api_key);
	buf_init(&b->resp, REPLY_MAX);
	b->fd = -1;
	b->jitter = (uint64_t)time(NULL) * 2654435761u ^
		    (uint64_t)(uintptr_t)b;
	if (!b->jitter)
		b->jitter = 1;
	return b;
}

void batchapi_free(struct batchapi *b)
{
	if (!b)
		return;
	curl_easy_cleanup(b->curl);
	provider_free_secret(b->key);
	buf_release(&b->resp);
	free(b->base);
	free(b->origin);
	free(b->path);
	free(b);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct batchapi *b = arg;
	size_t len = size * n;
	long status = 0;

	if (b->fd >= 0) {
		curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			for (size_t off = 0; off < len;) {
				ssize_t k = write(b->fd, p + off, len - off);

				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0) {
					b->write_errno = k < 0 ? errno : EIO;
					return 0;
				}
				off += (size_t)k;
			}
			return len;
		}
	}
	if (buf_add(&b->resp, p, len) < 0)
		return 0;
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct batchapi *b = arg;

	http_hints_header(&b->hints, p, size * n);
	return size * n;
}

/* Refill s->chunk; false at the end of the file. */
static bool stream_fill(struct stream *s)
{
	s->clen = fread(s->chunk, 1, sizeof(s->chunk), s->f);
	s->cpos = 0;
	return s->clen > 0;
}

static size_t on_read(char *out, size_t size, size_t n, void *arg)
{
	struct stream *s = ((struct batchapi *)arg)->st;
	size_t room = size * n, done = 0;

	while (done < room && s->stage < 3) {
		const char *fix = s->stage == 0 ? create_head : create_tail;
		size_t fixlen = s->stage == 0 ? sizeof(create_head) - 1 :
				sizeof(create_tail) - 1;

		if (s->stage != 1) {
			size_t k = fixlen - s->pos;

			if (k > room - done)
				k = room - done;
			memcpy(out + done, fix + s->pos, k);
			done += k;
			s->pos += k;
			if (s->pos == fixlen) {
				s->stage++;
				s->pos = 0;
			}
			continue;
		}
		if (s->cpos == s->clen && !stream_fill(s)) {
			if (ferror(s->f))
				return CURL_READFUNC_ABORT;
			s->stage = 2;
			continue;
		}
		if (s->chunk[s->cpos] == '\n') {
			s->in_line = false;
			s->cpos++;
			continue;
		}
		if (!s->in_line) {
			s->in_line = true;
			s->comma = s->any;
			s->any = true;
		}
		if (s->comma) {
			out[done++] = ',';
			s->comma = false;
			continue;
		}
		{
			const char *nl = memchr(s->chunk + s->cpos, '\n',
						s->clen - s->cpos);
			size_t k = (nl ? (size_t)(nl - s->chunk) : s->clen) -
				   s->cpos;

			if (k > room - done)
				k = room - done;
			memcpy(out + done, s->chunk + s->cpos, k);
			done += k;
			s->cpos += k;
		}
	}
	return done;
}

static void stream_rewind(struct stream *s)
{
	rewind(s->f);
	s->stage = 0;
	s->pos = s->clen = s->cpos = 0;
	s->any = s->in_line = s->comma = false;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
	struct batchapi *b = arg;

	if (off != 0 || origin != SEEK_SET || !b->st)
		return CURL_SEEKFUNC_CANTSEEK;
	stream_rewind(b->st);
	return CURL_SEEKFUNC_OK;
}

/* One HTTP exchange, as batchapi.h's retry rule has it. */
struct req {
	const char *method;	/* "GET" or "POST" */
	const char *url;
	const char *body;	/* JSON, or NULL */
	size_t len;
	curl_mime *mime;	/* a multipart POST */
	curl_off_t stream_len;	/* > 0: POST b->st, this long */
	int fd;			/* >= 0: a 2xx body goes here */
	const char *file;	/* fd's name, for errors */
	bool big;		/* no total time limit */
	const char *find_tag;	/* a batch create: before each retry, look
				 * for a batch with this tag (batchapi_find);
				 * one found ends the call (perform 1) */
	struct batch_info *found;	/* where find_tag's batch goes */
};

/* "POST /v1/batches" for an error message. */
static void describe(const struct req *rq, char *out, size_t n)
{
	const char *p = strstr(rq->url, "://");

	p = p ? strchr(p + 3, '/') : NULL;
	snprintf(out, n, "%s %.*s", rq->method,
		 (int)(p ? strcspn(p, "?") : strlen(rq->url)),
		 p ? p : rq->url);
}

static void sleep_sec(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void setup(struct batchapi *b, const struct req *rq,
		  struct curl_slist **sl)
{
	const struct endpoint *ep = b->ep;
	const char *fixed = provider_fixed_header(b->api);
	double stall = ep->stall_timeout > 0 ? ep->stall_timeout : 30;
	CURL *c = b->curl;

	*sl = NULL;
	if (b->key)
		*sl = curl_slist_append(*sl, b->key);
	if (fixed)
		*sl = curl_slist_append(*sl, fixed);
	if (rq->body || rq->stream_len > 0)
		*sl = curl_slist_append(*sl, "Content-Type: application/json");
	if (strcmp(rq->method, "POST") == 0)
		*sl = curl_slist_append(*sl, "Expect:");
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, rq->url);
	http_setup(c, ep->http, rq->url, ep->ca_file);	/* http.h */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *sl);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, b);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, b->curl_err);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "caigen/" CAIGEN_VERSION);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)((ep->connect_timeout > 0 ?
				 ep->connect_timeout : 10) * 1000));
	if (rq->big && stall < BIG_STALL_MIN)
		stall = BIG_STALL_MIN;
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)stall);
	if (!rq->big)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
				 (long)((ep->timeout > 0 ? ep->timeout : 600) *
					1000));
	/* curl sends a request again by itself when a reused connection
	 * closes without an answer: not a create (a second paid batch) */
	if (rq->find_tag)
		curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
	if (rq->mime) {
		curl_easy_setopt(c, CURLOPT_MIMEPOST, rq->mime);
	} else if (rq->stream_len > 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, b);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, b);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 rq->stream_len);
	} else if (strcmp(rq->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 rq->body ? rq->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(rq->body ? rq->len : 0));
	}
}

/* Send rq until it succeeds (0; the reply in b->resp, or in rq->fd) or
 * fails for good (-1 with err). With rq->find_tag, a retry first looks
 * for the batch a lost answer may have made: 1 and rq->found filled if
 * there is one (never a second, paid, batch). */
static int perform(struct batchapi *b, const struct req *rq, struct err *err)
{
	const struct endpoint *ep = b->ep;
	int attempts = ep->max_attempts > 0 ? ep->max_attempts : 1;
	char what[200], msg[400];
	off_t start = 0;

	describe(rq, what, sizeof(what));
	if (rq->fd >= 0 && (start = lseek(rq->fd, 0, SEEK_END)) < 0)
		return err_set(err, "cannot seek in '%s': %s", rq->file,
			       strerror(errno));
	for (int k = 0;; k++) {
		struct curl_slist *sl;
		CURLcode cc;
		long status = 0;
		bool retry;

		buf_reset(&b->resp);
		http_hints_reset(&b->hints);
		b->curl_err[0] = '\0';
		b->fd = rq->fd;
		b->write_errno = 0;
		if (b->st)
			stream_rewind(b->st);
		setup(b, rq, &sl);
		cc = curl_easy_perform(b->curl);
		curl_slist_free_all(sl);
		b->fd = -1;
		if (cc == CURLE_OK)
			curl_easy_getinfo(b->curl, CURLINFO_RESPONSE_CODE,
					  &status);
		/* a server may quote the key back: out before any use */
		if (b->resp.data && b->ep->api_key) {
			http_redact(b->resp.data, b->ep->api_key);
			b->resp.len = strlen(b->resp.data);
		}
		if (cc == CURLE_OK && status >= 200 && status < 300)
			return 0;
		if (rq->fd >= 0 && ftruncate(rq->fd, start) != 0)
			return err_set(err, "cannot cut '%s' back: %s",
				       rq->file, strerror(errno));
		if (b->write_errno)
			return err_set(err, "cannot write '%s': %s", rq->file,
				       strerror(b->write_errno));
		msg[0] = '\0';
		if (cc == CURLE_OK) {
			http_error_message(b->resp.data, msg, sizeof(msg));
			err_set(err, "%s: %ld: %s", what, status,
				msg[0] ? msg : "(empty body)");
			retry = b->hints.should_retry >= 0 ?
				b->hints.should_retry == 1 :
				http_status_retryable(status, b->resp.data);
		} else {
			err_set(err, "%s: cannot reach %s: %s", what, b->origin,
				b->curl_err[0] ? b->curl_err :
				curl_easy_strerror(cc));
			retry = cc != CURLE_WRITE_ERROR &&
				cc != CURLE_URL_MALFORMAT &&
				cc != CURLE_UNSUPPORTED_PROTOCOL &&
				cc != CURLE_ABORTED_BY_CALLBACK &&
				cc != CURLE_READ_ERROR;
		}
		if (err && b->ep->api_key)
			http_redact(err->msg, b->ep->api_key);
		if (!retry || k + 1 >= attempts) {
			if (k > 0 && err) {
				size_t l = strlen(err->msg);

				snprintf(err->msg + l, sizeof(err->msg) - l,
					 " (after %d attempts)", k + 1);
			}
			return -1;
		}
		sleep_sec(http_retry_wait(&b->hints, status, msg, k,
					  ep->backoff_base > 0 ?
					  ep->backoff_base : 0.5,
					  ep->backoff_max > 0 ?
					  ep->backoff_max : 8,
					  unit_random(b)));
		if (rq->find_tag && rq->found) {
			/* the request may have reached the server (a lost
			 * answer, a stall, a 5xx after the work): a batch
			 * made by it is used, not made again */
			struct err ferr = { 0 };
			int f = batchapi_find(b, rq->find_tag, rq->found,
					      &ferr);

			if (f == 1)
				return 1;
			if (f < 0) {
				if (err) {
					size_t l = strlen(err->msg);

					snprintf(err->msg + l,
						 sizeof(err->msg) - l,
						 "; not sent again: cannot "
						 "tell whether it made a "
						 "batch: %s", ferr.msg);
				}
				return -1;
			}
		}
	}
}

/* ---- batch objects ------------------------------------------------- */

static void copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

static long count(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

/* OpenAI's `errors` list as "line 3: code: message; ..." */
static void openai_why(json_t *errors, char *out, size_t n)
{
	json_t *data = json_object_get(errors, "data"), *e;
	size_t i, len = 0;

	out[0] = '\0';
	if (json_is_array(errors))
		data = errors;
	json_array_foreach(data, i, e) {
		json_t *line = json_object_get(e, "line");
		const char *code = str_member(e, "code");
		const char *msg = str_member(e, "message");
		int k;

		if (len >= n - 1)
			break;
		if (json_is_integer(line))
			k = snprintf(out + len, n - len, "%sline %lld: %s: %s",
				     len ? "; " : "",
				     (long long)json_integer_value(line),
				     code ? code : "error", msg ? msg : "");
		else
			k = snprintf(out + len, n - len, "%s%s: %s",
				     len ? "; " : "", code ? code : "error",
				     msg ? msg : "");
		if (k < 0)
			break;
		len += (size_t)k;
		if (len > n - 1)
			len = n - 1;
	}
	if (!out[0])
		snprintf(out, n, "the batch failed and gave no reason");
}

static int fill_info(int api, json_t *j, struct batch_info *out,
		     struct err *err)
{
	const char *id = str_member(j, "id");
	const char *status = str_member(j, api == API_ANTHROPIC ?
					"processing_status" : "status");
	json_t *rc = json_object_get(j, "request_counts");

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j) || !id || !status)
		return err_set(err, "the batch reply has no %s",
			       !json_is_object(j) || !id ? "id" : "status");
	copy_str(out->id, sizeof(out->id), id);
	copy_str(out->status, sizeof(out->status), status);
	if (api == API_ANTHROPIC) {
		out->phase = strcmp(status, "ended") == 0 ? BATCH_ENDED :
			     BATCH_RUNNING;
		out->completed = count(rc, "succeeded");
		out->failed = count(rc, "errored") + count(rc, "expired") +
			      count(rc, "canceled");
		out->total = out->completed + out->failed +
			     count(rc, "processing");
		copy_str(out->output, sizeof(out->output),
			 str_member(j, "results_url"));
		return 0;
	}
	if (!strcmp(status, "completed") || !strcmp(status, "expired") ||
	    !strcmp(status, "cancelled") || !strcmp(status, "canceled"))
		out->phase = BATCH_ENDED;
	else if (!strcmp(status, "failed"))
		out->phase = BATCH_FAILED;
	else
		out->phase = BATCH_RUNNING;
	out->total = count(rc, "total");
	out->completed = count(rc, "completed");
	out->failed = count(rc, "failed");
	copy_str(out->output, sizeof(out->output),
		 str_member(j, "output_file_id"));
	copy_str(out->errors, sizeof(out->errors),
		 str_member(j, "error_file_id"));
	if (out->phase == BATCH_FAILED)
		openai_why(json_object_get(j, "errors"), out->why,
			   sizeof(out->why));
	return 0;
}

/* b->resp as JSON: a new reference, or NULL with err. */
static json_t *reply_json(struct batchapi *b, const char *what,
			  struct err *err)
{
	json_error_t je;
	json_t *j = json_loadb(b->resp.data ? b->resp.data : "", b->resp.len,
			       0, &je);

	if (!json_is_object(j)) {
		json_decref(j);
		err_set(err, "%s: the reply is not a JSON object", what);
		return NULL;
	}
	return j;
}

static int info_from_reply(struct batchapi *b, const char *what,
			   struct batch_info *out, struct err *err)
{
	json_t *j = reply_json(b, what, err);
	int rc;

	if (!j)
		return -1;
	rc = fill_info(b->api, j, out, err);
	if (rc)
		err_set(err, "%s: the reply has no batch id or status", what);
	json_decref(j);
	return rc;
}

/* ---- create ---------------------------------------------------------- */

/* Count the lines of path and the create body's length (Anthropic). */
static int scan_lines(const char *path, size_t *lines, curl_off_t *body,
		      struct err *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[CHUNK];
	size_t k, bytes = 0;
	bool in_line = false;

	*lines = 0;
	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		for (size_t i = 0; i < k; i++) {
			if (chunk[i] == '\n') {
				in_line = false;
				continue;
			}
			if (!in_line) {
				in_line = true;
				++*lines;
			}
			bytes++;
		}
	}
	if (ferror(f)) {
		fclose(f);
		return err_set(err, "cannot read '%s': %s", path,
			       strerror(errno));
	}
	fclose(f);
	*body = (curl_off_t)(bytes + (*lines ? *lines - 1 : 0) +
			     sizeof(create_head) - 1 + sizeof(create_tail) - 1);
	return 0;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static int create_openai(struct batchapi *b, const char *path,
			 const char *tag, struct batch_info *out,
			 struct err *err)
{
	char *url = xasprintf("%s/files", b->base), *body, *endpoint;
	const char *name = base_name(path);
	size_t nl = strlen(name);
	curl_mime *mime = curl_mime_init(b->curl);
	curl_mimepart *part;
	struct req rq = { .method = "POST", .url = url, .fd = -1,
			  .big = true, .mime = mime };
	json_t *j, *req;
	char *file_id;
	int rc;

	part = curl_mime_addpart(mime);
	curl_mime_name(part, "purpose");
	curl_mime_data(part, "batch", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	if (curl_mime_filedata(part, path) != CURLE_OK) {
		curl_mime_free(mime);
		free(url);
		return err_set(err, "cannot read '%s'", path);
	}
	/* the Batch API refuses a file whose name does not end in .jsonl */
	curl_mime_filename(part, nl > 6 && !strcmp(name + nl - 6, ".jsonl") ?
			   name : "caigen-batch.jsonl");
	curl_mime_type(part, "application/jsonl");
	rc = perform(b, &rq, err);
	curl_mime_free(mime);
	free(url);
	if (rc)
		return -1;
	if (!(j = reply_json(b, "POST /files", err)))
		return -1;
	if (!str_member(j, "id")) {
		json_decref(j);
		return err_set(err, "POST %s/files: the reply has no file id",
			       b->path);
	}
	file_id = xstrdup(str_member(j, "id"));
	json_decref(j);

	endpoint = xasprintf("%s/chat/completions", b->path);
	req = json_pack("{s:s, s:s, s:s, s:{s:s}}", "input_file_id", file_id,
			"endpoint", endpoint, "completion_window", "24h",
			"metadata", "caigen", tag ? tag : "");
	body = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	free(endpoint);
	free(file_id);
	if (!body)
		return err_set(err, "cannot build the batch request (is the "
			       "tag UTF-8?)");
	url = xasprintf("%s/batches", b->base);
	/* big: a loaded provider may take minutes to answer a create, and
	 * a stall there must not send it again (a second paid batch) */
	rq = (struct req){ .method = "POST", .url = url, .body = body,
			   .len = strlen(body), .fd = -1, .big = true,
			   .find_tag = tag && tag[0] ? tag : NULL,
			   .found = out };
	rc = perform(b, &rq, err);
	free(body);
	free(url);
	if (rc < 0)
		return -1;
	if (rc == 1)
		return 0;	/* made by an attempt whose answer was lost */
	return info_from_reply(b, "POST /batches", out, err);
}

static int create_anthropic(struct batchapi *b, const char *path,
			    curl_off_t len, struct batch_info *out,
			    struct err *err)
{
	char *url = xasprintf("%s/messages/batches", b->base);
	struct req rq = { .method = "POST", .url = url, .stream_len = len,
			  .fd = -1, .big = true };
	struct stream *s = xcalloc(1, sizeof(*s));
	int rc;

	if (!(s->f = fopen(path, "rb"))) {
		free(s);
		free(url);
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	}
	b->st = s;
	rc = perform(b, &rq, err);
	b->st = NULL;
	fclose(s->f);
	free(s);
	free(url);
	if (rc) {
		if (strstr(err->msg, ": 413: ")) {
			size_t l = strlen(err->msg);

			snprintf(err->msg + l, sizeof(err->msg) - l,
				 " (the body was %lld bytes)", (long long)len);
		}
		return -1;
	}
	return info_from_reply(b, "POST /messages/batches", out, err);
}

int batchapi_create(struct batchapi *b, const char *path, size_t nreq,
		    const char *tag, struct batch_info *out, struct err *err)
{
	size_t lines;
	curl_off_t len;

	if (scan_lines(path, &lines, &len, err))
		return -1;
	if (lines == 0)
		return err_set(err, "'%s' holds no requests", path);
	if (lines != nreq)
		return err_set(err, "'%s' holds %zu requests, not %zu", path,
			       lines, nreq);
	if (tag && strlen(tag) > 64)
		return err_set(err, "batch tag '%.70s...' is longer than 64",
			       tag);
	return b->api == API_ANTHROPIC ?
	       create_anthropic(b, path, len, out, err) :
	       create_openai(b, path, tag, out, err);
}

/* ---- poll, cancel, find -------------------------------------------- */

/* The batch's URL, id escaped, with a suffix ("", "/cancel"). */
static char *batch_url(struct batchapi *b, const char *id, const char *tail)
{
	char *esc = curl_easy_escape(b->curl, id, 0);
	char *url = xasprintf("%s/%s/%s%s", b->base, b->api == API_ANTHROPIC ?
			      "messages/batches" : "batches", esc ? esc : "",
			      tail);

	curl_free(esc);
	return url;
}

int batchapi_poll(struct batchapi *b, const char *id, struct batch_info *out,
		  struct err *err)
{
	char *url = batch_url(b, id, "");
	struct req rq = { .method = "GET", .url = url, .fd = -1 };
	int rc = perform(b, &rq, err);

	free(url);
	if (rc)
		return -1;
	return info_from_reply(b, "GET batch", out, err);
}

int batchapi_cancel(struct batchapi *b, const char *id, struct err *err)
{
	char *url = batch_url(b, id, "/cancel");
	struct req rq = { .method = "POST", .url = url, .fd = -1 };
	int rc = perform(b, &rq, err);

	free(url);
	return rc;
}

#define FIND_MAX_PAGES 1000

int batchapi_find(struct batchapi *b, const char *tag,
		  struct batch_info *out, struct err *err)
{
	char *after = NULL;

	if (b->api == API_ANTHROPIC)
		return 0;
	for (int page = 0; page < FIND_MAX_PAGES; page++) {
		char *esc = after ? curl_easy_escape(b->curl, after, 0) : NULL;
		char *url = xasprintf("%s/batches?limit=100%s%s", b->base,
				      esc ? "&after=" : "", esc ? esc : "");
		struct req rq = { .method = "GET", .url = url, .fd = -1 };
		json_t *j, *data, *e, *best = NULL;
		json_int_t best_at = 0;
		size_t i;
		int rc = perform(b, &rq, err);

		curl_free(esc);
		free(url);
		if (rc || !(j = reply_json(b, "GET /batches", err))) {
			free(after);
			return -1;
		}
		data = json_object_get(j, "data");
		/* newest first: the first page with the tag has the newest
		 * of them; the latest created_at there wins all the same */
		json_array_foreach(data, i, e) {
			const char *t = str_member(json_object_get(e,
						   "metadata"), "caigen");
			json_int_t at = json_integer_value(
				json_object_get(e, "created_at"));

			if (t && tag && strcmp(t, tag) == 0 &&
			    (!best || at > best_at)) {
				best = e;
				best_at = at;
			}
		}
		if (best) {
			rc = fill_info(b->api, best, out, err);
			json_decref(j);
			free(after);
			return rc ? -1 : 1;
		}
		free(after);
		after = NULL;
		e = json_array_get(data, json_array_size(data) - 1);
		if (json_is_true(json_object_get(j, "has_more")) &&
		    (str_member(j, "last_id") || str_member(e, "id")))
			after = xstrdup(str_member(j, "last_id") ?
					str_member(j, "last_id") :
					str_member(e, "id"));
		json_decref(j);
		if (!after)
			return 0;
	}
	free(after);
	return 0;
}

/* ---- fetch ------------------------------------------------------------ */

/* Make the file end in a newline (if it has bytes), so that the next
 * download starts a line of its own. */
static int end_line(int fd, const char *path, struct err *err)
{
	struct stat sb;
	char c;

	if (fstat(fd, &sb) != 0)
		return err_set(err, "cannot stat '%s': %s", path,
			       strerror(errno));
	if (sb.st_size == 0)
		return 0;
	if (pread(fd, &c, 1, sb.st_size - 1) != 1)
		return err_set(err, "cannot read '%s': %s", path,
			       strerror(errno));
	if (c != '\n' && write(fd, "\n", 1) != 1)
		return err_set(err, "cannot write '%s': %s", path,
			       strerror(errno));
	return 0;
}

static int download(struct batchapi *b, const char *url, int fd,
		    const char *path, struct err *err)
{
	struct req rq = { .method = "GET", .url = url, .fd = fd,
			  .file = path, .big = true };

	if (end_line(fd, path, err))
		return -1;
	return perform(b, &rq, err);
}

int batchapi_fetch(struct batchapi *b, const struct batch_info *in,
		   const char *path, struct err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int rc = 0;

	if (fd < 0)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	if (b->api == API_ANTHROPIC) {
		size_t ol = strlen(b->origin);

		if (!in->output[0])
			rc = err_set(err, "batch %s has no results_url yet",
				     in->id);
		/* the key goes only where the endpoint is */
		else if (strncmp(in->output, b->origin, ol) != 0 ||
			 in->output[ol] != '/')
			rc = err_set(err, "batch %s: results_url '%.200s' is "
				     "not on %s; not sending the key there",
				     in->id, in->output, b->origin);
		else
			rc = download(b, in->output, fd, path, err);
	} else {
		const char *ids[2] = { in->output, in->errors };

		for (int i = 0; i < 2 && rc == 0; i++) {
			char *esc, *url;

			if (!ids[i][0])
				continue;
			esc = curl_easy_escape(b->curl, ids[i], 0);
			url = xasprintf("%s/files/%s/content", b->base,
					esc ? esc : "");
			curl_free(esc);
			rc = download(b, url, fd, path, err);
			free(url);
		}
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = err_set(err, "cannot sync '%s': %s", path,
			     strerror(errno));
	close(fd);
	return rc;
}
