/*
 * fakeserver.c - caigen's fake OpenAI-compatible model server, for the tests
 * and `make demo`. Every answer is a pure function of the request, so tests
 * can predict it.
 *
 * usage: fakeserver [--port N] [--port-file F] [--latency-ms N]
 *                   [--api-key KEY] [--no-n] [--judge-bias-a X]
 *                   [--judge-lead] [--log FILE] [--threads-max N]
 *
 *   --port N          listen on 127.0.0.1:N; 0 (the default) picks a free
 *                     port. When listening, prints
 *                     "fakeserver listening on 127.0.0.1:PORT" to stdout.
 *   --port-file F     also write "PORT\n" to F (F.tmp, then rename).
 *   --latency-ms N    sleep N ms before answering each POST (only that
 *                     connection waits).
 *   --api-key KEY     every route but GET /health needs the header
 *                     "Authorization: Bearer KEY", else 401 with OpenAI's
 *                     invalid_api_key body.
 *   --no-n            chat requests with n > 1 get llama.cpp's 400
 *                     "Only one completion choice is allowed".
 *   --judge-bias-a X  added to the judge's logit for reply A (default 0).
 *   --judge-lead      judge answers start with a "**" token (logprob -0.05;
 *                     top: "**" -0.05, "The" -3.0) and put the letter second,
 *                     e.g. "**A"; only if max_tokens is absent or >= 2.
 *   --log FILE        append one JSON line per request: {"method", "path",
 *                     "headers": {lowercase name: value}, "body": the parsed
 *                     JSON, else the raw text}. Written before the answer.
 *   --threads-max N   serve at most N connections at once (default 8192).
 *                     Further ones wait in the listen queue, while
 *                     keep-alive connections idle for 250 ms or more close
 *                     to make room.
 *   SIGTERM and SIGINT end the server at once with status 0.
 *
 * HTTP/1.1 with keep-alive and pipelining (HTTP/1.0: one request, then
 * close); Expect: 100-continue; bodies by Content-Length only (chunked: 411);
 * body limit 8 MiB (413), head limit 64 KiB (431); a connection idle for 30 s
 * is closed. One detached thread per connection. Every answer is JSON with a
 * Content-Length. Errors use OpenAI's envelope {"error": {"message", "type":
 * "invalid_request_error", "param", "code"}}.
 *
 *   GET  /health               200 {"status":"ok"}
 *   GET  /v1/models            200, the single model "fake-model"
 *   POST /v1/chat/completions  below; invalid JSON or fields give 400
 *   anything else              404 "Unknown route: METHOD PATH"
 *
 * Chat fields read: model, messages [{role, content: string or null}], n
 * (1..128, default 1), seed (integer, default 0), max_completion_tokens else
 * max_tokens (>= 1), logprobs, top_logprobs (0..20, only with logprobs: true),
 * temperature (ignored). Other fields are ignored.
 *
 * Hashes. key = FNV-1a-64 over the model name, one NUL byte, then every
 * message content in order with no separator. Choice i has
 * h_i = mix(mix(key ^ seed) + i), mix being the splitmix64 step (add
 * 0x9e3779b97f4a7c15, then the finaliser). id = "chatcmpl-fake-" + h_0 as 16
 * hex digits. usage.prompt_tokens = (bytes of all contents) / 4 + 1;
 * completion_tokens = words (judge: tokens) over all choices.
 *
 * Judge requests: the last user message contains "<<<reply A [". Replies are
 * fenced as "<<<reply A [TAG]>>>\n" TEXT "\n<<<end of reply A [TAG]>>>" with
 * TAG a run of hex digits. TEXT ends at the LAST closing fence with that tag,
 * so it may hold anything, fake fences included. A is the first opening fence
 * that parses and has a closing fence; B likewise, searched first after A's
 * closing fence, then anywhere. If either is missing, the request is a policy
 * request. With LA, LB the byte lengths of the two texts:
 *
 *	d = (LA - LB) / 50.0 + bias_a,  pA = 1 / (1 + exp(-d)),  pB = 1 - pA
 *	eps = 0.01
 *	"A"  0.80 pA (1-eps)   " A" 0.15 pA (1-eps)   "А" U+0410 0.05 pA (1-eps)
 *	"B"  0.80 pB (1-eps)   " B" 0.15 pB (1-eps)   "В" U+0412 0.05 pB (1-eps)
 *	"\n" eps
 *
 * logprob = log(p), or -9999.0 when p < 1e-300. The answer is "A" if
 * pA >= pB, else "B", in exactly one choice whatever n. With logprobs: true,
 * logprobs.content[0] is that letter with its logprob, and its top_logprobs
 * are the candidates by logprob descending (ties in the order above), cut to
 * top_logprobs. finish_reason "stop".
 *
 * Policy requests get n choices. If the last user message contains "SAY:",
 * choice i is the text after the first "SAY:" (verbatim, to the end of the
 * message) repeated 1 + h_i % 3 times, joined by "\n". Otherwise it is 8 to 60
 * words from a fixed list of 64, drawn from a splitmix64 stream started at
 * h_i: count = 8 + draw % 53, then one draw % 64 per word; the first word is
 * capitalised and the last is followed by ".". Words are whitespace-separated
 * runs; if max_tokens is below the word count, the text ends after
 * max_tokens words and finish_reason is "length", else "stop". With
 * logprobs: true every word is one token (" word" after the first), logprob
 * -0.5, top_logprobs = [the same token] if top_logprobs > 0, else [].
 */
#include <errno.h>
#include <fcntl.h>
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
#define MAX_N		128
#define IDLE_MS		30000
#define YIELD_MS	250
#define SEND_TIMEOUT_S	30
#define LINGER_MS	2000
#define STACK_SIZE	(1u << 20)
#define GOLDEN		0x9e3779b97f4a7c15ULL
#define FNV_OFFSET	0xcbf29ce484222325ULL
#define DUMP_FLAGS	(JSON_COMPACT | JSON_REAL_PRECISION(17))

static struct {
	unsigned port;
	const char *port_file;
	long latency_ms;
	const char *api_key;
	bool no_n;
	double bias_a;
	bool judge_lead;
	const char *log_path;
	long threads_max;
} opt = { .threads_max = 8192 };

static int log_fd = -1;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* One slot per live connection thread, so that --threads-max holds. */
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t slot_freed = PTHREAD_COND_INITIALIZER;
static long slots_used;
/* Readable while a new connection waits for a slot: idle keep-alive
 * connections poll it and close, or a client keeping a pool of idle
 * connections open could lock newcomers out. */
static int starve_pipe[2] = { -1, -1 };

struct conn {
	int fd;
	char *buf;	/* bytes received and not yet consumed */
	size_t len;
	size_t cap;
	bool served;	/* answered at least once: may be closed when idle */
	bool linger;	/* request bytes may be left unread */
};

struct request {
	char method[16];
	char *target;
	int minor;		/* HTTP/1.minor */
	json_t *headers;	/* lowercase name -> value */
	size_t body_len;
	bool has_length;
	bool close;
	bool expect;
	bool chunked;
};

struct chat {
	const char *model;
	size_t model_len;
	json_int_t n;
	uint64_t seed;
	json_int_t max_tokens;	/* -1: no limit */
	bool logprobs;
	json_int_t top_logprobs;
	const char *last_user;	/* content of the last user message, or NULL */
	size_t last_user_len;
	size_t content_bytes;
	uint64_t key;
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

/* ---- hashing ---------------------------------------------------------- */

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

	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* One splitmix64 output; *s is the stream's state. */
static uint64_t draw(uint64_t *s)
{
	uint64_t r = mix64(*s);

	*s += GOLDEN;
	return r;
}

static uint64_t choice_hash(const struct chat *ch, json_int_t i)
{
	return mix64(mix64(ch->key ^ ch->seed) + (uint64_t)i);
}

/* ---- small helpers ---------------------------------------------------- */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&t, &t) != 0 && errno == EINTR)
		;
}

static long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000L + t.tv_nsec / 1000000L;
}

/* Text from the wire need not be UTF-8, but jansson only takes UTF-8: keep
 * the ASCII bytes and show the others as '?'. */
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

/* Find the last occurrence of pat in s[0, n). */
static const char *last_of(const char *s, size_t n, const char *pat,
			   size_t m)
{
	if (m > n)
		return NULL;
	for (size_t i = n - m + 1; i-- > 0;)
		if (s[i] == pat[0] && memcmp(s + i, pat, m) == 0)
			return s + i;
	return NULL;
}

/* The next whitespace-separated word of s[0, n) at or after *pos. */
static bool next_word(const char *s, size_t n, size_t *pos, size_t *beg,
		      size_t *end)
{
	size_t i = *pos;

	while (i < n && is_space(s[i]))
		i++;
	if (i == n)
		return false;
	*beg = i;
	while (i < n && !is_space(s[i]))
		i++;
	*end = *pos = i;
	return true;
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

static json_t *bytes_json(const char *s, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((unsigned char)s[i]));
	return a;
}

static json_t *token_json(const char *tok, size_t n, double logprob)
{
	return json_pack("{s:s%, s:f, s:o}", "token", tok, n,
			 "logprob", logprob, "bytes", bytes_json(tok, n));
}

static json_t *choice_json(json_int_t i, const char *text, size_t n,
			   json_t *logprobs, const char *finish)
{
	return json_pack("{s:I, s:{s:s, s:s%, s:n}, s:o, s:s}", "index", i,
			 "message", "role", "assistant", "content", text, n,
			 "refusal", "logprobs", logprobs, "finish_reason",
			 finish);
}

static json_t *completion(const struct chat *ch, json_t *choices,
			  json_int_t ctoks)
{
	json_int_t ptoks = (json_int_t)(ch->content_bytes / 4 + 1);
	char id[40];

	snprintf(id, sizeof(id), "chatcmpl-fake-%016" PRIx64,
		 choice_hash(ch, 0));
	return json_pack("{s:s, s:s, s:i, s:s%, s:s, s:o, s:{s:I, s:I, s:I}}",
			 "id", id, "object", "chat.completion", "created", 0,
			 "model", ch->model, ch->model_len,
			 "system_fingerprint", "fp_fake", "choices", choices,
			 "usage", "prompt_tokens", ptoks, "completion_tokens",
			 ctoks, "total_tokens", ptoks + ctoks);
}

/* Choice text before truncation (see the top comment); malloc'd. */
static char *policy_text(const struct chat *ch, uint64_t h, size_t *len)
{
	const char *say = NULL;
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	if (ch->last_user)
		say = memmem(ch->last_user, ch->last_user_len, "SAY:", 4);
	if (say) {
		const char *end = ch->last_user + ch->last_user_len;

		say += 4;
		for (uint64_t r = 0; r < 1 + h % 3; r++) {
			if (r)
				fputc('\n', f);
			fwrite(say, 1, (size_t)(end - say), f);
		}
	} else {
		uint64_t s = h;
		uint64_t count = 8 + draw(&s) % 53;

		for (uint64_t k = 0; k < count; k++) {
			const char *w = words[draw(&s) % 64];

			if (k == 0) {
				fputc(w[0] - 'a' + 'A', f);
				w++;
			} else {
				fputc(' ', f);
			}
			fputs(w, f);
		}
		fputc('.', f);
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
	json_t *content = json_array();
	size_t pos = 0, beg, end;
	char *tok = malloc(n + 2);

	if (!tok) {
		json_decref(content);
		return NULL;
	}
	while (next_word(text, n, &pos, &beg, &end)) {
		size_t tl = 0;
		json_t *entry, *top = json_array();

		if (json_array_size(content))
			tok[tl++] = ' ';
		memcpy(tok + tl, text + beg, end - beg);
		tl += end - beg;
		if (ch->top_logprobs > 0)
			json_array_append_new(top, token_json(tok, tl, -0.5));
		entry = token_json(tok, tl, -0.5);
		json_object_set_new(entry, "top_logprobs", top);
		json_array_append_new(content, entry);
	}
	free(tok);
	return json_pack("{s:o, s:n}", "content", content, "refusal");
}

static json_t *policy_response(const struct chat *ch)
{
	json_t *choices = json_array();
	json_int_t ctoks = 0;

	for (json_int_t i = 0; i < ch->n; i++) {
		size_t len, pos = 0, beg, end, cut = 0;
		json_int_t count = 0;
		const char *finish = "stop";
		char *text = policy_text(ch, choice_hash(ch, i), &len);
		json_t *lp;

		if (!text)
			goto fail;
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
		lp = ch->logprobs ? word_logprobs(ch, text, len) : json_null();
		json_array_append_new(choices,
				      choice_json(i, text, len, lp, finish));
		free(text);
	}
	return completion(ch, choices, ctoks);
fail:
	json_decref(choices);
	return NULL;
}

/*
 * Find reply LETTER in s[from, n): the first opening fence with a hex tag
 * and a closing fence after it. The text runs to the LAST closing fence, as
 * an answer may quote fences; the search for it starts at the opening
 * fence's own newline so that an empty text needs no blank line.
 */
static bool find_reply(const char *s, size_t n, size_t from, char letter,
		       size_t *len, size_t *after)
{
	char opening[16], closing[MAX_TAG + 32];
	const char *p = s + from, *end = s + n;
	size_t ol;

	snprintf(opening, sizeof(opening), "<<<reply %c [", letter);
	ol = strlen(opening);
	while (p < end && (p = memmem(p, (size_t)(end - p), opening, ol))) {
		const char *tag = p + ol, *q = tag, *text, *e;
		int cl;

		p += ol;
		while (q < end && is_hex(*q))
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
		if (!e)
			continue;
		*len = e >= text ? (size_t)(e - text) : 0;
		*after = (size_t)(e + cl - s);
		return true;
	}
	return false;
}

static bool find_replies(const struct chat *ch, size_t *la, size_t *lb)
{
	const char *s = ch->last_user;
	size_t n = ch->last_user_len, after_a, after_b;

	if (!s || !find_reply(s, n, 0, 'A', la, &after_a))
		return false;
	return find_reply(s, n, after_a, 'B', lb, &after_b) ||
	       find_reply(s, n, 0, 'B', lb, &after_b);
}

static json_t *judge_response(const struct chat *ch, size_t la, size_t lb)
{
	static const struct {
		const char *tok;
		int side;	/* 0: A, 1: B, 2: neither */
		double share;
	} cand[7] = {
		{ "A", 0, 0.80 }, { " A", 0, 0.15 }, { "\xd0\x90", 0, 0.05 },
		{ "B", 1, 0.80 }, { " B", 1, 0.15 }, { "\xd0\x92", 1, 0.05 },
		{ "\n", 2, 1.0 },
	};
	const double eps = 0.01;
	double d = ((double)la - (double)lb) / 50.0 + opt.bias_a;
	double pa = 1.0 / (1.0 + exp(-d)), pb = 1.0 - pa, lp[7];
	int order[7], pick = pa >= pb ? 0 : 3;
	bool lead = opt.judge_lead && (ch->max_tokens < 0 ||
				       ch->max_tokens >= 2);
	char text[8];
	json_t *logprobs = json_null(), *choices;

	for (int i = 0; i < 7; i++) {
		/* evaluated left to right as written in the top comment, so
		 * that a test doing the same sums gets the same bits */
		double p = cand[i].side == 0 ? cand[i].share * pa * (1 - eps) :
			   cand[i].side == 1 ? cand[i].share * pb * (1 - eps) :
			   eps;

		lp[i] = p < 1e-300 ? -9999.0 : log(p);
		/* insertion sort: stable, so ties keep the table's order */
		int j = i;
		for (; j > 0 && lp[order[j - 1]] < lp[i]; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	snprintf(text, sizeof(text), "%s%s", lead ? "**" : "",
		 cand[pick].tok);
	if (ch->logprobs) {
		json_t *content = json_array(), *entry, *top;

		if (lead) {
			top = json_array();
			if (ch->top_logprobs >= 1)
				json_array_append_new(top,
						      token_json("**", 2, -0.05));
			if (ch->top_logprobs >= 2)
				json_array_append_new(top,
						      token_json("The", 3, -3.0));
			entry = token_json("**", 2, -0.05);
			json_object_set_new(entry, "top_logprobs", top);
			json_array_append_new(content, entry);
		}
		top = json_array();
		for (int i = 0; i < 7 && i < ch->top_logprobs; i++) {
			const char *t = cand[order[i]].tok;

			json_array_append_new(top, token_json(t, strlen(t),
							      lp[order[i]]));
		}
		entry = token_json(cand[pick].tok, 1, lp[pick]);
		json_object_set_new(entry, "top_logprobs", top);
		json_array_append_new(content, entry);
		json_decref(logprobs);
		logprobs = json_pack("{s:o, s:n}", "content", content,
				     "refusal");
	}
	choices = json_pack("[o]", choice_json(0, text, strlen(text),
					       logprobs, "stop"));
	return completion(ch, choices, lead ? 2 : 1);
}

/* An optional integer field: 0 if absent or null, 1 if read, -1 if not an
 * integer. */
static int get_int(json_t *doc, const char *key, json_int_t *out)
{
	json_t *v = json_object_get(doc, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 1;
}

/* Read and check the request; NULL if fine, else the 400 body. */
static json_t *read_chat(json_t *doc, struct chat *ch)
{
	const char *mt_key = "max_completion_tokens";
	json_t *msgs = json_object_get(doc, "messages"), *m, *v;
	json_int_t x;
	size_t i;
	int r;

	memset(ch, 0, sizeof(*ch));
	v = json_object_get(doc, "model");
	ch->model = json_is_string(v) ? json_string_value(v) : "fake-model";
	ch->model_len = strlen(ch->model);
	if (!json_is_array(msgs) || json_array_size(msgs) == 0)
		return api_error("messages", "invalid_type",
				 "'messages' must be a non-empty array");
	ch->key = fnv1a(FNV_OFFSET, ch->model, ch->model_len + 1);
	json_array_foreach(msgs, i, m) {
		json_t *role = json_object_get(m, "role");
		json_t *content = json_object_get(m, "content");
		const char *s = json_string_value(content);
		size_t n = json_string_length(content);

		if (!json_is_string(role))
			return api_error("messages", "invalid_type",
					 "messages[%zu].role must be a string",
					 i);
		if (!s && !json_is_null(content))
			return api_error("messages", "invalid_type",
					 "messages[%zu].content must be a "
					 "string", i);
		ch->key = fnv1a(ch->key, s, n);
		ch->content_bytes += n;
		if (strcmp(json_string_value(role), "user") == 0) {
			ch->last_user = s ? s : "";
			ch->last_user_len = n;
		}
	}

	ch->n = 1;
	if ((r = get_int(doc, "n", &ch->n)) < 0)
		return api_error("n", "invalid_type",
				 "Invalid type for 'n': expected an integer");
	if (ch->n < 1 || ch->n > MAX_N)
		return api_error("n", "integer_out_of_range",
				 "Invalid 'n': expected a value in 1..%d, but "
				 "got %lld instead.", MAX_N, (long long)ch->n);
	if (opt.no_n && ch->n > 1)
		return json_pack("{s:{s:i, s:s, s:s}}", "error", "code", 400,
				 "message", "Only one completion choice is "
				 "allowed", "type", "invalid_request_error");

	x = 0;
	get_int(doc, "seed", &x);	/* a seed of another type means 0 */
	ch->seed = (uint64_t)x;

	ch->max_tokens = -1;
	if ((r = get_int(doc, mt_key, &ch->max_tokens)) == 0) {
		mt_key = "max_tokens";
		r = get_int(doc, mt_key, &ch->max_tokens);
	}
	if (r < 0)
		return api_error(mt_key, "invalid_type", "Invalid type for "
				 "'%s': expected an integer", mt_key);
	if (r > 0 && ch->max_tokens < 1)
		return api_error(mt_key, "integer_below_min_value",
				 "Invalid '%s': integer below minimum value. "
				 "Expected a value >= 1, but got %lld "
				 "instead.", mt_key,
				 (long long)ch->max_tokens);

	v = json_object_get(doc, "logprobs");
	if (v && !json_is_boolean(v) && !json_is_null(v))
		return api_error("logprobs", "invalid_type", "Invalid type "
				 "for 'logprobs': expected a boolean");
	ch->logprobs = json_is_true(v);
	if ((r = get_int(doc, "top_logprobs", &ch->top_logprobs)) < 0)
		return api_error("top_logprobs", "invalid_type", "Invalid type "
				 "for 'top_logprobs': expected an integer");
	if (r > 0 && ch->top_logprobs > 20)
		return api_error("top_logprobs", "integer_above_max_value",
				 "Invalid 'top_logprobs': integer above "
				 "maximum value. Expected a value <= 20, but "
				 "got %lld instead.",
				 (long long)ch->top_logprobs);
	if (r > 0 && ch->top_logprobs < 0)
		return api_error("top_logprobs", "integer_below_min_value",
				 "Invalid 'top_logprobs': integer below "
				 "minimum value. Expected a value >= 0, but "
				 "got %lld instead.",
				 (long long)ch->top_logprobs);
	if (r > 0 && !ch->logprobs)
		return api_error("top_logprobs", NULL, "top_logprobs requires "
				 "logprobs to be set to true");

	v = json_object_get(doc, "temperature");
	if (v && !json_is_number(v) && !json_is_null(v))
		return api_error("temperature", "invalid_type", "Invalid type "
				 "for 'temperature': expected a number");
	return NULL;
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
		*resp = judge_response(&ch, la, lb);
	else
		*resp = policy_response(&ch);
	return 200;
}

/* ---- HTTP ------------------------------------------------------------- */

static bool authorized(const struct request *rq)
{
	const char *v = json_string_value(json_object_get(rq->headers,
							  "authorization"));

	return v && strncasecmp(v, "Bearer ", 7) == 0 &&
	       strcmp(v + 7, opt.api_key) == 0;
}

static int route(const struct request *rq, json_t *doc,
		 const char *parse_error, json_t **resp)
{
	size_t pl = strcspn(rq->target, "?");
	bool get = strcmp(rq->method, "GET") == 0;
	bool post = strcmp(rq->method, "POST") == 0;

#define PATH_IS(p) (pl == strlen(p) && memcmp(rq->target, p, pl) == 0)
	if (get && PATH_IS("/health")) {
		*resp = json_pack("{s:s}", "status", "ok");
		return 200;
	}
	if (opt.api_key && !authorized(rq)) {
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
	if (post && PATH_IS("/v1/chat/completions"))
		return chat(doc, parse_error, resp);
#undef PATH_IS
	*resp = api_error(NULL, "not_found", "Unknown route: %s %s",
			  rq->method, rq->target);
	return 404;
}

static void log_request(const struct request *rq, json_t *body)
{
	json_t *line;
	char *text;

	if (log_fd < 0) {
		json_decref(body);
		return;
	}
	line = json_pack("{s:s, s:o, s:O, s:o}", "method", rq->method,
			 "path", lossy_string(rq->target, strlen(rq->target)),
			 "headers", rq->headers, "body", body);
	text = line ? json_dumps(line, DUMP_FLAGS) : NULL;
	json_decref(line);
	if (!text)
		return;
	size_t n = strlen(text), off = 0;
	text[n++] = '\n';	/* replaces the NUL: the length is known */
	pthread_mutex_lock(&log_lock);
	while (off < n) {	/* one write() unless the disk is full */
		ssize_t k = write(log_fd, text + off, n - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		off += (size_t)k;
	}
	pthread_mutex_unlock(&log_lock);
	free(text);
}

static bool send_all(int fd, struct iovec *iov, int cnt)
{
	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return false;
		while (cnt > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
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
	case 404: return "Not Found";
	case 411: return "Length Required";
	case 413: return "Payload Too Large";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

static bool send_json(struct conn *c, int status, json_t *body, bool last)
{
	static const char oom[] = "{\"error\":{\"message\":\"out of memory\","
		"\"type\":\"server_error\",\"param\":null,\"code\":null}}";
	char *text = body ? json_dumps(body, DUMP_FLAGS) : NULL;
	char head[200];
	struct iovec iov[2];
	bool ok;

	if (!text)
		status = 500;
	iov[1].iov_base = text ? text : (char *)oom;
	iov[1].iov_len = text ? strlen(text) : sizeof(oom) - 1;
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n%s\r\n", status, reason(status),
		iov[1].iov_len, last ? "Connection: close\r\n" : "");
	ok = send_all(c->fd, iov, 2);
	free(text);
	c->served = true;
	return ok;
}

/* Parse the head h[0, n) (request line and header lines, each ending in
 * CRLF); 0 if fine, else the HTTP status to fail with. */
static int parse_head(char *h, size_t n, struct request *rq)
{
	char *line = h, *eol, *sp1, *sp2;

	if (memchr(h, '\0', n))
		return 400;
	h[n] = '\0';		/* was the CR of the blank line */
	eol = strstr(line, "\r\n");
	*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp2 || sp1 == line || sp1 - line >= (long)sizeof(rq->method) ||
	    sp2 == sp1 + 1)
		return 400;
	*sp1 = *sp2 = '\0';
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		rq->minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") != 0)
		return 400;
	for (char *p = line; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return 400;
	strcpy(rq->method, line);
	rq->target = strdup(sp1 + 1);
	rq->headers = json_object();
	if (!rq->target || !rq->headers)
		return 500;
	rq->close = rq->minor == 0;

	for (line = eol + 2; *line; line = eol + 2) {
		char *colon, *v, *e, *name;
		const char *old;

		eol = strstr(line, "\r\n");
		*eol = '\0';
		colon = strchr(line, ':');
		if (!colon || colon == line || strpbrk(line, "\r\n") ||
		    strcspn(line, " \t") < (size_t)(colon - line))
			return 400;
		*colon = '\0';
		for (name = line; *name; name++)
			if (*name >= 'A' && *name <= 'Z')
				*name += 'a' - 'A';
		name = line;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		for (e = v + strlen(v); e > v && (e[-1] == ' ' ||
						   e[-1] == '\t'); e--)
			;
		*e = '\0';

		if (strcmp(name, "content-length") == 0) {
			char *end;
			unsigned long long cl;

			errno = 0;
			cl = strtoull(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno ||
			    (rq->has_length && cl != rq->body_len))
				return 400;
			rq->body_len = cl > SIZE_MAX / 2 ? SIZE_MAX / 2 : cl;
			rq->has_length = true;
		} else if (strcmp(name, "transfer-encoding") == 0) {
			rq->chunked = true;
		} else if (strcmp(name, "connection") == 0) {
			if (strcasestr(v, "close"))
				rq->close = true;
		} else if (strcmp(name, "expect") == 0) {
			rq->expect = strcasecmp(v, "100-continue") == 0;
		}

		/* a repeated header reads as one, its values joined by ", " */
		old = json_string_value(json_object_get(rq->headers, name));
		if (old) {
			char *both;

			if (asprintf(&both, "%s, %s", old, v) < 0)
				return 500;
			json_object_set_new(rq->headers, name,
					    lossy_string(both, strlen(both)));
			free(both);
		} else {
			json_object_set_new(rq->headers, name,
					    lossy_string(v, strlen(v)));
		}
	}
	return 0;
}

/* Make room for at least `room` more bytes in c->buf. */
static bool reserve(struct conn *c, size_t room)
{
	size_t cap = c->cap ? c->cap : 16384;
	char *p;

	if (c->cap - c->len >= room)
		return true;
	while (cap - c->len < room)
		cap *= 2;
	if (!(p = realloc(c->buf, cap)))
		return false;
	c->buf = p;
	c->cap = cap;
	return true;
}

/* Wait for bytes and append them to c->buf. False on end of stream, error,
 * timeout, or when a slot is wanted and this connection is idle. */
static bool fill(struct conn *c)
{
	bool idle = c->served && c->len == 0;
	struct pollfd p[2] = {
		{ .fd = c->fd, .events = POLLIN },
		{ .fd = starve_pipe[0], .events = POLLIN },
	};
	ssize_t k;

	int waited = 0;

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
		if (r < 0 || (r == 0 && !(idle && !yield)))
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

/* Drop the first n bytes of c->buf, and give back a big buffer. */
static void consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	if (c->cap > (256u << 10) && c->len <= 16384) {
		char *p = realloc(c->buf, 16384);

		if (p) {
			c->buf = p;
			c->cap = 16384;
		}
	}
}

/* Read a request head; its length (with the blank line), 0 if the
 * connection ended, SIZE_MAX if it is too long. */
static size_t read_head(struct conn *c)
{
	size_t scanned = 0;

	for (;;) {
		char *e;

		/* RFC 9112 asks servers to skip CRLFs before a request */
		while (c->len >= 2 && c->buf[0] == '\r' && c->buf[1] == '\n')
			consume(c, 2);
		if (scanned > c->len)
			scanned = 0;
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

static void fail(struct conn *c, struct request *rq, int status)
{
	static const char *const what[][2] = {
		{ "Malformed HTTP request", "bad_request" },
		{ "Chunked request bodies are not supported; send a "
		  "Content-Length", "length_required" },
		{ "Request body larger than 8 MiB", "payload_too_large" },
		{ "Request head larger than 64 KiB", "header_too_large" },
		{ "Internal error", "server_error" },
	};
	int i = status == 400 ? 0 : status == 411 ? 1 : status == 413 ? 2 :
		status == 431 ? 3 : 4;
	json_t *body = api_error(NULL, what[i][1], "%s", what[i][0]);

	if (rq && rq->headers)
		log_request(rq, json_null());
	send_json(c, status, body, true);
	json_decref(body);
	c->linger = true;
}

/* Log, route and answer a request whose body has arrived. */
static bool answer(struct conn *c, const struct request *rq,
		   const char *body)
{
	json_error_t jerr;
	json_t *doc = NULL, *resp = NULL;
	int status;
	bool ok;

	if (rq->body_len)
		doc = json_loadb(body, rq->body_len, JSON_DECODE_ANY, &jerr);
	else
		snprintf(jerr.text, sizeof(jerr.text), "empty body");
	if (log_fd >= 0)
		log_request(rq, doc ? json_incref(doc) :
				lossy_string(body, rq->body_len));
	status = route(rq, doc, jerr.text, &resp);
	/* the delay comes after the log line, so tests can see a request
	 * that is still waiting */
	if (opt.latency_ms > 0 && strcmp(rq->method, "POST") == 0)
		sleep_ms(opt.latency_ms);
	ok = send_json(c, status, resp, rq->close);
	json_decref(resp);
	json_decref(doc);
	return ok;
}

/* Serve one request; false when the connection is to close. */
static bool serve_one(struct conn *c)
{
	struct request rq;
	size_t head, total;
	int status;
	bool keep = false;

	memset(&rq, 0, sizeof(rq));
	head = read_head(c);
	if (head == 0)
		return false;
	if (head == SIZE_MAX) {
		fail(c, NULL, 431);
		return false;
	}
	status = parse_head(c->buf, head - 2, &rq);
	if (status == 0 && rq.chunked)
		status = 411;
	if (status == 0 && rq.body_len > MAX_BODY)
		status = 413;
	if (status) {
		fail(c, &rq, status);
		goto out;
	}
	total = head + rq.body_len;
	if (rq.expect && rq.minor == 1 && c->len < total) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		struct iovec iov = { (char *)cont, sizeof(cont) - 1 };

		if (!send_all(c->fd, &iov, 1))
			goto out;
	}
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
 * can destroy an error answer before the client reads it: so stop writing,
 * and read what is left for a while first. */
static void linger_drain(int fd)
{
	long deadline = now_ms() + LINGER_MS, left;
	char junk[4096];

	shutdown(fd, SHUT_WR);
	while ((left = deadline - now_ms()) > 0) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, (int)left) <= 0 ||
		    recv(fd, junk, sizeof(junk), 0) <= 0)
			break;
	}
}

static void slot_take(void)
{
	pthread_mutex_lock(&slot_lock);
	if (slots_used >= opt.threads_max) {
		char b[64];

		/* a connection is waiting: ask idle ones to make room */
		if (write(starve_pipe[1], "x", 1) < 0) {
			/* full already: the idle ones are told */
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
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	for (;;) {
		struct timeval tv = { SEND_TIMEOUT_S, 0 };
		int one = 1, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		struct conn *c;
		pthread_t t;

		if (fd < 0) {
			/* out of descriptors or memory: let some close */
			if (errno != EINTR && errno != ECONNABORTED)
				sleep_ms(20);
			continue;
		}
		/* a client that stops reading must not pin a thread forever */
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		slot_take();
		c = calloc(1, sizeof(*c));
		if (c)
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
	      "[--api-key KEY]\n"
	      "                  [--no-n] [--judge-bias-a X] [--judge-lead] "
	      "[--log FILE]\n"
	      "                  [--threads-max N]\n", stderr);
	exit(2);
}

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"), or
 * NULL if argv[*i] is another option. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0 || (a[n] != '\0' && a[n] != '='))
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (*i + 1 >= argc) {
		fprintf(stderr, "fakeserver: %s needs a value\n", name);
		usage();
	}
	return argv[++*i];
}

static long to_long(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || end == v || *end || x < lo || x > hi) {
		fprintf(stderr, "fakeserver: bad %s: %s\n", name, v);
		exit(2);
	}
	return x;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v;
		char *end;

		if (strcmp(argv[i], "--no-n") == 0) {
			opt.no_n = true;
		} else if (strcmp(argv[i], "--judge-lead") == 0) {
			opt.judge_lead = true;
		} else if ((v = opt_value(argc, argv, &i, "--port"))) {
			opt.port = (unsigned)to_long("--port", v, 0, 65535);
		} else if ((v = opt_value(argc, argv, &i, "--port-file"))) {
			opt.port_file = v;
		} else if ((v = opt_value(argc, argv, &i, "--latency-ms"))) {
			opt.latency_ms = to_long("--latency-ms", v, 0,
						 86400000L);
		} else if ((v = opt_value(argc, argv, &i, "--api-key"))) {
			opt.api_key = v;
		} else if ((v = opt_value(argc, argv, &i, "--judge-bias-a"))) {
			errno = 0;
			opt.bias_a = strtod(v, &end);
			if (errno || end == v || *end || !isfinite(opt.bias_a)) {
				fprintf(stderr, "fakeserver: bad "
					"--judge-bias-a: %s\n", v);
				exit(2);
			}
		} else if ((v = opt_value(argc, argv, &i, "--log"))) {
			opt.log_path = v;
		} else if ((v = opt_value(argc, argv, &i, "--threads-max"))) {
			opt.threads_max = to_long("--threads-max", v, 1,
						  1000000L);
		} else {
			fprintf(stderr, "fakeserver: unknown option %s\n",
				argv[i]);
			usage();
		}
	}
}

static void write_port_file(const char *path, unsigned port)
{
	char *tmp;
	FILE *f;

	if (asprintf(&tmp, "%s.tmp", path) < 0) {
		perror("fakeserver: asprintf");
		exit(1);
	}
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		fprintf(stderr, "fakeserver: cannot write %s: %s\n", path,
			strerror(errno));
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
	/* 1000+ keep-alive connections need more descriptors than the usual
	 * soft limit of 1024 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* seed jansson's hash tables now, before there are threads */
	json_object_seed(0);

	if (opt.log_path) {
		log_fd = open(opt.log_path, O_WRONLY | O_APPEND | O_CREAT |
			      O_CLOEXEC, 0644);
		if (log_fd < 0) {
			fprintf(stderr, "fakeserver: cannot open %s: %s\n",
				opt.log_path, strerror(errno));
			return 1;
		}
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
		fprintf(stderr, "fakeserver: cannot listen on 127.0.0.1:%u: "
			"%s\n", opt.port, strerror(errno));
		return 1;
	}
	if (opt.port_file)
		write_port_file(opt.port_file, ntohs(addr.sin_port));
	printf("fakeserver listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
	fflush(stdout);
	accept_loop(lfd);
	return 0;
}
