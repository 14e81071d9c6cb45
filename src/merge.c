/*
 * merge.c - `caigen merge`: k-way merge of shard files by input index.
 *
 * DESIGN
 * Pass 1 reads each input once and notes where its index goes down: those
 * offsets cut it into ascending stretches. Pass 2 opens one cursor per
 * stretch (its own FILE * positioned at the stretch's start) and merges
 * the cursors through a binary heap keyed by (index, file, stretch). Each
 * cursor holds one line, so memory is one line per stretch plus the id
 * set. The key of a line is read without a full parse when it has the
 * shape caigen writes ("id" first, then "index"); other lines go through
 * jansson.
 */
#include "merge.h"
#include "idset.h"
#include "prompts.h"
#include "rng.h"
#include "shard.h"
#include "split.h"
#include "writer.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MISSING_SHOWN 20
#define CONFLICTS_SHOWN 20
/* The first record of an id is remembered as index << FILE_BITS | file. */
#define FILE_BITS 20

struct stretch {
	int file;		/* input number */
	int nth;		/* stretch number within the file */
	off_t start, end;	/* byte range [start, end) */
};

struct cursor {
	const struct stretch *s;
	FILE *f;
	off_t pos;
	char *line;		/* current line, without '\n' */
	size_t cap;
	ssize_t len;
	long long index;
	uint64_t key;		/* id hash (mixed with the part, if any) */
	uint64_t plain;		/* the plain id's hash */
};

struct merge {
	char **in;
	int nin;
	const char *out;
	const char *expect;
	bool manifest, quiet, allow_partial;

	struct stretch *st;
	size_t nst;
	struct cursor **heap;
	size_t nheap;
	struct idmap seen;	/* id hash -> index << 20 | input number */
	struct idset ids;	/* plain ids written (for --expect) */

	size_t written, duplicates, unreadable, partial, missing;
	size_t conflicts;	/* duplicates from different input lines */
	struct err err;
};

/* ---- the key of a line ---------------------------------------------- */

/*
 * Index and id hash of a record line. Fast path: the first `"id":"` and
 * `"index":` of a caigen record are its own keys (a string value cannot
 * hold an unescaped quote followed by a colon), and an id without a
 * backslash is its own decoded text. Anything else is parsed. Records
 * without an id are keyed by "#index". Returns 0, or -1 if the line has
 * no integer index.
 */
static int id_key(const char *line, size_t len, long long *index,
		  uint64_t *key);

/*
 * The key of a line: its id's, or for one of the several records a
 * ranked prompt writes with binarize all-pairs (ranking.h: `,"part":N,
 * "parts":M`, which no string value can hold, since its quotes are
 * escaped) the id's mixed with the part, so the parts are not taken for
 * duplicates of each other.
 */
static int line_key(const char *line, size_t len, long long *index,
		    uint64_t *key, uint64_t *plain)
{
	const char *pt = NULL, *s = line, *hit;
	long long part;
	char *end;

	if (id_key(line, len, index, key) < 0)
		return -1;
	*plain = *key;
	while ((hit = memmem(s, (size_t)(line + len - s), ",\"part\":", 8))) {
		pt = hit;
		s = hit + 8;
	}
	if (!pt)
		return 0;
	errno = 0;
	part = strtoll(pt + 8, &end, 10);
	if (errno || end == pt + 8 || part < 0 ||
	    (size_t)(line + len - end) < 9 || memcmp(end, ",\"parts\":", 9))
		return 0;
	*key = hash64(&(uint64_t[2]){ *key, (uint64_t)part },
		      2 * sizeof(uint64_t));
	return 0;
}

static int id_key(const char *line, size_t len, long long *index,
		  uint64_t *key)
{
	const char *id = memmem(line, len, "\"id\":\"", 6);
	const char *ix = memmem(line, len, "\"index\":", 8);
	json_t *j, *v;
	const char *s;
	char *end, *tmp;
	int rc = -1;

	if (id && ix && id < ix) {
		const char *q = id + 6;
		const char *close = memchr(q, '"', (size_t)(line + len - q));

		if (close && !memchr(q, '\\', (size_t)(close - q)) &&
		    close < ix) {
			errno = 0;
			*index = strtoll(ix + 8, &end, 10);
			if (!errno && end > ix + 8 && *index >= 0 &&
			    (*end == ',' || *end == '}')) {
				tmp = xstrndup(q, (size_t)(close - q));
				*key = idset_hash(tmp);
				free(tmp);
				return 0;
			}
		}
	}
	j = json_loadb(line, len, 0, NULL);
	v = json_object_get(j, "index");
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*index = json_integer_value(v);
		s = json_string_value(json_object_get(j, "id"));
		if (s) {
			*key = idset_hash(s);
		} else {
			tmp = xasprintf("#%lld", *index);
			*key = idset_hash(tmp);
			free(tmp);
		}
		rc = 0;
	}
	json_decref(j);
	return rc;
}

/* ---- pass 1: ascending stretches ------------------------------------ */

static void add_stretch(struct merge *m, int file, int nth, off_t a, off_t b)
{
	if (a >= b)
		return;
	m->st = xrealloc(m->st, (m->nst + 1) * sizeof(*m->st));
	m->st[m->nst++] = (struct stretch){ file, nth, a, b };
}

static int scan_file(struct merge *m, int file)
{
	FILE *f = fopen(m->in[file], "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	off_t pos = 0, start = 0;
	long long prev = -1, index;
	uint64_t key, plain;
	int nth = 0;

	if (!f)
		return err_set(&m->err, "cannot open '%s': %s", m->in[file],
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n') {
			m->partial++;
			fprintf(stderr, "caigen: '%s' ends with a partial "
				"line (%zd bytes): left out\n", m->in[file],
				n);
			break;
		}
		if (line_key(line, (size_t)n - 1, &index, &key, &plain) == 0) {
			if (index < prev) {
				add_stretch(m, file, nth++, start, pos);
				start = pos;
			}
			prev = index;
		}
		pos += n;
	}
	if (ferror(f)) {
		free(line);
		fclose(f);
		return err_set(&m->err, "cannot read '%s': %s", m->in[file],
			       strerror(errno));
	}
	add_stretch(m, file, nth, start, pos);
	free(line);
	fclose(f);
	return 0;
}

/* ---- pass 2: the heap of cursors ------------------------------------ */

static bool before(const struct cursor *a, const struct cursor *b)
{
	if (a->index != b->index)
		return a->index < b->index;
	if (a->s->file != b->s->file)
		return a->s->file < b->s->file;
	return a->s->nth < b->s->nth;
}

static void heap_push(struct merge *m, struct cursor *c)
{
	size_t i = m->nheap++;

	m->heap[i] = c;
	while (i > 0 && before(m->heap[i], m->heap[(i - 1) / 2])) {
		struct cursor *t = m->heap[i];

		m->heap[i] = m->heap[(i - 1) / 2];
		m->heap[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static struct cursor *heap_pop(struct merge *m)
{
	struct cursor *top = m->heap[0];
	size_t i = 0;

	m->heap[0] = m->heap[--m->nheap];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, min = i;
		struct cursor *t;

		if (l < m->nheap && before(m->heap[l], m->heap[min]))
			min = l;
		if (r < m->nheap && before(m->heap[r], m->heap[min]))
			min = r;
		if (min == i)
			break;
		t = m->heap[i];
		m->heap[i] = m->heap[min];
		m->heap[min] = t;
		i = min;
	}
	return top;
}

/* Read the cursor's next keyed line; false at the end of its stretch.
 * Lines without a key are counted and skipped. */
static bool cursor_next(struct merge *m, struct cursor *c)
{
	while (c->pos < c->s->end &&
	       (c->len = getline(&c->line, &c->cap, c->f)) > 0) {
		c->pos += c->len;
		if (c->line[c->len - 1] == '\n')
			c->line[--c->len] = '\0';
		if (c->len && line_key(c->line, (size_t)c->len, &c->index,
				       &c->key, &c->plain) == 0)
			return true;
		if (c->len) {
			m->unreadable++;
			fprintf(stderr, "caigen: '%s': a line at byte %lld "
				"has no index: left out\n",
				m->in[c->s->file],
				(long long)(c->pos - c->len - 1));
		}
	}
	return false;
}

/*
 * The same id on two different input lines: the input changed between
 * the shards' runs, or the files come from different inputs. The record
 * of the earlier line is kept; name both lines and both files.
 */
static void report_conflict(struct merge *m, const struct cursor *c,
			    uint64_t first)
{
	char *id;

	if (++m->conflicts > CONFLICTS_SHOWN)
		return;
	id = writer_line_id(c->line, (size_t)c->len);
	fprintf(stderr, "caigen: duplicate id '%s': line %llu in '%s' and "
		"line %lld in '%s'; the second left out\n", tty_safe(id ? id : "?"),
		(unsigned long long)(first >> FILE_BITS) + 1,
		m->in[first & ((1u << FILE_BITS) - 1)], c->index + 1,
		m->in[c->s->file]);
	free(id);
}

static int write_all(FILE *o, const char *p, size_t n)
{
	return fwrite(p, 1, n, o) == n && fputc('\n', o) != EOF ? 0 : -1;
}

static int merge_files(struct merge *m, FILE *o)
{
	struct cursor *cs = xcalloc(m->nst ? m->nst : 1, sizeof(*cs));
	int rc = 0;

	m->heap = xcalloc(m->nst ? m->nst : 1, sizeof(*m->heap));
	for (size_t i = 0; i < m->nst && rc == 0; i++) {
		struct cursor *c = &cs[i];

		c->s = &m->st[i];
		c->pos = c->s->start;
		c->f = fopen(m->in[c->s->file], "r");
		if (!c->f || fseeko(c->f, c->s->start, SEEK_SET) < 0)
			rc = err_set(&m->err, "cannot open '%s': %s",
				     m->in[c->s->file], strerror(errno));
		else if (cursor_next(m, c))
			heap_push(m, c);
	}
	while (rc == 0 && m->nheap) {
		struct cursor *c = heap_pop(m);
		uint64_t first;

		if (!idmap_put(&m->seen, c->key, (uint64_t)c->index <<
			       FILE_BITS | (uint64_t)c->s->file, &first)) {
			m->duplicates++;
			if ((long long)(first >> FILE_BITS) != c->index)
				report_conflict(m, c, first);
		} else if (write_all(o, c->line, (size_t)c->len) < 0)
			rc = err_set(&m->err, "cannot write '%s': %s", m->out,
				     strerror(errno));
		else {
			m->written++;
			if (m->expect)
				idset_add(&m->ids, c->plain);
		}
		if (cursor_next(m, c))
			heap_push(m, c);
	}
	for (size_t i = 0; i < m->nst; i++) {
		if (cs[i].f)
			fclose(cs[i].f);
		free(cs[i].line);
	}
	free(cs);
	free(m->heap);
	m->heap = NULL;
	return rc;
}

/* ---- --expect ------------------------------------------------------- */

/* Check one prompts file (or split shard file) against the ids written. */
static int expect_file(struct merge *m, const char *path, size_t *total)
{
	struct err err;
	struct prompts *r = prompts_open(path, 0, &err);
	struct prompt p;
	struct reject rj;
	enum prompts_status st;

	if (!r)
		return err_set(&m->err, "%s", err.msg);
	while ((st = prompts_next(r, &p, &rj, &err)) != PROMPTS_EOF) {
		if (st == PROMPTS_ERROR) {
			prompts_close(r);
			return err_set(&m->err, "%s", err.msg);
		}
		if (st == PROMPTS_OK) {
			(*total)++;
			/* the plain id: binarize all-pairs writes a prompt's
			 * parts under one id */
			if (!idset_has(&m->ids, idset_hash(p.id)) &&
			    ++m->missing <= MISSING_SHOWN)
				fprintf(stderr, "caigen: missing: id '%s' "
					"(line %zu)\n", tty_safe(p.id), p.index + 1);
		}
		prompt_release(&p);
		reject_release(&rj);
	}
	prompts_close(r);
	return 0;
}

/* --expect names a prompts file or a split folder (split.h): every
 * shard file of the split is read. */
static int check_expected(struct merge *m)
{
	size_t total = 0;
	struct stat st;

	if (stat(m->expect, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *idx = xasprintf("%s/split.json", m->expect);
		json_t *j = json_load_file(idx, 0, NULL);
		json_int_t n = json_integer_value(json_object_get(j, "n"));

		json_decref(j);
		free(idx);
		if (n < 1 || n > SHARD_MAX)
			return err_set(&m->err, "--expect '%s': a folder, but "
				       "not a whole split (no readable "
				       "split.json): name the prompts file or "
				       "the folder of caigen split",
				       m->expect);
		for (json_int_t k = 0; k < n; k++) {
			struct shard sh = { (unsigned)k, (unsigned)n };
			struct err err;
			char *file = NULL;
			size_t lines;
			int rc = split_resolve(m->expect, &sh, &file, &lines,
					       &err);

			if (rc <= 0) {
				free(file);
				return err_set(&m->err, "--expect: %s",
					       rc < 0 ? err.msg : "not a split");
			}
			rc = expect_file(m, file, &total);
			free(file);
			if (rc < 0)
				return -1;
		}
	} else if (expect_file(m, m->expect, &total) < 0) {
		return -1;
	}
	if (m->missing)
		fprintf(stderr, "caigen: %zu of the %zu prompts in '%s' have "
			"no record%s\n", m->missing, total, m->expect,
			m->missing > MISSING_SHOWN ? " (first 20 listed)" : "");
	else if (!m->quiet)
		fprintf(stderr, "caigen: every one of the %zu prompts in '%s' "
			"has a record\n", total, m->expect);
	return 0;
}

/* ---- the shard set -------------------------------------------------- */

/* "DIR/NAME.shard-0000K-of-0000N.jsonl": K, N, and where NAME (the
 * base name up to ".shard-") starts and how long it is. False for any
 * other name. */
static bool shard_name(const char *path, unsigned *k, unsigned *n,
		       size_t *at, size_t *len)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *p = strstr(base, ".shard-");
	int used = 0;

	if (!p || sscanf(p, ".shard-%u-of-%u%n", k, n, &used) < 2 ||
	    !used || *k >= *n || *n > SHARD_MAX)
		return false;
	*at = (size_t)(base - path);
	*len = (size_t)(p - base);
	return true;
}

/* Two shard names of one set: the same NAME (shards of one job may sit
 * in different folders). */
static bool same_set(const char *a, size_t aat, size_t alen, const char *b,
		     size_t bat, size_t blen)
{
	return alen == blen && !memcmp(a + aat, b + bat, alen);
}

/* Logs that only the tasks with something to log write. */
static bool shard_log(const char *path, size_t at, size_t len)
{
	return (len == 8 && !memcmp(path + at, "failures", 8)) ||
	       (len == 7 && !memcmp(path + at, "rejects", 7));
}

/*
 * Shard files of one job hold one N: files of two N come from two runs
 * of the array over one OUT, and merging them would count records twice.
 * Record files must be all N of their set, unless --allow-partial (or
 * --expect, which then says which prompts are missing).
 * Returns 0, or -1 with m->err.
 */
static int check_shard_set(struct merge *m)
{
	int first = -1;
	unsigned n0 = 0, k0 = 0;

	for (int i = 0; i < m->nin; i++) {
		unsigned k, n;
		size_t at, len;

		if (!shard_name(m->in[i], &k, &n, &at, &len))
			continue;
		if (first < 0) {
			first = i;
			n0 = n;
			k0 = k;
		} else if (n != n0) {
			return err_set(&m->err, "'%s' is shard %u of %u but "
				       "'%s' is of %u: the files come from "
				       "runs of different shard counts; "
				       "merge the files of one count",
				       m->in[first], k0, n0, m->in[i], n);
		}
	}
	if (first < 0 || m->allow_partial)
		return 0;
	for (int i = 0; i < m->nin; i++) {
		unsigned k, n, k2, n2, have = 0, miss = 0;
		size_t at, len, at2, len2;
		bool *got, seen = false;
		char list[160] = "";

		if (!shard_name(m->in[i], &k, &n, &at, &len) ||
		    shard_log(m->in[i], at, len))
			continue;
		for (int j = 0; j < i && !seen; j++)
			seen = shard_name(m->in[j], &k2, &n2, &at2, &len2) &&
			       same_set(m->in[i], at, len, m->in[j], at2,
					len2);
		if (seen)
			continue;	/* this set is checked already */
		got = xcalloc(n, sizeof(*got));
		for (int j = i; j < m->nin; j++)
			if (shard_name(m->in[j], &k2, &n2, &at2, &len2) &&
			    same_set(m->in[i], at, len, m->in[j], at2, len2) &&
			    !got[k2]) {
				got[k2] = true;
				have++;
			}
		for (unsigned j = 0; j < n; j++) {
			size_t used = strlen(list);

			if (!got[j] && ++miss <= 5)
				snprintf(list + used, sizeof(list) - used,
					 "%s%u", miss > 1 ? ", " : "", j);
		}
		free(got);
		if (!miss)
			continue;
		if (m->expect) {
			fprintf(stderr, "caigen: %u of the %u shard files of "
				"'%.*s' given (missing shard %s%s): --expect "
				"tells which prompts have no record\n", have,
				n, (int)len, m->in[i] + at, list,
				miss > 5 ? ", ..." : "");
			continue;
		}
		return err_set(&m->err, "%u of the %u shard files of '%.*s' "
			       "given (missing shard %s%s): merge all %u, or "
			       "pass --allow-partial to merge these anyway",
			       have, n, (int)len, m->in[i] + at, list,
			       miss > 5 ? ", ..." : "", n);
	}
	return 0;
}

/* ---- manifests ------------------------------------------------------ */

/* "dir/NAME{SUFFIX}.jsonl" -> "dir/manifest{SUFFIX}.json", SUFFIX being
 * what follows the first '.' of the base name. */
static char *manifest_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	const char *dot = strchr(base, '.');
	size_t dirlen = (size_t)(base - path), slen = 0;

	if (dot) {
		slen = strlen(dot);
		if (slen >= 6 && !strcmp(dot + slen - 6, ".jsonl"))
			slen -= 6;
	}
	return xasprintf("%.*smanifest%.*s.json", (int)dirlen, path,
			 (int)slen, dot ? dot : "");
}

/* Add src's numbers into dst: objects key by key, arrays of objects with
 * a "url" by url; keys only in src are copied. A sum that overflows (a
 * crafted or corrupt manifest) sets *bad to the key. */
static void json_add(json_t *dst, json_t *src, const char **bad)
{
	const char *k;
	json_t *v;

	json_object_foreach(src, k, v) {
		json_t *d = json_object_get(dst, k);
		json_int_t sum;

		if (!d)
			json_object_set_new(dst, k, json_deep_copy(v));
		else if (json_is_integer(d) && json_is_integer(v)) {
			if (__builtin_add_overflow(json_integer_value(d),
						   json_integer_value(v), &sum))
				*bad = k;
			else
				json_integer_set(d, sum);
		} else if (json_is_number(d) && json_is_number(v)) {
			double x = json_number_value(d) + json_number_value(v);

			if (!isfinite(x))
				*bad = k;
			else
				json_object_set_new(dst, k, json_real(x));
		} else if (json_is_object(d) && json_is_object(v))
			json_add(d, v, bad);
		else if (json_is_array(d) && json_is_array(v)) {
			size_t i, j;
			json_t *e, *f;

			json_array_foreach(v, i, e) {
				const char *u = json_string_value(
					json_object_get(e, "url"));
				bool hit = false;

				json_array_foreach(d, j, f)
					if (u && json_is_object(f) &&
					    json_equal(json_object_get(f, "url"),
						       json_object_get(e, "url"))) {
						json_add(f, e, bad);
						hit = true;
					}
				if (!hit)
					json_array_append_new(d,
						json_deep_copy(e));
			}
		}
	}
}

/* Add one manifest's counts into sum; "lines" and "blank" keep the
 * largest (every shard reads the whole file). */
static void add_counts(json_t *sum, json_t *one, const char **bad)
{
	static const char *const per_file[] = { "lines", "blank" };
	json_int_t before[2];

	for (int i = 0; i < 2; i++)
		before[i] = json_integer_value(json_object_get(sum,
							       per_file[i]));
	json_add(sum, one, bad);
	for (int i = 0; i < 2; i++) {
		json_int_t b = json_integer_value(json_object_get(one,
							       per_file[i]));

		json_object_set_new(sum, per_file[i], json_integer(
			before[i] > b ? before[i] : b));
	}
}

/*
 * The merged manifest as text in *text (NULL when no input has a
 * manifest). Returns 0, or -1 with m->err when a manifest's numbers do
 * not add up (a sum past 2^63 or an infinite one), naming the file.
 */
static int build_manifest(struct merge *m, char **text)
{
	json_t *out = NULL, *counts = json_object(), *usage = json_object();
	json_t *http[2] = { json_object(), json_object() };
	json_t *eps[2] = { json_array(), json_array() };
	json_t *ins = json_array(), *found = json_array(), *shards = json_array();
	static const char *hk[2] = { "policy_http", "judge_http" };
	static const char *ek[2] = { "policy_endpoints", "judge_endpoints" };
	double wall = 0;
	char *path = manifest_of(m->out);
	const char *bad = NULL;
	int rc = 0;

	*text = NULL;
	for (int i = 0; i < m->nin; i++) {
		char *mp = manifest_of(m->in[i]);
		json_t *j = json_load_file(mp, 0, NULL);
		json_t *c = json_object_get(j, "counts");
		double w = json_number_value(json_object_get(j,
							     "wall_seconds"));

		json_array_append_new(ins, json_string(m->in[i]));
		if (j && !strcmp(mp, path)) {
			/* OUT's own manifest from an earlier merge: skip */
			json_decref(j);
			j = NULL;
		}
		if (!j) {
			free(mp);
			continue;
		}
		json_array_append_new(found, json_string(mp));
		if (!out) {
			out = json_object();
			json_object_set(out, "version",
					json_object_get(j, "version"));
			json_object_set(out, "constitutions",
					json_object_get(j, "constitutions"));
			json_object_set(out, "config",
					json_object_get(j, "config"));
		}
		if (json_is_object(json_object_get(j, "shard")))
			json_array_append(shards, json_object_get(j, "shard"));
		add_counts(counts, c, &bad);
		json_add(usage, json_object_get(j, "usage"), &bad);
		for (int r = 0; r < 2; r++) {
			json_add(http[r], json_object_get(j, hk[r]), &bad);
			if (json_is_array(json_object_get(j, ek[r]))) {
				json_t *wrap = json_pack("{s:O}", "a",
					json_object_get(j, ek[r]));
				json_t *into = json_pack("{s:O}", "a", eps[r]);

				json_add(into, wrap, &bad);
				json_decref(wrap);
				json_decref(into);
			}
		}
		wall = w > wall ? w : wall;
		if (bad) {
			/* bad names a key of j: say it before j goes */
			rc = err_set(&m->err, "'%s': the numbers under '%s' "
				     "overflow when added to the other "
				     "shards' (a damaged or forged "
				     "manifest): nothing written", mp, bad);
			json_decref(j);
			free(mp);
			goto done;
		}
		json_decref(j);
		free(mp);
	}
	if (!out)
		goto done;
	/* every shard read the whole file: "other_shard" no longer means
	 * anything once they are together */
	json_object_del(counts, "other_shard");
	json_object_set_new(out, "schema", json_string("caigen.manifest/1"));
	json_object_set_new(out, "wall_seconds", json_real(wall));
	json_object_set_new(out, "counts", counts);
	json_object_set_new(out, "usage", usage);
	for (int r = 0; r < 2; r++) {
		json_object_set_new(out, hk[r], http[r]);
		json_object_set_new(out, ek[r], eps[r]);
		http[r] = eps[r] = NULL;
	}
	counts = usage = NULL;
	json_object_set_new(out, "merge", json_pack(
		"{s:o,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:o}",
		"inputs", ins, "manifests", found, "shards", shards,
		"records", (json_int_t)m->written,
		"duplicates_dropped", (json_int_t)m->duplicates,
		"duplicate_ids_on_two_lines", (json_int_t)m->conflicts,
		"unreadable_lines", (json_int_t)m->unreadable,
		"partial_lines", (json_int_t)m->partial,
		"missing", m->expect ? json_integer((json_int_t)m->missing)
				     : json_null()));
	ins = found = shards = NULL;
	*text = json_dumps(out, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
done:
	json_decref(out);
	json_decref(counts);
	json_decref(usage);
	for (int r = 0; r < 2; r++) {
		json_decref(http[r]);
		json_decref(eps[r]);
	}
	json_decref(ins);
	json_decref(found);
	json_decref(shards);
	free(path);
	return rc;
}

static int save_manifest(struct merge *m, const char *text)
{
	char *path = manifest_of(m->out), *tmp = xasprintf("%s\n", text);
	int rc = write_file_atomic(path, tmp, strlen(tmp), &m->err);

	free(tmp);
	free(path);
	return rc;
}

/*
 * OUT's manifest name (manifest_of) may be a run's own manifest.json, as
 * with `-o OUT/preferences.jsonl` in the folder of a one-process run:
 * only a manifest an earlier merge wrote (it has "merge") is replaced.
 */
static int check_manifest_target(struct merge *m)
{
	char *path = manifest_of(m->out);
	json_t *j;
	int rc = 0;

	if (access(path, F_OK) == 0) {
		j = json_load_file(path, 0, NULL);
		if (!json_is_object(json_object_get(j, "merge")))
			rc = err_set(&m->err, "'%s' is there and was not "
				     "written by a merge (a run's manifest?): "
				     "merge would replace it with OUT's; "
				     "choose another -o, or --no-manifest",
				     path);
		json_decref(j);
	}
	free(path);
	return rc;
}

/* ---- the command ---------------------------------------------------- */

static void usage(FILE *f)
{
	fputs("usage: caigen merge SHARD.jsonl... -o OUT.jsonl "
	      "[--expect PROMPTS|SPLIT-DIR]\n"
	      "                    [--allow-partial] [--no-manifest] "
	      "[--quiet]\n"
	      "\n"
	      "Merge the shard files of a job array into OUT, in input order, "
	      "each id\n"
	      "once (later duplicates are dropped and counted). The "
	      "manifests beside the\n"
	      "inputs are summed into OUT's manifest.\n"
	      "\n"
	      "options:\n"
	      "  -o, --out FILE       the merged file (written whole, then "
	      "renamed)\n"
	      "      --expect FILE    the prompts file or split folder: list "
	      "ids with no\n"
	      "                       record (then exit 1, OUT not "
	      "written)\n"
	      "      --allow-partial  merge some of the shard files of a set "
	      "(K-of-N names)\n"
	      "      --no-manifest    do not write a merged manifest (for "
	      "failures and\n"
	      "                       rejects files)\n"
	      "  -q, --quiet          no summary\n"
	      "  -h, --help           print this help and exit\n"
	      "\n"
	      "OUT's manifest is OUT's folder/manifest{OUT's suffix}.json; "
	      "one that a\n"
	      "merge did not write is never replaced.\n"
	      "\n"
	      "Exit status: 0 merged, 1 ids missing (OUT not written) or "
	      "lines unreadable,\n"
	      "2 usage or I/O error, a shard set incomplete or of mixed "
	      "counts, a manifest\n"
	      "in the way or one whose numbers overflow.\n", f);
}

/* A 1,000-task array means 1,000 open files: lift the soft limit. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int merge_main(int argc, char **argv)
{
	enum { O_EXPECT = 256, O_NO_MANIFEST, O_ALLOW_PARTIAL };
	static const struct option opts[] = {
		{ "allow-partial", no_argument, NULL, O_ALLOW_PARTIAL },
		{ "expect", required_argument, NULL, O_EXPECT },
		{ "help", no_argument, NULL, 'h' },
		{ "no-manifest", no_argument, NULL, O_NO_MANIFEST },
		{ "out", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	struct merge m;
	char *tmp = NULL, *manifest = NULL;
	FILE *o = NULL;
	int c, rc = 2;

	memset(&m, 0, sizeof(m));
	m.manifest = true;
	idmap_init(&m.seen);
	idset_init(&m.ids);
	optind = 0;	/* GNU: start afresh, also on a second call */
	while ((c = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'o':
			m.out = optarg;
			break;
		case 'q':
			m.quiet = true;
			break;
		case O_EXPECT:
			m.expect = optarg;
			break;
		case O_NO_MANIFEST:
			m.manifest = false;
			break;
		case O_ALLOW_PARTIAL:
			m.allow_partial = true;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	m.in = argv + optind;
	m.nin = argc - optind;
	if (!m.out || m.nin < 1) {
		fprintf(stderr, "caigen: merge needs input files and "
			"-o OUT.jsonl\n");
		usage(stderr);
		goto out;
	}
	for (int i = 0; i < m.nin; i++)
		if (!strcmp(m.in[i], m.out) || same_file(m.in[i], m.out)) {
			fprintf(stderr, "caigen: '%s' is both an input and "
				"the output\n", m.out);
			goto out;
		}
	if (check_shard_set(&m) < 0 ||
	    (m.manifest && check_manifest_target(&m) < 0)) {
		fprintf(stderr, "caigen: %s\n", m.err.msg);
		goto out;
	}
	raise_nofile();
	for (int i = 0; i < m.nin; i++)
		if (scan_file(&m, i) < 0)
			goto fail;
	o = fopen_excl_tmp(m.out, &tmp, &m.err);	/* never a link */
	if (!o)
		goto fail;
	if (merge_files(&m, o) < 0)
		goto fail;
	c = fflush(o) != 0 || fsync(fileno(o)) < 0;
	c |= fclose(o) != 0;
	o = NULL;
	if (c) {
		err_set(&m.err, "cannot write '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (m.expect && check_expected(&m) < 0)
		goto fail;
	if (m.missing) {
		/* an incomplete result is not left where a complete one
		 * would be looked for */
		unlink(tmp);
		fprintf(stderr, "caigen: '%s' not written: run or merge what "
			"holds the missing prompts too\n", m.out);
		rc = 1;
		goto out;
	}
	if (m.manifest && build_manifest(&m, &manifest) < 0)
		goto fail;
	if (rename(tmp, m.out) < 0) {
		err_set(&m.err, "cannot rename '%s' to '%s': %s", tmp, m.out,
			strerror(errno));
		goto fail;
	}
	if (manifest && save_manifest(&m, manifest) < 0)
		goto fail;
	if (m.manifest && !manifest && !m.quiet) {
		char *mp = manifest_of(m.out);

		fprintf(stderr, "caigen: no shard manifests found: '%s' not "
			"written\n", mp);
		free(mp);
	}
	if (m.conflicts)
		fprintf(stderr, "caigen: %zu ids are on two different input "
			"lines%s: was the prompts file changed between the "
			"shards' runs?\n", m.conflicts, m.conflicts >
			CONFLICTS_SHOWN ? " (first 20 listed)" : "");
	if (!m.quiet)
		fprintf(stderr, "caigen: merged %d files (%zu ascending "
			"stretches) into '%s': %zu records, %zu duplicates "
			"dropped%s\n", m.nin, m.nst, m.out, m.written,
			m.duplicates, m.unreadable ? ", some lines unreadable"
						   : "");
	rc = m.missing || m.unreadable ? 1 : 0;
	goto out;
fail:
	fprintf(stderr, "caigen: %s\n", m.err.msg);
	if (o)
		fclose(o);
	if (tmp)
		unlink(tmp);
out:
	free(tmp);
	free(manifest);
	free(m.st);
	idmap_release(&m.seen);
	idset_release(&m.ids);
	return rc;
}
