/*
 * test_agree.c - agree.h: a panel's members against each other and
 * against the combined label, counted by hand on three comparisons.
 */
#include "agree.h"
#include "harness.h"

static json_t *cmp(double p, double a, double b, double c)
{
	return json_pack("{s:[ii],s:f,s:[{s:i,s:s,s:f},{s:i,s:s,s:f},"
			 "{s:i,s:s,s:f}]}", "pair", 0, 1, "p", p, "panel",
			 "member", 0, "model", "a", "p", a,
			 "member", 1, "model", "b", "p", b,
			 "member", 2, "model", "c", "p", c);
}

static double at(json_t *o, const char *arr, size_t i, const char *key)
{
	return json_number_value(json_object_get(json_array_get(
		json_object_get(o, arr), i), key));
}

static void test_counts(void)
{
	struct agree g;
	json_t *c[3] = { cmp(0.7, 0.8, 0.9, 0.4), cmp(0.3, 0.2, 0.6, 0.1),
			 cmp(0.5, 0.5, 0.5, 0.9) };
	json_t *single = json_pack("{s:[ii],s:f,s:[]}", "pair", 0, 1, "p",
				   0.5, "judgments");
	json_t *r;

	agree_init(&g);
	for (int i = 0; i < 3; i++)
		agree_add(&g, c[i]);
	agree_add(&g, single);	/* no panel: not counted */
	r = agree_json(&g);
	CHECK(json_integer_value(json_object_get(r, "comparisons")) == 3);
	CHECK(json_array_size(json_object_get(r, "members")) == 3);
	/* with the panel: a 3/3 (ties agree), b 2/3, c 1/3 */
	CHECK_NEAR(at(r, "members", 0, "with_panel"), 1.0, 1e-12);
	CHECK_NEAR(at(r, "members", 1, "with_panel"), 2.0 / 3, 1e-12);
	CHECK_NEAR(at(r, "members", 2, "with_panel"), 1.0 / 3, 1e-12);
	/* pairs in order (0,1), (0,2), (1,2): a-b 2/3, a-c 1/3, b-c 0 */
	CHECK_NEAR(at(r, "pairs", 0, "agreement"), 2.0 / 3, 1e-12);
	CHECK_NEAR(at(r, "pairs", 1, "agreement"), 1.0 / 3, 1e-12);
	CHECK_NEAR(at(r, "pairs", 2, "agreement"), 0, 1e-12);
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "pairs"), 2), "model_b")), "c");
	json_decref(r);
	for (int i = 0; i < 3; i++)
		json_decref(c[i]);
	json_decref(single);
	agree_release(&g);
	r = agree_json(&g);
	CHECK(json_is_null(r));
	json_decref(r);
}

static void test_side(void)
{
	CHECK(agree_side(0.51) == 1 && agree_side(0.49) == -1 &&
	      agree_side(0.5) == 0);
}

TESTS(T(test_counts), T(test_side))
