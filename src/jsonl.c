/*
 * jsonl.c - a JSONL file, line by line, parsed (jsonl.h).
 *
 * zlib's gz* functions read a gzip file inflated and any other file as
 * it is, so one loop serves both. Bytes are read in blocks and split at
 * "\n" into a line buffer that grows to the longest line.
 */
#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define BLOCK (64u << 10)

struct reader {
	gzFile z;
	char *block;
	size_t pos, end;
	bool eof;
	char *line;
	size_t len, cap;
	const char *path;
};

static int read_fail(struct reader *r, struct err *err)
{
	int code = Z_OK;
	const char *why = gzerror(r->z, &code);

	if (code == Z_ERRNO || code == Z_OK)
		why = strerror(errno ? errno : EIO);
	else if (code == Z_BUF_ERROR)
		why = "the gzip stream is cut short";
	else if (code == Z_DATA_ERROR)
		why = "the gzip stream is damaged";
	return err_set(err, "cannot read '%s': %s", r->path, why);
}

/* The next line into r->line (without "\n"): 1, 0 at the end with
 * nothing left, -1 with err. *cut: it ended at end of file, not "\n". */
static int next_line(struct reader *r, bool *cut, struct err *err)
{
	r->len = 0;
	for (;;) {
		char *nl = r->pos < r->end ? memchr(r->block + r->pos, '\n',
						    r->end - r->pos) : NULL;
		size_t take = nl ? (size_t)(nl - (r->block + r->pos)) :
				   r->end - r->pos;
		int n;

		if (r->len + take + 1 > r->cap) {
			r->cap = r->len + take + 1 > 2 * r->cap ?
				 r->len + take + 1 : 2 * r->cap;
			r->line = xrealloc(r->line, r->cap);
		}
		memcpy(r->line + r->len, r->block + r->pos, take);
		r->len += take;
		r->line[r->len] = '\0';
		r->pos += take;
		if (nl) {
			r->pos++;
			*cut = false;
			return 1;
		}
		if (r->eof) {
			*cut = true;
			return r->len > 0;
		}
		errno = 0;
		n = gzread(r->z, r->block, BLOCK);
		if (n < 0)
			return read_fail(r, err);
		if (n == 0) {
			int code = Z_OK;

			gzerror(r->z, &code);
			if (code != Z_OK)
				return read_fail(r, err);
			r->eof = true;
		}
		r->pos = 0;
		r->end = (size_t)n;
	}
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

long jsonl_each(const char *path, unsigned flags, jsonl_fn fn, void *ctx,
		struct err *err)
{
	struct reader r = { .path = path };
	size_t lineno = 0;
	int fd, got, rc = 0;
	bool cut = false;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	r.z = gzdopen(fd, "rb");
	if (!r.z) {
		close(fd);
		return err_set(err, "cannot open '%s': out of memory", path);
	}
	gzbuffer(r.z, BLOCK);
	r.block = xmalloc(BLOCK);
	while ((got = next_line(&r, &cut, err)) > 0) {
		json_error_t je;
		json_t *v;
		struct err e;

		if (cut && (flags & JSONL_DROP_CUT_LAST))
			break;
		lineno++;
		if (r.len && r.line[r.len - 1] == '\r')
			r.line[--r.len] = '\0';
		if (blank(r.line, r.len))
			continue;
		v = json_loadb(r.line, r.len, 0, &je);
		if (!v) {
			rc = err_set(err, "%s:%zu: invalid JSON: %s", path,
				     lineno, je.text);
			break;
		}
		rc = fn(ctx, v, lineno, &e);
		json_decref(v);
		if (rc < 0) {
			err_set(err, "%s:%zu: %s", path, lineno, e.msg);
			break;
		}
		if (rc > 0) {
			rc = 0;
			break;
		}
	}
	if (got < 0)
		rc = -1;
	gzclose(r.z);
	free(r.block);
	free(r.line);
	return rc < 0 ? -1 : (long)lineno;
}
