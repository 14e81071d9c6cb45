/* test_catalog.c - category and technique files: the shipped ones load,
 * broken ones are refused with file:line:col. */
#include "harness.h"
#include "catalog.h"

#include <stdlib.h>
#include <unistd.h>

static const char *write_tmp(const char *text)
{
	static char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/caigen-cat-%d.yaml", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Load text; return the error message (static) or "" when it loads. */
static const char *load(const char *text)
{
	static struct err e;
	struct catalog c = { 0 };
	const char *p = write_tmp(text);
	int rc = catalog_load(&c, p, &e);

	catalog_release(&c);
	unlink(p);
	if (rc == 0)
		return "";
	/* drop the temp path: keep from the first ':' on */
	return strchr(e.msg, ':') ? strchr(e.msg, ':') : e.msg;
}

static void test_shipped(void)
{
	struct catalog c = { 0 };
	struct err e;

	CHECK(catalog_load(&c, "prompts/categories.yaml", &e) == 0);
	CHECK(catalog_load(&c, "prompts/techniques.yaml", &e) == 0);
	CHECK(c.ncat == 10);
	CHECK(c.ntech >= 5);
	CHECK(catalog_category(&c, "privacy-violation") != NULL);
	CHECK(catalog_category(&c, "helpfulness") != NULL);
	CHECK(catalog_technique(&c, "logical-appeal") != NULL);
	for (size_t i = 0; i < c.ncat; i++)
		CHECK(c.cat[i].nseeds >= 3);
	CHECK(c.nsources == 2);
	CHECK(strstr(c.sources[0], "@sha256:") != NULL);
	/* loading the same file twice repeats its ids */
	CHECK(catalog_load(&c, "prompts/techniques.yaml", &e) < 0);
	CHECK(strstr(e.msg, "techniques.yaml:") &&
	      strstr(e.msg, "repeated technique id"));
	CHECK(c.ntech >= 5 && c.nsources == 2);
	catalog_release(&c);
}

static void test_broken(void)
{
	CHECK_STR(load("name: x\ntechniques:\n  - id: a\n    title: A\n"
		       "    defintion: d\n    example: e\n"),
		  ":5:5: unknown key 'defintion' in a technique (did you "
		  "mean 'definition'?)");
	CHECK_STR(load("name: x\ntechniques:\n  - id: a\n    title: A\n"
		       "    example: e\n"),
		  ":3:5: a technique has no 'definition'");
	CHECK_STR(load("name: x\ncategories:\n  - id: a\n    kind: bad\n"
		       "    title: A\n    instructions: i\n"),
		  ":4:11: kind must be 'harm' or 'helpful', got 'bad'");
	CHECK_STR(load("name: x\ncategories:\n  - id: A b\n    kind: harm\n"
		       "    title: A\n    instructions: i\n"),
		  ":3:9: id 'A b' may hold only a-z, 0-9, '-', '_' and '.'");
	CHECK_STR(load("name: x\ncategories:\n  - id: a\n    kind: harm\n"
		       "    title: A\n    instructions: i\n    seeds: [\"\"]\n"),
		  ":7:13: 'seed' in 'seeds' is empty");
	CHECK_STR(load("name: x\ntechniques:\n  - id: a\n    title: A\n"
		       "    definition: d\n    example: e\n  - id: a\n"
		       "    title: B\n    definition: d\n    example: e\n"),
		  ":7:9: repeated technique id 'a'");
	CHECK_STR(load("name: x\nversion: 1\n"),
		  ":1:1: the file has neither 'categories' nor 'techniques'");
	CHECK_STR(load("name: x\ntechniques: []\ntemplates:\n"
		       "  persuade: \"{request} {nope}\"\n"),
		  ":4:13: template 'persuade': unknown placeholder '{nope}'");
	CHECK_STR(load("name: x\ntechniques: [\n"),
		  ":3:1: did not find expected node content");
	CHECK_STR(load("techniques: []\n"), ":1:1: the file has no 'name'");
	CHECK_STR(load("name: x\ntechniques: []\n"), "");
}

static void test_fill(void)
{
	const char *names[] = { "a", "b", NULL };
	const char *vals[] = { "one", "{b}", NULL };
	char *s = catalog_fill("x {a} {{lit}} {b} {c}", names, vals);
	struct err e;

	CHECK_STR(s, "x one {lit} {b} {c}");
	free(s);
	CHECK(catalog_check_template("{a}{{", names, &e) == 0);
	CHECK(catalog_check_template("{a", names, &e) < 0);
	CHECK(catalog_check_template("a}", names, &e) < 0);
}

TESTS(T(test_shipped), T(test_broken), T(test_fill))
