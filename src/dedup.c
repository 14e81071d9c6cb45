/*
 * dedup.c - exact and near-duplicate removal (dedup.h).
 *
 * DESIGN
 * Per kept prompt the deduplicator holds its 128-bit exact key in one
 * open-addressing table, its 8-bit signature in one flat array, and its
 * number under each band's 32-bit key in that band's table (one table a
 * band, so growing one never holds more than one band's old and new
 * table at once). Band tables allow equal keys: a lookup walks the probe
 * run to the first empty slot and checks every kept prompt filed under
 * the key, once per prompt (a stamp array skips the ones another band
 * already found). A 32-bit band key shared by chance only costs one
 * estimate, never a wrong removal.
 *
 * The command streams the input once through prompts.h's reader: kept
 * lines are copied byte for byte to OUT.tmp, renamed at the end; removed
 * ones go to the report as they come; clusters are grouped at the end
 * from a compact list of the removed (kept number, line, estimate, id).
 */
#include "dedup.h"
#include "idset.h"
#include "minhash.h"
#include "prompts.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct band {
	uint64_t *slot;		/* key << 32 | (kept + 1); 0 = empty */
	size_t cap, n;		/* grows by half when 3/4 full */
};

/* 96 bits of the exact key; kept + 1, 0 = empty */
struct exact {
	uint64_t a;
	uint32_t b;
	uint32_t kept1;
};

/* Kept prompts whose shingle set is no bigger than their signature keep
 * the set (exact Jaccard); the others keep the 8-bit signature. */
#define SIG_STORED 0xffffu

struct dedup {
	struct dedup_params p;
	struct minhash mh;
	struct words w;
	uint32_t *sig;		/* this prompt's full signature */
	uint32_t *keys;		/* this prompt's band keys */
	uint32_t *sh;		/* this prompt's shingle values, sorted */
	size_t nsh, shcap;
	uint8_t *store;		/* per kept: shingles or 8-bit signature */
	size_t store_len, store_cap;
	uint64_t *where;	/* per kept: offset << 16 | shingles, or
				 * offset << 16 | SIG_STORED */
	size_t kept, sigcap;
	struct band *band;
	struct exact *ex;
	size_t excap, exn;
	uint32_t *stamp;	/* per kept: the last add that estimated it */
	uint32_t now;
	size_t candidates;
};

void dedup_params_default(struct dedup_params *p)
{
	p->ngram = 2;
	p->perms = 128;
	p->bands = 16;
	p->rows = 4;
	p->threshold = 0.7;
	p->seed = 1;
	p->near = 1;
}

int dedup_params_check(const struct dedup_params *p, struct err *err)
{
	if (p->ngram < 1 || p->ngram > 64)
		return err_set(err, "--ngram must be from 1 to 64, got %d",
			       p->ngram);
	if (p->perms < 8 || p->perms > MINHASH_MAX_PERMS || p->perms % 8)
		return err_set(err, "--perms must be a multiple of 8 from 8 "
			       "to %d, got %d", MINHASH_MAX_PERMS, p->perms);
	if (p->bands < 1 || p->rows < 1)
		return err_set(err, "--bands and --rows must be at least 1");
	if ((long)p->bands * p->rows > p->perms)
		return err_set(err, "--bands * --rows (%ld) is more than "
			       "--perms (%d)", (long)p->bands * p->rows,
			       p->perms);
	if (!(p->threshold > 0 && p->threshold <= 1))
		return err_set(err, "--threshold must be in (0, 1], got %g",
			       p->threshold);
	return 0;
}

struct dedup *dedup_new(const struct dedup_params *p)
{
	struct dedup *d = xcalloc(1, sizeof(*d));

	d->p = *p;
	minhash_init(&d->mh, p->perms, p->ngram, p->seed);
	d->sig = xmalloc(sizeof(uint32_t) * (size_t)p->perms);
	d->keys = xmalloc(sizeof(uint32_t) * (size_t)p->bands);
	d->band = xcalloc((size_t)p->bands, sizeof(*d->band));
	for (int b = 0; b < p->bands; b++) {
		d->band[b].cap = 1024;
		d->band[b].slot = xcalloc(1024, sizeof(uint64_t));
	}
	d->excap = 1024;
	d->ex = xcalloc(d->excap, sizeof(*d->ex));
	return d;
}

void dedup_free(struct dedup *d)
{
	if (!d)
		return;
	minhash_release(&d->mh);
	words_release(&d->w);
	free(d->sig);
	free(d->keys);
	free(d->sh);
	free(d->store);
	free(d->where);
	for (int b = 0; b < d->p.bands; b++)
		free(d->band[b].slot);
	free(d->band);
	free(d->ex);
	free(d->stamp);
	free(d);
}

size_t dedup_kept(const struct dedup *d)
{
	return d->kept;
}

size_t dedup_candidates(const struct dedup *d)
{
	return d->candidates;
}

/* A slot for a well-mixed 32-bit hash in a table of any size. */
static size_t slot_of(uint32_t h, size_t cap)
{
	return (size_t)(((uint64_t)h * cap) >> 32);
}

static size_t step(size_t i, size_t cap)
{
	return i + 1 == cap ? 0 : i + 1;
}

/* The exact table: the slot holding key k, or the empty slot for it. */
static struct exact *exact_find(struct exact *t, size_t cap,
				const uint64_t k[2])
{
	size_t i = slot_of((uint32_t)k[0], cap);

	while (t[i].kept1 && (t[i].a != k[0] || t[i].b != (uint32_t)k[1]))
		i = step(i, cap);
	return &t[i];
}

static void exact_put(struct dedup *d, const uint64_t k[2], uint32_t kept)
{
	struct exact *e;

	if ((d->exn + 1) * 4 > d->excap * 3) {
		size_t ncap = d->excap + d->excap / 2;
		struct exact *nt = xcalloc(ncap, sizeof(*nt));

		for (size_t i = 0; i < d->excap; i++)
			if (d->ex[i].kept1) {
				uint64_t kk[2] = { d->ex[i].a, d->ex[i].b };

				*exact_find(nt, ncap, kk) = d->ex[i];
			}
		free(d->ex);
		d->ex = nt;
		d->excap = ncap;
	}
	e = exact_find(d->ex, d->excap, k);
	e->a = k[0];
	e->b = (uint32_t)k[1];
	e->kept1 = kept + 1;
	d->exn++;
}

static void band_put(struct band *bt, uint32_t key, uint32_t kept)
{
	size_t i;

	if ((bt->n + 1) * 4 > bt->cap * 3) {
		size_t ncap = bt->cap + bt->cap / 2;
		uint64_t *ns = xcalloc(ncap, sizeof(uint64_t));

		for (size_t j = 0; j < bt->cap; j++)
			if (bt->slot[j]) {
				i = slot_of((uint32_t)(bt->slot[j] >> 32),
					    ncap);
				while (ns[i])
					i = step(i, ncap);
				ns[i] = bt->slot[j];
			}
		free(bt->slot);
		bt->slot = ns;
		bt->cap = ncap;
	}
	i = slot_of(key, bt->cap);
	while (bt->slot[i])
		i = step(i, bt->cap);
	bt->slot[i] = (uint64_t)key << 32 | ((uint64_t)kept + 1);
	bt->n++;
}

static uint32_t band_key(const uint32_t *v, int rows, int b)
{
	uint64_t h = 0x6a09e667f3bcc909ULL ^ (uint64_t)b;

	for (int r = 0; r < rows; r++) {
		h ^= v[r];
		h *= 0x9fb21c651e98df25ULL;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

static void keep(struct dedup *d, const uint64_t key[2])
{
	uint32_t k = (uint32_t)d->kept;
	size_t perms = (size_t)d->p.perms;

	exact_put(d, key, k);
	if (d->p.near) {
		size_t need = d->nsh * 4 <= perms ? d->nsh * 4 : perms;

		if (d->kept == d->sigcap) {
			d->sigcap = d->sigcap ? d->sigcap * 2 : 4096;
			d->where = xrealloc(d->where,
					    d->sigcap * sizeof(uint64_t));
			d->stamp = xrealloc(d->stamp,
					    d->sigcap * sizeof(uint32_t));
		}
		if (d->store_len + need > d->store_cap) {
			d->store_cap = (d->store_cap + need) * 2;
			d->store = xrealloc(d->store, d->store_cap);
		}
		if (d->nsh * 4 <= perms) {
			memcpy(d->store + d->store_len, d->sh, need);
			d->where[d->kept] = (uint64_t)d->store_len << 16 |
					    d->nsh;
		} else {
			for (size_t i = 0; i < perms; i++)
				d->store[d->store_len + i] =
					(uint8_t)d->sig[i];
			d->where[d->kept] = (uint64_t)d->store_len << 16 |
					    SIG_STORED;
		}
		d->store_len += need;
		d->stamp[d->kept] = 0;
		if (d->w.n > 0)
			for (int b = 0; b < d->p.bands; b++)
				band_put(&d->band[b], d->keys[b], k);
	}
	d->kept++;
}

/* Jaccard of this prompt to kept prompt c: exact when c kept its
 * shingles, else estimated from the signatures. */
static double similarity(const struct dedup *d, uint32_t c,
			 const uint8_t *mine)
{
	uint64_t w = d->where[c];
	const uint8_t *p = d->store + (w >> 16);
	uint32_t set[MINHASH_MAX_PERMS / 4];

	if ((w & 0xffff) == SIG_STORED)
		return minhash_estimate(mine, p, d->p.perms);
	memcpy(set, p, (w & 0xffff) * 4);
	return minhash_jaccard(d->sh, d->nsh, set, (size_t)(w & 0xffff));
}

void dedup_add(struct dedup *d, const char *text, size_t len,
	       struct dedup_result *res)
{
	uint64_t key[2];
	struct exact *e;
	size_t perms = (size_t)d->p.perms;
	uint8_t mine[MINHASH_MAX_PERMS];
	uint32_t best = UINT32_MAX;
	double best_j = 0;

	memset(res, 0, sizeof(*res));
	words_split(&d->w, text, len);
	words_key(&d->w, key);
	e = exact_find(d->ex, d->excap, key);
	if (e->kept1) {
		res->kind = DEDUP_EXACT;
		res->kept = e->kept1 - 1;
		res->jaccard = 1;
		return;
	}
	if (!d->p.near) {
		keep(d, key);
		return;
	}
	d->nsh = minhash_shingles(&d->mh, &d->w, &d->sh, &d->shcap);
	minhash_sign_set(&d->mh, d->sh, d->nsh, d->sig);
	if (d->w.n == 0) {
		keep(d, key);
		return;
	}
	if (++d->now == 0) {	/* stamps wrapped: forget them */
		memset(d->stamp, 0, d->kept * sizeof(uint32_t));
		d->now = 1;
	}
	for (size_t i = 0; i < perms; i++)
		mine[i] = (uint8_t)d->sig[i];
	for (int b = 0; b < d->p.bands; b++) {
		struct band *bt = &d->band[b];
		uint32_t k = band_key(d->sig + b * d->p.rows, d->p.rows, b);
		size_t i = slot_of(k, bt->cap);

		d->keys[b] = k;
		for (; bt->slot[i]; i = step(i, bt->cap)) {
			uint32_t c;
			double j;

			if ((uint32_t)(bt->slot[i] >> 32) != k)
				continue;
			c = (uint32_t)(bt->slot[i] & 0xffffffffu) - 1;
			if (d->stamp[c] == d->now || c >= best)
				continue;
			d->stamp[c] = d->now;
			d->candidates++;
			j = similarity(d, c, mine);
			if (j >= d->p.threshold) {
				best = c;
				best_j = j;
			}
		}
	}
	if (best != UINT32_MAX) {
		res->kind = DEDUP_NEAR;
		res->kept = best;
		res->jaccard = best_j;
		return;
	}
	keep(d, key);
}

/* ---- the command ---- */

struct kept_info {
	size_t id;		/* offset in the id arena */
	size_t line;		/* 1-based */
	uint32_t file;		/* input number */
};

struct removed {
	uint32_t kept;
	uint32_t kind;
	float jaccard;
	size_t line;
	size_t id;		/* offset in the id arena */
	uint32_t file;
};

struct dd {
	const char *out_path, *report_path, *clusters_path;
	const char **inputs;	/* references first, then inputs */
	size_t ninputs, nrefs;
	size_t max_line;
	bool quiet;
	struct dedup_params p;

	struct dedup *d;
	FILE *out, *report;
	char *out_tmp;
	char *ids;		/* arena of NUL-ended ids */
	size_t ids_len, ids_cap;
	struct kept_info *kept;
	size_t nkept, kept_cap;
	struct removed *rm;
	size_t nrm, rm_cap;
	size_t read, exact, near, refs_read, bad;
	struct idset out_ids;	/* ids of the kept prompts written */
};

static size_t arena_put(struct dd *s, const char *id)
{
	size_t n = strlen(id) + 1, at = s->ids_len;

	if (s->ids_len + n > s->ids_cap) {
		s->ids_cap = (s->ids_cap + n) * 2;
		s->ids = xrealloc(s->ids, s->ids_cap);
	}
	memcpy(s->ids + at, id, n);
	s->ids_len += n;
	return at;
}

char *dedup_prompt_text(const struct prompt *pr, size_t *len)
{
	size_t i, n = 0;
	json_t *m;
	char *s;

	if (pr->text) {
		*len = strlen(pr->text);
		return xstrdup(pr->text);
	}
	json_array_foreach(pr->messages, i, m)
		n += json_string_length(json_object_get(m, "content")) + 1;
	s = xmalloc(n + 1);
	n = 0;
	json_array_foreach(pr->messages, i, m) {
		json_t *c = json_object_get(m, "content");
		size_t l = json_string_length(c);

		memcpy(s + n, json_string_value(c) ? json_string_value(c) : "",
		       l);
		n += l;
		s[n++] = '\n';
	}
	s[n] = 0;
	*len = n;
	return s;
}

static const char *kind_name(int k)
{
	return k == DEDUP_EXACT ? "exact" : "near";
}

static int write_report(struct dd *s, const struct removed *r,
			const char *id, struct err *err)
{
	const struct kept_info *k = &s->kept[r->kept];
	json_t *o = json_pack("{s:s,s:s,s:I,s:s,s:f,s:s,s:s,s:I}",
			      "id", id,
			      "file", s->inputs[r->file],
			      "line", (json_int_t)r->line,
			      "kind", kind_name((int)r->kind),
			      "jaccard", (double)r->jaccard,
			      "kept_id", s->ids + k->id,
			      "kept_file", s->inputs[k->file],
			      "kept_line", (json_int_t)k->line);
	char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	int rc = 0;

	if (!t || fprintf(s->report, "%s\n", t) < 0)
		rc = err_set(err, "cannot write '%s': %s", s->report_path,
			     strerror(errno));
	free(t);
	json_decref(o);
	return rc;
}

static int one_input(struct dd *s, uint32_t fi, struct err *err)
{
	const char *path = s->inputs[fi];
	bool ref = fi < s->nrefs;
	struct prompts *r = prompts_open(path, s->max_line, err);
	struct prompt pr;
	struct reject rj;
	enum prompts_status st;
	int rc = 0;

	if (!r)
		return -1;
	while ((st = prompts_next(r, &pr, &rj, err)) != PROMPTS_EOF) {
		struct dedup_result res;
		size_t len, ll;
		const char *line;
		char *text;

		if (st == PROMPTS_ERROR) {
			rc = -1;
			break;
		}
		if (st == PROMPTS_REJECT) {
			if (s->bad++ < 20)
				fprintf(stderr, "%s:%zu: %s\n", path, rj.line,
					rj.reason);
			reject_release(&rj);
			continue;
		}
		text = dedup_prompt_text(&pr, &len);
		dedup_add(s->d, text, len, &res);
		free(text);
		if (ref)
			s->refs_read++;
		else
			s->read++;
		if (res.kind == DEDUP_KEEP) {
			if (s->nkept == s->kept_cap) {
				s->kept_cap = s->kept_cap ? s->kept_cap * 2
							  : 4096;
				s->kept = xrealloc(s->kept, s->kept_cap *
						   sizeof(*s->kept));
			}
			s->kept[s->nkept].id = arena_put(s, pr.id);
			s->kept[s->nkept].line = pr.index + 1;
			s->kept[s->nkept].file = fi;
			s->nkept++;
			/* two inputs may each hold an id once (two generate
			 * runs number alike): a run would reject the second */
			if (!ref && !idset_add(&s->out_ids,
					       idset_hash(pr.id))) {
				if (s->bad++ < 20)
					fprintf(stderr, "%s:%zu: duplicate id "
						"'%s': a prompt kept before has "
						"it too (give the prompts of "
						"each input ids of their own: "
						"caigen prompts generate "
						"--id-prefix)\n",
						path, pr.index + 1, pr.id);
			}
			if (!ref && !s->bad) {
				line = prompts_line(r, &ll);
				if (fwrite(line, 1, ll, s->out) != ll ||
				    putc('\n', s->out) == EOF) {
					rc = err_set(err, "cannot write '%s':"
						     " %s", s->out_path,
						     strerror(errno));
					prompt_release(&pr);
					break;
				}
			}
		} else if (!ref) {
			struct removed *m;

			if (res.kind == DEDUP_EXACT)
				s->exact++;
			else
				s->near++;
			if (s->nrm == s->rm_cap) {
				s->rm_cap = s->rm_cap ? s->rm_cap * 2 : 1024;
				s->rm = xrealloc(s->rm, s->rm_cap *
						 sizeof(*s->rm));
			}
			m = &s->rm[s->nrm++];
			m->kept = res.kept;
			m->kind = res.kind;
			m->jaccard = (float)res.jaccard;
			m->line = pr.index + 1;
			m->file = fi;
			m->id = s->clusters_path ? arena_put(s, pr.id) : 0;
			if (s->report && !s->bad) {
				rc = write_report(s, m, pr.id, err);
				if (rc < 0) {
					prompt_release(&pr);
					break;
				}
			}
		}
		prompt_release(&pr);
	}
	prompts_close(r);
	return rc;
}

/* Clusters: every kept prompt with removed ones, in kept order. */
static int write_clusters(struct dd *s, size_t *nclusters, size_t *largest,
			  struct err *err)
{
	size_t *start = xcalloc(s->nkept + 1, sizeof(size_t));
	size_t *order = xmalloc((s->nrm ? s->nrm : 1) * sizeof(size_t));
	size_t *fill;
	FILE *f = NULL;
	int rc = 0;

	for (size_t i = 0; i < s->nrm; i++)
		start[s->rm[i].kept + 1]++;
	for (size_t k = 0; k < s->nkept; k++)
		start[k + 1] += start[k];
	fill = xmalloc((s->nkept + 1) * sizeof(size_t));
	memcpy(fill, start, (s->nkept + 1) * sizeof(size_t));
	for (size_t i = 0; i < s->nrm; i++)
		order[fill[s->rm[i].kept]++] = i;
	if (s->clusters_path && !(f = fopen(s->clusters_path, "w"))) {
		rc = err_set(err, "cannot open '%s': %s", s->clusters_path,
			     strerror(errno));
		goto out;
	}
	for (size_t k = 0; k < s->nkept; k++) {
		size_t n = start[k + 1] - start[k];
		json_t *o, *mem;
		char *t;

		if (!n)
			continue;
		++*nclusters;
		if (n + 1 > *largest)
			*largest = n + 1;
		if (!f)
			continue;
		mem = json_array();
		for (size_t j = start[k]; j < start[k + 1]; j++) {
			const struct removed *r = &s->rm[order[j]];

			json_array_append_new(mem, json_pack(
				"{s:s,s:s,s:I,s:s,s:f}", "id", s->ids + r->id,
				"file", s->inputs[r->file],
				"line", (json_int_t)r->line,
				"kind", kind_name((int)r->kind),
				"jaccard", (double)r->jaccard));
		}
		o = json_pack("{s:s,s:s,s:I,s:I,s:o}",
			      "kept_id", s->ids + s->kept[k].id,
			      "kept_file", s->inputs[s->kept[k].file],
			      "kept_line", (json_int_t)s->kept[k].line,
			      "size", (json_int_t)(n + 1), "removed", mem);
		t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
		json_decref(o);
		if (!t || fprintf(f, "%s\n", t) < 0) {
			free(t);
			rc = err_set(err, "cannot write '%s': %s",
				     s->clusters_path, strerror(errno));
			goto out;
		}
		free(t);
	}
out:
	if (f && fclose(f) != 0 && rc == 0)
		rc = err_set(err, "cannot write '%s': %s", s->clusters_path,
			     strerror(errno));
	free(start);
	free(fill);
	free(order);
	return rc;
}

void dedup_usage(FILE *f)
{
	fputs("usage: caigen prompts dedup [options] PROMPTS...\n\n"
	      "Remove exact (normalised text) and near duplicates (MinHash and\n"
	      "LSH over word n-grams); the first of each cluster by input\n"
	      "order is kept. Kept lines are copied unchanged.\n\n"
	      "  -o, --out FILE        kept prompts (default: stdout)\n"
	      "  --reference FILE      prompts to compare with but not write\n"
	      "                        (e.g. the seeds); read first, repeatable\n"
	      "  --report FILE         one JSON line per removed prompt: kind,\n"
	      "                        estimated Jaccard, the kept prompt\n"
	      "  --clusters FILE       one JSON line per cluster of duplicates\n"
	      "  --exact               exact duplicates only\n"
	      "  --ngram N             words per shingle (2)\n"
	      "  --perms N             MinHash functions, multiple of 8 (128)\n"
	      "  --bands N             LSH bands (16)\n"
	      "  --rows N              signature values a band (4)\n"
	      "  --threshold X         estimated Jaccard that removes (0.7)\n"
	      "  --seed N              seed of the hash functions (1)\n"
	      "  --max-line-bytes N    longest input line (1 MiB)\n"
	      "  -q, --quiet           no summary on stderr\n", f);
}

enum {
	O_REF = 256, O_REPORT, O_CLUSTERS, O_EXACT, O_NGRAM, O_PERMS, O_BANDS,
	O_ROWS, O_THRESH, O_SEED, O_MAXLINE,
};

int prompts_dedup_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bands", required_argument, NULL, O_BANDS },
		{ "clusters", required_argument, NULL, O_CLUSTERS },
		{ "exact", no_argument, NULL, O_EXACT },
		{ "help", no_argument, NULL, 'h' },
		{ "max-line-bytes", required_argument, NULL, O_MAXLINE },
		{ "ngram", required_argument, NULL, O_NGRAM },
		{ "out", required_argument, NULL, 'o' },
		{ "perms", required_argument, NULL, O_PERMS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "reference", required_argument, NULL, O_REF },
		{ "report", required_argument, NULL, O_REPORT },
		{ "rows", required_argument, NULL, O_ROWS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "threshold", required_argument, NULL, O_THRESH },
		{ NULL, 0, NULL, 0 },
	};
	struct dd s;
	struct err err = { "" };
	const char **refs = xcalloc((size_t)argc + 1, sizeof(char *));
	size_t nrefs = 0, nclusters = 0, largest = 0;
	char *end;
	long v;
	int c, rc = 2;
	double t0 = now_sec();

	memset(&s, 0, sizeof(s));
	idset_init(&s.out_ids);
	dedup_params_default(&s.p);
	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			dedup_usage(stdout);
			rc = 0;
			goto out;
		case 'o':
			s.out_path = optarg;
			break;
		case 'q':
			s.quiet = true;
			break;
		case O_REF:
			refs[nrefs++] = optarg;
			break;
		case O_REPORT:
			s.report_path = optarg;
			break;
		case O_CLUSTERS:
			s.clusters_path = optarg;
			break;
		case O_EXACT:
			s.p.near = 0;
			break;
		case O_NGRAM:
			if (option_long("--ngram", optarg, 1, 64, &v) < 0)
				goto out;
			s.p.ngram = (int)v;
			break;
		case O_PERMS:
			if (option_long("--perms", optarg, 8, MINHASH_MAX_PERMS,
				    &v) < 0)
				goto out;
			s.p.perms = (int)v;
			break;
		case O_BANDS:
			if (option_long("--bands", optarg, 1, 1024, &v) < 0)
				goto out;
			s.p.bands = (int)v;
			break;
		case O_ROWS:
			if (option_long("--rows", optarg, 1, 1024, &v) < 0)
				goto out;
			s.p.rows = (int)v;
			break;
		case O_SEED:
			if (option_long("--seed", optarg, 0, 0x7fffffffL, &v) < 0)
				goto out;
			s.p.seed = (uint64_t)v;
			break;
		case O_MAXLINE:
			if (option_long("--max-line-bytes", optarg, 16,
				    1L << 30, &v) < 0)
				goto out;
			s.max_line = (size_t)v;
			break;
		case O_THRESH:
			errno = 0;
			s.p.threshold = strtod(optarg, &end);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "caigen: --threshold must be "
					"a number, got '%s'\n", optarg);
				goto out;
			}
			break;
		default:
			dedup_usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "caigen: prompts dedup: no input file\n");
		dedup_usage(stderr);
		goto out;
	}
	if (dedup_params_check(&s.p, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	s.nrefs = nrefs;
	s.ninputs = nrefs + (size_t)(argc - optind);
	s.inputs = xcalloc(s.ninputs, sizeof(char *));
	for (size_t i = 0; i < nrefs; i++)
		s.inputs[i] = refs[i];
	for (int i = optind; i < argc; i++)
		s.inputs[nrefs + (size_t)(i - optind)] = argv[i];
	if (s.out_path && strcmp(s.out_path, "-")) {
		/* created exclusively, never through a planted link */
		struct err e;

		s.out = fopen_excl_tmp(s.out_path, &s.out_tmp, &e);
		if (!s.out) {
			fprintf(stderr, "caigen: %s\n", e.msg);
			goto out;
		}
	} else {
		s.out_path = "-";
		s.out = stdout;
	}
	if (s.report_path && !(s.report = fopen(s.report_path, "w"))) {
		fprintf(stderr, "caigen: cannot open '%s': %s\n",
			s.report_path, strerror(errno));
		goto out;
	}
	s.d = dedup_new(&s.p);
	for (size_t i = 0; i < s.ninputs; i++)
		if (one_input(&s, (uint32_t)i, &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	if (s.bad) {
		fprintf(stderr, "caigen: prompts dedup: %zu bad input "
			"line(s); %s\n", s.bad, s.out_tmp ? "nothing written"
			: "the output is incomplete");
		goto out;
	}
	if (write_clusters(&s, &nclusters, &largest, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (s.report && fclose(s.report) != 0) {
		s.report = NULL;
		fprintf(stderr, "caigen: cannot write '%s': %s\n",
			s.report_path, strerror(errno));
		goto out;
	}
	s.report = NULL;
	if (s.out_tmp) {
		if (fflush(s.out) != 0 || fsync(fileno(s.out)) != 0 ||
		    fclose(s.out) != 0) {
			s.out = NULL;
			fprintf(stderr, "caigen: cannot write '%s': %s\n",
				s.out_tmp, strerror(errno));
			goto out;
		}
		s.out = NULL;
		if (rename(s.out_tmp, s.out_path) != 0) {
			fprintf(stderr, "caigen: cannot rename '%s': %s\n",
				s.out_tmp, strerror(errno));
			goto out;
		}
		free(s.out_tmp);
		s.out_tmp = NULL;
	} else if (fflush(stdout) != 0) {
		fprintf(stderr, "caigen: cannot write stdout: %s\n",
			strerror(errno));
		goto out;
	}
	if (!s.quiet) {
		fprintf(stderr, "dedup: %zu prompts read, %zu kept, %zu exact "
			"and %zu near duplicates removed",
			s.read, s.read - s.exact - s.near, s.exact, s.near);
		if (s.nrefs)
			fprintf(stderr, " (%zu reference prompts)",
				s.refs_read);
		fprintf(stderr, "; %zu clusters, largest %zu; %zu candidates "
			"checked; %.2f s\n", nclusters, largest,
			dedup_candidates(s.d), now_sec() - t0);
	}
	rc = 0;
out:
	if (s.report)
		fclose(s.report);
	if (s.out && s.out != stdout)
		fclose(s.out);
	if (s.out_tmp) {
		unlink(s.out_tmp);
		free(s.out_tmp);
	}
	dedup_free(s.d);
	free(s.inputs);
	free(refs);
	free(s.ids);
	idset_release(&s.out_ids);
	free(s.kept);
	free(s.rm);
	return rc;
}
