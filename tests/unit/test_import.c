/*
 * test_import.c - `caigen import` (import.h): the published shapes become
 * constitutions our loader accepts, with stable ids. Fixtures are in
 * tests/data/import/ (our own texts in the published shapes); tests run
 * from the repo root.
 */
#include "constitution.h"
#include "import.h"

#include "harness.h"

#include <stdlib.h>
#include <unistd.h>

#define D "tests/data/import/"

/* Import into a temporary file; returns its path (caller frees and
 * unlinks) or NULL, with the YAML text in *text if asked. */
static char *import_to_file(enum import_format fmt, const char *in,
			    char **text, struct err *err)
{
	char *path = strdup("/tmp/caigen-import-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w+");
	int rc = import_file(fmt, in, "imported-test", f, err);
	long n;

	if (rc == 0 && text) {
		fflush(f);
		n = ftell(f);
		rewind(f);
		*text = calloc(1, (size_t)n + 1);
		if (fread(*text, 1, (size_t)n, f) != (size_t)n)
			rc = -1;
	}
	fclose(f);
	if (rc < 0) {
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

static void test_anthropic_critiques(void)
{
	struct constitution c;
	struct err err;
	char *p = import_to_file(IMPORT_ANTHROPIC, D "anthropic_critiques.json",
				 NULL, &err);

	CHECK(p != NULL);
	if (!p)
		return;
	constitution_init(&c);
	CHECK(constitution_load(&c, p, &err) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_CRITIQUE, &err) == 0);
	CHECK(c.n == 4 && c.stage_n[STAGE_CRITIQUE] == 4);
	CHECK(constitution_find(&c, "imp-crt-careless-advice") != NULL);
	CHECK(constitution_find(&c, "imp-crt-talking-down") != NULL);
	CHECK(constitution_find(&c, "imp-crt-made-up-facts") != NULL);
	/* the first critique request of a list is the one used */
	CHECK(strstr(constitution_find(&c, "imp-crt-privacy")->critique,
		     "private details") != NULL);
	CHECK(strstr(c.sources[0], "imported-test@sha256:") == c.sources[0]);
	constitution_release(&c);
	unlink(p);
	free(p);
}

static void test_anthropic_comparisons(void)
{
	struct constitution c;
	struct err err;
	const struct principle *q;
	char *p = import_to_file(IMPORT_ANTHROPIC,
				 D "anthropic_comparisons.json", NULL, &err);

	CHECK(p != NULL);
	if (!p)
		return;
	constitution_init(&c);
	CHECK(constitution_load(&c, p, &err) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_COMPARE, &err) == 0);
	CHECK(c.n == 5 && c.stage_n[STAGE_COMPARE] == 5);
	CHECK(!strncmp(c.p[0].id, "imp-cmp-01-", 11) &&
	      strlen(c.p[0].id) == 17);
	/* quotes and newlines survive the round trip */
	q = &c.p[2];
	CHECK(strstr(q->compare, "\"preachy\"") != NULL);
	CHECK(strchr(c.p[4].compare, '\n') != NULL);
	constitution_release(&c);
	unlink(p);
	free(p);
}

static void test_hf(void)
{
	struct constitution c;
	struct err err;
	char *p = import_to_file(IMPORT_HF, D "hf_constitution.json", NULL,
				 &err);

	CHECK(p != NULL);
	if (!p)
		return;
	constitution_init(&c);
	CHECK(constitution_load(&c, p, &err) == 0);
	CHECK(constitution_finish(&c, 1u << STAGE_CRITIQUE, &err) == 0);
	CHECK(c.n == 3);
	CHECK(!strncmp(c.p[1].id, "hf-02-", 6));
	CHECK(c.nfewshot == 2);
	if (c.nfewshot == 2) {
		/* the system turn of the second dialogue is skipped */
		CHECK_STR(c.fewshot[1].prompt, "Is it fine to skip my "
			  "medicine for a week?");
		CHECK(strstr(c.fewshot[0].revision, "mediate") != NULL);
	}
	constitution_release(&c);
	unlink(p);
	free(p);
}

/* Importing the same file twice gives the same bytes, so the same ids. */
static void test_stable(void)
{
	struct err err;
	char *a = NULL, *b = NULL;
	char *p1 = import_to_file(IMPORT_HF, D "hf_constitution.json", &a,
				  &err);
	char *p2 = import_to_file(IMPORT_HF, D "hf_constitution.json", &b,
				  &err);

	CHECK(p1 && p2 && a && b);
	if (a && b)
		CHECK_STR(a, b);
	if (p1)
		unlink(p1);
	if (p2)
		unlink(p2);
	free(p1);
	free(p2);
	free(a);
	free(b);
}

static void test_bad_inputs(void)
{
	struct err err;
	char *p;

	p = import_to_file(IMPORT_HF, D "hf_bad_turns.json", NULL, &err);
	CHECK(p == NULL);
	CHECK(strstr(err.msg, "system_chat[0] has 4 turns") != NULL);
	p = import_to_file(IMPORT_ANTHROPIC, D "anthropic_bad.json", NULL,
			   &err);
	CHECK(p == NULL);
	CHECK(strstr(err.msg, "'no-edit'") != NULL);
	p = import_to_file(IMPORT_HF, D "anthropic_comparisons.json", NULL,
			   &err);
	CHECK(p == NULL);
	CHECK(strstr(err.msg, "constitutions") != NULL);
	p = import_to_file(IMPORT_ANTHROPIC, D "missing.json", NULL, &err);
	CHECK(p == NULL);
}

TESTS(T(test_anthropic_critiques), T(test_anthropic_comparisons),
      T(test_hf), T(test_stable), T(test_bad_inputs))
