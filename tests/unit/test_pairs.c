/*
 * test_pairs.c - the pairs reader on fixtures in tests/data/pairs/ (our own
 * texts in the shapes of TRL, hh-rlhf, UltraFeedback-binarized, caigen,
 * the CAI HHH evaluation and MT-Bench human judgments).
 */
#include "harness.h"
#include "label.h"
#include "pairs.h"

#include <stdlib.h>
#include <unistd.h>

#define D "tests/data/pairs/"

/* Read the whole file: up to max pairs into out[], rejects' lines and
 * reasons into rl[]/rr[]. */
struct got {
	struct pair p[16];
	size_t np;
	size_t rl[16];
	char *rr[16];
	size_t nr;
};

static void read_all(const char *path, enum pairs_format f, struct got *g)
{
	struct err err;
	struct pairs *r = pairs_open(path, f, 0, &err);
	enum pairs_status st;
	struct pair p;
	size_t line;
	char *reason;

	memset(g, 0, sizeof(*g));
	CHECK(r != NULL);
	if (!r)
		return;
	while ((st = pairs_next(r, &p, &line, &reason, &err)) != PAIRS_EOF &&
	       st != PAIRS_ERROR) {
		if (st == PAIRS_OK && g->np < 16)
			g->p[g->np++] = p;
		else if (st == PAIRS_REJECT && g->nr < 16) {
			g->rl[g->nr] = line;
			g->rr[g->nr++] = reason;
		}
	}
	CHECK(st == PAIRS_EOF);
	pairs_close(r);
}

static void got_release(struct got *g)
{
	for (size_t i = 0; i < g->np; i++)
		pair_release(&g->p[i]);
	for (size_t i = 0; i < g->nr; i++)
		free(g->rr[i]);
}

static const char *msg(const struct pair *p, size_t i, const char *what)
{
	return json_string_value(json_object_get(json_array_get(p->messages,
								i), what));
}

static void test_trl_shapes(void)
{
	struct got g;

	read_all(D "trl.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 5 && g.nr == 0);
	if (g.np != 5)
		goto out;
	/* explicit string prompt */
	CHECK_STR(g.p[0].text, "The kettle is");
	CHECK_STR(g.p[0].resp[0], " boiling.");
	CHECK_STR(g.p[0].resp[1], " a fish.");
	CHECK(g.p[0].label == PAIR_FIRST);
	CHECK(g.p[0].format == PAIRS_TRL);
	CHECK(g.p[0].index == 0);
	CHECK(g.p[0].id[0] == 'p' && strlen(g.p[0].id) == 17);
	CHECK_STR(msg(&g.p[0], 0, "role"), "user");
	/* implicit: the common prefix, its trailing space to the replies */
	CHECK_STR(g.p[1].text, "Rain falls");
	CHECK_STR(g.p[1].resp[0], " down.");
	CHECK_STR(g.p[1].resp[1], " up.");
	/* conversational explicit */
	CHECK_STR(g.p[2].id, "conv-explicit");
	CHECK(g.p[2].text == NULL);
	CHECK_STR(msg(&g.p[2], 0, "content"), "Name a prime.");
	CHECK_STR(g.p[2].resp[0], "Seven.");
	/* conversational implicit, integer id, subset tag */
	CHECK_STR(g.p[3].id, "42");
	CHECK(json_array_size(g.p[3].messages) == 1);
	CHECK_STR(msg(&g.p[3], 0, "content"), "Capital of Peru?");
	CHECK_STR(g.p[3].resp[1], "Cusco.");
	CHECK_STR(json_string_value(json_array_get(g.p[3].tags, 0)), "geo");
	/* the blank line is skipped; index is the line number */
	CHECK(g.p[4].index == 5);
	CHECK(json_array_size(g.p[4].tags) == 1);	/* 7 is no tag */
	CHECK_STR(json_string_value(json_array_get(g.p[4].tags, 0)),
		  "greeting");
out:
	got_release(&g);
}

static void test_hh(void)
{
	struct got g;

	read_all(D "hh.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 2 && g.nr == 0);
	if (g.np != 2)
		goto out;
	CHECK(g.p[0].format == PAIRS_HH);
	CHECK(json_array_size(g.p[0].messages) == 3);
	CHECK_STR(msg(&g.p[0], 0, "content"), "How do I boil an egg?");
	CHECK_STR(msg(&g.p[0], 1, "role"), "assistant");
	CHECK_STR(msg(&g.p[0], 1, "content"),
		  "Put it in boiling water for nine minutes.");
	CHECK_STR(msg(&g.p[0], 2, "content"), "And soft?");
	CHECK_STR(g.p[0].resp[0], "About six minutes.");
	CHECK_STR(g.p[0].resp[1], "Eggs cannot be soft.");
	CHECK(g.p[0].label == PAIR_FIRST);
	CHECK_STR(g.p[1].resp[1], "No.");
out:
	got_release(&g);
}

static void test_ultrafeedback(void)
{
	struct got g;

	read_all(D "ultrafeedback.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 2 && g.nr == 0);
	if (g.np != 2)
		goto out;
	CHECK(g.p[0].format == PAIRS_ULTRAFEEDBACK);
	CHECK(json_array_size(g.p[0].messages) == 1);
	CHECK_STR(g.p[0].resp[0], "Jupiter is the largest planet.");
	CHECK_STR(g.p[0].resp[1], "Mars.");
	CHECK(g.p[0].label == PAIR_FIRST);
	CHECK(g.p[1].label == PAIR_TIE);	/* equal scores */
out:
	got_release(&g);
}

static void test_caigen_records(void)
{
	struct got g;

	read_all(D "caigen.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 2 && g.nr == 0);
	if (g.np != 2)
		goto out;
	CHECK(g.p[0].format == PAIRS_CAIGEN);
	CHECK_STR(g.p[0].id, "c1");
	CHECK_STR(g.p[0].resp[0], "Fish cry.");
	CHECK(g.p[0].label == PAIR_SECOND);	/* its chosen_index */
	CHECK(g.p[1].text == NULL);
	CHECK(g.p[1].label == PAIR_TIE);	/* its reference wins */
	CHECK_STR(json_string_value(json_array_get(g.p[1].tags, 0)), "x");
out:
	got_release(&g);
}

static void test_hhh_and_mtbench(void)
{
	struct got g;

	read_all(D "hhh.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 1 && g.p[0].format == PAIRS_HHH);
	if (g.np == 1) {
		CHECK_STR(g.p[0].resp[0], "I would rather help you study for "
			  "it; here is a plan.");
		CHECK(g.p[0].label == PAIR_FIRST);
		CHECK_STR(msg(&g.p[0], 0, "content"),
			  "Can you help me cheat on a test?");
	}
	got_release(&g);

	read_all(D "mtbench.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 2 && g.nr == 1);
	if (g.np == 2) {
		CHECK(g.p[0].format == PAIRS_MTBENCH);
		CHECK(g.p[0].label == PAIR_SECOND);
		CHECK_STR(g.p[0].id, "mt-81-model-x-model-y-expert_1");
		CHECK_STR(g.p[0].resp[0], "Tea.");
		CHECK(json_array_size(g.p[0].messages) == 1);
		CHECK(g.p[1].label == PAIR_TIE);	/* tie (bothbad) */
	}
	if (g.nr == 1) {
		CHECK(g.rl[0] == 3);
		CHECK(strstr(g.rr[0], "turn 1") != NULL);
	}
	got_release(&g);
}

static void test_bad_lines(void)
{
	static const struct { size_t line; const char *has; } want[] = {
		{ 1, "identical replies" },
		{ 2, "invalid JSON at column" },
		{ 3, "not a JSON object" },
		{ 4, "'chosen' is not a string" },
		{ 5, "no common prompt" },
		{ 7, "duplicate id 'd'" },
		{ 8, "same conversation" },
		{ 9, "unknown winner 'model_c'" },
		{ 10, "replies differ before the last Assistant turn" },
	};
	struct got g;

	read_all(D "bad.jsonl", PAIRS_AUTO, &g);
	CHECK(g.np == 1);	/* line 6 */
	CHECK(g.nr == ARRAY_SIZE(want));
	for (size_t i = 0; i < g.nr && i < ARRAY_SIZE(want); i++) {
		CHECK(g.rl[i] == want[i].line);
		if (!strstr(g.rr[i], want[i].has)) {
			fprintf(stderr, "  line %zu: '%s'\n", g.rl[i],
				g.rr[i]);
			CHECK(0);
		}
	}
	got_release(&g);
}

static void test_forced_format_and_names(void)
{
	struct got g;

	/* forcing hh-rlhf on TRL lines rejects those that are not strings
	 * of transcripts */
	read_all(D "trl.jsonl", PAIRS_HH, &g);
	CHECK(g.np == 0 && g.nr == 5);
	got_release(&g);
	CHECK(pairs_format_parse("hh-rlhf") == PAIRS_HH);
	CHECK(pairs_format_parse("mt-bench") == PAIRS_MTBENCH);
	CHECK(pairs_format_parse("nope") == -1);
	CHECK_STR(pairs_format_name(PAIRS_ULTRAFEEDBACK), "ultrafeedback");
}

static void test_long_line_and_open_error(void)
{
	char path[] = "/tmp/caigen-pairs-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct err err;
	struct pairs *r;
	struct pair p;
	size_t line;
	char *reason;

	fputs("{\"prompt\":\"", f);
	for (int i = 0; i < 300; i++)
		fputc('x', f);
	fputs("\",\"chosen\":\"a\",\"rejected\":\"b\"}\r\n", f);
	fputs("{\"prompt\":\"q\",\"chosen\":\"a\",\"rejected\":\"b\"}\r\n",
	      f);
	fclose(f);
	r = pairs_open(path, PAIRS_AUTO, 100, &err);
	CHECK(pairs_next(r, &p, &line, &reason, &err) == PAIRS_REJECT);
	CHECK(line == 1 && strstr(reason, "longer than 100 bytes"));
	free(reason);
	CHECK(pairs_next(r, &p, &line, &reason, &err) == PAIRS_OK);
	CHECK_STR(p.resp[1], "b");	/* CR dropped */
	pair_release(&p);
	CHECK(pairs_next(r, &p, &line, &reason, &err) == PAIRS_EOF);
	CHECK(pairs_stats(r)->ok == 1 && pairs_stats(r)->rejected == 1);
	pairs_close(r);
	unlink(path);
	CHECK(pairs_open("/nonexistent/x.jsonl", PAIRS_AUTO, 0, &err) == NULL);
	CHECK(strstr(err.msg, "cannot open '/nonexistent/x.jsonl'") != NULL);
}

/* The feed of caigen label: a seeded swap per id, and the reference
 * member naming the preferred reply where it ended up. */
static void test_label_feed(void)
{
	struct label_feed lf;
	struct err err;
	struct prompt pr;
	struct reject rj;
	char *resp[2], *extra;
	int swapped = 0, kept = 0;

	for (unsigned long long seed = 1; seed <= 8; seed++) {
		CHECK(label_feed_open(&lf, D "trl.jsonl", PAIRS_AUTO, 0, seed,
				      &err) == 0);
		for (int i = 0; i < 5; i++) {
			bool sw;
			json_t *ref;
			char *obj;

			extra = NULL;
			CHECK(lf.feed.next(lf.feed.ctx, &pr, resp, &extra, &rj,
					   &err) == PROMPTS_OK);
			sw = label_swapped(seed, pr.id);
			swapped += sw;
			kept += !sw;
			obj = xasprintf("{%s}", extra);
			ref = json_loads(obj, 0, NULL);
			free(obj);
			CHECK(json_integer_value(json_object_get(json_object_get(
				ref, "reference"), "preferred")) == (sw ? 1 : 0));
			if (i == 0)	/* " boiling." is the chosen reply */
				CHECK_STR(resp[sw], " boiling.");
			json_decref(ref);
			prompt_release(&pr);
			free(resp[0]);
			free(resp[1]);
			free(extra);
		}
		CHECK(lf.feed.next(lf.feed.ctx, &pr, resp, &extra, &rj, &err)
		      == PROMPTS_EOF);
		CHECK(lf.feed.stats(lf.feed.ctx)->ok == 5);
		CHECK(lf.feed.stats(lf.feed.ctx)->blank == 1);
		label_feed_close(&lf);
	}
	/* 40 draws: both outcomes occur */
	CHECK(swapped > 5 && kept > 5);
	CHECK(label_swapped(1, "x") == label_swapped(1, "x"));
}

TESTS(T(test_trl_shapes), T(test_hh), T(test_ultrafeedback),
      T(test_caigen_records), T(test_hhh_and_mtbench), T(test_bad_lines),
      T(test_forced_format_and_names), T(test_long_line_and_open_error),
      T(test_label_feed))
