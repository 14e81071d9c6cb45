/*
 * fakeserver.c - caigen's fake OpenAI-compatible model server, for the tests
 * and `make demo`. Every answer is a pure function of the request.
 *
 * fakeserver [--port N] [--port-file F] [--latency-ms N] [--api-key KEY]
 *            [--no-n] [--judge-bias-a X] [--judge-lead] [--log FILE]
 *            [--judge-overconfidence T]
 *            [--threads-max N] [--faults SPEC] [--fault-seed N]
 *            [--stall-ms N] [--fault-hint-ms N] [--echo-headers-on-error]
 *            [--refuse-logprobs] [--completions-chat-logprobs]
 *            [--key-post-only] [--refuse-after N] [--same-answers]
 *            [--batch-seconds S] [--batch-max-requests N]
 *            [--batch-max-bytes N] [--batch-fail-every N]
 *            [--batch-expire N] [--batch-junk] [--max-inflight N]
 *            [--batch-create-ms N] [--batch-create-drop N]
 *
 *   (/v1/completions, /v1/messages, --refuse-logprobs and the judge's
 *   rationales are described above ext_route(), further down; the batch
 *   routes of OpenAI and Anthropic above batch_route().)
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
 *   --judge-overconfidence T  the judge's d below is multiplied by T
 *                    (default 1): T > 1 is a judge T times too sure of
 *                    itself, whose labels temperature scaling with
 *                    temperature T (caigen calibrate) makes true again.
 *   --judge-lead     judge answers start with a "**" token (top_logprobs:
 *                    "**" -0.05, "The" -3.0) before the letter: "**A".
 *                    Not when max_tokens < 2.
 *   --log FILE       append a JSON line per request, before answering it:
 *                    {"method", "path", "headers": {lowercase name: value},
 *                    "body": the parsed JSON, else the text}.
 *   --max-inflight N a POST that arrives while N others are being answered
 *                    gets a 429 at once (no latency, no hint), as a server
 *                    limiting concurrent requests does (nginx
 *                    limit_conn).
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
 *   --same-answers   every policy choice (chat, completions and Anthropic
 *                    routes) is the same text whatever the seed, index
 *                    and temperature (h_i = mix(key)),
 *                    as a server at temperature 0 or behind a cache.
 *   --batch-seconds S        the time a batch takes (0.4; a real number).
 *   --batch-max-requests N   lines a batch may hold (default 50000
 *                            OpenAI, 100000 Anthropic).
 *   --batch-max-bytes N      Anthropic create bodies above N bytes get
 *                            413 (default 256 MiB). Upload and create
 *                            bodies may be 512 MiB (others 8 MiB).
 *   --batch-fail-every N     a request whose custom_id's FNV-1a-64 (basis
 *                            0xcbf29ce484222325, prime 0x100000001b3)
 *                            % N == 0 fails with a 500 server_error:
 *                            OpenAI error-file line {response:
 *                            {status_code: 500, body: {error: ...}},
 *                            error: null}; Anthropic errored api_error.
 *   --batch-expire N         the first N batches created expire instead
 *                            of completing: requests at even 0-based
 *                            input positions finish, the others get
 *                            batch_expired (OpenAI error file, status
 *                            "expired") or "expired" results (Anthropic,
 *                            processing_status "ended").
 *   --batch-junk             in the first OpenAI batch that does not
 *                            expire, the last request (by
 *                            input position), if it finished, has only a
 *                            junk error-file line {response:
 *                            {status_code: 0, request_id: "", body: {}},
 *                            error: null} (counted as completed, as the
 *                            real one was).
 *   --batch-create-ms N      a batch create (either provider) that
 *                            succeeded is answered N ms after the batch
 *                            was made (it is listed and can be polled
 *                            meanwhile), as a loaded provider does.
 *   --batch-create-drop N    the first N batch creates that succeeded
 *                            get no answer at all: the batch is made,
 *                            then the connection closes.
 * SIGTERM and SIGINT exit 0 at once.
 *
 * HTTP/1.1 keep-alive and pipelining (HTTP/1.0: close after one answer),
 * Expect: 100-continue, bodies by Content-Length only (chunked: 411), body
 * up to 8 MiB (413; 512 MiB for POSTs to the batch routes), head up to
 * 64 KiB (431), 30 s idle timeout, a detached
 * thread per connection. Answers are JSON with a Content-Length; errors use
 * OpenAI's {"error": {"message", "type", "param", "code"}}.
 *   GET /health -> {"status":"ok"};  GET /v1/models -> "fake-model";
 *   POST /v1/chat/completions -> below;  the batch routes (/v1/files,
 *   /v1/batches, /v1/messages/batches) -> above batch_route();
 *   anything else -> 404.
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
	double overconfidence;	/* 0: 1 */
	long refuse_after;	/* -1: never */
	long posts;		/* POSTs seen, for refuse_after; atomic */
	long max_inflight;	/* 0: no limit */
	long busy;		/* POSTs being answered; atomic */
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
	double d = ((opt.prefer_shorter ? (double)lb - (double)la :
		     (double)la - (double)lb) / 50.0 + opt.bias_a) *
		   (opt.overconfidence > 0 ? opt.overconfidence : 1);
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
	double d = ((opt.prefer_shorter ? (double)lb - (double)la :
		     (double)la - (double)lb) / 50.0 + opt.bias_a) *
		   (opt.overconfidence > 0 ? opt.overconfidence : 1);

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
			char *t = ext_policy(&ch, opt.same_answers ?
					     mix64(ch.key) : choice_hash(&ch, i),
					     &len, &finish, &w);

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
		if (temp > 0 && !opt.same_answers) {
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

/* ---- batches (OpenAI Batch, Anthropic Message Batches) ---------------
 *
 * Everything lives in memory under one lock: uploaded and generated
 * files, batches. The answer to every request of a batch is computed at
 * create, by route() itself (the live route, with the server's key in
 * the request's headers), so a request answers the same bytes live and
 * in a batch; the clock then only decides which of those answers have
 * "finished". A batch's requests finish in a shuffled order (seeded by
 * the batch id): after fraction f of the running phase the first
 * floor(f * M) of the M requests that will finish have, and the result
 * lines come in that shuffled order.
 *
 * OpenAI (Bearer key): POST /v1/files (multipart: purpose=batch, a file
 * part whose filename ends in .jsonl), GET /v1/files/{id}/content,
 * POST /v1/batches {input_file_id, endpoint (/v1/chat/completions or
 * /v1/completions), completion_window "24h", metadata}, GET
 * /v1/batches/{id}, POST /v1/batches/{id}/cancel, GET
 * /v1/batches?limit=N&after=ID (newest first). Over --batch-seconds S
 * from create: validating (first 20 %, request_counts.total 0),
 * in_progress (completed rising linearly), finalizing (last 10 %), then
 * completed, with output_file_id (null when no line succeeded) and
 * error_file_id (when a line failed). Validation happens at create and
 * shows at the first poll as status "failed" with errors.data[] {code,
 * message, param, line}: invalid_json_line, invalid_request (a line
 * without custom_id, method POST, url or body), url_mismatch,
 * model_mismatch, duplicate_custom_id, too_many_tasks, empty_file.
 *
 * Anthropic (x-api-key): POST /v1/messages/batches {"requests": [{
 * custom_id, params}]}, GET /v1/messages/batches/{id}, GET .../results,
 * POST .../cancel. 400 invalid_request_error at create for a custom_id
 * not matching ^[a-zA-Z0-9_-]{1,64}$, a repeated one, no params object,
 * no requests or too many; 413 request_too_large over --batch-max-bytes.
 * in_progress (request_counts all processing) for S, then ended with
 * results_url http://HOST/v1/messages/batches/{id}/results (HOST from
 * the Host header).
 *
 * Cancel: cancelling (OpenAI) or canceling (Anthropic) for S / 4, then
 * cancelled or ended; what had finished at the cancel is in the results,
 * the rest is cancelled (OpenAI error-file code batch_cancelled;
 * Anthropic result type canceled). A batch already ended: 400.
 *
 * (The --batch-* flags are in the comment at the top of the file.)
 * With --log, one line {"batch": ID, "custom_id": CID} per request a
 * created batch accepted, besides the request's own line.
 */
#define MAX_BATCH_BODY	(512u << 20)

static struct {
	double seconds;
	long max_requests;	/* -1: the provider's */
	long max_bytes;
	long fail_every;	/* 0: never */
	long expire;		/* batches still to expire */
	bool junk;
	long create_ms;		/* --batch-create-ms */
	long create_drop;	/* creates still to go unanswered */
	unsigned port;		/* listening port, if no Host header */
} bopt = { .seconds = 0.4, .max_requests = -1, .max_bytes = 256L << 20 };

struct bfile {
	char id[40];
	char *name, *purpose;
	char *data;
	size_t len;
	long created;
	struct bfile *next;
};

struct breq {
	char *cid;
	int status;		/* of the live answer */
	char *body;		/* the live answer, as sent */
	bool fail;		/* --batch-fail-every */
};

struct batch {
	char id[48];
	bool anthropic;
	char endpoint[32], input_file[40];
	json_t *metadata;
	long created_ms, created_unix;
	size_t n;
	struct breq *req;	/* input order */
	size_t *perm;		/* shuffled order */
	bool *finishes;		/* by input position: will finish */
	size_t m;		/* how many will */
	bool expire;
	bool junk;		/* --batch-junk: this batch's last line */
	json_t *errors;		/* OpenAI validation: failed */
	long cancel_ms;		/* 0: not cancelled */
	size_t cancel_done;	/* finished when cancelled */
	bool ended;		/* results built */
	char out_file[40], err_file[40];
	char *results;		/* Anthropic results */
	size_t results_len;
	struct batch *next;	/* newest first */
};

static struct {
	pthread_mutex_t lock;
	struct bfile *files;
	struct batch *batches;
	uint64_t counter;
} bst = { .lock = PTHREAD_MUTEX_INITIALIZER };

static uint64_t batch_hash(const char *s)
{
	return fnv1a(0xcbf29ce484222325ULL, s, strlen(s));
}

/* A new id "prefix" + 16 hex digits; under bst.lock. */
static void batch_new_id(char *out, size_t n, const char *prefix)
{
	snprintf(out, n, "%s%016" PRIx64, prefix,
		 mix64(0x6261746368ULL + bst.counter++));
}

static struct bfile *file_find(const char *id, size_t n)
{
	for (struct bfile *f = bst.files; f; f = f->next)
		if (strlen(f->id) == n && !memcmp(f->id, id, n))
			return f;
	return NULL;
}

static struct batch *batch_find(const char *id, size_t n, bool anthropic)
{
	for (struct batch *b = bst.batches; b; b = b->next)
		if (b->anthropic == anthropic && strlen(b->id) == n &&
		    !memcmp(b->id, id, n))
			return b;
	return NULL;
}

/* A file into the store; under bst.lock. Takes data. */
static struct bfile *file_add(const char *name, const char *purpose,
			      char *data, size_t len)
{
	struct bfile *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	batch_new_id(f->id, sizeof(f->id), "file-");
	f->name = strdup(name);
	f->purpose = strdup(purpose);
	f->data = data;
	f->len = len;
	f->created = (long)time(NULL);
	f->next = bst.files;
	bst.files = f;
	return f;
}

static json_t *file_json(const struct bfile *f)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:n}",
			 "id", f->id, "object", "file", "bytes",
			 (json_int_t)f->len, "created_at",
			 (json_int_t)f->created, "filename", f->name,
			 "purpose", f->purpose, "status", "processed",
			 "expires_at", (json_int_t)f->created + 2592000,
			 "status_details");
}

/* The Anthropic error envelope as a JSON text. */
static json_t *anthropic_error(const char *type, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static json_t *anthropic_error(const char *type, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:s, s:{s:s, s:o}}", "type", "error", "error",
			 "type", type, "message", lossy_string(msg,
							       strlen(msg)));
}

static bool key_bearer(const struct request *rq)
{
	const char *a = json_string_value(json_object_get(rq->headers,
							  "authorization"));

	return !opt.api_key || (a && !strncasecmp(a, "Bearer ", 7) &&
				!strcmp(a + 7, opt.api_key));
}

static bool key_anthropic(const struct request *rq)
{
	const char *k = json_string_value(json_object_get(rq->headers,
							  "x-api-key"));

	return !opt.api_key || (k && !strcmp(k, opt.api_key));
}

/* The live answer to one request of a batch: what route() says for a
 * POST of doc to url, with the server's own key. */
static void batch_live(struct breq *r, const char *url, bool anthropic,
		       json_t *doc)
{
	struct request srq = { .method = "POST", .target = (char *)url };
	json_t *resp = NULL;

	srq.headers = json_object();
	if (opt.api_key) {
		char *v = NULL;

		if (anthropic)
			json_object_set_new(srq.headers, "x-api-key",
					    json_string(opt.api_key));
		else if (asprintf(&v, "Bearer %s", opt.api_key) >= 0)
			json_object_set_new(srq.headers, "authorization",
					    json_string(v));
		free(v);
	}
	r->status = route(&srq, doc, "not an object", &resp);
	r->body = resp ? json_dumps(resp, DUMP_FLAGS) : NULL;
	if (!r->body) {
		r->status = 500;
		r->body = strdup("{\"error\":{\"message\":\"no answer\","
				 "\"type\":\"server_error\",\"param\":null,"
				 "\"code\":null}}");
	}
	r->fail = bopt.fail_every > 0 &&
		  batch_hash(r->cid) % (uint64_t)bopt.fail_every == 0;
	json_decref(resp);
	json_decref(srq.headers);
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; b->req && i < b->n; i++) {
		free(b->req[i].cid);
		free(b->req[i].body);
	}
	free(b->req);
	free(b->perm);
	free(b->finishes);
	json_decref(b->metadata);
	json_decref(b->errors);
	free(b->results);
	free(b);
}

/* Shuffle, who finishes, the log lines; then into the store. */
static void batch_start(struct batch *b)
{
	uint64_t s;

	/* the id and the expiry first; the list shows it when it is whole */
	pthread_mutex_lock(&bst.lock);
	batch_new_id(b->id, sizeof(b->id), b->anthropic ? "msgbatch_" :
		     "batch_");
	if (bopt.expire > 0 && !b->errors) {
		bopt.expire--;
		b->expire = true;
	}
	if (bopt.junk && !b->errors && !b->anthropic && !b->expire) {
		bopt.junk = false;	/* the first such batch only */
		b->junk = true;
	}
	pthread_mutex_unlock(&bst.lock);

	b->perm = calloc(b->n ? b->n : 1, sizeof(*b->perm));
	b->finishes = calloc(b->n ? b->n : 1, sizeof(*b->finishes));
	if (!b->perm || !b->finishes) {
		fprintf(stderr, "fakeserver: out of memory\n");
		exit(1);
	}
	s = batch_hash(b->id);
	for (size_t i = 0; i < b->n; i++)
		b->perm[i] = i;
	for (size_t i = b->n; i > 1; i--) {
		size_t j = (size_t)(draw(&s) % i), t = b->perm[i - 1];

		b->perm[i - 1] = b->perm[j];
		b->perm[j] = t;
	}
	for (size_t i = 0; i < b->n; i++) {
		b->finishes[i] = !b->expire || i % 2 == 0;
		b->m += b->finishes[i];
	}
	if (log_fd >= 0 && !b->errors) {
		for (size_t i = 0; i < b->n; i++) {
			json_t *l = json_pack("{s:s, s:s}", "batch", b->id,
					      "custom_id", b->req[i].cid);
			char *t = l ? json_dumps(l, DUMP_FLAGS) : NULL;
			size_t k;

			json_decref(l);
			if (!t)
				continue;
			k = strlen(t);
			t[k++] = '\n';
			pthread_mutex_lock(&log_lock);
			if (write(log_fd, t, k) != (ssize_t)k)
				fprintf(stderr, "fakeserver: log write "
					"failed\n");
			pthread_mutex_unlock(&log_lock);
			free(t);
		}
	}
	pthread_mutex_lock(&bst.lock);
	b->created_ms = now_ms();
	b->created_unix = (long)time(NULL);
	b->next = bst.batches;
	bst.batches = b;
	pthread_mutex_unlock(&bst.lock);
}

/* Where a batch is at time `ms`. */
struct bview {
	const char *status;
	size_t done;		/* finished so far: perm's first `done` of
				 * those that finish */
	bool terminal, cancelled;
};

static size_t progress(const struct batch *b, double f)
{
	if (f <= 0)
		return 0;
	if (f >= 1)
		return b->m;
	return (size_t)(f * (double)b->m);
}

static void batch_view(const struct batch *b, long ms, struct bview *v)
{
	double span = bopt.seconds * 1000.0;
	double e = span > 0 ? (double)(ms - b->created_ms) / span : 1e9;

	memset(v, 0, sizeof(*v));
	if (b->errors) {
		v->status = "failed";
		v->terminal = true;
		return;
	}
	if (b->cancel_ms) {
		v->done = b->cancel_done;
		v->cancelled = (double)(ms - b->cancel_ms) >= span / 4;
		v->terminal = v->cancelled;
		v->status = b->anthropic ? (v->cancelled ? "ended" :
					    "canceling") :
			    v->cancelled ? "cancelled" : "cancelling";
		return;
	}
	if (b->anthropic) {
		v->done = progress(b, e);
		v->terminal = e >= 1;
		v->status = v->terminal ? "ended" : "in_progress";
		return;
	}
	v->done = progress(b, (e - 0.2) / 0.7);
	v->terminal = e >= 1;
	v->status = e < 0.2 ? "validating" : e < 0.9 ? "in_progress" :
		    e < 1 ? "finalizing" : b->expire ? "expired" :
		    "completed";
}

/* Has request i (input position) finished by view v? */
static bool batch_done(const struct batch *b, const struct bview *v,
		       size_t i, const size_t *rank)
{
	return b->finishes[i] && rank[i] < v->done;
}

/* rank[i]: request i's place among those that finish, in perm order. */
static size_t *batch_ranks(const struct batch *b)
{
	size_t *rank = calloc(b->n ? b->n : 1, sizeof(*rank)), k = 0;

	if (!rank) {
		fprintf(stderr, "fakeserver: out of memory\n");
		exit(1);
	}
	for (size_t j = 0; j < b->n; j++)
		if (b->finishes[b->perm[j]])
			rank[b->perm[j]] = k++;
	return rank;
}

/* Did request i succeed (when finished)? */
static bool req_ok(const struct breq *r)
{
	return r->status == 200 && !r->fail;
}

static bool is_junk(const struct batch *b, size_t i)
{
	return b->junk && i + 1 == b->n;
}

static const char fail_body[] = "{\"error\":{\"message\":\"The server had "
	"an error while processing your request. Sorry about that!\","
	"\"type\":\"server_error\",\"param\":null,\"code\":null}}";

/* Append to *o (an open memstream) the result line of request i. */
static void result_line(const struct batch *b, size_t i, bool done,
			const struct bview *v, FILE *o)
{
	const struct breq *r = &b->req[i];
	json_t *cj = json_string(r->cid);
	char *cid = json_dumps(cj, JSON_ENCODE_ANY);
	uint64_t h = mix64(batch_hash(b->id) ^ batch_hash(r->cid));

	json_decref(cj);
	if (b->anthropic) {
		if (!done)
			fprintf(o, "{\"custom_id\":%s,\"result\":{\"type\":"
				"\"%s\"}}\n", cid, v->cancelled ? "canceled" :
				"expired");
		else if (r->fail)
			fprintf(o, "{\"custom_id\":%s,\"result\":{\"type\":"
				"\"errored\",\"error\":{\"type\":\"error\","
				"\"error\":{\"type\":\"api_error\",\"message\":"
				"\"Internal server error\"},\"request_id\":"
				"null}}}\n", cid);
		else if (r->status != 200)
			fprintf(o, "{\"custom_id\":%s,\"result\":{\"type\":"
				"\"errored\",\"error\":%s}}\n", cid, r->body);
		else
			fprintf(o, "{\"custom_id\":%s,\"result\":{\"type\":"
				"\"succeeded\",\"message\":%s}}\n", cid,
				r->body);
	} else if (!done) {
		fprintf(o, "{\"id\":\"batch_req_%016" PRIx64 "\",\"custom_id\":"
			"%s,\"response\":null,\"error\":{\"code\":\"%s\","
			"\"message\":\"%s\"}}\n", h, cid, v->cancelled ?
			"batch_cancelled" : "batch_expired", v->cancelled ?
			"This request was not run: the batch was cancelled." :
			"This request could not be executed before the "
			"completion window expired.");
	} else if (is_junk(b, i)) {
		fprintf(o, "{\"id\":\"batch_req_%016" PRIx64 "\",\"custom_id\":"
			"%s,\"response\":{\"status_code\":0,\"request_id\":"
			"\"\",\"body\":{}},\"error\":null}\n", h, cid);
	} else {
		fprintf(o, "{\"id\":\"batch_req_%016" PRIx64 "\",\"custom_id\":"
			"%s,\"response\":{\"status_code\":%d,\"request_id\":"
			"\"req_%016" PRIx64 "\",\"body\":%s},\"error\":null}\n",
			h, cid, r->fail ? 500 : r->status, mix64(h),
			r->fail ? fail_body : r->body);
	}
	free(cid);
}

/* At the first look at an ended batch: its result files; under
 * bst.lock. */
static void batch_finish(struct batch *b, const struct bview *v)
{
	size_t *rank = batch_ranks(b);
	char *out = NULL, *errs = NULL;
	size_t olen = 0, elen = 0;
	FILE *fo = open_memstream(&out, &olen);
	FILE *fe = open_memstream(&errs, &elen);

	if (!fo || !fe) {
		fprintf(stderr, "fakeserver: out of memory\n");
		exit(1);
	}
	for (size_t j = 0; j < b->n; j++) {
		size_t i = b->perm[j];
		bool done = batch_done(b, v, i, rank);

		result_line(b, i, done, v, b->anthropic || !done ||
			    is_junk(b, i) || !req_ok(&b->req[i]) ? fe : fo);
	}
	fclose(fo);
	fclose(fe);
	if (b->anthropic) {
		/* one file: the errors were kept apart only for OpenAI */
		b->results_len = olen + elen;
		b->results = malloc(olen + elen + 1);
		if (b->results) {
			memcpy(b->results, out, olen);
			memcpy(b->results + olen, errs, elen);
		}
		free(out);
		free(errs);
	} else {
		struct bfile *f;

		if (olen && (f = file_add("batch_output.jsonl",
					  "batch_output", out, olen)))
			snprintf(b->out_file, sizeof(b->out_file), "%s",
				 f->id);
		else
			free(out);
		if (elen && (f = file_add("batch_errors.jsonl",
					  "batch_output", errs, elen)))
			snprintf(b->err_file, sizeof(b->err_file), "%s",
				 f->id);
		else
			free(errs);
	}
	free(rank);
	b->ended = true;
}

static json_t *unix_or_null(bool set, long t)
{
	return set ? json_integer(t) : json_null();
}

static json_t *rfc3339(long t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char s[64];

	gmtime_r(&tt, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	return json_string(s);
}

/* The batch object as the provider shows it now; under bst.lock. */
static json_t *batch_json(struct batch *b, const struct request *rq)
{
	struct bview v;
	size_t *rank, ok = 0, bad = 0, finished = 0;
	long now = (long)time(NULL), c = b->created_unix;
	json_t *j;

	batch_view(b, now_ms(), &v);
	if (v.terminal && !b->ended && !b->errors)
		batch_finish(b, &v);
	rank = batch_ranks(b);
	for (size_t i = 0; i < b->n && !b->errors; i++) {
		if (!batch_done(b, &v, i, rank))
			continue;
		finished++;
		if (req_ok(&b->req[i]) || is_junk(b, i))
			ok++;
		else
			bad++;
	}
	free(rank);
	if (b->anthropic) {
		const char *host = json_string_value(json_object_get(
			rq->headers, "host"));
		char *url = NULL;
		json_t *counts;

		if (v.terminal && (host ?
		    asprintf(&url, "http://%s/v1/messages/batches/%s/results",
			     host, b->id) :
		    asprintf(&url, "http://127.0.0.1:%u/v1/messages/batches/"
			     "%s/results", bopt.port, b->id)) < 0)
			url = NULL;
		counts = v.terminal ?
			json_pack("{s:i, s:I, s:I, s:I, s:I}", "processing", 0,
				  "succeeded", (json_int_t)ok, "errored",
				  (json_int_t)bad, "canceled",
				  (json_int_t)(v.cancelled ? b->n - finished :
					       0),
				  "expired", (json_int_t)(v.cancelled ? 0 :
							  b->n - finished)) :
			json_pack("{s:I, s:i, s:i, s:i, s:i}", "processing",
				  (json_int_t)b->n, "succeeded", 0, "errored",
				  0, "canceled", 0, "expired", 0);
		j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:n, "
			      "s:o}", "id", b->id, "type", "message_batch",
			      "processing_status", v.status,
			      "request_counts", counts,
			      "ended_at", v.terminal ? rfc3339(now) :
			      json_null(),
			      "created_at", rfc3339(c),
			      "expires_at", rfc3339(c + 86400),
			      "cancel_initiated_at", b->cancel_ms ?
			      rfc3339(c) : json_null(),
			      "archived_at",
			      "results_url", url ? json_string(url) :
			      json_null());
		free(url);
		return j;
	}
	if (v.terminal && (!strcmp(v.status, "expired") || v.cancelled))
		bad += b->n - finished;
	j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:I, "
		      "s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, "
		      "s:{s:I, s:I, s:I}, s:O}",
		      "id", b->id, "object", "batch", "endpoint", b->endpoint,
		      "errors", b->errors ? json_pack("{s:s, s:O}", "object",
						      "list", "data",
						      b->errors) : json_null(),
		      "input_file_id", b->input_file, "completion_window",
		      "24h", "status", v.status,
		      "output_file_id", b->out_file[0] ?
		      json_string(b->out_file) : json_null(),
		      "error_file_id", b->err_file[0] ?
		      json_string(b->err_file) : json_null(),
		      "created_at", (json_int_t)c,
		      "in_progress_at", unix_or_null(!b->errors &&
			      strcmp(v.status, "validating"), c),
		      "expires_at", (json_int_t)c + 86400,
		      "finalizing_at", unix_or_null(!strcmp(v.status,
			      "finalizing") || !strcmp(v.status, "completed"),
			      now),
		      "completed_at", unix_or_null(!strcmp(v.status,
			      "completed"), now),
		      "failed_at", unix_or_null(b->errors != NULL, c),
		      "expired_at", unix_or_null(!strcmp(v.status, "expired"),
						 now),
		      "cancelling_at", unix_or_null(b->cancel_ms != 0, now),
		      "cancelled_at", unix_or_null(v.cancelled, now),
		      "request_counts", "total", (json_int_t)(b->errors ||
			      !strcmp(v.status, "validating") ? 0 : b->n),
		      "completed", (json_int_t)ok, "failed", (json_int_t)bad,
		      "metadata", b->metadata ? b->metadata : json_null());
	return j;
}

/* ---- OpenAI: upload -------------------------------------------------- */

/* The value of a parameter (boundary=, name=, filename=) in a header
 * value, quotes removed; a new string or NULL. */
static char *header_param(const char *v, size_t n, const char *name)
{
	size_t k = strlen(name);

	for (size_t i = 0; i + k < n; i++) {
		const char *p, *e;

		if (strncasecmp(v + i, name, k) != 0 ||
		    (i > 0 && v[i - 1] != ';' && v[i - 1] != ' ' &&
		     v[i - 1] != '\t'))
			continue;
		p = v + i + k;
		if (*p == '"') {
			p++;
			e = memchr(p, '"', (size_t)(v + n - p));
		} else {
			for (e = p; e < v + n && *e != ';' && *e != ' ' &&
			     *e != '\r'; e++)
				;
		}
		return e ? strndup(p, (size_t)(e - p)) : NULL;
	}
	return NULL;
}

struct part {
	char *name, *filename;
	const char *data;
	size_t len;
};

/* Split a multipart/form-data body into up to `max` parts; -1 if it is
 * not one. */
static int multipart(const char *ctype, const char *body, size_t len,
		     struct part *parts, int max)
{
	char *bnd = ctype && !strncasecmp(ctype, "multipart/form-data", 19) ?
		    header_param(ctype, strlen(ctype), "boundary=") : NULL;
	char delim[256];
	size_t dl;
	const char *p, *end = body + len;
	int n = 0;

	if (!bnd || strlen(bnd) > 200) {
		free(bnd);
		return -1;
	}
	dl = (size_t)snprintf(delim, sizeof(delim), "\r\n--%s", bnd);
	free(bnd);
	/* the first delimiter has no CRLF before it */
	if (len < dl - 2 || memcmp(body, delim + 2, dl - 2) != 0)
		return -1;
	p = body + dl - 2;
	while (n < max) {
		const char *hend, *next;
		struct part *pt = &parts[n];

		if (end - p >= 2 && !memcmp(p, "--", 2))
			return n;
		if (end - p < 2 || memcmp(p, "\r\n", 2))
			return -1;
		p += 2;
		hend = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
		if (!hend)
			return -1;
		memset(pt, 0, sizeof(*pt));
		for (const char *l = p; l < hend;) {
			const char *le = memmem(l, (size_t)(hend + 2 - l),
						"\r\n", 2);

			if (!le)
				le = hend;
			if (!strncasecmp(l, "content-disposition:", 20)) {
				pt->name = header_param(l, (size_t)(le - l),
							"name=");
				pt->filename = header_param(l, (size_t)(le - l),
							    "filename=");
			}
			l = le + 2;
		}
		p = hend + 4;
		next = memmem(p, (size_t)(end - p), delim, dl);
		if (!next) {
			free(pt->name);
			free(pt->filename);
			return -1;
		}
		pt->data = p;
		pt->len = (size_t)(next - p);
		n++;
		p = next + dl;
	}
	return n;
}

static int upload(const struct request *rq, const char *body, json_t **resp)
{
	const char *ctype = json_string_value(json_object_get(rq->headers,
							      "content-type"));
	struct part parts[8];
	const struct part *purpose = NULL, *file = NULL;
	int n = multipart(ctype, body, rq->body_len, parts, 8), status = 200;
	struct bfile *f;
	char *data;

	if (n < 0) {
		*resp = api_error(NULL, NULL, "Expected a multipart/form-data "
				  "body with a boundary");
		return 400;
	}
	for (int i = 0; i < n; i++) {
		if (parts[i].name && !strcmp(parts[i].name, "purpose"))
			purpose = &parts[i];
		else if (parts[i].name && !strcmp(parts[i].name, "file"))
			file = &parts[i];
	}
	if (!purpose || !file) {
		*resp = api_error(purpose ? "file" : "purpose", NULL,
				  "Missing required parameter: '%s'.",
				  purpose ? "file" : "purpose");
		status = 400;
	} else if (purpose->len != 5 || memcmp(purpose->data, "batch", 5)) {
		*resp = api_error("purpose", NULL, "This fake takes purpose "
				  "'batch' only, not '%.*s'.",
				  (int)(purpose->len > 40 ? 40 : purpose->len),
				  purpose->data);
		status = 400;
	} else if (!file->filename || strlen(file->filename) < 6 ||
		   strcmp(file->filename + strlen(file->filename) - 6,
			  ".jsonl")) {
		*resp = api_error(NULL, NULL, "Invalid file format for Batch "
				  "API. Must be .jsonl");
		status = 400;
	} else if (!(data = malloc(file->len + 1))) {
		*resp = api_error(NULL, NULL, "out of memory");
		status = 500;
	} else {
		memcpy(data, file->data, file->len);
		data[file->len] = '\0';
		pthread_mutex_lock(&bst.lock);
		f = file_add(file->filename, "batch", data, file->len);
		*resp = f ? file_json(f) : NULL;
		pthread_mutex_unlock(&bst.lock);
		if (!f) {
			free(data);
			*resp = api_error(NULL, NULL, "out of memory");
			status = 500;
		}
	}
	for (int i = 0; i < n; i++) {
		free(parts[i].name);
		free(parts[i].filename);
	}
	return status;
}

/* ---- OpenAI: create -------------------------------------------------- */

/* Duplicate detection: an open-addressed table of input positions. */
struct idtab {
	size_t *slot;		/* position + 1; 0 empty */
	size_t mask;
};

static void idtab_init(struct idtab *t, size_t n)
{
	size_t cap = 16;

	while (cap < 2 * n + 2)
		cap *= 2;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->mask = cap - 1;
	if (!t->slot) {
		fprintf(stderr, "fakeserver: out of memory\n");
		exit(1);
	}
}

/* Insert request pos; false if its custom_id is there already. */
static bool idtab_add(struct idtab *t, const struct breq *req, size_t pos)
{
	size_t h = (size_t)batch_hash(req[pos].cid) & t->mask;

	for (; t->slot[h]; h = (h + 1) & t->mask)
		if (!strcmp(req[t->slot[h] - 1].cid, req[pos].cid))
			return false;
	t->slot[h] = pos + 1;
	return true;
}

static void add_error(json_t *errs, const char *code, long line,
		      const char *msg)
{
	if (json_array_size(errs) < 1000)
		json_array_append_new(errs, json_pack("{s:s, s:s, s:n, s:o}",
			"code", code, "message", msg, "param", "line",
			line > 0 ? json_integer(line) : json_null()));
}

/* Read the input file into b->req, validating as OpenAI does; the
 * errors go to b->errors. */
static void openai_lines(struct batch *b, const char *data, size_t len)
{
	long max = bopt.max_requests >= 0 ? bopt.max_requests : 50000;
	json_t *errs = json_array();
	const char *model = NULL;
	json_t *first = NULL;
	size_t cap = 0, lineno = 0;
	struct idtab tab;
	json_t **docs = NULL;

	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(data + pos, '\n', len - pos);
		size_t ll = (nl ? (size_t)(nl - data) : len) - pos;
		json_t *d, *body;
		const char *cid, *url, *method, *m;

		lineno++;
		if (ll == 0 || (ll == 1 && data[pos] == '\r')) {
			pos += ll + 1;
			continue;
		}
		d = json_loadb(data + pos, ll, 0, NULL);
		pos += ll + 1;
		if (!json_is_object(d)) {
			add_error(errs, "invalid_json_line", (long)lineno,
				  "This line is not parseable as valid JSON.");
			json_decref(d);
			continue;
		}
		cid = json_string_value(json_object_get(d, "custom_id"));
		url = json_string_value(json_object_get(d, "url"));
		method = json_string_value(json_object_get(d, "method"));
		body = json_object_get(d, "body");
		if (!cid || !url || !method || strcmp(method, "POST") ||
		    !json_is_object(body)) {
			add_error(errs, "invalid_request", (long)lineno,
				  "Each line needs custom_id, method \"POST\", "
				  "url and a body object.");
			json_decref(d);
			continue;
		}
		if (strcmp(url, b->endpoint)) {
			add_error(errs, "url_mismatch", (long)lineno,
				  "The URL provided for this request does not "
				  "match the batch endpoint.");
			json_decref(d);
			continue;
		}
		m = json_string_value(json_object_get(body, "model"));
		if (!first) {
			first = json_incref(d);
			model = m ? m : "";
		} else if (strcmp(m ? m : "", model)) {
			add_error(errs, "model_mismatch", (long)lineno,
				  "The model of this request differs from "
				  "the model of the first request; a file "
				  "may hold one model only.");
			json_decref(d);
			continue;
		}
		if (b->n == cap) {
			cap = cap ? 2 * cap : 64;
			b->req = realloc(b->req, cap * sizeof(*b->req));
			docs = realloc(docs, cap * sizeof(*docs));
			if (!b->req || !docs) {
				fprintf(stderr, "fakeserver: out of memory\n");
				exit(1);
			}
		}
		memset(&b->req[b->n], 0, sizeof(b->req[b->n]));
		b->req[b->n].cid = strdup(cid);
		b->req[b->n].status = (int)lineno;	/* for now */
		docs[b->n++] = d;
	}
	idtab_init(&tab, b->n);
	for (size_t i = 0; i < b->n; i++)
		if (!idtab_add(&tab, b->req, i))
			add_error(errs, "duplicate_custom_id",
				  b->req[i].status, "The custom_id for this "
				  "request is a duplicate of another request. "
				  "The custom_id parameter must be unique for "
				  "each request in a batch.");
	free(tab.slot);
	if (lineno == 0 || (b->n == 0 && json_array_size(errs) == 0))
		add_error(errs, "empty_file", 0, "The batch input file is "
			  "empty.");
	if ((long)b->n > max) {
		char msg[200];

		snprintf(msg, sizeof(msg), "The batch input file has %zu "
			 "requests; a batch may hold at most %ld.", b->n, max);
		add_error(errs, "too_many_tasks", 0, msg);
	}
	if (json_array_size(errs)) {
		b->errors = errs;
	} else {
		json_decref(errs);
		for (size_t i = 0; i < b->n; i++)
			batch_live(&b->req[i], b->endpoint, false,
				   json_object_get(docs[i], "body"));
	}
	for (size_t i = 0; i < b->n; i++)
		json_decref(docs[i]);
	free(docs);
	json_decref(first);
}

static int openai_create(const struct request *rq, json_t *doc,
			 json_t **resp)
{
	const char *fid = json_string_value(json_object_get(doc,
							    "input_file_id"));
	const char *ep = json_string_value(json_object_get(doc, "endpoint"));
	const char *win = json_string_value(json_object_get(doc,
						"completion_window"));
	json_t *md = json_object_get(doc, "metadata"), *v;
	const char *k;
	struct bfile *f;
	struct batch *b;
	char *data;
	size_t len;

	if (!json_is_object(doc) || !fid || !ep || !win) {
		*resp = api_error(NULL, NULL, "input_file_id, endpoint and "
				  "completion_window are required.");
		return 400;
	}
	if (strcmp(ep, "/v1/chat/completions") &&
	    strcmp(ep, "/v1/completions")) {
		*resp = api_error("endpoint", NULL, "Unsupported endpoint "
				  "'%s'.", ep);
		return 400;
	}
	if (strcmp(win, "24h")) {
		*resp = api_error("completion_window", NULL, "Invalid "
				  "completion_window '%s': only '24h' is "
				  "supported.", win);
		return 400;
	}
	if (md && !json_is_null(md)) {
		bool good = json_is_object(md) && json_object_size(md) <= 16;

		json_object_foreach(md, k, v)
			good &= strlen(k) <= 64 && json_is_string(v) &&
				strlen(json_string_value(v)) <= 512;
		if (!good) {
			*resp = api_error("metadata", NULL, "metadata: at most "
					  "16 string pairs, keys up to 64 and "
					  "values up to 512 characters.");
			return 400;
		}
	}
	pthread_mutex_lock(&bst.lock);
	f = file_find(fid, strlen(fid));
	data = f && !strcmp(f->purpose, "batch") ? malloc(f->len + 1) : NULL;
	len = f ? f->len : 0;
	if (data)
		memcpy(data, f->data, len);
	pthread_mutex_unlock(&bst.lock);
	if (!data) {
		*resp = api_error("input_file_id", NULL, "No such File object: "
				  "%s", fid);
		return 404;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		free(data);
		*resp = api_error(NULL, NULL, "out of memory");
		return 500;
	}
	snprintf(b->endpoint, sizeof(b->endpoint), "%s", ep);
	snprintf(b->input_file, sizeof(b->input_file), "%s", fid);
	b->metadata = json_is_object(md) ? json_incref(md) : NULL;
	openai_lines(b, data, len);
	free(data);
	batch_start(b);
	pthread_mutex_lock(&bst.lock);
	*resp = batch_json(b, rq);
	/* validation shows at the first poll, never at create */
	json_object_set_new(*resp, "status", json_string("validating"));
	json_object_set_new(*resp, "errors", json_null());
	json_object_set_new(*resp, "failed_at", json_null());
	pthread_mutex_unlock(&bst.lock);
	return 200;
}

/* ---- Anthropic: create ----------------------------------------------- */

static bool cid_ok(const char *s)
{
	size_t n = s ? strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
			      "OPQRSTUVWXYZ0123456789_-") : 0;

	return s && n >= 1 && n <= 64 && !s[n];
}

static int anthropic_create(const struct request *rq, json_t *doc,
			    json_t **resp)
{
	long max = bopt.max_requests >= 0 ? bopt.max_requests : 100000;
	json_t *reqs = json_object_get(doc, "requests"), *r;
	struct batch *b;
	struct idtab tab;
	size_t i, n;

	if ((long)rq->body_len > bopt.max_bytes) {
		*resp = anthropic_error("request_too_large", "Request exceeds "
					"the maximum allowed number of bytes "
					"(%zu > %ld).", rq->body_len,
					bopt.max_bytes);
		return 413;
	}
	if (!json_is_array(reqs) || !(n = json_array_size(reqs))) {
		*resp = anthropic_error("invalid_request_error", "requests: "
					"a non-empty list is required");
		return 400;
	}
	if ((long)n > max) {
		*resp = anthropic_error("invalid_request_error", "requests: "
					"at most %ld requests in a batch, got "
					"%zu", max, n);
		return 400;
	}
	json_array_foreach(reqs, i, r) {
		const char *cid = json_string_value(json_object_get(r,
							"custom_id"));

		if (!cid_ok(cid)) {
			*resp = anthropic_error("invalid_request_error",
				"requests.%zu.custom_id: String should match "
				"pattern '^[a-zA-Z0-9_-]{1,64}$'", i);
			return 400;
		}
		if (!json_is_object(json_object_get(r, "params"))) {
			*resp = anthropic_error("invalid_request_error",
				"requests.%zu.params: Field required", i);
			return 400;
		}
	}
	if (!(b = calloc(1, sizeof(*b))) ||
	    !(b->req = calloc(n, sizeof(*b->req)))) {
		fprintf(stderr, "fakeserver: out of memory\n");
		exit(1);
	}
	b->anthropic = true;
	b->n = n;
	json_array_foreach(reqs, i, r)
		b->req[i].cid = strdup(json_string_value(json_object_get(r,
								"custom_id")));
	idtab_init(&tab, n);
	for (i = 0; i < n; i++) {
		if (!idtab_add(&tab, b->req, i)) {
			*resp = anthropic_error("invalid_request_error",
				"requests.%zu.custom_id: '%s' is used more "
				"than once; custom_ids must be unique within "
				"a batch", i, b->req[i].cid);
			free(tab.slot);
			batch_free(b);
			return 400;
		}
	}
	free(tab.slot);
	json_array_foreach(reqs, i, r)
		batch_live(&b->req[i], "/v1/messages", true,
			   json_object_get(r, "params"));
	batch_start(b);
	pthread_mutex_lock(&bst.lock);
	*resp = batch_json(b, rq);
	pthread_mutex_unlock(&bst.lock);
	return 200;
}

/* ---- the routes ------------------------------------------------------ */

static int batch_cancel(struct batch *b, const struct request *rq,
			json_t **resp)
{
	struct bview v;

	batch_view(b, now_ms(), &v);
	if (v.terminal) {
		*resp = b->anthropic ?
			anthropic_error("invalid_request_error", "Batch %s "
					"has ended and cannot be canceled",
					b->id) :
			api_error(NULL, NULL, "Cannot cancel a batch with "
				  "status '%s'.", v.status);
		return 400;
	}
	if (!b->cancel_ms) {
		b->cancel_done = v.done;
		b->cancel_ms = now_ms();
		if (!b->cancel_ms)
			b->cancel_ms = 1;
	}
	*resp = batch_json(b, rq);
	return 200;
}

/* The value of name in target's query string (not decoded), or NULL. */
static char *query_param(const char *target, const char *name)
{
	const char *q = strchr(target, '?');
	size_t k = strlen(name);

	while (q) {
		q++;
		if (!strncmp(q, name, k) && q[k] == '=')
			return strndup(q + k + 1, strcspn(q + k + 1, "&"));
		q = strchr(q, '&');
	}
	return NULL;
}

static int batch_list(const struct request *rq, json_t **resp)
{
	char *after = query_param(rq->target, "after");
	char *lim = query_param(rq->target, "limit");
	long limit = lim ? strtol(lim, NULL, 10) : 20;
	json_t *data = json_array();
	struct batch *b = bst.batches;
	bool more = false;

	if (limit < 1 || limit > 100)
		limit = 20;
	if (after) {
		while (b && (b->anthropic || strcmp(b->id, after)))
			b = b->next;
		b = b ? b->next : NULL;
	}
	for (; b; b = b->next) {
		if (b->anthropic)
			continue;
		if ((long)json_array_size(data) == limit) {
			more = true;
			break;
		}
		json_array_append_new(data, batch_json(b, rq));
	}
	*resp = json_pack("{s:s, s:o, s:o, s:o, s:b}", "object", "list",
			  "data", data,
			  "first_id", json_array_size(data) ?
			  json_incref(json_object_get(json_array_get(data, 0),
						      "id")) : json_null(),
			  "last_id", json_array_size(data) ?
			  json_incref(json_object_get(json_array_get(data,
				json_array_size(data) - 1), "id")) :
			  json_null(), "has_more", more);
	free(after);
	free(lim);
	return 200;
}

/* Is this a request for the batch routes? (They may have big bodies.) */
static bool batch_path(const char *target)
{
	return !strncmp(target, "/v1/files", 9) ||
	       !strncmp(target, "/v1/batches", 11) ||
	       !strncmp(target, "/v1/messages/batches", 20);
}

/* Is this a batch create (OpenAI or Anthropic)? */
static bool batch_create_path(const struct request *rq)
{
	size_t pl = strcspn(rq->target, "?");

	return !strcmp(rq->method, "POST") &&
	       ((pl == 11 && !strncmp(rq->target, "/v1/batches", 11)) ||
		(pl == 20 && !strncmp(rq->target, "/v1/messages/batches",
				      20)));
}

/*
 * Answer a batch route: status and either resp (JSON) or raw bytes
 * (*raw, *rawlen; file contents, results). False if rq is not one.
 */
static bool batch_route(const struct request *rq, const char *body,
			json_t *doc, int *status, json_t **resp, char **raw,
			size_t *rawlen)
{
	const char *t = rq->target;
	size_t pl = strcspn(t, "?");
	bool get = !strcmp(rq->method, "GET"), post = !strcmp(rq->method,
							       "POST");
	bool anth = !strncmp(t, "/v1/messages/batches", 20);
	const char *id, *tail;
	size_t idl;
	struct batch *b;

	if (!batch_path(t))
		return false;
	if (anth ? !key_anthropic(rq) : !key_bearer(rq)) {
		*resp = anth ? anthropic_error("authentication_error",
					       "invalid x-api-key") :
			api_error(NULL, "invalid_api_key", "Incorrect API key "
				  "provided.");
		*status = 401;
		return true;
	}
	*status = 404;
	if (post && pl == 9 && !strncmp(t, "/v1/files", 9)) {
		*status = upload(rq, body, resp);
		return true;
	}
	if (post && pl == 11 && !strncmp(t, "/v1/batches", 11)) {
		*status = openai_create(rq, doc, resp);
		return true;
	}
	if (post && pl == 20 && anth) {
		if (!json_is_object(doc) && (long)rq->body_len <=
		    bopt.max_bytes) {
			*resp = anthropic_error("invalid_request_error",
						"the body is not a JSON "
						"object");
			*status = 400;
			return true;
		}
		*status = anthropic_create(rq, doc, resp);
		return true;
	}
	if (get && pl == 11 && !strncmp(t, "/v1/batches", 11)) {
		pthread_mutex_lock(&bst.lock);
		*status = batch_list(rq, resp);
		pthread_mutex_unlock(&bst.lock);
		return true;
	}
	/* /v1/files/{id}/content, /v1/batches/{id}[/cancel],
	 * /v1/messages/batches/{id}[/results|/cancel] */
	id = t + (anth ? 21 : !strncmp(t, "/v1/files/", 10) ? 10 : 12);
	if ((anth && pl <= 21) || (!anth && pl <= 12) || id[-1] != '/') {
		*resp = api_error(NULL, "not_found", "Unknown route: %s %s",
				  rq->method, t);
		return true;
	}
	idl = strcspn(id, "/?");
	tail = id + idl;
	pthread_mutex_lock(&bst.lock);
	if (!strncmp(t, "/v1/files/", 10)) {
		struct bfile *f = file_find(id, idl);

		if (get && f && pl == (size_t)(tail - t) + 8 &&
		    !strncmp(tail, "/content", 8)) {
			*raw = malloc(f->len + 1);
			if (*raw)
				memcpy(*raw, f->data, f->len);
			*rawlen = f->len;
			*status = *raw ? 200 : 500;
		} else {
			*resp = api_error("id", NULL, "No such File object: "
					  "%.*s", (int)idl, id);
		}
		pthread_mutex_unlock(&bst.lock);
		return true;
	}
	b = batch_find(id, idl, anth);
	if (!b) {
		*resp = anth ? anthropic_error("not_found_error", "No batch "
					       "with id %.*s", (int)idl, id) :
			api_error(NULL, "not_found", "No batch found with id "
				  "'%.*s'.", (int)idl, id);
	} else if (get && (size_t)(tail - t) == pl) {
		*resp = batch_json(b, rq);
		*status = 200;
	} else if (post && pl - (size_t)(tail - t) == 7 &&
		   !strncmp(tail, "/cancel", 7)) {
		*status = batch_cancel(b, rq, resp);
	} else if (get && anth && pl - (size_t)(tail - t) == 8 &&
		   !strncmp(tail, "/results", 8)) {
		json_t *j = batch_json(b, rq);

		json_decref(j);
		if (!b->ended) {
			*resp = anthropic_error("invalid_request_error",
				"Batch %s has not ended: no results yet",
				b->id);
			*status = 400;
		} else if ((*raw = malloc(b->results_len + 1))) {
			memcpy(*raw, b->results, b->results_len);
			*rawlen = b->results_len;
			*status = 200;
		} else {
			*status = 500;
		}
	} else {
		*resp = api_error(NULL, "not_found", "Unknown route: %s %s",
				  rq->method, t);
	}
	pthread_mutex_unlock(&bst.lock);
	return true;
}

/* A raw answer: file contents and results, as JSONL. */
static bool send_raw(struct conn *c, int status, const char *data,
		     size_t len, bool last)
{
	char head[200];
	struct iovec iov[2] = { { head, 0 }, { (char *)data, len } };

	iov[0].iov_len = (size_t)snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: application/binary\r\n"
		"Content-Length: %zu\r\n%s\r\n", status, reason(status), len,
		last ? "Connection: close\r\n" : "");
	c->served = true;
	return send_all(c->fd, iov, 2);
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
	char *raw = NULL;
	size_t rawlen = 0;
	int status;
	enum fault f;
	bool ok, busy = false;

	if (rq->body_len)
		doc = json_loadb(body, rq->body_len, JSON_DECODE_ANY, &jerr);
	if (log_fd >= 0)
		log_request(rq, doc ? json_incref(doc) :
				lossy_string(body, rq->body_len));
	if (strcmp(rq->method, "GET") && opt.refuse_after >= 0 &&
	    __atomic_fetch_add(&opt.posts, 1, __ATOMIC_RELAXED) >=
	    opt.refuse_after) {
		resp = api_error(NULL, "invalid_api_key", "Incorrect API key "
				 "provided: the key was revoked.");
		status = 401;
	} else if (batch_route(rq, body, doc, &status, &resp, &raw,
			       &rawlen)) {
		/* no latency, no faults: the batch routes are not a model;
		 * but an error may repeat the headers, key and all */
		if (faults.echo_headers && status >= 400 && resp)
			fault_echo_headers(rq, resp);
		if (status == 200 && batch_create_path(rq)) {
			if (bopt.create_ms > 0)
				sleep_ms(bopt.create_ms);
			if (__atomic_fetch_sub(&bopt.create_drop, 1,
					       __ATOMIC_RELAXED) > 0) {
				json_decref(resp);
				json_decref(doc);
				return false;	/* made, never answered */
			}
		}
		if (raw)
			ok = send_raw(c, status, raw, rawlen, rq->close);
		else
			ok = send_json(c, status, resp, rq->close);
		free(raw);
		json_decref(resp);
		json_decref(doc);
		return ok && !rq->close;
	} else {
		status = route(rq, doc, jerr.text, &resp);
	}
	if (opt.max_inflight > 0 && strcmp(rq->method, "POST") == 0) {
		if (__atomic_add_fetch(&opt.busy, 1, __ATOMIC_RELAXED) >
		    opt.max_inflight) {
			__atomic_sub_fetch(&opt.busy, 1, __ATOMIC_RELAXED);
			json_decref(resp);
			resp = api_error(NULL, "rate_limit_exceeded", "Too many "
					 "concurrent requests: at most %ld",
					 opt.max_inflight);
			ok = send_json(c, 429, resp, rq->close);
			json_decref(resp);
			json_decref(doc);
			return ok;
		}
		busy = true;
	}
	/* after the log line, so that a test can see a request waiting */
	if (opt.latency_ms > 0 && strcmp(rq->method, "POST") == 0)
		sleep_ms(opt.latency_ms);
	if (faults.echo_headers && status >= 400)
		fault_echo_headers(rq, resp);
	if (status == 200 && (f = fault_pick(rq)) != F_NONE)
		ok = fault_answer(c, rq, doc, f, status, resp);
	else
		ok = send_json(c, status, resp, rq->close);
	if (busy)
		__atomic_sub_fetch(&opt.busy, 1, __ATOMIC_RELAXED);
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
	if (!status && (rq.chunked || rq.body_len > (batch_path(rq.target) &&
	    !strcmp(rq.method, "POST") ? MAX_BATCH_BODY : MAX_BODY)))
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
	      "[--refuse-logprobs] [--completions-chat-logprobs]\n"
	      "       [--batch-seconds S] [--batch-max-requests N] "
	      "[--batch-max-bytes N]\n       [--batch-fail-every N] "
	      "[--batch-expire N] [--batch-junk]\n"
	      "       [--batch-create-ms N] [--batch-create-drop N]\n",
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
		{ "batch-seconds", required_argument, NULL, 1000 },
		{ "batch-max-requests", required_argument, NULL, 1001 },
		{ "batch-max-bytes", required_argument, NULL, 1002 },
		{ "batch-fail-every", required_argument, NULL, 1003 },
		{ "batch-expire", required_argument, NULL, 1004 },
		{ "batch-junk", no_argument, NULL, 1005 },
		{ "judge-prefer-shorter", no_argument, NULL, 'P' },
		{ "judge-overconfidence", required_argument, NULL, 1006 },
		{ "max-inflight", required_argument, NULL, 1016 },
		{ "batch-create-ms", required_argument, NULL, 1017 },
		{ "batch-create-drop", required_argument, NULL, 1018 },
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
		case 1000: bopt.seconds = number(0, 1e6, true); break;
		case 1001: bopt.max_requests = (long)number(0, 1e9, false);
			   break;
		case 1016: opt.max_inflight = (long)number(1, 1e9, false);
			   break;
		case 1002: bopt.max_bytes = (long)number(0, 1e12, false);
			   break;
		case 1003: bopt.fail_every = (long)number(1, 1e18, false);
			   break;
		case 1004: bopt.expire = (long)number(0, 1e9, false); break;
		case 1005: bopt.junk = true; break;
		case 1017: bopt.create_ms = (long)number(0, 1e8, false);
			   break;
		case 1018: bopt.create_drop = (long)number(0, 1e9, false);
			   break;
		case 1006: opt.overconfidence = number(1e-3, 1e3, true);
			   break;
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
	bopt.port = ntohs(addr.sin_port);
	if (opt.port_file)
		write_port_file(ntohs(addr.sin_port));
	printf("fakeserver listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
	fflush(stdout);
	accept_loop(lfd);
	return 0;
}
