/* util.c - error reports, allocation wrappers, small string helpers. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *tty_escape(const char *s, bool keep_lines);

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* messages quote data (ids, names, a server's words) and end up on
	 * a terminal: no control character gets there raw */
	for (const unsigned char *p = (const unsigned char *)e->msg; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p >= 0x7f) {
			snprintf(e->msg, sizeof(e->msg), "%s",
				 tty_escape(e->msg, true));
			break;
		}
	return -1;
}

static void oom(size_t n)
{
	fprintf(stderr, "caigen: out of memory (allocating %zu bytes)\n", n);
	exit(2);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	p = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t *row = xmalloc((lb + 1) * sizeof(*row));
	size_t d;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	d = row[lb];
	free(row);
	return d;
}

double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- files written whole ---- */

FILE *fopen_excl_tmp(const char *path, char **tmp, struct err *err)
{
	int fd = -1;
	FILE *f;

	*tmp = NULL;
	for (unsigned i = 0; i < 100 && fd < 0; i++) {
		free(*tmp);
		*tmp = i ? xasprintf("%s.tmp.%ld.%u", path, (long)getpid(), i)
			 : xasprintf("%s.tmp", path);
		fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err_set(err, "cannot write '%s': %s", path, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err_set(err, "cannot write '%s': %s", *tmp, strerror(errno));
		close(fd);
		unlink(*tmp);
		free(*tmp);
		*tmp = NULL;
	}
	return f;
}

FILE *wfile_open(struct wfile *w, const char *path, struct err *err)
{
	memset(w, 0, sizeof(*w));
	w->f = fopen_excl_tmp(path, &w->tmp, err);
	if (w->f)
		w->path = xstrdup(path);
	return w->f;
}

void wfile_abort(struct wfile *w)
{
	if (w->f)
		fclose(w->f);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->path);
	memset(w, 0, sizeof(*w));
}

int wfile_commit(struct wfile *w, struct err *err)
{
	int bad = ferror(w->f) || fflush(w->f) != 0 || fsync(fileno(w->f)) < 0;
	int rc;

	if (fclose(w->f) != 0)
		bad = 1;
	w->f = NULL;
	if (bad) {
		rc = err_set(err, "cannot write '%s': %s", w->tmp,
			     strerror(errno ? errno : EIO));
	} else if (rename(w->tmp, w->path) < 0) {
		rc = err_set(err, "cannot rename '%s' to '%s': %s", w->tmp,
			     w->path, strerror(errno));
	} else {
		free(w->tmp);
		w->tmp = NULL;
		rc = 0;
	}
	wfile_abort(w);
	return rc;
}

int write_file_atomic(const char *path, const char *data, size_t len,
		      struct err *err)
{
	struct wfile w;
	FILE *f = wfile_open(&w, path, err);

	if (!f)
		return -1;
	if (len && fwrite(data, 1, len, f) != len) {
		err_set(err, "cannot write '%s': %s", w.tmp, strerror(errno));
		wfile_abort(&w);
		return -1;
	}
	return wfile_commit(&w, err);
}

FILE *fopen_regular(const char *path, struct err *err)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	FILE *f;

	if (fd < 0) {
		if (errno != ENOENT)
			err_set(err, "cannot open '%s': %s", path,
				strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, "'%s' is not a regular file (a FIFO, device or "
			"folder of that name is not read)", path);
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	/* reads of a regular file do not block; drop the flag anyway */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	f = fdopen(fd, "r");
	if (!f) {
		err_set(err, "cannot open '%s': %s", path, strerror(errno));
		close(fd);
	}
	return f;
}

bool is_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t ls = strlen(s), lt = strlen(tail);

	return ls >= lt && !strcasecmp(s + ls - lt, tail);
}

int report_out_check(const char *out, const char *const *in, size_t n,
		     struct err *err)
{
	static const char *const data[] = { ".jsonl", ".json", ".yaml",
					    ".yml" };

	for (size_t i = 0; i < n; i++)
		if (in[i] && (!strcmp(in[i], out) || is_same_file(in[i], out)))
			return err_set(err, "'%s' is both an input and the "
				       "report: give the report another name",
				       out);
	for (size_t i = 0; i < ARRAY_SIZE(data); i++)
		if (ends_with(out, data[i]))
			return err_set(err, "'%s' looks like a data or "
				       "settings file (%s): the report is "
				       "HTML; give it a name like "
				       "report.html", out, data[i]);
	return 0;
}

/* ---- URLs with a password ---- */

/* At s (just after "://"): the length of a userinfo part ending in '@'
 * (the last '@' before the host ends), or 0. */
static size_t userinfo_len(const char *s)
{
	size_t i, at = 0;

	for (i = 0; s[i] && !strchr("/?#\"' \t\r\n<>\\", s[i]); i++)
		if (s[i] == '@')
			at = i + 1;
	return at;
}

char *text_mask_urls(const char *text)
{
	size_t len = strlen(text), cap = len + 1, o = 0;
	char *out = xmalloc(cap + 16);
	const char *p = text;

	while (*p) {
		const char *q = strstr(p, "://");
		size_t ui, head;

		if (!q) {
			head = strlen(p);
		} else {
			head = (size_t)(q - p) + 3;
		}
		if (o + head + 4 >= cap) {
			cap = (o + head + 4) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + o, p, head);
		o += head;
		p += head;
		if (!q)
			break;
		ui = userinfo_len(p);
		if (ui) {
			memcpy(out + o, "***@", 4);
			o += 4;
			p += ui;
		}
	}
	out[o] = '\0';
	return out;
}

void err_mask_urls(struct err *e)
{
	char *m;

	if (!e || !strstr(e->msg, "://"))
		return;
	m = text_mask_urls(e->msg);
	snprintf(e->msg, sizeof(e->msg), "%s", m);
	free(m);
}

char *url_mask(const char *url)
{
	return text_mask_urls(url);
}

/* ---- strings from data on a terminal ---- */

/*
 * The 8 buffers of a thread. They hang on a pthread key whose destructor
 * frees them when the thread ends: a thread that exits before the
 * process (the batch executor's) leaves nothing behind. (_Thread_local
 * pointers would be lost with their thread: a leak per thread, which
 * LeakSanitizer reports as exit 1.)
 */
struct tty_ring {
	char *buf[8];
	size_t cap[8];
	unsigned next;
};

static pthread_key_t tty_key;
static pthread_once_t tty_once = PTHREAD_ONCE_INIT;

static void tty_ring_free(void *p)
{
	struct tty_ring *r = p;

	for (int k = 0; k < 8; k++)
		free(r->buf[k]);
	free(r);
}

static void tty_key_make(void)
{
	if (pthread_key_create(&tty_key, tty_ring_free) != 0) {
		fprintf(stderr, "caigen: out of memory\n");
		exit(2);
	}
}

static struct tty_ring *tty_ring(void)
{
	struct tty_ring *r;

	pthread_once(&tty_once, tty_key_make);
	r = pthread_getspecific(tty_key);
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		if (pthread_setspecific(tty_key, r) != 0) {
			fprintf(stderr, "caigen: out of memory\n");
			exit(2);
		}
	}
	return r;
}

static const char *tty_escape(const char *s, bool keep_lines)
{
	struct tty_ring *r = tty_ring();
	const unsigned char *u = (const unsigned char *)(s ? s : "(null)");
	size_t need = strlen((const char *)u) * 4 + 1, o = 0;
	unsigned k = r->next++ % 8;
	char *b;

	if (r->cap[k] < need) {
		r->buf[k] = xrealloc(r->buf[k], need);
		r->cap[k] = need;
	}
	b = r->buf[k];
	while (*u) {
		size_t n = *u < 0x80 ? 1 : (*u & 0xe0) == 0xc0 ? 2 :
			   (*u & 0xf0) == 0xe0 ? 3 : (*u & 0xf8) == 0xf0 ? 4 : 0;
		size_t i;

		for (i = 1; i < n; i++)
			if ((u[i] & 0xc0) != 0x80)
				n = 0;	/* cut short: not UTF-8 */
		if (keep_lines && (*u == '\n' || *u == '\t')) {
			b[o++] = (char)*u++;
		} else if (n == 0 || *u < 0x20 || *u == 0x7f) {
			o += (size_t)sprintf(b + o, "\\x%02x", *u);
			u++;
		} else if (n == 2 && *u == 0xc2 && u[1] < 0xa0) {
			o += (size_t)sprintf(b + o, "\\u%04x", u[1]);
			u += 2;
		} else {
			memcpy(b + o, u, n);
			o += n;
			u += n;
		}
	}
	b[o] = '\0';
	return b;
}

const char *tty_safe(const char *s)
{
	return tty_escape(s, false);
}

int option_long(const char *name, const char *v, long lo, long hi, long *out)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || end == v || x < lo || x > hi) {
		fprintf(stderr, "caigen: %s must be a number from %ld to %ld, "
			"got '%s'\n", name, lo, hi, v);
		return -1;
	}
	*out = x;
	return 0;
}
