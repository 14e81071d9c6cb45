/*
 * writer.c - appends whole lines, repairs and scans files on resume.
 *
 * Design: the item machines build each record as one line of compact
 * JSON on the event loops; here we only batch bytes. A batch is written with
 * write(2) calls that, on a regular file opened O_APPEND, land whole unless
 * the disk fills or the process dies mid-call; the open-time repair handles
 * the second case, and the first is reported and stops the run with the
 * file cut back to its last whole line.
 */
#include "writer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define BATCH_BYTES (256u << 10)
#define MAX_LINE (1u << 30)

static int mkdirs(const char *dir, struct err *err)
{
	char *p = xstrdup(dir), *s;
	int rc = 0;

	for (s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				rc = err_set(err, "cannot create '%s': %s", p,
					     strerror(errno));
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return rc;
}

/* Cut a partial last line: truncate just after the last '\n' (or to 0
 * when there is none). */
static int repair(int fd, const char *path, size_t *cut, struct err *err)
{
	struct stat st;
	char block[4096];
	off_t end, pos, keep = 0;

	*cut = 0;
	if (fstat(fd, &st) < 0)
		return err_set(err, "cannot stat '%s': %s", path,
			       strerror(errno));
	end = pos = st.st_size;
	while (pos > 0 && !keep) {
		size_t n = pos > (off_t)sizeof(block) ? sizeof(block) :
							(size_t)pos;
		ssize_t got = pread(fd, block, n, pos - (off_t)n);

		if (got != (ssize_t)n)
			return err_set(err, "cannot read '%s': %s", path,
				       got < 0 ? strerror(errno) :
						 "short read");
		pos -= (off_t)n;
		for (size_t i = n; i > 0 && !keep; i--)
			if (block[i - 1] == '\n')
				keep = pos + (off_t)i;
	}
	if (keep == end)
		return 0;
	if (ftruncate(fd, keep) < 0)
		return err_set(err, "cannot repair '%s': %s", path,
			       strerror(errno));
	*cut = (size_t)(end - keep);
	return 0;
}

char *writer_line_id(const char *line, size_t len)
{
	json_t *j = json_loadb(line, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "id"));
	char *r = id ? xstrdup(id) : NULL;

	json_decref(j);
	return r;
}

/* Read a file line by line and call fn on each. */
static int scan_lines(const char *path, int (*fn)(const char *, size_t,
						   void *), void *arg,
		      struct err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		if (n && fn(line, (size_t)n, arg) < 0) {
			rc = -1;
			break;
		}
	}
	if (ferror(f))
		rc = err_set(err, "cannot read '%s': %s", path,
			     strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

struct scan_ctx {
	struct idset *set;
	size_t count;
	const char *key;	/* "id" or "line" */
};

/*
 * The records we write start {"schema":"S","id":"I", ...}. When a line has
 * that shape and neither S nor I holds an escape, copy I into out without
 * parsing the line: a resume over millions of records would otherwise
 * spend most of its time in the JSON parser. Anything else returns false
 * and is parsed.
 */
static bool fast_id(const char *line, size_t len, char *out, size_t outsz)
{
	static const char head[] = "{\"schema\":\"", mid[] = ",\"id\":\"";
	const char *p = line, *end = line + len, *q;

	if (len < sizeof(head) || line[len - 1] != '}' ||
	    memcmp(p, head, sizeof(head) - 1) != 0)
		return false;
	p += sizeof(head) - 1;
	while (p < end && *p != '"' && *p != '\\')
		p++;
	if (p >= end || *p != '"' || (size_t)(end - ++p) < sizeof(mid) ||
	    memcmp(p, mid, sizeof(mid) - 1) != 0)
		return false;
	p += sizeof(mid) - 1;
	for (q = p; q < end && *q != '"' && *q != '\\' &&
		    (unsigned char)*q >= 0x20; q++)
		;
	if (q >= end || *q != '"' || (size_t)(q - p) >= outsz)
		return false;
	memcpy(out, p, (size_t)(q - p));
	out[q - p] = '\0';
	return true;
}

static int scan_one(const char *line, size_t len, void *arg)
{
	struct scan_ctx *c = arg;
	char id[256];
	json_t *j, *v;

	if (!strcmp(c->key, "id") && fast_id(line, len, id, sizeof(id))) {
		c->count++;
		idset_add(c->set, idset_hash(id));
		return 0;
	}
	j = json_loadb(line, len, 0, NULL);
	v = json_object_get(j, c->key);
	c->count++;
	if (json_is_string(v))
		idset_add(c->set, idset_hash(json_string_value(v)));
	else if (json_is_integer(v))
		idset_add(c->set, (uint64_t)json_integer_value(v) + 1);
	json_decref(j);
	return 0;
}

static int count_one(const char *line, size_t len, void *arg)
{
	(void)line;
	(void)len;
	(*(size_t *)arg)++;
	return 0;
}

static int take_lock(struct writer *w, const char *suffix, struct err *err)
{
	char *path = xasprintf("%s/.lock%s", w->dir, suffix);
	int rc = 0;

	w->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (w->lock_fd < 0)
		rc = err_set(err, "cannot open '%s': %s", path,
			     strerror(errno));
	else if (flock(w->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = err_set(err, "'%s' is in use by another caigen run "
			     "(lock '%s')", w->dir, path);
	free(path);
	return rc;
}

/*
 * A sharded run (suffix ".shard-K-of-N") next to the non-empty files of a
 * job of another shard count would mix two splits of the same prompts:
 * every prompt would be done twice, and the folder's files would hold
 * both sets. Refused, naming a file of the other set.
 */
static int other_shard_count(const char *dir, const char *suffix,
			     struct err *err)
{
	static const char *const base[] = { "preferences", "critiques",
		"failures", "rejects", "manifest" };
	unsigned k, n, ok, on;
	struct dirent *de;
	int rc = 0;
	DIR *d;

	if (sscanf(suffix, ".shard-%u-of-%u", &k, &n) != 2 || n < 2)
		return 0;
	d = opendir(dir);
	if (!d)
		return 0;	/* writer_open says why, if it matters */
	while (rc == 0 && (de = readdir(d))) {
		const char *p = strstr(de->d_name, ".shard-");
		struct stat st;
		char *path;
		size_t i;

		if (!p || sscanf(p, ".shard-%u-of-%u", &ok, &on) != 2 ||
		    on == n || on < 2)
			continue;
		for (i = 0; i < ARRAY_SIZE(base); i++)
			if ((size_t)(p - de->d_name) == strlen(base[i]) &&
			    !strncmp(de->d_name, base[i], strlen(base[i])))
				break;
		if (i == ARRAY_SIZE(base))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && st.st_size > 0)
			rc = err_set(err, "'%s' holds the files of a job of %u "
				     "shards ('%s'); this run is shard %u of "
				     "%u: the two splits hold the same prompts "
				     "and would mix. Run with --shard K/%u, or "
				     "give another --out", dir, on,
				     de->d_name, k, n, on);
		free(path);
	}
	closedir(d);
	return rc;
}

int writer_open(struct writer *w, const char *dir, const char *records_name,
		const char *suffix, struct idset *done, struct idset *rejected,
		struct writer_resume *res, struct err *err)
{
	const char *base[OUT_COUNT] = { records_name, "failures", "rejects" };
	size_t cut;
	struct scan_ctx sc;

	memset(w, 0, sizeof(*w));
	memset(res, 0, sizeof(*res));
	for (int i = 0; i < OUT_COUNT; i++)
		w->fd[i] = -1;
	w->lock_fd = -1;
	w->dir = xstrdup(dir);
	if (mkdirs(dir, err) < 0 || other_shard_count(dir, suffix, err) < 0 ||
	    take_lock(w, suffix, err) < 0)
		goto fail;
	w->manifest_path = xasprintf("%s/manifest%s.json", dir, suffix);
	for (int i = 0; i < OUT_COUNT; i++) {
		buf_init(&w->pending[i], MAX_LINE);
		if (!base[i])
			continue;	/* OUT_RECORDS2: writer_open_second */
		w->path[i] = xasprintf("%s/%s%s.jsonl", dir, base[i], suffix);
		w->fd[i] = open(w->path[i],
				O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
		if (w->fd[i] < 0) {
			err_set(err, "cannot open '%s': %s", w->path[i],
				strerror(errno));
			goto fail;
		}
		if (repair(w->fd[i], w->path[i], &cut, err) < 0)
			goto fail;
		res->repaired_bytes += cut;
	}
	sc = (struct scan_ctx){ done, 0, "id" };
	if (scan_lines(w->path[OUT_RECORDS], scan_one, &sc, err) < 0)
		goto fail;
	res->records = sc.count;
	sc = (struct scan_ctx){ rejected, 0, "line" };
	if (scan_lines(w->path[OUT_REJECTS], scan_one, &sc, err) < 0)
		goto fail;
	res->rejects = sc.count;
	if (scan_lines(w->path[OUT_FAILURES], count_one, &res->failures,
		       err) < 0)
		goto fail;
	return 0;
fail:
	writer_close(w, NULL);
	return -1;
}

int writer_open_second(struct writer *w, const char *name,
		       const char *suffix, struct idset *done,
		       size_t *records, struct err *err)
{
	struct scan_ctx sc = { done, 0, "id" };
	const int f = OUT_RECORDS2;
	size_t cut;

	w->path[f] = xasprintf("%s/%s%s.jsonl", w->dir, name, suffix);
	w->fd[f] = open(w->path[f], O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
			0666);
	if (w->fd[f] < 0)
		return err_set(err, "cannot open '%s': %s", w->path[f],
			       strerror(errno));
	if (repair(w->fd[f], w->path[f], &cut, err) < 0 ||
	    scan_lines(w->path[f], scan_one, &sc, err) < 0)
		return -1;
	*records = sc.count;
	return 0;
}

static int write_all(struct writer *w, enum out_file f, struct err *err)
{
	struct buf *b = &w->pending[f];
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(w->fd[f], b->data + off, b->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			struct stat st;

			/* cut the batch off again: the file ends at the
			 * last whole record, and the records of this batch
			 * are redone by the next run */
			if (fstat(w->fd[f], &st) == 0 && S_ISREG(st.st_mode) &&
			    ftruncate(w->fd[f], st.st_size - (off_t)off) < 0)
				fprintf(stderr, "caigen: cannot cut '%s' back "
					"to its last record: %s\n", w->path[f],
					strerror(errno));
			buf_reset(b);
			return err_set(err, "cannot write '%s': %s",
				       w->path[f], strerror(e));
		}
		off += (size_t)n;
	}
	buf_reset(b);
	return 0;
}

int writer_put(struct writer *w, enum out_file f, const char *line,
	       size_t len, struct err *err)
{
	struct buf *b = &w->pending[f];
	char *masked = NULL;
	int rc;

	/* a failure's reason may quote a URL: never with its password */
	if (f == OUT_FAILURES && memchr(line, '@', len)) {
		char *raw = xstrndup(line, len);

		masked = text_mask_urls(raw);
		free(raw);
		line = masked;
		len = strlen(masked);
	}
	rc = buf_add(b, line, len) < 0 || buf_add(b, "\n", 1) < 0;
	free(masked);
	if (rc)
		return err_set(err, "record of %zu bytes is too large", len);
	if (b->len >= BATCH_BYTES)
		return write_all(w, f, err);
	return 0;
}

int writer_flush(struct writer *w, int sync, struct err *err)
{
	for (int i = 0; i < OUT_COUNT; i++) {
		if (w->fd[i] < 0)
			continue;
		if (w->pending[i].len && write_all(w, i, err) < 0)
			return -1;
		if (sync && fsync(w->fd[i]) < 0)
			return err_set(err, "cannot sync '%s': %s",
				       w->path[i], strerror(errno));
	}
	return 0;
}

int writer_manifest(struct writer *w, const char *json, struct err *err)
{
	char *text = text_mask_urls(json);	/* no password of a URL */
	size_t len = strlen(text);
	int rc;

	text = xrealloc(text, len + 2);
	text[len++] = '\n';
	text[len] = '\0';
	rc = write_file_atomic(w->manifest_path, text, len, err);
	free(text);
	return rc;
}

int writer_close(struct writer *w, struct err *err)
{
	int rc = 0;

	if (w->dir && writer_flush(w, 1, err) < 0)
		rc = -1;
	for (int i = 0; i < OUT_COUNT; i++) {
		if (w->fd[i] >= 0)
			close(w->fd[i]);
		w->fd[i] = -1;
		free(w->path[i]);
		w->path[i] = NULL;
		buf_release(&w->pending[i]);
	}
	if (w->lock_fd >= 0)
		close(w->lock_fd);	/* releases the flock */
	w->lock_fd = -1;
	free(w->manifest_path);
	free(w->dir);
	w->manifest_path = NULL;
	w->dir = NULL;
	return rc;
}
