/*
 * test_prompts.c - the prompts reader: formats, ids, every reject reason
 * with its line number, odd bytes and odd line ends, the line-length
 * ceiling. Each test writes its own fixture into a fresh directory under
 * /tmp, so nothing depends on files elsewhere.
 */
#include "harness.h"

#include "buf.h"
#include "prompts.h"
#include "rng.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_prompts.XXXXXX";
static bool made_tmpdir;
static char *paths[64];
static size_t npaths;

static void cleanup(void)
{
	for (size_t i = 0; i < npaths; i++) {
		unlink(paths[i]);
		free(paths[i]);
	}
	if (made_tmpdir)
		rmdir(tmpdir);
}

/* Write a fixture and return its path (owned here, removed at exit). */
static const char *fixture(const char *name, const void *data, size_t len)
{
	char *path;
	FILE *f;

	if (!made_tmpdir) {
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			exit(1);
		}
		made_tmpdir = true;
		atexit(cleanup);
	}
	path = xasprintf("%s/%s", tmpdir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	if (npaths == ARRAY_SIZE(paths)) {
		fprintf(stderr, "too many fixtures\n");
		exit(1);
	}
	paths[npaths++] = path;
	return path;
}

static const char *fixture_str(const char *name, const char *text)
{
	return fixture(name, text, strlen(text));
}

/*
 * Read a whole file and describe each result on a line of its own:
 *   ok INDEX ID MESSAGES-AS-COMPACT-JSON
 *   rej LINE REASON
 *   error MESSAGE
 * so a test states what the reader must say as one string. Also checks
 * the invariants every prompt must meet.
 */
static char *transcript_r(struct prompts *r)
{
	struct buf out;
	struct prompt p;
	struct reject rej;
	struct err err;
	enum prompts_status st;
	int guard = 0;

	buf_init(&out, (size_t)1 << 30);
	while ((st = prompts_next(r, &p, &rej, &err)) != PROMPTS_EOF) {
		char *js;
		int rc = 0;

		if (++guard > 1000) {
			CHECK(!"runaway reader");
			break;
		}
		switch (st) {
		case PROMPTS_OK:
			CHECK(p.id && p.id[0]);
			CHECK(json_is_array(p.messages));
			js = json_dumps(p.messages, JSON_COMPACT);
			rc = buf_printf(&out, "ok %zu %s %s\n", p.index, p.id,
					js);
			free(js);
			prompt_release(&p);
			break;
		case PROMPTS_REJECT:
			CHECK(rej.reason != NULL);
			rc = buf_printf(&out, "rej %zu %s\n", rej.line,
					rej.reason);
			reject_release(&rej);
			break;
		default:
			rc = buf_printf(&out, "error %s\n", err.msg);
			goto out;
		}
		CHECK(rc == 0);
	}
out:
	return buf_detach(&out);
}

static char *transcript(const char *path, size_t max_line,
			struct prompts_stats *stats)
{
	struct err err;
	struct prompts *r = prompts_open(path, max_line, &err);
	char *t;

	if (!r)
		return xasprintf("open: %s\n", err.msg);
	t = transcript_r(r);
	if (stats)
		*stats = *prompts_stats(r);
	prompts_close(r);
	return t;
}

static char *hid(const char *s)
{
	return xasprintf("h%016" PRIx64, hash64(s, strlen(s)));
}

static void check_sums(const struct prompts_stats *s)
{
	CHECK(s->lines == s->blank + s->ok + s->rejected);
}

static void test_jsonl_good(void)
{
	const char *path = fixture_str("good.jsonl",
		"{\"prompt\":\"hello\",\"id\":\"a\"}\n"
		"{\"prompt\":\"x\",\"id\":42,\"extra\":[1]}\n"
		"{\"id\":\"m\",\"messages\":[{\"role\":\"system\","
		"\"content\":\"be kind\",\"name\":\"s\"},{\"content\":\"hi\","
		"\"role\":\"user\"}],\"other\":true}\n"
		"{\"prompt\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\",\"id\":-7}\n");
	struct prompts_stats st;
	char *t = transcript(path, 0, &st);

	CHECK_STR(t,
		"ok 0 a [{\"role\":\"user\",\"content\":\"hello\"}]\n"
		"ok 1 42 [{\"role\":\"user\",\"content\":\"x\"}]\n"
		"ok 2 m [{\"role\":\"system\",\"content\":\"be kind\"},"
		"{\"role\":\"user\",\"content\":\"hi\"}]\n"
		"ok 3 -7 [{\"role\":\"user\",\"content\":\"caf\xc3\xa9 "
		"\xf0\x9f\x98\x80\"}]\n");
	CHECK(st.lines == 4 && st.ok == 4 && st.rejected == 0);
	free(t);
}

/* text is the string for "prompt" and NULL for "messages". */
static void test_text_field(void)
{
	const char *path = fixture_str("textfield.jsonl",
		"{\"prompt\":\"one\"}\n"
		"{\"messages\":[{\"role\":\"user\",\"content\":\"two\"}]}\n");
	struct err err;
	struct prompts *r = prompts_open(path, 1024, &err);
	struct prompt p;
	struct reject rej;

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_STR(prompts_format(r), "jsonl");
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_OK);
	CHECK_STR(p.text, "one");
	CHECK(p.index == 0);
	prompt_release(&p);
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_OK);
	CHECK(p.text == NULL);
	CHECK(p.index == 1);
	prompt_release(&p);
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_EOF);
	/* EOF stays EOF */
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_EOF);
	prompts_close(r);
}

/* Every reason, each followed by a good line to show reading goes on. */
static void test_reject_reasons(void)
{
	static const struct {
		const char *line;
		const char *reason;	/* exact, but see below */
	} cases[] = {
		{ "{\"prompt\": }", "invalid JSON at column 12:" },
		{ "{\"prompt\":\"a\"} x", "invalid JSON at column 16:" },
		{ "{\"prompt\":\"a\",\"prompt\":\"b\"}",
		  "invalid JSON at column" },
		{ "{\"prompt\":\"a\\u0000\"}", "invalid JSON at column" },
		{ "[1,2]", "not a JSON object" },
		{ "{\"id\":\"q\"}", "missing 'prompt' or 'messages'" },
		{ "{\"prompt\":\"a\",\"messages\":[]}",
		  "both 'prompt' and 'messages' given" },
		{ "{\"prompt\":5}", "'prompt' must be a string" },
		{ "{\"prompt\":null}", "'prompt' must be a string" },
		{ "{\"prompt\":\"\"}", "'prompt' is empty" },
		{ "{\"prompt\":\" \\n\\t \"}", "'prompt' is empty" },
		{ "{\"messages\":[]}", "'messages' must be a non-empty list" },
		{ "{\"messages\":{}}", "'messages' must be a non-empty list" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
		  "{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"user\"}]}",
		  "messages[2] must be an object with string 'role' and "
		  "'content'" },
		{ "{\"messages\":[\"hi\"]}",
		  "messages[0] must be an object with string 'role' and "
		  "'content'" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":7}]}",
		  "messages[0] must be an object with string 'role' and "
		  "'content'" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
		  "{\"role\":\"bot\",\"content\":\"b\"}]}",
		  "messages[1] has unknown role 'bot' (expected system, user "
		  "or assistant)" },
		{ "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
		  "{\"role\":\"assistant\",\"content\":\"b\"}]}",
		  "the last message must have role 'user'" },
		{ "{\"prompt\":\"a\",\"id\":\"\"}",
		  "'id' must be a non-empty string or an integer" },
		{ "{\"prompt\":\"a\",\"id\":1.5}",
		  "'id' must be a non-empty string or an integer" },
		{ "{\"prompt\":\"a\",\"id\":null}",
		  "'id' must be a non-empty string or an integer" },
		{ "{\"prompt\":\"a\",\"id\":[\"x\"]}",
		  "'id' must be a non-empty string or an integer" },
	};
	struct buf in;
	struct prompts_stats st;
	char *t, *line, *save = NULL;
	size_t i, n = 0;

	buf_init(&in, (size_t)1 << 20);
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		CHECK(buf_printf(&in, "%s\n{\"prompt\":\"good %zu\"}\n",
				 cases[i].line, i) == 0);
	t = transcript(fixture("rejects.jsonl", in.data, in.len), 0, &st);
	for (line = strtok_r(t, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save), n++) {
		size_t c = n / 2;
		char *want;

		if (c >= ARRAY_SIZE(cases))
			break;
		if (n % 2) {
			char *id = xasprintf("good %zu", c);
			char *h = hid(id);

			want = xasprintf("ok %zu %s ", n, h);
			free(h);
			free(id);
			if (strncmp(line, want, strlen(want)) != 0)
				CHECK_STR(line, want);
		} else {
			/* jansson's wording may change between versions:
			 * hold its reasons to their prefix */
			bool prefix = strncmp(cases[c].reason,
					      "invalid JSON", 12) == 0;

			want = xasprintf("rej %zu %s", n + 1,
					 cases[c].reason);
			if (prefix ? strncmp(line, want, strlen(want)) != 0
				   : strcmp(line, want) != 0)
				CHECK_STR(line, want);
		}
		free(want);
	}
	CHECK(n == 2 * ARRAY_SIZE(cases));
	CHECK(st.rejected == ARRAY_SIZE(cases));
	CHECK(st.ok == ARRAY_SIZE(cases));
	check_sums(&st);
	free(t);
	buf_release(&in);
}

/* The second and later uses of an id are rejected; integer ids are their
 * decimal text, so 7 and "7" are the same id; two identical prompts
 * without ids share the default id. */
static void test_duplicate_ids(void)
{
	const char *path = fixture_str("dups.jsonl",
		"{\"prompt\":\"a\",\"id\":\"x\"}\n"
		"{\"prompt\":\"b\",\"id\":\"x\"}\n"
		"{\"prompt\":\"c\",\"id\":7}\n"
		"{\"prompt\":\"d\",\"id\":\"7\"}\n"
		"{\"prompt\":\"same\"}\n"
		"{\"prompt\":\"same\"}\n"
		"{\"prompt\":\"e\",\"id\":\"x\"}\n");
	char *h = hid("same");
	char *want = xasprintf(
		"ok 0 x [{\"role\":\"user\",\"content\":\"a\"}]\n"
		"rej 2 duplicate id 'x'\n"
		"ok 2 7 [{\"role\":\"user\",\"content\":\"c\"}]\n"
		"rej 4 duplicate id '7'\n"
		"ok 4 %s [{\"role\":\"user\",\"content\":\"same\"}]\n"
		"rej 6 duplicate id '%s'\n"
		"rej 7 duplicate id 'x'\n", h, h);
	char *t = transcript(path, 0, NULL);

	CHECK_STR(t, want);
	free(t);
	free(want);
	free(h);
}

/* A long id is cut in the reason, on a character boundary. */
static void test_long_id_in_reason(void)
{
	struct buf in;
	char *t;

	buf_init(&in, 4096);
	for (int k = 0; k < 2; k++) {
		CHECK(buf_addstr(&in, "{\"prompt\":\"p\",\"id\":\"") == 0);
		for (int i = 0; i < 40; i++)
			CHECK(buf_addstr(&in, "\xc3\xa9") == 0);	/* é */
		CHECK(buf_addstr(&in, "\"}\n") == 0);
	}
	t = transcript(fixture("longid.jsonl", in.data, in.len), 0, NULL);
	{
		char *rej = strstr(t, "rej 2 duplicate id '");

		CHECK(rej != NULL);
		if (rej) {
			/* 32 whole é = 64 bytes, then "..." */
			const char *q = rej + strlen("rej 2 duplicate id '");

			CHECK(strncmp(q + 64, "...'\n", 5) == 0);
		}
	}
	free(t);
	buf_release(&in);
}

static void test_blank_bom_crlf(void)
{
	const char *path = fixture_str("bom.jsonl",
		"\xef\xbb\xbf{\"prompt\":\"a\"}\r\n"
		"\r\n"
		"   \t\r\n"
		"\n"
		"{\"prompt\":\"b\\r\"}\r\n"
		"{\"prompt\":\"c\"}");	/* no final newline */
	struct prompts_stats st;
	char *ha = hid("a"), *hb = hid("b\r"), *hc = hid("c");
	char *want = xasprintf(
		"ok 0 %s [{\"role\":\"user\",\"content\":\"a\"}]\n"
		"ok 4 %s [{\"role\":\"user\",\"content\":\"b\\r\"}]\n"
		"ok 5 %s [{\"role\":\"user\",\"content\":\"c\"}]\n",
		ha, hb, hc);
	char *t = transcript(path, 0, &st);

	CHECK_STR(t, want);
	CHECK(st.lines == 6);
	CHECK(st.blank == 3);
	CHECK(st.ok == 3);
	check_sums(&st);
	free(t);
	free(want);
	free(ha);
	free(hb);
	free(hc);
}

/* A BOM is skipped in text files too, and only at the start. */
static void test_bom_text(void)
{
	const char *path = fixture_str("bom.txt",
		"\xef\xbb\xbfhello\r\n\xef\xbb\xbf" "again\n");
	char *h1 = hid("hello"), *h2 = hid("\xef\xbb\xbf" "again");
	char *want = xasprintf(
		"ok 0 %s [{\"role\":\"user\",\"content\":\"hello\"}]\n"
		"ok 1 %s [{\"role\":\"user\",\"content\":\"\xef\xbb\xbf"
		"again\"}]\n", h1, h2);
	char *t = transcript(path, 0, NULL);

	CHECK_STR(t, want);
	free(t);
	free(want);
	free(h1);
	free(h2);
}

static void test_bad_bytes(void)
{
	static const char data[] =
		"{\"prompt\":\"a\0b\"}\n"			/* 1 NUL */
		"{\"prompt\":\"\xc0\xaf\"}\n"			/* 2 overlong */
		"{\"prompt\":\"\xe0\x80\xaf\"}\n"		/* 3 overlong */
		"{\"prompt\":\"\xf0\x80\x80\xaf\"}\n"		/* 4 overlong */
		"{\"prompt\":\"\xe2\x82\"}\n"			/* 5 cut off */
		"{\"prompt\":\"x\"}\xe2\x82\n"			/* 6 at end */
		"{\"prompt\":\"\xed\xa0\x80\"}\n"		/* 7 U+D800 */
		"{\"prompt\":\"\xf4\x90\x80\x80\"}\n"		/* 8 > 10FFFF */
		"{\"prompt\":\"\xf5\x80\x80\x80\"}\n"		/* 9 F5 */
		"{\"prompt\":\"\x80\"}\n"			/* 10 lone */
		"{\"prompt\":\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"}\n" /* 11 ok */
		"\0\n";						/* 12 NUL */
	const char *path = fixture("bytes.jsonl", data, sizeof(data) - 1);
	struct prompts_stats st;
	char *t = transcript(path, 0, &st);
	char *h = hid("\xef\xbf\xbf\xf4\x8f\xbf\xbf");
	char *want = xasprintf(
		"rej 1 NUL byte at byte 13\n"
		"rej 2 invalid UTF-8 at byte 12\n"
		"rej 3 invalid UTF-8 at byte 12\n"
		"rej 4 invalid UTF-8 at byte 12\n"
		"rej 5 invalid UTF-8 at byte 12\n"
		"rej 6 invalid UTF-8 at byte 15\n"
		"rej 7 invalid UTF-8 at byte 12\n"
		"rej 8 invalid UTF-8 at byte 12\n"
		"rej 9 invalid UTF-8 at byte 12\n"
		"rej 10 invalid UTF-8 at byte 12\n"
		"ok 10 %s [{\"role\":\"user\",\"content\":\"\xef\xbf\xbf"
		"\xf4\x8f\xbf\xbf\"}]\n"
		"rej 12 NUL byte at byte 1\n", h);

	CHECK_STR(t, want);
	CHECK(st.lines == 12 && st.rejected == 11 && st.ok == 1);
	check_sums(&st);
	free(t);
	free(want);
	free(h);
}

/* The same checks hold for text files. */
static void test_bad_bytes_text(void)
{
	static const char data[] = "ok\nbad \xed\xbf\xbf\nnul\0\nfine\n";
	const char *path = fixture("bytes.txt", data, sizeof(data) - 1);
	char *h1 = hid("ok"), *h2 = hid("fine");
	char *want = xasprintf(
		"ok 0 %s [{\"role\":\"user\",\"content\":\"ok\"}]\n"
		"rej 2 invalid UTF-8 at byte 5\n"
		"rej 3 NUL byte at byte 4\n"
		"ok 3 %s [{\"role\":\"user\",\"content\":\"fine\"}]\n",
		h1, h2);
	char *t = transcript(path, 0, NULL);

	CHECK_STR(t, want);
	free(t);
	free(want);
	free(h1);
	free(h2);
}

/* A 3 MiB line against a 1 MiB limit: rejected, and the next line read. */
static void test_long_line(void)
{
	size_t big = (size_t)3 << 20, max = (size_t)1 << 20;
	char *data = xmalloc(big + 64);
	size_t n = 0;
	struct prompts_stats st;
	const char *path;
	char *t, *want, *h = hid("next");

	n += (size_t)sprintf(data, "{\"prompt\":\"");
	memset(data + n, 'a', big);
	n += big;
	n += (size_t)sprintf(data + n, "\"}\n{\"prompt\":\"next\"}\n");
	path = fixture("long.jsonl", data, n);
	free(data);
	t = transcript(path, max, &st);
	want = xasprintf(
		"rej 1 line is longer than the limit of 1048576 bytes\n"
		"ok 1 %s [{\"role\":\"user\",\"content\":\"next\"}]\n", h);
	CHECK_STR(t, want);
	CHECK(st.lines == 2 && st.rejected == 1 && st.ok == 1);
	free(t);
	free(want);
	free(h);
}

/* The limit counts the bytes of the line without LF or CRLF; a last line
 * without a newline is held to it too. */
static void test_line_limit_edges(void)
{
	/* {"prompt":"xxxx"} is 17 bytes */
	const char *path = fixture_str("edge.jsonl",
		"{\"prompt\":\"xxxx\"}\r\n"
		"{\"prompt\":\"yyyyy\"}\n"
		"{\"prompt\":\"zzzz\"}\n"
		"{\"prompt\":\"wwwww\"}");
	char *hx = hid("xxxx"), *hz = hid("zzzz");
	char *want = xasprintf(
		"ok 0 %s [{\"role\":\"user\",\"content\":\"xxxx\"}]\n"
		"rej 2 line is longer than the limit of 17 bytes\n"
		"ok 2 %s [{\"role\":\"user\",\"content\":\"zzzz\"}]\n"
		"rej 4 line is longer than the limit of 17 bytes\n", hx, hz);
	char *t = transcript(path, 17, NULL);

	CHECK_STR(t, want);
	free(t);
	free(want);
	free(hx);
	free(hz);
}

/* Long lines that straddle many 64 KiB blocks, with short lines between,
 * so the reader's block boundaries fall everywhere. */
static void test_block_boundaries(void)
{
	struct buf in;
	struct prompts_stats st;
	struct err err;
	struct prompts *r;
	struct prompt p;
	struct reject rej;
	enum prompts_status s;
	size_t lens[] = { 65535, 65536, 65537, 1, 131072, 100000, 7 };
	size_t i, ok = 0;

	buf_init(&in, (size_t)64 << 20);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		for (size_t k = 0; k < lens[i]; k++)
			CHECK(buf_add(&in, "b", 1) == 0);
		CHECK(buf_addstr(&in, i % 2 ? "\r\n" : "\n") == 0);
	}
	r = prompts_open(fixture("blocks.txt", in.data, in.len), 0, &err);
	CHECK(r != NULL);
	if (!r)
		goto out;
	while ((s = prompts_next(r, &p, &rej, &err)) == PROMPTS_OK) {
		CHECK(strlen(p.text) == lens[ok]);
		CHECK(p.index == ok);
		ok++;
		prompt_release(&p);
	}
	CHECK(s == PROMPTS_EOF);
	CHECK(ok == ARRAY_SIZE(lens));
	st = *prompts_stats(r);
	CHECK(st.lines == ARRAY_SIZE(lens));
	prompts_close(r);
out:
	buf_release(&in);
}

static void test_text_format(void)
{
	const char *path = fixture_str("plain.txt",
		"first prompt\n"
		"\n"
		"   \t\n"
		"  second, with spaces  \n"
		"{\"prompt\":\"kept as text\"}\n");
	struct err err;
	struct prompts *r = prompts_open(path, 0, &err);
	struct prompts_stats st;
	char *h1 = hid("first prompt");
	char *h2 = hid("  second, with spaces  ");
	char *h3 = hid("{\"prompt\":\"kept as text\"}");
	char *want = xasprintf(
		"ok 0 %s [{\"role\":\"user\",\"content\":\"first prompt\"}]\n"
		"ok 3 %s [{\"role\":\"user\",\"content\":"
		"\"  second, with spaces  \"}]\n"
		"ok 4 %s [{\"role\":\"user\",\"content\":"
		"\"{\\\"prompt\\\":\\\"kept as text\\\"}\"}]\n", h1, h2, h3);
	char *t;

	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK_STR(prompts_format(r), "text");
	t = transcript_r(r);
	CHECK_STR(t, want);
	st = *prompts_stats(r);
	CHECK(st.lines == 5 && st.blank == 2 && st.ok == 3);
	free(t);
	prompts_close(r);
out:
	free(want);
	free(h1);
	free(h2);
	free(h3);
}

static void check_format(const char *name, const char *data,
			 const char *want)
{
	struct err err;
	struct prompts *r = prompts_open(fixture_str(name, data), 0, &err);

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_STR(prompts_format(r), want);
	prompts_close(r);
}

/* By extension (any case), else by the first non-blank line. */
static void test_format_detection(void)
{
	check_format("a.JSONL", "hello\n", "jsonl");
	check_format("a.json", "hello\n", "jsonl");
	check_format("a.TXT", "{\"prompt\":\"a\"}\n", "text");
	check_format("sniff1", "\n  \r\n\t{\"prompt\":\"a\"}\n", "jsonl");
	check_format("sniff2", "\xef\xbb\xbf{\"prompt\":\"a\"}\n", "jsonl");
	check_format("sniff3", "\n\nhello\n", "text");
	check_format("sniff4.dat", "[1]\n", "text");
	check_format("sniff5", "", "jsonl");
}

/* More than a block of blank space before the first line: the format is
 * sniffed when that line is reached. */
static void test_late_sniff(void)
{
	struct buf in;
	char *t, *want, *h = hid("late text");

	buf_init(&in, (size_t)1 << 20);
	for (int i = 0; i < 40000; i++)
		CHECK(buf_addstr(&in, " \n") == 0);
	CHECK(buf_addstr(&in, "late text\n") == 0);
	t = transcript(fixture("late", in.data, in.len), 0, NULL);
	want = xasprintf("ok 40000 %s [{\"role\":\"user\",\"content\":"
			 "\"late text\"}]\n", h);
	CHECK_STR(t, want);
	free(t);
	free(want);
	free(h);
	buf_release(&in);
}

/* "-" reads stdin and sniffs it. */
static void test_stdin(void)
{
	const char *path = fixture_str("stdin-data",
		"{\"prompt\":\"from stdin\",\"id\":\"s\"}\n");
	int save = dup(0), fd = open(path, O_RDONLY);
	char *t;

	CHECK(save >= 0 && fd >= 0);
	if (save < 0 || fd < 0)
		return;
	CHECK(dup2(fd, 0) == 0);
	close(fd);
	t = transcript("-", 0, NULL);
	CHECK_STR(t, "ok 0 s [{\"role\":\"user\",\"content\":"
		     "\"from stdin\"}]\n");
	/* stdin is left open for others */
	CHECK(fcntl(0, F_GETFD) != -1);
	dup2(save, 0);
	close(save);
	free(t);
}

/* Default ids: hash64 of the prompt text, or of the compact JSON of the
 * normalised messages (role then content, other keys dropped). The same
 * text as a JSONL prompt and as a text line gets the same id. */
static void test_default_ids(void)
{
	const char *path = fixture_str("ids.jsonl",
		"{\"prompt\":\"hello\"}\n"
		"{\"messages\": [ {\"content\": \"hi\", \"x\": 1, "
		"\"role\": \"user\"} ]}\n");
	const char *tpath = fixture_str("ids.txt", "hello\n");
	const char *compact = "[{\"role\":\"user\",\"content\":\"hi\"}]";
	char *want_text = xasprintf("h%016" PRIx64, hash64("hello", 5));
	char *want_msgs = xasprintf("h%016" PRIx64,
				    hash64(compact, strlen(compact)));
	struct err err;
	struct prompts *r = prompts_open(path, 0, &err);
	struct prompt p;
	struct reject rej;

	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_OK);
	CHECK_STR(p.id, want_text);
	CHECK(strlen(p.id) == 17);
	prompt_release(&p);
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_OK);
	CHECK_STR(p.id, want_msgs);
	prompt_release(&p);
	prompts_close(r);

	r = prompts_open(tpath, 0, &err);
	CHECK(r != NULL);
	if (!r)
		goto out;
	CHECK(prompts_next(r, &p, &rej, &err) == PROMPTS_OK);
	CHECK_STR(p.id, want_text);
	prompt_release(&p);
	prompts_close(r);
out:
	free(want_text);
	free(want_msgs);
}

static void test_empty(void)
{
	struct prompts_stats st;
	char *t = transcript(fixture_str("empty.jsonl", ""), 0, &st);

	CHECK_STR(t, "");
	CHECK(st.lines == 0 && st.blank == 0 && st.ok == 0);
	free(t);
	t = transcript(fixture_str("bomonly", "\xef\xbb\xbf"), 0, &st);
	CHECK_STR(t, "");
	CHECK(st.lines == 0);
	free(t);
	t = transcript(fixture_str("blanks.txt", "\n\n \n"), 0, &st);
	CHECK_STR(t, "");
	CHECK(st.lines == 3 && st.blank == 3);
	free(t);
}

static void test_open_errors(void)
{
	struct err err;
	char *missing, *want;
	struct prompts *r;

	fixture_str("x", "");	/* makes tmpdir */
	missing = xasprintf("%s/nope.jsonl", tmpdir);
	CHECK(prompts_open(missing, 0, &err) == NULL);
	want = xasprintf("cannot open '%s': No such file or directory",
			 missing);
	CHECK_STR(err.msg, want);
	free(want);
	free(missing);

	CHECK(prompts_open(tmpdir, 0, &err) == NULL);
	want = xasprintf("cannot open '%s': Is a directory", tmpdir);
	CHECK_STR(err.msg, want);
	free(want);

	/* Reading /proc/self/mem at offset 0 fails with EIO: a read error
	 * on the file itself. */
	r = prompts_open("/proc/self/mem", 0, &err);
	CHECK(r == NULL);
	if (!r)
		CHECK_STR(err.msg, "error reading '/proc/self/mem': "
			  "Input/output error");
	prompts_close(r);
	prompts_close(NULL);
}

/* A mixed file: every line is counted once. */
static void test_stats_add_up(void)
{
	const char *path = fixture_str("mixed.jsonl",
		"\n{\"prompt\":\"a\"}\nnot json\n\n{\"prompt\":\"a\"}\n"
		"{\"messages\":[{\"role\":\"user\",\"content\":\"q\"}]}\n"
		"  \n{}\n");
	struct prompts_stats st;
	char *t = transcript(path, 0, &st);

	CHECK(st.lines == 8);
	CHECK(st.blank == 3);
	CHECK(st.ok == 2);
	CHECK(st.rejected == 3);
	check_sums(&st);
	free(t);
}

TESTS(
	T(test_jsonl_good),
	T(test_text_field),
	T(test_reject_reasons),
	T(test_duplicate_ids),
	T(test_long_id_in_reason),
	T(test_blank_bom_crlf),
	T(test_bom_text),
	T(test_bad_bytes),
	T(test_bad_bytes_text),
	T(test_long_line),
	T(test_line_limit_edges),
	T(test_block_boundaries),
	T(test_text_format),
	T(test_format_detection),
	T(test_late_sniff),
	T(test_stdin),
	T(test_default_ids),
	T(test_empty),
	T(test_open_errors),
	T(test_stats_add_up),
)
