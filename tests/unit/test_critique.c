/*
 * test_critique.c - few-shot dialogues in constitutions, the critique
 * templates, and the critique record's fields (critique.h). The rounds
 * against a model server are tested end to end
 * (tests/e2e/pipeline_critiques.sh). Tests run from the repo root.
 */
#include "config.h"
#include "constitution.h"
#include "critique.h"

#include "harness.h"

#include <stdlib.h>

#define D "tests/data/import/"

static void test_fewshot_load(void)
{
	struct constitution c;
	struct err err;
	json_t *m;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "fewshot.yaml", &err) == 0);
	CHECK(c.nfewshot == 2);
	m = critique_fewshot_messages(&c);
	CHECK(json_array_size(m) == 12);
	CHECK_STR(json_string_value(json_object_get(json_array_get(m, 0),
						    "role")), "user");
	CHECK_STR(json_string_value(json_object_get(json_array_get(m, 5),
						    "role")), "assistant");
	CHECK_STR(json_string_value(json_object_get(json_array_get(m, 6),
						    "content")),
		  "Who will win the match?");
	json_decref(m);
	constitution_release(&c);
}

static void test_fewshot_errors(void)
{
	struct constitution c;
	struct err err;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "fewshot_missing.yaml", &err) < 0);
	CHECK(strstr(err.msg, "fewshot_missing.yaml:7:5: fewshot dialogue "
		     "is missing 'critique_request'") != NULL);
	CHECK(c.n == 0 && c.nfewshot == 0);	/* left as it was */
	constitution_release(&c);
}

static void test_render(void)
{
	char *s = critique_render("{{x}} {principle} / {conversation}!",
				  "P", "User: hi");

	CHECK_STR(s, "{x} P / User: hi!");
	free(s);
	s = critique_render("{principle}", "only", "ignored");
	CHECK_STR(s, "only");
	free(s);
}

/* A two-round chain built by hand: the record carries every field, the
 * HF ones from the last round. */
static void test_record(void)
{
	struct constitution c;
	struct config cfg;
	struct err err;
	struct prompt pr = { 7, "q7", "Tell me a fact.", NULL };
	struct critique_round rounds[2];
	struct critique_chain ch = { 0 };
	json_t *o;
	char *line;

	constitution_init(&c);
	config_init(&cfg);
	CHECK(constitution_load(&c, D "fewshot.yaml", &err) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_CRITIQUE, &err) == 0);
	pr.messages = json_pack("[{s:s,s:s}]", "role", "user", "content",
				"Tell me a fact.");
	for (int k = 0; k < 2; k++) {
		rounds[k].pr = &c.p[0];
		rounds[k].critique_request = k ? "cr2" : "cr1";
		rounds[k].critique = k ? "c2" : "c1";
		rounds[k].revision_request = k ? "rr2" : "rr1";
		rounds[k].revision = k ? "r2" : "r1";
	}
	ch.initial = "init";
	ch.rounds = rounds;
	ch.nrounds = 2;
	ch.messages = json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "user",
				"content", "Tell me a fact.", "role",
				"assistant", "content", "init");
	line = critique_record(&cfg, &pr, &ch);
	o = json_loads(line, 0, NULL);
	CHECK_STR(json_string_value(json_object_get(o, "schema")),
		  "caigen.critique/1");
	CHECK(json_integer_value(json_object_get(o, "index")) == 7);
	CHECK(json_array_size(json_object_get(o, "rounds")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_object_get(
		json_array_get(json_object_get(o, "rounds"), 1), "principle"),
		"id")), "fs-honest");
	CHECK_STR(json_string_value(json_object_get(o, "revision")), "r2");
	CHECK_STR(json_string_value(json_object_get(o, "init_prompt")),
		  "Tell me a fact.");
	CHECK_STR(json_string_value(json_object_get(o, "init_response")),
		  "init");
	CHECK_STR(json_string_value(json_object_get(o, "critic_prompt")),
		  "cr2");
	CHECK_STR(json_string_value(json_object_get(o, "critic_response")),
		  "c2");
	CHECK_STR(json_string_value(json_object_get(o, "revision_prompt")),
		  "rr2");
	CHECK_STR(json_string_value(json_object_get(o,
						    "revision_response")),
		  "r2");
	CHECK(json_array_size(json_object_get(o, "chosen")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(o, "chosen"), 1), "content")), "r2");
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(o, "rejected"), 1), "content")), "init");
	CHECK_STR(json_string_value(json_object_get(o, "prompt")),
		  "Tell me a fact.");
	json_decref(o);
	free(line);
	json_decref(ch.messages);
	json_decref(pr.messages);
	config_release(&cfg);
	constitution_release(&c);
}

TESTS(T(test_fewshot_load), T(test_fewshot_errors), T(test_render),
      T(test_record))
