/*
 * eval.c - judge evaluation against reference labels (eval.h).
 *
 * Items are kept in one array (a few dozen bytes each); every metric block
 * is computed from a list of item indexes, so the overall block and each
 * group's block share one code path. Bootstrap intervals resample the
 * prompts (clusters) of the block: the block's items are sorted by prompt
 * hash, summed per prompt once, and each resample adds up the sums of the
 * prompts it drew.
 */
#include "eval.h"
#include "agree.h"
#include "audit.h"
#include "evasive.h"
#include "jsonl.h"
#include "provenance.h"
#include "review.h"
#include "rng.h"
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const dims[] = { "principle", "tag", "input_tag",
				    "method" };
#define NDIMS 4

struct group {
	int dim;
	char *name;
};

struct eval {
	struct eval_opts o;
	struct eval_item *it;
	size_t n, cap;
	struct group *g;
	size_t ng;
	size_t records, no_reference;
	long long tokens[2];
	/* caigen.preference/2 with a panel: per member, over scored
	 * items, hard and soft agreement with the reference; and the
	 * members' agreement with each other (agree.h) */
	struct agree panel;
	double m_hard[AGREE_MAX], m_soft[AGREE_MAX];
	size_t m_scored[AGREE_MAX];
	/* review.h: reviews that replace records' references */
	const struct reviews *rv;
	size_t from_reviews;
	struct evasive_tally *refusals;	/* evasive.h, when set */
	struct provenance judges;	/* the records' judge models */
};

static int add_one(struct eval *ev, json_t *rec, struct err *err);

struct eval *eval_new(const struct eval_opts *o)
{
	struct eval *ev = xcalloc(1, sizeof(*ev));

	ev->o = *o;
	if (ev->o.boot <= 0)
		ev->o.boot = EVAL_BOOT;
	return ev;
}

void eval_free(struct eval *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++)
		free(ev->it[i].groups);
	for (size_t i = 0; i < ev->ng; i++)
		free(ev->g[i].name);
	free(ev->it);
	free(ev->g);
	agree_release(&ev->panel);
	provenance_release(&ev->judges);
	evasive_tally_free(ev->refusals);
	free(ev);
}

static uint32_t group_of(struct eval *ev, int dim, const char *name)
{
	for (size_t i = 0; i < ev->ng; i++)
		if (ev->g[i].dim == dim && !strcmp(ev->g[i].name, name))
			return (uint32_t)i;
	ev->g = xrealloc(ev->g, (ev->ng + 1) * sizeof(*ev->g));
	ev->g[ev->ng].dim = dim;
	ev->g[ev->ng].name = xstrdup(name);
	return (uint32_t)ev->ng++;
}

void eval_add(struct eval *ev, const struct eval_item *it,
	      const char *const *groups, size_t ngroups)
{
	struct eval_item *d;

	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? 2 * ev->cap : 256;
		ev->it = xrealloc(ev->it, ev->cap * sizeof(*ev->it));
	}
	d = &ev->it[ev->n++];
	*d = *it;
	d->groups = xcalloc(ngroups ? ngroups : 1, sizeof(*d->groups));
	d->ngroups = 0;
	for (size_t i = 0; i < ngroups; i++) {
		const char *tab = strchr(groups[i], '\t');

		for (int k = 0; tab && k < NDIMS; k++)
			if (strlen(dims[k]) == (size_t)(tab - groups[i]) &&
			    !strncmp(groups[i], dims[k], strlen(dims[k]))) {
				uint32_t gi = group_of(ev, k, tab + 1);
				bool dup = false;

				for (uint32_t j = 0; j < d->ngroups; j++)
					dup |= d->groups[j] == gi;
				if (!dup)
					d->groups[d->ngroups++] = gi;
			}
	}
	ev->records++;
}

/* ---- reading records ------------------------------------------------ */

static size_t code_points(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

static double num_or_nan(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/*
 * A caigen.preference/2 record of one pair (a judge panel labelling pairs
 * with replies, ranking.h) as the /1 fields eval reads: p and the
 * judgments from its one comparison (with a panel, the combined p and
 * member 0's judgments). The members' own labels are scored against the
 * reference here. New reference, or NULL with err.
 */
static json_t *ranked_view(struct eval *ev, json_t *rec, struct err *err)
{
	json_t *cs = json_object_get(rec, "comparisons");
	json_t *c = json_array_get(cs, 0), *pair = json_object_get(c, "pair");
	json_t *panel = json_object_get(c, "panel"), *ref, *pf, *m, *view;
	size_t i;

	if (json_array_size(cs) != 1 ||
	    json_integer_value(json_array_get(pair, 0)) != 0 ||
	    json_integer_value(json_array_get(pair, 1)) != 1 ||
	    json_array_size(json_object_get(rec, "responses")) != 2)
		return err_set(err, "a caigen.preference/2 record must "
			       "compare exactly two responses, [0, 1], to "
			       "be evaluated"), NULL;
	view = json_copy(rec);
	json_object_set(view, "p", json_object_get(c, "p"));
	json_object_del(view, "p_raw");
	json_object_set(view, "judgments", json_is_array(panel) ?
			json_object_get(json_array_get(panel, 0),
					"judgments") :
			json_object_get(c, "judgments"));
	ref = json_object_get(rec, "reference");
	pf = json_object_get(ref, "preferred");
	if (!json_is_array(panel) || !json_is_integer(pf))
		return view;
	agree_add(&ev->panel, c);
	json_array_foreach(panel, i, m) {
		json_int_t k = json_integer_value(json_object_get(m,
								  "member"));
		double p = num_or_nan(json_object_get(m, "p"));
		double y = json_integer_value(pf) == 0 ? 1 : 0;

		if (k < 0 || k >= AGREE_MAX || isnan(p))
			continue;
		ev->m_scored[k]++;
		ev->m_hard[k] += p == 0.5 ? 0.5 : (p > 0.5) == (y == 1);
		ev->m_soft[k] += y == 1 ? p : 1 - p;
	}
	return view;
}

/* Per member of a panel: its agreement with the reference and with the
 * others. NULL without a panel. */
static json_t *panel_report(const struct eval *ev)
{
	json_t *o, *members;
	size_t i;
	json_t *e;

	if (!ev->panel.comparisons)
		return NULL;
	o = agree_json(&ev->panel);
	members = json_object_get(o, "members");
	json_array_foreach(members, i, e) {
		json_int_t k = json_integer_value(json_object_get(e,
								  "member"));
		size_t n = ev->m_scored[k];

		json_object_set_new(e, "scored", json_integer((json_int_t)n));
		json_object_set_new(e, "agreement_hard", n ?
				    json_real(ev->m_hard[k] / (double)n) :
				    json_null());
		json_object_set_new(e, "agreement_soft", n ?
				    json_real(ev->m_soft[k] / (double)n) :
				    json_null());
	}
	return o;
}

int eval_add_record(struct eval *ev, json_t *rec, struct err *err)
{
	const char *schema = json_string_value(json_object_get(rec,
							       "schema"));

	provenance_add_record(&ev->judges, rec);
	if (schema && !strcmp(schema, "caigen.preference/2")) {
		json_t *view = json_is_object(json_object_get(rec,
							      "reference")) ?
			       ranked_view(ev, rec, err) : json_copy(rec);
		int rc;

		if (!view)
			return -1;
		json_object_set_new(view, "schema",
				    json_string("caigen.preference/1"));
		rc = eval_add_record(ev, view, err);
		json_decref(view);
		return rc;
	}
	return add_one(ev, rec, err);
}

/* A caigen.preference/1 record (or a /2 record's view of one). */
static int add_one(struct eval *ev, json_t *rec, struct err *err)
{
	json_t *ref = json_object_get(rec, "reference");
	json_t *resp = json_object_get(rec, "responses");
	json_t *pf, *js, *j, *pr, *tags, *t;
	struct eval_item it;
	const char *groups[64];
	char *own[64];
	size_t ng = 0, i;
	const char *method = NULL;
	char *prompt;
	bool by_review;
	double ry = 0;

	if (!json_is_object(rec))
		return err_set(err, "not a JSON object");
	ev->tokens[0] += json_integer_value(json_object_get(json_object_get(
		rec, "usage"), "prompt_tokens"));
	ev->tokens[1] += json_integer_value(json_object_get(json_object_get(
		rec, "usage"), "completion_tokens"));
	by_review = ev->rv && json_is_string(json_object_get(rec, "id")) &&
		    reviews_reference(ev->rv, json_string_value(
			    json_object_get(rec, "id")), &ry);
	if (!json_is_object(ref) && !by_review) {
		ev->no_reference++;
		ev->records++;
		return 0;
	}
	memset(&it, 0, sizeof(it));
	pf = json_object_get(ref, "preferred");
	it.p = num_or_nan(json_object_get(rec, "p"));
	it.p_raw = num_or_nan(json_object_get(rec, "p_raw"));
	if (isnan(it.p_raw))
		it.p_raw = it.p;
	if (isnan(it.p) || it.p < 0 || it.p > 1)
		return err_set(err, "'p' must be a number in [0, 1]");
	if (json_array_size(resp) != 2 ||
	    !json_is_string(json_array_get(resp, 0)) ||
	    !json_is_string(json_array_get(resp, 1)))
		return err_set(err, "'responses' must be two strings");
	if (by_review)
		it.y = ry;	/* the reviewers' majority wins */
	else if (json_is_null(pf))
		it.y = 0.5;
	else if (json_is_integer(pf) && json_integer_value(pf) == 0)
		it.y = 1;
	else if (json_is_integer(pf) && json_integer_value(pf) == 1)
		it.y = 0;
	else
		return err_set(err, "'reference.preferred' must be 0, 1 or "
			       "null");
	it.len[0] = code_points(json_string_value(json_array_get(resp, 0)));
	it.len[1] = code_points(json_string_value(json_array_get(resp, 1)));
	it.q[0] = it.q[1] = NAN;
	js = json_object_get(rec, "judgments");
	json_array_foreach(js, i, j) {
		const char *ord = json_string_value(json_object_get(j,
								    "order"));
		const char *m = json_string_value(json_object_get(j,
								  "method"));

		json_t *pa = json_object_get(j, "p_a");

		if (pa && !json_is_null(pa) && (!json_is_number(pa) ||
		    !(json_number_value(pa) >= 0 &&
		      json_number_value(pa) <= 1)))
			return err_set(err, "'judgments[%zu].p_a' must be a "
				       "number in [0, 1]", i);
		if (ord && !strcmp(ord, "AB"))
			it.q[0] = num_or_nan(pa);
		else if (ord && !strcmp(ord, "BA"))
			it.q[1] = num_or_nan(pa);
		if (m)
			method = !method || !strcmp(method, m) ? m : "mixed";
	}
	prompt = json_dumps(json_object_get(rec, "prompt"),
			    JSON_COMPACT | JSON_ENCODE_ANY);
	it.cluster = prompt ? hash64(prompt, strlen(prompt)) : 0;
	free(prompt);

	pr = json_object_get(rec, "principle");
	if (json_string_value(json_object_get(pr, "id")))
		own[ng] = xasprintf("principle\t%s", json_string_value(
			json_object_get(pr, "id"))), groups[ng] = own[ng],
			ng++;
	tags = json_object_get(pr, "tags");
	json_array_foreach(tags, i, t)
		if (json_is_string(t) && ng < 60)
			own[ng] = xasprintf("tag\t%s", json_string_value(t)),
				groups[ng] = own[ng], ng++;
	tags = json_object_get(ref, "tags");
	json_array_foreach(tags, i, t)
		if (json_is_string(t) && ng < 62)
			own[ng] = xasprintf("input_tag\t%s",
					    json_string_value(t)),
				groups[ng] = own[ng], ng++;
	own[ng] = xasprintf("method\t%s", method ? method : "none");
	groups[ng] = own[ng];
	ng++;
	eval_add(ev, &it, groups, ng);
	if (ev->refusals)
		evasive_tally_record(ev->refusals, rec, it.y, groups, ng);
	ev->from_reviews += by_review;
	for (i = 0; i < ng; i++)
		free(own[i]);
	return 1;
}

void eval_set_reviews(struct eval *ev, const struct reviews *rv)
{
	ev->rv = rv;
}

void eval_set_refusals(struct eval *ev, const struct evasive_list *l)
{
	evasive_tally_free(ev->refusals);
	ev->refusals = evasive_tally_new(l);
}

void eval_tokens(const struct eval *ev, long long *prompt_tokens,
		 long long *completion_tokens)
{
	*prompt_tokens = ev->tokens[0];
	*completion_tokens = ev->tokens[1];
}

const struct provenance *eval_judges(const struct eval *ev)
{
	return &ev->judges;
}

void eval_set_cost(struct eval *ev, double cost_usd, double seconds,
		   size_t timed)
{
	ev->o.cost_usd = cost_usd;
	ev->o.seconds = seconds;
	ev->o.timed = timed;
}

static int read_one(void *ctx, json_t *rec, size_t lineno, struct err *err)
{
	(void)lineno;
	return eval_add_record(ctx, rec, err) < 0 ? -1 : 0;
}

int eval_read_file(struct eval *ev, const char *path, struct err *err)
{
	return jsonl_each(path, 0, read_one, ev, err) < 0 ? -1 : 0;
}

/* ---- building blocks ------------------------------------------------ */

int eval_bin(double q, int bins)
{
	int m = (int)floor(q * bins);

	if (m < 0)
		m = 0;
	if (m > bins - 1)
		m = bins - 1;
	/* the edge m/bins is the double nearest to it: q >= that edge */
	while (m > 0 && q < (double)m / bins)
		m--;
	while (m < bins - 1 && q >= (double)(m + 1) / bins)
		m++;
	return m;
}

double eval_binom_two_sided(uint64_t k, uint64_t n)
{
	uint64_t lo = k < n - k ? k : n - k;
	double s = 0;

	if (n == 0)
		return 1;
	if (2 * lo == n)
		return 1;
	for (uint64_t i = 0; i <= lo; i++)
		s += exp(lgamma((double)n + 1) - lgamma((double)i + 1) -
			 lgamma((double)(n - i) + 1) - (double)n * M_LN2);
	s *= 2;
	return s < 1 ? s : 1;
}

double eval_quantile(const double *v, size_t n, double q)
{
	double h, f;
	size_t i;

	if (!n)
		return NAN;
	h = (double)(n - 1) * q;
	i = (size_t)floor(h);
	f = h - (double)i;
	if (i + 1 >= n)
		return v[n - 1];
	return v[i] + f * (v[i + 1] - v[i]);
}

static json_t *real_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* Hard credit of a label p of responses[0] against y (not a tie). */
static double credit(double p, double y)
{
	if (p == 0.5)
		return 0.5;
	return (p > 0.5) == (y == 1) ? 1 : 0;
}

static double hard(const struct eval_item *it)
{
	return credit(it->p, it->y);
}

static double soft(const struct eval_item *it)
{
	return it->y == 1 ? it->p : 1 - it->p;
}

static double logloss(double p, double y)
{
	p = p < EVAL_EPS ? EVAL_EPS : p > 1 - EVAL_EPS ? 1 - EVAL_EPS : p;
	return -(y * log(p) + (1 - y) * log(1 - p));
}

struct cluster_sum {
	uint64_t key;
	double hard, soft, n;
};

static int cmp_cluster(const void *a, const void *b, void *arg)
{
	const struct eval_item *it = arg;
	uint64_t x = it[*(const size_t *)a].cluster;
	uint64_t y = it[*(const size_t *)b].cluster;

	return (x > y) - (x < y);
}

/* 95 % bootstrap intervals of hard and soft agreement over the clusters
 * of the scored items idx[0..n-1] (sorted in place). */
static void bootstrap(const struct eval *ev, size_t *idx, size_t n,
		      const char *key, double ci[2][2])
{
	struct cluster_sum *c = xcalloc(n ? n : 1, sizeof(*c));
	size_t nc = 0;
	int B = ev->o.boot, nb = 0;
	double *vh = xcalloc((size_t)B, sizeof(*vh));
	double *vs = xcalloc((size_t)B, sizeof(*vs));

	qsort_r(idx, n, sizeof(*idx), cmp_cluster, ev->it);
	for (size_t i = 0; i < n; i++) {
		const struct eval_item *it = &ev->it[idx[i]];

		if (!nc || c[nc - 1].key != it->cluster)
			c[nc++].key = it->cluster;
		c[nc - 1].hard += hard(it);
		c[nc - 1].soft += soft(it);
		c[nc - 1].n += 1;
	}
	for (int b = 0; b < B && nc; b++) {
		uint64_t s = rng_u64(ev->o.seed, key, "eval-bootstrap",
				     (uint64_t)b);
		double h = 0, so = 0, m = 0;

		for (size_t k = 0; k < nc; k++) {
			const struct cluster_sum *x =
				&c[(size_t)((double)(rng_stream(&s) >> 11) *
					    0x1p-53 * (double)nc)];

			h += x->hard;
			so += x->soft;
			m += x->n;
		}
		vh[nb] = h / m;
		vs[nb++] = so / m;
	}
	qsort(vh, (size_t)nb, sizeof(*vh), stats_cmp_double);
	qsort(vs, (size_t)nb, sizeof(*vs), stats_cmp_double);
	ci[0][0] = eval_quantile(vh, (size_t)nb, 0.025);
	ci[0][1] = eval_quantile(vh, (size_t)nb, 0.975);
	ci[1][0] = eval_quantile(vs, (size_t)nb, 0.025);
	ci[1][1] = eval_quantile(vs, (size_t)nb, 0.975);
	free(c);
	free(vh);
	free(vs);
}

/* Symmetric reliability bins over the scored items; ECE and MCE. Fills
 * rows when non-NULL. `raw` uses p_raw. */
static void calibration(const struct eval *ev, const size_t *idx, size_t n,
			bool raw, double *ece, double *mce, json_t *rows)
{
	double sp[EVAL_BINS] = { 0 }, sy[EVAL_BINS] = { 0 };
	double cnt[EVAL_BINS] = { 0 }, tot = 0;

	for (size_t i = 0; i < n; i++) {
		const struct eval_item *it = &ev->it[idx[i]];
		double p = raw ? it->p_raw : it->p;
		int a = eval_bin(p, EVAL_BINS), b = eval_bin(1 - p, EVAL_BINS);

		sp[a] += p;
		sy[a] += it->y;
		cnt[a]++;
		sp[b] += 1 - p;
		sy[b] += 1 - it->y;
		cnt[b]++;
		tot += 2;
	}
	*ece = tot ? 0 : NAN;
	*mce = tot ? 0 : NAN;
	for (int m = 0; m < EVAL_BINS; m++) {
		double gap;

		if (!cnt[m])
			continue;
		gap = fabs(sy[m] / cnt[m] - sp[m] / cnt[m]);
		*ece += cnt[m] / tot * gap;
		if (gap > *mce)
			*mce = gap;
		if (rows)
			json_array_append_new(rows, json_pack(
				"{s:f,s:f,s:f,s:f,s:I}",
				"lo", (double)m / EVAL_BINS,
				"hi", (double)(m + 1) / EVAL_BINS,
				"mean_p", sp[m] / cnt[m],
				"freq", sy[m] / cnt[m],
				"count", (json_int_t)cnt[m]));
	}
}

static json_t *position(const struct eval *ev, const size_t *idx, size_t n)
{
	size_t cons = 0, first = 0, second = 0, mixed = 0, unparsed = 0;
	size_t notie = 0;

	for (size_t i = 0; i < n; i++) {
		const struct eval_item *it = &ev->it[idx[i]];
		double q1 = it->q[0], q2 = it->q[1];
		/* winner by identity: 0 responses[0], 1 responses[1], 2 tie */
		int w1, w2;

		if (isnan(q1) || isnan(q2)) {
			unparsed++;
			continue;
		}
		w1 = q1 > 0.5 ? 0 : q1 < 0.5 ? 1 : 2;
		w2 = q2 > 0.5 ? 1 : q2 < 0.5 ? 0 : 2;
		notie += w1 != 2 && w2 != 2;
		if (w1 == w2)
			cons++;
		else if (w1 == 2 || w2 == 2)
			mixed++;
		else if (q1 > 0.5)
			first++;
		else
			second++;
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:o,s:o}",
		"n", (json_int_t)(n - unparsed),
		"consistent", (json_int_t)cons,
		"first", (json_int_t)first,
		"second", (json_int_t)second,
		"mixed", (json_int_t)mixed,
		"unparsed", (json_int_t)unparsed,
		"same_position", real_or_null(notie ?
			(double)(first + second) / (double)notie : NAN),
		"binomial_p", real_or_null(first + second ?
			eval_binom_two_sided(first, first + second) : NAN));
}

static json_t *length_bias(const struct eval *ev, const size_t *idx,
			   size_t n)
{
	double judge = 0, human = 0, base = 0;
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct eval_item *it = &ev->it[idx[i]];
		size_t a = it->len[0], b = it->len[1];
		double pl = a > b ? it->p : 1 - it->p;	/* P(longer) */
		double yl = a > b ? it->y : 1 - it->y;

		base += a == b ? 0.5 : yl;
		if ((a > b ? a - b : b - a) <= EVAL_LEN_DELTA)
			continue;
		m++;
		judge += pl > 0.5 ? 1 : pl == 0.5 ? 0.5 : 0;
		human += yl;
	}
	return json_pack("{s:I,s:o,s:o,s:o}", "n", (json_int_t)m,
		"judge_longer", real_or_null(m ? judge / (double)m : NAN),
		"reference_longer", real_or_null(m ? human / (double)m : NAN),
		"longer_baseline", real_or_null(n ? base / (double)n : NAN));
}

/* The metric block of items idx[0..n-1]; key names the group for the
 * bootstrap stream. */
static json_t *block(const struct eval *ev, const size_t *idx, size_t n,
		     const char *key, json_t *rows)
{
	size_t *sc = xcalloc(n ? n : 1, sizeof(*sc)), ns = 0;
	double h = 0, s = 0, br = 0, ll = 0, brr = 0, llr = 0;
	double ece, mce, ecer, mcer, ci[2][2];
	size_t jt = 0, n1 = 0, n2 = 0;
	double h1 = 0, h2 = 0;	/* single orders: q1, and 1 - q2 */
	bool clamped = false;
	json_t *o;

	for (size_t i = 0; i < n; i++) {
		const struct eval_item *it = &ev->it[idx[i]];

		br += (it->p - it->y) * (it->p - it->y);
		ll += logloss(it->p, it->y);
		brr += (it->p_raw - it->y) * (it->p_raw - it->y);
		llr += logloss(it->p_raw, it->y);
		clamped |= it->p_raw != it->p;
		if (it->y == 0.5)
			continue;
		sc[ns++] = idx[i];
		h += hard(it);
		s += soft(it);
		jt += it->p == 0.5;
		if (!isnan(it->q[0])) {
			h1 += credit(it->q[0], it->y);
			n1++;
		}
		if (!isnan(it->q[1])) {
			h2 += credit(1 - it->q[1], it->y);
			n2++;
		}
	}
	calibration(ev, sc, ns, false, &ece, &mce, rows);
	bootstrap(ev, sc, ns, key, ci);
	o = json_pack("{s:I,s:I,s:I}", "n", (json_int_t)n,
		      "scored", (json_int_t)ns,
		      "reference_ties", (json_int_t)(n - ns));
	json_object_set_new(o, "agreement_hard", json_pack(
		"{s:o,s:o,s:o,s:I}",
		"value", real_or_null(ns ? h / (double)ns : NAN),
		"ci_low", real_or_null(ci[0][0]),
		"ci_high", real_or_null(ci[0][1]),
		"judge_ties", (json_int_t)jt));
	json_object_set_new(o, "agreement_soft", json_pack("{s:o,s:o,s:o}",
		"value", real_or_null(ns ? s / (double)ns : NAN),
		"ci_low", real_or_null(ci[1][0]),
		"ci_high", real_or_null(ci[1][1])));
	json_object_set_new(o, "agreement_single_order", json_pack(
		"{s:o,s:I,s:o,s:I}",
		"ab", real_or_null(n1 ? h1 / (double)n1 : NAN),
		"n_ab", (json_int_t)n1,
		"ba", real_or_null(n2 ? h2 / (double)n2 : NAN),
		"n_ba", (json_int_t)n2));
	json_object_set_new(o, "brier", real_or_null(n ? br / (double)n :
						     NAN));
	json_object_set_new(o, "log_loss", real_or_null(n ? ll / (double)n :
							NAN));
	json_object_set_new(o, "ece", real_or_null(ece));
	json_object_set_new(o, "mce", real_or_null(mce));
	if (clamped) {
		calibration(ev, sc, ns, true, &ecer, &mcer, NULL);
		json_object_set_new(o, "raw", json_pack("{s:o,s:o,s:o}",
			"brier", real_or_null(brr / (double)n),
			"log_loss", real_or_null(llr / (double)n),
			"ece", real_or_null(ecer)));
	}
	json_object_set_new(o, "position", position(ev, idx, n));
	json_object_set_new(o, "length", length_bias(ev, sc, ns));
	free(sc);
	return o;
}

json_t *eval_report(struct eval *ev)
{
	json_t *r = json_object(), *rows = json_array(), *by[NDIMS];
	size_t *idx = xcalloc(ev->n ? ev->n : 1, sizeof(*idx)), ns = 0;
	double per = ev->n ? 1000.0 / (double)ev->n : NAN;

	for (size_t i = 0; i < ev->n; i++) {
		idx[i] = i;
		ns += ev->it[i].y != 0.5;
	}
	json_object_set_new(r, "schema", json_string("caigen.eval/1"));
	json_object_set_new(r, "seed", json_integer((json_int_t)ev->o.seed));
	json_object_set_new(r, "bootstrap", json_integer(ev->o.boot));
	json_object_set_new(r, "conventions", json_pack(
		"{s:i,s:s,s:s,s:i,s:f,s:s}",
		"bins", EVAL_BINS,
		"bin_edges", "left-closed: m/10 <= q < (m+1)/10, 1.0 in the "
		"last bin",
		"calibration", "symmetric: (p, y) and (1 - p, 1 - y) per "
		"scored item",
		"length_delta", EVAL_LEN_DELTA,
		"log_loss_eps", EVAL_EPS,
		"ties", "reference ties left out of agreement, calibration "
		"and length; kept as y = 1/2 in brier and log_loss; judge "
		"ties (p = 1/2) count 1/2"));
	json_object_set_new(r, "counts", json_pack("{s:I,s:I,s:I,s:I,s:I}",
		"records", (json_int_t)ev->records,
		"no_reference", (json_int_t)ev->no_reference,
		"items", (json_int_t)ev->n,
		"scored", (json_int_t)ns,
		"reference_ties", (json_int_t)(ev->n - ns)));
	json_object_set_new(r, "overall", block(ev, idx, ev->n, "", rows));
	json_object_set_new(r, "reliability", rows);
	json_object_set_new(r, "cost", json_pack("{s:o,s:o,s:o,s:o}",
		"cost_usd", real_or_null(ev->o.cost_usd),
		"seconds", real_or_null(ev->o.seconds),
		"price_per_1000", real_or_null(ev->o.cost_usd * per),
		"seconds_per_1000", real_or_null(ev->o.timed ?
			ev->o.seconds * 1000.0 / (double)ev->o.timed :
			ev->o.seconds * per)));
	for (int d = 0; d < NDIMS; d++)
		by[d] = json_object();
	for (size_t g = 0; g < ev->ng; g++) {
		size_t m = 0;
		char *key = xasprintf("%s\t%s", dims[ev->g[g].dim],
				      ev->g[g].name);

		for (size_t i = 0; i < ev->n; i++)
			for (uint32_t k = 0; k < ev->it[i].ngroups; k++)
				if (ev->it[i].groups[k] == g)
					idx[m++] = i;
		json_object_set_new(by[ev->g[g].dim], ev->g[g].name,
				    block(ev, idx, m, key, NULL));
		free(key);
	}
	json_object_set_new(r, "by_principle", by[0]);
	json_object_set_new(r, "by_tag", by[1]);
	json_object_set_new(r, "by_input_tag", by[2]);
	json_object_set_new(r, "by_method", by[3]);
	free(idx);
	{
		json_t *pa = panel_report(ev);

		if (pa)		/* only with a panel: other reports keep
				 * their keys */
			json_object_set_new(r, "panel", pa);
	}
	if (ev->refusals) {	/* only when asked, likewise */
		static const char *const rd[] = { "principle", "tag",
						   "input_tag" };

		json_object_set_new(r, "refusals", evasive_tally_json(
			ev->refusals, rd, ARRAY_SIZE(rd)));
	}
	if (ev->rv) {		/* only with reviews, likewise */
		json_t *rs = reviews_summary(ev->rv);

		json_object_set_new(rs, "references_from_reviews",
				    json_integer((json_int_t)ev->from_reviews));
		json_object_set_new(r, "reviews", rs);
	}
	return r;
}

/* ---- text ----------------------------------------------------------- */

static double jnum(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A number as text, "n/a" when it is null; buf holds 32 bytes. */
static const char *fmtn(char *buf, double v, int prec)
{
	if (isnan(v))
		return "n/a";
	snprintf(buf, 32, "%.*f", prec, v);
	return buf;
}

#define N(i, v, prec) fmtn(nb[i], (v), (prec))

/* name in a column of width code points: cut after the last whole
 * character that fits (never inside one), padded with spaces. */
static void put_column(FILE *f, const char *name, size_t width)
{
	size_t i = 0, cps = 0;

	while (name[i]) {
		size_t n = 1;

		while ((name[i + n] & 0xC0) == 0x80)
			n++;
		if (cps == width)
			break;
		fwrite(name + i, 1, n, f);
		i += n;
		cps++;
	}
	for (; cps < width; cps++)
		fputc(' ', f);
}

static void text_row(FILE *f, const char *name, json_t *b)
{
	char nb[9][32];

	fputs("  ", f);
	put_column(f, tty_safe(name), 28);
	fprintf(f, " %6s %6s [%5s, %5s] %6s %7s %7s %6s %6s\n",
		N(0, jnum(b, "scored", NULL), 0),
		N(1, jnum(b, "agreement_hard", "value"), 3),
		N(2, jnum(b, "agreement_hard", "ci_low"), 3),
		N(3, jnum(b, "agreement_hard", "ci_high"), 3),
		N(4, jnum(b, "agreement_soft", "value"), 3),
		N(5, jnum(b, "brier", NULL), 4),
		N(6, jnum(b, "log_loss", NULL), 4),
		N(7, jnum(b, "ece", NULL), 3),
		N(8, jnum(b, "length", "judge_longer"), 3));
}

/* A panel's members against the reference and each other. */
static void panel_text(FILE *f, json_t *pa)
{
	json_t *e;
	size_t i;

	fprintf(f, "judge panel (agreement with the reference over scored "
		"items; with each other over %lld pairs):\n",
		(long long)json_integer_value(json_object_get(pa,
							      "comparisons")));
	json_array_foreach(json_object_get(pa, "members"), i, e)
		fprintf(f, "  member %lld %-24s hard %.4f  soft %.4f  with "
			"the panel %.4f\n", (long long)json_integer_value(
				json_object_get(e, "member")),
			tty_safe(json_string_value(json_object_get(e, "model"))),
			json_number_value(json_object_get(e,
							  "agreement_hard")),
			json_number_value(json_object_get(e,
							  "agreement_soft")),
			json_number_value(json_object_get(e, "with_panel")));
	json_array_foreach(json_object_get(pa, "pairs"), i, e)
		fprintf(f, "  %s vs %s: %.4f\n",
			tty_safe(json_string_value(json_object_get(e, "model_a"))),
			tty_safe(json_string_value(json_object_get(e, "model_b"))),
			json_number_value(json_object_get(e, "agreement")));
}

void eval_print_text(FILE *f, json_t *r)
{
	json_t *o = json_object_get(r, "overall"), *row, *pos, *len, *v;
	static const char *const by[] = { "by_principle", "by_tag",
					  "by_input_tag", "by_method" };
	char nb[8][32];
	const char *k;
	size_t i;

	fprintf(f, "judge evaluation: %.0f items (%.0f scored, %.0f reference "
		"ties, %.0f records without a reference)\n",
		jnum(r, "counts", "items"), jnum(r, "counts", "scored"),
		jnum(r, "counts", "reference_ties"),
		jnum(r, "counts", "no_reference"));
	if ((v = json_object_get(r, "reviews")))
		fprintf(f, "reviews: %.0f by %zu reviewer(s) on %.0f records, "
			"the reference of %.0f items; %.0f records reviewed "
			"twice or more, reviewers agree in %s of %.0f "
			"pairs\n", jnum(v, "reviews", NULL),
			json_array_size(json_object_get(v, "reviewers")),
			jnum(v, "records", NULL),
			jnum(v, "references_from_reviews", NULL),
			jnum(v, "multi_reviewed", NULL),
			N(0, jnum(v, "agreement", NULL), 4),
			jnum(v, "reviewer_pairs", NULL));
	fprintf(f, "agreement (hard): %s  95%% CI [%s, %s]  (judge ties %.0f, "
		"half credit)\n", N(0, jnum(o, "agreement_hard", "value"), 4),
		N(1, jnum(o, "agreement_hard", "ci_low"), 4),
		N(2, jnum(o, "agreement_hard", "ci_high"), 4),
		jnum(o, "agreement_hard", "judge_ties"));
	fprintf(f, "agreement (soft): %s  95%% CI [%s, %s]  (bootstrap over "
		"prompts, %.0f resamples, seed %.0f)\n",
		N(0, jnum(o, "agreement_soft", "value"), 4),
		N(1, jnum(o, "agreement_soft", "ci_low"), 4),
		N(2, jnum(o, "agreement_soft", "ci_high"), 4),
		jnum(r, "bootstrap", NULL), jnum(r, "seed", NULL));
	fprintf(f, "one order alone (hard): AB %s (%.0f), BA %s (%.0f)\n",
		N(0, jnum(o, "agreement_single_order", "ab"), 4),
		jnum(o, "agreement_single_order", "n_ab"),
		N(1, jnum(o, "agreement_single_order", "ba"), 4),
		jnum(o, "agreement_single_order", "n_ba"));
	fprintf(f, "calibration: brier %s  log loss %s  ECE %s  MCE %s  (10 "
		"equal bins, left-closed, symmetric)\n",
		N(0, jnum(o, "brier", NULL), 4),
		N(1, jnum(o, "log_loss", NULL), 4),
		N(2, jnum(o, "ece", NULL), 4), N(3, jnum(o, "mce", NULL), 4));
	if ((v = json_object_get(o, "raw")))
		fprintf(f, "  before the clamp: brier %s  log loss %s  ECE "
			"%s\n", N(0, jnum(v, "brier", NULL), 4),
			N(1, jnum(v, "log_loss", NULL), 4),
			N(2, jnum(v, "ece", NULL), 4));
	if ((v = json_object_get(r, "refusals")) &&
	    json_integer_value(audit_json_at(v, "overall.pairs")))
		evasive_print_text(f, v);
	fprintf(f, "reliability:   bin        mean p   observed  count\n");
	json_array_foreach(json_object_get(r, "reliability"), i, row)
		fprintf(f, "           [%.1f, %.1f)  %7.4f  %8.4f  %5.0f\n",
			jnum(row, "lo", NULL), jnum(row, "hi", NULL),
			jnum(row, "mean_p", NULL), jnum(row, "freq", NULL),
			jnum(row, "count", NULL));
	pos = json_object_get(o, "position");
	fprintf(f, "position (%.0f pairs with both orders): consistent %.0f, "
		"first-slot %.0f, second-slot %.0f, mixed %.0f, unparsed "
		"%.0f; same position %s, binomial p %s\n",
		jnum(pos, "n", NULL), jnum(pos, "consistent", NULL),
		jnum(pos, "first", NULL), jnum(pos, "second", NULL),
		jnum(pos, "mixed", NULL), jnum(pos, "unparsed", NULL),
		N(0, jnum(pos, "same_position", NULL), 4),
		N(1, jnum(pos, "binomial_p", NULL), 4));
	len = json_object_get(o, "length");
	fprintf(f, "length (%.0f pairs differing by > 30 characters): judge "
		"prefers the longer %s, reference %s; always-longer agreement "
		"%s\n", jnum(len, "n", NULL),
		N(0, jnum(len, "judge_longer", NULL), 4),
		N(1, jnum(len, "reference_longer", NULL), 4),
		N(2, jnum(len, "longer_baseline", NULL), 4));
	fprintf(f, "per 1000 pairs: $%s, %s s\n",
		N(0, jnum(r, "cost", "price_per_1000"), 4),
		N(1, jnum(r, "cost", "seconds_per_1000"), 2));
	for (size_t d = 0; d < ARRAY_SIZE(by); d++) {
		json_t *g = json_object_get(r, by[d]);

		if (!json_object_size(g))
			continue;
		fprintf(f, "%s:\n  %-28s %6s %6s %14s %6s %7s %7s %6s %6s\n",
			by[d] + 3, "name", "scored", "hard", "95% CI", "soft",
			"brier", "logloss", "ece", "longer");
		json_object_foreach(g, k, v)
			text_row(f, k, v);
	}
	if (json_is_object(json_object_get(r, "panel")))
		panel_text(f, json_object_get(r, "panel"));
}
