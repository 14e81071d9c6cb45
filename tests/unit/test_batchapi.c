/*
 * test_batchapi.c - the pure parts of the batch client (batchapi.h): the
 * request lines, the custom_id rule, and the reading of every result
 * line shape the providers write (OpenAI output and error files, vLLM
 * run-batch, Anthropic results), on lines of our own in those shapes.
 */
#include "batchapi.h"
#include "config.h"

#include "harness.h"

#include <stdlib.h>

static struct endpoint ep_of(int api, const char *base)
{
	struct endpoint ep = { .api = api, .max_attempts = 1 };

	ep.base_url = (char *)base;
	return ep;
}

static void test_line_openai(void)
{
	struct endpoint ep = ep_of(API_CHAT, "http://127.0.0.1:9/v1");
	struct err e;
	struct batchapi *b = batchapi_new(&ep, &e);
	const char *body = "{\"model\":\"m\",\"messages\":[]}";
	size_t n;
	char *l;

	CHECK(b != NULL);
	if (!b)
		return;
	l = batchapi_line(b, "p000001-s-0", body, strlen(body), &n);
	CHECK_STR(l, "{\"custom_id\":\"p000001-s-0\",\"method\":\"POST\","
		  "\"url\":\"/v1/chat/completions\",\"body\":{\"model\":"
		  "\"m\",\"messages\":[]}}\n");
	CHECK(n == strlen(l));
	free(l);
	/* only len bytes of the body are taken */
	l = batchapi_line(b, "x", "{}garbage", 2, &n);
	CHECK_STR(l, "{\"custom_id\":\"x\",\"method\":\"POST\",\"url\":"
		  "\"/v1/chat/completions\",\"body\":{}}\n");
	free(l);
	/* an id needing escapes still makes valid JSON */
	l = batchapi_line(b, "a\"b\\c\n", "{}", 2, &n);
	{
		json_t *j = json_loads(l, 0, NULL);

		CHECK(j != NULL);
		CHECK_STR(json_string_value(json_object_get(j, "custom_id")),
			  "a\"b\\c\n");
		json_decref(j);
	}
	free(l);
	batchapi_free(b);
}

static void test_line_paths(void)
{
	static const struct { const char *base, *url; } cases[] = {
		{ "https://api.example.com/v1", "/v1/chat/completions" },
		{ "https://gw.example.com/openai/v1/", "/openai/v1/chat/"
		  "completions" },
		{ "http://localhost:8000", "/chat/completions" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct endpoint ep = ep_of(API_CHAT, cases[i].base);
		struct err e;
		struct batchapi *b = batchapi_new(&ep, &e);
		size_t n;
		char *l = b ? batchapi_line(b, "c", "{}", 2, &n) : NULL;
		json_t *j = l ? json_loads(l, 0, NULL) : NULL;

		CHECK_STR(json_string_value(json_object_get(j, "url")),
			  cases[i].url);
		json_decref(j);
		free(l);
		batchapi_free(b);
	}
}

static void test_line_anthropic(void)
{
	struct endpoint ep = ep_of(API_ANTHROPIC, "https://api.example.com/v1");
	struct err e;
	struct batchapi *b = batchapi_new(&ep, &e);
	const char *body = "{\"model\":\"c\",\"max_tokens\":9,\"messages\":"
			   "[{\"role\":\"user\",\"content\":\"hi\"}]}";
	size_t n;
	char *l;

	CHECK(b != NULL);
	if (!b)
		return;
	l = batchapi_line(b, "r-1", body, strlen(body), &n);
	CHECK_STR(l, "{\"custom_id\":\"r-1\",\"params\":{\"model\":\"c\","
		  "\"max_tokens\":9,\"messages\":[{\"role\":\"user\","
		  "\"content\":\"hi\"}]}}\n");
	free(l);
	batchapi_free(b);
}

static void test_new_refuses(void)
{
	struct endpoint ep = ep_of(API_COMPLETIONS, "http://h/v1");
	struct err e = { "" };

	CHECK(batchapi_new(&ep, &e) == NULL);
	CHECK(strstr(e.msg, "completions") != NULL);
	ep = ep_of(API_CHAT, "no-scheme/v1");
	CHECK(batchapi_new(&ep, &e) == NULL);
	CHECK(strstr(e.msg, "base_url") != NULL);
	batchapi_free(NULL);
}

static void test_custom_id(void)
{
	char s64[65], s65[66];

	memset(s64, 'a', 64);
	s64[64] = '\0';
	memset(s65, 'Z', 65);
	s65[65] = '\0';
	CHECK(batchapi_custom_id_ok("a"));
	CHECK(batchapi_custom_id_ok("c000123-rev-0"));
	CHECK(batchapi_custom_id_ok("A_z-9"));
	CHECK(batchapi_custom_id_ok(s64));
	CHECK(!batchapi_custom_id_ok(s65));
	CHECK(!batchapi_custom_id_ok(""));
	CHECK(!batchapi_custom_id_ok(NULL));
	CHECK(!batchapi_custom_id_ok("a b"));
	CHECK(!batchapi_custom_id_ok("a.b"));
	CHECK(!batchapi_custom_id_ok("exp:t00010"));
	CHECK(!batchapi_custom_id_ok("caf\xc3\xa9"));
}

/* One line and what reading it must give. */
struct rcase {
	int api;
	const char *line;
	const char *id;
	bool ok;
	long status;
	bool retry;
	const char *error;	/* prefix of r.error; NULL: "" */
	const char *body;	/* ok: the compact body */
};

static void run_cases(const struct rcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct batch_result r;
		struct err e = { "" };
		int rc = batchapi_parse_result(c[i].api, c[i].line,
					       strlen(c[i].line), &r, &e);
		bool good = rc == 0 && !strcmp(r.custom_id, c[i].id) &&
			    r.ok == c[i].ok && r.status == c[i].status &&
			    (c[i].ok || r.retry == c[i].retry) &&
			    (c[i].error ? !strncmp(r.error, c[i].error,
						   strlen(c[i].error)) :
			     !r.error[0]) &&
			    (c[i].ok ? r.body && !strcmp(r.body, c[i].body) :
			     r.body == NULL);

		if (!good) {
			fprintf(stderr, "  case %zu (%s): rc %d ok %d status "
				"%ld retry %d error '%s' body '%s' (%s)\n", i,
				c[i].id, rc, rc ? 0 : r.ok, rc ? 0 : r.status,
				rc ? 0 : r.retry, rc ? "" : r.error,
				rc == 0 && r.body ? r.body : "", e.msg);
			harness_failed = 1;
		}
		if (rc == 0)
			free(r.body);
	}
}

/* OpenAI output and error files: shapes of BATCH.md 1.5. */
static void test_parse_openai(void)
{
	static const struct rcase c[] = {
		/* an output line, spaces and all: the body comes back
		 * compact, in its own key order */
		{ API_CHAT, "{\"id\": \"batch_req_9\", \"custom_id\": \"q-7\", "
		  "\"response\": {\"status_code\": 200, \"request_id\": "
		  "\"req_1\", \"body\": {\"id\": \"chatcmpl-9\", \"object\": "
		  "\"chat.completion\", \"choices\": [{\"index\": 0, "
		  "\"message\": {\"role\": \"assistant\", \"content\": "
		  "\"Sure.\"}, \"logprobs\": null, \"finish_reason\": "
		  "\"stop\"}], \"usage\": {\"prompt_tokens\": 5, "
		  "\"completion_tokens\": 1, \"total_tokens\": 6}}}, "
		  "\"error\": null}",
		  "q-7", true, 200, false, NULL,
		  "{\"id\":\"chatcmpl-9\",\"object\":\"chat.completion\","
		  "\"choices\":[{\"index\":0,\"message\":{\"role\":"
		  "\"assistant\",\"content\":\"Sure.\"},\"logprobs\":null,"
		  "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
		  "5,\"completion_tokens\":1,\"total_tokens\":6}}" },
		/* no "error" member at all is the same as null */
		{ API_CHAT, "{\"custom_id\":\"q-8\",\"response\":{"
		  "\"status_code\":200,\"body\":{\"choices\":[],\"x\":-0.5}}}",
		  "q-8", true, 200, false, NULL,
		  "{\"choices\":[],\"x\":-0.5}" },
		/* (a) a request the window closed on */
		{ API_CHAT, "{\"id\":\"batch_req_2\",\"custom_id\":\"q-1\","
		  "\"response\":null,\"error\":{\"code\":\"batch_expired\","
		  "\"message\":\"Not run before the window closed.\"}}",
		  "q-1", false, 0, true,
		  "batch_expired: Not run before the window closed.", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-2\",\"response\":null,"
		  "\"error\":{\"code\":\"batch_cancelled\",\"message\":"
		  "\"Cancelled.\"}}", "q-2", false, 0, true,
		  "batch_cancelled: Cancelled.", NULL },
		/* (b) the endpoint's own error */
		{ API_CHAT, "{\"id\":\"batch_req_3\",\"custom_id\":\"q-3\","
		  "\"response\":{\"status_code\":400,\"request_id\":\"r\","
		  "\"body\":{\"error\":{\"message\":\"max_tokens is too "
		  "small\",\"type\":\"invalid_request_error\",\"param\":"
		  "\"max_tokens\",\"code\":\"integer_below_min_value\"}}},"
		  "\"error\":null}", "q-3", false, 400, false,
		  "integer_below_min_value: max_tokens is too small", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-4\",\"response\":{"
		  "\"status_code\":500,\"body\":{\"error\":{\"message\":"
		  "\"Oops\",\"type\":\"server_error\",\"param\":null,"
		  "\"code\":null}}},\"error\":null}", "q-4", false, 500, true,
		  "server_error: Oops", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-5\",\"response\":{"
		  "\"status_code\":429,\"body\":{\"error\":{\"message\":"
		  "\"Slow down\",\"type\":\"requests\",\"code\":"
		  "\"rate_limit_exceeded\"}}},\"error\":null}", "q-5", false,
		  429, true, "rate_limit_exceeded: Slow down", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-6\",\"response\":{"
		  "\"status_code\":429,\"body\":{\"error\":{\"message\":"
		  "\"No credit\",\"type\":\"insufficient_quota\",\"code\":"
		  "\"insufficient_quota\"}}},\"error\":null}", "q-6", false,
		  429, false, "insufficient_quota: No credit", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-9\",\"response\":{"
		  "\"status_code\":401,\"body\":{\"error\":{\"message\":"
		  "\"Bad key\",\"type\":\"invalid_request_error\",\"code\":"
		  "\"invalid_api_key\"}}},\"error\":null}", "q-9", false, 401,
		  false, "invalid_api_key: Bad key", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-10\",\"response\":{"
		  "\"status_code\":403,\"body\":{\"error\":{\"message\":"
		  "\"You are not allowed to request logprobs\"}}},"
		  "\"error\":null}", "q-10", false, 403, false,
		  "status_code 403: You are not allowed", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-11\",\"response\":{"
		  "\"status_code\":408,\"body\":{}},\"error\":null}", "q-11",
		  false, 408, true, "status_code 408", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-12\",\"response\":{"
		  "\"status_code\":409,\"body\":{}},\"error\":null}", "q-12",
		  false, 409, true, "status_code 409", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-13\",\"response\":{"
		  "\"status_code\":503,\"body\":\"gateway\"},\"error\":null}",
		  "q-13", false, 503, true, "status_code 503", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-14\",\"response\":{"
		  "\"status_code\":404,\"body\":{\"error\":{\"message\":"
		  "\"no model\",\"type\":\"not_found_error\"}}},\"error\":"
		  "null}", "q-14", false, 404, false,
		  "not_found_error: no model", NULL },
		/* (c) the junk line */
		{ API_CHAT, "{\"id\":\"batch_req_6\",\"custom_id\":\"q-15\","
		  "\"response\":{\"status_code\":0,\"request_id\":\"\","
		  "\"body\":{}},\"error\":null}", "q-15", false, 0, true,
		  "status_code 0", NULL },
		/* 200 but nothing usable */
		{ API_CHAT, "{\"custom_id\":\"q-16\",\"response\":{"
		  "\"status_code\":200,\"body\":null},\"error\":null}", "q-16",
		  false, 200, true, "status_code 200: the response has no "
		  "body", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-17\",\"response\":{"
		  "\"status_code\":200},\"error\":null}", "q-17", false, 200,
		  true, "status_code 200", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-18\",\"response\":{"
		  "\"status_code\":200,\"body\":[1]},\"error\":null}", "q-18",
		  false, 200, true, "status_code 200", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-19\",\"response\":null,"
		  "\"error\":null}", "q-19", false, 0, true,
		  "no response: the line has no response", NULL },
		{ API_CHAT, "{\"custom_id\":\"q-20\"}", "q-20", false, 0, true,
		  "no response", NULL },
		/* a 200 with an error beside it is no success */
		{ API_CHAT, "{\"custom_id\":\"q-21\",\"response\":{"
		  "\"status_code\":200,\"body\":{\"choices\":[]}},\"error\":"
		  "{\"code\":\"server_error\",\"message\":\"late\"}}", "q-21",
		  false, 200, true, "server_error: late", NULL },
		/* a status as a string is no status */
		{ API_CHAT, "{\"custom_id\":\"q-22\",\"response\":{"
		  "\"status_code\":\"200\",\"body\":{}},\"error\":null}",
		  "q-22", false, 0, true, "status_code 0", NULL },
	};

	run_cases(c, ARRAY_SIZE(c));
}

/* vLLM run-batch: one ordered file, errors inline (BATCH.md 3). */
static void test_parse_vllm(void)
{
	static const struct rcase c[] = {
		{ API_CHAT, "{\"id\":\"vllm-1\",\"custom_id\":\"v-1\","
		  "\"response\":{\"status_code\":200,\"request_id\":"
		  "\"vllm-batch-1\",\"body\":{\"id\":\"chatcmpl-a\","
		  "\"choices\":[{\"index\":0,\"message\":{\"role\":"
		  "\"assistant\",\"content\":\"ok\"},\"stop_reason\":null}]}}"
		  ",\"error\":null}", "v-1", true, 200, false, NULL,
		  "{\"id\":\"chatcmpl-a\",\"choices\":[{\"index\":0,"
		  "\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
		  "\"stop_reason\":null}]}" },
		/* the engine's error, nested, its code the status */
		{ API_CHAT, "{\"id\":\"vllm-2\",\"custom_id\":\"v-2\","
		  "\"response\":{\"status_code\":404,\"request_id\":"
		  "\"vllm-batch-2\",\"body\":null},\"error\":{\"error\":{"
		  "\"message\":\"The model x does not exist.\",\"type\":"
		  "\"NotFoundError\",\"param\":null,\"code\":404}}}", "v-2",
		  false, 404, false,
		  "NotFoundError: The model x does not exist.", NULL },
		/* the older flat error object */
		{ API_CHAT, "{\"custom_id\":\"v-3\",\"response\":{"
		  "\"status_code\":400,\"body\":null},\"error\":{\"message\":"
		  "\"bad logprobs\",\"type\":\"BadRequestError\",\"param\":"
		  "null,\"code\":400}}", "v-3", false, 400, false,
		  "BadRequestError: bad logprobs", NULL },
		/* error as a string */
		{ API_CHAT, "{\"custom_id\":\"v-4\",\"response\":{"
		  "\"status_code\":400,\"request_id\":\"x\",\"body\":null},"
		  "\"error\":\"Streaming is not supported in batch mode\"}",
		  "v-4", false, 400, false, "status_code 400: Streaming is "
		  "not supported in batch mode", NULL },
		{ API_CHAT, "{\"custom_id\":\"v-5\",\"response\":{"
		  "\"status_code\":500,\"body\":null},\"error\":\"engine "
		  "died\"}", "v-5", false, 500, true,
		  "status_code 500: engine died", NULL },
	};

	run_cases(c, ARRAY_SIZE(c));
}

/* Anthropic results (BATCH.md 2.3). */
static void test_parse_anthropic(void)
{
	static const struct rcase c[] = {
		{ API_ANTHROPIC, "{\"custom_id\":\"a-1\",\"result\":{\"type\":"
		  "\"succeeded\",\"message\":{\"id\":\"msg_1\",\"type\":"
		  "\"message\",\"role\":\"assistant\",\"model\":\"c\","
		  "\"content\":[{\"type\":\"text\",\"text\":\"Hi \\u00e9\"}],"
		  "\"stop_reason\":\"end_turn\",\"stop_sequence\":null,"
		  "\"usage\":{\"input_tokens\":3,\"output_tokens\":2}}}}",
		  "a-1", true, 200, false, NULL,
		  "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":"
		  "\"assistant\",\"model\":\"c\",\"content\":[{\"type\":"
		  "\"text\",\"text\":\"Hi \xc3\xa9\"}],\"stop_reason\":"
		  "\"end_turn\",\"stop_sequence\":null,\"usage\":{"
		  "\"input_tokens\":3,\"output_tokens\":2}}" },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-2\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"details\":null,\"type\":\"invalid_request_error\","
		  "\"message\":\"max_tokens: too many\"},\"request_id\":"
		  "null}}}", "a-2", false, 400, false,
		  "invalid_request_error: max_tokens: too many", NULL },
		/* unwrapped one level */
		{ API_ANTHROPIC, "{\"custom_id\":\"a-3\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"overloaded_error\","
		  "\"message\":\"Overloaded\"}}}", "a-3", false, 529, true,
		  "overloaded_error: Overloaded", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-4\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"api_error\",\"message\":\"Internal\"},"
		  "\"request_id\":\"req_1\"}}}", "a-4", false, 500, true,
		  "api_error: Internal", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-5\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"rate_limit_error\",\"message\":\"later\"}}}}",
		  "a-5", false, 429, true, "rate_limit_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-6\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"timeout_error\",\"message\":\"slow\"}}}}",
		  "a-6", false, 504, true, "timeout_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-7\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"authentication_error\",\"message\":\"key\"}}}}",
		  "a-7", false, 401, false, "authentication_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-8\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"permission_error\",\"message\":\"no\"}}}}",
		  "a-8", false, 403, false, "permission_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-9\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"not_found_error\",\"message\":\"no\"}}}}",
		  "a-9", false, 404, false, "not_found_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-10\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"billing_error\",\"message\":\"pay\"}}}}",
		  "a-10", false, 402, false, "billing_error", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-11\",\"result\":{\"type\":"
		  "\"errored\",\"error\":{\"type\":\"error\",\"error\":{"
		  "\"type\":\"brand_new_error\",\"message\":\"?\"}}}}",
		  "a-11", false, 0, true, "brand_new_error: ?", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-12\",\"result\":{\"type\":"
		  "\"canceled\"}}", "a-12", false, 0, true, "canceled", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-13\",\"result\":{\"type\":"
		  "\"expired\"}}", "a-13", false, 0, true, "expired", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-14\",\"result\":{\"type\":"
		  "\"succeeded\"}}", "a-14", false, 0, true, "succeeded: the "
		  "result has no message", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-15\",\"result\":{\"type\":"
		  "\"archived\"}}", "a-15", false, 0, true,
		  "unknown result type 'archived'", NULL },
		{ API_ANTHROPIC, "{\"custom_id\":\"a-16\"}", "a-16", false, 0,
		  true, "unknown result type '(none)'", NULL },
	};

	run_cases(c, ARRAY_SIZE(c));
}

static void test_parse_bad_lines(void)
{
	static const char *const bad[] = {
		"", "not json", "[1,2]", "{\"custom_id\":7}",
		"{\"result\":{\"type\":\"expired\"}}", "{\"custom_id\":\"\"}",
		"{\"custom_id\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	static const char *const why[] = {
		"result line is not JSON", "result line is not JSON",
		"result line is not JSON", "result line has no custom_id",
		"result line has no custom_id", "result line has no custom_id",
		"result line's custom_id",
	};

	for (int api = 0; api <= API_ANTHROPIC; api += API_ANTHROPIC) {
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			struct batch_result r;
			struct err e = { "" };

			CHECK(batchapi_parse_result(api, bad[i], strlen(bad[i]),
						    &r, &e) == -1);
			CHECK(!strncmp(e.msg, why[i], strlen(why[i])));
		}
	}
	/* len bounds the line: a longer buffer is not read past it */
	{
		const char *s = "{\"custom_id\":\"k\",\"result\":{\"type\":"
				"\"expired\"}}TRAILING";
		struct batch_result r;
		struct err e;

		CHECK(batchapi_parse_result(API_ANTHROPIC, s,
					    strlen(s) - 8, &r, &e) == 0);
		CHECK_STR(r.custom_id, "k");
	}
}

TESTS(T(test_line_openai), T(test_line_paths), T(test_line_anthropic),
      T(test_new_refuses), T(test_custom_id), T(test_parse_openai),
      T(test_parse_vllm), T(test_parse_anthropic), T(test_parse_bad_lines))
