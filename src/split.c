/*
 * split.c - `caigen split`: the prompts file into N shard files (split.h).
 *
 * DESIGN
 * One pass through prompts.h's reader with its duplicate check off: the
 * reader gives each good line's id and index, and the line itself is
 * copied unchanged behind its index into the shard file its id hashes to.
 * An idmap from id hash to first line finds repeated ids and names both
 * lines. All N files are open at once (the open-file limit is raised, as
 * merge does) and written as .tmp, then fsynced and renamed; split.json
 * comes last, so a split cut short is never taken for a whole one.
 */
#include "split.h"
#include "idset.h"
#include "prompts.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define DUPS_SHOWN 20

struct split {
	const char *in, *dir;
	unsigned n;
	size_t max_line;
	bool quiet;
	bool conversational;	/* some prompt is a message list */

	FILE **f;		/* one per shard, .tmp names */
	char **tmp;
	size_t *prompts, *rejects;	/* per shard */
	struct idmap first;	/* id hash -> 0-based line of its first use */
	size_t dups;
	json_t *dups_shown;
	struct err err;
};

char *split_file(const char *dir, const struct shard *s)
{
	return xasprintf("%s/prompts.shard-%05u-of-%05u.split", dir, s->k,
			 s->n);
}

static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Open the N .tmp files and write their headers: the source (for a
 * task to see that it changed since) and the format. */
static int open_shards(struct split *sp, const char *format)
{
	char *real = realpath(sp->in, NULL);
	struct stat st;
	json_t *src;
	char *tail;

	if (stat(sp->in, &st) < 0)
		memset(&st, 0, sizeof(st));
	src = json_pack("{s:s,s:s,s:I,s:I}", "format", format,
			"source", real ? real : sp->in,
			"source_bytes", (json_int_t)st.st_size,
			"source_mtime", (json_int_t)st.st_mtime);
	tail = json_dumps(src, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(src);
	free(real);
	for (unsigned k = 0; k < sp->n; k++) {
		struct shard s = { k, sp->n };
		char *path = split_file(sp->dir, &s);

		sp->tmp[k] = xasprintf("%s.tmp", path);
		free(path);
		sp->f[k] = fopen(sp->tmp[k], "w");
		if (!sp->f[k]) {
			free(tail);
			return err_set(&sp->err, "cannot create '%s': %s",
				       sp->tmp[k], strerror(errno));
		}
		fprintf(sp->f[k], "%s,\"k\":%u,\"n\":%u,%s\n", SPLIT_MAGIC,
			k, sp->n, tail + 1);
	}
	free(tail);
	return 0;
}

/* A reject kept in shard 0: INDEX!"REASON". */
static void put_reject(struct split *sp, size_t index, const char *reason)
{
	json_t *j = json_string(reason);
	char *s = json_dumps(j, JSON_ENCODE_ANY);

	fprintf(sp->f[0], "%zu!%s\n", index, s ? s : "\"?\"");
	sp->rejects[0]++;
	free(s);
	json_decref(j);
}

static void put_prompt(struct split *sp, struct prompts *r,
		       const struct prompt *p)
{
	uint64_t h = idset_hash(p->id), first;
	unsigned k = (unsigned)(h % sp->n);
	size_t len;
	const char *line;

	if (!idmap_put(&sp->first, h, p->index, &first)) {
		char *reason = prompts_dup_reason(p->id);

		if (++sp->dups <= DUPS_SHOWN) {
			if (!sp->quiet)
				fprintf(stderr, "caigen: line %zu: duplicate "
					"id '%s', first at line %zu\n",
					p->index + 1, tty_safe(p->id),
					(size_t)first + 1);
			json_array_append_new(sp->dups_shown, json_pack(
				"{s:s,s:[I,I]}", "id", p->id,
				"lines", (json_int_t)first + 1,
				(json_int_t)p->index + 1));
		}
		put_reject(sp, p->index, reason);
		free(reason);
		return;
	}
	line = prompts_line(r, &len);
	fprintf(sp->f[k], "%zu ", p->index);
	fwrite(line, 1, len, sp->f[k]);
	fputc('\n', sp->f[k]);
	sp->prompts[k]++;
}

/* Trailers, fsync, close, rename. */
static int close_shards(struct split *sp, const struct prompts_stats *ps)
{
	int rc = 0;

	for (unsigned k = 0; k < sp->n; k++) {
		struct shard s = { k, sp->n };
		char *path = split_file(sp->dir, &s);
		FILE *f = sp->f[k];
		int bad;

		sp->f[k] = NULL;
		fprintf(f, "{\"lines\":%zu,\"blank\":%zu,\"prompts\":%zu,"
			"\"rejects\":%zu}\n", ps->lines, ps->blank,
			sp->prompts[k], sp->rejects[k]);
		bad = fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0;
		bad |= fclose(f) != 0;
		if (bad || rename(sp->tmp[k], path) < 0)
			rc = err_set(&sp->err, "cannot write '%s': %s", path,
				     strerror(errno));
		free(path);
		if (rc < 0)
			break;
	}
	return rc;
}

static int write_index(struct split *sp, const struct prompts_stats *ps,
		       const char *format)
{
	char *path = xasprintf("%s/split.json", sp->dir);
	char *tmp = xasprintf("%s.tmp", path);
	char *real = realpath(sp->in, NULL);
	json_t *shards = json_array(), *j;
	struct stat st;
	char *s;
	FILE *f;
	int rc = 0;

	for (unsigned k = 0; k < sp->n; k++)
		json_array_append_new(shards, json_pack("{s:I,s:I}",
			"prompts", (json_int_t)sp->prompts[k],
			"rejects", (json_int_t)sp->rejects[k]));
	if (stat(sp->in, &st) < 0)
		memset(&st, 0, sizeof(st));
	j = json_pack("{s:s,s:s,s:I,s:I,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,"
		      "s:O,s:o}",
		      "schema", "caigen.split/1",
		      "source", real ? real : sp->in,
		      "source_bytes", (json_int_t)st.st_size,
		      "source_mtime", (json_int_t)st.st_mtime,
		      "format", format, "n", (int)sp->n,
		      "lines", (json_int_t)ps->lines,
		      "blank", (json_int_t)ps->blank,
		      "prompts", (json_int_t)(ps->ok - sp->dups),
		      "rejects", (json_int_t)(ps->rejected + sp->dups),
		      "duplicate_ids", (json_int_t)sp->dups,
		      "max_line_bytes", (json_int_t)sp->max_line,
		      "duplicates_shown", sp->dups_shown,
		      "shards", shards);
	/* every task reads the dataset's one prompt format from here */
	json_object_set_new(j, "conversational",
			    json_boolean(sp->conversational));
	s = json_dumps(j, JSON_COMPACT);
	f = fopen(tmp, "w");
	if (!f || fputs(s, f) == EOF || fputc('\n', f) == EOF ||
	    fflush(f) != 0 || fsync(fileno(f)) < 0) {
		rc = err_set(&sp->err, "cannot write '%s': %s", tmp,
			     strerror(errno));
	}
	if (f && fclose(f) != 0 && rc == 0)
		rc = err_set(&sp->err, "cannot write '%s': %s", tmp,
			     strerror(errno));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = err_set(&sp->err, "cannot rename '%s': %s", tmp,
			     strerror(errno));
	free(s);
	json_decref(j);
	free(real);
	free(tmp);
	free(path);
	return rc;
}

static int split_run(struct split *sp)
{
	struct prompts *r;
	struct prompt p;
	struct reject rj;
	enum prompts_status st;
	const struct prompts_stats *ps;
	char *marker = xasprintf("%s/split.json", sp->dir);
	struct stat sb;
	int rc = -1;

	if (stat(marker, &sb) == 0) {
		err_set(&sp->err, "'%s' already holds a split: remove it or "
			"choose another folder", sp->dir);
		free(marker);
		return -1;
	}
	free(marker);
	if (mkdir(sp->dir, 0777) < 0 && errno != EEXIST) {
		err_set(&sp->err, "cannot create '%s': %s", sp->dir,
			strerror(errno));
		return -1;
	}
	r = prompts_open(sp->in, sp->max_line, &sp->err);
	if (!r)
		return -1;
	if (prompts_is_split(r)) {
		err_set(&sp->err, "'%s' is a shard file already", sp->in);
		goto out;
	}
	prompts_check_dups(r, false);
	raise_nofile();
	/* the first line decides the format written into the headers */
	st = prompts_next(r, &p, &rj, &sp->err);
	if (open_shards(sp, prompts_format(r)) < 0)
		goto out_st;
	for (;;) {
		if (st == PROMPTS_EOF)
			break;
		if (st == PROMPTS_ERROR)
			goto out;
		if (st == PROMPTS_OK) {
			sp->conversational = sp->conversational || !p.text;
			put_prompt(sp, r, &p);
		}
		else
			put_reject(sp, rj.line - 1, rj.reason);
		prompt_release(&p);
		reject_release(&rj);
		st = prompts_next(r, &p, &rj, &sp->err);
	}
	ps = prompts_stats(r);
	if (close_shards(sp, ps) < 0 ||
	    write_index(sp, ps, prompts_format(r)) < 0)
		goto out;
	if (!sp->quiet) {
		size_t most = 0;

		for (unsigned k = 0; k < sp->n; k++)
			if (sp->prompts[k] > most)
				most = sp->prompts[k];
		fprintf(stderr, "caigen: split '%s' (%zu lines) into %u "
			"shards in '%s': %zu prompts (at most %zu in a "
			"shard), %zu rejects and %zu duplicate ids, all "
			"in shard 0\n", sp->in, ps->lines, sp->n, sp->dir,
			ps->ok - sp->dups, most, ps->rejected, sp->dups);
	}
	rc = 0;
	goto out;
out_st:
	prompt_release(&p);
	reject_release(&rj);
out:
	prompts_close(r);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: caigen split PROMPTS -n N -o DIR [--max-line-bytes B] "
	      "[--quiet]\n"
	      "\n"
	      "Write the N shard files of a job array into DIR in one pass, "
	      "so that each\n"
	      "task reads its own share only: point the run's prompts at DIR "
	      "(prompts: DIR)\n"
	      "and run N tasks. Shard K holds the prompts --shard K/N would "
	      "take from\n"
	      "PROMPTS, with their line numbers; rejects and repeated ids "
	      "(reported with\n"
	      "both lines) are kept in shard 0.\n"
	      "\n"
	      "options:\n"
	      "  -n, --shards N          number of shards (tasks), 2 to "
	      "100000\n"
	      "  -o, --out DIR           the folder (created; must not hold "
	      "a split)\n"
	      "      --max-line-bytes B  longest line kept (default 1 MiB; "
	      "as the run's)\n"
	      "  -q, --quiet             no summary\n"
	      "  -h, --help              print this help and exit\n"
	      "\n"
	      "Exit status: 0 written, 2 usage or I/O error.\n", f);
}

int split_main(int argc, char **argv)
{
	enum { O_MAXLINE = 256 };
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "max-line-bytes", required_argument, NULL, O_MAXLINE },
		{ "out", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "shards", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct split sp;
	char *end;
	unsigned long v;
	int c, rc = 2;

	memset(&sp, 0, sizeof(sp));
	idmap_init(&sp.first);
	optind = 0;
	while ((c = getopt_long(argc, argv, "hn:o:q", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case 'n':
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 2 ||
			    v > SHARD_MAX || optarg[0] == '-') {
				fprintf(stderr, "caigen: -n must be a number "
					"from 2 to %d, got '%s'\n", SHARD_MAX,
					optarg);
				goto out;
			}
			sp.n = (unsigned)v;
			break;
		case 'o':
			sp.dir = optarg;
			break;
		case 'q':
			sp.quiet = true;
			break;
		case O_MAXLINE:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 1 ||
			    optarg[0] == '-') {
				fprintf(stderr, "caigen: --max-line-bytes must "
					"be a positive number, got '%s'\n",
					optarg);
				goto out;
			}
			sp.max_line = v;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || !sp.n || !sp.dir) {
		fprintf(stderr, "caigen: split needs one prompts file, -n N "
			"and -o DIR\n");
		usage(stderr);
		goto out;
	}
	sp.in = argv[optind];
	if (!sp.max_line)
		sp.max_line = (size_t)1 << 20;
	sp.f = xcalloc(sp.n, sizeof(*sp.f));
	sp.tmp = xcalloc(sp.n, sizeof(*sp.tmp));
	sp.prompts = xcalloc(sp.n, sizeof(*sp.prompts));
	sp.rejects = xcalloc(sp.n, sizeof(*sp.rejects));
	sp.dups_shown = json_array();
	if (split_run(&sp) < 0) {
		fprintf(stderr, "caigen: %s\n", sp.err.msg);
		for (unsigned k = 0; k < sp.n; k++) {
			if (sp.f[k])
				fclose(sp.f[k]);
			if (sp.tmp[k])
				unlink(sp.tmp[k]);
		}
	} else {
		rc = 0;
	}
	for (unsigned k = 0; sp.tmp && k < sp.n; k++)
		free(sp.tmp[k]);
out:
	free(sp.f);
	free(sp.tmp);
	free(sp.prompts);
	free(sp.rejects);
	json_decref(sp.dups_shown);
	idmap_release(&sp.first);
	return rc;
}

/* The first line of a shard file, parsed; NULL if it is none. */
static json_t *read_header(FILE *f)
{
	char buf[8192];

	if (!fgets(buf, sizeof(buf), f) ||
	    strncmp(buf, SPLIT_MAGIC, sizeof(SPLIT_MAGIC) - 1) != 0)
		return NULL;
	return json_loads(buf, 0, NULL);
}

/* The source's line count from the trailer (the file's last line), or 0
 * when there is none: the reader reports a file cut short. */
static size_t trailer_lines(FILE *f)
{
	char buf[512];
	size_t n;
	char *p;
	json_t *t;
	size_t lines = 0;

	if (fseeko(f, 0, SEEK_END) < 0 || ftello(f) < 2)
		return 0;
	n = ftello(f) > (off_t)sizeof(buf) - 1 ? sizeof(buf) - 1 :
						(size_t)ftello(f);
	if (fseeko(f, -(off_t)n, SEEK_END) < 0 || fread(buf, 1, n, f) != n)
		return 0;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[--n] = '\0';
	p = strrchr(buf, '\n');
	t = json_loads(p ? p + 1 : buf, 0, NULL);
	lines = (size_t)json_integer_value(json_object_get(t, "lines"));
	json_decref(t);
	return lines;
}

/* Why this folder does not serve shard s: from split.json, if any. */
static int explain(const char *path, const struct shard *s, struct err *err)
{
	char *idx = xasprintf("%s/split.json", path);
	json_t *j = json_load_file(idx, 0, NULL);
	unsigned n = (unsigned)json_integer_value(json_object_get(j, "n"));

	if (!j)
		err_set(err, "'%s' is a folder but no whole split of prompts "
			"(cannot read '%s'): run caigen split", path, idx);
	else if (s->n <= 1)
		err_set(err, "'%s' is split into %u shards: run %u tasks of a "
			"job array, or one with --shard K/%u", path, n, n, n);
	else if (n != s->n)
		err_set(err, "'%s' is split into %u shards but this task is "
			"shard %u of %u: split again with -n %u", path, n,
			s->k, s->n, s->n);
	else
		err_set(err, "'%s' has no file for shard %u of %u: split "
			"again", path, s->k, s->n);
	json_decref(j);
	free(idx);
	return -1;
}

/*
 * Only this shard's file is read (its header and its last line), not
 * split.json, which grows with N: 1,000 tasks each reading a 40 KB index
 * would cost a third of what they read of their prompts.
 */
int split_resolve(const char *path, const struct shard *s, char **file,
		  size_t *lines, struct err *err)
{
	struct stat st, src;
	char *marker, *name = NULL;
	json_t *h = NULL;
	const char *source;
	FILE *f = NULL;
	int rc = -1;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	marker = xasprintf("%s/split.json", path);
	if (s->n > 1 && access(marker, F_OK) == 0) {
		name = split_file(path, s);
		f = fopen(name, "r");
	}
	free(marker);
	if (!f) {
		explain(path, s, err);
		goto out;
	}
	h = read_header(f);
	if (!h || json_integer_value(json_object_get(h, "n")) !=
		  (json_int_t)s->n ||
	    json_integer_value(json_object_get(h, "k")) !=
		  (json_int_t)s->k) {
		err_set(err, "'%s' is not the file of shard %u of %u: split "
			"again", name, s->k, s->n);
		goto out;
	}
	source = json_string_value(json_object_get(h, "source"));
	if (source && stat(source, &src) == 0 &&
	    (src.st_size != json_integer_value(json_object_get(h,
							"source_bytes")) ||
	     src.st_mtime != json_integer_value(json_object_get(h,
							"source_mtime"))))
		fprintf(stderr, "caigen: warning: '%s' has changed since it "
			"was split into '%s': split it again\n", source, path);
	*lines = trailer_lines(f);
	*file = name;
	name = NULL;
	rc = 1;
out:
	if (f)
		fclose(f);
	json_decref(h);
	free(name);
	return rc;
}

unsigned split_size(const char *path)
{
	char *meta = xasprintf("%s/split.json", path);
	json_t *j = json_load_file(meta, 0, NULL);
	json_int_t n = json_integer_value(json_object_get(j, "n"));

	json_decref(j);
	free(meta);
	return n > 0 && n <= SHARD_MAX ? (unsigned)n : 0;
}

bool split_conversational(const char *shard_file)
{
	char *dir = xstrdup(shard_file), *slash = strrchr(dir, '/');
	char *meta;
	json_t *j;
	bool c;

	if (slash)
		*slash = '\0';
	meta = xasprintf("%s/split.json", slash ? dir : ".");
	j = json_load_file(meta, 0, NULL);
	c = json_is_true(json_object_get(j, "conversational"));
	json_decref(j);
	free(meta);
	free(dir);
	return c;
}
