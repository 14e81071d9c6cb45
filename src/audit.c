/*
 * audit.c - one streaming pass over JSONL records into per-principle,
 * per-tag, per-model and overall tallies, then the report.
 *
 * Design: every record is reduced to a few observations (a draw of a
 * principle in a stage, a label with its judgments, a critique round with
 * its answer lengths) and each observation is added to the tallies it
 * touches: overall, the principle, each of the principle's tags and the
 * record's model. A tally holds only counts and sums, so a row's every
 * statistic is computed at the end and memory does not grow with the
 * records. Names map to table rows through a small open-addressing
 * string map.
 */
#include "audit.h"
#include "agree.h"
#include "constitution.h"
#include "eval.h"
#include "evasive.h"
#include "idset.h"
#include "prompts.h"
#include "provenance.h"
#include "report_html.h"
#include "rng.h"
#include "stats.h"

#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_BINS	20
#define MAX_METHODS	16	/* distinct names; more go to "other" */
#define NEAR_TIE	0.05
#define LEVEL		0.99
#define NONE		((size_t)-1)

static const char *const stage_name[STAGE_COUNT] = { "compare", "critique" };

/* ---- a string -> index map ---- */

struct strmap {
	char **key;	/* NULL = empty; not owned */
	size_t *val;
	size_t cap, n;
};

static size_t strmap_get(const struct strmap *m, const char *k)
{
	if (!m->cap)
		return NONE;
	for (size_t i = idset_hash(k) & (m->cap - 1); m->key[i];
	     i = (i + 1) & (m->cap - 1))
		if (!strcmp(m->key[i], k))
			return m->val[i];
	return NONE;
}

static void strmap_put(struct strmap *m, char *k, size_t v)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap) {
		struct strmap g = { NULL, NULL, m->cap ? 2 * m->cap : 64, 0 };

		g.key = xcalloc(g.cap, sizeof(*g.key));
		g.val = xcalloc(g.cap, sizeof(*g.val));
		for (i = 0; i < m->cap; i++)
			if (m->key[i])
				strmap_put(&g, m->key[i], m->val[i]);
		free(m->key);
		free(m->val);
		*m = g;
	}
	for (i = idset_hash(k) & (m->cap - 1); m->key[i];
	     i = (i + 1) & (m->cap - 1))
		;
	m->key[i] = k;
	m->val[i] = v;
	m->n++;
}

static void strmap_release(struct strmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

/* ---- tallies ---- */

struct tally {
	uint64_t draws[STAGE_COUNT];
	/* labels */
	uint64_t labels, near_ties, hist[HIST_BINS];
	double sum_p, sum_margin;
	uint64_t order_n[2], order_a_wins[2];
	uint64_t pairs, same_a, same_b, disagree;
	double sum_gap;
	uint64_t other_n;
	double sum_other;
	uint64_t clamped;
	uint64_t method[MAX_METHODS + 1];
	uint64_t len_pairs;	/* replies differ by > EVAL_LEN_DELTA */
	double len_longer;	/* of which the judge preferred the longer */
	uint64_t mass_n, low_mass;	/* logprobs judgments; flagged low */
	double sum_mass;	/* their 1 - other_mass */
	/* critiques */
	uint64_t crit_records, crit_rounds, len_n, ends_n;
	double sum_before, sum_after, sum_initial, sum_final;
};

/* One record's label, reduced. */
struct label_obs {
	bool has_p;
	double p;
	bool has_pa[2];
	double pa[2];
	int nother;
	double other;
	int nmethod;
	int method[8];
	bool clamped;
	bool has_len;		/* both responses are strings */
	size_t len[2];		/* their lengths in code points */
	int nmass, nlow;	/* logprobs judgments; flagged low */
	double mass;		/* sum of their 1 - other_mass */
};

struct row {
	char *name;		/* principle id, tag or model; owned */
	struct tally t;
	/* principles only */
	char **tags;
	size_t ntags;
	size_t *tagrow;
	bool known;
	double share[STAGE_COUNT];	/* expected; 0 if not serving */
	char *text;		/* unmatched critique text, or NULL */
	/* tags only */
	size_t nprinciples;
};

struct table {
	struct row *r;
	size_t n, cap;
	struct strmap map;
};

struct audit {
	struct constitution con;
	bool have_con;
	struct strmap crit_text;	/* critique text -> principle row */
	struct table principles, tags, models;
	struct tally all;
	char *methods[MAX_METHODS];
	size_t nmethods;
	struct idset ids;
	char **inputs, **dirs;
	size_t ninputs, ndirs;
	/* health */
	uint64_t records, n_pref, n_crit, n_hf, invalid, unrecognized;
	uint64_t duplicates, unknown_principles, unmatched;
	struct agree panel;	/* caigen.preference/2 panels (agree.h) */
	/* --prompts: each prompt's own tags (category:, technique:, ...) */
	struct table intags;
	struct strmap inmap;	/* prompt id -> index into inrows */
	char **inids;		/* the map's keys, owned */
	size_t **inrows, *ninrows, nin;
	size_t cur_in[16], ncur_in;	/* the record being read */
	/* refusals (evasive.h), after audit_set_refusals */
	struct evasive_list rlist;
	struct evasive_tally *ev;
	struct provenance judges;	/* the records' judge models */
};

static size_t table_find(struct table *t, const char *name, bool *created)
{
	size_t i = strmap_get(&t->map, name);

	if (created)
		*created = false;
	if (i != NONE)
		return i;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->r = xrealloc(t->r, t->cap * sizeof(*t->r));
	}
	i = t->n++;
	memset(&t->r[i], 0, sizeof(t->r[i]));
	t->r[i].name = xstrdup(name);
	strmap_put(&t->map, t->r[i].name, i);
	if (created)
		*created = true;
	return i;
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct row *r = &t->r[i];

		free(r->name);
		for (size_t k = 0; k < r->ntags; k++)
			free(r->tags[k]);
		free(r->tags);
		free(r->tagrow);
		free(r->text);
	}
	free(t->r);
	strmap_release(&t->map);
	memset(t, 0, sizeof(*t));
}

struct audit *audit_new(void)
{
	struct audit *a = xcalloc(1, sizeof(*a));

	constitution_init(&a->con);
	idset_init(&a->ids);
	return a;
}

void audit_free(struct audit *a)
{
	if (!a)
		return;
	constitution_release(&a->con);
	strmap_release(&a->crit_text);
	table_release(&a->principles);
	table_release(&a->tags);
	table_release(&a->models);
	table_release(&a->intags);
	strmap_release(&a->inmap);
	for (size_t i = 0; i < a->nin; i++) {
		free(a->inids[i]);
		free(a->inrows[i]);
	}
	free(a->inids);
	free(a->inrows);
	free(a->ninrows);
	for (size_t i = 0; i < a->nmethods; i++)
		free(a->methods[i]);
	idset_release(&a->ids);
	agree_release(&a->panel);
	provenance_release(&a->judges);
	evasive_tally_free(a->ev);
	evasive_release(&a->rlist);
	for (size_t i = 0; i < a->ninputs; i++)
		free(a->inputs[i]);
	for (size_t i = 0; i < a->ndirs; i++)
		free(a->dirs[i]);
	free(a->inputs);
	free(a->dirs);
	free(a);
}

/* Give principle row i its tags (and the tags their rows). */
static void set_tags(struct audit *a, size_t i, const char *const *tags,
		     size_t ntags)
{
	struct row *r;

	a->principles.r[i].tags = xcalloc(ntags, sizeof(char *));
	a->principles.r[i].tagrow = xcalloc(ntags, sizeof(size_t));
	for (size_t k = 0; k < ntags; k++) {
		size_t t = table_find(&a->tags, tags[k], NULL);

		r = &a->principles.r[i];
		r->tags[r->ntags] = xstrdup(tags[k]);
		r->tagrow[r->ntags++] = t;
		a->tags.r[t].nprinciples++;
	}
}

/* Rebuild the principle rows from the constitution: its principles in
 * order, with their expected shares per stage. Only before any data. */
static void index_constitution(struct audit *a)
{
	const struct constitution *c = &a->con;

	table_release(&a->principles);
	table_release(&a->tags);
	strmap_release(&a->crit_text);
	for (size_t i = 0; i < c->n; i++) {
		const struct principle *p = &c->p[i];
		size_t r = table_find(&a->principles, p->id, NULL);

		a->principles.r[r].known = true;
		set_tags(a, r, (const char *const *)p->tags, p->ntags);
		if (p->critique &&
		    strmap_get(&a->crit_text, p->critique) == NONE)
			strmap_put(&a->crit_text, p->critique, r);
	}
	for (int s = 0; s < STAGE_COUNT; s++) {
		double total = 0;

		for (size_t k = 0; k < c->stage_n[s]; k++)
			total += c->p[c->stage_idx[s][k]].weight;
		for (size_t k = 0; k < c->stage_n[s] && total > 0; k++) {
			const struct principle *p = &c->p[c->stage_idx[s][k]];
			size_t r = strmap_get(&a->principles.map, p->id);

			a->principles.r[r].share[s] = p->weight / total;
		}
	}
}

int audit_add_constitution(struct audit *a, const char *path,
			   struct err *err)
{
	int rc;

	if (constitution_load(&a->con, path, err) < 0)
		return -1;
	rc = constitution_finish(&a->con, 0, err);
	if (rc < 0)
		return -1;
	a->have_con = true;
	index_constitution(a);
	return 0;
}

/* ---- reading records ---- */

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool jnumber(json_t *v, double *out)
{
	if (!json_is_number(v))
		return false;
	*out = json_number_value(v);
	return true;
}

/* Length in bytes of an answer: a string, or the last message's content
 * in a role/content list. -1 if neither. */
static double answer_len(json_t *v)
{
	if (json_is_array(v) && json_array_size(v))
		v = json_object_get(json_array_get(v,
			json_array_size(v) - 1), "content");
	if (json_is_string(v))
		return (double)json_string_length(v);
	return -1;
}

static int method_index(struct audit *a, const char *m)
{
	for (size_t i = 0; i < a->nmethods; i++)
		if (!strcmp(a->methods[i], m))
			return (int)i;
	if (a->nmethods == MAX_METHODS)
		return MAX_METHODS;
	a->methods[a->nmethods] = xstrdup(m);
	return (int)a->nmethods++;
}

/* Length of a UTF-8 string in code points (bytes that do not continue a
 * sequence), as caigen eval counts them. */
static size_t code_points(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

/* `clamped: true`, or a p_raw that differs from the value beside it. */
static bool is_clamped(json_t *o, const char *pkey)
{
	double raw, p;

	if (json_is_true(json_object_get(o, "clamped")))
		return true;
	if (!json_object_get(o, "p_raw"))
		return false;
	if (!jnumber(json_object_get(o, "p_raw"), &raw) ||
	    !jnumber(json_object_get(o, pkey), &p))
		return true;
	return raw != p;
}

static void read_label(struct audit *a, json_t *rec, struct label_obs *o)
{
	json_t *js = json_object_get(rec, "judgments");
	json_t *resp = json_object_get(rec, "responses");
	json_t *r0 = json_array_get(resp, 0), *r1 = json_array_get(resp, 1);
	size_t i;
	json_t *j;

	memset(o, 0, sizeof(*o));
	o->has_p = jnumber(json_object_get(rec, "p"), &o->p);
	o->clamped = is_clamped(rec, "p");
	if (json_is_string(r0) && json_is_string(r1)) {
		o->has_len = true;
		o->len[0] = code_points(json_string_value(r0),
					json_string_length(r0));
		o->len[1] = code_points(json_string_value(r1),
					json_string_length(r1));
	}
	json_array_foreach(js, i, j) {
		const char *ord = jstr(j, "order"), *m = jstr(j, "method");
		int k = i < 2 ? (int)i : -1;
		double x;

		if (ord && !strcmp(ord, "AB"))
			k = 0;
		else if (ord && !strcmp(ord, "BA"))
			k = 1;
		if (k >= 0 && !o->has_pa[k] &&
		    jnumber(json_object_get(j, "p_a"), &o->pa[k]))
			o->has_pa[k] = true;
		if (jnumber(json_object_get(j, "other_mass"), &x)) {
			o->other += x;
			o->nother++;
			if (m && !strcmp(m, "logprobs")) {
				o->mass += 1.0 - x;
				o->nmass++;
			}
		}
		o->nlow += json_is_true(json_object_get(j,
							"low_letter_mass"));
		if (m && o->nmethod < (int)ARRAY_SIZE(o->method))
			o->method[o->nmethod++] = method_index(a, m);
		if (is_clamped(j, json_object_get(j, "p") ? "p" : "p_a"))
			o->clamped = true;
	}
}

/* -1, 0, 1: the slot that won one order (B, tie, A). */
static int slot_winner(double pa)
{
	return pa > 0.5 ? 1 : pa < 0.5 ? -1 : 0;
}

static void tally_label(struct tally *t, const struct label_obs *o)
{
	if (o->has_p) {
		double m = fabs(o->p - 0.5);
		int bin = (int)(o->p * HIST_BINS);

		t->labels++;
		t->sum_p += o->p;
		t->sum_margin += m;
		t->near_ties += m < NEAR_TIE;
		bin = bin < 0 ? 0 : bin >= HIST_BINS ? HIST_BINS - 1 : bin;
		t->hist[bin]++;
	}
	for (int k = 0; k < 2; k++) {
		if (!o->has_pa[k])
			continue;
		t->order_n[k]++;
		t->order_a_wins[k] += o->pa[k] > 0.5;
	}
	if (o->has_pa[0] && o->has_pa[1]) {
		int w0 = slot_winner(o->pa[0]), w1 = slot_winner(o->pa[1]);

		t->pairs++;
		t->same_a += w0 == 1 && w1 == 1;
		t->same_b += w0 == -1 && w1 == -1;
		/* the response each order picks: slot A of BA is response 1,
		 * so BA's pick of response 0 is -w1 */
		t->disagree += w0 != -w1;
		t->sum_gap += fabs(o->pa[0] - (1.0 - o->pa[1]));
	}
	if (o->has_p && o->has_len) {
		size_t a = o->len[0], b = o->len[1];
		double pl = a > b ? o->p : 1 - o->p;	/* P(longer) */

		if ((a > b ? a - b : b - a) > EVAL_LEN_DELTA) {
			t->len_pairs++;
			t->len_longer += pl > 0.5 ? 1 : pl == 0.5 ? 0.5 : 0;
		}
	}
	t->mass_n += (uint64_t)o->nmass;
	t->sum_mass += o->mass;
	t->low_mass += (uint64_t)o->nlow;
	t->other_n += (uint64_t)o->nother;
	t->sum_other += o->other;
	t->clamped += o->clamped;
	for (int k = 0; k < o->nmethod; k++)
		t->method[o->method[k]]++;
}

/* The tallies an observation about principle row `pr` and model row `mr`
 * touches. */
static size_t touched(struct audit *a, size_t pr, size_t mr,
		      struct tally **out, size_t max)
{
	size_t n = 0;

	out[n++] = &a->all;
	if (mr != NONE)
		out[n++] = &a->models.r[mr].t;
	for (size_t k = 0; k < a->ncur_in && n < max; k++)
		out[n++] = &a->intags.r[a->cur_in[k]].t;
	if (pr == NONE)
		return n;
	out[n++] = &a->principles.r[pr].t;
	for (size_t k = 0; k < a->principles.r[pr].ntags && n < max; k++)
		out[n++] = &a->tags.r[a->principles.r[pr].tagrow[k]].t;
	return n;
}

/* The principle row for an id (from a record's principle object). */
static size_t principle_row(struct audit *a, json_t *pobj)
{
	const char *id = jstr(pobj, "id");
	json_t *tags = json_object_get(pobj, "tags"), *t;
	bool created;
	size_t r, i, n = 0;
	const char **names;

	if (!id)
		return NONE;
	r = table_find(&a->principles, id, &created);
	if (!created)
		return r;
	if (a->have_con)
		a->unknown_principles++;
	names = xcalloc(json_array_size(tags) + 1, sizeof(*names));
	json_array_foreach(tags, i, t)
		if (json_is_string(t))
			names[n++] = json_string_value(t);
	set_tags(a, r, names, n);
	free(names);
	return r;
}

static size_t model_row(struct audit *a, json_t *rec, const char *which)
{
	const char *m = jstr(json_object_get(rec, "models"), which);

	return table_find(&a->models, m ? m : "(none)", NULL);
}

static void check_duplicate(struct audit *a, char kind, json_t *rec)
{
	const char *id = jstr(rec, "id");
	char *key;
	size_t in;

	/* the record's prompt tags (--prompts), for touched() */
	a->ncur_in = 0;
	if (id && (in = strmap_get(&a->inmap, id)) != NONE) {
		a->ncur_in = a->ninrows[in];
		memcpy(a->cur_in, a->inrows[in], a->ncur_in * sizeof(size_t));
	}
	if (!id)
		return;
	key = xasprintf("%c\x1f%s", kind, id);
	if (!idset_add(&a->ids, idset_hash(key)))
		a->duplicates++;
	free(key);
}

static void add_draw(struct audit *a, size_t pr, size_t mr, int stage)
{
	struct tally *t[32];
	size_t n = touched(a, pr, mr, t, ARRAY_SIZE(t));

	for (size_t k = 0; k < n; k++)
		t[k]->draws[stage]++;
}

/* A pair's refusals by principle, tag and judge model (evasive.h). */
static void refusal_pair(struct audit *a, json_t *rec)
{
	json_t *pobj = json_object_get(rec, "principle"), *tags, *t;
	const char *id = json_string_value(json_object_get(pobj, "id"));
	const char *model = json_string_value(json_object_get(
		json_object_get(rec, "models"), "judge"));
	char *g[34];
	size_t ng = 0, i;

	g[ng++] = xasprintf("principle\t%s", id ? id : "(none)");
	g[ng++] = xasprintf("model\t%s", model ? model : "(none)");
	tags = json_object_get(pobj, "tags");
	json_array_foreach(tags, i, t)
		if (json_is_string(t) && ng < ARRAY_SIZE(g))
			g[ng++] = xasprintf("tag\t%s", json_string_value(t));
	evasive_tally_record(a->ev, rec, NAN, (const char *const *)g, ng);
	for (i = 0; i < ng; i++)
		free(g[i]);
}

int audit_set_refusals(struct audit *a, const char *path, struct err *err)
{
	evasive_tally_free(a->ev);
	a->ev = NULL;
	evasive_release(&a->rlist);
	if (evasive_load(&a->rlist, path, err) < 0)
		return -1;
	a->ev = evasive_tally_new(&a->rlist);
	return 0;
}

static void add_preference(struct audit *a, json_t *rec)
{
	struct label_obs o;
	struct tally *t[32];
	size_t pr, mr, n;

	a->n_pref++;
	provenance_add_record(&a->judges, rec);
	check_duplicate(a, 'P', rec);
	pr = principle_row(a, json_object_get(rec, "principle"));
	mr = model_row(a, rec, "judge");
	add_draw(a, pr, mr, STAGE_COMPARE);
	read_label(a, rec, &o);
	n = touched(a, pr, mr, t, ARRAY_SIZE(t));
	for (size_t k = 0; k < n; k++)
		tally_label(t[k], &o);
	if (a->ev)
		refusal_pair(a, rec);
}

/* One judge's view of a comparison (i, j) of a caigen.preference/2
 * record, tallied as a label of that judge's model. */
static void add_view(struct audit *a, size_t pr, const char *model,
		     json_t *resp, json_t *pair, json_t *view)
{
	json_t *rec = json_object(), *two = json_array();
	struct label_obs o;
	struct tally *t[32];
	size_t mr, n;

	json_array_append(two, json_array_get(resp, json_integer_value(
		json_array_get(pair, 0))));
	json_array_append(two, json_array_get(resp, json_integer_value(
		json_array_get(pair, 1))));
	json_object_set_new(rec, "responses", two);
	json_object_set(rec, "p", json_object_get(view, "p"));
	if (json_object_get(view, "p_raw"))
		json_object_set(rec, "p_raw", json_object_get(view, "p_raw"));
	json_object_set(rec, "judgments", json_object_get(view, "judgments"));
	mr = table_find(&a->models, model ? model : "(none)", NULL);
	read_label(a, rec, &o);
	n = touched(a, pr, mr, t, ARRAY_SIZE(t));
	for (size_t k = 0; k < n; k++)
		tally_label(t[k], &o);
	json_decref(rec);
}

/*
 * A caigen.preference/2 record (ranking.h): one draw of its principle;
 * each comparison is a label of the judge that made it (with a panel,
 * one per member, under the member's model), and a panel's comparisons
 * go to the agreement table. With binarize all-pairs only part 0 counts:
 * the other parts repeat its comparisons.
 */
static void add_ranked(struct audit *a, json_t *rec)
{
	json_t *part = json_object_get(rec, "part"), *c;
	json_t *resp = json_object_get(rec, "responses");
	const char *judge = jstr(json_object_get(rec, "models"), "judge");
	size_t pr, mr, i;

	a->n_pref++;
	provenance_add_record(&a->judges, rec);
	if (json_is_integer(part) && json_integer_value(part) > 0)
		return;
	check_duplicate(a, 'P', rec);
	pr = principle_row(a, json_object_get(rec, "principle"));
	mr = model_row(a, rec, "judge");
	add_draw(a, pr, mr, STAGE_COMPARE);
	json_array_foreach(json_object_get(rec, "comparisons"), i, c) {
		json_t *pair = json_object_get(c, "pair");
		json_t *panel = json_object_get(c, "panel"), *m;
		size_t k;

		if (!json_is_array(panel)) {
			add_view(a, pr, judge, resp, pair, c);
			continue;
		}
		json_array_foreach(panel, k, m)
			add_view(a, pr, jstr(m, "model"), resp, pair, m);
		agree_add(&a->panel, c);
	}
}

/* One critique round under principle row pr: before -> after lengths. */
static void add_round(struct audit *a, size_t pr, size_t mr, double before,
		      double after)
{
	struct tally *t[32];
	size_t n;

	add_draw(a, pr, mr, STAGE_CRITIQUE);
	if (before < 0 || after < 0)
		return;
	n = touched(a, pr, mr, t, ARRAY_SIZE(t));
	for (size_t k = 0; k < n; k++) {
		t[k]->len_n++;
		t[k]->sum_before += before;
		t[k]->sum_after += after;
	}
}

/* Per record (overall and model only): rounds and the two ends. */
static void add_chain(struct audit *a, size_t mr, size_t rounds,
		      double first, double last)
{
	struct tally *t[2] = { &a->all, &a->models.r[mr].t };

	for (int k = 0; k < 2; k++) {
		t[k]->crit_records++;
		t[k]->crit_rounds += rounds;
		if (first >= 0 && last >= 0) {
			t[k]->ends_n++;
			t[k]->sum_initial += first;
			t[k]->sum_final += last;
		}
	}
}

static void add_critique(struct audit *a, json_t *rec)
{
	json_t *rounds = json_object_get(rec, "rounds"), *r;
	double first = answer_len(json_object_get(rec, "initial"));
	double before = first, last = first;
	size_t mr, i;

	a->n_crit++;
	check_duplicate(a, 'C', rec);
	mr = model_row(a, rec, "policy");
	json_array_foreach(rounds, i, r) {
		size_t pr = principle_row(a, json_object_get(r, "principle"));
		double after = answer_len(json_object_get(r, "revision"));

		add_round(a, pr, mr, before, after);
		before = last = after;
	}
	add_chain(a, mr, json_array_size(rounds), first, last);
}

/* Trim white space for matching critique texts. */
static char *trimmed(const char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	n = strlen(s);
	while (n && strchr(" \t\n\r", s[n - 1]))
		n--;
	return xstrndup(s, n);
}

static void add_hf(struct audit *a, json_t *rec)
{
	char *text = trimmed(jstr(rec, "critic_prompt"));
	double first = answer_len(json_object_get(rec, "init_response"));
	double last = answer_len(json_object_get(rec, "revision_response"));
	size_t pr = strmap_get(&a->crit_text, text), mr;

	a->n_hf++;
	if (pr == NONE) {
		char id[32];
		bool created;

		snprintf(id, sizeof(id), "text-%016llx",
			 (unsigned long long)hash64(text, strlen(text)));
		pr = table_find(&a->principles, id, &created);
		if (created) {
			a->principles.r[pr].text = xstrdup(text);
			set_tags(a, pr, NULL, 0);
		}
		a->unmatched++;
	}
	mr = model_row(a, rec, "policy");
	add_round(a, pr, mr, first, last);
	add_chain(a, mr, 1, first, last);
	free(text);
}

void audit_add_line(struct audit *a, const char *line, size_t len)
{
	json_t *rec;
	const char *schema;

	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (!len)
		return;
	a->records++;
	rec = json_loadb(line, len, 0, NULL);
	if (!json_is_object(rec)) {
		a->invalid++;
		json_decref(rec);
		return;
	}
	schema = jstr(rec, "schema");
	if (schema && !strcmp(schema, "caigen.preference/1"))
		add_preference(a, rec);
	else if (schema && !strcmp(schema, "caigen.preference/2"))
		add_ranked(a, rec);
	else if (schema && !strcmp(schema, "caigen.critique/1"))
		add_critique(a, rec);
	else if (!schema && json_is_string(json_object_get(rec,
							   "critic_prompt")))
		add_hf(a, rec);
	else
		a->unrecognized++;
	json_decref(rec);
}

static void remember_dir(struct audit *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, (size_t)(slash - path + 1)) :
			    xstrdup("./");

	for (size_t i = 0; i < a->ndirs; i++) {
		if (!strcmp(a->dirs[i], dir)) {
			free(dir);
			return;
		}
	}
	a->dirs = xrealloc(a->dirs, (a->ndirs + 1) * sizeof(*a->dirs));
	a->dirs[a->ndirs++] = dir;
}

/* failures*.jsonl or rejects*.jsonl: counted as sibling files, not read
 * as records (so a shell glob over a run folder works). */
static bool is_sibling_name(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	return (!strncmp(base, "failures", 8) || !strncmp(base, "rejects", 7))
	       && n > 6 && !strcmp(base + n - 6, ".jsonl");
}

int audit_scan_file(struct audit *a, const char *path, struct err *err)
{
	bool is_stdin = !strcmp(path, "-");
	FILE *f;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (!is_stdin && is_sibling_name(path)) {
		if (access(path, R_OK) < 0)
			return err_set(err, "cannot open '%s': %s", path,
				       strerror(errno));
		remember_dir(a, path);
		return 0;
	}
	f = is_stdin ? stdin : fopen(path, "r");
	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0)
		audit_add_line(a, line, (size_t)n);
	if (ferror(f))
		rc = err_set(err, "cannot read '%s': %s", path,
			     strerror(errno));
	free(line);
	if (!is_stdin) {
		fclose(f);
		remember_dir(a, path);
	}
	a->inputs = xrealloc(a->inputs, (a->ninputs + 1) *
			     sizeof(*a->inputs));
	a->inputs[a->ninputs++] = xstrdup(path);
	return rc;
}

/* ---- sibling files ---- */

struct siblings {
	uint64_t failures, unresolved, rejects;
	json_t *files;
};

static bool is_input(const struct audit *a, const char *path)
{
	for (size_t i = 0; i < a->ninputs; i++)
		if (!strcmp(a->inputs[i], path))
			return true;
	return false;
}

/* Count the lines of every file matching dir + pattern; for failures,
 * those whose id never made it into a record. */
static void count_siblings(struct audit *a, const char *dir,
			   const char *pattern, bool failures,
			   struct siblings *s)
{
	char *pat = xasprintf("%s%s", dir, pattern);
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			FILE *f;
			char *line = NULL;
			size_t cap = 0;
			ssize_t n;

			if (is_input(a, g.gl_pathv[i]) ||
			    !(f = fopen(g.gl_pathv[i], "r")))
				continue;
			json_array_append_new(s->files,
					      json_string(g.gl_pathv[i]));
			while ((n = getline(&line, &cap, f)) > 0) {
				json_t *o;
				const char *id;
				char *kp, *kc;

				if (n == 1 && line[0] == '\n')
					continue;
				if (!failures) {
					s->rejects++;
					continue;
				}
				s->failures++;
				o = json_loadb(line, (size_t)n, 0, NULL);
				id = jstr(o, "id");
				if (id) {
					kp = xasprintf("P\x1f%s", id);
					kc = xasprintf("C\x1f%s", id);
					s->unresolved += !idset_has(&a->ids,
						idset_hash(kp)) &&
						!idset_has(&a->ids,
							   idset_hash(kc));
					free(kp);
					free(kc);
				} else {
					s->unresolved++;
				}
				json_decref(o);
			}
			free(line);
			fclose(f);
		}
	}
	globfree(&g);
	free(pat);
}

/* ---- the report ---- */

static json_t *ratio(double num, uint64_t den)
{
	return den ? json_real(num / (double)den) : json_null();
}

static json_t *labels_json(const struct audit *a, const struct tally *t)
{
	json_t *m = json_object();

	for (size_t i = 0; i < a->nmethods; i++)
		json_object_set_new(m, a->methods[i],
				    json_integer((json_int_t)t->method[i]));
	if (t->method[MAX_METHODS])
		json_object_set_new(m, "other", json_integer(
			(json_int_t)t->method[MAX_METHODS]));
	return json_pack("{s:I,s:o,s:o,s:o,s:{s:o,s:o},s:I,s:o,s:o,s:o,"
			 "s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:I,s:o,s:I}",
		"n", (json_int_t)t->labels,
		"mean_p", ratio(t->sum_p, t->labels),
		"decisiveness", ratio(t->sum_margin, t->labels),
		"near_tie_rate", ratio((double)t->near_ties, t->labels),
		"slot_a_wins",
		"AB", ratio((double)t->order_a_wins[0], t->order_n[0]),
		"BA", ratio((double)t->order_a_wins[1], t->order_n[1]),
		"pairs", (json_int_t)t->pairs,
		"position_bias", ratio((double)(t->same_a + t->same_b),
				       t->pairs),
		"position_bias_a", ratio((double)t->same_a, t->pairs),
		"position_bias_b", ratio((double)t->same_b, t->pairs),
		"order_disagreement", ratio((double)t->disagree, t->pairs),
		"mean_order_gap", ratio(t->sum_gap, t->pairs),
		"mean_other_mass", ratio(t->sum_other, t->other_n),
		"methods", m,
		"clamped", (json_int_t)t->clamped,
		"length_pairs", (json_int_t)t->len_pairs,
		"prefers_longer", ratio(t->len_longer, t->len_pairs),
		"letter_mass_n", (json_int_t)t->mass_n,
		"mean_letter_mass", ratio(t->sum_mass, t->mass_n),
		"low_letter_mass", (json_int_t)t->low_mass);
}

static json_t *critiques_json(const struct tally *t)
{
	uint64_t rounds = t->crit_records ? t->crit_rounds :
			  t->draws[STAGE_CRITIQUE];

	return json_pack("{s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
		"records", (json_int_t)t->crit_records,
		"rounds", (json_int_t)rounds,
		"mean_rounds", ratio((double)t->crit_rounds, t->crit_records),
		"mean_len_before", ratio(t->sum_before, t->len_n),
		"mean_len_after", ratio(t->sum_after, t->len_n),
		"mean_len_initial", ratio(t->sum_initial, t->ends_n),
		"mean_len_final", ratio(t->sum_final, t->ends_n));
}

/*
 * Coverage of one row per stage. expect[s] is the expected share (< 0 or
 * no array: unknown). Only principle rows of the constitution (`interval`)
 * get expected draws and the 99 % interval, both on the stage's draws of
 * constitution principles.
 */
static json_t *coverage_row(const struct audit *a, const struct tally *t,
			    const double *expect, bool interval)
{
	json_t *cov = json_object();

	for (int s = 0; s < STAGE_COUNT; s++) {
		uint64_t draws = t->draws[s], total = a->all.draws[s];
		uint64_t known = 0, lo, hi;
		json_t *o = json_object();
		double e = expect ? expect[s] : -1;

		for (size_t i = 0; i < a->principles.n; i++)
			if (a->principles.r[i].share[s] > 0)
				known += a->principles.r[i].t.draws[s];
		json_object_set_new(o, "draws", json_integer(
			(json_int_t)draws));
		json_object_set_new(o, "share", ratio((double)draws, total));
		json_object_set_new(o, "expected_share", e >= 0 ?
				    json_real(e) : json_null());
		json_object_set_new(o, "expected_draws",
				    interval && e > 0 ?
				    json_real(e * (double)known) :
				    json_null());
		if (interval && e > 0 && known) {
			stats_binom_interval(known, e, LEVEL, &lo, &hi);
			json_object_set_new(o, "interval99", json_pack(
				"[I,I]", (json_int_t)lo, (json_int_t)hi));
			json_object_set_new(o, "flag", draws > hi ?
				json_string("high") : draws < lo ?
				json_string("low") : json_null());
		} else {
			json_object_set_new(o, "interval99", json_null());
			json_object_set_new(o, "flag", json_null());
		}
		json_object_set_new(cov, stage_name[s], o);
	}
	return cov;
}

static json_t *row_json(const struct audit *a, const struct tally *t,
			const double *expect, bool interval)
{
	return json_pack("{s:o,s:o,s:o}",
		"coverage", coverage_row(a, t, expect, interval),
		"labels", labels_json(a, t),
		"critiques", critiques_json(t));
}

/* Summary of one stage: chi-square, never drawn, flagged. */
static json_t *stage_summary(const struct audit *a, int s, json_t *prows)
{
	json_t *never = json_array(), *flagged = json_array(), *chi;
	uint64_t known = 0;
	size_t k = 0;
	double stat = 0;

	for (size_t i = 0; i < a->principles.n; i++) {
		if (a->principles.r[i].share[s] > 0) {
			known += a->principles.r[i].t.draws[s];
			k++;
		}
	}
	for (size_t i = 0; i < a->principles.n; i++) {
		const struct row *r = &a->principles.r[i];
		json_t *cov = json_object_get(json_object_get(
			json_array_get(prows, i), "coverage"), stage_name[s]);

		if (r->share[s] <= 0)
			continue;
		if (known) {
			double e = r->share[s] * (double)known;
			double d = (double)r->t.draws[s] - e;

			stat += d * d / e;
		}
		if (!r->t.draws[s] && a->all.draws[s])
			json_array_append_new(never, json_string(r->name));
		if (json_is_string(json_object_get(cov, "flag")))
			json_array_append_new(flagged, json_string(r->name));
	}
	if (known && k > 1)
		chi = json_pack("{s:f,s:I,s:f}", "statistic", stat,
				"dof", (json_int_t)(k - 1), "p_value",
				stats_chi2_sf(stat, (double)(k - 1)));
	else
		chi = json_null();
	return json_pack("{s:I,s:I,s:I,s:o,s:o,s:o}",
		"draws", (json_int_t)a->all.draws[s],
		"known_draws", (json_int_t)known,
		"principles", (json_int_t)k,
		"chi_square", chi, "never_drawn", never, "flagged", flagged);
}

static const struct table *sort_table;

static int by_name(const void *x, const void *y)
{
	const size_t *i = x, *j = y;

	return strcmp(sort_table->r[*i].name, sort_table->r[*j].name);
}

static json_t *sorted_rows(const struct audit *a, const struct table *t,
			   const char *key, bool tags)
{
	json_t *out = json_array();
	size_t *ix = xcalloc(t->n, sizeof(*ix));

	for (size_t i = 0; i < t->n; i++)
		ix[i] = i;
	sort_table = t;
	qsort(ix, t->n, sizeof(*ix), by_name);
	for (size_t k = 0; k < t->n; k++) {
		const struct row *r = &t->r[ix[k]];
		double e[STAGE_COUNT];
		json_t *o;

		/* a tag's expected share: its principles' shares summed */
		for (int s = 0; s < STAGE_COUNT; s++) {
			e[s] = a->have_con ? 0 : -1;
			for (size_t i = 0; tags && a->have_con &&
			     i < a->principles.n; i++)
				for (size_t m = 0;
				     m < a->principles.r[i].ntags; m++)
					if (a->principles.r[i].tagrow[m] ==
					    ix[k])
						e[s] += a->principles.r[i]
							.share[s];
		}
		o = row_json(a, &r->t, tags ? e : NULL, false);
		json_object_set_new(o, key, json_string(r->name));
		if (tags)
			json_object_set_new(o, "principles", json_integer(
				(json_int_t)r->nprinciples));
		json_array_append_new(out, o);
	}
	free(ix);
	return out;
}

json_t *audit_report(struct audit *a)
{
	json_t *rep, *prows = json_array(), *cons = json_array(), *hist;
	json_t *inputs = json_array(), *cov, *prov;
	struct siblings sib = { 0, 0, 0, json_array() };

	for (size_t i = 0; i < a->ndirs; i++) {
		count_siblings(a, a->dirs[i], "failures*.jsonl", true, &sib);
		count_siblings(a, a->dirs[i], "rejects*.jsonl", false, &sib);
	}
	for (size_t i = 0; i < a->principles.n; i++) {
		const struct row *r = &a->principles.r[i];
		double e[STAGE_COUNT];
		json_t *o, *tags = json_array();

		for (int s = 0; s < STAGE_COUNT; s++)
			e[s] = a->have_con ? r->share[s] : -1;
		o = row_json(a, &r->t, e, r->known);
		for (size_t k = 0; k < r->ntags; k++)
			json_array_append_new(tags, json_string(r->tags[k]));
		json_object_set_new(o, "id", json_string(r->name));
		json_object_set_new(o, "tags", tags);
		json_object_set_new(o, "known", json_boolean(r->known));
		json_object_set_new(o, "text", r->text ?
				    json_string(r->text) : json_null());
		json_array_append_new(prows, o);
	}
	cov = json_object();
	for (int s = 0; s < STAGE_COUNT; s++)
		json_object_set_new(cov, stage_name[s],
				    stage_summary(a, s, prows));
	for (size_t i = 0; i < a->con.nsources; i++)
		json_array_append_new(cons, json_string(a->con.sources[i]));
	for (size_t i = 0; i < a->ninputs; i++)
		json_array_append_new(inputs, json_string(a->inputs[i]));
	hist = json_array();
	for (int b = 0; b < HIST_BINS; b++)
		json_array_append_new(hist, json_integer(
			(json_int_t)a->all.hist[b]));
	rep = json_pack("{s:s,s:O,s:o}", "schema", "caigen.audit/1",
			"inputs", inputs, "constitutions", cons);
	prov = provenance_json(&a->judges);
	json_object_set_new(prov, "inputs", inputs);	/* the reference */
	json_object_set_new(rep, "provenance", prov);
	json_object_set_new(rep, "health", json_pack(
		"{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:o}",
		"records", (json_int_t)a->records,
		"preference", (json_int_t)a->n_pref,
		"critique", (json_int_t)a->n_crit,
		"hf", (json_int_t)a->n_hf,
		"invalid_lines", (json_int_t)a->invalid,
		"unrecognized", (json_int_t)a->unrecognized,
		"duplicate_ids", (json_int_t)a->duplicates,
		"unknown_principles", (json_int_t)a->unknown_principles,
		"unmatched_texts", (json_int_t)a->unmatched,
		"failures", (json_int_t)sib.failures,
		"failures_unresolved", (json_int_t)sib.unresolved,
		"rejects", (json_int_t)sib.rejects,
		"sibling_files", sib.files));
	json_object_set_new(rep, "coverage", cov);
	json_object_set_new(rep, "overall", row_json(a, &a->all, NULL,
						     false));
	json_object_set_new(rep, "principles", prows);
	json_object_set_new(rep, "tags", sorted_rows(a, &a->tags, "tag",
						     true));
	json_object_set_new(rep, "models", sorted_rows(a, &a->models,
						       "model", false));
	if (a->intags.n)	/* only with --prompts */
		json_object_set_new(rep, "input_tags", sorted_rows(a,
				    &a->intags, "tag", false));
	json_object_set_new(rep, "p_histogram", json_pack("{s:f,s:o}",
		"bin_width", 1.0 / HIST_BINS, "counts", hist));
	json_object_set_new(rep, "near_tie_halfwidth", json_real(NEAR_TIE));
	if (a->panel.comparisons)	/* only then, so other reports keep
					 * their keys */
		json_object_set_new(rep, "panel", agree_json(&a->panel));
	if (a->ev) {		/* only with audit_set_refusals */
		static const char *const dims[] = { "principle", "tag",
						    "model" };

		json_object_set_new(rep, "refusals", evasive_tally_json(
			a->ev, dims, ARRAY_SIZE(dims)));
	}
	return rep;
}

/* ---- text ---- */

json_t *audit_json_at(json_t *o, const char *path)
{
	char key[64];

	while (o && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

struct column {
	const char *head;
	const char *path;
	char kind;	/* s string, i integer, % rate, f 3 decimals, 1 one
			 * decimal, r interval, F flag */
};

static void cell(json_t *row, const struct column *c, char *out, size_t n)
{
	json_t *v = audit_json_at(row, c->path);

	if (c->kind == 's') {
		snprintf(out, n, "%s", json_is_string(v) ?
			 json_string_value(v) : "");
	} else if (c->kind == 'F') {
		snprintf(out, n, "%s", json_is_string(v) ?
			 json_string_value(v) : "");
	} else if (c->kind == 'r') {
		if (json_array_size(v) == 2)
			snprintf(out, n, "%lld-%lld", (long long)
				 json_integer_value(json_array_get(v, 0)),
				 (long long)json_integer_value(
					json_array_get(v, 1)));
		else
			snprintf(out, n, "-");
	} else if (!json_is_number(v)) {
		snprintf(out, n, "-");
	} else if (c->kind == 'i') {
		snprintf(out, n, "%.0f", json_number_value(v));
	} else if (c->kind == '%') {
		snprintf(out, n, "%.1f%%", 100 * json_number_value(v));
	} else if (c->kind == '1') {
		snprintf(out, n, "%.1f", json_number_value(v));
	} else {
		snprintf(out, n, "%.3f", json_number_value(v));
	}
}

/* An aligned table: the first column left-aligned, the rest right. */
static void table_print(FILE *f, json_t *rows, const char *namekey,
			const struct column *cols, size_t ncols)
{
	size_t nrows = json_array_size(rows), w[32] = { 0 };
	char buf[128];

	if (!nrows)
		return;
	w[0] = strlen(namekey);
	for (size_t c = 0; c < ncols; c++)
		w[c + 1] = strlen(cols[c].head);
	for (size_t r = 0; r < nrows; r++) {
		json_t *row = json_array_get(rows, r);
		const char *name = json_string_value(json_object_get(row,
								     namekey));

		name = name ? tty_safe(name) : "overall";
		if (strlen(name) > w[0])
			w[0] = strlen(name);
		for (size_t c = 0; c < ncols; c++) {
			cell(row, &cols[c], buf, sizeof(buf));
			if (strlen(buf) > w[c + 1])
				w[c + 1] = strlen(buf);
		}
	}
	fprintf(f, "  %-*s", (int)w[0], namekey);
	for (size_t c = 0; c < ncols; c++)
		fprintf(f, "  %*s", (int)w[c + 1], cols[c].head);
	fputc('\n', f);
	for (size_t r = 0; r < nrows; r++) {
		json_t *row = json_array_get(rows, r);
		const char *name = json_string_value(json_object_get(row,
								     namekey));

		fprintf(f, "  %-*s", (int)w[0], name ? tty_safe(name) :
			"overall");
		for (size_t c = 0; c < ncols; c++) {
			cell(row, &cols[c], buf, sizeof(buf));
			fprintf(f, "  %*s", (int)w[c + 1], buf);
		}
		fputc('\n', f);
	}
}

static void print_list(FILE *f, const char *what, json_t *list)
{
	size_t i;
	json_t *v;

	if (!json_array_size(list))
		return;
	fprintf(f, "  %s:", what);
	json_array_foreach(list, i, v)
		fprintf(f, "%s %s", i ? "," : "",
			tty_safe(json_string_value(v)));
	fputc('\n', f);
}

static const struct column cov_cols[STAGE_COUNT][6] = {
	{ { "draws", "coverage.compare.draws", 'i' },
	  { "share", "coverage.compare.share", '%' },
	  { "expected", "coverage.compare.expected_share", '%' },
	  { "exp.draws", "coverage.compare.expected_draws", '1' },
	  { "99% range", "coverage.compare.interval99", 'r' },
	  { "flag", "coverage.compare.flag", 'F' } },
	{ { "draws", "coverage.critique.draws", 'i' },
	  { "share", "coverage.critique.share", '%' },
	  { "expected", "coverage.critique.expected_share", '%' },
	  { "exp.draws", "coverage.critique.expected_draws", '1' },
	  { "99% range", "coverage.critique.interval99", 'r' },
	  { "flag", "coverage.critique.flag", 'F' } },
};

static const struct column label_cols[] = {
	{ "labels", "labels.n", 'i' },
	{ "mean p", "labels.mean_p", 'f' },
	{ "decisive", "labels.decisiveness", 'f' },
	{ "near-tie", "labels.near_tie_rate", '%' },
	{ "A wins AB", "labels.slot_a_wins.AB", '%' },
	{ "A wins BA", "labels.slot_a_wins.BA", '%' },
	{ "pos.bias", "labels.position_bias", '%' },
	{ "disagree", "labels.order_disagreement", '%' },
	{ "gap", "labels.mean_order_gap", 'f' },
	{ "other", "labels.mean_other_mass", 'f' },
	{ "letters", "labels.mean_letter_mass", 'f' },
	{ "longer", "labels.prefers_longer", '%' },
	{ "clamped", "labels.clamped", 'i' },
};

static const struct column crit_cols[] = {
	{ "records", "critiques.records", 'i' },
	{ "rounds", "critiques.rounds", 'i' },
	{ "len before", "critiques.mean_len_before", '1' },
	{ "len after", "critiques.mean_len_after", '1' },
	{ "len first", "critiques.mean_len_initial", '1' },
	{ "len final", "critiques.mean_len_final", '1' },
};

/* The rows of a group with a positive number at path (or at path2). */
static json_t *with(json_t *rows, const char *path, const char *path2)
{
	json_t *out = json_array(), *r;
	size_t i;

	json_array_foreach(rows, i, r) {
		json_t *v = audit_json_at(r, path), *w = path2 ? audit_json_at(r, path2) : NULL;

		if ((json_is_number(v) && json_number_value(v) > 0) ||
		    (json_is_number(w) && json_number_value(w) > 0))
			json_array_append(out, r);
	}
	return out;
}

/* The panel's agreement (agree.h): per member, then per pair. */
static void print_panel(FILE *f, json_t *panel)
{
	json_t *e;
	size_t i;

	fprintf(f, "\njudge panel: %lld comparisons (agreement: the share "
		"judged on the same side)\n", (long long)json_integer_value(
			json_object_get(panel, "comparisons")));
	json_array_foreach(json_object_get(panel, "members"), i, e)
		fprintf(f, "  member %lld %-24s with the panel %.3f\n",
			(long long)json_integer_value(json_object_get(e,
								      "member")),
			tty_safe(json_string_value(json_object_get(e,
								   "model"))),
			json_number_value(json_object_get(e, "with_panel")));
	json_array_foreach(json_object_get(panel, "pairs"), i, e)
		fprintf(f, "  %s vs %s: %.3f of %lld\n",
			tty_safe(json_string_value(json_object_get(e,
								   "model_a"))),
			tty_safe(json_string_value(json_object_get(e,
								   "model_b"))),
			json_number_value(json_object_get(e, "agreement")),
			(long long)json_integer_value(json_object_get(e,
							"comparisons")));
}

/* What made the report (provenance.h), as the HTML page's table says it:
 * the judge models the records name, the input, the time and the
 * version. Names come from the records: printed through tty_safe. */
static void print_provenance(FILE *f, json_t *prov)
{
	json_t *models = json_object_get(prov, "judge_models");
	json_t *in = json_object_get(prov, "inputs");
	json_int_t more = json_integer_value(json_object_get(
		prov, "judge_models_omitted"));
	const char *t = json_string_value(json_object_get(prov, "time"));
	const char *ver = json_string_value(json_object_get(prov,
						"caigen_version"));
	size_t i;
	json_t *v;

	if (!json_is_object(prov))
		return;
	fprintf(f, "\nprovenance\n  judge model(s):");
	json_array_foreach(models, i, v)
		fprintf(f, "%s %s", i ? "," : "",
			tty_safe(json_string_value(v)));
	if (!json_array_size(models))
		fputs(" none named in the records", f);
	if (more > 0)
		fprintf(f, " (and %lld more mentions of other models)",
			(long long)more);
	fputs("\n  input:", f);
	json_array_foreach(in, i, v)
		fprintf(f, "%s %s", i ? "," : "",
			tty_safe(json_string_value(v)));
	if (!json_array_size(in))
		fputs(" none", f);
	fprintf(f, "\n  time (UTC): %s\n  caigen version: %s\n",
		t ? t : "?", ver ? tty_safe(ver) : "?");
}

void audit_print_text(json_t *rep, FILE *f)
{
	static const struct {
		const char *title, *key, *name;
	} groups[] = {
		{ "principle", "principles", "id" },
		{ "tag", "tags", "tag" },
		{ "model", "models", "model" },
		{ "input tag", "input_tags", "tag" },
	};
	json_t *h = json_object_get(rep, "health");
	json_t *all = json_array(), *methods, *v;
	const char *k;

	json_array_append(all, json_object_get(rep, "overall"));
	fprintf(f, "records: %lld (%lld preference, %lld critique, %lld "
		"hf) from %zu file(s)\n",
		(long long)json_integer_value(audit_json_at(h, "records")),
		(long long)json_integer_value(audit_json_at(h, "preference")),
		(long long)json_integer_value(audit_json_at(h, "critique")),
		(long long)json_integer_value(audit_json_at(h, "hf")),
		json_array_size(json_object_get(rep, "inputs")));
	fprintf(f, "health: %lld invalid lines, %lld unrecognized, %lld "
		"duplicate ids, %lld unknown principles, %lld unmatched "
		"texts; failures %lld (%lld unresolved), rejects %lld\n",
		(long long)json_integer_value(audit_json_at(h, "invalid_lines")),
		(long long)json_integer_value(audit_json_at(h, "unrecognized")),
		(long long)json_integer_value(audit_json_at(h, "duplicate_ids")),
		(long long)json_integer_value(audit_json_at(h, "unknown_principles")),
		(long long)json_integer_value(audit_json_at(h, "unmatched_texts")),
		(long long)json_integer_value(audit_json_at(h, "failures")),
		(long long)json_integer_value(audit_json_at(h, "failures_unresolved")),
		(long long)json_integer_value(audit_json_at(h, "rejects")));
	for (int s = 0; s < STAGE_COUNT; s++) {
		char path[64], epath[64];
		json_t *st = audit_json_at(json_object_get(rep, "coverage"),
				stage_name[s]), *chi, *rows;

		if (!json_integer_value(json_object_get(st, "draws")))
			continue;
		chi = json_object_get(st, "chi_square");
		fprintf(f, "\ncoverage, %s stage: %lld draws", stage_name[s],
			(long long)json_integer_value(json_object_get(st,
								 "draws")));
		if (json_is_object(chi))
			fprintf(f, "; chi-square %.4f, dof %lld, p-value "
				"%.4g", json_number_value(audit_json_at(chi,
							    "statistic")),
				(long long)json_integer_value(audit_json_at(chi, "dof")),
				json_number_value(audit_json_at(chi, "p_value")));
		fputc('\n', f);
		print_list(f, "never drawn", json_object_get(st,
							     "never_drawn"));
		print_list(f, "outside the 99% interval",
			   json_object_get(st, "flagged"));
		snprintf(path, sizeof(path), "coverage.%s.draws",
			 stage_name[s]);
		snprintf(epath, sizeof(epath), "coverage.%s.expected_share",
			 stage_name[s]);
		for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
			/* principles: also those expected, never drawn */
			rows = with(json_object_get(rep, groups[g].key),
				    path, g ? NULL : epath);
			table_print(f, rows, groups[g].name, cov_cols[s],
				    ARRAY_SIZE(cov_cols[s]));
			json_decref(rows);
		}
	}
	if (json_integer_value(audit_json_at(rep, "overall.labels.n"))) {
		fprintf(f, "\nlabels (near tie: |p - 0.5| < %.2f; position "
			"bias: the same slot wins both orders; letters: mean "
			"1 - other_mass of\nlogprobs judgments; longer: the "
			"judge prefers the longer reply, of pairs whose "
			"lengths\ndiffer by more than %d characters)\n",
			json_number_value(json_object_get(rep,
				"near_tie_halfwidth")), EVAL_LEN_DELTA);
		table_print(f, all, "name", label_cols,
			    ARRAY_SIZE(label_cols));
		for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
			json_t *rows = with(json_object_get(rep,
							    groups[g].key),
					    "labels.n", NULL);

			table_print(f, rows, groups[g].name, label_cols,
				    ARRAY_SIZE(label_cols));
			json_decref(rows);
		}
		methods = audit_json_at(rep, "overall.labels.methods");
		fprintf(f, "  methods:");
		json_object_foreach(methods, k, v)
			fprintf(f, " %s %lld", tty_safe(k), (long long)
				json_integer_value(v));
		fputc('\n', f);
		if (json_integer_value(audit_json_at(rep, "overall.labels."
					  "low_letter_mass")))
			fprintf(f, "  judgments marked low_letter_mass: %lld "
				"of %lld by logprobs\n", (long long)
				json_integer_value(audit_json_at(rep, "overall.labels."
						      "low_letter_mass")),
				(long long)json_integer_value(audit_json_at(rep,
					"overall.labels.letter_mass_n")));
	}
	if (json_is_object(json_object_get(rep, "panel")))
		print_panel(f, json_object_get(rep, "panel"));
	if (json_integer_value(audit_json_at(rep, "refusals.overall.pairs"))) {
		fputc('\n', f);
		evasive_print_text(f, json_object_get(rep, "refusals"));
	}
	if (json_integer_value(audit_json_at(rep, "overall.critiques.rounds"))) {
		fprintf(f, "\ncritiques (lengths in bytes)\n");
		table_print(f, all, "name", crit_cols, ARRAY_SIZE(crit_cols));
		for (size_t g = 0; g < ARRAY_SIZE(groups); g++) {
			json_t *rows = with(json_object_get(rep,
							    groups[g].key),
					    "critiques.rounds", NULL);

			table_print(f, rows, groups[g].name, crit_cols,
				    ARRAY_SIZE(crit_cols));
			json_decref(rows);
		}
	}
	print_provenance(f, json_object_get(rep, "provenance"));
	json_decref(all);
}

/* ---- the command ---- */

static void usage(FILE *f)
{
	fputs("usage: caigen audit DATA.jsonl... [--constitution FILE]... "
	      "[--json]\n"
	      "                    [--html REPORT.html]\n"
	      "\n"
	      "Read preference, critique and Hugging Face recipe records "
	      "in one streaming\n"
	      "pass and report how often each principle was drawn (against "
	      "its weight, with\n"
	      "--constitution), how the judge labelled under it (mean p, "
	      "near ties, position\n"
	      "bias), critique rounds, and data health (duplicates; "
	      "failures*.jsonl and\n"
	      "rejects*.jsonl beside each file). Text tables by default; "
	      "--json prints the\n"
	      "report as JSON; --html also writes a self-contained page "
	      "with SVG charts.\n"
	      "\n"
	      "options:\n"
	      "  --constitution FILE  principles, weights and tags to "
	      "compare against\n"
	      "                       (repeat for several files)\n"
	      "  --prompts FILE       the prompts the records came from: "
	      "rows for their\n"
	      "                       tags (category:, technique:, ...; "
	      "repeatable)\n"
	      "  --json               print the report as JSON "
	      "(schema caigen.audit/1)\n"
	      "  --html FILE          also write an HTML report to FILE\n"
	      "  --refusals FILE      the refusal phrase list (default: "
	      "the shipped\n"
	      "                       constitution/refusals.txt)\n"
	      "  -h, --help           print this help and exit\n", f);
}

/* Add one tag name to a prompt's list (once). */
static void in_tag(struct audit *a, size_t in, const char *name)
{
	size_t r = table_find(&a->intags, name, NULL);

	for (size_t k = 0; k < a->ninrows[in]; k++)
		if (a->inrows[in][k] == r)
			return;
	if (a->ninrows[in] == ARRAY_SIZE(a->cur_in))
		return;
	a->inrows[in] = xrealloc(a->inrows[in], (a->ninrows[in] + 1) *
				 sizeof(size_t));
	a->inrows[in][a->ninrows[in]++] = r;
}

int audit_add_prompts(struct audit *a, const char *path, struct err *err)
{
	struct prompts *r = prompts_open(path, 0, err);
	struct prompt p;
	struct reject rj;
	enum prompts_status st;
	int rc = 0;

	if (!r)
		return -1;
	while ((st = prompts_next(r, &p, &rj, err)) != PROMPTS_EOF) {
		size_t len, in, i;
		const char *line;
		json_t *o, *t, *v;

		if (st == PROMPTS_ERROR) {
			rc = -1;
			break;
		}
		if (st == PROMPTS_REJECT) {
			reject_release(&rj);
			continue;
		}
		if (strmap_get(&a->inmap, p.id) != NONE) {
			prompt_release(&p);
			continue;
		}
		in = a->nin++;
		a->inids = xrealloc(a->inids, a->nin * sizeof(char *));
		a->inrows = xrealloc(a->inrows, a->nin * sizeof(size_t *));
		a->ninrows = xrealloc(a->ninrows, a->nin * sizeof(size_t));
		a->inids[in] = xstrdup(p.id);
		a->inrows[in] = NULL;
		a->ninrows[in] = 0;
		strmap_put(&a->inmap, a->inids[in], in);
		line = prompts_line(r, &len);
		o = json_loadb(line, len, 0, NULL);
		t = prompts_line_tags(o);
		json_array_foreach(t, i, v)
			in_tag(a, in, json_string_value(v));
		json_decref(t);
		json_decref(o);
		prompt_release(&p);
	}
	prompts_close(r);
	return rc;
}

int audit_main(int argc, char **argv)
{
	enum { O_CONST = 256, O_JSON, O_HTML, O_PROMPTS, O_REFUSALS };
	static const struct option opts[] = {
		{ "constitution", required_argument, NULL, O_CONST },
		{ "help", no_argument, NULL, 'h' },
		{ "html", required_argument, NULL, O_HTML },
		{ "json", no_argument, NULL, O_JSON },
		{ "prompts", required_argument, NULL, O_PROMPTS },
		{ "refusals", required_argument, NULL, O_REFUSALS },
		{ NULL, 0, NULL, 0 },
	};
	struct audit *a = audit_new();
	const char *html = NULL, *refusals = NULL;
	bool as_json = false;
	json_t *rep = NULL;
	struct err err;
	int c, rc = 2;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case O_CONST:
			if (audit_add_constitution(a, optarg, &err) < 0) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			break;
		case O_JSON:
			as_json = true;
			break;
		case O_HTML:
			html = optarg;
			break;
		case O_PROMPTS:
			if (audit_add_prompts(a, optarg, &err) < 0) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			break;
		case O_REFUSALS:
			refusals = optarg;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (audit_set_refusals(a, refusals, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (optind >= argc) {
		fprintf(stderr, "caigen: audit needs at least one data "
			"file\n");
		usage(stderr);
		goto out;
	}
	if (html && report_out_check(html, (const char *const *)argv + optind,
				     (size_t)(argc - optind), &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		if (audit_scan_file(a, argv[i], &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	}
	rep = audit_report(a);
	if (html && report_html_write(rep, html, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (as_json) {
		json_dumpf(rep, stdout, JSON_INDENT(1) |
			   JSON_REAL_PRECISION(17));
		fputc('\n', stdout);
	} else {
		audit_print_text(rep, stdout);
	}
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	json_decref(rep);
	audit_free(a);
	return rc;
}
