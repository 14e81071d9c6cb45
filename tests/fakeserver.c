/*
 * fakeserver.c - caigen's fake OpenAI-compatible model server, for the tests
 * and `make demo`. Every answer is a pure function of the request.
 *
 * fakeserver [--port N] [--port-file F] [--latency-ms N] [--api-key KEY]
 *            [--no-n] [--judge-bias-a X] [--judge-lead] [--log FILE]
 *            [--threads-max N] [--faults SPEC] [--fault-seed N]
 *            [--stall-ms N] [--fault-hint-ms N] [--echo-headers-on-error]
 *            [--refuse-logprobs] [--completions-chat-logprobs]
 *            [--key-post-only] [--refuse-after N] [--same-answers]
 *
 *   (/v1/completions, /v1/messages, --refuse-logprobs and the judge's
 *   rationales are described above ext_route(), further down.)
 *
 *   --port N         127.0.0.1:N (0, the default: any free port). Once it
 *                    listens it prints "fakeserver listening on 127.0.0.1:P".
 *   --port-file F    also write "P\n" to F (through F.tmp and rename).
 *   --latency-ms N   sleep N ms before answering each POST.
 *   --api-key KEY    all but GET /health need "Authorization: Bearer KEY",
 *                    else 401 with OpenAI's invalid_api_key body.
 *   --no-n           a chat request with n > 1 gets llama.cpp's 400.
 *   --judge-bias-a X added to the judge's logit for reply A (default 0).
 *   --judge-prefer-shorter  the judge's rule below with LB - LA in place
 *                    of LA - LB: it prefers the shorter reply.
 *   --judge-lead     judge answers start with a "**" token (top_logprobs:
 *                    "**" -0.05, "The" -3.0) before the letter: "**A".
 *                    Not when max_tokens < 2.
 *   --log FILE       append a JSON line per request, before answering it:
 *                    {"method", "path", "headers": {lowercase name: value},
 *                    "body": the parsed JSON, else the text}.
 *   --threads-max N  at most N connections at once (default 8192); others
 *                    wait in the listen queue, and connections idle for
 *                    250 ms close to make room for them.
 *   --faults SPEC    inject faults into POST answers at the given rates,
 *                    e.g. "429=0.05,429h=0.03,500=0.03,503=0.02,529=0.02,
 *                    stall=0.01,reset=0.01,truncate=0.01,badjson=0.01,
 *                    errbody=0.01,nologprobs=0.01" (sum <= 1). 429: no
 *                    hint; 429h: in turn retry-after-ms, retry-after
 *                    (fractional seconds), x-ratelimit-reset-requests/
 *                    -tokens, or "Please try again in 20ms." in the
 *                    message; 500/503/529: error bodies; stall: sleep
 *                    --stall-ms (2000) before answering; reset: close
 *                    with a RST, no answer; truncate: Content-Length of
 *                    the whole body, half of it sent, then close; badjson:
 *                    200 with cut JSON; errbody: 200 with an error object;
 *                    nologprobs: judge answers (logprobs: true) with
 *                    "logprobs": null. Which request gets which fault
 *                    follows from --fault-seed N (1) and a count of POSTs.
 *   --fault-hint-ms N   the wait the 429h hints ask for (20).
 *   --echo-headers-on-error  error bodies (4xx, 5xx, faults) repeat the
 *                    request headers, Authorization included, in
 *                    error.message: for the secret-leak tests.
 *   --no-models      GET /v1/models answers 404, as on servers without it.
 *   --key-post-only  with --api-key, GETs need no key (/v1/models answers
 *                    anyone), POSTs do: llama-server --api-key.
 *   --refuse-after N every POST after the first N gets 401 with OpenAI's
 *                    invalid_api_key body, as when a key is revoked
 *                    during a run.
 *   --same-answers   every policy choice on the chat route is the same
 *                    text whatever the seed and index (h_i = mix(key)),
 *                    as a server at temperature 0 or behind a cache.
 * SIGTERM and SIGINT exit 0 at once.
 *
 * HTTP/1.1 keep-alive and pipelining (HTTP/1.0: close after one answer),
 * Expect: 100-continue, bodies by Content-Length only (chunked: 411), body
 * up to 8 MiB (413), head up to 64 KiB (431), 30 s idle timeout, a detached
 * thread per connection. Answers are JSON with a Content-Length; errors use
 * OpenAI's {"error": {"message", "type", "param", "code"}}.
 *   GET /health -> {"status":"ok"};  GET /v1/models -> "fake-model";
 *   POST /v1/chat/completions -> below;  anything else -> 404.
 *
 * Chat fields read: model, messages [{role, content (string or null)}],
 * n (1..128), seed, max_completion_tokens or else max_tokens (>= 1),
 * logprobs, top_logprobs (0..20, needs logprobs: true). Others are ignored.
 * key = FNV-1a-64 of the model, a NUL, then all contents in order; choice i
 * uses h_i = mix(mix(key ^ seed) + i), where mix is the splitmix64 step (add
 * 0x9e3779b97f4a7c15, then finalise). id = "chatcmpl-fake-" + hex(h_0).
 * prompt_tokens = content bytes / 4 + 1; completion_tokens = words (judge:
 * tokens) over all choices.
 *
 * Judge: a user message contains "<<<reply A [" (the last such one is
 * read). A reply is fenced as
 * "<<<reply A [TAG]>>>\n" TEXT "\n<<<end of reply A [TAG]>>>", TAG being hex
 * digits, and TEXT runs to the LAST closing fence with that tag, so it may
 * hold anything, fake fences too. A is the first opening fence that has a
 * closing one; B likewise, looked for after A's closing fence, then
 * anywhere. If either is missing, it is a policy request. LA and LB are the
 * texts' byte lengths:
 *   d = (LA - LB) / 50.0 + bias_a;  pA = 1 / (1 + exp(-d));  pB = 1 - pA
 *   "A" 0.80*pA*(1-eps)  " A" 0.15*pA*(1-eps)  "А" U+0410 0.05*pA*(1-eps)
 *   "B" 0.80*pB*(1-eps)  " B" 0.15*pB*(1-eps)  "В" U+0412 0.05*pB*(1-eps)
 *   "\n" eps, with eps = 0.01
 * logprob = log(p), or -9999.0 if p < 1e-300. One choice whatever n: "A" if
 * pA >= pB, else "B"; its logprobs entry lists the candidates by logprob,
 * ties in the order above, cut to top_logprobs.
 *
 * Policy: n choices. If the last user message contains "SAY:", choice i is
 * what follows the first "SAY:" (verbatim) repeated 1 + h_i % 3 times,
 * joined by "\n". Else it is words from a fixed list of 64, drawn from the
 * splitmix64 stream seeded with h_i: 8 + draw % 53 words, each
 * words[draw % 64]; the first capitalised, a "." after the last. Beyond
 * max_tokens words (runs of non-space) the text is cut, finish_reason
 * "length". With logprobs each word is a token (" word" after the first),
 * logprob -0.5, top_logprobs [itself] if top_logprobs > 0.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD	(64u << 10)
#define MAX_BODY	(8u << 20)
#define MAX_TAG		128
#define IDLE_MS		30000
#define YIELD_MS	250
#define LINGER_MS	2000
#define GOLDEN		0x9e3779b97f4a7c15ULL
#define DUMP_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(17))

static struct {
	long port, latency_ms, threads_max;
	const char *port_file, *api_key, *log_path;
	bool no_n, judge_lead, key_post_only, same_answers, prefer_shorter;
	double bias_a;
	long refuse_after;	/* -1: never */
	long posts;		/* POSTs seen, for refuse_after; atomic */
} opt = { .threads_max = 8192, .refuse_after = -1 };

static int log_fd = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* A slot per connection thread, for --threads-max. */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_freed = PTHREAD_COND_INITIALIZER;
static long slots_used;
/* Readable while a new connection waits for a slot. Idle connections poll
 * it and close: else a client pool of idle keep-alive connections could
 * lock newcomers out for the whole idle timeout. */
static int starve_pipe[2];

struct conn {
	int fd;
	char *buf;		/* received, not yet consumed */
	size_t len, cap;
	bool served;		/* has answered: may close when idle */
	bool linger;		/* request bytes may be left unread */
};

struct request {
	char method[16];
	char *target;
	json_t *headers;	/* lowercase name -> value */
	size_t body_len;
	bool http10, close, expect, chunked;
};

struct chat {
	const char *model;
	json_int_t n, seed;
	json_int_t max_tokens, top_logprobs;	/* -1: absent */
	bool logprobs;
	const char *user;	/* the last user message, or NULL */
	size_t user_len, content_bytes;
	uint64_t key;
	const char *fenced;	/* the last user message with "<<<reply A [",
				 * or NULL: where the judge looks */
	size_t fenced_len;
};

static const char *const words[64] = {
	"the", "a", "model", "answer", "question", "people", "time", "world",
	"good", "new", "first", "last", "long", "great", "little", "own",
	"other", "old", "right", "big", "high", "different", "small", "large",
	"next", "early", "young", "important", "few", "public", "bad", "same",
	"able", "kind", "clear", "simple", "careful", "honest", "helpful",
	"river", "garden", "window", "letter", "morning", "evening", "music",
	"story", "number", "friend", "city", "water", "light", "paper", "road",
	"house", "tree", "bird", "stone", "cloud", "bread", "table", "door",
	"hand", "idea",
};

/* ---- helpers ---------------------------------------------------------- */

static uint64_t mix64(uint64_t z)
{
	z += GOLDEN;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	return h;
}

/* The next output of the splitmix64 stream whose state is *s. */
static uint64_t draw(uint64_t *s)
{
	uint64_t r = mix64(*s);

	*s += GOLDEN;
	return r;
}

static uint64_t choice_hash(const struct chat *ch, json_int_t i)
{
	return mix64(mix64(ch->key ^ (uint64_t)ch->seed) + (uint64_t)i);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Wire text need not be UTF-8 but jansson takes only UTF-8: so keep the
 * ASCII bytes and turn the others into '?'. */
static json_t *lossy_string(const char *s, size_t n)
{
	json_t *j = json_stringn(s, n);
	char *t;

	if (j || !(t = malloc(n + 1)))
		return j;
	for (size_t i = 0; i < n; i++)
		t[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
	j = json_stringn(t, n);
	free(t);
	return j;
}

static const char *last_of(const char *s, size_t n, const char *pat,
			   size_t m)
{
	for (size_t i = n >= m ? n - m + 1 : 0; i-- > 0;)
		if (s[i] == pat[0] && memcmp(s + i, pat, m) == 0)
			return s + i;
	return NULL;
}

/* The next run of non-space in s[0, n) at or after *pos. */
static bool next_word(const char *s, size_t n, size_t *pos, size_t *beg,
		      size_t *end)
{
	size_t i = *pos;

	while (i < n && isspace((unsigned char)s[i]))
		i++;
	*beg = i;
	while (i < n && !isspace((unsigned char)s[i]))
		i++;
	*end = *pos = i;
	return i > *beg;
}

__attribute__((format(printf, 3, 4)))
static json_t *api_error(const char *param, const char *code,
			 const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:{s:o, s:s, s:o, s:o}}", "error",
			 "message", lossy_string(msg, strlen(msg)),
			 "type", "invalid_request_error",
			 "param", param ? json_string(param) : json_null(),
			 "code", code ? json_string(code) : json_null());
}

/* ---- chat completions ------------------------------------------------- */

static json_t *token_json(const char *tok, double logprob)
{
	json_t *bytes = json_array();

	for (const char *p = tok; *p; p++)
		json_array_append_new(bytes, json_integer((unsigned char)*p));
	return json_pack("{s:s, s:f, s:o}", "token", tok, "logprob", logprob,
			 "bytes", bytes);
}

/* A logprobs.content entry, with the first `ntop` alternatives. */
static json_t *entry_json(const char *tok, double logprob,
			  const char *const *alt, const double *alt_lp,
			  json_int_t ntop)
{
	json_t *e = token_json(tok, logprob), *top = json_array();

	for (json_int_t i = 0; i < ntop; i++)
		json_array_append_new(top, token_json(alt[i], alt_lp[i]));
	json_object_set_new(e, "top_logprobs", top);
	return e;
}

static json_t *choice_json(json_int_t i, const char *text, size_t n,
			   json_t *content, const char *finish)
{
	json_t *lp = content ? json_pack("{s:o, s:n}", "content", content,
					 "refusal") : json_null();

	return json_pack("{s:I, s:{s:s, s:s%, s:n}, s:o, s:s}", "index", i,
			 "message", "role", "assistant", "content", text, n,
			 "refusal", "logprobs", lp, "finish_reason", finish);
}

static json_t *completion(const struct chat *ch, json_t *choices,
			  json_int_t ctoks)
{
	json_int_t ptoks = (json_int_t)(ch->content_bytes / 4 + 1);
	char id[40];

	snprintf(id, sizeof(id), "chatcmpl-fake-%016" PRIx64,
		 choice_hash(ch, 0));
	return json_pack("{s:s, s:s, s:i, s:s, s:s, s:o, s:{s:I, s:I, s:I}}",
			 "id", id, "object", "chat.completion", "created", 0,
			 "model", ch->model, "system_fingerprint", "fp_fake",
			 "choices", choices, "usage", "prompt_tokens", ptoks,
			 "completion_tokens", ctoks, "total_tokens",
			 ptoks + ctoks);
}

/* Choice text before any cut (see the top comment); malloc'd. */
static char *policy_text(const struct chat *ch, uint64_t h, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);
	const char *say = ch->user ? memmem(ch->user, ch->user_len, "SAY:", 4)
				   : NULL;
	uint64_t s = h, count = 8 + draw(&s) % 53;

	if (!f)
		return NULL;
	for (uint64_t r = 0; say && r < 1 + h % 3; r++)
		fprintf(f, "%s%.*s", r ? "\n" : "",
			(int)(ch->user + ch->user_len - say - 4), say + 4);
	for (uint64_t k = 0; !say && k < count; k++) {
		const char *w = words[draw(&s) % 64];

		if (k == 0)
			fputc(toupper((unsigned char)*w++), f);
		fprintf(f, "%s%s%s", k ? " " : "", w,
			k + 1 == count ? "." : "");
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static json_t *word_logprobs(const struct chat *ch, const char *text,
			     size_t n)
{
	static const double half = -0.5;
	json_t *content = json_array();
	size_t pos = 0, beg, end;
	char *tok = malloc(n + 2);

	while (tok && next_word(text, n, &pos, &beg, &end)) {
		const char *t = tok;
		bool first = json_array_size(content) == 0;

		snprintf(tok, n + 2, "%s%.*s", first ? "" : " ",
			 (int)(end - beg), text + beg);
		json_array_append_new(content, entry_json(tok, half, &t, &half,
					ch->top_logprobs > 0));
	}
	free(tok);
	return content;
}

static json_t *policy_response(const struct chat *ch)
{
	json_t *choices = json_array();
	json_int_t ctoks = 0;

	for (json_int_t i = 0; i < ch->n; i++) {
		size_t len, pos = 0, beg, end, cut = 0;
		json_int_t count = 0;
		const char *finish = "stop";
		char *text = policy_text(ch, opt.same_answers ?
					 mix64(ch->key) : choice_hash(ch, i),
					 &len);

		if (!text) {
			json_decref(choices);
			return NULL;
		}
		while (next_word(text, len, &pos, &beg, &end)) {
			if (count == ch->max_tokens) {
				len = cut;
				finish = "length";
				break;
			}
			count++;
			cut = end;
		}
		ctoks += count;
		json_array_append_new(choices, choice_json(i, text, len,
			ch->logprobs ? word_logprobs(ch, text, len) : NULL,
			finish));
		free(text);
	}
	return completion(ch, choices, ctoks);
}

/*
 * Find reply `letter` in s[from, n): the first opening fence with a hex tag
 * that has a closing fence after it. The text ends at the LAST closing
 * fence, as answers may quote fences; the search for it starts on the
 * opening fence's own newline so that an empty text needs no blank line.
 */
static bool find_reply(const char *s, size_t n, size_t from, char letter,
		       size_t *len, size_t *after)
{
	char opening[16], closing[MAX_TAG + 32];
	const char *p = s + from, *end = s + n;
	int ol = snprintf(opening, sizeof(opening), "<<<reply %c [", letter);

	while (p < end && (p = memmem(p, (size_t)(end - p), opening, ol))) {
		const char *tag = p += ol, *q = tag, *text, *e;
		int cl;

		while (q < end && isxdigit((unsigned char)*q))
			q++;
		if (q == tag || q - tag > MAX_TAG || end - q < 5 ||
		    memcmp(q, "]>>>\n", 5) != 0)
			continue;
		cl = snprintf(closing, sizeof(closing),
			      "\n<<<end of reply %c [%.*s]>>>", letter,
			      (int)(q - tag), tag);
		text = q + 5;
		e = last_of(text - 1, (size_t)(end - text + 1), closing,
			    (size_t)cl);
		if (e) {
			*len = e >= text ? (size_t)(e - text) : 0;
			*after = (size_t)(e + cl - s);
			return true;
		}
	}
	return false;
}

static bool find_replies(const struct chat *ch, size_t *la, size_t *lb)
{
	const char *s = ch->fenced;
	size_t n = ch->fenced_len, after;

	return s && find_reply(s, n, 0, 'A', la, &after) &&
	       (find_reply(s, n, after, 'B', lb, &after) ||
		find_reply(s, n, 0, 'B', lb, &after));
}

static json_t *judge_response(const struct chat *ch, size_t la, size_t lb)
{
	static const char *const tok[7] = {
		"A", " A", "\xd0\x90", "B", " B", "\xd0\x92", "\n",
	};
	static const double share[3] = { 0.80, 0.15, 0.05 };
	static const char *const lead_tok[2] = { "**", "The" };
	static const double lead_lp[2] = { -0.05, -3.0 };
	const double eps = 0.01;
	double d = (opt.prefer_shorter ? (double)lb - (double)la :
		    (double)la - (double)lb) / 50.0 + opt.bias_a;
	double pa = 1.0 / (1.0 + exp(-d)), pb = 1.0 - pa, lp[7], sorted_lp[7];
	const char *sorted[7];
	int pick = pa >= pb ? 0 : 3;
	/* max_tokens is either absent (-1) or >= 1 */
	bool lead = opt.judge_lead && ch->max_tokens != 1;
	json_t *content = NULL;
	char text[8];

	for (int i = 0; i < 7; i++) {
		/* the products go left to right as in the top comment, so a
		 * test doing the same sums gets the same bits */
		double p = i < 3 ? share[i] * pa * (1 - eps) :
			   i < 6 ? share[i - 3] * pb * (1 - eps) : eps;
		int j = i;

		lp[i] = p < 1e-300 ? -9999.0 : log(p);
		/* insertion sort, stable: ties keep the table's order */
		for (; j > 0 && sorted_lp[j - 1] < lp[i]; j--) {
			sorted[j] = sorted[j - 1];
			sorted_lp[j] = sorted_lp[j - 1];
		}
		sorted[j] = tok[i];
		sorted_lp[j] = lp[i];
	}
	snprintf(text, sizeof(text), "%s%s", lead ? "**" : "", tok[pick]);
	if (ch->logprobs) {
		content = json_array();
		if (lead)
			json_array_append_new(content, entry_json("**", -0.05,
				lead_tok, lead_lp,
				ch->top_logprobs < 2 ? ch->top_logprobs : 2));
		json_array_append_new(content, entry_json(tok[pick], lp[pick],
			sorted, sorted_lp,
			ch->top_logprobs < 7 ? ch->top_logprobs : 7));
	}
	return completion(ch, json_pack("[o]", choice_json(0, text,
				strlen(text), content, "stop")), lead ? 2 : 1);
}

/* Read optional integer `key` into *out if it is in [lo, hi]: NULL if it
 * is absent or fine, else OpenAI's 400 body. */
static json_t *int_field(json_t *doc, const char *key, json_int_t lo,
			 json_int_t hi, json_int_t *out)
{
	json_t *v = json_object_get(doc, key);
	json_int_t x = json_integer_value(v);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_integer(v))
		return api_error(key, "invalid_type", "Invalid type for '%s': "
				 "expected an integer.", key);
	if (x < lo || x > hi)
		return api_error(key, x < lo ? "integer_below_min_value" :
				 "integer_above_max_value", "Invalid '%s': "
				 "integer %s value. Expected a value %s %lld, "
				 "but got %lld instead.", key, x < lo ?
				 "below minimum" : "above maximum", x < lo ?
				 ">=" : "<=", (long long)(x < lo ? lo : hi),
				 (long long)x);
	*out = x;
	return NULL;
}

/* Read the request into *ch: NULL if fine, else the 400 body. */
static json_t *read_chat(json_t *doc, struct chat *ch)
{
	json_t *msgs = json_object_get(doc, "messages"), *m, *e;
	size_t i;

	*ch = (struct chat){ .n = 1, .max_tokens = -1, .top_logprobs = -1 };
	ch->model = json_string_value(json_object_get(doc, "model"));
	if (!ch->model)
		ch->model = "fake-model";
	if (!json_is_array(msgs) || json_array_size(msgs) == 0)
		return api_error("messages", "invalid_type",
				 "'messages' must be a non-empty array.");
	ch->key = fnv1a(0xcbf29ce484222325ULL, ch->model,
			strlen(ch->model) + 1);
	json_array_foreach(msgs, i, m) {
		json_t *content = json_object_get(m, "content");
		const char *role = json_string_value(json_object_get(m,
								     "role"));
		const char *s = json_string_value(content);
		size_t n = json_string_length(content);

		if (!role || (!s && !json_is_null(content)))
			return api_error("messages", "invalid_type",
					 "messages[%zu] needs a string role "
					 "and a string content.", i);
		ch->key = fnv1a(ch->key, s, n);
		ch->content_bytes += n;
		if (strcmp(role, "user") == 0) {
			ch->user = s ? s : "";
			ch->user_len = n;
			if (s && memmem(s, n, "<<<reply A [", 12)) {
				ch->fenced = s;
				ch->fenced_len = n;
			}
		}
	}
	if ((e = int_field(doc, "n", 1, 128, &ch->n)) ||
	    (e = int_field(doc, "seed", INT64_MIN, INT64_MAX, &ch->seed)) ||
	    (e = int_field(doc, "max_completion_tokens", 1, INT64_MAX,
			   &ch->max_tokens)) ||
	    (ch->max_tokens < 0 && (e = int_field(doc, "max_tokens", 1,
						   INT64_MAX,
						   &ch->max_tokens))) ||
	    (e = int_field(doc, "top_logprobs", 0, 20, &ch->top_logprobs)))
		return e;
	if (opt.no_n && ch->n > 1)
		return json_pack("{s:{s:i, s:s, s:s}}", "error", "code", 400,
				 "message", "Only one completion choice is "
				 "allowed", "type", "invalid_request_error");
	ch->logprobs = json_is_true(json_object_get(doc, "logprobs"));
	if (ch->top_logprobs >= 0 && !ch->logprobs)
		return api_error("top_logprobs", NULL, "top_logprobs requires "
				 "logprobs to be set to true");
	return NULL;
}

/* ---- completions, Anthropic messages, logprob refusals, rationales ----
 *
 * Kept apart from the chat code above; the judge rule is the same on
 * every route, so labels agree across them:
 *
 *   --refuse-logprobs  a chat or completions request asking for logprobs
 *       gets OpenAI's 403 for reasoning models ("You are not allowed to
 *       request logprobs from this model").
 *   Rationales: a chat judge request whose fenced user message is the last
 *       message and says "step by step", a completions judge prompt ending
 *       in "Reasoning:", and an Anthropic judge request like the chat one
 *       get the text "Reply A has LA bytes and reply B has LB bytes; under
 *       the principle the fuller reply, X, is better." (X by the rule). On
 *       the chat route it is cut after max_tokens words (finish_reason
 *       "length").
 *   Sampled letters: a judge request without logprobs at temperature > 0
 *       (votes) gets "A" with probability pA: on chat from h_0 (so the seed
 *       decides), on /v1/messages from a per-process counter (Anthropic has
 *       no seed: like the real API, not reproducible).
 *
 * POST /v1/completions: model, prompt (string), n, seed, max_tokens,
 *   logprobs (integer 0..5), temperature. key = FNV-1a of model, NUL,
 *   prompt. A prompt with fenced replies is a judge request: one choice,
 *   the letter by the rule; with logprobs k the position lists the top k
 *   of five candidates, "A" 0.80*pA*(1-eps), " A" 0.20*pA*(1-eps), "B" and
 *   " B" likewise, "\n" eps (the chat route's A and B masses, summed the
 *   same), in the legacy shape (tokens, token_logprobs, top_logprobs as a
 *   {token: logprob} object, text_offset), or with
 *   --completions-chat-logprobs in llama.cpp's chat-style
 *   logprobs.content. Otherwise the policy rule of the chat route, with
 *   the prompt as the last user message; object "text_completion".
 * POST /v1/messages (Anthropic): model, max_tokens (required), messages,
 *   system, temperature. With --api-key, needs "x-api-key: KEY" (401 in
 *   Anthropic's error shape otherwise). Judge requests answer the letter,
 *   followed by ")" when the last message is an assistant prefill ending
 *   in "("; policy requests get the chat policy text for h = mix(key) at
 *   temperature 0, else for h = mix(key + the per-process counter), so
 *   that two samples of one prompt differ as on the real API.
 *   Reply: {id, type: "message", role, model, content: [{type: "text",
 *   text}], stop_reason, stop_sequence, usage: {input_tokens,
 *   output_tokens}}.
 */
static struct {
	bool refuse_logprobs, completions_chat;
	uint64_t votes;		/* counter for /v1/messages samples */
	pthread_mutex_t lock;
} ext = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double ext_pa(size_t la, size_t lb)
{
	double d = (opt.prefer_shorter ? (double)lb - (double)la :
		    (double)la - (double)lb) / 50.0 + opt.bias_a;

	return 1.0 / (1.0 + exp(-d));
}

static char *ext_rationale(size_t la, size_t lb)
{
	char *s = NULL;

	if (asprintf(&s, "Reply A has %zu bytes and reply B has %zu bytes; "
		     "under the principle the fuller reply, %c, is better.",
		     la, lb, ext_pa(la, lb) >= 0.5 ? 'A' : 'B') < 0)
		return NULL;
	return s;
}

static json_t *ext_refusal(void)
{
	return json_pack("{s:{s:s, s:s, s:n, s:n}}", "error", "message",
			 "You are not allowed to request logprobs from this "
			 "model", "type", "invalid_request_error", "param",
			 "code");
}

/* A chat judge answer other than the logprobs one, or NULL. */
static json_t *ext_chat_judge(json_t *doc, const struct chat *ch, size_t la,
			      size_t lb)
{
	double temp = json_number_value(json_object_get(doc, "temperature"));
	json_t *msgs = json_object_get(doc, "messages");
	json_t *last = json_array_get(msgs, json_array_size(msgs) - 1);
	const char *lc = json_string_value(json_object_get(last, "content"));
	char *text = NULL, letter[2] = "A";
	const char *finish = "stop";
	json_t *r;

	if (lc == ch->fenced && memmem(ch->fenced, ch->fenced_len,
				       "step by step", 12)) {
		text = ext_rationale(la, lb);
	} else if (!ch->logprobs && temp > 0) {
		uint64_t h = choice_hash(ch, 0);

		letter[0] = (double)(h >> 11) / 9007199254740992.0 <
			    ext_pa(la, lb) ? 'A' : 'B';
	} else {
		return NULL;
	}
	/* a rationale longer than max_tokens words is cut */
	if (text && ch->max_tokens > 0) {
		size_t pos = 0, beg, end, cut = 0;
		json_int_t count = 0;

		while (next_word(text, strlen(text), &pos, &beg, &end)) {
			if (count++ == ch->max_tokens) {
				text[cut] = '\0';
				finish = "length";
				break;
			}
			cut = end;
		}
	}
	r = completion(ch, json_pack("[o]", choice_json(0, text ? text :
		letter, strlen(text ? text : letter), NULL, finish)), 1);
	free(text);
	return r;
}

/* The five completions candidates, sorted by logprob; returns how many. */
static int ext_candidates(double pa, const char **tok, double *lp)
{
	static const char *const t[5] = { "A", " A", "B", " B", "\n" };
	static const double share[2] = { 0.80, 0.20 };
	const double eps = 0.01;
	double pb = 1.0 - pa;

	for (int i = 0; i < 5; i++) {
		double p = i < 2 ? share[i] * pa * (1 - eps) :
			   i < 4 ? share[i - 2] * pb * (1 - eps) : eps;
		double l = p < 1e-300 ? -9999.0 : log(p);
		int j = i;

		for (; j > 0 && lp[j - 1] < l; j--) {
			tok[j] = tok[j - 1];
			lp[j] = lp[j - 1];
		}
		tok[j] = t[i];
		lp[j] = l;
	}
	return 5;
}

static json_t *ext_usage(size_t in_bytes, json_int_t out)
{
	json_int_t p = (json_int_t)(in_bytes / 4 + 1);

	return json_pack("{s:I, s:I, s:I}", "prompt_tokens", p,
			 "completion_tokens", out, "total_tokens", p + out);
}

/* Policy text for hash h, cut at max_tokens words; *finish set. */
static char *ext_policy(const struct chat *ch, uint64_t h, size_t *len,
			const char **finish, json_int_t *words_out)
{
	char *text = policy_text(ch, h, len);
	size_t pos = 0, beg, end, cut = 0;
	json_int_t count = 0;

	*finish = "stop";
	while (text && next_word(text, *len, &pos, &beg, &end)) {
		if (count == ch->max_tokens) {
			*len = cut;
			*finish = "length";
			break;
		}
		count++;
		cut = end;
	}
	*words_out = count;
	return text;
}

static int ext_completions(json_t *doc, json_t **resp)
{
	const char *prompt = json_string_value(json_object_get(doc, "prompt"));
	json_t *lpv = json_object_get(doc, "logprobs"), *choices, *e;
	struct chat ch = { .n = 1, .max_tokens = 16, .top_logprobs = -1 };
	json_int_t k = -1, ctoks = 0;
	size_t n, la, lb;
	char id[40];

	if (!prompt) {
		*resp = api_error("prompt", "invalid_type",
				  "'prompt' must be a string.");
		return 400;
	}
	if ((e = int_field(doc, "n", 1, 128, &ch.n)) ||
	    (e = int_field(doc, "seed", INT64_MIN, INT64_MAX, &ch.seed)) ||
	    (e = int_field(doc, "max_tokens", 1, INT64_MAX,
			   &ch.max_tokens)) ||
	    (!json_is_boolean(lpv) &&
	     (e = int_field(doc, "logprobs", 0, 5, &k)))) {
		*resp = e;
		return 400;
	}
	if (k >= 0 && ext.refuse_logprobs) {
		*resp = ext_refusal();
		return 403;
	}
	n = strlen(prompt);
	ch.model = json_string_value(json_object_get(doc, "model"));
	if (!ch.model)
		ch.model = "fake-model";
	ch.key = fnv1a(fnv1a(0xcbf29ce484222325ULL, ch.model,
			     strlen(ch.model) + 1), prompt, n);
	ch.user = ch.fenced = prompt;
	ch.user_len = ch.fenced_len = n;
	choices = json_array();
	if (find_replies(&ch, &la, &lb)) {
		double pa = ext_pa(la, lb), lp[5];
		const char *tok[5];
		char *text = NULL;
		json_t *lps = json_null();
		bool why = n >= 10 && !strcmp(prompt + n - 10, "Reasoning:");

		ext_candidates(pa, tok, lp);
		if (why) {
			text = ext_rationale(la, lb);
		} else if (k >= 0 && ext.completions_chat) {
			lps = json_pack("{s:[o]}", "content",
					entry_json(tok[0], lp[0], tok, lp, k));
		} else if (k >= 0) {
			json_t *top = json_object();

			for (json_int_t i = 0; i < k; i++)
				json_object_set_new(top, tok[i],
						    json_real(lp[i]));
			lps = json_pack("{s:[s], s:[f], s:[o], s:[I]}",
					"tokens", tok[0], "token_logprobs",
					lp[0], "top_logprobs", top,
					"text_offset", (json_int_t)n);
		}
		json_array_append_new(choices, json_pack(
			"{s:s, s:i, s:o, s:s}", "text", text ? text : tok[0],
			"index", 0, "logprobs", lps, "finish_reason",
			why ? "stop" : "length"));
		ctoks = 1;
		free(text);
	} else {
		for (json_int_t i = 0; i < ch.n; i++) {
			const char *finish;
			json_int_t w;
			size_t len;
			char *t = ext_policy(&ch, choice_hash(&ch, i), &len,
					     &finish, &w);

			json_array_append_new(choices, json_pack(
				"{s:s%, s:I, s:n, s:s}", "text", t ? t : "",
				t ? len : 0, "index", i, "logprobs",
				"finish_reason", finish));
			ctoks += w;
			free(t);
		}
	}
	snprintf(id, sizeof(id), "cmpl-fake-%016" PRIx64,
		 choice_hash(&ch, 0));
	*resp = json_pack("{s:s, s:s, s:i, s:s, s:o, s:o}", "id", id,
			  "object", "text_completion", "created", 0, "model",
			  ch.model, "choices", choices, "usage",
			  ext_usage(n, ctoks));
	return 200;
}

/* GET /v1/models answers Anthropic's x-api-key as well (their API has the
 * route too, with that header). */
static bool ext_anthropic_key_ok(const struct request *rq)
{
	const char *k = json_string_value(json_object_get(rq->headers,
							  "x-api-key"));

	return strcmp(rq->method, "GET") == 0 && k && opt.api_key &&
	       strcmp(k, opt.api_key) == 0;
}

static json_t *ext_anthropic_error(const char *type, const char *msg)
{
	return json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
			 "type", type, "message", msg);
}

static int ext_messages(const struct request *rq, json_t *doc,
			json_t **resp)
{
	const char *key = json_string_value(json_object_get(rq->headers,
							    "x-api-key"));
	const char *sys = json_string_value(json_object_get(doc, "system"));
	json_t *msgs = json_object_get(doc, "messages"), *m, *last;
	struct chat ch = { .n = 1, .top_logprobs = -1 };
	double temp = json_number_value(json_object_get(doc, "temperature"));
	const char *lc, *lrole, *finish = "end_turn";
	char *text = NULL, id[40];
	json_int_t out = 1;
	size_t i, la, lb, len;

	if (opt.api_key && !(key && !strcmp(key, opt.api_key))) {
		*resp = ext_anthropic_error("authentication_error",
					    "invalid x-api-key");
		return 401;
	}
	if (!json_is_integer(json_object_get(doc, "max_tokens")) ||
	    !json_is_array(msgs) || !json_array_size(msgs)) {
		*resp = ext_anthropic_error("invalid_request_error",
			"max_tokens: Field required; messages: a non-empty "
			"list is required");
		return 400;
	}
	ch.max_tokens = json_integer_value(json_object_get(doc, "max_tokens"));
	ch.model = json_string_value(json_object_get(doc, "model"));
	if (!ch.model)
		ch.model = "fake-model";
	ch.key = fnv1a(0xcbf29ce484222325ULL, ch.model, strlen(ch.model) + 1);
	if (sys) {
		ch.key = fnv1a(ch.key, sys, strlen(sys));
		ch.content_bytes += strlen(sys);
	}
	json_array_foreach(msgs, i, m) {
		const char *r = json_string_value(json_object_get(m, "role"));
		const char *s = json_string_value(json_object_get(m,
								  "content"));
		size_t n = s ? strlen(s) : 0;

		if (!r || !s || (strcmp(r, "user") && strcmp(r, "assistant"))) {
			*resp = ext_anthropic_error("invalid_request_error",
				"messages: each needs role user or assistant "
				"and a string content");
			return 400;
		}
		ch.key = fnv1a(ch.key, s, n);
		ch.content_bytes += n;
		if (!strcmp(r, "user")) {
			ch.user = s;
			ch.user_len = n;
			if (memmem(s, n, "<<<reply A [", 12)) {
				ch.fenced = s;
				ch.fenced_len = n;
			}
		}
	}
	last = json_array_get(msgs, json_array_size(msgs) - 1);
	lc = json_string_value(json_object_get(last, "content"));
	lrole = json_string_value(json_object_get(last, "role"));
	if (find_replies(&ch, &la, &lb)) {
		double pa = ext_pa(la, lb), u;
		bool prefill = !strcmp(lrole, "assistant");
		char letter;

		if (lc == ch.fenced && memmem(lc, strlen(lc), "step by step",
					       12)) {
			text = ext_rationale(la, lb);
		} else {
			pthread_mutex_lock(&ext.lock);
			u = (double)(mix64(ch.key + ext.votes++) >> 11) /
			    9007199254740992.0;
			pthread_mutex_unlock(&ext.lock);
			letter = temp > 0 ? (u < pa ? 'A' : 'B') :
				 pa >= 0.5 ? 'A' : 'B';
			if (asprintf(&text, "%c%s", letter, prefill &&
				     *lc && lc[strlen(lc) - 1] == '(' ? ")" :
				     "") < 0)
				text = NULL;
		}
		len = text ? strlen(text) : 0;
	} else {
		uint64_t h = mix64(ch.key);

		/* sampled: no seed, so two samples differ (a counter) */
		if (temp > 0) {
			pthread_mutex_lock(&ext.lock);
			h = mix64(ch.key + ext.votes++);
			pthread_mutex_unlock(&ext.lock);
		}
		text = ext_policy(&ch, h, &len, &finish, &out);
		if (!strcmp(finish, "length"))
			finish = "max_tokens";
		else
			finish = "end_turn";
	}
	snprintf(id, sizeof(id), "msg_fake_%016" PRIx64, mix64(ch.key));
	*resp = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s%}], s:s, s:n, "
			  "s:{s:I, s:I}}", "id", id, "type", "message",
			  "role", "assistant", "model", ch.model, "content",
			  "type", "text", "text", text ? text : "", text ?
			  len : 0, "stop_reason", finish, "stop_sequence",
			  "usage", "input_tokens",
			  (json_int_t)(ch.content_bytes / 4 + 1),
			  "output_tokens", out);
	free(text);
	return 200;
}

/* Routes of this section; false to let route() go on. */
static bool ext_route(const struct request *rq, json_t *doc,
		      const char *parse_error, json_t **resp, int *status)
{
	size_t pl = strcspn(rq->target, "?");
	bool msgs = pl == 12 && !memcmp(rq->target, "/v1/messages", 12);
	bool cmpl = pl == 15 && !memcmp(rq->target, "/v1/completions", 15);
	bool chat_route = pl == 20 &&
			  !memcmp(rq->target, "/v1/chat/completions", 20);
	const char *auth = json_string_value(json_object_get(rq->headers,
							     "authorization"));
	bool key_ok = !opt.api_key || (auth && !strncasecmp(auth, "Bearer ", 7)
				       && !strcmp(auth + 7, opt.api_key));

	/* (a chat request with a wrong key gets route()'s 401) */
	if (chat_route && key_ok && ext.refuse_logprobs &&
	    json_is_object(doc) &&
	    json_is_true(json_object_get(doc, "logprobs"))) {
		*resp = ext_refusal();
		*status = 403;
		return true;
	}
	if (!msgs && !cmpl)
		return false;
	if (!json_is_object(doc)) {
		*resp = api_error(NULL, "invalid_json", "Invalid JSON body: %s",
				  doc ? "not an object" : parse_error);
		*status = 400;
		return true;
	}
	if (msgs) {
		*status = ext_messages(rq, doc, resp);
		return true;
	}
	/* completions: OpenAI's Bearer key, as on the chat route */
	if (!key_ok) {
		*resp = api_error(NULL, "invalid_api_key", "Incorrect API key "
				  "provided.");
		*status = 401;
		return true;
	}
	*status = ext_completions(doc, resp);
	return true;
}

static int chat(json_t *doc, const char *parse_error, json_t **resp)
{
	struct chat ch;
	size_t la, lb;

	if (!json_is_object(doc)) {
		*resp = api_error(NULL, "invalid_json", "Invalid JSON body: %s",
				  doc ? "not an object" : parse_error);
		return 400;
	}
	if ((*resp = read_chat(doc, &ch)))
		return 400;
	if (find_replies(&ch, &la, &lb))
		*resp = ext_chat_judge(doc, &ch, la, lb) ?:
			judge_response(&ch, la, lb);
	else
		*resp = policy_response(&ch);
	return 200;
}

/* ---- HTTP ------------------------------------------------------------- */

static int route(const struct request *rq, json_t *doc,
		 const char *parse_error, json_t **resp)
{
	const char *auth = json_string_value(json_object_get(rq->headers,
							     "authorization"));
	size_t pl = strcspn(rq->target, "?");
	bool get = strcmp(rq->method, "GET") == 0;
	int status;

#define PATH_IS(p) (pl == strlen(p) && memcmp(rq->target, p, pl) == 0)
	if (get && PATH_IS("/health")) {
		*resp = json_pack("{s:s}", "status", "ok");
		return 200;
	}
	if (!get && opt.refuse_after >= 0 &&
	    __atomic_fetch_add(&opt.posts, 1, __ATOMIC_RELAXED) >=
	    opt.refuse_after) {
		*resp = api_error(NULL, "invalid_api_key", "Incorrect API key "
				  "provided: the key was revoked.");
		return 401;
	}
	if (!get && ext_route(rq, doc, parse_error, resp, &status))
		return status;
	if (opt.api_key && !(get && opt.key_post_only) &&
	    !(auth && strncasecmp(auth, "Bearer ", 7) == 0 &&
			     strcmp(auth + 7, opt.api_key) == 0) &&
	    !ext_anthropic_key_ok(rq)) {
		*resp = api_error(NULL, "invalid_api_key", "Incorrect API key "
				  "provided. You can find your API key at "
				  "https://platform.openai.com/account/"
				  "api-keys.");
		return 401;
	}
	if (get && PATH_IS("/v1/models")) {
		*resp = json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}",
				  "object", "list", "data", "id", "fake-model",
				  "object", "model", "created", 0, "owned_by",
				  "caigen-tests");
		return 200;
	}
	if (strcmp(rq->method, "POST") == 0 && PATH_IS("/v1/chat/completions"))
		return chat(doc, parse_error, resp);
#undef PATH_IS
	*resp = api_error(NULL, "not_found", "Unknown route: %s %s",
			  rq->method, rq->target);
	return 404;
}

/* Append a line to the log in one write(), so lines never mix. */
static void log_request(const struct request *rq, json_t *body)
{
	json_t *line = json_pack("{s:s, s:o, s:O, s:o}", "method", rq->method,
				 "path", lossy_string(rq->target,
						      strlen(rq->target)),
				 "headers", rq->headers, "body", body);
	char *text = line ? json_dumps(line, DUMP_FLAGS) : NULL;
	size_t n;

	json_decref(line);
	if (!text)
		return;
	n = strlen(text);
	text[n++] = '\n';	/* over the NUL: the length is known */
	pthread_mutex_lock(&log_lock);
	if (write(log_fd, text, n) != (ssize_t)n)
		fprintf(stderr, "fakeserver: log write failed\n");
	pthread_mutex_unlock(&log_lock);
	free(text);
}

static bool send_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = iov,
				     .msg_iovlen = (size_t)cnt };
		ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		for (; cnt > 0 && (size_t)k >= iov->iov_len; iov++, cnt--)
			k -= (ssize_t)iov->iov_len;
		if (cnt > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return true;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

static bool send_json(struct conn *c, int status, json_t *body, bool last)
{
	static const char oom[] = "{\"error\":{\"message\":\"Internal "
		"Server Error\",\"type\":\"server_error\",\"param\":null,"
		"\"code\":null}}";
	char *text = body ? json_dumps(body, DUMP_FLAGS) : NULL;
	char head[200];
	struct iovec iov[2] = {
		{ head, 0 },
		{ text ? text : (char *)oom,
		  text ? strlen(text) : sizeof(oom) - 1 },
	};
	bool ok;

	iov[0].iov_len = (size_t)snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n%s\r\n", text ? status : 500,
		reason(text ? status : 500), iov[1].iov_len,
		last ? "Connection: close\r\n" : "");
	ok = send_all(c->fd, iov, 2);
	free(text);
	c->served = true;
	return ok;
}

/* Parse the head h[0, n), lines ending in CRLF: 0, or the status to fail
 * with. */
static int parse_head(char *h, size_t n, struct request *rq)
{
	char *line = h, *eol, *sp1, *sp2, *v, *e;

	if (memchr(h, '\0', n))
		return 400;
	h[n] = '\0';		/* was the CR of the blank line */
	eol = strstr(line, "\r\n");
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp2 || sp1 == line || sp1 - line >= (long)sizeof(rq->method) ||
	    sp2 == sp1 + 1 || strspn(line, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
	    (size_t)(sp1 - line))
		return 400;
	*sp1 = *sp2 = '\0';
	rq->http10 = strcmp(sp2 + 1, "HTTP/1.0") == 0;
	if (!rq->http10 && strcmp(sp2 + 1, "HTTP/1.1") != 0)
		return 400;
	strcpy(rq->method, line);
	rq->target = strdup(sp1 + 1);
	rq->headers = json_object();
	if (!rq->target || !rq->headers)
		return 500;
	rq->close = rq->http10;

	for (line = eol + 2; *line; line = eol + 2) {
		char *colon, *both = NULL;
		const char *old;

		eol = strstr(line, "\r\n");
		*eol = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line || strpbrk(line, "\r\n") ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			return 400;
		*colon = '\0';
		for (char *p = line; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && strchr(" \t", e[-1]); e--)
			;
		*e = '\0';
		old = json_string_value(json_object_get(rq->headers, line));

		if (strcmp(line, "content-length") == 0) {
			if (v[strspn(v, "0123456789")] || !*v ||
			    (old && strcmp(old, v) != 0))
				return 400;
			/* 20 digits or more is as good as too many */
			rq->body_len = strlen(v) > 19 ? SIZE_MAX :
				       (size_t)strtoull(v, NULL, 10);
		} else if (strcmp(line, "transfer-encoding") == 0) {
			rq->chunked = true;
		} else if (strcmp(line, "connection") == 0) {
			rq->close |= strcasestr(v, "close") != NULL;
		} else if (strcmp(line, "expect") == 0) {
			rq->expect = strcasecmp(v, "100-continue") == 0;
		}
		/* a repeated header reads as one, values joined by ", " */
		if (old && asprintf(&both, "%s, %s", old, v) < 0)
			return 500;
		if (both)
			v = both;
		json_object_set_new(rq->headers, line,
				    lossy_string(v, strlen(v)));
		free(both);
	}
	return 0;
}

/* Make room for `room` more bytes in c->buf. */
static bool reserve(struct conn *c, size_t room)
{
	size_t cap = c->cap ? c->cap : 16384;
	char *p;

	while (cap - c->len < room)
		cap *= 2;
	if (cap == c->cap)
		return true;
	if (!(p = realloc(c->buf, cap)))
		return false;
	c->buf = p;
	c->cap = cap;
	return true;
}

/* Wait for bytes and append them to c->buf. False at end of stream, on
 * error, on timeout, or when idle while a new connection waits. */
static bool fill(struct conn *c)
{
	bool idle = c->served && c->len == 0;
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = starve_pipe[0], .events = POLLIN },
	};
	int waited = 0;
	ssize_t k;

	if (!reserve(c, 4096))
		return false;
	for (;;) {
		/* give way only after a pause, not to a client that is about
		 * to send its next request */
		bool yield = idle && waited >= YIELD_MS;
		int r = poll(p, yield ? 2 : 1, idle && !yield ? YIELD_MS :
			     IDLE_MS - waited);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 || (r == 0 && (!idle || yield)))
			return false;
		if (r == 0)
			waited = YIELD_MS;
		else if (p[0].revents)
			break;
		else if (yield && p[1].revents)
			return false;
	}
	do
		k = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (k < 0 && errno == EINTR);
	if (k <= 0)
		return false;
	c->len += (size_t)k;
	return true;
}

/* Drop the first n bytes of c->buf; give back a big buffer. */
static void consume(struct conn *c, size_t n)
{
	char *p;

	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (c->cap > (256u << 10) && c->len <= 16384 &&
	    (p = realloc(c->buf, 16384))) {
		c->buf = p;
		c->cap = 16384;
	}
}

/* Read a request head: its length with the blank line, 0 if the connection
 * ended, SIZE_MAX if the head is too long. */
static size_t read_head(struct conn *c)
{
	size_t scanned = 0;
	char *e;

	for (;;) {
		/* RFC 9112 asks servers to skip CRLFs before a request */
		while (c->len >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n') {
			consume(c, 2);
			scanned = 0;
		}
		e = c->len >= 4 ? memmem(c->buf + scanned, c->len - scanned,
					 "\r\n\r\n", 4) : NULL;
		if (e)
			return (size_t)(e - c->buf) + 4;
		if (c->len >= MAX_HEAD)
			return SIZE_MAX;
		scanned = c->len >= 3 ? c->len - 3 : 0;
		if (!fill(c))
			return 0;
	}
}

/* Answer an HTTP-level error and close: the body, if any, stays unread. */
static void fail(struct conn *c, const struct request *rq, int status)
{
	json_t *body = api_error(NULL, NULL, "%s%s", reason(status),
				 status == 411 ? ": send a Content-Length" :
				 status == 413 ? ": the limit is 8 MiB" : "");

	if (log_fd >= 0 && rq && rq->headers)
		log_request(rq, json_null());
	send_json(c, status, body, true);
	json_decref(body);
	c->linger = true;
}

/* ---- faults (--faults, --echo-headers-on-error) ----------------------- */

/*
 * Fault injection for the reliability tests. Only POSTs are hit (never
 * GET /v1/models or /health, so preflight probes see a healthy server).
 * Request number k (a counter over those POSTs) draws u = mix(seed + k)
 * in [0, 1) and gets the fault whose slice of the cumulative rates holds
 * u, so a seed gives the same sequence of faults on every run.
 */
enum fault {
	F_NONE, F_429, F_429H, F_500, F_503, F_529, F_STALL, F_RESET,
	F_TRUNCATE, F_BADJSON, F_ERRBODY, F_NOLOGPROBS, F_COUNT,
	F_NOMODELS	/* --no-models: not drawn, GET /v1/models only */
};

static const char *const fault_names[F_COUNT] = {
	"none", "429", "429h", "500", "503", "529", "stall", "reset",
	"truncate", "badjson", "errbody", "nologprobs",
};

static struct {
	double rate[F_COUNT];
	bool any, echo_headers, no_models;
	uint64_t seed;
	long stall_ms, hint_ms;
	uint64_t counter;	/* POSTs seen; atomic builtins */
} faults = { .seed = 1, .stall_ms = 2000, .hint_ms = 20 };

/* "429=0.05,stall=0.01,...": exits with a message on a bad spec. */
static void fault_parse_spec(const char *spec)
{
	char *copy = strdup(spec), *save = NULL, *tok;
	double sum = 0;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		double r;
		int f;

		for (f = 1; f < F_COUNT && (!eq || strncmp(tok,
		     fault_names[f], (size_t)(eq - tok)) ||
		     fault_names[f][eq - tok]); f++)
			;
		r = eq ? strtod(eq + 1, &end) : -1;
		if (f == F_COUNT || r < 0 || r > 1 || *end) {
			fprintf(stderr, "fakeserver: bad fault '%s' (want "
				"NAME=RATE, NAME one of 429 429h 500 503 529 "
				"stall reset truncate badjson errbody "
				"nologprobs)\n", tok);
			exit(2);
		}
		faults.rate[f] = r;
		sum += r;
	}
	if (sum > 1) {
		fprintf(stderr, "fakeserver: fault rates add up to %g > 1\n",
			sum);
		exit(2);
	}
	faults.any = sum > 0;
	free(copy);
}

static enum fault fault_pick(const struct request *rq)
{
	uint64_t k;
	double u, acc = 0;

	if (faults.no_models && strcmp(rq->method, "GET") == 0 &&
	    strncmp(rq->target, "/v1/models", 10) == 0)
		return F_NOMODELS;
	if (!faults.any || strcmp(rq->method, "POST") != 0)
		return F_NONE;
	k = __atomic_fetch_add(&faults.counter, 1, __ATOMIC_RELAXED);
	u = (double)(mix64(faults.seed * GOLDEN + k) >> 11) /
	    9007199254740992.0;
	for (int f = 1; f < F_COUNT; f++) {
		acc += faults.rate[f];
		if (u < acc)
			return (enum fault)f;
	}
	return F_NONE;
}

/* Put the request's headers into an error body's message, as a careless
 * proxy would: the client must not repeat what it sent (its key). */
static void fault_echo_headers(const struct request *rq, json_t *resp)
{
	json_t *e = json_object_get(resp, "error");
	const char *m = json_string_value(json_object_get(e, "message"));
	char *h = json_dumps(rq->headers, JSON_COMPACT | JSON_SORT_KEYS);
	char *both = NULL;

	if (json_is_object(e) && h &&
	    asprintf(&both, "%s (request headers: %s)", m ? m : "", h) >= 0)
		json_object_set_new(e, "message", json_string(both));
	free(both);
	free(h);
}

/* Send a raw answer: status line, extra header lines, a Content-Length
 * of `claim` bytes, and `n` bytes of body. */
static bool fault_send(struct conn *c, int status, const char *extra,
		       const char *body, size_t n, size_t claim)
{
	char head[512];
	struct iovec iov[2] = { { head, 0 }, { (char *)body, n } };

	iov[0].iov_len = (size_t)snprintf(head, sizeof(head),
		"HTTP/1.1 %d Fault\r\nContent-Type: application/json\r\n"
		"%sContent-Length: %zu\r\n\r\n", status, extra ? extra : "",
		claim);
	c->served = true;
	return send_all(c->fd, iov, 2);
}

static bool fault_error(struct conn *c, const struct request *rq,
			int status, const char *extra, const char *type,
			const char *msg)
{
	json_t *e = api_error(NULL, type, "%s", msg);
	char *text;
	bool ok;

	if (faults.echo_headers)
		fault_echo_headers(rq, e);
	text = json_dumps(e, DUMP_FLAGS);
	ok = text && fault_send(c, status, extra, text, strlen(text),
				strlen(text));
	free(text);
	json_decref(e);
	return ok && !rq->close;
}

/* Answer request rq with fault f instead of (or by spoiling) the normal
 * answer (status, resp). Returns whether the connection stays open. */
static bool fault_answer(struct conn *c, const struct request *rq,
			 json_t *doc, enum fault f, int status, json_t *resp)
{
	char extra[160], *text;
	long hint = faults.hint_ms;
	bool ok;

	switch (f) {
	case F_429:
		return fault_error(c, rq, 429, NULL, "rate_limit_exceeded",
				   "Rate limit reached for requests");
	case F_429H:
		/* a different kind of hint each time, in turn */
		switch (__atomic_load_n(&faults.counter, __ATOMIC_RELAXED) % 4) {
		case 0:
			snprintf(extra, sizeof(extra),
				 "retry-after-ms: %ld\r\n", hint);
			break;
		case 1:
			snprintf(extra, sizeof(extra), "retry-after: %.3f\r\n",
				 hint / 1000.0);
			break;
		case 2:
			snprintf(extra, sizeof(extra),
				 "x-ratelimit-reset-requests: %ldms\r\n"
				 "x-ratelimit-reset-tokens: 0.%03lds\r\n",
				 hint, hint % 1000);
			break;
		default:
			return fault_error(c, rq, 429, NULL,
				"rate_limit_exceeded", hint == 20 ?
				"Rate limit reached for tokens per min. "
				"Please try again in 20ms." :
				"Rate limit reached. Please try again in "
				"10ms.");
		}
		return fault_error(c, rq, 429, extra, "rate_limit_exceeded",
				   "Rate limit reached for requests");
	case F_500:
		return fault_error(c, rq, 500, NULL, "server_error",
				   "The server had an error while processing "
				   "your request");
	case F_503:
		return fault_error(c, rq, 503, NULL, "server_error",
				   "Service Unavailable");
	case F_529:
		return fault_error(c, rq, 529, NULL, "overloaded_error",
				   "Overloaded");
	case F_STALL:
		sleep_ms(faults.stall_ms);
		break;
	case F_RESET: {
		struct linger lg = { 1, 0 };

		/* close at once with a RST: no answer at all */
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		return false;
	}
	case F_TRUNCATE:
		text = json_dumps(resp, DUMP_FLAGS);
		if (text)
			fault_send(c, status, NULL, text, strlen(text) / 2,
				   strlen(text));
		free(text);
		return false;
	case F_BADJSON: {
		static const char bad[] = "{\"id\":\"chatcmpl-fault\","
			"\"choices\":[{\"index\":0,\"message\":{\"role\":";

		return fault_send(c, 200, NULL, bad, sizeof(bad) - 1,
				  sizeof(bad) - 1) && !rq->close;
	}
	case F_ERRBODY:
		return fault_error(c, rq, 200, NULL, "server_error",
				   "The server had an error processing your "
				   "request. Sorry about that!");
	case F_NOMODELS:
		return fault_error(c, rq, 404, NULL, "not_found",
				   "Unknown route: GET /v1/models");
	case F_NOLOGPROBS:
		/* only judge requests (those asking for logprobs) */
		if (status == 200 && json_is_true(json_object_get(doc,
							      "logprobs"))) {
			size_t i;
			json_t *ch;

			json_array_foreach(json_object_get(resp, "choices"),
					   i, ch)
				json_object_set_new(ch, "logprobs",
						    json_null());
		}
		break;
	default:
		break;
	}
	ok = send_json(c, status, resp, rq->close);
	return ok && !rq->close;
}

/* Log, route and answer a request whose body is in. */
static bool answer(struct conn *c, const struct request *rq,
		   const char *body)
{
	json_error_t jerr = { .text = "empty body" };
	json_t *doc = NULL, *resp = NULL;
	int status;
	enum fault f;
	bool ok;

	if (rq->body_len)
		doc = json_loadb(body, rq->body_len, JSON_DECODE_ANY, &jerr);
	if (log_fd >= 0)
		log_request(rq, doc ? json_incref(doc) :
				lossy_string(body, rq->body_len));
	status = route(rq, doc, jerr.text, &resp);
	/* after the log line, so that a test can see a request waiting */
	if (opt.latency_ms > 0 && strcmp(rq->method, "POST") == 0)
		sleep_ms(opt.latency_ms);
	if (faults.echo_headers && status >= 400)
		fault_echo_headers(rq, resp);
	if (status == 200 && (f = fault_pick(rq)) != F_NONE)
		ok = fault_answer(c, rq, doc, f, status, resp);
	else
		ok = send_json(c, status, resp, rq->close);
	json_decref(resp);
	json_decref(doc);
	return ok;
}

/* Serve one request; false when the connection is to close. */
static bool serve_one(struct conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct iovec iov = { (char *)cont, sizeof(cont) - 1 };
	struct request rq = { .target = NULL };
	size_t head = read_head(c), total;
	int status;
	bool keep = false;

	if (head == 0 || head == SIZE_MAX) {
		if (head)
			fail(c, NULL, 431);
		return false;
	}
	status = parse_head(c->buf, head - 2, &rq);
	if (!status && (rq.chunked || rq.body_len > MAX_BODY))
		status = rq.chunked ? 411 : 413;
	if (status) {
		fail(c, &rq, status);
		goto out;
	}
	total = head + rq.body_len;
	if (rq.expect && !rq.http10 && c->len < total &&
	    !send_all(c->fd, &iov, 1))
		goto out;
	if (c->len < total && !reserve(c, total - c->len + 4096))
		goto out;
	while (c->len < total)
		if (!fill(c))
			goto out;
	keep = answer(c, &rq, c->buf + head) && !rq.close;
	consume(c, total);
out:
	free(rq.target);
	json_decref(rq.headers);
	return keep;
}

/* Closing a socket with unread input makes the kernel send a reset, which
 * can destroy an error answer before the client reads it: so shut the
 * writing side and read what is left for a while first. */
static void linger_drain(int fd)
{
	long deadline = now_ms() + LINGER_MS, left;
	char junk[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };

	shutdown(fd, SHUT_WR);
	while ((left = deadline - now_ms()) > 0 && poll(&p, 1, (int)left) > 0 &&
	       recv(fd, junk, sizeof(junk), 0) > 0)
		;
}

static void slot_take(void)
{
	char b[64];

	pthread_mutex_lock(&slot_lock);
	if (slots_used >= opt.threads_max) {
		/* a newcomer waits: idle connections, make room */
		if (write(starve_pipe[1], "x", 1) < 0) {
			/* the pipe is full: the news is out already */
		}
		while (slots_used >= opt.threads_max)
			pthread_cond_wait(&slot_freed, &slot_lock);
		while (read(starve_pipe[0], b, sizeof(b)) > 0)
			;
	}
	slots_used++;
	pthread_mutex_unlock(&slot_lock);
}

static void slot_give(void)
{
	pthread_mutex_lock(&slot_lock);
	slots_used--;
	pthread_cond_signal(&slot_freed);
	pthread_mutex_unlock(&slot_lock);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	while (serve_one(c))
		;
	if (c->linger)
		linger_drain(c->fd);
	close(c->fd);
	free(c->buf);
	free(c);
	slot_give();
	return NULL;
}

static void accept_loop(int lfd)
{
	/* a client that stops reading must not hold a thread for ever */
	struct timeval send_timeout = { 30, 0 };
	pthread_attr_t attr;
	int one = 1;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* jansson recurses up to 2048 levels deep (parse, dump, free): TSan
	 * builds need 2 MiB for that, so take 4; it is only address space */
	pthread_attr_setstacksize(&attr, 4u << 20);
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;
		pthread_t t;

		if (fd < 0) {
			/* out of descriptors or memory: let some close */
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(20);
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout,
			   sizeof(send_timeout));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		slot_take();
		if ((c = calloc(1, sizeof(*c))))
			c->fd = fd;
		if (!c || pthread_create(&t, &attr, conn_main, c) != 0) {
			close(fd);
			free(c);
			slot_give();
			sleep_ms(20);
		}
	}
}

/* ---- setup ------------------------------------------------------------ */

static void on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

static void usage(void)
{
	fputs("usage: fakeserver [--port N] [--port-file F] [--latency-ms N] "
	      "[--api-key KEY]\n       [--no-n] [--judge-bias-a X] "
	      "[--judge-lead] [--log FILE] [--threads-max N]\n"
	      "       [--faults SPEC] [--fault-seed N] [--stall-ms N] "
	      "[--fault-hint-ms N]\n       [--echo-headers-on-error] "
	      "[--no-models] [--key-post-only] [--refuse-after N]\n"
	      "       [--same-answers] [--judge-prefer-shorter] "
	      "[--refuse-logprobs] [--completions-chat-logprobs]\n",
	      stderr);
	exit(2);
}

/* optarg as a number in [lo, hi], integral unless `real`. */
static double number(double lo, double hi, bool real)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(optarg, &end);
	if (errno || end == optarg || *end || !isfinite(x) || x < lo ||
	    x > hi || (!real && x != floor(x))) {
		fprintf(stderr, "fakeserver: bad number: %s\n", optarg);
		usage();
	}
	return x;
}

static void parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "api-key", required_argument, NULL, 'k' },
		{ "no-n", no_argument, NULL, 'n' },
		{ "judge-bias-a", required_argument, NULL, 'b' },
		{ "judge-lead", no_argument, NULL, 'j' },
		{ "log", required_argument, NULL, 'L' },
		{ "threads-max", required_argument, NULL, 't' },
		{ "faults", required_argument, NULL, 'F' },
		{ "fault-seed", required_argument, NULL, 'S' },
		{ "stall-ms", required_argument, NULL, 'T' },
		{ "fault-hint-ms", required_argument, NULL, 'H' },
		{ "echo-headers-on-error", no_argument, NULL, 'E' },
		{ "no-models", no_argument, NULL, 'M' },
		{ "refuse-logprobs", no_argument, NULL, 'R' },
		{ "completions-chat-logprobs", no_argument, NULL, 'C' },
		{ "key-post-only", no_argument, NULL, 'K' },
		{ "refuse-after", required_argument, NULL, 'r' },
		{ "same-answers", no_argument, NULL, 's' },
		{ "judge-prefer-shorter", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case 'p': opt.port = (long)number(0, 65535, false); break;
		case 'f': opt.port_file = optarg; break;
		case 'l': opt.latency_ms = (long)number(0, 1e8, false); break;
		case 'k': opt.api_key = optarg; break;
		case 'n': opt.no_n = true; break;
		case 'b': opt.bias_a = number(-1e300, 1e300, true); break;
		case 'j': opt.judge_lead = true; break;
		case 'L': opt.log_path = optarg; break;
		case 't': opt.threads_max = (long)number(1, 1e6, false); break;
		case 'F': fault_parse_spec(optarg); break;
		case 'S': faults.seed = (uint64_t)number(0, 1e15, false); break;
		case 'T': faults.stall_ms = (long)number(0, 1e8, false); break;
		case 'H': faults.hint_ms = (long)number(1, 1e6, false); break;
		case 'E': faults.echo_headers = true; break;
		case 'M': faults.no_models = true; break;
		case 'R': ext.refuse_logprobs = true; break;
		case 'C': ext.completions_chat = true; break;
		case 'K': opt.key_post_only = true; break;
		case 'r': opt.refuse_after = (long)number(0, 1e15, false);
			  break;
		case 's': opt.same_answers = true; break;
		case 'P': opt.prefer_shorter = true; break;
		default: usage();
		}
	}
	if (optind < argc)
		usage();
}

static void write_port_file(unsigned port)
{
	char *tmp = NULL;
	FILE *f = NULL;

	if (asprintf(&tmp, "%s.tmp", opt.port_file) < 0 ||
	    !(f = fopen(tmp, "w")) || fprintf(f, "%u\n", port) < 0 ||
	    fclose(f) != 0 || rename(tmp, opt.port_file) != 0) {
		fprintf(stderr, "fakeserver: cannot write %s: %s\n",
			opt.port_file, strerror(errno));
		exit(1);
	}
	free(tmp);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	struct sigaction sa = { .sa_handler = on_signal };
	struct rlimit rl;
	int lfd, one = 1;

	parse_args(argc, argv);
	/* 1000+ connections need more descriptors than the usual soft limit */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	json_object_seed(0);	/* now, before there are threads */
	if (opt.log_path && (log_fd = open(opt.log_path, O_WRONLY | O_APPEND |
					   O_CREAT | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "fakeserver: cannot open %s: %s\n",
			opt.log_path, strerror(errno));
		return 1;
	}
	if (pipe2(starve_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
		perror("fakeserver: pipe");
		return 1;
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	addr.sin_port = htons((uint16_t)opt.port);
	if (lfd < 0 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 4096) ||
	    getsockname(lfd, (struct sockaddr *)&addr, &alen)) {
		fprintf(stderr, "fakeserver: cannot listen on 127.0.0.1:%ld: "
			"%s\n", opt.port, strerror(errno));
		return 1;
	}
	if (opt.port_file)
		write_port_file(ntohs(addr.sin_port));
	printf("fakeserver listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
	fflush(stdout);
	accept_loop(lfd);
	return 0;
}
