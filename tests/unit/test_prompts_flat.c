/*
 * test_prompts_flat.c - the prompts reader reads plain JSONL lines itself
 * and leaves the rest to jansson (prompts.c, parse_flat). Every line here
 * is read both ways (prompts_set_flat) and must give the same prompt (id,
 * text, message list, index) or the same reject (line, reason): the
 * lines of the usual shapes, edge cases of strings, escapes, numbers and
 * blanks, and every one-byte change of a few lines.
 */
#include "harness.h"

#include "buf.h"
#include "prompts.h"
#include "util.h"

#include <stdlib.h>
#include <unistd.h>

/* What reading path gives, one line an outcome, as text. */
static char *outcomes(const char *path)
{
	struct err err;
	struct prompts *r = prompts_open(path, 0, &err);
	struct buf b;

	buf_init(&b, 1u << 26);
	if (!r) {
		CHECK(buf_printf(&b, "open: %s\n", err.msg) == 0);
		return buf_detach(&b);
	}
	for (;;) {
		struct prompt p;
		struct reject rej;
		enum prompts_status st = prompts_next(r, &p, &rej, &err);
		char *m;

		if (st == PROMPTS_EOF || st == PROMPTS_ERROR)
			break;
		if (st == PROMPTS_OK) {
			m = json_dumps(p.messages, JSON_COMPACT);
			CHECK(buf_printf(&b, "ok %zu id=[%s] text=[%s] %s\n",
					 p.index, p.id,
					 p.text ? p.text : "(none)", m) == 0);
			free(m);
		} else {
			CHECK(buf_printf(&b, "reject %zu %s\n", rej.line,
					 rej.reason) == 0);
		}
		prompt_release(&p);
		reject_release(&rej);
	}
	prompts_close(r);
	return buf_detach(&b);
}

static char dir[] = "/tmp/test_prompts_flat.XXXXXX";
static int made;

static void cleanup(void)
{
	rmdir(dir);
}

/* Read text both ways; 1 if they agree. */
static int both(const char *text, size_t len)
{
	char *path, *a, *b;
	FILE *f;
	int ok;

	if (!made) {
		if (!mkdtemp(dir)) {
			perror("mkdtemp");
			exit(1);
		}
		made = 1;
		atexit(cleanup);
	}
	path = xasprintf("%s/p.jsonl", dir);
	f = fopen(path, "wb");
	if (!f || fwrite(text, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
	prompts_set_flat(true);
	a = outcomes(path);
	prompts_set_flat(false);
	b = outcomes(path);
	prompts_set_flat(true);
	ok = !strcmp(a, b);
	if (!ok)
		fprintf(stderr, "  flat:\n%s  jansson:\n%s", a, b);
	unlink(path);
	free(path);
	free(a);
	free(b);
	return ok;
}

static const char *const lines[] = {
	"{\"id\":\"b0000001\",\"prompt\":\"Question 1: what is polite?\"}",
	"{\"prompt\":\"no id here\"}",
	"  {  \"prompt\" : \"blanks\" , \"id\" : 42 }  ",
	"{\"prompt\":\"\\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t end\"}",
	"{\"prompt\":\"\\u00e9 unicode escape\"}",
	"{\"prompt\":\"caf\xc3\xa9 \xf0\x9f\x98\x80 raw\"}",
	"{\"prompt\":\"a\",\"prompt\":\"b\"}",
	"{\"prompt\":\"a\",\"messages\":[{\"role\":\"user\","
	"\"content\":\"b\"}]}",
	"{\"prompt\":\"   \"}",
	"{\"prompt\":\"\\n\\t \"}",
	"{\"prompt\":\"\"}",
	"{\"prompt\":5}",
	"{\"prompt\":\"x\",\"id\":\"\"}",
	"{\"prompt\":\"x\",\"id\":-0}",
	"{\"prompt\":\"x\",\"id\":007}",
	"{\"prompt\":\"x\",\"id\":-}",
	"{\"prompt\":\"x\",\"id\":1.5}",
	"{\"prompt\":\"x\",\"id\":1e3}",
	"{\"prompt\":\"x\",\"id\":123456789012345678}",
	"{\"prompt\":\"x\",\"id\":1234567890123456789}",
	"{\"prompt\":\"x\",\"id\":99999999999999999999}",
	"{\"prompt\":\"x\",\"id\":-9223372036854775808}",
	"{\"prompt\":\"x\",\"id\":true}",
	"{\"prompt\":\"x\",\"id\":null}",
	"{\"prompt\":\"x\",\"meta\":{\"a\":1}}",
	"{\"prompt\":\"x\",\"tags\":[\"a\"]}",
	"{\"prompt\":\"x\",}",
	"{\"prompt\":\"x\" \"id\":1}",
	"{\"prompt\":\"x\"} trailing",
	"{\"prompt\":\"x\"}}",
	"{}",
	"{\"id\":1}",
	"{\"\":\"empty key\",\"prompt\":\"x\"}",
	"{\"pr\\u006fmpt\":\"escaped key\"}",
	"{\"prompt\":\"tab\tinside\"}",
	"{\"prompt\":\"del \x7f inside\"}",
	"{\"prompt\":\"x\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
	"\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,"
	"\"n\":14,\"o\":15}",
	"{\"prompt\":\"x\",\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,"
	"\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,"
	"\"n\":14,\"o\":15,\"p\":16}",
	"{\"prompt\":\"x\",\"id\":\"dup\"}\n{\"prompt\":\"y\",\"id\":\"dup\"}",
	"{\"prompt\":\"x\\\"}",
	"{\"prompt\":\"x\\q\"}",
	"[\"prompt\",\"x\"]",
	"{\"prompt\":\"x\"\r",
};

static void test_lines(void)
{
	struct buf all;

	buf_init(&all, 1u << 20);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		CHECK(both(lines[i], strlen(lines[i])));
		CHECK(buf_add(&all, lines[i], strlen(lines[i])) == 0 &&
		      buf_add(&all, "\n", 1) == 0);
	}
	CHECK(both(all.data, all.len));	/* one file: indexes, dups */
	buf_release(&all);
}

/* A named prompt field (prompt_field): the same both ways. */
static void test_field(void)
{
	static const char text[] =
		"{\"question\":\"a\",\"id\":1}\n"
		"{\"prompt\":\"b\"}\n"
		"{\"question\":[{\"role\":\"user\",\"content\":\"c\"}]}\n"
		"{\"question\":\"d\",\"prompt\":\"e\"}\n";

	prompts_set_field("question");
	CHECK(both(text, sizeof(text) - 1));
	prompts_set_field(NULL);
}

/* Every one-byte change of a few lines, to characters that matter. */
static void test_mutations(void)
{
	static const char *const seeds[] = {
		"{\"id\":\"b7\",\"prompt\":\"Q: a \\\"b\\\"\\n?\"}",
		"{\"prompt\":\"x y\",\"id\":-12,\"n\":0}",
	};
	static const char subst[] = { '"', '\\', '{', '}', '[', ']', ',', ':',
				      ' ', '0', '9', '-', 'e', '.', 'u', 'n',
				      't', '/', '\t', '\x01', '\r' };
	int bad = 0;

	for (size_t i = 0; i < ARRAY_SIZE(seeds); i++) {
		size_t len = strlen(seeds[i]);
		char *t = xstrdup(seeds[i]);

		for (size_t k = 0; k < len; k++) {
			char was = t[k];

			for (size_t s = 0; s < sizeof(subst); s++) {
				t[k] = subst[s];
				bad += !both(t, len);
			}
			t[k] = was;
		}
		for (size_t k = 0; k <= len; k++)	/* every prefix */
			bad += !both(t, k);
		free(t);
	}
	CHECK(bad == 0);
}

TESTS(T(test_lines), T(test_field), T(test_mutations))
