/*
 * test_constitution.c - the constitution loader, its error messages and
 * positions, the shipped constitutions, templates and weighted draws.
 *
 * Fixtures live in tests/data/constitution/; tests run from the repo root.
 */
#include "harness.h"
#include "constitution.h"
#include "sha256.h"

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define D "tests/data/constitution/"

static size_t count_stage(const struct constitution *c, enum stage s)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += s == STAGE_COMPARE ? c->p[i].compare != NULL :
		     c->p[i].critique && c->p[i].revise;
	return n;
}

static bool has_tag(const struct principle *p, const char *tag)
{
	for (size_t i = 0; i < p->ntags; i++)
		if (!strcmp(p->tags[i], tag))
			return true;
	return false;
}

static size_t occurrences(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- shipped constitutions ---- */

struct shipped {
	const char *path;
	const char *name;
	const char *prefix;
	size_t ncompare, ncritique;
};

static const struct shipped shipped[] = {
	{ "constitution/harmless.yaml", "harmless", "harm-", 20, 18 },
	{ "constitution/udhr.yaml", "udhr", "udhr-", 27, 10 },
	{ "constitution/helpful-honest.yaml", "helpful-honest", "hh-", 15, 7 },
};

static void check_shipped_principle(const struct shipped *s,
				    const struct principle *p)
{
	bool cmp = p->compare != NULL, crit = p->critique != NULL;
	char want[64];

	CHECK(!strncmp(p->id, s->prefix, strlen(s->prefix)));
	/* harm-cmp-NN-slug / harm-crit-NN-slug, one stage each */
	snprintf(want, sizeof(want), "%s%s-", s->prefix,
		 cmp ? "cmp" : "crit");
	CHECK(!strncmp(p->id, want, strlen(want)));
	CHECK(cmp != crit);
	CHECK(!crit || p->revise);
	CHECK(p->ntags >= 1);
	CHECK(p->weight == 1);
	if (cmp)
		CHECK(strchr(p->compare, '?') ||
		      !strncmp(p->compare, "Pick", 4) ||
		      !strncmp(p->compare, "Choose", 6));
	if (crit) {
		CHECK(strstr(p->critique, "assistant's last reply") ||
		      strstr(p->critique, "assistant's last\nreply"));
		CHECK(!strncmp(p->revise, "Rewrite", 7) ||
		      !strncmp(p->revise, "Revise", 6));
	}
	CHECK(!strncmp(p->source, s->name, strlen(s->name)));
	CHECK(p->source[strlen(s->name)] == '@');
}

static void test_shipped_each(void)
{
	for (size_t k = 0; k < ARRAY_SIZE(shipped); k++) {
		const struct shipped *s = &shipped[k];
		struct constitution c;
		struct err e = { "" };

		constitution_init(&c);
		if (constitution_load(&c, s->path, &e) < 0) {
			fprintf(stderr, "  %s\n", e.msg);
			CHECK(!"shipped file loads");
			continue;
		}
		CHECK(constitution_finish(&c, 1u << STAGE_COMPARE |
					  1u << STAGE_CRITIQUE, &e) == 0);
		CHECK(c.nsources == 1);
		CHECK(c.stage_n[STAGE_COMPARE] == s->ncompare);
		CHECK(c.stage_n[STAGE_CRITIQUE] == s->ncritique);
		CHECK(count_stage(&c, STAGE_COMPARE) == s->ncompare);
		CHECK(c.n == s->ncompare + s->ncritique);
		for (size_t i = 0; i < c.n; i++)
			check_shipped_principle(s, &c.p[i]);
		/* shipped files use the built-in templates */
		for (int t = 0; t < TPL_COUNT; t++)
			CHECK(c.tpl[t] == NULL);
		constitution_release(&c);
	}
}

static void test_shipped_together(void)
{
	struct constitution c;
	struct err e = { "" };
	size_t cmp = 0, crit = 0;

	constitution_init(&c);
	for (size_t k = 0; k < ARRAY_SIZE(shipped); k++) {
		CHECK(constitution_load(&c, shipped[k].path, &e) == 0);
		cmp += shipped[k].ncompare;
		crit += shipped[k].ncritique;
	}
	CHECK(constitution_finish(&c, 3, &e) == 0);
	CHECK(c.nsources == 3);
	CHECK(c.stage_n[STAGE_COMPARE] == cmp);
	CHECK(c.stage_n[STAGE_CRITIQUE] == crit);
	CHECK(constitution_find(&c, "harm-cmp-01-least-harm") != NULL);
	CHECK(constitution_find(&c, "udhr-cmp-12-privacy") != NULL);
	CHECK(constitution_find(&c, "hh-crit-01-accuracy") != NULL);
	constitution_release(&c);
}

/* Every udhr principle names its article (article-N, 1..30) and a theme. */
static void test_shipped_udhr_tags(void)
{
	struct constitution c;
	struct err e = { "" };
	bool seen[31] = { false };
	size_t articles = 0;

	constitution_init(&c);
	CHECK(constitution_load(&c, "constitution/udhr.yaml", &e) == 0);
	for (size_t i = 0; i < c.n; i++) {
		const struct principle *p = &c.p[i];
		size_t art = 0, theme = 0;

		for (size_t t = 0; t < p->ntags; t++) {
			const char *tag = p->tags[t];

			if (!strncmp(tag, "article-", 8)) {
				int n = atoi(tag + 8);

				CHECK(n >= 1 && n <= 30);
				if (n >= 1 && n <= 30)
					seen[n] = true;
				art++;
			} else if (strcmp(tag, "udhr")) {
				theme++;
			}
		}
		CHECK(art >= 1);
		CHECK(theme >= 1);
	}
	for (int n = 1; n <= 30; n++)
		articles += seen[n];
	CHECK(articles >= 24);
	/* the rights the brief names */
	CHECK(seen[1] && seen[2] && seen[3] && seen[4] && seen[5]);
	CHECK(seen[7] && seen[12] && seen[13] && seen[14] && seen[17]);
	CHECK(seen[18] && seen[19] && seen[20] && seen[23] && seen[26]);
	CHECK(seen[27]);
	constitution_release(&c);
}

/* ---- a valid file, in detail ---- */

static void test_basic(void)
{
	struct constitution c;
	struct err e = { "" };
	const struct principle *p;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(c.n == 6);
	CHECK(constitution_finish(&c, 3, &e) == 0);
	CHECK(c.stage_n[STAGE_COMPARE] == 4);
	CHECK(c.stage_n[STAGE_CRITIQUE] == 3);

	p = constitution_find(&c, "cmp-1");
	CHECK(p && p->weight == 1);
	if (p) {
		CHECK_STR(p->compare, "Which reply is better by rule one?");
		CHECK(p->ntags == 2);
		CHECK(has_tag(p, "t1") && has_tag(p, "shared"));
		CHECK(!p->critique && !p->revise);
		CHECK_STR(p->where, D "basic.yaml:6:9");
	}
	p = constitution_find(&c, "cmp-3");
	CHECK(p && p->weight == 3 && p->ntags == 0);
	if (p)
		CHECK_STR(p->compare,
			  "Which reply is better\nby rule three?");
	p = constitution_find(&c, "both-4");
	CHECK(p && p->compare && p->critique && p->revise);
	if (p)
		CHECK_STR(p->revise, "Revise by rule four.");
	p = constitution_find(&c, "crit.5_x");
	CHECK(p && p->weight == 0.5 && !p->compare);
	CHECK(constitution_find(&c, "nope") == NULL);
	CHECK(constitution_find(&c, "cmp") == NULL);
	constitution_release(&c);
	CHECK(c.n == 0 && c.p == NULL && c.nsources == 0);
}

/* The source string carries the sha256 of the file's bytes (the value
 * below is from sha256sum; it changes if basic.yaml is edited). */
static void test_source_sha256(void)
{
	struct constitution c;
	struct err e = { "" };
	FILE *f;
	char buf[8192], hex[65], want[128];
	size_t n;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(c.nsources == 1);
	if (c.nsources != 1)
		goto out;
	CHECK_STR(c.sources[0], "basic@sha256:7d0e4f6c03d8b3c54b3cba12d2bf4a"
				"5661e714cc995c80ed238e5174ce521ba7");
	for (size_t i = 0; i < c.n; i++)
		CHECK(c.p[i].source == c.sources[0]);
	/* and the same computed here */
	f = fopen(D "basic.yaml", "rb");
	CHECK(f != NULL);
	if (!f)
		goto out;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	sha256_hex(buf, n, hex);
	snprintf(want, sizeof(want), "basic@sha256:%s", hex);
	CHECK_STR(c.sources[0], want);
out:
	constitution_release(&c);
}

static void test_bom_crlf(void)
{
	struct constitution c;
	struct err e = { "" };
	const struct principle *p;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "bom-crlf.yaml", &e) == 0);
	p = constitution_find(&c, "crlf-1");
	CHECK(p != NULL);
	if (p)
		CHECK_STR(p->compare, "Line endings are CRLF and the file "
				      "starts with a BOM.");
	CHECK(c.nsources == 1 &&
	      !strncmp(c.sources[0], "bom-crlf@sha256:", 16));
	constitution_release(&c);
}

/* ---- errors ---- */

struct bad {
	const char *file;
	const char *where;	/* "L:C" */
	const char *msg;	/* the rest of the message, exactly */
};

static const struct bad bad_files[] = {
	{ "err-unknown-key.yaml", "7:5",
	  "unknown key 'wieght' in principle (did you mean 'weight'?)" },
	{ "err-unknown-key-far.yaml", "5:5",
	  "unknown key 'description' in principle" },
	{ "err-unknown-top.yaml", "2:1",
	  "unknown key 'principals' in constitution "
	  "(did you mean 'principles'?)" },
	{ "err-empty-principles.yaml", "3:1", "'principles' is empty" },
	{ "err-null-principles.yaml", "2:1", "'principles' is empty" },
	{ "err-no-principles.yaml", "1:1", "missing 'principles'" },
	{ "err-no-name.yaml", "1:1", "missing 'name'" },
	{ "err-weight.yaml", "9:13", "weight must be a number > 0, got '-1'" },
	{ "err-weight-zero.yaml", "4:13",
	  "weight must be a number > 0, got '0'" },
	{ "err-weight-text.yaml", "4:13",
	  "weight must be a number > 0, got 'heavy'" },
	{ "err-weight-nan.yaml", "4:13",
	  "weight must be a number > 0, got '.nan'" },
	{ "err-weight-big.yaml", "4:13",
	  "weight must be at most 1000000, got '1e300'" },
	{ "err-weight-list.yaml", "4:13",
	  "weight must be a number > 0, got a list" },
	{ "err-dup-id.yaml", "11:9",
	  "duplicate principle id 'harm-1' (first defined at "
	  D "err-dup-id.yaml:5:9)" },
	{ "err-bad-id.yaml", "3:9",
	  "id must use only letters, digits, '.', '_' and '-', "
	  "got 'harm 1'" },
	{ "err-no-id.yaml", "3:5", "principle has no 'id'" },
	{ "err-nul-id.yaml", "5:9", "'id' contains a NUL character" },
	{ "err-nul-tag.yaml", "5:15", "a tag contains a NUL character" },
	{ "err-id-list.yaml", "3:9", "'id' must be a string, got a list" },
	{ "err-no-stage.yaml", "3:5",
	  "principle 'idle' serves no stage: give 'compare', or both "
	  "'critique' and 'revise'" },
	{ "err-critique-no-revise.yaml", "5:5",
	  "principle 'half' has 'critique' but no 'revise'" },
	{ "err-revise-no-critique.yaml", "4:5",
	  "principle 'half' has 'revise' but no 'critique'" },
	{ "err-compare-list.yaml", "4:14",
	  "'compare' must be a string, got a list" },
	{ "err-compare-empty.yaml", "4:5", "'compare' is empty" },
	{ "err-tags-string.yaml", "4:11",
	  "'tags' must be a list of strings, got a string" },
	{ "err-tags-nested.yaml", "4:18",
	  "'tags' must be a list of strings, got a list in it" },
	{ "err-principle-string.yaml", "3:5",
	  "each principle must be a mapping, got a string" },
	{ "err-principles-map.yaml", "3:3",
	  "'principles' must be a list, got a mapping" },
	{ "err-root-list.yaml", "1:1",
	  "the file must be a mapping with 'name' and 'principles', "
	  "got a list" },
	{ "err-name-list.yaml", "1:7", "'name' must be a string, got a list" },
	{ "err-name-bad.yaml", "1:7",
	  "name must use only letters, digits, '.', '_' and '-', "
	  "got 'my constitution'" },
	{ "err-version.yaml", "2:10",
	  "version must be a whole number, got 'one'" },
	{ "err-dup-key.yaml", "6:5",
	  "duplicate key 'weight' in principle (first given at "
	  D "err-dup-key.yaml:4:5)" },
	{ "err-key-list.yaml", "5:5",
	  "keys in principle must be strings, got a list" },
	{ "err-multi-doc.yaml", "5:1",
	  "more than one YAML document in the file" },
	{ "err-syntax.yaml", "5:1",
	  "found unexpected end of stream "
	  "(while scanning a quoted scalar at 4:14)" },
	{ "err-syntax-indent.yaml", "4:13",
	  "mapping values are not allowed in this context" },
	{ "err-alias.yaml", "4:14", "found undefined alias" },
	{ "err-utf8.yaml", "4:19",
	  "invalid leading UTF-8 octet (byte 0xff)" },
	{ "empty.yaml", "1:1",
	  "file is empty (expected 'name' and 'principles')" },
	{ "comments-only.yaml", "1:1",
	  "file is empty (expected 'name' and 'principles')" },
	/* templates: the position is that of the offending placeholder */
	{ "err-tpl-unknown.yaml", "7:52",
	  "template 'compare' has unknown placeholder '{answer}' "
	  "(allowed: {conversation} {principle} {a} {b})" },
	{ "err-tpl-block.yaml", "11:39",
	  "template 'compare' has unknown placeholder '{answer}' "
	  "(allowed: {conversation} {principle} {a} {b})" },
	{ "err-tpl-utf8.yaml", "6:55",
	  "template 'compare' has unknown placeholder '{answer}' "
	  "(allowed: {conversation} {principle} {a} {b})" },
	{ "err-tpl-crlf.yaml", "8:15",
	  "template 'compare' has unknown placeholder '{oops}' "
	  "(allowed: {conversation} {principle} {a} {b})" },
	{ "err-tpl-missing.yaml", "6:12",
	  "template 'compare' is missing placeholder '{b}'" },
	{ "err-tpl-lone-open.yaml", "6:29",
	  "template 'critique' has a lone '{' "
	  "(write '{{' for a literal brace)" },
	{ "err-tpl-lone-close.yaml", "6:31",
	  "template 'revise' has a lone '}' "
	  "(write '}}' for a literal brace)" },
	{ "err-tpl-system.yaml", "6:30",
	  "template 'compare_system' takes no placeholders, "
	  "found '{principle}'" },
	{ "err-tpl-critique.yaml", "6:26",
	  "template 'critique' has unknown placeholder '{a}' "
	  "(allowed: {principle} {conversation})" },
	{ "err-tpl-unknown-key.yaml", "6:3",
	  "unknown key 'revision' in templates (did you mean 'revise'?)" },
	{ "err-tpl-list.yaml", "5:12",
	  "'templates' must be a mapping, got a list" },
	{ "err-tpl-blank.yaml", "6:3", "'compare_system' is empty" },
	{ "err-nul.yaml", "4:14", "'compare' contains a NUL character" },
};

static void check_bad(struct constitution *c, const struct bad *b)
{
	struct err e = { "" };
	char path[256], want[1024];

	snprintf(path, sizeof(path), D "%s", b->file);
	snprintf(want, sizeof(want), "%s:%s: %s", path, b->where, b->msg);
	CHECK(constitution_load(c, path, &e) == -1);
	CHECK_STR(e.msg, want);
}

static void test_errors(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_files); i++) {
		struct constitution c;

		constitution_init(&c);
		check_bad(&c, &bad_files[i]);
		CHECK(c.n == 0 && c.p == NULL && c.nsources == 0);
		constitution_release(&c);
	}
}

static void test_missing_file(void)
{
	struct constitution c;
	struct err e = { "" };

	constitution_init(&c);
	CHECK(constitution_load(&c, D "nope.yaml", &e) == -1);
	CHECK_STR(e.msg, "cannot open '" D "nope.yaml': "
			 "No such file or directory");
	CHECK(constitution_load(&c, D, &e) == -1);
	CHECK_STR(e.msg, "cannot read '" D "': Is a directory");
	constitution_release(&c);
}

/* A failed load leaves everything as it was: same pointers, same counts,
 * same tables, same templates. */
static void test_failed_load_changes_nothing(void)
{
	struct constitution c, before;
	struct err e = { "" };

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(constitution_finish(&c, 3, &e) == 0);
	memcpy(&before, &c, sizeof(c));
	for (size_t i = 0; i < ARRAY_SIZE(bad_files); i++) {
		check_bad(&c, &bad_files[i]);
		CHECK(!memcmp(&before, &c, sizeof(c)));
	}
	/* the same file twice: every id is a duplicate */
	CHECK(constitution_load(&c, D "basic.yaml", &e) == -1);
	CHECK_STR(e.msg, D "basic.yaml:6:9: duplicate principle id 'cmp-1' "
			 "(first defined at " D "basic.yaml:6:9)");
	CHECK(!memcmp(&before, &c, sizeof(c)));
	CHECK(c.n == 6 && c.nsources == 1);
	CHECK_STR(c.p[5].id, "crit-6");
	CHECK_STR(constitution_template(&c, TPL_CRITIQUE),
		  "Please: {principle}");
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.95) ==
	      constitution_find(&c, "both-4"));
	constitution_release(&c);
}

static void test_duplicate_across_files(void)
{
	struct constitution c, before;
	struct err e = { "" };

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	memcpy(&before, &c, sizeof(c));
	CHECK(constitution_load(&c, D "dup-across.yaml", &e) == -1);
	CHECK_STR(e.msg, D "dup-across.yaml:5:9: duplicate principle id "
			 "'cmp-2' (first defined at " D "basic.yaml:9:9)");
	CHECK(!memcmp(&before, &c, sizeof(c)));
	CHECK(constitution_find(&c, "fresh-1") == NULL);
	/* the other order fails on the other file */
	constitution_release(&c);
	constitution_init(&c);
	CHECK(constitution_load(&c, D "dup-across.yaml", &e) == 0);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == -1);
	CHECK_STR(e.msg, D "basic.yaml:9:9: duplicate principle id 'cmp-2' "
			 "(first defined at " D "dup-across.yaml:5:9)");
	CHECK(c.n == 2 && c.nsources == 1);
	constitution_release(&c);
}

static void test_two_files(void)
{
	struct constitution c;
	struct err e = { "" };
	const struct principle *p;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(constitution_load(&c, D "second.yaml", &e) == 0);
	CHECK(c.n == 7 && c.nsources == 2);
	CHECK(constitution_finish(&c, 3, &e) == 0);
	CHECK(c.stage_n[STAGE_COMPARE] == 5);
	p = constitution_find(&c, "second-1");
	CHECK(p && p->source == c.sources[1]);
	CHECK(p && !strncmp(p->source, "second@sha256:", 14));
	CHECK(constitution_find(&c, "cmp-1")->source == c.sources[0]);
	constitution_release(&c);
}

/* ---- finish ---- */

static void test_finish(void)
{
	struct constitution c;
	struct err e = { "" };

	constitution_init(&c);
	CHECK(constitution_finish(&c, 1u << STAGE_COMPARE, &e) == -1);
	CHECK_STR(e.msg, "no constitution loaded");
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.5) == NULL);

	CHECK(constitution_load(&c, D "compare-only.yaml", &e) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_COMPARE, &e) == 0);
	CHECK(constitution_finish(&c, 3, &e) == -1);
	CHECK_STR(e.msg, "no principle serves the critique stage (it needs "
			 "principles with both 'critique' and 'revise')");
	CHECK(constitution_draw(&c, STAGE_CRITIQUE, 0.5) == NULL);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.5) ==
	      constitution_find(&c, "only-compare"));
	constitution_release(&c);

	constitution_init(&c);
	CHECK(constitution_load(&c, D "critique-only.yaml", &e) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_CRITIQUE, &e) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_COMPARE, &e) == -1);
	CHECK_STR(e.msg, "no principle serves the compare stage (it needs "
			 "principles with 'compare')");
	CHECK(constitution_finish(&c, 0, &e) == 0);
	/* finish twice is fine */
	CHECK(constitution_finish(&c, 1u << STAGE_CRITIQUE, &e) == 0);
	CHECK(c.stage_n[STAGE_CRITIQUE] == 1);
	constitution_release(&c);
}

/* ---- draws ---- */

static uint64_t lcg;

static double lcg_unit(void)
{
	lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
	return (double)(lcg >> 11) * 0x1.0p-53;
}

/* n draws; chi-square of the counts against the weights. */
static double chi_square(const struct constitution *c, enum stage s,
			 const char *const *ids, const double *w, size_t k,
			 size_t n)
{
	size_t count[8] = { 0 };
	double total = 0, chi = 0;

	for (size_t i = 0; i < k; i++)
		total += w[i];
	for (size_t d = 0; d < n; d++) {
		const struct principle *p = constitution_draw(c, s,
							      lcg_unit());
		size_t i;

		for (i = 0; i < k; i++)
			if (p && !strcmp(p->id, ids[i]))
				break;
		CHECK(i < k);
		if (i < k)
			count[i]++;
	}
	for (size_t i = 0; i < k; i++) {
		double want = (double)n * w[i] / total;
		double dev = (double)count[i] - want;

		chi += dev * dev / want;
	}
	return chi;
}

static void test_draw_distribution(void)
{
	static const char *const cmp_ids[] = { "cmp-1", "cmp-2", "cmp-3",
					       "both-4" };
	static const double cmp_w[] = { 1, 2, 3, 4 };
	static const char *const crit_ids[] = { "both-4", "crit.5_x",
						"crit-6" };
	static const double crit_w[] = { 4, 0.5, 1.5 };
	struct constitution c;
	struct err e = { "" };
	double chi;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(constitution_finish(&c, 3, &e) == 0);
	lcg = 42;
	/* chi-square, 3 and 2 degrees of freedom: p = 0.001 at 16.3 and
	 * 13.8; a wrong weight over 1M draws gives thousands */
	chi = chi_square(&c, STAGE_COMPARE, cmp_ids, cmp_w, 4, 1000000);
	CHECK(chi < 16.3);
	chi = chi_square(&c, STAGE_CRITIQUE, crit_ids, crit_w, 3, 1000000);
	CHECK(chi < 13.8);
	constitution_release(&c);
}

static void test_draw_edges(void)
{
	struct constitution c;
	struct err e = { "" };
	const struct principle *p1, *p2, *p3, *p4;

	constitution_init(&c);
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	CHECK(constitution_finish(&c, 3, &e) == 0);
	p1 = constitution_find(&c, "cmp-1");
	p2 = constitution_find(&c, "cmp-2");
	p3 = constitution_find(&c, "cmp-3");
	p4 = constitution_find(&c, "both-4");
	/* cumulative 1, 3, 6, 10: [0,1) [1,3) [3,6) [6,10) */
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0) == p1);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.0999) == p1);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.1) == p2);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.25) == p2);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.5) == p3);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.75) == p4);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 0.999999999) == p4);
	CHECK(constitution_draw(&c, STAGE_COMPARE,
				nextafter(1.0, 0.0)) == p4);
	/* out of range: clamped, never NULL */
	CHECK(constitution_draw(&c, STAGE_COMPARE, 1.0) == p4);
	CHECK(constitution_draw(&c, STAGE_COMPARE, 7.0) == p4);
	CHECK(constitution_draw(&c, STAGE_COMPARE, -0.5) == p1);
	CHECK(constitution_draw(&c, STAGE_COMPARE, NAN) == p1);
	CHECK(constitution_draw(&c, STAGE_COUNT, 0.5) == NULL);
	/* critique: cumulative 4, 4.5, 6 */
	CHECK(constitution_draw(&c, STAGE_CRITIQUE, 0) == p4);
	CHECK(constitution_draw(&c, STAGE_CRITIQUE, 0.999999999) ==
	      constitution_find(&c, "crit-6"));
	CHECK(constitution_draw(&c, STAGE_CRITIQUE, 0.7) ==
	      constitution_find(&c, "crit.5_x"));
	/* deterministic */
	for (int i = 0; i < 1000; i++) {
		double u = (double)i / 1000;

		CHECK(constitution_draw(&c, STAGE_COMPARE, u) ==
		      constitution_draw(&c, STAGE_COMPARE, u));
	}
	constitution_release(&c);
}

/* ---- templates ---- */

static void test_builtin_templates(void)
{
	const char *cmp = constitution_builtin_template(TPL_COMPARE);
	const char *sys = constitution_builtin_template(TPL_COMPARE_SYSTEM);
	const char *crit = constitution_builtin_template(TPL_CRITIQUE);
	const char *rev = constitution_builtin_template(TPL_REVISE);
	const char *end = "The answer is:";

	CHECK(cmp && sys && crit && rev);
	if (!cmp || !sys || !crit || !rev)
		return;
	CHECK(occurrences(cmp, "{conversation}") == 1);
	CHECK(occurrences(cmp, "{principle}") == 1);
	CHECK(occurrences(cmp, "{a}") == 1);
	CHECK(occurrences(cmp, "{b}") == 1);
	CHECK(occurrences(cmp, "{") == 4 && occurrences(cmp, "}") == 4);
	CHECK(strstr(cmp, "Options:") && strstr(cmp, "(A)") &&
	      strstr(cmp, "(B)"));
	CHECK(strstr(cmp, "{a}") < strstr(cmp, "{b}"));
	CHECK(strstr(cmp, "{conversation}") < strstr(cmp, "{principle}"));
	/* the letter comes next: the prompt ends on the cue, no newline */
	CHECK(strlen(cmp) > strlen(end) &&
	      !strcmp(cmp + strlen(cmp) - strlen(end), end));
	/* the fences are the client's, not the template's */
	CHECK(!strstr(cmp, "```") && !strstr(cmp, "<<<"));
	CHECK(!strchr(sys, '{') && !strchr(sys, '}'));
	CHECK(strstr(sys, "A or B") != NULL);
	CHECK_STR(crit, "{principle}");
	CHECK_STR(rev, "{principle}");
	CHECK(constitution_builtin_template(TPL_COUNT) == NULL);
}

/* The built-ins pass the loader's own template checks. */
static void test_builtin_templates_load(void)
{
	static const char *const keys[TPL_COUNT] = {
		"compare", "compare_system", "critique", "revise"
	};
	char path[] = "/tmp/caigen-test-XXXXXX.yaml";
	struct constitution c;
	struct err e = { "" };
	FILE *f;
	int fd = mkstemps(path, 5);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	f = fdopen(fd, "w");
	fprintf(f, "name: builtins\nprinciples:\n  - id: x\n"
		"    compare: x\ntemplates:\n");
	for (int k = 0; k < TPL_COUNT; k++) {
		const char *t = constitution_builtin_template(k);

		fprintf(f, "  %s: |-\n    ", keys[k]);
		for (; *t; t++)
			fputs(*t == '\n' ? (t[1] == '\n' ? "\n" : "\n    ") :
			      (char[2]){ *t, 0 }, f);
		fputc('\n', f);
	}
	fclose(f);
	constitution_init(&c);
	CHECK(constitution_load(&c, path, &e) == 0);
	if (e.msg[0])
		fprintf(stderr, "  %s\n", e.msg);
	for (int k = 0; k < TPL_COUNT; k++)
		CHECK_STR(constitution_template(&c, k),
			  constitution_builtin_template(k));
	constitution_release(&c);
	unlink(path);
}

static void test_template_overrides(void)
{
	struct constitution c;
	struct err e = { "" };

	constitution_init(&c);
	for (int k = 0; k < TPL_COUNT; k++)
		CHECK(constitution_template(&c, k) ==
		      constitution_builtin_template(k));
	CHECK(constitution_load(&c, D "basic.yaml", &e) == 0);
	/* {{ }} are accepted, a placeholder may repeat, kept verbatim */
	CHECK_STR(constitution_template(&c, TPL_COMPARE),
		  "{{literal}} {conversation} / {principle} / {a} / {b} "
		  "{principle}");
	CHECK_STR(constitution_template(&c, TPL_CRITIQUE),
		  "Please: {principle}");
	CHECK(constitution_template(&c, TPL_REVISE) ==
	      constitution_builtin_template(TPL_REVISE));
	CHECK(constitution_template(&c, TPL_COMPARE_SYSTEM) ==
	      constitution_builtin_template(TPL_COMPARE_SYSTEM));
	/* a later file overrides what it gives, and only that */
	CHECK(constitution_load(&c, D "second.yaml", &e) == 0);
	CHECK_STR(constitution_template(&c, TPL_COMPARE),
		  "override {conversation}{principle}{a}{b}");
	CHECK_STR(constitution_template(&c, TPL_CRITIQUE),
		  "Please: {principle}");
	CHECK_STR(constitution_template(&c, TPL_REVISE),
		  "{principle} (second)");
	CHECK_STR(constitution_template(&c, TPL_COMPARE_SYSTEM),
		  "Judge. Braces {{ and }} are literal.");
	CHECK(constitution_template(&c, TPL_COUNT) == NULL);
	constitution_release(&c);
}

TESTS(T(test_shipped_each), T(test_shipped_together),
      T(test_shipped_udhr_tags), T(test_basic), T(test_source_sha256),
      T(test_bom_crlf), T(test_errors), T(test_missing_file),
      T(test_failed_load_changes_nothing), T(test_duplicate_across_files),
      T(test_two_files), T(test_finish), T(test_draw_distribution),
      T(test_draw_edges), T(test_builtin_templates),
      T(test_builtin_templates_load), T(test_template_overrides))
