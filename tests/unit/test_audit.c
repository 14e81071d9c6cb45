/*
 * test_audit.c - the audit's tallies, fed record lines directly: label
 * behaviour (position bias, order disagreement, near ties, clamping),
 * critique lengths, duplicate ids, unreadable lines, text matching of
 * Hugging Face records.
 */
#include "harness.h"
#include "audit.h"

#include <stdlib.h>
#include <unistd.h>

static void add(struct audit *a, const char *line)
{
	audit_add_line(a, line, strlen(line));
}

/* A preference record under principle `pr` with the two orders' p_a. */
static void pref(struct audit *a, const char *id, const char *pr,
		 double p, double ab, double ba, const char *extra)
{
	char *s = xasprintf("{\"schema\":\"caigen.preference/1\",\"id\":"
		"\"%s\",\"p\":%.17g,\"principle\":{\"id\":\"%s\",\"tags\":"
		"[\"t\"]},\"judgments\":[{\"order\":\"AB\",\"p_a\":%.17g,"
		"\"other_mass\":0.02,\"method\":\"logprobs\"},{\"order\":"
		"\"BA\",\"p_a\":%.17g,\"other_mass\":0.04,\"method\":\"%s\""
		"%s}],\"models\":{\"judge\":\"J\"}}", id, p, pr, ab, ba,
		extra ? "cot" : "logprobs", extra ? extra : "");

	add(a, s);
	free(s);
}

static double num(json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return json_is_number(o) ? json_number_value(o) : NAN;
}

static void test_position_bias(void)
{
	struct audit *a = audit_new();
	json_t *r, *lab;

	pref(a, "1", "x", 0.56, 0.7, 0.6, NULL);	/* A wins both */
	pref(a, "2", "x", 0.44, 0.3, 0.2, NULL);	/* B wins both */
	pref(a, "3", "x", 0.75, 0.7, 0.2, NULL);	/* consistent */
	pref(a, "4", "x", 0.40, 0.5, 0.7, NULL);	/* one tie */
	pref(a, "5", "y", 0.50, 0.5, 0.5, NULL);	/* two ties: agree */
	r = audit_report(a);
	lab = json_object_get(json_object_get(r, "overall"), "labels");
	CHECK_NEAR(num(lab, "pairs", NULL, NULL), 5, 0);
	CHECK_NEAR(num(lab, "position_bias", NULL, NULL), 0.4, 1e-12);
	CHECK_NEAR(num(lab, "position_bias_a", NULL, NULL), 0.2, 1e-12);
	CHECK_NEAR(num(lab, "position_bias_b", NULL, NULL), 0.2, 1e-12);
	CHECK_NEAR(num(lab, "order_disagreement", NULL, NULL), 0.6, 1e-12);
	CHECK_NEAR(num(lab, "slot_a_wins", "AB", NULL), 0.4, 1e-12);
	CHECK_NEAR(num(lab, "slot_a_wins", "BA", NULL), 0.4, 1e-12);
	/* |p_a(AB) - (1 - p_a(BA))|: 0.3, 0.5, 0.1, 0.2, 0 */
	CHECK_NEAR(num(lab, "mean_order_gap", NULL, NULL), 0.22, 1e-12);
	CHECK_NEAR(num(lab, "mean_other_mass", NULL, NULL), 0.03, 1e-12);
	CHECK_NEAR(num(lab, "mean_p", NULL, NULL), 0.53, 1e-12);
	/* |p - 0.5| < 0.05: 0.5 only */
	CHECK_NEAR(num(lab, "near_tie_rate", NULL, NULL), 0.2, 1e-12);
	/* per principle: x has the four biased/tied ones */
	lab = json_object_get(json_array_get(json_object_get(r,
		"principles"), 0), "labels");
	CHECK_STR(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "principles"), 0), "id")), "x");
	CHECK_NEAR(num(lab, "position_bias", NULL, NULL), 0.5, 1e-12);
	json_decref(r);
	audit_free(a);
}

static void test_clamped_and_methods(void)
{
	struct audit *a = audit_new();
	json_t *r, *lab;

	pref(a, "1", "x", 0.6, 0.7, 0.5, ",\"p_raw\":0.9");	/* clamped */
	pref(a, "2", "x", 0.6, 0.7, 0.5, ",\"p_raw\":0.5");	/* same */
	pref(a, "3", "x", 0.6, 0.7, 0.5, ",\"clamped\":true");
	add(a, "{\"schema\":\"caigen.preference/1\",\"id\":\"4\",\"p\":0.6,"
	       "\"p_raw\":0.99,\"principle\":{\"id\":\"x\"}}");
	r = audit_report(a);
	lab = json_object_get(json_object_get(r, "overall"), "labels");
	CHECK_NEAR(num(lab, "clamped", NULL, NULL), 3, 0);
	CHECK_NEAR(num(lab, "methods", "logprobs", NULL), 3, 0);
	CHECK_NEAR(num(lab, "methods", "cot", NULL), 3, 0);
	CHECK_NEAR(num(lab, "n", NULL, NULL), 4, 0);
	CHECK_NEAR(num(lab, "pairs", NULL, NULL), 3, 0);
	json_decref(r);
	audit_free(a);
}

/* A record with the given responses, p and per-order (method,
 * other_mass, low flag). */
static void pref_len(struct audit *a, const char *id, const char *pr,
		     const char *r0, const char *r1, double p,
		     const char *m2, double other2, bool low2)
{
	char *s = xasprintf("{\"schema\":\"caigen.preference/1\",\"id\":"
		"\"%s\",\"p\":%.17g,\"responses\":[\"%s\",\"%s\"],"
		"\"principle\":{\"id\":\"%s\"},\"judgments\":[{\"order\":"
		"\"AB\",\"p_a\":0.5,\"other_mass\":0.1,\"method\":"
		"\"logprobs\"},{\"order\":\"BA\",\"p_a\":0.5,\"other_mass\":"
		"%.17g,\"method\":\"%s\"%s}]}", id, p, r0, r1, pr, other2, m2,
		low2 ? ",\"low_letter_mass\":true" : "");

	add(a, s);
	free(s);
}

static void test_length_and_letter_mass(void)
{
	/* 40 code points, of which the "é"s are 2 bytes each: 31 code
	 * points is over the 30 limit, 30 is not */
	const char *l40 = "abcdefghijabcdefghijabcdefghijabcdefghij";
	const char *l31 = "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
			  "\u00e9\u00e9\u00e9abcdefghijabcdefghijk";
	struct audit *a = audit_new();
	json_t *r, *lab, *ps;
	FILE *f;
	char *text = NULL;
	size_t n = 0;

	/* x: the longer first (31 vs 0), the judge prefers it: 1 */
	pref_len(a, "1", "x", l31, "", 0.8, "logprobs", 0.7, true);
	/* x: the longer second (0 vs 40), the judge prefers the first: 0 */
	pref_len(a, "2", "x", "", l40, 0.9, "logprobs", 0.3, false);
	/* y: a tie on a long pair counts half */
	pref_len(a, "3", "y", "", l40, 0.5, "text", 0.0, false);
	/* y: 40 vs 10, only 30 apart: not a length pair */
	pref_len(a, "4", "y", l40, l40 + 30, 0.1, "votes", 0.0, false);
	/* y: the longer first, preferred: 1 */
	pref_len(a, "5", "y", l40, "", 0.7, "logprobs", 0.5, false);
	r = audit_report(a);
	lab = json_object_get(json_object_get(r, "overall"), "labels");
	CHECK_NEAR(num(lab, "length_pairs", NULL, NULL), 4, 0);
	CHECK_NEAR(num(lab, "prefers_longer", NULL, NULL), 2.5 / 4, 1e-12);
	/* logprobs judgments: every AB at 0.9; BA 0.3, 0.7, 0.5 */
	CHECK_NEAR(num(lab, "letter_mass_n", NULL, NULL), 8, 0);
	CHECK_NEAR(num(lab, "mean_letter_mass", NULL, NULL),
		   (0.9 * 5 + 0.3 + 0.7 + 0.5) / 8, 1e-12);
	CHECK_NEAR(num(lab, "low_letter_mass", NULL, NULL), 1, 0);
	ps = json_object_get(r, "principles");
	lab = json_object_get(json_array_get(ps, 0), "labels");
	CHECK_NEAR(num(lab, "length_pairs", NULL, NULL), 2, 0);
	CHECK_NEAR(num(lab, "prefers_longer", NULL, NULL), 0.5, 1e-12);
	CHECK_NEAR(num(lab, "mean_letter_mass", NULL, NULL),
		   (0.9 * 2 + 0.3 + 0.7) / 4, 1e-12);
	lab = json_object_get(json_array_get(ps, 1), "labels");
	CHECK_NEAR(num(lab, "prefers_longer", NULL, NULL), 0.75, 1e-12);
	CHECK_NEAR(num(lab, "mean_letter_mass", NULL, NULL),
		   (0.9 * 3 + 0.5) / 4, 1e-12);
	/* the text report has both columns and the count */
	f = open_memstream(&text, &n);
	audit_print_text(r, f);
	fclose(f);
	CHECK(strstr(text, "letters") && strstr(text, "longer"));
	CHECK(strstr(text, "62.5%") && strstr(text, "75.0%"));
	CHECK(strstr(text, "low_letter_mass: 1 of 8"));
	free(text);
	json_decref(r);
	audit_free(a);
}

static void test_health(void)
{
	struct audit *a = audit_new();
	json_t *r, *h;

	pref(a, "1", "x", 0.6, 0.7, 0.5, NULL);
	pref(a, "1", "x", 0.6, 0.7, 0.5, NULL);
	pref(a, "2", "x", 0.6, 0.7, 0.5, NULL);
	/* the same id in a critique record is no duplicate */
	add(a, "{\"schema\":\"caigen.critique/1\",\"id\":\"1\","
	       "\"initial\":\"abcd\",\"rounds\":[]}");
	add(a, "{\"schema\":\"caigen.critique/1\",\"id\":\"1\","
	       "\"initial\":\"abcd\",\"rounds\":[]}");
	add(a, "{\"broken\": ");
	add(a, "[1, 2]");
	add(a, "{\"schema\":\"caigen.other/9\"}");
	add(a, "");
	add(a, "\n");
	r = audit_report(a);
	h = json_object_get(r, "health");
	CHECK_NEAR(num(h, "records", NULL, NULL), 8, 0);
	CHECK_NEAR(num(h, "preference", NULL, NULL), 3, 0);
	CHECK_NEAR(num(h, "critique", NULL, NULL), 2, 0);
	CHECK_NEAR(num(h, "duplicate_ids", NULL, NULL), 2, 0);
	CHECK_NEAR(num(h, "invalid_lines", NULL, NULL), 2, 0);
	CHECK_NEAR(num(h, "unrecognized", NULL, NULL), 1, 0);
	json_decref(r);
	audit_free(a);
}

static void test_critique_lengths(void)
{
	struct audit *a = audit_new();
	json_t *r, *c, *p;

	/* rounds 4 -> 10 -> 6 bytes; messages lists count their last
	 * content */
	add(a, "{\"schema\":\"caigen.critique/1\",\"id\":\"c1\","
	       "\"initial\":\"abcd\",\"models\":{\"policy\":\"P\"},"
	       "\"rounds\":[{\"principle\":{\"id\":\"k1\",\"tags\":[\"q\"]},"
	       "\"revision\":\"0123456789\"},{\"principle\":{\"id\":\"k2\"},"
	       "\"revision\":[{\"role\":\"assistant\",\"content\":"
	       "\"abcdef\"}]}]}");
	r = audit_report(a);
	c = json_object_get(json_object_get(r, "overall"), "critiques");
	CHECK_NEAR(num(c, "records", NULL, NULL), 1, 0);
	CHECK_NEAR(num(c, "rounds", NULL, NULL), 2, 0);
	CHECK_NEAR(num(c, "mean_rounds", NULL, NULL), 2, 0);
	CHECK_NEAR(num(c, "mean_len_before", NULL, NULL), 7, 1e-12);
	CHECK_NEAR(num(c, "mean_len_after", NULL, NULL), 8, 1e-12);
	CHECK_NEAR(num(c, "mean_len_initial", NULL, NULL), 4, 1e-12);
	CHECK_NEAR(num(c, "mean_len_final", NULL, NULL), 6, 1e-12);
	p = json_array_get(json_object_get(r, "principles"), 0);
	CHECK_STR(json_string_value(json_object_get(p, "id")), "k1");
	CHECK_NEAR(num(p, "coverage", "critique", "draws"), 1, 0);
	CHECK_NEAR(num(p, "critiques", "mean_len_before", NULL), 4, 0);
	CHECK_NEAR(num(p, "critiques", "mean_len_after", NULL), 10, 0);
	CHECK_NEAR(num(r, "coverage", "critique", "draws"), 2, 0);
	json_decref(r);
	audit_free(a);
}

static void test_hf_text_match(void)
{
	char path[] = "/tmp/test_audit.XXXXXX";
	int fd = mkstemp(path);
	static const char yaml[] =
		"name: t\nversion: 1\nprinciples:\n"
		"  - id: alpha\n    tags: [a]\n    weight: 3\n"
		"    critique: \"Point out harm.\"\n    revise: \"Fix it.\"\n"
		"  - id: beta\n    critique: \"Point out lies.\"\n"
		"    revise: \"Fix it.\"\n";
	struct audit *a = audit_new();
	struct err err;
	json_t *r, *ps;

	CHECK(fd >= 0 && write(fd, yaml, sizeof(yaml) - 1) ==
	      (ssize_t)sizeof(yaml) - 1);
	close(fd);
	CHECK(audit_add_constitution(a, path, &err) == 0);
	unlink(path);
	add(a, "{\"critic_prompt\":\"  Point out harm.\\n\","
	       "\"init_response\":\"abc\",\"revision_response\":\"abcdef\"}");
	add(a, "{\"critic_prompt\":\"Point out harm.\","
	       "\"init_response\":\"abc\",\"revision_response\":\"abcdef\"}");
	add(a, "{\"critic_prompt\":\"Something else.\","
	       "\"init_response\":\"abc\",\"revision_response\":\"abcdef\"}");
	r = audit_report(a);
	ps = json_object_get(r, "principles");
	CHECK(json_array_size(ps) == 3);
	CHECK_NEAR(num(json_array_get(ps, 0), "coverage", "critique",
		       "draws"), 2, 0);
	CHECK_NEAR(num(json_array_get(ps, 0), "coverage", "critique",
		       "expected_share"), 0.75, 1e-12);
	CHECK(!strncmp(json_string_value(json_object_get(
		json_array_get(ps, 2), "id")), "text-", 5));
	CHECK_STR(json_string_value(json_object_get(json_array_get(ps, 2),
						    "text")),
		  "Something else.");
	CHECK_NEAR(num(r, "health", "hf", NULL), 3, 0);
	CHECK_NEAR(num(r, "health", "unmatched_texts", NULL), 1, 0);
	/* beta never drawn; the unmatched text is not in the test */
	CHECK_STR(json_string_value(json_array_get(json_object_get(
		json_object_get(json_object_get(r, "coverage"), "critique"),
		"never_drawn"), 0)), "beta");
	CHECK_NEAR(num(r, "coverage", "critique", "known_draws"), 2, 0);
	json_decref(r);
	audit_free(a);
}

TESTS(T(test_position_bias), T(test_clamped_and_methods),
      T(test_length_and_letter_mass), T(test_health),
      T(test_critique_lengths), T(test_hf_text_match))
