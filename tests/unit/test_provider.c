/*
 * test_provider.c - request bodies and reply readers of every API flavour
 * (provider.h, flavour.h), on reply bodies shaped like the real servers'
 * in tests/data/wire/, and the answer-letter reading on them (judge.h).
 * Tests run from the repo root.
 */
#include "config.h"
#include "flavour.h"
#include "http.h"
#include "judge.h"
#include "provider.h"

#include "harness.h"

#include <stdlib.h>

#define W "tests/data/wire/"

static char *slurp(const char *path)
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
	}
	fclose(f);
	return s;
}

/* Parse a fixture with flavour api; 0 on success. */
static int parse(int api, const char *file, struct chat_reply *r,
		 struct err *err)
{
	char *body = slurp(file);
	int rc;

	CHECK(body != NULL);
	if (!body)
		return -1;
	rc = provider_parse(api, body, true, r, err);
	free(body);
	return rc;
}

/* Legacy dict logprobs: variants summed (" A", Cyrillic Ve for B), the
 * -9999.0 sentinel read as no mass. */
static void test_completions_legacy(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_COMPLETIONS, W "completions_legacy_letter.json", &r,
		    &err) == 0);
	CHECK_STR(r.text[0], "A");
	CHECK(r.n == 1);
	CHECK(r.usage.prompt_tokens == 203);
	CHECK(r.logprobs[0] != NULL);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.mass_a, 0.8, 1e-12);
	CHECK_NEAR(j.mass_b, 0.15, 1e-12);
	CHECK_NEAR(j.p_a, 0.8 / 0.95, 1e-12);
	CHECK_NEAR(j.other_mass, 0.05, 1e-12);
	CHECK_STR(j.method, "logprobs");
	chat_reply_release(&r);
}

/* The sampled token is not in the top list (as in OpenAI's real "ada"
 * reply): its value comes from token_logprobs. */
static void test_completions_sampled_outside(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_COMPLETIONS, W "completions_legacy_sampled_outside."
		    "json", &r, &err) == 0);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.mass_b, 0.125, 1e-12);
	CHECK_NEAR(j.mass_a, 0.8125, 1e-12);
	CHECK_NEAR(j.p_a, 0.8125 / 0.9375, 1e-12);
	CHECK(j.position == 0);
	chat_reply_release(&r);
}

/* llama.cpp answers /v1/completions with chat-style logprobs and its
 * -3.4e38 sentinel. */
static void test_completions_llamacpp(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_COMPLETIONS, W "completions_llamacpp_chatstyle.json",
		    &r, &err) == 0);
	CHECK_STR(r.text[0], "B");
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.p_a, 0.1, 1e-12);
	CHECK_NEAR(j.other_mass, 0.0, 1e-12);
	chat_reply_release(&r);
}

static void test_completions_no_logprobs(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_COMPLETIONS, W "completions_no_logprobs.json", &r,
		    &err) == 0);
	CHECK(r.logprobs[0] == NULL);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) < 0);
	CHECK(strstr(err.msg, "no logprobs") != NULL);
	chat_reply_release(&r);
}

/* vLLM lists the sampled token twice: counted once. A Cyrillic A counts
 * for A. */
static void test_chat_duplicates(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_CHAT, W "chat_duplicates_cyrillic.json", &r,
		    &err) == 0);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.mass_a, 0.65, 1e-12);
	CHECK_NEAR(j.p_a, 0.65 / 0.95, 1e-12);
	chat_reply_release(&r);
}

/* A recorded reply with no logprobs key at all: no logprobs, and the
 * text method still reads the letter. */
static void test_chat_missing_key(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_CHAT, W "chat_logprobs_key_missing.json", &r,
		    &err) == 0);
	CHECK(r.logprobs[0] == NULL);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) < 0);
	CHECK(judge_read_text(r.text[0], &j, &err) == 0);
	CHECK(j.p_a == 0.0);
	CHECK_STR(j.method, "text");
	chat_reply_release(&r);
}

/* Anthropic: text blocks joined, others skipped; usage names. */
static void test_anthropic_reply(void)
{
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(parse(API_ANTHROPIC, W "anthropic_message_blocks.json", &r,
		    &err) == 0);
	CHECK_STR(r.text[0], "B) because it is kinder.");
	CHECK_STR(r.finish[0], "end_turn");
	CHECK(r.usage.prompt_tokens == 412);
	CHECK(r.usage.completion_tokens == 9);
	CHECK(r.logprobs[0] == NULL);
	CHECK(judge_read_text(r.text[0], &j, &err) == 0);
	CHECK(j.p_a == 0.0);
	chat_reply_release(&r);
}

static void test_anthropic_errors(void)
{
	struct chat_reply r;
	struct err err;

	CHECK(parse(API_ANTHROPIC, W "anthropic_error_overloaded.json", &r,
		    &err) < 0);
	CHECK(strstr(err.msg, "Servers are busy") != NULL);
	CHECK(parse(API_ANTHROPIC, W "anthropic_no_text.json", &r, &err) < 0);
	CHECK(strstr(err.msg, "no text") != NULL);
	CHECK(provider_parse(API_ANTHROPIC, "{\"content\":", true, &r, &err) < 0);
}

/* Reasoning models' refusals are recognised from the message http.c
 * reports; ordinary 400s are not. */
static void test_refusals(void)
{
	char msg[512], *b;

	b = slurp(W "openai_logprobs_refused_403.json");
	http_error_message(b, msg, sizeof(msg));
	CHECK(provider_refuses_logprobs(msg));
	free(b);
	b = slurp(W "openai_logprobs_reasoning_400.json");
	http_error_message(b, msg, sizeof(msg));
	CHECK(provider_refuses_logprobs(msg));
	free(b);
	CHECK(!provider_refuses_logprobs("Invalid 'top_logprobs': integer "
					 "above maximum value"));
	CHECK(!provider_refuses_logprobs(NULL));
}

static void test_bodies(void)
{
	json_t *msgs = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s}]",
		"role", "system", "content", "be fair",
		"role", "user", "content", "which?",
		"role", "assistant", "content", "(");
	struct chat_params p = {
		.model = "m", .messages = msgs, .temperature = 1.5,
		.top_p = 1, .max_tokens = 7, .n = 2, .has_seed = true,
		.seed = 5, .logprobs = true, .top_logprobs = 20,
	};
	json_t *o;
	size_t len;
	char *s;

	p.api = API_ANTHROPIC;
	s = provider_body(&p, &len);
	o = json_loads(s, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o, "system")),
		  "be fair");
	CHECK(json_array_size(json_object_get(o, "messages")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(o, "messages"), 1), "role")), "assistant");
	CHECK(json_integer_value(json_object_get(o, "max_tokens")) == 7);
	CHECK(json_real_value(json_object_get(o, "temperature")) == 1.0);
	CHECK(!json_object_get(o, "n") && !json_object_get(o, "logprobs") &&
	      !json_object_get(o, "seed"));
	json_decref(o);
	free(s);

	p.api = API_COMPLETIONS;
	p.prompt = "Question... The answer is: (";
	s = provider_body(&p, &len);
	o = json_loads(s, 0, NULL);
	CHECK(json_integer_value(json_object_get(o, "logprobs")) == 5);
	CHECK_STR(json_string_value(json_object_get(o, "prompt")),
		  "Question... The answer is: (");
	CHECK(!json_object_get(o, "messages"));
	json_decref(o);
	free(s);
	p.prompt = NULL;	/* the messages as turns, prefill left open */
	s = provider_body(&p, &len);
	o = json_loads(s, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o, "prompt")),
		  "be fair\n\nUser: which?\n\nAssistant: (");
	json_decref(o);
	free(s);

	s = provider_url("http://h/v1", API_ANTHROPIC);
	CHECK_STR(s, "http://h/v1/messages");
	free(s);
	s = provider_url("http://h/v1", API_COMPLETIONS);
	CHECK_STR(s, "http://h/v1/completions");
	free(s);
	s = provider_key_header(API_ANTHROPIC, "k1");
	CHECK_STR(s, "x-api-key: k1");
	provider_free_secret(s);
	s = provider_key_header(API_CHAT, "k1");
	CHECK_STR(s, "Authorization: Bearer k1");
	provider_free_secret(s);
	CHECK_STR(provider_fixed_header(API_ANTHROPIC),
		  "anthropic-version: 2023-06-01");
	CHECK(provider_fixed_header(API_CHAT) == NULL);
	json_decref(msgs);
}

/* A logprob above 0 (found by fuzzing: 7873245) counts as certainty, not
 * as an infinite mass that would make p_a NaN. */
static void test_positive_logprob(void)
{
	static const char body[] = "{\"choices\":[{\"text\":\"A\",\"logprobs\":"
		"{\"tokens\":[\"A\"],\"token_logprobs\":[7873245],"
		"\"top_logprobs\":[{\"A\":7873245,\" B\":-2.302585092994046}]}"
		"}]}";
	struct chat_reply r;
	struct judgment j = { 0 };
	struct err err;

	CHECK(provider_parse(API_COMPLETIONS, body, true, &r, &err) == 0);
	CHECK(judge_read_logprobs(r.logprobs[0], 4, &j, &err) == 0);
	CHECK_NEAR(j.p_a, 1.0 / 1.1, 1e-12);
	chat_reply_release(&r);
}

static void test_read_text(void)
{
	struct judgment j = { 0 };
	struct err err;

	CHECK(judge_read_text("A)", &j, &err) == 0 && j.p_a == 1.0);
	CHECK(judge_read_text("**B**", &j, &err) == 0 && j.p_a == 0.0);
	CHECK(judge_read_text("The answer is (A).", &j, &err) == 0 &&
	      j.p_a == 1.0 && j.position == 3);
	CHECK(judge_read_text("\xd0\x90", &j, &err) == 0 && j.p_a == 1.0);
	CHECK(judge_read_text("Neither reply is good", &j, &err) < 0);
	CHECK(judge_read_text("", &j, &err) < 0);
	CHECK_NEAR(judge_clamp(0.01, 0.4, 0.6), 0.4, 0);
	CHECK_NEAR(judge_clamp(0.99, 0.4, 0.6), 0.6, 0);
	CHECK_NEAR(judge_clamp(0.5, 0.4, 0.6), 0.5, 0);
}

TESTS(T(test_completions_legacy), T(test_completions_sampled_outside),
      T(test_completions_llamacpp), T(test_completions_no_logprobs),
      T(test_chat_duplicates), T(test_chat_missing_key),
      T(test_anthropic_reply), T(test_anthropic_errors), T(test_refusals),
      T(test_bodies), T(test_positive_logprob), T(test_read_text))
