/*
 * decontam.c - overlap of a prompt set with evaluation sets (decontam.h).
 *
 * DESIGN
 * The index maps the 64-bit hash of each word run of the evaluation items
 * to the first item that has it (open addressing, load under 1/2); runs
 * are hashed from word hashes (minhash.h), so no n-gram string is built.
 * A prompt is split once, with each word's byte span kept so the report
 * can quote the first shared run from the prompt itself; its runs of n
 * words are looked up, and so are its runs of each shorter length that
 * some short evaluation item was indexed with.
 */
#include "decontam.h"
#include "dedup.h"
#include "minhash.h"
#include "pairs.h"
#include "prompts.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TRACK 64		/* evaluation items counted per prompt */

struct evitem {
	uint32_t file;
	size_t line;
	size_t id;		/* offset in the id arena */
};

struct dc {
	int ngram, min_words;
	bool tag, quiet;
	const char *out_path, *report_path;
	const char **against;
	size_t nagainst;
	size_t max_line;

	/* the index */
	uint64_t *key;		/* 0 = empty; a hash of 0 is stored as 1 */
	uint32_t *val;		/* evaluation item */
	size_t cap, n;
	bool *short_len;	/* [ngram]: some item indexed at that length */
	struct evitem *items;
	size_t nitems, items_cap, too_short;
	char *ids;
	size_t ids_len, ids_cap;

	/* the prompt being looked at */
	struct words w;
	size_t *ws, *we;	/* word byte spans */
	size_t wcap;

	FILE *out, *report;
	char *out_tmp;
	size_t read, flagged, bad;
};

static int word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

/* Words with their spans: the same words as words_split. */
static void split(struct dc *s, const char *t, size_t len)
{
	size_t i = 0;

	s->w.n = 0;
	while (i < len) {
		size_t b;

		while (i < len && !word_byte((unsigned char)t[i]))
			i++;
		if (i >= len)
			break;
		b = i;
		while (i < len && word_byte((unsigned char)t[i]))
			i++;
		if (s->w.n == s->w.cap) {
			s->w.cap = s->w.cap ? s->w.cap * 2 : 64;
			s->w.h = xrealloc(s->w.h, s->w.cap * sizeof(uint64_t));
		}
		if (s->w.n == s->wcap) {
			s->wcap = s->wcap ? s->wcap * 2 : 64;
			s->ws = xrealloc(s->ws, s->wcap * sizeof(size_t));
			s->we = xrealloc(s->we, s->wcap * sizeof(size_t));
		}
		s->ws[s->w.n] = b;
		s->we[s->w.n] = i;
		s->w.h[s->w.n++] = word_hash(t + b, i - b);
	}
}

static size_t slot(uint64_t k, size_t cap)
{
	return (size_t)(k * 0x9e3779b97f4a7c15ULL >> 17) & (cap - 1);
}

static void index_put(struct dc *s, uint64_t k, uint32_t item)
{
	size_t i;

	k = k ? k : 1;
	if ((s->n + 1) * 2 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;
		uint64_t *nk = xcalloc(ncap, sizeof(uint64_t));
		uint32_t *nv = xmalloc(ncap * sizeof(uint32_t));

		for (size_t j = 0; j < s->cap; j++)
			if (s->key[j]) {
				i = slot(s->key[j], ncap);
				while (nk[i])
					i = (i + 1) & (ncap - 1);
				nk[i] = s->key[j];
				nv[i] = s->val[j];
			}
		free(s->key);
		free(s->val);
		s->key = nk;
		s->val = nv;
		s->cap = ncap;
	}
	i = slot(k, s->cap);
	while (s->key[i]) {
		if (s->key[i] == k)
			return;	/* the first item keeps it */
		i = (i + 1) & (s->cap - 1);
	}
	s->key[i] = k;
	s->val[i] = item;
	s->n++;
}

/* The item holding run hash k, or -1. */
static long index_get(const struct dc *s, uint64_t k)
{
	size_t i;

	if (!s->cap)
		return -1;
	k = k ? k : 1;
	for (i = slot(k, s->cap); s->key[i]; i = (i + 1) & (s->cap - 1))
		if (s->key[i] == k)
			return (long)s->val[i];
	return -1;
}

static size_t arena_put(struct dc *s, const char *id)
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

/* Index one evaluation item's text. */
static void add_item(struct dc *s, uint32_t file, size_t line,
		     const char *id, const char *text, size_t len)
{
	uint32_t me = (uint32_t)s->nitems;
	size_t n = (size_t)s->ngram;

	split(s, text, len);
	if (s->w.n < n && s->w.n < (size_t)s->min_words) {
		s->too_short++;
		return;
	}
	if (s->nitems == s->items_cap) {
		s->items_cap = s->items_cap ? s->items_cap * 2 : 1024;
		s->items = xrealloc(s->items, s->items_cap * sizeof(*s->items));
	}
	s->items[me].file = file;
	s->items[me].line = line;
	s->items[me].id = arena_put(s, id);
	s->nitems++;
	if (s->w.n < n) {
		s->short_len[s->w.n] = true;
		index_put(s, words_gram(&s->w, 0, s->w.n), me);
		return;
	}
	for (size_t i = 0; i + n <= s->w.n; i++)
		index_put(s, words_gram(&s->w, i, n), me);
}

/* Whether a JSONL file holds pairs (else prompts): by its first object. */
static bool holds_pairs(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	bool pairs = false;

	if (!f)
		return false;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *o;
		size_t i = 0;

		while (i < (size_t)n && (line[i] == ' ' || line[i] == '\t' ||
					 line[i] == '\r' || line[i] == '\n'))
			i++;
		if (i == (size_t)n)
			continue;
		o = json_loadb(line, (size_t)n, JSON_DISABLE_EOF_CHECK, NULL);
		if (json_is_object(o))
			pairs = json_object_get(o, "chosen") ||
				(!json_object_get(o, "prompt") &&
				 !json_object_get(o, "messages"));
		json_decref(o);
		break;
	}
	free(line);
	fclose(f);
	return pairs;
}

static bool ends_with(const char *s, const char *t)
{
	size_t a = strlen(s), b = strlen(t);

	return a >= b && !strcmp(s + a - b, t);
}

static int load_against(struct dc *s, uint32_t fi, struct err *err)
{
	const char *path = s->against[fi];
	int rc = 0;

	if (!ends_with(path, ".txt") && holds_pairs(path)) {
		struct pairs *r = pairs_open(path, PAIRS_AUTO, s->max_line,
					     err);
		struct pair p;
		enum pairs_status st;
		size_t line;
		char *reason;

		if (!r)
			return -1;
		while ((st = pairs_next(r, &p, &line, &reason, err)) !=
		       PAIRS_EOF) {
			struct prompt pr = { 0 };
			size_t len;
			char *t;

			if (st == PAIRS_ERROR) {
				rc = -1;
				break;
			}
			if (st == PAIRS_REJECT) {
				if (s->bad++ < 20)
					fprintf(stderr, "%s:%zu: %s\n", path,
						line, reason);
				free(reason);
				continue;
			}
			pr.text = p.text;
			pr.messages = p.messages;
			t = dedup_prompt_text(&pr, &len);
			add_item(s, fi, p.index + 1, p.id, t, len);
			free(t);
			pair_release(&p);
		}
		pairs_close(r);
	} else {
		struct prompts *r = prompts_open(path, s->max_line, err);
		struct prompt p;
		struct reject rj;
		enum prompts_status st;

		if (!r)
			return -1;
		while ((st = prompts_next(r, &p, &rj, err)) != PROMPTS_EOF) {
			size_t len;
			char *t;

			if (st == PROMPTS_ERROR) {
				rc = -1;
				break;
			}
			if (st == PROMPTS_REJECT) {
				if (s->bad++ < 20)
					fprintf(stderr, "%s:%zu: %s\n", path,
						rj.line, rj.reason);
				reject_release(&rj);
				continue;
			}
			t = dedup_prompt_text(&p, &len);
			add_item(s, fi, p.index + 1, p.id, t, len);
			free(t);
			prompt_release(&p);
		}
		prompts_close(r);
	}
	return rc;
}

struct hit {
	uint32_t item;
	size_t runs;
	size_t first;		/* first word of the first shared run */
	size_t len;		/* its words */
};

/* The evaluation item sharing most runs with the current prompt (ties:
 * the one met first); false if none. *runs: the prompt's runs. */
static bool look_up(struct dc *s, struct hit *best, size_t *runs)
{
	struct hit h[TRACK];
	size_t nh = 0, n = (size_t)s->ngram;

	*runs = 0;
	for (size_t L = 1; L <= n; L++) {
		if (L < n && !s->short_len[L])
			continue;
		if (s->w.n < L)
			break;
		for (size_t i = 0; i + L <= s->w.n; i++) {
			long it = index_get(s, words_gram(&s->w, i, L));
			size_t k;

			if (L == n)
				++*runs;
			if (it < 0)
				continue;
			for (k = 0; k < nh && h[k].item != (uint32_t)it; k++)
				;
			if (k == nh) {
				if (nh == TRACK)
					continue;
				h[nh].item = (uint32_t)it;
				h[nh].runs = 0;
				h[nh].first = i;
				h[nh].len = L;
				nh++;
			}
			h[k].runs++;
		}
	}
	if (!nh)
		return false;
	*best = h[0];
	for (size_t k = 1; k < nh; k++)
		if (h[k].runs > best->runs)
			*best = h[k];
	if (*runs == 0)
		*runs = 1;
	return true;
}

static json_t *contamination(struct dc *s, const struct hit *b, size_t runs,
			     const char *text)
{
	const struct evitem *e = &s->items[b->item];
	size_t from = s->ws[b->first], to = s->we[b->first + b->len - 1];

	return json_pack("{s:s,s:I,s:s,s:I,s:f,s:s%}",
			 "file", s->against[e->file], "line",
			 (json_int_t)e->line, "id", s->ids + e->id,
			 "shared_runs", (json_int_t)b->runs, "share",
			 (double)b->runs / (double)runs > 1 ? 1.0 :
			 (double)b->runs / (double)runs,
			 "match", text + from, to - from);
}

static int put_line(struct dc *s, const char *p, size_t n, struct err *err)
{
	if (fwrite(p, 1, n, s->out) != n || putc('\n', s->out) == EOF)
		return err_set(err, "cannot write '%s': %s", s->out_path,
			       strerror(errno));
	return 0;
}

static int put_json(struct dc *s, json_t *o, struct err *err)
{
	char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(4));
	int rc;

	if (!t)
		return err_set(err, "cannot encode a line");
	rc = put_line(s, t, strlen(t), err);
	free(t);
	return rc;
}

static int one_prompt(struct dc *s, struct prompts *r, const char *path,
		      struct prompt *p, struct err *err)
{
	bool text_in = !strcmp(prompts_format(r), "text");
	size_t len, ll, runs;
	char *t = dedup_prompt_text(p, &len);
	const char *line = prompts_line(r, &ll);
	struct hit b;
	json_t *c = NULL, *o = NULL;
	int rc = 0;

	split(s, t, len);
	if (look_up(s, &b, &runs)) {
		s->flagged++;
		c = contamination(s, &b, runs, t);
		if (s->report) {
			json_t *rep = json_pack("{s:s,s:s,s:I,s:O}", "id",
						p->id, "file", path, "line",
						(json_int_t)(p->index + 1),
						"contamination", c);
			char *x = json_dumps(rep, JSON_COMPACT |
					     JSON_REAL_PRECISION(4));

			if (!x || fprintf(s->report, "%s\n", x) < 0)
				rc = err_set(err, "cannot write '%s': %s",
					     s->report_path, strerror(errno));
			free(x);
			json_decref(rep);
		}
	}
	if (rc < 0 || s->bad || (c && !s->tag))
		goto out;
	if (!s->tag || (!c && !text_in)) {
		rc = put_line(s, line, ll, err);
		goto out;
	}
	if (text_in) {
		o = json_pack("{s:s,s:s}", "id", p->id, "prompt", p->text);
	} else {
		o = json_loadb(line, ll, 0, NULL);
		if (!json_is_object(o)) {
			rc = err_set(err, "%s:%zu: cannot read the line again",
				     path, p->index + 1);
			goto out;
		}
	}
	if (c) {
		json_t *tags = json_object_get(o, "tags");

		if (json_is_string(tags)) {
			json_t *a = json_array();

			json_array_append(a, tags);
			json_object_set_new(o, "tags", a);
			tags = a;
		} else if (!tags) {
			tags = json_array();
			json_object_set_new(o, "tags", tags);
		}
		if (json_is_array(tags))
			json_array_append_new(tags, json_string("contaminated"));
		json_object_set(o, "contamination", c);
	}
	rc = put_json(s, o, err);
out:
	json_decref(o);
	json_decref(c);
	free(t);
	return rc;
}

void decontam_usage(FILE *f)
{
	fputs("usage: caigen prompts decontaminate --against FILE... "
	      "[options] PROMPTS\n\n"
	      "Flag prompts that share a run of N words with an evaluation\n"
	      "set (human-label JSONL as `caigen eval` reads, or prompt files).\n"
	      "\n"
	      "  --against FILE        an evaluation set; repeatable\n"
	      "  -o, --out FILE        the prompts left (default: stdout)\n"
	      "  --report FILE         one JSON line per flagged prompt: the\n"
	      "                        evaluation item, runs shared, the match\n"
	      "  --tag                 keep flagged prompts, tagged\n"
	      "                        \"contaminated\" (default: remove them)\n"
	      "  --ngram N             words in a run (13)\n"
	      "  --min-words N         shorter evaluation items are skipped (8)\n"
	      "  --max-line-bytes N    longest input line (1 MiB)\n"
	      "  -q, --quiet           no summary on stderr\n", f);
}

enum { O_AGAINST = 256, O_REPORT, O_TAG, O_NGRAM, O_MINW, O_MAXLINE };

int prompts_decontaminate_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "against", required_argument, NULL, O_AGAINST },
		{ "help", no_argument, NULL, 'h' },
		{ "max-line-bytes", required_argument, NULL, O_MAXLINE },
		{ "min-words", required_argument, NULL, O_MINW },
		{ "ngram", required_argument, NULL, O_NGRAM },
		{ "out", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "report", required_argument, NULL, O_REPORT },
		{ "tag", no_argument, NULL, O_TAG },
		{ NULL, 0, NULL, 0 },
	};
	struct dc s;
	struct err err = { "" };
	struct prompts *r = NULL;
	const char *in;
	long v;
	int c, rc = 2;

	memset(&s, 0, sizeof(s));
	s.ngram = 13;
	s.min_words = 8;
	s.against = xcalloc((size_t)argc + 1, sizeof(char *));
	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:q", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			decontam_usage(stdout);
			rc = 0;
			goto out;
		case 'o':
			s.out_path = optarg;
			break;
		case 'q':
			s.quiet = true;
			break;
		case O_AGAINST:
			s.against[s.nagainst++] = optarg;
			break;
		case O_REPORT:
			s.report_path = optarg;
			break;
		case O_TAG:
			s.tag = true;
			break;
		case O_NGRAM:
			if (option_long("--ngram", optarg, 1, 1000, &v) < 0)
				goto out;
			s.ngram = (int)v;
			break;
		case O_MINW:
			if (option_long("--min-words", optarg, 1, 1000, &v) < 0)
				goto out;
			s.min_words = (int)v;
			break;
		case O_MAXLINE:
			if (option_long("--max-line-bytes", optarg, 16, 1L << 30,
				&v) < 0)
				goto out;
			s.max_line = (size_t)v;
			break;
		default:
			decontam_usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || !s.nagainst) {
		fprintf(stderr, "caigen: prompts decontaminate: %s\n",
			!s.nagainst ? "no --against file" :
			"give one prompts file");
		decontam_usage(stderr);
		goto out;
	}
	in = argv[optind];
	s.short_len = xcalloc((size_t)s.ngram + 1, sizeof(bool));
	for (size_t i = 0; i < s.nagainst; i++)
		if (load_against(&s, (uint32_t)i, &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	if (s.bad) {
		fprintf(stderr, "caigen: prompts decontaminate: %zu bad line(s)"
			" in the evaluation sets\n", s.bad);
		goto out;
	}
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
	if (!(r = prompts_open(in, s.max_line, &err))) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	for (;;) {
		struct prompt p;
		struct reject rj;
		enum prompts_status st = prompts_next(r, &p, &rj, &err);

		if (st == PROMPTS_EOF)
			break;
		if (st == PROMPTS_ERROR) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
		if (st == PROMPTS_REJECT) {
			if (s.bad++ < 20)
				fprintf(stderr, "%s:%zu: %s\n", in, rj.line,
					rj.reason);
			reject_release(&rj);
			continue;
		}
		s.read++;
		c = one_prompt(&s, r, in, &p, &err);
		prompt_release(&p);
		if (c < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	}
	if (s.bad) {
		fprintf(stderr, "caigen: prompts decontaminate: %zu bad input "
			"line(s); %s\n", s.bad, s.out_tmp ? "nothing written"
			: "the output is incomplete");
		goto out;
	}
	if (s.report) {
		c = fclose(s.report);
		s.report = NULL;
		if (c != 0) {
			fprintf(stderr, "caigen: cannot write '%s': %s\n",
				s.report_path, strerror(errno));
			goto out;
		}
	}
	if (s.out_tmp) {
		c = fflush(s.out) || fsync(fileno(s.out)) || fclose(s.out);
		s.out = NULL;
		if (c || rename(s.out_tmp, s.out_path) != 0) {
			fprintf(stderr, "caigen: cannot write '%s': %s\n",
				s.out_path, strerror(errno));
			goto out;
		}
		free(s.out_tmp);
		s.out_tmp = NULL;
	} else if (fflush(stdout) != 0) {
		fprintf(stderr, "caigen: cannot write stdout: %s\n",
			strerror(errno));
		goto out;
	}
	if (!s.quiet)
		fprintf(stderr, "decontaminate: %zu prompts read, %zu flagged "
			"and %s; index: %zu evaluation items, %zu runs of %d "
			"words (%zu items under %d words skipped)\n", s.read,
			s.flagged, s.tag ? "tagged" : "removed", s.nitems, s.n,
			s.ngram, s.too_short, s.min_words);
	rc = 0;
out:
	prompts_close(r);
	if (s.report)
		fclose(s.report);
	if (s.out && s.out != stdout)
		fclose(s.out);
	if (s.out_tmp) {
		unlink(s.out_tmp);
		free(s.out_tmp);
	}
	free(s.against);
	free(s.key);
	free(s.val);
	free(s.short_len);
	free(s.items);
	free(s.ids);
	words_release(&s.w);
	free(s.ws);
	free(s.we);
	return rc;
}
