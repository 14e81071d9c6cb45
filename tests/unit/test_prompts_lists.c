/*
 * test_prompts_lists.c - prompts_any_messages, which decides the dataset's
 * prompt format when prompt_format is auto, parses only the JSONL lines
 * that hold a '[' byte. Each case here is answered both by it and by the
 * full pass it replaced (every line through prompts_next, as
 * prompts_any_messages did before), and the two must agree; the expected
 * answer is checked too, so a reader that found no list at all would fail.
 */
#include "harness.h"

#include "prompts.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_prompts_lists.XXXXXX";

/* The file holding text (removed by the caller). */
static char *fixture(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) ||
	    fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return path;
}

/* The full pass: is any usable prompt a message list? */
static bool full_pass(const char *path)
{
	struct err err;
	struct prompts *r = prompts_open(path, 0, &err);
	bool any = false;

	if (!r)
		return false;
	prompts_check_dups(r, false);
	for (;;) {
		struct prompt p;
		struct reject rej;
		enum prompts_status st = prompts_next(r, &p, &rej, &err);

		if (st == PROMPTS_EOF || st == PROMPTS_ERROR)
			break;
		any = st == PROMPTS_OK && !p.text;
		prompt_release(&p);
		reject_release(&rej);
		if (any)
			break;
	}
	prompts_close(r);
	return any;
}

struct lcase {
	const char *name, *text, *field;
	bool want;
};

static void test_agrees(void)
{
	static const struct lcase cases[] = {
		{ "strings.jsonl", "{\"prompt\":\"a\"}\n{\"prompt\":\"b\"}\n",
		  NULL, false },
		{ "list.jsonl", "{\"prompt\":\"a\"}\n{\"messages\":[{\"role\":"
		  "\"user\",\"content\":\"b\"}]}\n", NULL, true },
		{ "bracket-in-string.jsonl", "{\"prompt\":\"see [1] and "
		  "[2]\"}\n", NULL, false },
		{ "escaped-bracket.jsonl", "{\"prompt\":\"\\u005b\"}\n", NULL,
		  false },
		{ "empty-list.jsonl", "{\"messages\":[]}\n{\"prompt\":\"x\"}\n",
		  NULL, false },
		{ "bad-role.jsonl", "{\"messages\":[{\"role\":\"bot\","
		  "\"content\":\"x\"}]}\n", NULL, false },
		{ "last-not-user.jsonl", "{\"messages\":[{\"role\":\"user\","
		  "\"content\":\"x\"},{\"role\":\"assistant\",\"content\":"
		  "\"y\"}]}\n", NULL, false },
		{ "bad-json-list.jsonl", "{\"messages\":[{\"role\":\"user\","
		  "\"content\":\"x\"}]\n", NULL, false },
		{ "list-after-bad.jsonl", "not json\n{\"prompt\":\"\"}\n\n"
		  "{\"id\":3,\"messages\":[{\"role\":\"user\",\"content\":"
		  "\"x\"}]}\n", NULL, true },
		{ "dup-ids.jsonl", "{\"id\":\"a\",\"prompt\":\"x\"}\n"
		  "{\"id\":\"a\",\"messages\":[{\"role\":\"user\",\"content\":"
		  "\"x\"}]}\n", NULL, true },
		{ "text.txt", "[a text line]\nanother\n", NULL, false },
		{ "field-list.jsonl", "{\"q\":\"a\"}\n{\"q\":[{\"role\":"
		  "\"user\",\"content\":\"b\"}]}\n", "q", true },
		{ "field-string.jsonl", "{\"q\":\"a\",\"tags\":[1]}\n", "q",
		  false },
		{ "both.jsonl", "{\"prompt\":\"a\",\"messages\":[{\"role\":"
		  "\"user\",\"content\":\"b\"}]}\n", NULL, false },
		{ "crlf.jsonl", "{\"prompt\":\"a\"}\r\n{\"messages\":[{\"role\":"
		  "\"user\",\"content\":\"b\"}]}\r\n", NULL, true },
	};

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		exit(1);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct lcase *c = &cases[i];
		char *path = fixture(c->name, c->text);
		bool fast, full;

		prompts_set_field(c->field);
		fast = prompts_any_messages(path, 0);
		full = full_pass(path);
		if (fast != full || fast != c->want)
			fprintf(stderr, "  %s: fast %d, full %d, want %d\n",
				c->name, fast, full, c->want);
		CHECK(fast == full);
		CHECK(fast == c->want);
		unlink(path);
		free(path);
	}
	prompts_set_field(NULL);
	rmdir(tmpdir);
}

/* A list far down a long file of plain prompts is still found. */
static void test_list_at_the_end(void)
{
	char dir[] = "/tmp/test_prompts_lists2.XXXXXX";
	char *path;
	FILE *f;

	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		exit(1);
	}
	path = xasprintf("%s/long.jsonl", dir);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	for (int i = 0; i < 50000; i++)
		fprintf(f, "{\"id\":\"p%d\",\"prompt\":\"question %d\"}\n", i, i);
	fclose(f);
	CHECK(!prompts_any_messages(path, 0));
	f = fopen(path, "ab");
	fputs("{\"messages\":[{\"role\":\"user\",\"content\":\"z\"}]}\n", f);
	fclose(f);
	CHECK(prompts_any_messages(path, 0));
	CHECK(full_pass(path));
	unlink(path);
	free(path);
	rmdir(dir);
}

TESTS(T(test_agrees), T(test_list_at_the_end))
