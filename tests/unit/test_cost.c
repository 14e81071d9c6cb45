/* test_cost.c - the price table (config.c `prices`) and cost.c's sums. */
#include "harness.h"

#include "config.h"
#include "cost.h"

#include <stdlib.h>
#include <unistd.h>

/* A config from YAML text (written to a temp file and loaded). */
static int load(struct config *c, const char *yaml, struct err *e)
{
	char path[] = "/tmp/caigen-test-cost-XXXXXX";
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, yaml, strlen(yaml)) < 0) {
		perror("load");
		exit(1);
	}
	close(fd);
	config_init(c);
	rc = config_load_yaml(c, path, e);
	unlink(path);
	return rc;
}

static void test_price_lookup(void)
{
	struct config c;
	struct err e = { "" };

	CHECK(load(&c, "prices:\n  a: {input: 1.5, output: 3}\n"
		   "  'b/c:7b': {output: 0, input: 0}\n", &e) == 0);
	CHECK(c.nprices == 2);
	CHECK(config_price(&c, "a") && config_price(&c, "a")->input == 1.5 &&
	      config_price(&c, "a")->output == 3);
	CHECK(config_price(&c, "b/c:7b") &&
	      config_price(&c, "b/c:7b")->output == 0);
	CHECK(!config_price(&c, "A"));
	CHECK(!config_price(&c, NULL));
	config_release(&c);
	CHECK(c.prices == NULL && c.nprices == 0);
}

static void test_cost_sums(void)
{
	struct config c;
	struct err e = { "" };
	struct chat_usage u[2] = { { 1000000, 2000000 }, { 500000, 10 } };
	json_t *j;

	CHECK(load(&c, "policy:\n  model: p\njudge:\n  model: j\n"
		   "prices:\n  p: {input: 1, output: 2}\n"
		   "  j: {input: 4, output: 1000000}\n", &e) == 0);
	/* 1 + 4 for the policy, 2 + 10 for the judge */
	CHECK_NEAR(cost_usd(&c, u), 17, 1e-9);
	j = cost_models_json(&c, u);
	CHECK(json_integer_value(json_object_get(json_object_get(j, "p"),
						 "completion_tokens")) == 2000000);
	CHECK_NEAR(json_real_value(json_object_get(json_object_get(j, "j"),
						   "cost_usd")), 12, 1e-9);
	json_decref(j);
	config_release(&c);
}

/* No row for a model that used tokens: unknown, not zero. A model that
 * used none needs no row. */
static void test_cost_unknown(void)
{
	struct config c;
	struct err e = { "" };
	struct chat_usage used[2] = { { 10, 10 }, { 10, 10 } };
	struct chat_usage judge_idle[2] = { { 10, 10 }, { 0, 0 } };
	json_t *j;

	CHECK(load(&c, "policy:\n  model: p\njudge:\n  model: j\n"
		   "prices:\n  p: {input: 1, output: 1}\n", &e) == 0);
	CHECK(isnan(cost_usd(&c, used)));
	CHECK_NEAR(cost_usd(&c, judge_idle), 20e-6, 1e-12);
	j = cost_models_json(&c, used);
	CHECK(json_is_null(json_object_get(json_object_get(j, "j"),
					   "cost_usd")));
	json_decref(j);
	config_release(&c);
}

/* Policy and judge on one model: one row with both roles' tokens. */
static void test_same_model(void)
{
	struct config c;
	struct err e = { "" };
	struct chat_usage u[2] = { { 1, 2 }, { 30, 40 } };
	json_t *j, *row;

	CHECK(load(&c, "policy:\n  model: m\njudge:\n  model: m\n"
		   "prices:\n  m: {input: 1000000, output: 0}\n", &e) == 0);
	j = cost_models_json(&c, u);
	CHECK(json_object_size(j) == 1);
	row = json_object_get(j, "m");
	CHECK(json_integer_value(json_object_get(row, "prompt_tokens")) == 31);
	CHECK(json_integer_value(json_object_get(row, "completion_tokens")) ==
	      42);
	CHECK_NEAR(json_real_value(json_object_get(row, "cost_usd")), 31,
		   1e-9);
	CHECK_NEAR(cost_usd(&c, u), 31, 1e-9);
	json_decref(j);
	config_release(&c);
}

/* A later file replaces the whole table; null empties it; the manifest
 * form lists it. */
static void test_prices_json(void)
{
	struct config c;
	struct err e = { "" };
	json_t *j;

	CHECK(load(&c, "prices:\n  a: {input: 1, output: 2}\n", &e) == 0);
	j = config_to_json(&c);
	CHECK_NEAR(json_real_value(json_object_get(json_object_get(
		json_object_get(j, "prices"), "a"), "output")), 2, 0);
	json_decref(j);
	config_release(&c);
	CHECK(load(&c, "prices: null\n", &e) == 0);
	CHECK(c.nprices == 0);
	config_release(&c);
}

static void test_price_errors(void)
{
	static const struct {
		const char *yaml, *msg;
	} cases[] = {
		{ "prices: [a]\n", "'prices' must be a mapping" },
		{ "prices:\n  a: 3\n", "the price of 'a' must be a mapping" },
		{ "prices:\n  a: {input: 1}\n", "needs both 'input' and" },
		{ "prices:\n  a: {input: 1, output: -2}\n",
		  "'output' of 'a' must be a number" },
		{ "prices:\n  a: {input: .inf, output: 2}\n",
		  "'input' of 'a' must be a number" },
		{ "prices:\n  a: {input: 1, output: 2, cached: 1}\n",
		  "unknown key 'cached' in the price of 'a'" },
		{ "prices:\n  a: {input: 1, input: 2, output: 2}\n",
		  "duplicate key 'input'" },
		{ "prices:\n  a: {input: 1, output: 2}\n  a: {input: 1, "
		  "output: 2}\n", "model 'a' is priced twice" },
		{ "prices:\n  '': {input: 1, output: 2}\n",
		  "must be a non-empty string" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct config c;
		struct err e = { "" };

		CHECK(load(&c, cases[i].yaml, &e) < 0);
		if (!strstr(e.msg, cases[i].msg)) {
			fprintf(stderr, "  case %zu: '%s'\n", i, e.msg);
			harness_failed = 1;
		}
		config_release(&c);
	}
}

TESTS(T(test_price_lookup), T(test_cost_sums), T(test_cost_unknown),
      T(test_same_model), T(test_prices_json), T(test_price_errors))
