/*
 * test_config.c - the run configuration: defaults, YAML, environment,
 * validation, JSON, and every error message with its file:line:col.
 *
 * Fixtures are in tests/data/config/, named from the repository root (the
 * test runner starts there). Value and range cases are small enough to
 * write to a temporary file from a table here instead.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "http.h"
#include "ranking.h"
#include "harness.h"

#define DIR "tests/data/config/"

/* The secrets of these tests: neither may show in any output. */
#define CANARY_ENV "sk-CANARY-env-7f3a19"
#define CANARY_FILE "sk-CANARY-file-91b2c4"

static bool has_canary(const char *s)
{
	return s && (strstr(s, "CANARY") || strstr(s, "7f3a19") ||
		     strstr(s, "91b2c4"));
}

static void clear_env(void)
{
	unsetenv("OPENAI_BASE_URL");
	unsetenv("OPENAI_API_KEY");
	unsetenv("CAIGEN_TEST_POLICY_KEY");
	unsetenv("CAIGEN_TEST_UNSET_VAR");
}

/* Load one file into fresh defaults; the error message, or "" if none. */
static const char *load_msg(const char *path)
{
	static struct err e;
	struct config c;

	memset(&e, 0, sizeof(e));
	config_init(&c);
	if (config_load_yaml(&c, path, &e) == 0 && e.msg[0])
		snprintf(e.msg, sizeof(e.msg), "(success with a message)");
	config_release(&c);
	return e.msg;
}

/* Write text to a new temporary file; the caller unlinks and frees. */
static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/caigen-test-config-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		perror("write_tmp");
		exit(2);
	}
	close(fd);
	return path;
}

static char *dump(const struct config *c)
{
	json_t *j = config_to_json(c);
	char *s = json_dumps(j, JSON_INDENT(2));

	json_decref(j);
	return s;
}

static void test_defaults(void)
{
	struct config c;

	config_init(&c);
	CHECK(c.path == NULL);
	CHECK_STR(c.prompts, "datasets/sample/prompts.jsonl");
	CHECK_STR(c.out, "datasets/out");
	CHECK(c.seed == 1);
	CHECK(c.limit == 0);
	CHECK(c.mode == MODE_PREFERENCES);
	CHECK(c.nconstitutions == 1);
	CHECK_STR(c.constitutions[0], "constitution/harmless.yaml");
	CHECK(c.max_line_bytes == 1048576);

	CHECK_STR(c.policy.base_url, "http://127.0.0.1:8000/v1");
	CHECK_STR(c.policy.model, "policy");
	CHECK_STR(c.policy.api_key_env, "OPENAI_API_KEY");
	CHECK(c.policy.api_key_file == NULL);
	CHECK(c.policy.api_key == NULL);
	CHECK(c.policy.concurrency == 8);
	CHECK_NEAR(c.policy.timeout, 120, 0);
	CHECK_NEAR(c.policy.connect_timeout, 10, 0);
	CHECK(c.policy.max_attempts == 5);
	CHECK_NEAR(c.policy.temperature, 1.0, 0);
	CHECK_NEAR(c.policy.top_p, 1.0, 0);
	CHECK(c.policy.max_tokens == 512);
	CHECK(c.n == N_AUTO);

	CHECK_STR(c.judge.base_url, "http://127.0.0.1:8000/v1");
	CHECK_STR(c.judge.model, "judge");
	CHECK_STR(c.judge.api_key_env, "OPENAI_API_KEY");
	CHECK(c.judge.api_key_file == NULL);
	CHECK(c.judge.concurrency == 8);
	CHECK_NEAR(c.judge.timeout, 60, 0);
	CHECK_NEAR(c.judge.connect_timeout, 10, 0);
	CHECK(c.judge.max_attempts == 5);
	CHECK_NEAR(c.judge.temperature, 0, 0);
	CHECK_NEAR(c.judge.top_p, 1, 0);
	CHECK(c.judge.max_tokens == 1);
	CHECK(c.both_orders);
	CHECK(c.top_logprobs == 20);
	CHECK(c.scan_positions == 4);

	CHECK(c.jobs == 0);
	CHECK(!c.quiet);
	CHECK(c.progress_interval == 5);
	config_release(&c);
	CHECK(c.prompts == NULL && c.constitutions == NULL);
}

/* The defaults pass validation as they are. */
static void test_defaults_valid(void)
{
	struct config c;
	struct err e = { "" };

	config_init(&c);
	CHECK(config_validate(&c, &e) == 0);
	CHECK_STR(e.msg, "");
	config_release(&c);
}

static void test_full(void)
{
	struct config c;
	struct err e = { "" };

	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "full.yaml", &e) == 0);
	CHECK_STR(e.msg, "");
	CHECK_STR(c.path, DIR "full.yaml");
	CHECK_STR(c.prompts, "data/p.jsonl");
	CHECK_STR(c.out, "out/run1");
	CHECK(c.seed == 18446744073709551615ULL);
	CHECK(c.limit == 100);
	CHECK(c.mode == MODE_BOTH);
	CHECK(c.nconstitutions == 2);
	CHECK_STR(c.constitutions[0], "constitution/a.yaml");
	CHECK_STR(c.constitutions[1], "constitution/b.yaml");
	CHECK(c.max_line_bytes == 4096);

	CHECK_STR(c.policy.base_url, "https://api.example.com/v1");
	CHECK_STR(c.policy.model, "big-model");
	CHECK_STR(c.policy.api_key_env, "POLICY_KEY");
	CHECK_STR(c.policy.api_key_file, "keys/policy.txt");
	CHECK(c.policy.concurrency == 64);
	CHECK_NEAR(c.policy.timeout, 300.5, 0);
	CHECK_NEAR(c.policy.connect_timeout, 5, 0);
	CHECK(c.policy.max_attempts == 9);
	CHECK_NEAR(c.policy.temperature, 0.75, 0);
	CHECK_NEAR(c.policy.top_p, 0.5, 0);
	CHECK(c.policy.max_tokens == 2048);
	CHECK(c.n == N_TWO);

	CHECK_STR(c.judge.base_url, "http://judge.local:8080/v1");
	CHECK_STR(c.judge.model, "judge-model");
	CHECK_STR(c.judge.api_key_env, "JUDGE_KEY");
	CHECK(c.judge.api_key_file == NULL);
	CHECK(c.judge.concurrency == 16);
	CHECK_NEAR(c.judge.timeout, 30, 0);
	CHECK_NEAR(c.judge.connect_timeout, 2.5, 0);
	CHECK(c.judge.max_attempts == 3);
	CHECK_NEAR(c.judge.temperature, 0.25, 0);
	CHECK_NEAR(c.judge.top_p, 0.25, 0);
	CHECK(c.judge.max_tokens == 4);
	CHECK(!c.both_orders);
	CHECK(c.top_logprobs == 5);
	CHECK(c.scan_positions == 8);
	CHECK(config_validate(&c, &e) == 0);
	config_release(&c);
}

/* The manifest form: every setting, in table order, deterministic. */
static void test_json(void)
{
	static const char *const top[] = {
		"config_file", "prompts", "out", "seed", "limit", "mode",
		"rounds", "stop_after_refusals", "constitutions",
		"max_line_bytes", "prices",
		"loops", "max_cost", "batch_poll", "batch_prompts",
		"responses", "pairs", "binarize",
		"panel", "policy", "judge", "jobs", "quiet",
		"progress_interval",
	};
	static const char *const judge[] = {
		"base_url", "base_urls", "cooldown", "model", "api_key_env",
		"api_key_file", "concurrency", "timeout", "connect_timeout",
		"max_attempts", "backoff_base", "backoff_max",
		"stall_timeout", "requests_per_minute", "tokens_per_minute",
		"temperature", "top_p", "max_tokens", "api", "executor",
		"batch_max_requests", "batch_max_bytes", "http", "ca_file",
		"both_orders", "top_logprobs", "scan_positions", "cot", "cot_max_tokens",
		"clamp", "votes", "min_letter_mass", "calibration",
		"api_key_set",
	};
	struct config c;
	struct err e = { "" };
	json_t *j, *p;
	const char *k;
	json_t *v;
	size_t i = 0;
	char *a, *b;

	clear_env();
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "full.yaml", &e) == 0);
	j = config_to_json(&c);
	json_object_foreach(j, k, v) {
		CHECK(i < ARRAY_SIZE(top) && !strcmp(k, top[i]));
		i++;
	}
	CHECK(i == ARRAY_SIZE(top));
	i = 0;
	json_object_foreach(json_object_get(j, "judge"), k, v) {
		CHECK(i < ARRAY_SIZE(judge) && !strcmp(k, judge[i]));
		i++;
	}
	CHECK(i == ARRAY_SIZE(judge));
	/* a seed past 2^63-1 is a string: jansson's integers are signed */
	CHECK_STR(json_string_value(json_object_get(j, "seed")),
		  "18446744073709551615");
	CHECK_STR(json_string_value(json_object_get(j, "mode")), "both");
	p = json_object_get(j, "policy");
	CHECK_STR(json_string_value(json_object_get(p, "n")), "2");
	CHECK(json_is_false(json_object_get(p, "api_key_set")));
	CHECK(json_is_null(json_object_get(json_object_get(j, "judge"),
					   "api_key_file")));
	CHECK(json_real_value(json_object_get(p, "temperature")) == 0.75);
	CHECK(json_integer_value(json_object_get(j, "max_line_bytes")) ==
	      4096);
	CHECK(json_object_get(p, "api_key") == NULL);
	json_decref(j);

	a = dump(&c);
	b = dump(&c);
	CHECK_STR(a, b);
	free(a);
	free(b);
	c.seed = 12345;
	j = config_to_json(&c);
	CHECK(json_integer_value(json_object_get(j, "seed")) == 12345);
	json_decref(j);
	config_release(&c);
}

/* YAML over defaults; a second file over the first; the environment over
 * both; flags (set on the struct) over everything. */
static void test_precedence(void)
{
	struct config c;
	struct err e = { "" };

	clear_env();
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "partial.yaml", &e) == 0);
	CHECK(c.seed == 42);
	CHECK_STR(c.policy.base_url, "http://yaml-host:9000/v1");
	CHECK_NEAR(c.policy.temperature, 0.5, 0);
	CHECK_STR(c.judge.model, "yaml-judge");
	/* untouched keys keep their defaults, per section */
	CHECK_STR(c.judge.base_url, "http://127.0.0.1:8000/v1");
	CHECK_NEAR(c.judge.temperature, 0, 0);
	CHECK(c.policy.max_tokens == 512);
	CHECK_STR(c.prompts, "datasets/sample/prompts.jsonl");

	CHECK(config_load_yaml(&c, DIR "second.yaml", &e) == 0);
	CHECK(c.seed == 7);
	CHECK(c.nconstitutions == 1);
	CHECK_STR(c.constitutions[0], "constitution/only.yaml");
	CHECK_STR(c.judge.model, "yaml-judge");	/* `judge:` is empty */
	CHECK_STR(c.path, DIR "second.yaml");

	/* an empty OPENAI_BASE_URL is as good as unset */
	setenv("OPENAI_BASE_URL", "", 1);
	CHECK(config_apply_env(&c, false, &e) == 0);
	CHECK_STR(c.policy.base_url, "http://yaml-host:9000/v1");

	setenv("OPENAI_BASE_URL", "https://env-host/v1/", 1);
	CHECK(config_apply_env(&c, false, &e) == 0);
	CHECK_STR(c.policy.base_url, "https://env-host/v1");
	CHECK_STR(c.judge.base_url, "https://env-host/v1");

	/* flags, then validate: --jobs sets both concurrencies */
	c.jobs = 3;
	c.seed = 99;
	CHECK(config_validate(&c, &e) == 0);
	CHECK(c.policy.concurrency == 3);
	CHECK(c.judge.concurrency == 3);
	CHECK(c.seed == 99);
	config_release(&c);
	clear_env();
}

static void test_base_url_slash(void)
{
	struct config c;
	struct err e = { "" };

	config_init(&c);
	/* flags bypass the loader: validate strips the slash as well */
	config_set_str(&c.policy.base_url, "http://h:1/v1/");
	config_set_str(&c.judge.base_url, "http://h:1/");
	CHECK(config_validate(&c, &e) == 0);
	CHECK_STR(c.policy.base_url, "http://h:1/v1");
	CHECK_STR(c.judge.base_url, "http://h:1");
	/* once only, and never into the scheme */
	CHECK(config_validate(&c, &e) == 0);
	CHECK_STR(c.judge.base_url, "http://h:1");
	config_set_str(&c.judge.base_url, "http://");
	CHECK(config_validate(&c, &e) == 0);
	CHECK_STR(c.judge.base_url, "http://");
	config_release(&c);
}

static void test_constitutions_forms(void)
{
	struct config c;
	struct err e = { "" };

	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "constitutions_string.yaml", &e) == 0);
	CHECK(c.nconstitutions == 1);
	CHECK_STR(c.constitutions[0], "constitution/one.yaml");
	CHECK(config_load_yaml(&c, DIR "constitutions_flow.yaml", &e) == 0);
	CHECK(c.nconstitutions == 2);
	CHECK_STR(c.constitutions[0], "constitution/a.yaml");
	CHECK_STR(c.constitutions[1], "constitution/b c.yaml");
	/* a failed load leaves the old list whole */
	CHECK(config_load_yaml(&c, DIR "constitutions_item.yaml", &e) < 0);
	CHECK(c.nconstitutions == 2);
	CHECK_STR(c.constitutions[1], "constitution/b c.yaml");
	config_release(&c);
}

static void test_empty_file(void)
{
	struct config c;
	struct err e = { "" };

	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "empty.yaml", &e) == 0);
	CHECK_STR(c.policy.model, "policy");
	CHECK_STR(c.path, DIR "empty.yaml");
	config_release(&c);
}

/* Fixture errors: the file, and the whole message. */
static void test_file_errors(void)
{
	static const struct {
		const char *file, *msg;
	} cases[] = {
		{ "unknown_top.yaml", "3:1: unknown key 'promts' "
		  "(did you mean 'prompts'?)" },
		{ "unknown_policy.yaml", "4:3: unknown key 'temprature' in "
		  "'policy' (did you mean 'temperature'?)" },
		{ "unknown_judge.yaml", "2:3: unknown key 'both_order' in "
		  "'judge' (did you mean 'both_orders'?)" },
		{ "unknown_nohint.yaml", "2:3: unknown key 'frobnicate' in "
		  "'policy' (valid keys: base_url, base_urls, cooldown, "
		  "model, api_key_env, api_key_file, concurrency, timeout, "
		  "connect_timeout, max_attempts, backoff_base, backoff_max, "
		  "stall_timeout, requests_per_minute, tokens_per_minute, "
		  "temperature, top_p, max_tokens, api, executor, "
		  "batch_max_requests, batch_max_bytes, http, ca_file, n, "
		  "truncated, "
		  "identical, identical_resamples)" },
		{ "unknown_elsewhere.yaml", "3:3: unknown key 'top_logprobs' "
		  "in 'policy' (it goes in 'judge')" },
		{ "unknown_toplevel_key.yaml", "2:3: unknown key 'seed' in "
		  "'judge' (it goes at the top level)" },
		{ "api_key.yaml", "2:3: unknown key 'api_key' in 'judge' "
		  "(keys stay out of the file: name a variable with "
		  "'api_key_env' or a file with 'api_key_file')" },
		{ "flag_only.yaml", "2:1: 'jobs' can only be set on the "
		  "command line" },
		{ "dup_top.yaml", "3:1: duplicate key 'seed' (first at "
		  DIR "dup_top.yaml:1:1)" },
		{ "dup_policy.yaml", "4:3: duplicate key 'model' (first at "
		  DIR "dup_policy.yaml:2:3)" },
		{ "type_int.yaml", "5:16: 'concurrency' must be an integer, "
		  "got 'many'" },
		{ "policy_scalar.yaml", "1:9: 'policy' must be a mapping, "
		  "got 'fast'" },
		/* judge may be a list (a panel), policy may not */
		{ "policy_list.yaml", "3:3: 'policy' must be a mapping, "
		  "got a list" },
		{ "judge_list_scalar.yaml", "3:5: each judge of a panel must "
		  "be a mapping of judge keys, got 'j'" },
		{ "top_list.yaml", "1:1: the top level must be a mapping of "
		  "settings, got a list" },
		{ "key_not_mapping.yaml", "1:1: a key must be a string, "
		  "got a list" },
		{ "syntax.yaml", "4:2: did not find expected key (while "
		  "parsing a block mapping at 1:1)" },
		{ "syntax_flow.yaml", "2:5: did not find expected ',' or '}' "
		  "(while parsing a flow mapping at 1:9)" },
		{ "two_docs.yaml", "3:1: more than one YAML document (a run "
		  "config is one mapping)" },
		{ "constitutions_map.yaml", "3:3: 'constitutions' must be a "
		  "string or a list of strings, got a mapping" },
		{ "constitutions_item.yaml", "3:5: 'constitutions' must be a "
		  "string or a list of strings, got a list" },
		{ "constitutions_null.yaml", "1:15: 'constitutions' must be a "
		  "string or a list of strings, got nothing" },
		{ "constitutions_empty.yaml", "1:16: 'constitutions' must not "
		  "be an empty list" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *want = xasprintf(DIR "%s:%s", cases[i].file,
				       cases[i].msg);
		char *path = xasprintf(DIR "%s", cases[i].file);

		CHECK_STR(load_msg(path), want);
		free(want);
		free(path);
	}
}

static void test_missing_file(void)
{
	CHECK_STR(load_msg(DIR "no-such.yaml"),
		  "cannot open '" DIR "no-such.yaml': "
		  "No such file or directory");
	CHECK_STR(load_msg(DIR), "cannot read '" DIR "': Is a directory");
}

/* Values and ranges: YAML text, then the message after "path:". */
static void test_value_errors(void)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "policy:\n  concurrency: 0\n",
		  "2:16: 'concurrency' must be between 1 and 100000, got '0'" },
		{ "judge:\n  concurrency: 100001\n",
		  "2:16: 'concurrency' must be between 1 and 100000, "
		  "got '100001'" },
		{ "policy:\n  concurrency: 8.0\n",
		  "2:16: 'concurrency' must be an integer, got '8.0'" },
		{ "policy:\n  concurrency:\n",
		  "2:15: 'concurrency' must be an integer, got nothing" },
		{ "policy:\n  concurrency: [1]\n",
		  "2:16: 'concurrency' must be an integer, got a list" },
		{ "policy:\n  top_p: 1.5\n",
		  "2:10: 'top_p' must be between 0 and 1, got '1.5'" },
		{ "judge:\n  top_p: -0.5\n",
		  "2:10: 'top_p' must be between 0 and 1, got '-0.5'" },
		{ "policy:\n  temperature: 2.5\n",
		  "2:16: 'temperature' must be between 0 and 2, got '2.5'" },
		{ "policy:\n  temperature: hot\n",
		  "2:16: 'temperature' must be a number, got 'hot'" },
		{ "policy:\n  temperature: .nan\n",
		  "2:16: 'temperature' must be a number, got '.nan'" },
		{ "policy:\n  temperature: nan\n",
		  "2:16: 'temperature' must be a number, got 'nan'" },
		{ "policy:\n  max_tokens: 0\n",
		  "2:15: 'max_tokens' must be at least 1, got '0'" },
		{ "policy:\n  max_tokens: 3000000000\n",
		  "2:15: 'max_tokens' must be at most 2147483647, "
		  "got '3000000000'" },
		{ "judge:\n  max_attempts: 0\n",
		  "2:17: 'max_attempts' must be between 1 and 100, got '0'" },
		{ "judge:\n  max_attempts: 101\n",
		  "2:17: 'max_attempts' must be between 1 and 100, "
		  "got '101'" },
		{ "policy:\n  timeout: 0\n",
		  "2:12: 'timeout' must be greater than 0 and at most 86400, "
		  "got '0'" },
		{ "judge:\n  connect_timeout: -1\n",
		  "2:20: 'connect_timeout' must be greater than 0 and at most "
		  "86400, got '-1'" },
		{ "policy:\n  timeout: 1e9\n",
		  "2:12: 'timeout' must be greater than 0 and at most 86400, "
		  "got '1e9'" },
		{ "seed: -1\n",
		  "1:7: 'seed' must be an unsigned 64-bit integer, got '-1'" },
		{ "seed: 18446744073709551616\n",
		  "1:7: 'seed' must be an unsigned 64-bit integer, "
		  "got '18446744073709551616'" },
		{ "seed: 1.5\n",
		  "1:7: 'seed' must be an unsigned 64-bit integer, got '1.5'" },
		{ "limit: -1\n",
		  "1:8: 'limit' must be at least 0, got '-1'" },
		{ "limit: 99999999999999999999\n",
		  "1:8: 'limit' must be at most 9223372036854775807, "
		  "got '99999999999999999999'" },
		{ "max_line_bytes: 1023\n",
		  "1:17: 'max_line_bytes' must be between 1024 and "
		  "1073741824, got '1023'" },
		{ "max_line_bytes: 1073741825\n",
		  "1:17: 'max_line_bytes' must be between 1024 and "
		  "1073741824, got '1073741825'" },
		{ "judge:\n  top_logprobs: 21\n",
		  "2:17: 'top_logprobs' must be between 0 and 20, got '21'" },
		{ "judge:\n  top_logprobs: -1\n",
		  "2:17: 'top_logprobs' must be between 0 and 20, got '-1'" },
		{ "judge:\n  scan_positions: 0\n",
		  "2:19: 'scan_positions' must be between 1 and 16, got '0'" },
		{ "judge:\n  scan_positions: 17\n",
		  "2:19: 'scan_positions' must be between 1 and 16, "
		  "got '17'" },
		{ "mode: everything\n",
		  "1:7: 'mode' must be preferences, critiques or both, "
		  "got 'everything'" },
		{ "policy:\n  n: 3\n",
		  "2:6: 'n' must be auto, 1 or 2, got '3'" },
		{ "policy:\n  http: 3\n",
		  "2:9: 'http' must be auto, 1.1 or 2, got '3'" },
		{ "judge:\n  http: 2.0\n",
		  "2:9: 'http' must be auto, 1.1 or 2, got '2.0'" },
		{ "judge:\n  ca_file: tests/data/config/no-such-ca.pem\n",
		  "2:12: cannot read ca_file 'tests/data/config/no-such-ca.pem': "
		  "No such file or directory" },
		{ "policy:\n  ca_file: tests/data/config/key.txt\n",
		  "2:12: ca_file 'tests/data/config/key.txt' holds no "
		  "certificate (a PEM file with '-----BEGIN CERTIFICATE-----' "
		  "lines)" },
		{ "judge:\n  both_orders: maybe\n",
		  "2:16: 'both_orders' must be true or false, got 'maybe'" },
		{ "policy:\n  model: [a]\n",
		  "2:10: 'model' must be a string, got a list" },
		{ "policy:\n  model:\n",
		  "2:9: 'model' must be a string, got nothing" },
		{ "prompts: {a: 1}\n",
		  "1:10: 'prompts' must be a string, got a mapping" },
		{ "out: \"a\\0b\"\n",
		  "1:6: 'out' must not contain a NUL byte" },
		{ "model: x\n",
		  "1:1: unknown key 'model' (it goes in 'policy' or 'judge')" },
		{ "modle: x\n",
		  "1:1: unknown key 'modle' (did you mean 'mode'?)" },
		{ "policy:\n  modle: x\n",
		  "2:3: unknown key 'modle' in 'policy' "
		  "(did you mean 'model'?)" },
		{ "foo: 1\n",
		  "1:1: unknown key 'foo' (valid keys: prompts, prompt_field, prompt_format, out, seed, "
		  "limit, mode, rounds, stop_after_refusals, constitutions, "
		  "max_line_bytes, prices, loops, max_cost, batch_poll, "
		  "batch_prompts, responses, pairs, "
		  "binarize, panel, policy, "
		  "judge)" },
		{ "judge:\n  model: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n  model: y\n",
		  "3:3: duplicate key 'model' (first at %s:2:3)" },
		{ "policy:\n  temperature: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
		  "2:16: 'temperature' must be a number, got "
		  "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xx...'" },
		{ "seed: *nope\n", "1:7: found undefined alias" },
		{ "api_key: sk-x\n",
		  "1:1: unknown key 'api_key' (keys stay out of the file: "
		  "name a variable with 'api_key_env' or a file with "
		  "'api_key_file')" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *path = write_tmp(cases[i].yaml);
		char *tail = xasprintf(cases[i].msg, path);
		char *want = xasprintf("%s:%s", path, tail);
		const char *got = load_msg(path);

		if (strcmp(got, want))
			fprintf(stderr, "  case %zu\n", i);
		CHECK_STR(got, want);
		unlink(path);
		free(path);
		free(tail);
		free(want);
	}
}

/* Spellings a user may write that must load. */
static void test_values_accepted(void)
{
	struct config c;
	struct err e = { "" };
	char *path = write_tmp(
		"seed: 0\n"
		"limit: 0\n"
		"mode: critiques\n"
		"prompts: '123'\n"
		"policy:\n"
		"  n: 1\n"
		"  temperature: 2\n"
		"  top_p: 0\n"
		"  max_tokens: 1\n"
		"  concurrency: \"4096\"\n"
		"  timeout: 86400\n"
		"  api_key_env: ~\n"
		"  api_key_file:\n"
		"judge:\n"
		"  both_orders: OFF\n"
		"  top_logprobs: 0\n"
		"  scan_positions: 16\n"
		"  base_url: http://judge/\n"
		"  http: 1.1\n"
		"  ca_file: tests/data/config/ca.pem\n");

	config_init(&c);
	CHECK(config_load_yaml(&c, path, &e) == 0);
	CHECK_STR(e.msg, "");
	CHECK(c.seed == 0);
	CHECK(c.mode == MODE_CRITIQUES);
	CHECK_STR(c.prompts, "123");
	CHECK(c.n == N_ONE);
	CHECK_NEAR(c.policy.temperature, 2, 0);
	CHECK_NEAR(c.policy.top_p, 0, 0);
	CHECK(c.policy.concurrency == 4096);
	CHECK(c.policy.api_key_env == NULL);
	CHECK(c.policy.api_key_file == NULL);
	CHECK(!c.both_orders);
	CHECK(c.top_logprobs == 0);
	CHECK(c.scan_positions == 16);
	CHECK_STR(c.judge.base_url, "http://judge");
	CHECK(c.judge.http == HTTP_1_1 && c.policy.http == HTTP_AUTO);
	CHECK_STR(c.judge.ca_file, "tests/data/config/ca.pem");
	CHECK(c.policy.ca_file == NULL);
	CHECK(config_validate(&c, &e) == 0);
	config_release(&c);
	unlink(path);
	free(path);
}

/* Checks made after flags, which never went through the loader. */
static void test_validate_errors(void)
{
	struct config c;
	struct err e;

#define EXPECT_INVALID(setup, want) do { \
		config_init(&c); \
		memset(&e, 0, sizeof(e)); \
		setup; \
		CHECK(config_validate(&c, &e) < 0); \
		CHECK_STR(e.msg, want); \
		config_release(&c); \
	} while (0)

	EXPECT_INVALID(c.jobs = -1,
		       "jobs must be between 0 and 100000, got '-1'");
	EXPECT_INVALID(c.limit = -5, "limit must be at least 0, got '-5'");
	EXPECT_INVALID(c.policy.concurrency = 0,
		       "policy.concurrency must be between 1 and 100000, "
		       "got '0'");
	EXPECT_INVALID(c.judge.top_p = 2,
		       "judge.top_p must be between 0 and 1, got '2'");
	EXPECT_INVALID(c.policy.timeout = 0,
		       "policy.timeout must be greater than 0 and at most "
		       "86400, got '0'");
	EXPECT_INVALID(c.max_line_bytes = 1,
		       "max_line_bytes must be between 1024 and 1073741824, "
		       "got '1'");
	EXPECT_INVALID(config_set_str(&c.policy.base_url, "ftp://x/v1"),
		       "policy.base_url must start with http:// or "
		       "https://, got 'ftp://x/v1'");
	EXPECT_INVALID(config_set_str(&c.judge.base_url, "localhost:8000"),
		       "judge.base_url must start with http:// or "
		       "https://, got 'localhost:8000'");
	EXPECT_INVALID(config_set_str(&c.policy.model, ""),
		       "policy.model must not be empty");
	EXPECT_INVALID(config_set_str(&c.prompts, NULL),
		       "prompts must not be empty");
	EXPECT_INVALID(config_set_str(&c.out, ""), "out must not be empty");
	EXPECT_INVALID((free(c.constitutions[0]), c.nconstitutions = 0),
		       "constitutions must name at least one file");
	EXPECT_INVALID(c.mode = (enum run_mode)7, "mode has no valid value");
	{
		/* h2c (http: 2 on an http URL) needs a libcurl that can
		 * reuse its connections: 8.0.0 or later (http.h) */
		char why[160], want[400];

		if (!http_h2c_usable(why, sizeof(why))) {
			snprintf(want, sizeof(want), "policy.http: 2 on an "
				 "http:// URL is HTTP/2 without TLS (h2c), "
				 "and %s: use an https:// URL, or http: auto",
				 why);
			EXPECT_INVALID(c.policy.http = HTTP_2, want);
		} else {
			config_init(&c);
			c.policy.http = HTTP_2;
			CHECK(config_validate(&c, &e) == 0);
			config_release(&c);
		}
	}
#undef EXPECT_INVALID

	/* http: 2 on https is HTTP/2 through ALPN: any libcurl with it */
	config_init(&c);
	c.judge.http = HTTP_2;
	config_set_str(&c.judge.base_url, "https://judge.example/v1");
	CHECK(config_validate(&c, &e) == 0);
	config_release(&c);

	/* jobs = 0 leaves the concurrencies alone */
	config_init(&c);
	c.policy.concurrency = 5;
	CHECK(config_validate(&c, &e) == 0);
	CHECK(c.policy.concurrency == 5 && c.judge.concurrency == 8);
	config_release(&c);
}

static void test_check_file(void)
{
	struct err e = { "" };

	CHECK(config_check_file(DIR "full.yaml", &e) == 0);
	CHECK(config_check_file(DIR "empty.yaml", &e) == 0);
	CHECK(config_check_file(DIR "bad_url.yaml", &e) < 0);
	CHECK_STR(e.msg, DIR "bad_url.yaml: policy.base_url must start "
		  "with http:// or https://, got 'ftp://example.com/v1'");
	CHECK(config_check_file(DIR "empty_model.yaml", &e) < 0);
	CHECK_STR(e.msg, DIR "empty_model.yaml: judge.model must not be "
		  "empty");
	CHECK(config_check_file(DIR "unknown_policy.yaml", &e) < 0);
	CHECK_STR(e.msg, DIR "unknown_policy.yaml:4:3: unknown key "
		  "'temprature' in 'policy' (did you mean 'temperature'?)");
	CHECK(config_check_file(DIR "nope.yaml", &e) < 0);
	CHECK_STR(e.msg, "cannot open '" DIR "nope.yaml': "
		  "No such file or directory");
	/* it must not need any key */
	CHECK(config_check_file(DIR "keys.yaml", NULL) == 0);
}

static void test_keys(void)
{
	struct config c;
	struct err e = { "" };

	clear_env();
	setenv("CAIGEN_TEST_POLICY_KEY", CANARY_ENV "\n", 1);
	setenv("CAIGEN_TEST_UNSET_VAR", "not-used-file-wins", 1);
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "keys.yaml", &e) == 0);
	CHECK(config_apply_env(&c, true, &e) == 0);
	CHECK_STR(e.msg, "");
	CHECK_STR(c.policy.api_key, CANARY_ENV);	/* newline dropped */
	CHECK_STR(c.judge.api_key, CANARY_FILE);	/* file wins */
	/* applying again replaces, it does not leak */
	CHECK(config_apply_env(&c, true, &e) == 0);
	CHECK_STR(c.policy.api_key, CANARY_ENV);
	config_release(&c);
	CHECK(c.policy.api_key == NULL && c.judge.api_key == NULL);

	/* default variable */
	setenv("OPENAI_API_KEY", "sk-default", 1);
	config_init(&c);
	CHECK(config_apply_env(&c, true, &e) == 0);
	CHECK_STR(c.policy.api_key, "sk-default");
	CHECK_STR(c.judge.api_key, "sk-default");
	config_release(&c);
	clear_env();
}

static void test_keys_missing(void)
{
	struct config c;
	struct err e = { "" };

	clear_env();
	/* local servers need no key: not an error unless asked */
	config_init(&c);
	CHECK(config_apply_env(&c, false, &e) == 0);
	CHECK(c.policy.api_key == NULL && c.judge.api_key == NULL);
	CHECK(config_apply_env(&c, true, &e) < 0);
	CHECK_STR(e.msg, "environment variable 'OPENAI_API_KEY' is not set "
		  "(policy.api_key_env names it)");
	setenv("OPENAI_API_KEY", "", 1);	/* empty is unset */
	CHECK(config_apply_env(&c, true, &e) < 0);
	CHECK_STR(e.msg, "environment variable 'OPENAI_API_KEY' is not set "
		  "(policy.api_key_env names it)");
	config_set_str(&c.policy.api_key_env, "CAIGEN_TEST_POLICY_KEY");
	setenv("CAIGEN_TEST_POLICY_KEY", "k", 1);
	CHECK(config_apply_env(&c, true, &e) < 0);
	CHECK_STR(e.msg, "environment variable 'OPENAI_API_KEY' is not set "
		  "(judge.api_key_env names it)");
	config_set_str(&c.judge.api_key_env, NULL);
	CHECK(config_apply_env(&c, true, &e) < 0);
	CHECK_STR(e.msg, "no api key for 'judge': set judge.api_key_env or "
		  "judge.api_key_file");
	CHECK(config_apply_env(&c, false, &e) == 0);

	config_set_str(&c.judge.api_key_file, DIR "key_empty.txt");
	CHECK(config_apply_env(&c, false, &e) < 0);
	CHECK_STR(e.msg, "key file '" DIR "key_empty.txt' is empty");
	config_set_str(&c.judge.api_key_file, DIR);
	CHECK(config_apply_env(&c, false, &e) < 0);
	CHECK_STR(e.msg, "cannot read key file '" DIR "': not a regular "
		  "file");
	config_release(&c);

	/* a named file that is missing fails even without need_keys */
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "key_missing_file.yaml", &e) == 0);
	CHECK(config_apply_env(&c, false, &e) < 0);
	CHECK_STR(e.msg, "cannot read key file '" DIR "no-such-key.txt': "
		  "No such file or directory");
	config_release(&c);
	clear_env();
}

/*
 * The canary: with both secrets loaded, no output or error may hold
 * either, including the errors of keys that are malformed or pasted
 * where a variable name belongs.
 */
static void test_secrets_never_shown(void)
{
	static const char *const bad[] = {
		"unknown_policy.yaml", "type_int.yaml", "dup_top.yaml",
		"syntax.yaml", "api_key.yaml", "policy_scalar.yaml",
		"constitutions_map.yaml", "no-such.yaml",
	};
	struct config c;
	struct err e = { "" };
	char *s;

	clear_env();
	setenv("CAIGEN_TEST_POLICY_KEY", CANARY_ENV, 1);
	setenv("OPENAI_API_KEY", CANARY_ENV, 1);
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "keys.yaml", &e) == 0);
	CHECK(config_apply_env(&c, true, &e) == 0);
	CHECK(has_canary(c.policy.api_key) && has_canary(c.judge.api_key));
	s = dump(&c);
	CHECK(s && !has_canary(s));
	CHECK(s && strstr(s, "\"api_key_set\": true"));
	free(s);

	/* load errors over a struct that holds the keys */
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *path = xasprintf(DIR "%s", bad[i]);

		memset(&e, 0, sizeof(e));
		CHECK(config_load_yaml(&c, path, &e) < 0);
		CHECK(e.msg[0] && !has_canary(e.msg));
		free(path);
	}
	/* validation errors with the keys set */
	config_set_str(&c.policy.base_url, "ftp://x");
	CHECK(config_validate(&c, &e) < 0);
	CHECK(!has_canary(e.msg));
	config_release(&c);

	/* a key pasted into api_key_env is not echoed back */
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "key_pasted.yaml", &e) == 0);
	CHECK(config_apply_env(&c, true, &e) < 0);
	CHECK(e.msg[0] && !has_canary(e.msg));
	CHECK_STR(e.msg, "policy.api_key_env must be the name of an "
		  "environment variable (letters, digits, '_'), not the key "
		  "itself");
	CHECK(config_validate(&c, &e) < 0);
	CHECK(e.msg[0] && !has_canary(e.msg));
	CHECK(config_check_file(DIR "key_pasted.yaml", &e) < 0);
	CHECK(e.msg[0] && !has_canary(e.msg));
	config_release(&c);

	/* a key file of two lines, its first line the key */
	config_init(&c);
	CHECK(config_load_yaml(&c, DIR "key_bad_file.yaml", &e) == 0);
	CHECK(config_apply_env(&c, false, &e) < 0);
	CHECK(!has_canary(e.msg));
	CHECK_STR(e.msg, "key file '" DIR "key_multiline.txt' holds more "
		  "than one line or control characters");
	config_release(&c);

	/* a variable holding a control character */
	setenv("OPENAI_API_KEY", CANARY_ENV "\nX-Evil: 1", 1);
	config_init(&c);
	CHECK(config_apply_env(&c, false, &e) < 0);
	CHECK(!has_canary(e.msg));
	CHECK_STR(e.msg, "environment variable 'OPENAI_API_KEY' holds "
		  "control characters or only white space "
		  "(policy.api_key_env names it)");
	CHECK(c.policy.api_key == NULL);
	s = dump(&c);
	CHECK(s && !has_canary(s));
	free(s);
	config_release(&c);
	clear_env();
}

/* judge as a list: member 0 is judge; the others start from the
 * defaults, get their own keys, and a view with the run's settings. */
static void test_panel(void)
{
	char *path = write_tmp(
		"responses: 5\npairs: random:3\nbinarize: all-pairs\n"
		"panel: median\nseed: 9\n"
		"judge:\n"
		"  - {model: j0, cot: true, base_url: 'http://a:1/v1'}\n"
		"  - {model: j1, base_url: 'http://b:2/v1/', votes: 3,\n"
		"     api_key_env: CAIGEN_TEST_POLICY_KEY}\n"
		"  - {model: j2, api: anthropic}\n");
	char *many = write_tmp("judge: [{model: a}, {model: b}, {model: c}, "
			       "{model: d}, {model: e}, {model: f}, "
			       "{model: g}, {model: h}, {model: i}]\n");
	struct config c;
	struct err e = { "" };
	json_t *j;

	clear_env();
	setenv("CAIGEN_TEST_POLICY_KEY", "member-key", 1);
	config_init(&c);
	CHECK(config_load_yaml(&c, path, &e) == 0);
	CHECK(config_apply_env(&c, false, &e) == 0);
	c.jobs = 7;
	CHECK(config_validate(&c, &e) == 0);
	CHECK(c.responses == 5 && c.pairs_mode == PAIRS_RANDOM &&
	      c.pairs_m == 3 && c.binarize == BIN_ALL_PAIRS &&
	      c.panel == PANEL_MEDIAN);
	CHECK_STR(c.judge.model, "j0");
	CHECK(c.cot && c.nmembers == 2);
	CHECK_STR(c.member_views[0]->judge.model, "j1");
	CHECK_STR(c.member_views[0]->judge.base_url, "http://b:2/v1");
	CHECK_STR(c.member_views[0]->judge.api_key, "member-key");
	CHECK(c.member_views[0]->votes == 3 && !c.member_views[0]->cot);
	CHECK(c.member_views[0]->judge.concurrency == 7);
	CHECK(c.member_views[0]->seed == 9 &&
	      c.member_views[0]->responses == 5);
	CHECK(c.member_views[0]->nmembers == 0);
	CHECK_STR(c.member_views[1]->judge.base_url,
		  "https://api.anthropic.com/v1");
	CHECK_STR(ranking_role_endpoint(&c, ROLE_JUDGE + 2)->model, "j2");
	CHECK_STR(ranking_role_endpoint(&c, ROLE_JUDGE)->model, "j0");
	CHECK_STR(ranking_role_endpoint(&c, ROLE_JUDGE + 5)->model, "j0");
	j = config_to_json(&c);
	CHECK(json_array_size(json_object_get(j, "judge_panel")) == 2);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(j, "judge_panel"), 1), "model")), "j2");
	CHECK_STR(json_string_value(json_object_get(j, "pairs")),
		  "random:3");
	json_decref(j);
	config_release(&c);

	/* no panel: no judge_panel key */
	config_init(&c);
	j = config_to_json(&c);
	CHECK(json_object_get(j, "judge_panel") == NULL);
	json_decref(j);
	config_release(&c);

	config_init(&c);
	CHECK(config_load_yaml(&c, many, &e) < 0);
	CHECK(strstr(e.msg, "must name 1 to 8 judges, got 9") != NULL);
	config_release(&c);
	unsetenv("CAIGEN_TEST_POLICY_KEY");
	unlink(path);
	unlink(many);
	free(path);
	free(many);
}

/* Batch prices default to half the live ones; config_rates picks them
 * for a batch endpoint; a batch endpoint needs a batch API and one URL. */
static void test_batch(void)
{
	char *path = write_tmp(
		"prices:\n"
		"  m1: {input: 2, output: 8}\n"
		"  m2: {input: 4, output: 16, batch_output: 1}\n"
		"policy: {model: m1, executor: batch}\n"
		"judge: {model: m2}\n");
	char *bad1 = write_tmp("judge: {executor: batch, api: completions}\n");
	char *bad2 = write_tmp("policy: {executor: batch, base_urls: "
			       "[http://a/v1, http://b/v1]}\n");
	char *bad3 = write_tmp("judge: {executor: bulk}\n");
	struct config c;
	struct err e = { "" };
	double in = -1, out = -1;

	clear_env();
	config_init(&c);
	CHECK(config_load_yaml(&c, path, &e) == 0);
	CHECK(config_validate(&c, &e) == 0);
	CHECK(c.policy.executor == EXEC_BATCH && c.judge.executor == EXEC_LIVE);
	CHECK(config_rates(&c, &c.policy, &in, &out));
	CHECK(fabs(in - 1e-6) < 1e-15 && fabs(out - 4e-6) < 1e-15);
	CHECK(config_rates(&c, &c.judge, &in, &out));	/* live: full */
	CHECK(fabs(in - 4e-6) < 1e-15 && fabs(out - 16e-6) < 1e-15);
	c.judge.executor = EXEC_BATCH;	/* batch_output given, input half */
	CHECK(config_rates(&c, &c.judge, &in, &out));
	CHECK(fabs(in - 2e-6) < 1e-15 && fabs(out - 1e-6) < 1e-15);
	config_set_str(&c.judge.model, "unpriced");
	CHECK(!config_rates(&c, &c.judge, &in, &out));
	config_release(&c);

	config_init(&c);
	CHECK(config_load_yaml(&c, bad1, &e) == 0);
	CHECK(config_validate(&c, &e) < 0);
	CHECK(strstr(e.msg, "judge.executor: batch needs api: chat") != NULL);
	config_release(&c);
	config_init(&c);
	CHECK(config_load_yaml(&c, bad2, &e) == 0);
	CHECK(config_validate(&c, &e) < 0);
	CHECK(strstr(e.msg, "give base_url, not base_urls") != NULL);
	config_release(&c);
	config_init(&c);
	CHECK(config_load_yaml(&c, bad3, &e) < 0);
	CHECK(strstr(e.msg, "executor") != NULL);
	config_release(&c);
	unlink(path);
	unlink(bad1);
	unlink(bad2);
	unlink(bad3);
	free(path);
	free(bad1);
	free(bad2);
	free(bad3);
}

TESTS(
	T(test_defaults),
	T(test_defaults_valid),
	T(test_full),
	T(test_json),
	T(test_precedence),
	T(test_base_url_slash),
	T(test_constitutions_forms),
	T(test_empty_file),
	T(test_file_errors),
	T(test_missing_file),
	T(test_value_errors),
	T(test_values_accepted),
	T(test_validate_errors),
	T(test_check_file),
	T(test_keys),
	T(test_keys_missing),
	T(test_secrets_never_shown),
	T(test_panel),
	T(test_batch),
)
