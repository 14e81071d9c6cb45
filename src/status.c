/*
 * status.c - `caigen status`: per-shard progress from the output folder.
 *
 * DESIGN
 * The folder's names say which shards exist: every file NAME{SUFFIX}.* with
 * SUFFIX ".shard-0000K-of-0000N" (or none: a single process) adds N to the
 * set of job sizes seen, and each size lists all its K, so a shard that
 * never wrote anything still shows up. Then one shard at a time: read its
 * records' ids into an idset, read its failures log against it, look at
 * its manifest for its size, stat its files, and try its lock.
 */
#include "status.h"
#include "idset.h"
#include "shard.h"
#include "split.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct shard_status {
	unsigned k, n;
	size_t done, failed;
	long long left;		/* -1: unknown */
	time_t last_write;	/* 0: no file */
	bool locked, any;
	const char *state;
};

/* The id of a record or failure line: the fast way for caigen's own
 * shape ("id" as the first "id" key, no escapes), else parsed. */
static char *line_id(const char *line, size_t len)
{
	const char *p = memmem(line, len, "\"id\":\"", 6), *q;
	json_t *j;
	char *id = NULL;

	if (p) {
		p += 6;
		for (q = p; q < line + len && *q != '"' && *q != '\\'; q++)
			;
		if (q < line + len && *q == '"')
			return xstrndup(p, (size_t)(q - p));
	}
	j = json_loadb(line, len, 0, NULL);
	if (json_is_string(json_object_get(j, "id")))
		id = xstrdup(json_string_value(json_object_get(j, "id")));
	json_decref(j);
	return id;
}

/*
 * Read the ids of a file. With `into`, add them there and count the new
 * ones; with `against`, count the distinct ids not in it (into then holds
 * the distinct ones). Returns the count; a missing file counts 0.
 */
static size_t read_ids(const char *path, struct idset *into,
		       const struct idset *against, bool *exists,
		       struct err *err)
{
	FILE *f = fopen_regular(path, err);
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;

	*exists = f != NULL;
	if (!f)
		return 0;	/* absent, or err says why not read */
	while ((len = getline(&line, &cap, f)) > 0) {
		char *id;
		uint64_t h;

		if (line[len - 1] != '\n')
			break;		/* a partial last line: not a record */
		id = line_id(line, (size_t)len - 1);
		if (!id)
			continue;
		h = idset_hash(id);
		free(id);
		if (against && idset_has(against, h))
			continue;
		if (idset_add(into, h))
			n++;
	}
	free(line);
	fclose(f);
	return n;
}

static void note_mtime(struct shard_status *s, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		s->any = true;
		if (st.st_mtime > s->last_write)
			s->last_write = st.st_mtime;
	}
}

/* Whether a run holds the lock: a shared lock cannot be had while the
 * writer's exclusive one is held. Taken and dropped at once. */
static bool lock_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	bool held = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);	/* not a lock caigen made */
		return false;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK;
	else
		flock(fd, LOCK_UN);
	close(fd);
	return held;
}

/* A JSON file of the folder: NULL when absent or unreadable as JSON (the
 * size is then unknown), never blocking on a FIFO. */
static json_t *load_json(const char *path, struct err *err)
{
	FILE *f = fopen_regular(path, err);
	json_t *j;

	if (!f)
		return NULL;
	j = json_loadf(f, 0, NULL);
	fclose(f);
	return j;
}

/* Counts beyond this are not a manifest's: sums of them over every shard
 * stay far from overflowing. */
#define COUNT_MAX (1LL << 40)

/* The shard's number of prompts, from the split or the manifest; -1 if
 * neither says; -2 with err when the manifest's counts are not counts. */
static long long shard_size(const char *manifest, const struct shard *sh,
			    const json_t *given, struct err *err)
{
	static const char *const keys[] = { "skipped_done", "written",
					    "failed", "interrupted" };
	json_t *m = load_json(manifest, err), *c, *j = NULL;
	const char *prompts = json_string_value(json_object_get(
		json_object_get(m, "config"), "prompts"));
	long long size = -1;
	size_t plen = prompts ? strlen(prompts) : 0;

	if (given) {
		/* --split: every shard's size, run or not */
		size = json_integer_value(json_object_get(json_array_get(
			json_object_get(given, "shards"), sh->k), "prompts"));
		if (size >= 0 && size <= COUNT_MAX)
			goto out;
		size = -1;
	}
	if (prompts && plen > 6 && !strcmp(prompts + plen - 6, ".split")) {
		const char *slash = strrchr(prompts, '/');
		char *idx = xasprintf("%.*ssplit.json", slash ?
				      (int)(slash - prompts + 1) : 0,
				      prompts);

		j = load_json(idx, err);
		if (json_integer_value(json_object_get(j, "n")) ==
		    (json_int_t)sh->n)
			size = json_integer_value(json_object_get(
				json_array_get(json_object_get(j, "shards"),
					       sh->k), "prompts"));
		json_decref(j);
		if (size < -1 || size > COUNT_MAX) {
			err_set(err, "'%s': shard %u's prompts (%lld) is not "
				"a count of 0 to 2^40", idx, sh->k, size);
			free(idx);
			size = -2;
			goto out;
		}
		free(idx);
		if (size >= 0)
			goto out;
	}
	c = json_object_get(m, "counts");
	for (size_t i = 0; json_is_object(c) && i < ARRAY_SIZE(keys); i++) {
		json_int_t v = json_integer_value(json_object_get(c, keys[i]));

		if (v < 0 || v > COUNT_MAX) {
			err_set(err, "'%s': counts.%s (%lld) is not a count "
				"of 0 to 2^40: not a manifest caigen wrote",
				manifest, keys[i], (long long)v);
			size = -2;
			goto out;
		}
	}
	if (json_is_object(c) &&
	    json_integer_value(json_object_get(c, "not_read")) == 0)
		size = json_integer_value(json_object_get(c, "skipped_done")) +
		       json_integer_value(json_object_get(c, "written")) +
		       json_integer_value(json_object_get(c, "failed")) +
		       json_integer_value(json_object_get(c, "interrupted"));
out:
	json_decref(m);
	return size;
}

static int look(const char *dir, struct shard_status *s, const json_t *split,
		struct err *err)
{
	struct shard sh = { s->k, s->n };
	char *suffix = shard_suffix(&sh);
	char *pref = xasprintf("%s/preferences%s.jsonl", dir, suffix);
	char *crit = xasprintf("%s/critiques%s.jsonl", dir, suffix);
	char *fail = xasprintf("%s/failures%s.jsonl", dir, suffix);
	char *rej = xasprintf("%s/rejects%s.jsonl", dir, suffix);
	char *man = xasprintf("%s/manifest%s.json", dir, suffix);
	char *lock = xasprintf("%s/.lock%s", dir, suffix);
	struct idset done, other, failed;
	bool has_pref, has_crit, has_fail;
	long long size = -2;
	int rc = 0;

	err->msg[0] = '\0';
	idset_init(&done);
	idset_init(&other);
	idset_init(&failed);
	s->done = read_ids(pref, &done, NULL, &has_pref, err);
	if (!has_pref) {
		s->done = read_ids(crit, &done, NULL, &has_crit, err);
	} else {
		/* mode both: done when both files hold the id */
		read_ids(crit, &other, NULL, &has_crit, err);
		if (has_crit) {
			s->done = 0;
			for (size_t i = 0; i < done.cap; i++)
				if (done.slot[i] &&
				    idset_has(&other, done.slot[i]))
					s->done++;
		}
	}
	s->failed = read_ids(fail, &failed, &done, &has_fail, err);
	note_mtime(s, pref);
	note_mtime(s, crit);
	note_mtime(s, fail);
	note_mtime(s, rej);
	note_mtime(s, man);
	s->locked = lock_held(lock);
	if (!err->msg[0])
		size = shard_size(man, &sh, split, err);
	if (err->msg[0])
		size = -2;
	if (size < -1)
		rc = -1;
	s->left = -1;
	if (size >= 0)
		s->left = size > (long long)(s->done + s->failed) ?
			size - (long long)(s->done + s->failed) : 0;
	if (s->locked)
		s->state = "running";
	else if (!s->any)
		s->state = split ? "pending" : "missing";
	else if (s->left == 0)
		s->state = s->failed ? "failed" : "done";
	else
		s->state = "stopped";
	idset_release(&done);
	idset_release(&other);
	idset_release(&failed);
	free(suffix);
	free(pref);
	free(crit);
	free(fail);
	free(rej);
	free(man);
	free(lock);
	return rc;
}

/* The N of a name with a ".shard-K-of-N" part, or 1 for an output file
 * without one, or 0 for anything else. */
static unsigned size_of_name(const char *name)
{
	static const char *const base[] = { "preferences", "critiques",
		"failures", "rejects", "manifest", ".lock" };
	const char *p = strstr(name, ".shard-");
	unsigned k, n;
	int used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		size_t l = strlen(base[i]);

		if (strncmp(name, base[i], l) != 0)
			continue;
		if (!p) {
			if (!strcmp(name + l, ".jsonl") ||
			    !strcmp(name + l, ".json") || !name[l])
				return 1;
			return 0;
		}
		if (p == name + l && sscanf(p, ".shard-%5u-of-%5u%n", &k, &n,
					    &used) == 2 && used == 21 &&
		    n >= 1 && k < n && n <= SHARD_MAX)
			return n;
	}
	return 0;
}

static void fmt_time(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (!t) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static void usage(FILE *f)
{
	fputs("usage: caigen status OUT [--json] [--split DIR]\n"
	      "\n"
	      "For each shard of the run writing into OUT: records done, "
	      "prompts failed,\n"
	      "prompts left, last write time, and whether a run holds its "
	      "lock now.\n"
	      "From the files alone; 'left' is '?' until the shard's size is "
	      "known (from\n"
	      "a 'caigen split' folder, or a run that read the whole "
	      "input).\n"
	      "\n"
	      "With --split, the sizes come from that 'caigen split' "
	      "folder for every\n"
	      "shard, before any task has run (OUT may be empty or not "
	      "exist yet).\n"
	      "\n"
	      "options:\n"
	      "      --json        one JSON object (shards and totals) for "
	      "scripts\n"
	      "      --split DIR   the split folder the tasks read: every "
	      "shard's size\n"
	      "  -h, --help        print this help and exit\n"
	      "\n"
	      "Exit status: 0 shown, 2 usage error or OUT unreadable.\n", f);
}

int status_main(int argc, char **argv)
{
	enum { O_JSON = 256, O_SPLIT };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, O_JSON },
		{ "split", required_argument, NULL, O_SPLIT },
		{ NULL, 0, NULL, 0 },
	};
	const char *split_dir = NULL;
	json_t *split = NULL;
	unsigned split_n = 0;
	bool as_json = false, unknown = false;
	unsigned *sizes = NULL;
	size_t nsizes = 0, done = 0, failed = 0, running = 0, finished = 0;
	size_t shards = 0;
	long long left = 0;
	const char *dir;
	struct dirent *de;
	DIR *d;
	json_t *jshards = json_array();
	struct err err;
	int c, rc = 2;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case O_JSON:
			as_json = true;
			break;
		case O_SPLIT:
			split_dir = optarg;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "caigen: status needs one output folder\n");
		usage(stderr);
		goto out;
	}
	dir = argv[optind];
	if (split_dir) {
		char *idx = xasprintf("%s/split.json", split_dir);

		split_n = split_size(split_dir);
		split = split_n ? load_json(idx, &err) : NULL;
		free(idx);
		if (!split) {
			fprintf(stderr, "caigen: '%s' is not a whole split "
				"folder (no split.json in it): give the folder "
				"'caigen split -o' wrote\n", split_dir);
			goto out;
		}
		sizes = xrealloc(sizes, sizeof(*sizes));
		sizes[nsizes++] = split_n;
	}
	d = opendir(dir);
	if (!d && !(split && errno == ENOENT)) {
		fprintf(stderr, "caigen: cannot open '%s': %s\n", dir,
			strerror(errno));
		goto out;
	}
	while (d && (de = readdir(d))) {
		unsigned n = size_of_name(de->d_name);
		size_t i;

		for (i = 0; i < nsizes && sizes[i] != n; i++)
			;
		if (n && i == nsizes) {
			sizes = xrealloc(sizes, (nsizes + 1) * sizeof(*sizes));
			sizes[nsizes++] = n;
		}
	}
	if (d)
		closedir(d);
	if (!nsizes) {
		fprintf(stderr, "caigen: '%s' holds no output of caigen (no "
			"preferences, critiques, failures, rejects or manifest "
			"file, nor their shard files): give the --out folder "
			"of a run (before any task has run: add --split DIR, "
			"the folder the tasks read)\n", dir);
		goto out;
	}
	qsort(sizes, nsizes, sizeof(*sizes), cmp_unsigned);
	/* beside shards, unsuffixed files are the merge's output */
	if (nsizes > 1 && sizes[0] == 1)
		memmove(sizes, sizes + 1, --nsizes * sizeof(*sizes));
	if (nsizes > 1 && split) {
		fprintf(stderr, "caigen: '%s' holds the shard files of a job "
			"of %u shards, but the split folder '%s' is of %u: give "
			"the split the tasks read\n", dir, sizes[0] == split_n ?
			sizes[1] : sizes[0], split_dir, split_n);
		goto out;
	}
	if (nsizes > 1) {
		/* the same prompts under two splits: totals would count
		 * them twice */
		fprintf(stderr, "caigen: '%s' holds the shard files of jobs "
			"of %u and %u shards: the two sets hold the same "
			"prompts, so no count would be right; keep one set "
			"(move the other away, or merge each into its own "
			"file)\n", dir, sizes[0], sizes[1]);
		goto out;
	}
	if (!as_json)
		printf("%-12s %9s %7s %9s  %-20s  %s\n", "shard", "done",
		       "failed", "left", "last write (UTC)", "state");
	for (size_t i = 0; i < nsizes; i++) {
		for (unsigned k = 0; k < sizes[i]; k++) {
			struct shard_status s;
			char when[32], name[24], lefts[24];

			memset(&s, 0, sizeof(s));
			s.k = k;
			s.n = sizes[i];
			if (look(dir, &s, split, &err) < 0 || err.msg[0]) {
				fflush(stdout);
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			fmt_time(s.last_write, when, sizeof(when));
			shards++;
			done += s.done;
			failed += s.failed;
			running += s.locked;
			finished += !strcmp(s.state, "done");
			if (s.left < 0)
				unknown = true;
			else
				left += s.left;
			if (as_json) {
				json_array_append_new(jshards, json_pack(
					"{s:i,s:i,s:I,s:I,s:o,s:o,s:b,s:s}",
					"k", (int)k, "n", (int)s.n,
					"done", (json_int_t)s.done,
					"failed", (json_int_t)s.failed,
					"left", s.left < 0 ? json_null() :
						json_integer(s.left),
					"last_write", s.last_write ?
						json_string(when) : json_null(),
					"locked", s.locked,
					"state", s.state));
				continue;
			}
			snprintf(name, sizeof(name), "%u/%u", k, s.n);
			if (s.left < 0)
				snprintf(lefts, sizeof(lefts), "?");
			else
				snprintf(lefts, sizeof(lefts), "%lld", s.left);
			printf("%-12s %9zu %7zu %9s  %-20s  %s\n", name,
			       s.done, s.failed, lefts, when, s.state);
		}
	}
	if (as_json) {
		json_t *o = json_pack("{s:s,s:o,s:{s:I,s:I,s:I,s:o,s:I,s:I}}",
			"out", dir, "shards", jshards, "totals",
			"shards", (json_int_t)shards,
			"done", (json_int_t)done,
			"failed", (json_int_t)failed,
			"left", unknown ? json_null() : json_integer(left),
			"running", (json_int_t)running,
			"finished", (json_int_t)finished);
		char *s = json_dumps(o, JSON_INDENT(2));

		jshards = NULL;
		puts(s);
		free(s);
		json_decref(o);
	} else {
		char lefts[24];

		if (unknown)
			snprintf(lefts, sizeof(lefts), "?");
		else
			snprintf(lefts, sizeof(lefts), "%lld", left);
		printf("%-12s %9zu %7zu %9s  %zu of %zu shards done, %zu "
		       "running\n", "all", done, failed, lefts, finished,
		       shards, running);
		if (unknown && !split)
			printf("left '?': a shard's size is known once a run "
			       "of it has read its input; with a split, "
			       "--split DIR gives every shard's now\n");
	}
	rc = 0;
out:
	json_decref(split);
	json_decref(jshards);
	free(sizes);
	return rc;
}
