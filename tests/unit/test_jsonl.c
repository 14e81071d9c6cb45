/*
 * test_jsonl.c - the shared JSONL reader on files made here: line numbers
 * over blank lines and CRLF, a line of 3 MB, gzip (two members), a cut or
 * damaged gzip stream, the error forms ("file:line: ..."), a callback
 * that stops, and a last line cut mid-write.
 */
#include "harness.h"
#include "jsonl.h"

#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

struct seen {
	size_t n, lines[16];
	long long v[16];
	size_t longest;
	int stop_at, fail_at;
};

static int take(void *ctx, json_t *o, size_t lineno, struct err *err)
{
	struct seen *s = ctx;
	json_t *t = json_object_get(o, "t");

	if (s->fail_at && (int)lineno == s->fail_at)
		return err_set(err, "no good: %lld",
			       (long long)json_integer_value(
				       json_object_get(o, "v")));
	if (s->n < 16) {
		s->lines[s->n] = lineno;
		s->v[s->n] = json_integer_value(json_object_get(o, "v"));
	}
	s->n++;
	if (json_string_length(t) > s->longest)
		s->longest = json_string_length(t);
	return s->stop_at && (int)lineno == s->stop_at ? 1 : 0;
}

static char *tmpfile_with(const char *data, size_t n)
{
	char tmpl[] = "/tmp/caigen-jsonl.XXXXXX";
	int fd = mkstemp(tmpl);

	CHECK(fd >= 0);
	CHECK(write(fd, data, n) == (ssize_t)n);
	close(fd);
	return xstrdup(tmpl);
}

static const char text[] =
	"{\"v\":1}\n"
	"\n"
	"  \t\r\n"
	"{\"v\":2}\r\n"
	"{\"v\":3}";		/* no newline at the end */

static void test_lines_crlf_blank(void)
{
	char *p = tmpfile_with(text, strlen(text));
	struct seen s = { 0 };
	struct err err;

	CHECK(jsonl_each(p, 0, take, &s, &err) == 5);
	CHECK(s.n == 3);
	CHECK(s.lines[0] == 1 && s.lines[1] == 4 && s.lines[2] == 5);
	CHECK(s.v[0] == 1 && s.v[1] == 2 && s.v[2] == 3);
	/* a last line without its newline: left out when asked */
	memset(&s, 0, sizeof(s));
	CHECK(jsonl_each(p, JSONL_DROP_CUT_LAST, take, &s, &err) == 4);
	CHECK(s.n == 2);
	/* a callback that stops */
	memset(&s, 0, sizeof(s));
	s.stop_at = 4;
	CHECK(jsonl_each(p, 0, take, &s, &err) == 4);
	CHECK(s.n == 2);
	/* the callback's reason, with where */
	memset(&s, 0, sizeof(s));
	s.fail_at = 4;
	CHECK(jsonl_each(p, 0, take, &s, &err) == -1);
	{
		char *want = xasprintf("%s:4: no good: 2", p);

		CHECK_STR(err.msg, want);
		free(want);
	}
	unlink(p);
	free(p);
}

static void test_errors(void)
{
	static const char bad[] = "{\"v\":1}\n{\"v\":\n";
	char *p = tmpfile_with(bad, strlen(bad)), *want;
	struct seen s = { 0 };
	struct err err;

	CHECK(jsonl_each(p, 0, take, &s, &err) == -1);
	want = xasprintf("%s:2: invalid JSON: ", p);
	CHECK(!strncmp(err.msg, want, strlen(want)));
	free(want);
	CHECK(s.n == 1);
	unlink(p);
	CHECK(jsonl_each(p, 0, take, &s, &err) == -1);
	want = xasprintf("cannot open '%s': No such file or directory", p);
	CHECK_STR(err.msg, want);
	free(want);
	free(p);
}

static void test_long_line(void)
{
	size_t n = 3u << 20;
	char *big = xmalloc(n + 64), *p;
	struct seen s = { 0 };
	struct err err;
	size_t k;

	k = (size_t)sprintf(big, "{\"v\":7,\"t\":\"");
	memset(big + k, 'x', n);
	k += n;
	k += (size_t)sprintf(big + k, "\"}\n{\"v\":8}\n");
	p = tmpfile_with(big, k);
	CHECK(jsonl_each(p, 0, take, &s, &err) == 2);
	CHECK(s.n == 2 && s.longest == n && s.v[1] == 8);
	unlink(p);
	free(p);
	free(big);
}

/* text as gzip: two members, as `cat a.gz b.gz` makes */
static char *gz_file(size_t cut, bool damage)
{
	char tmpl[] = "/tmp/caigen-jsonl.XXXXXX";
	int fd = mkstemp(tmpl);
	gzFile z;
	FILE *f;
	char *data;
	long len;

	CHECK(fd >= 0);
	close(fd);
	for (int m = 0; m < 2; m++) {
		z = gzopen(tmpl, m ? "ab" : "wb");
		CHECK(z != NULL);
		gzputs(z, m ? "{\"v\":2}\r\n{\"v\":3}" : "{\"v\":1}\n\n \t\r\n");
		gzclose(z);
	}
	if (!cut && !damage)
		return xstrdup(tmpl);
	f = fopen(tmpl, "rb");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	data = xmalloc((size_t)len);
	CHECK(fread(data, 1, (size_t)len, f) == (size_t)len);
	fclose(f);
	if (damage)
		data[12] ^= 0x55;	/* inside the first member's data */
	f = fopen(tmpl, "wb");
	fwrite(data, 1, cut ? cut : (size_t)len, f);
	fclose(f);
	free(data);
	return xstrdup(tmpl);
}

static void test_gzip(void)
{
	char *p = gz_file(0, false), *want;
	struct seen s = { 0 };
	struct err err;

	CHECK(jsonl_each(p, 0, take, &s, &err) == 5);
	CHECK(s.n == 3 && s.v[0] == 1 && s.v[2] == 3 && s.lines[1] == 4);
	unlink(p);
	free(p);
	/* cut short: an error, not a quiet end */
	p = gz_file(30, false);
	memset(&s, 0, sizeof(s));
	CHECK(jsonl_each(p, 0, take, &s, &err) == -1);
	want = xasprintf("cannot read '%s': ", p);
	CHECK(!strncmp(err.msg, want, strlen(want)));
	CHECK(strstr(err.msg, "gzip") != NULL);
	free(want);
	unlink(p);
	free(p);
	p = gz_file(0, true);
	memset(&s, 0, sizeof(s));
	CHECK(jsonl_each(p, 0, take, &s, &err) == -1);
	CHECK(strstr(err.msg, "gzip stream is damaged") != NULL ||
	      strstr(err.msg, "invalid JSON") != NULL);
	unlink(p);
	free(p);
}

TESTS(T(test_lines_crlf_blank), T(test_errors), T(test_long_line),
      T(test_gzip))
