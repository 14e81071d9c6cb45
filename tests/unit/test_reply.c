/*
 * test_reply.c - the hand-written chat reply reader (reply.h) held to the
 * jansson one (provider_parse_chat) field by field: on the reply shapes of
 * OpenAI, vLLM, llama.cpp, Ollama and TGI in tests/data/reply/, on
 * scripts/bench/completion.json, on every prefix and many one-byte
 * corruptions of them, and on a list of malformed and borderline bodies
 * (jansson's limits, escapes, UTF-8, duplicate keys). Tests run from the
 * repo root.
 */
#include "config.h"
#include "judge.h"
#include "provider.h"
#include "reply.h"

#include "harness.h"

#include <stdlib.h>

#define D "tests/data/reply/"

static const char *const fixtures[] = {
	D "openai_chat.json",
	D "openai_no_logprobs_key.json",
	D "openai_chat_logprobs.json",
	D "tgi_chat.json",
	D "tgi_chat_logprobs.json",
	D "vllm_chat_logprobs.json",
	D "vllm_chat_n9.json",
	D "ollama_chat_logprobs.json",
	D "llamacpp_chat_n2_top20.json",
	D "escapes.json",
	D "duplicates.json",
	D "error_null.json",
	D "openai_error.json",
	D "vllm_error_new.json",
	D "vllm_error_old.json",
	D "tgi_error.json",
	D "llamacpp_error.json",
	"scripts/bench/completion.json",
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s = NULL;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = malloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	} else {
		s[n] = '\0';
		*len = (size_t)n;
	}
	fclose(f);
	return s;
}

static bool is_json_error(const char *msg)
{
	return !strncmp(msg, "reply is not JSON: ", 19);
}

/*
 * Read body[0..len) (no NUL inside) with both readers, with and without
 * logprobs, and check they agree; the outcome (0 or -1) of the jansson
 * reader, its message in *msg when it refused.
 */
static int agree(const char *body, size_t len, struct err *msg)
{
	char *s = malloc(len + 1);
	struct chat_reply ref, mine, bare;
	struct err e1, e2, e3, why;
	int r1, r2, r3;

	memcpy(s, body, len);
	s[len] = '\0';
	e1.msg[0] = e2.msg[0] = e3.msg[0] = why.msg[0] = '\0';
	r1 = provider_parse_chat(s, &ref, &e1);
	r2 = reply_read_chat(s, len, true, &mine, &e2);
	r3 = reply_read_chat(s, len, false, &bare, &e3);
	if (r1 != r2 || r2 != r3) {
		fprintf(stderr, "  outcome jansson %d ('%s'), reply %d ('%s') "
			"on '%.80s'\n", r1, e1.msg, r2, e2.msg, s);
		harness_failed = 1;
	} else if (r1 < 0) {
		if (!(is_json_error(e1.msg) && is_json_error(e2.msg)) &&
		    strcmp(e1.msg, e2.msg)) {
			fprintf(stderr, "  '%s' != '%s' on '%.80s'\n", e1.msg,
				e2.msg, s);
			harness_failed = 1;
		}
		CHECK_STR(e2.msg, e3.msg);
	} else {
		if (!reply_same(&ref, &mine, true, &why) ||
		    !reply_same(&ref, &bare, false, &why)) {
			fprintf(stderr, "  %s on '%.80s'\n", why.msg, s);
			harness_failed = 1;
		}
		for (size_t i = 0; i < bare.n; i++)
			CHECK(bare.logprobs[i] == NULL);
		CHECK(mine.root == NULL && mine.arena != NULL);
	}
	if (r1 == 0)
		chat_reply_release(&ref);
	if (r2 == 0)
		chat_reply_release(&mine);
	if (r3 == 0)
		chat_reply_release(&bare);
	if (msg)
		*msg = e1;
	free(s);
	return r1;
}

static int agree_str(const char *body, struct err *msg)
{
	return agree(body, strlen(body), msg);
}

/* Every fixture: the same fields, or the same refusal. */
static void test_fixtures(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		size_t len = 0;
		char *body = slurp(fixtures[i], &len);
		struct err msg;
		int rc;

		CHECK(body != NULL);
		if (!body)
			continue;
		rc = agree(body, len, &msg);
		if (strstr(fixtures[i], "error") &&
		    !strstr(fixtures[i], "error_null"))
			CHECK(rc < 0 && !is_json_error(msg.msg));
		else
			CHECK(rc == 0);
		free(body);
	}
}

static int read_file(const char *path, bool want, struct chat_reply *r)
{
	size_t len = 0;
	char *body = slurp(path, &len);
	struct err err;
	int rc;

	CHECK(body != NULL);
	if (!body)
		return -1;
	rc = reply_read_chat(body, len, want, r, &err);
	if (rc < 0)
		fprintf(stderr, "  %s: %s\n", path, err.msg);
	free(body);	/* the reply must not point into the body */
	return rc;
}

/* Values, spelled out, and the judge reading them. */
static void test_values(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(read_file(D "openai_chat_logprobs.json", true, &r) == 0);
	CHECK(r.n == 1);
	CHECK_STR(r.text[0], "A<|end|>");
	CHECK_STR(r.finish[0], "stop");
	CHECK(r.usage.prompt_tokens == 377 && r.usage.completion_tokens == 2);
	CHECK(r.logprobs[0] && r.logprobs[0]->n == 2);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.mass_b, exp(-5.8125), 1e-12);
	{	/* the judgment is the one from jansson's tree */
		size_t len = 0;
		char *body = slurp(D "openai_chat_logprobs.json", &len);
		struct chat_reply ref;
		struct judgment k = { 0 };

		CHECK(provider_parse_chat(body, &ref, &err) == 0);
		CHECK(judge_read_logprobs(ref.logprobs[0], 4, &k, &err) == 0);
		CHECK(j.mass_a == k.mass_a && j.mass_b == k.mass_b &&
		      j.p_a == k.p_a && j.position == k.position);
		chat_reply_release(&ref);
		free(body);
	}
	chat_reply_release(&r);

	CHECK(read_file(D "escapes.json", true, &r) == 0);
	CHECK_STR(r.text[0], "tab\there, quote \" slash / back \\ nl\n cr\r "
		  "bs\b ff\f \xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 raw "
		  "\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80 \x7f del \x1f");
	CHECK_STR(r.finish[0], "stop");
	CHECK(r.usage.prompt_tokens == 0);
	CHECK(r.usage.completion_tokens == 9223372036854775807LL);
	CHECK_STR(r.logprobs[0]->pos[0].token, "\xf0\x9f\x98\x80");
	CHECK(r.logprobs[0]->pos[0].token_len == 4);
	chat_reply_release(&r);

	CHECK(read_file(D "duplicates.json", true, &r) == 0);
	CHECK(r.n == 3);
	CHECK_STR(r.text[0], "kept");
	CHECK(r.finish[0] == NULL);
	CHECK_STR(r.text[1], "second");
	CHECK_STR(r.finish[1], "length");
	CHECK(r.logprobs[1] == NULL);
	CHECK_STR(r.text[2], "third, again");
	CHECK(r.logprobs[2] && r.logprobs[2]->n == 4);
	/* a null element: neither token nor logprob nor candidates */
	CHECK(!r.logprobs[2]->pos[0].token &&
	      !r.logprobs[2]->pos[0].has_logprob &&
	      r.logprobs[2]->pos[0].ntop == 0);
	CHECK(r.usage.prompt_tokens == 8 && r.usage.completion_tokens == 0);
	{
		const struct chat_logprob *p = &r.logprobs[0]->pos[0];

		CHECK(p->token == NULL);
		CHECK(p->has_logprob);
		CHECK_NEAR(p->logprob, -0.5, 0);
		CHECK(p->ntop == 0 && p->top == NULL);
	}
	chat_reply_release(&r);

	CHECK(read_file(D "vllm_chat_n9.json", true, &r) == 0);
	CHECK(r.n == PROVIDER_MAX_CHOICES);
	CHECK_STR(r.text[7], "sample 7");
	chat_reply_release(&r);

	/* without want_logprobs the arrays are not built */
	CHECK(read_file(D "llamacpp_chat_n2_top20.json", false, &r) == 0);
	CHECK(r.n == 2 && !r.logprobs[0] && !r.logprobs[1] && !r.extra);
	chat_reply_release(&r);
	CHECK(read_file(D "llamacpp_chat_n2_top20.json", true, &r) == 0);
	CHECK(r.logprobs[1]->pos[0].ntop == 20);
	chat_reply_release(&r);
}

/* provider_parse reads chat through reply.c, other flavours as before. */
static void test_provider_parse(void)
{
	struct chat_reply r;
	struct err err;
	const char *body = "{\"choices\":[{\"message\":{\"content\":\"A\"},"
		"\"logprobs\":{\"content\":[{\"token\":\"A\",\"logprob\":-1,"
		"\"top_logprobs\":[]}]}}]}";

	CHECK(provider_parse(API_CHAT, body, true, &r, &err) == 0);
	CHECK(r.root == NULL && r.arena != NULL);
	CHECK(r.logprobs[0] && r.logprobs[0]->n == 1);
	CHECK(r.logprobs[0]->pos[0].has_logprob &&
	      r.logprobs[0]->pos[0].logprob == -1.0);
	chat_reply_release(&r);
	CHECK(provider_parse(API_CHAT, body, false, &r, &err) == 0);
	CHECK(r.logprobs[0] == NULL);
	chat_reply_release(&r);
	CHECK(provider_parse(API_CHAT, "{\"error\":\"x\"}", true, &r,
			     &err) < 0);
	CHECK_STR(err.msg, "error in reply: x");
}

/* Bodies both readers must refuse as JSON. */
static void test_not_json(void)
{
	static const char *const bad[] = {
		"", " ", "1", "\"s\"", "null", "true",
		"{", "[", "{]", "[}", "{\"a\"}", "{\"a\":}", "{\"a\" 1}",
		"{\"a\":1,}", "[1,]", "[,1]", "{,}", "{\"a\":1 \"b\":2}",
		"[1 2]", "{} x", "{}{}", "[]]", "{'a':1}", "{a:1}",
		"[01]", "[-]", "[-01]", "[1.]", "[.5]", "[1e]", "[1e+]",
		"[+1]", "[1.5.3]", "[0x10]", "[Infinity]", "[NaN]", "[-NaN]",
		"[tru]", "[truex]", "[nul]", "[nulll]", "[True]", "[true1]",
		"[\"\\x\"]", "[\"\\U0041\"]", "[\"\\u00\"]", "[\"\\u00g0\"]",
		"[\"\\u0000\"]", "{\"\\u0000\":1}", "[\"a\\u0000b\"]",
		"[\"\\ud800\"]", "[\"\\udc00\"]", "[\"\\ud800\\u0041\"]",
		"[\"\\ud800\\ud800\"]", "[\"\\ud800x\"]", "[\"\\udbff\\\"]",
		"[\"tab\tin\"]", "[\"nl\nin\"]", "[\"\x01\"]", "[\"\x1f\"]",
		"[\"\xc0\x80\"]", "[\"\xc1\xbf\"]", "[\"\xe0\x80\x80\"]",
		"[\"\xed\xa0\x80\"]", "[\"\xf0\x80\x80\x80\"]",
		"[\"\xf4\x90\x80\x80\"]", "[\"\xf5\x80\x80\x80\"]",
		"[\"\xff\"]", "[\"\x80\"]", "[\"\xc3\"]", "[\"\xe4\xb8\"]",
		"[\"\xc3\x28\"]", "\xef\xbb\xbf{}", "[\xc3\xa9]",
		"[9223372036854775808]", "[-9223372036854775809]",
		"[99999999999999999999]", "[1e309]", "[-1e309]",
		"[1.8e308]", "[1000e306]", "[0.1e310]",
		"{\"choices\":[{\"message\":{\"content\":\"x\"}}]} ,",
		"{\"usage\":{\"prompt_tokens\":1e999}}",
		"{\"a\":[1,2,3]]}", "/* c */ {}", "{} // c", "[\"a\"\"b\"]",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct err msg;
		int rc = agree_str(bad[i], &msg);

		if (rc == 0 || !is_json_error(msg.msg)) {
			fprintf(stderr, "  accepted or not a JSON error: "
				"'%s'\n", bad[i]);
			harness_failed = 1;
		}
	}
}

/* Valid JSON at the edges jansson draws, and the messages of the
 * replies that are JSON but unusable. */
static void test_edges(void)
{
	static const struct {
		const char *body, *msg;	/* msg NULL: accepted */
	} c[] = {
		{ "[]", "reply has no choices" },
		{ "[{\"choices\":[{\"message\":{\"content\":\"x\"}}]}]",
		  "reply has no choices" },
		{ "{}", "reply has no choices" },
		{ "{\"choices\":[]}", "reply has no choices" },
		{ "{\"choices\":{}}", "reply has no choices" },
		{ "{\"choices\":null}", "reply has no choices" },
		{ "{\"choices\":[1]}",
		  "choices[0].message.content is not a string" },
		{ "{\"choices\":[{\"message\":{\"content\":null}}]}",
		  "choices[0].message.content is not a string" },
		{ "{\"choices\":[{\"message\":\"x\"}]}",
		  "choices[0].message.content is not a string" },
		{ "{\"choices\":[{\"message\":{\"content\":\"a\"}},"
		  "{\"message\":{\"content\":[\"b\"]}}]}",
		  "choices[1].message.content is not a string" },
		{ "{\"choices\":[{\"message\":{\"content\":\"a\"}}],"
		  "\"choices\":[]}", "reply has no choices" },
		{ "{\"error\":\"boom\"}", "error in reply: boom" },
		{ "{\"error\":{\"message\":\"m\\u00e9\\n\"},\"choices\":[]}",
		  "error in reply: m\xc3\xa9\n" },
		{ "{\"error\":{\"message\":5}}",
		  "error in reply: (no message)" },
		{ "{\"error\":{}}", "error in reply: (no message)" },
		{ "{\"error\":true}", "error in reply: (no message)" },
		{ "{\"error\":0}", "error in reply: (no message)" },
		{ "{\"error\":[\"x\"]}", "error in reply: (no message)" },
		{ "{\"error\":\"\"}", "error in reply: " },
		{ "{\"error\":\"a\",\"error\":null,\"choices\":[{\"message\":"
		  "{\"content\":\"\"}}]}", NULL },
		{ "{\"error\":null,\"error\":{\"message\":\"b\"}}",
		  "error in reply: b" },
		{ "{\"err\\u006fr\":\"esc\"}", "error in reply: esc" },
		{ " \t\r\n{\"choices\":[{\"message\":{\"content\":\"\"}}]}"
		  " \t\r\n", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"x\"},"
		  "\"finish_reason\":7,\"logprobs\":[1]}],"
		  "\"usage\":{\"prompt_tokens\":-9223372036854775808,"
		  "\"completion_tokens\":1.5e2}}", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"x\"}}],"
		  "\"usage\":[1,2]}", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"x\"}}],"
		  "\"n\":[1e308,-1.7976931348623157e308,1e-400,-0,-0.0,"
		  "4.9e-324,0e99999999999999999999,"
		  "0.00000000000000000000000001e330,"
		  "123456789012345678901234567890e-30]}", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"x\"},"
		  "\"logprobs\":{\"content\":[{\"token\":\"A\","
		  "\"logprob\":-1e-400},{\"token\":\"B\",\"logprob\":"
		  "1.00000000000000000000001}]}}]}", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"\\ud83d\\ude00"
		  "\\uDBFF\\uDFFF\\uFFFF\\u0001\"}}]}", NULL },
		{ "{\"choices\":[{\"message\":{\"content\":\"\xf4\x8f\xbf\xbf"
		  "\xef\xbf\xbf\xe0\xa0\x80\xc2\x80\x7f\"}}]}", NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++) {
		struct err msg;
		int rc = agree_str(c[i].body, &msg);

		if (c[i].msg) {
			CHECK(rc < 0);
			CHECK_STR(msg.msg, c[i].msg);
		} else {
			if (rc < 0)
				fprintf(stderr, "  %s\n", msg.msg);
			CHECK(rc == 0);
		}
	}
}

/* A reply whose member "deep" (depth 2) holds n nested arrays, the
 * innermost holding 1 (depth n + 2) or nothing; agree's outcome. */
static int nested(int n, bool scalar)
{
	const char *head = "{\"choices\":[{\"message\":{\"content\":\"x\"}}],"
			   "\"deep\":";
	size_t hl = strlen(head);
	char *b = malloc(hl + 2 * (size_t)n + 4), *p = b;
	int rc;

	memcpy(p, head, hl);
	p += hl;
	memset(p, '[', (size_t)n);
	p += n;
	if (scalar)
		*p++ = '1';
	memset(p, ']', (size_t)n);
	p += n;
	*p++ = '}';
	rc = agree(b, (size_t)(p - b), NULL);
	free(b);
	return rc;
}

/* Depth: jansson counts every value, the root being 1, up to
 * JSON_PARSER_MAX_DEPTH; both sides of the limit. */
static void test_depth(void)
{
	for (int n = JSON_PARSER_MAX_DEPTH - 4; n <= JSON_PARSER_MAX_DEPTH + 1;
	     n++) {
		CHECK((nested(n, true) == 0) ==
		      (n + 2 <= JSON_PARSER_MAX_DEPTH));
		CHECK((nested(n, false) == 0) ==
		      (n + 1 <= JSON_PARSER_MAX_DEPTH));
	}
}

/* "0.<z zeros>1e<e>" inside a reply: a real with more digits than
 * the exponent's first guess; agree's outcome. */
static int long_real(size_t z, const char *e)
{
	const char *head = "{\"choices\":[{\"message\":{\"content\":\"x\"}}],"
			   "\"n\":0.";
	size_t hl = strlen(head), el = strlen(e);
	char *b = malloc(hl + z + el + 4), *p = b;
	int rc;

	memcpy(p, head, hl);
	p += hl;
	memset(p, '0', z);
	p += z;
	*p++ = '1';
	memcpy(p, e, el);
	p += el;
	*p++ = '}';
	rc = agree(b, (size_t)(p - b), NULL);
	free(b);
	return rc;
}

/* Overflow decided by strtod when the digits and exponent say it may. */
static void test_long_reals(void)
{
	CHECK(long_real(1500000, "e2000000") < 0);	/* about 1e499999 */
	CHECK(long_real(2000000, "e2000000") == 0);	/* 0.1 */
	CHECK(long_real(10, "e318") == 0);		/* 1e307 */
	CHECK(long_real(10, "e320") < 0);		/* 1e309 */
	CHECK(long_real(0, "e99999999999999999999") < 0);
	CHECK(long_real(0, "e-99999999999999999999") == 0);
}

/* A NUL byte inside the length is never JSON (json_loadb's view). */
static void test_nul_inside(void)
{
	static const char b1[] = "{\"choices\":[{\"message\":{\"content\":"
				 "\"a\0b\"}}]}";
	static const char b2[] = "{\"choices\":[{\"message\":{\"content\":"
				 "\"ab\"}}]}\0";
	struct chat_reply r;
	struct err err;

	CHECK(reply_read_chat(b1, sizeof(b1) - 1, true, &r, &err) < 0);
	CHECK(is_json_error(err.msg));
	CHECK(reply_read_chat(b2, sizeof(b2) - 1, true, &r, &err) < 0);
	CHECK(reply_read_chat(b2, sizeof(b2) - 2, true, &r, &err) == 0);
	chat_reply_release(&r);
}

/* Every prefix and many one-byte changes of the smaller fixtures. */
static void test_mutations(void)
{
	static const char subst[] = { '"', '\\', '{', '}', '[', ']', ',', ':',
				      ' ', '0', '-', 'e', '.', 'u', 'n',
				      '\x7f', '\x1f', (char)0x80, (char)0xc3,
				      (char)0xed };

	for (size_t i = 0; i < ARRAY_SIZE(fixtures); i++) {
		size_t len = 0;
		char *body = slurp(fixtures[i], &len);

		if (!body || len > 5000) {
			free(body);
			continue;
		}
		for (size_t k = 0; k < len; k++)
			agree(body, k, NULL);
		for (size_t k = 0; k < len; k++) {
			char was = body[k];

			for (size_t s = 0; s < sizeof(subst); s++) {
				body[k] = subst[s];
				agree(body, len, NULL);
			}
			body[k] = was;
		}
		free(body);
	}
}

/* A reply whose first choice's one position has logprob `num` (and a
 * candidate with -num's digits); agree's outcome. */
static int logprob_body(const char *num)
{
	char b[512];

	snprintf(b, sizeof(b), "{\"choices\":[{\"message\":{\"content\":"
		 "\"x\"},\"logprobs\":{\"content\":[{\"token\":\"A\","
		 "\"logprob\":%s,\"top_logprobs\":[{\"token\":\"B\","
		 "\"logprob\":%s}]}]}}]}", num, num);
	return agree_str(b, NULL);
}

/* The numbers of the logprobs: reply.c converts the short ones without
 * strtod; every one must be the same double (to the bit) as jansson's. */
static void test_logprob_numbers(void)
{
	static const char *const edge[] = {
		"-0.2231", "0", "-0", "-0.0", "0.0", "1", "-1e0", "-1E+0",
		"-0.000", "-1e-22", "-1e22", "-1e23", "-1e-23", "1.5e-22",
		"9007199254740992.0", "9007199254740993.0",
		"-9007199254740993e-22", "900719925474099.3",
		"0.9007199254740993", "1234567890123456789.0",
		"12345678901234567890.0", "0.00000000000000000001234",
		"-0.1", "-0.3", "-2.2250738585072014e-308", "4.9e-324",
		"-1.7976931348623157e308", "123456789e-30", "5e-324",
		"0.1e1", "00.1", "1e0000000000000000000001",
		"-99999999999999999999999999e-25", "1.0000000000000002",
		"-6.9078", "-4.6052", "-7.6009", "-1.6094", "-0.3567",
	};
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(edge); i++)
		if (logprob_body(edge[i]) != (strcmp(edge[i], "00.1") ? 0 :
					      -1))
			fprintf(stderr, "  outcome on %s\n", edge[i]),
			harness_failed = 1;
	for (int r = 0; r < 20000; r++) {
		char num[80], *p = num;
		int id, fd, ed;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		id = (int)(x % 4);		/* integer digits */
		fd = (int)((x >> 8) % 22) + 1;	/* fraction digits */
		ed = (int)((x >> 16) % 4);	/* 0-1: no exponent */
		if (x >> 20 & 1)
			*p++ = '-';
		if (!id)
			*p++ = '0';
		for (int i = 0; i < id; i++)
			*p++ = (char)('1' + (x >> (24 + 3 * i)) % 9);
		*p++ = '.';
		for (int i = 0; i < fd; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			*p++ = (char)('0' + x % 10);
		}
		if (ed >= 2)
			p += sprintf(p, "e%s%d", ed == 2 ? "-" : "",
				     (int)((x >> 32) % 30));
		*p = '\0';
		if (logprob_body(num) != 0 && bad++ < 5)
			fprintf(stderr, "  refused: %s\n", num);
	}
	CHECK(bad == 0);
}

/* Odd logprobs: escapes and unicode in tokens, nulls, missing and
 * doubled members (the last one wins), lists built and then dropped by a
 * later duplicate or a later error. agree also holds the error message
 * of the building walk to the one of the checking walk (want_logprobs
 * false), byte offset included. */
static void test_logprob_shapes(void)
{
	static const char *const c[] = {
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"\\u0041\\n\\\"\\ud83d\\ude00\","
		"\"logprob\":-1,\"top_logprobs\":[{\"token\":\"\xc3\xa9\","
		"\"logprob\":null},null,[],{\"token\":null},{}]}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[null,1,\"s\",[1],{\"top_logprobs\":null},"
		"{\"top_logprobs\":{}},{\"token\":5,\"logprob\":\"-1\"}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}],\"content\":null}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}],\"content\":[]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]},\"logprobs\":null}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]}}],\"choices\":[{\"message\":"
		"{\"content\":\"y\"}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]}},{\"message\":{\"content\":"
		"\"x\"},\"logprobs\":{\"content\":[{\"token\":\"B\"}]}}],"
		"\"choices\":[{\"message\":{\"content\":\"y\"}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\",\"top_logprobs\":[{\"token\":"
		"\"B\"}],\"top_logprobs\":[{\"token\":\"C\"}],\"token\":\"D\","
		"\"logprob\":1,\"logprob\":2}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\",\"logprob\":"
		"-123456789012345678901234567890}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\",\"logprob\":1e999}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\\u0000\"}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]}}],\"usage\":{,}}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]}}],\"error\":\"late\"}",
		"{\"choices\":[{\"message\":{\"content\":5},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\",\"top_logprobs\":[{\"token\":"
		"\"B\",}]}]}}]}",
		"{\"choices\":[{\"message\":{\"content\":\"x\"},\"logprobs\":"
		"{\"content\":[{\"token\":\"A\"} {\"token\":\"B\"}]}}]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		agree_str(c[i], NULL);
}

TESTS(T(test_fixtures), T(test_values), T(test_provider_parse),
      T(test_not_json), T(test_edges), T(test_depth), T(test_long_reals),
      T(test_nul_inside), T(test_logprob_numbers), T(test_logprob_shapes),
      T(test_mutations))
