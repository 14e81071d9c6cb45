/*
 * calibrate.c - temperature-and-bias calibration of the judge's soft
 * labels (calibrate.h).
 */
#include "calibrate.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "audit.h"
#include "eval.h"
#include "jsonl.h"
#include "jsonw.h"
#include "review.h"
#include "rng.h"
#include "stats.h"

#define REC_PRECISION 8	/* as judgecall.c writes records */

static double clip(double p)
{
	return p < CALIB_EPS ? CALIB_EPS : p > 1 - CALIB_EPS ? 1 - CALIB_EPS :
	       p;
}

static double logit(double p)
{
	p = clip(p);
	return log(p / (1 - p));
}

static double sigmoid(double z)
{
	return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z));
}

static double logloss(double p, double y)
{
	p = clip(p);
	return -(y * log(p) + (1 - y) * log(1 - p));
}

/* ---- the fit ---------------------------------------------------------- */

static double nll(const double *x, const double *y, size_t n, double a,
		  double b)
{
	double s = 0;

	for (size_t i = 0; i < n; i++) {
		double z = a * x[i] + b;

		/* -[y log s(z) + (1 - y) log s(-z)], stable for large |z| */
		s += y[i] * log1p(exp(-fabs(z))) + y[i] * (z < 0 ? -z : 0) +
		     (1 - y[i]) * (log1p(exp(-fabs(z))) + (z > 0 ? z : 0));
	}
	return s;
}

int calibration_fit(const double *x, const double *y, size_t n, double *t,
		    double *b)
{
	double a = 1, c = 0, f;

	if (n < 2)
		return -1;
	f = nll(x, y, n, a, c);
	for (int it = 0; it < 200; it++) {
		double g0 = 0, g1 = 0, h00 = 1e-12, h01 = 0, h11 = 1e-12;
		double det, da, dc, step = 1;

		for (size_t i = 0; i < n; i++) {
			double p = sigmoid(a * x[i] + c), w = p * (1 - p);

			g0 += (p - y[i]) * x[i];
			g1 += p - y[i];
			h00 += w * x[i] * x[i];
			h01 += w * x[i];
			h11 += w;
		}
		det = h00 * h11 - h01 * h01;
		if (!(det > 0))
			break;
		da = (h11 * g0 - h01 * g1) / det;
		dc = (h00 * g1 - h01 * g0) / det;
		for (int k = 0; k < 60; k++, step /= 2) {
			double f2 = nll(x, y, n, a - step * da, c - step * dc);

			if (f2 <= f) {
				a -= step * da;
				c -= step * dc;
				f = f2;
				break;
			}
		}
		if (fabs(step * da) < 1e-12 * (1 + fabs(a)) &&
		    fabs(step * dc) < 1e-12 * (1 + fabs(c)))
			break;
	}
	if (!(a > 0) || !isfinite(a) || !isfinite(c))
		return -1;
	*t = 1 / a;
	*b = c;
	return 0;
}

/* ---- the file --------------------------------------------------------- */

void calibration_release(struct calibration *c)
{
	free(c->judge_model);
	free(c->judge_method);
	memset(c, 0, sizeof(*c));
}

int calibration_load(struct calibration *c, const char *path,
		     struct err *err)
{
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je), *j;
	const char *s, *m;

	memset(c, 0, sizeof(*c));
	if (!o)
		return err_set(err, "%s:%d: %s", path, je.line, je.text);
	s = json_string_value(json_object_get(o, "schema"));
	m = json_string_value(json_object_get(o, "method"));
	j = json_object_get(o, "judge");
	if (!s || strcmp(s, CALIB_SCHEMA)) {
		json_decref(o);
		return err_set(err, "%s: not a calibration file (schema must "
			       "be \"%s\")", path, CALIB_SCHEMA);
	}
	if (!m || strcmp(m, CALIB_METHOD)) {
		err_set(err, "%s: calibration method '%s' is not known "
			"(this caigen applies \"%s\")", path, m ? m : "?",
			CALIB_METHOD);
		json_decref(o);
		return -1;
	}
	if (!json_is_string(json_object_get(j, "model")) ||
	    !json_is_string(json_object_get(j, "method")) ||
	    !json_is_boolean(json_object_get(j, "cot")) ||
	    !json_is_number(json_object_get(o, "temperature")) ||
	    !json_is_number(json_object_get(o, "bias"))) {
		json_decref(o);
		return err_set(err, "%s: a calibration file needs judge.model, "
			       "judge.method, judge.cot, temperature and bias",
			       path);
	}
	c->judge_model = xstrdup(json_string_value(json_object_get(j,
								   "model")));
	c->judge_method = xstrdup(json_string_value(json_object_get(j,
								    "method")));
	c->cot = json_is_true(json_object_get(j, "cot"));
	c->temperature = json_number_value(json_object_get(o, "temperature"));
	c->bias = json_number_value(json_object_get(o, "bias"));
	json_decref(o);
	if (!(c->temperature > 0) || !isfinite(c->temperature) ||
	    !isfinite(c->bias)) {
		calibration_release(c);
		return err_set(err, "%s: temperature must be a positive number "
			       "and bias a finite one", path);
	}
	return 0;
}

int calibration_check(const struct calibration *c, const char *path,
		      const char *model, bool cot, struct err *err)
{
	if (!model || strcmp(model, c->judge_model))
		return err_set(err, "'%s' was fitted for judge '%s', not '%s': "
			       "fit one for this judge with caigen calibrate",
			       path, c->judge_model, model ? model : "?");
	if (cot != c->cot)
		return err_set(err, "'%s' was fitted for labels %s chain of "
			       "thought (judge.cot: %s); these are %s", path,
			       c->cot ? "with" : "without",
			       c->cot ? "true" : "false",
			       cot ? "with it" : "without it");
	return 0;
}

bool calibration_covers(const struct calibration *c, const char *method)
{
	return method && !strcmp(method, c->judge_method);
}

double calibration_apply(const struct calibration *c, double p_raw)
{
	char t[40];

	snprintf(t, sizeof(t), "%.*g", REC_PRECISION, p_raw);
	p_raw = strtod(t, NULL);
	return sigmoid(logit(p_raw) / c->temperature + c->bias);
}

/* ---- reading items ---------------------------------------------------- */

struct item {
	char *id;
	double x, y, p_raw;
};

struct items {
	struct item *v;
	size_t n, cap;
	char *model, *method;
	int cot;		/* -1 until the first item */
	size_t no_reference, other_schema;
};

/* The judgments' one method, "mixed", or NULL without judgments. */
static const char *record_method(json_t *rec, bool *cot)
{
	json_t *js = json_object_get(rec, "judgments"), *j;
	const char *m = NULL;
	size_t i;

	*cot = false;
	json_array_foreach(js, i, j) {
		const char *s = json_string_value(json_object_get(j,
								  "method"));

		if (json_is_string(json_object_get(j, "rationale")))
			*cot = true;
		if (!s)
			return "mixed";
		if (m && strcmp(m, s))
			return "mixed";
		m = s;
	}
	return m;
}

/* One record; -1 with err (the reason: the reader adds where). */
static int add_item(struct items *its, json_t *rec, const struct reviews *rv,
		    struct err *err)
{
	const char *schema = json_string_value(json_object_get(rec,
							       "schema"));
	const char *id = json_string_value(json_object_get(rec, "id"));
	const char *model = json_string_value(json_object_get(
		json_object_get(rec, "models"), "judge"));
	json_t *pf = json_object_get(json_object_get(rec, "reference"),
				     "preferred");
	json_t *praw = json_object_get(rec, "p_raw");
	const char *method;
	struct item *it;
	bool cot;
	double y;

	if (!schema || strcmp(schema, "caigen.preference/1")) {
		its->other_schema++;
		return 0;
	}
	if (!json_is_number(praw))
		praw = json_object_get(rec, "p");
	if (!id || !json_is_number(praw))
		return err_set(err, "a preference record needs 'id' and "
			       "'p_raw'");
	if (rv && reviews_target(rv, id, &y)) {
		/* the reviewers' verdict wins */
	} else if (json_is_integer(pf) && json_integer_value(pf) >= 0 &&
		   json_integer_value(pf) <= 1) {
		y = json_integer_value(pf) == 0 ? 1 : 0;
	} else if (json_is_null(pf)) {
		y = 0.5;
	} else {
		its->no_reference++;
		return 0;
	}
	method = record_method(rec, &cot);
	if (!method || !strcmp(method, "mixed"))
		return err_set(err, "the record's judgments %s; calibrate "
			       "labels of one method", method ? "mix methods" :
			       "are missing");
	if (!its->model) {
		its->model = xstrdup(model ? model : "");
		its->method = xstrdup(method);
		its->cot = cot;
	} else if (strcmp(its->model, model ? model : "") ||
		   strcmp(its->method, method) || its->cot != cot) {
		return err_set(err, "judge '%s', method %s%s differs from "
			       "the first item's ('%s', %s%s): calibrate one "
			       "judge at a time",
			       model ? model : "", method, cot ? ", CoT" : "",
			       its->model, its->method,
			       its->cot ? ", CoT" : "");
	}
	if (its->n == its->cap) {
		its->cap = its->cap ? 2 * its->cap : 256;
		its->v = xrealloc(its->v, its->cap * sizeof(*its->v));
	}
	it = &its->v[its->n++];
	it->id = xstrdup(id);
	it->p_raw = json_number_value(praw);
	it->x = logit(it->p_raw);
	it->y = y;
	return 0;
}

struct read_ctx {
	struct items *its;
	const struct reviews *rv;
};

static int read_one(void *ctx, json_t *rec, size_t lineno, struct err *err)
{
	struct read_ctx *r = ctx;

	(void)lineno;
	return add_item(r->its, rec, r->rv, err) < 0 ? -1 : 0;
}

static int read_records(struct items *its, const char *path,
			const struct reviews *rv, struct err *err)
{
	struct read_ctx r = { its, rv };

	return jsonl_each(path, 0, read_one, &r, err) < 0 ? -1 : 0;
}

/* ---- metrics ---------------------------------------------------------- */

enum { M_LL, M_BRIER, M_ECE, NMET };
static const char *const met_names[NMET] = { "log_loss", "brier", "ece" };

/* The three metrics of labels p against the items' y over the index
 * list idx[0..n-1] (items may repeat). */
static void metrics(const struct items *its, const double *p,
		    const size_t *idx, size_t n, double out[NMET])
{
	double sp[EVAL_BINS] = { 0 }, sy[EVAL_BINS] = { 0 };
	double cnt[EVAL_BINS] = { 0 }, tot = 0, ll = 0, br = 0;

	for (size_t k = 0; k < n; k++) {
		size_t i = idx[k];
		double y = its->v[i].y;
		int a, b;

		ll += logloss(p[i], y);
		br += (p[i] - y) * (p[i] - y);
		if (y == 0.5)
			continue;
		a = eval_bin(p[i], EVAL_BINS);
		b = eval_bin(1 - p[i], EVAL_BINS);
		sp[a] += p[i];
		sy[a] += y;
		cnt[a]++;
		sp[b] += 1 - p[i];
		sy[b] += 1 - y;
		cnt[b]++;
		tot += 2;
	}
	out[M_LL] = n ? ll / (double)n : NAN;
	out[M_BRIER] = n ? br / (double)n : NAN;
	out[M_ECE] = tot ? 0 : NAN;
	for (int m = 0; m < EVAL_BINS && tot; m++)
		if (cnt[m])
			out[M_ECE] += cnt[m] / tot *
				      fabs(sy[m] / cnt[m] - sp[m] / cnt[m]);
}

struct fold_key {
	uint64_t k;
	size_t i;
};

static int cmp_fold(const void *a, const void *b)
{
	const struct fold_key *x = a, *y = b;

	if (x->k != y->k)
		return (x->k > y->k) - (x->k < y->k);
	return (x->i > y->i) - (x->i < y->i);
}

static json_t *value_ci(double v, double lo, double hi)
{
	return json_pack("{s:o, s:[oo]}", "value",
			 isfinite(v) ? json_real(v) : json_null(), "ci95",
			 isfinite(lo) ? json_real(lo) : json_null(),
			 isfinite(hi) ? json_real(hi) : json_null());
}

/*
 * Out-of-fold labels, the fit on all items and the report (the
 * calibration file's JSON). NULL with err when a fit fails.
 */
static json_t *calibrate_items(struct items *its, int folds,
			       unsigned long long seed, int boot,
			       struct err *err)
{
	size_t n = its->n;
	double *pc = xcalloc(n, sizeof(*pc)), *pr = xcalloc(n, sizeof(*pr));
	double *x = xcalloc(n, sizeof(*x)), *y = xcalloc(n, sizeof(*y));
	int *fold = xcalloc(n, sizeof(*fold));
	struct fold_key *fk = xcalloc(n, sizeof(*fk));
	size_t *idx = xcalloc(n, sizeof(*idx));
	double *bs[NMET][3];
	double before[NMET], after[NMET], t, b;
	json_t *oof = NULL, *rep = NULL;

	for (int m = 0; m < NMET; m++)
		for (int w = 0; w < 3; w++)
			bs[m][w] = xcalloc((size_t)boot, sizeof(double));
	for (size_t i = 0; i < n; i++) {
		fk[i].k = rng_u64(seed, its->v[i].id, "calibrate-fold", 0);
		fk[i].i = i;
		pr[i] = its->v[i].p_raw;
		idx[i] = i;
	}
	qsort(fk, n, sizeof(*fk), cmp_fold);
	for (size_t r = 0; r < n; r++)
		fold[fk[r].i] = (int)(r % (size_t)folds);
	for (int f = 0; f < folds; f++) {
		size_t m = 0;

		for (size_t i = 0; i < n; i++)
			if (fold[i] != f) {
				x[m] = its->v[i].x;
				y[m++] = its->v[i].y;
			}
		if (calibration_fit(x, y, m, &t, &b) < 0) {
			err_set(err, "fold %d: the judge's labels do not "
				"predict the references (no fit with a "
				"positive slope)", f + 1);
			goto out;
		}
		for (size_t i = 0; i < n; i++)
			if (fold[i] == f)
				pc[i] = sigmoid(its->v[i].x / t + b);
	}
	for (size_t i = 0; i < n; i++) {
		x[i] = its->v[i].x;
		y[i] = its->v[i].y;
	}
	if (calibration_fit(x, y, n, &t, &b) < 0) {
		err_set(err, "the judge's labels do not predict the references "
			"(no fit with a positive slope)");
		goto out;
	}
	metrics(its, pr, idx, n, before);
	metrics(its, pc, idx, n, after);
	for (int r = 0; r < boot; r++) {
		uint64_t s = rng_u64(seed, "calibrate", "calibrate-bootstrap",
				     (uint64_t)r);
		double bb[NMET], ba[NMET];

		for (size_t i = 0; i < n; i++)
			idx[i] = (size_t)((double)(rng_stream(&s) >> 11) *
					  0x1p-53 * (double)n);
		metrics(its, pr, idx, n, bb);
		metrics(its, pc, idx, n, ba);
		for (int m = 0; m < NMET; m++) {
			bs[m][0][r] = bb[m];
			bs[m][1][r] = ba[m];
			bs[m][2][r] = ba[m] - bb[m];
		}
	}
	oof = json_object();
	for (int m = 0; m < NMET; m++) {
		double v[3] = { before[m], after[m], after[m] - before[m] };
		static const char *const w_names[3] = { "before", "after",
							"change" };
		json_t *o = json_object();

		for (int w = 0; w < 3; w++) {
			qsort(bs[m][w], (size_t)boot, sizeof(double),
			      stats_cmp_double);
			json_object_set_new(o, w_names[w], value_ci(v[w],
				eval_quantile(bs[m][w], (size_t)boot, 0.025),
				eval_quantile(bs[m][w], (size_t)boot, 0.975)));
		}
		json_object_set_new(oof, met_names[m], o);
	}
	rep = json_pack("{s:s, s:s, s:{s:s, s:s, s:b}, s:f, s:f, s:I, s:i, "
			"s:o, s:i, s:o}", "schema", CALIB_SCHEMA, "method",
			CALIB_METHOD, "judge", "model", its->model, "method",
			its->method, "cot", its->cot, "temperature", t,
			"bias", b, "items", (json_int_t)n, "folds", folds,
			"seed", seed <= (unsigned long long)INT64_MAX ?
			json_integer((json_int_t)seed) : json_null(),
			"bootstrap", boot, "out_of_fold", oof);
out:
	for (int m = 0; m < NMET; m++)
		for (int w = 0; w < 3; w++)
			free(bs[m][w]);
	free(pc);
	free(pr);
	free(x);
	free(y);
	free(fold);
	free(fk);
	free(idx);
	return rep;
}

static void print_text(FILE *f, json_t *rep, size_t skipped)
{
	json_t *oof = json_object_get(rep, "out_of_fold");

	fprintf(f, "calibration of judge '%s' (%s%s) on %lld items "
		"(%lld without a reference left out)\n",
		json_string_value(audit_json_at(rep, "judge.model")),
		json_string_value(audit_json_at(rep, "judge.method")),
		json_is_true(audit_json_at(rep, "judge.cot")) ? ", CoT" : "",
		(long long)json_integer_value(json_object_get(rep, "items")),
		(long long)skipped);
	fprintf(f, "temperature %.4f  bias %+.4f\n",
		json_number_value(json_object_get(rep, "temperature")),
		json_number_value(json_object_get(rep, "bias")));
	fprintf(f, "out of fold (%lld folds, 95 %% bootstrap intervals):\n",
		(long long)json_integer_value(json_object_get(rep, "folds")));
	fprintf(f, "  %-9s %-24s %-24s %s\n", "metric", "before", "after",
		"change");
	for (int m = 0; m < NMET; m++) {
		json_t *o = json_object_get(oof, met_names[m]);
		char cell[3][64];
		static const char *const w[3] = { "before", "after", "change" };

		for (int k = 0; k < 3; k++) {
			json_t *e = json_object_get(o, w[k]);
			json_t *ci = json_object_get(e, "ci95");

			snprintf(cell[k], sizeof(cell[k]), "%.4f [%.4f, %.4f]",
				 json_number_value(json_object_get(e,
								   "value")),
				 json_number_value(json_array_get(ci, 0)),
				 json_number_value(json_array_get(ci, 1)));
		}
		fprintf(f, "  %-9s %-24s %-24s %s\n", met_names[m], cell[0],
			cell[1], cell[2]);
	}
}

/* ---- apply ------------------------------------------------------------ */

static json_t *calib_json(const struct calibration *c)
{
	return json_pack("{s:f, s:f, s:s, s:s}", "temperature",
			 c->temperature, "bias", c->bias, "judge",
			 c->judge_model, "method", c->judge_method);
}

/* Calibrate one record in place: 1 when changed, 0 when its method is
 * another (left as it is), -1 with err. */
static int apply_record(const struct calibration *c, const char *path,
			json_t *rec, struct err *err)
{
	const char *schema = json_string_value(json_object_get(rec,
							       "schema"));
	const char *model = json_string_value(json_object_get(
		json_object_get(rec, "models"), "judge"));
	json_t *praw = json_object_get(rec, "p_raw");
	json_t *cl = json_object_get(rec, "clamp");
	const char *method;
	double p;
	int ci, old;
	bool cot;

	if (!schema || strcmp(schema, "caigen.preference/1"))
		return err_set(err, "only caigen.preference/1 records (two "
			       "answers, one judge) are calibrated");
	if (!json_is_number(praw))
		return err_set(err, "the record has no 'p_raw'");
	method = record_method(rec, &cot);
	if (calibration_check(c, path, model, cot, err) < 0)
		return -1;
	if (!calibration_covers(c, method))
		return 0;
	p = calibration_apply(c, json_number_value(praw));
	if (json_array_size(cl) == 2) {
		double lo = json_number_value(json_array_get(cl, 0));
		double hi = json_number_value(json_array_get(cl, 1));

		p = p < lo ? lo : p > hi ? hi : p;
	}
	ci = p >= 0.5 ? 0 : 1;
	old = (int)json_integer_value(json_object_get(rec, "chosen_index"));
	if (ci != old) {
		json_t *a = json_incref(json_object_get(rec, "chosen"));
		json_t *b = json_incref(json_object_get(rec, "rejected"));

		json_object_set_new(rec, "chosen", b);
		json_object_set_new(rec, "rejected", a);
	}
	json_object_set_new(rec, "margin", json_real(fabs(p - 0.5)));
	json_object_set_new(rec, "chosen_index", json_integer(ci));
	json_object_set_new(rec, "p", json_real(p));
	/* right after "seed", where a run writes it (label.h adds its
	 * "reference" after the record) */
	{
		json_t *copy = json_object(), *v;
		const char *k;
		bool put = false;

		json_object_del(rec, "calibration");
		json_object_foreach(rec, k, v) {
			json_object_set(copy, k, v);
			if (!strcmp(k, "seed")) {
				json_object_set_new(copy, "calibration",
					calib_json(c));
				put = true;
			}
		}
		if (!put)
			json_object_set_new(copy, "calibration",
					    calib_json(c));
		json_object_clear(rec);
		json_object_update(rec, copy);
		json_decref(copy);
	}
	return 1;
}

struct apply_ctx {
	struct calibration *c;
	const char *cpath, *tmp;
	FILE *o;
	size_t done, left;
	bool write_failed;
};

static int apply_one(void *ctx, json_t *rec, size_t lineno, struct err *err)
{
	struct apply_ctx *a = ctx;
	struct buf b;
	int r;

	(void)lineno;
	r = apply_record(a->c, a->cpath, rec, err);
	if (r < 0)
		return -1;
	a->done += r == 1;
	a->left += r == 0;
	buf_init(&b, 256u << 20);
	if (jsonw_value(&b, rec, REC_PRECISION) < 0 ||
	    buf_add(&b, "\n", 1) < 0 ||
	    fwrite(b.data, 1, b.len, a->o) != b.len)
		a->write_failed = true;
	buf_release(&b);
	return a->write_failed ? 1 : 0;
}

static int cmd_apply(const char *cpath, const char *in, const char *out)
{
	struct calibration c;
	struct err err;
	FILE *o = NULL;
	char *tmp = xasprintf("%s.tmp", out);
	size_t done = 0, left = 0;
	struct apply_ctx ac;
	struct stat si, so;
	int rc = 2;

	if (calibration_load(&c, cpath, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		free(tmp);
		return 2;
	}
	if (!stat(in, &si) && !stat(out, &so) && si.st_ino == so.st_ino &&
	    si.st_dev == so.st_dev) {
		fprintf(stderr, "caigen: write the calibrated records to "
			"another file than '%s'\n", in);
		goto out;
	}
	if (access(in, R_OK) < 0) {	/* said before tmp is made */
		fprintf(stderr, "caigen: cannot open '%s': %s\n", in,
			strerror(errno));
		goto out;
	}
	o = fopen(tmp, "w");
	if (!o) {
		fprintf(stderr, "caigen: cannot write '%s': %s\n", tmp,
			strerror(errno));
		goto out;
	}
	ac = (struct apply_ctx){ &c, cpath, tmp, o, 0, 0, false };
	if (jsonl_each(in, 0, apply_one, &ac, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (ac.write_failed) {
		fprintf(stderr, "caigen: cannot write '%s'\n", tmp);
		goto out;
	}
	done = ac.done;
	left = ac.left;
	if (done == 0 && left) {
		fprintf(stderr, "caigen: '%s' was fitted for method %s; no "
			"record of '%s' used it\n", cpath, c.judge_method, in);
		goto out;
	}
	if (fflush(o) != 0 || fsync(fileno(o)) != 0 || fclose(o) != 0) {
		o = NULL;
		fprintf(stderr, "caigen: cannot write '%s': %s\n", tmp,
			strerror(errno));
		goto out;
	}
	o = NULL;
	if (rename(tmp, out) < 0) {
		fprintf(stderr, "caigen: cannot rename '%s': %s\n", tmp,
			strerror(errno));
		goto out;
	}
	fprintf(stderr, "caigen: %zu records calibrated, %zu of another "
		"method left as they were\n", done, left);
	rc = 0;
out:
	if (o) {
		fclose(o);
		unlink(tmp);
	}
	free(tmp);
	calibration_release(&c);
	return rc;
}

/* ---- the command ------------------------------------------------------ */

static void usage(FILE *f)
{
	fputs("usage: caigen calibrate [options] OUT/|PREFERENCES.jsonl...\n"
	      "       caigen calibrate apply CALIBRATION.json IN.jsonl "
	      "OUT.jsonl\n"
	      "\n"
	      "Fit a temperature and a bias to the judge's soft labels "
	      "(p_raw) on records\n"
	      "with a reference (caigen label/eval) or reviews "
	      "(OUT/reviews.jsonl), by\n"
	      "maximum likelihood; report log loss, Brier and ECE before "
	      "and after,\n"
	      "out of fold, with bootstrap intervals, and write the "
	      "calibration file.\n"
	      "judge.calibration: FILE applies it in later runs; 'apply' "
	      "applies it to\n"
	      "existing records (no requests).\n"
	      "\n"
	      "options:\n"
	      "      --bootstrap N  bootstrap resamples (default 1000)\n"
	      "      --folds K      cross-validation folds (default 5)\n"
	      "  -h, --help         print this help and exit\n"
	      "      --json         print the result as JSON\n"
	      "  -o, --output FILE  the calibration file (default: "
	      "calibration.json\n"
	      "                     next to the first input)\n"
	      "      --seed S       fold and bootstrap seed (default 1)\n"
	      "\n"
	      "Exit status: 0 done, 2 usage error or bad input.\n", f);
}

static bool is_dir(const char *p)
{
	struct stat st;

	return !stat(p, &st) && S_ISDIR(st.st_mode);
}

int calibrate_main(int argc, char **argv)
{
	enum { O_BOOT = 256, O_FOLDS, O_JSON, O_SEED };
	static const struct option opts[] = {
		{ "bootstrap", required_argument, NULL, O_BOOT },
		{ "folds", required_argument, NULL, O_FOLDS },
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, O_JSON },
		{ "output", required_argument, NULL, 'o' },
		{ "seed", required_argument, NULL, O_SEED },
		{ NULL, 0, NULL, 0 }
	};
	struct items its = { .cot = -1 };
	const char *outp = NULL;
	char *defout = NULL, *text = NULL;
	int folds = CALIB_FOLDS, boot = EVAL_BOOT, c, rc = 2;
	unsigned long long seed = 1;
	bool json = false;
	json_t *rep = NULL, *inputs;
	struct err err;
	FILE *f;

	if (argc >= 2 && !strcmp(argv[1], "apply")) {
		if (argc == 3 && (!strcmp(argv[2], "-h") ||
				  !strcmp(argv[2], "--help"))) {
			usage(stdout);
			return 0;
		}
		if (argc != 5) {
			usage(stderr);
			return 2;
		}
		return cmd_apply(argv[2], argv[3], argv[4]);
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		char *end;
		long long v;

		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'o':
			outp = optarg;
			break;
		case O_JSON:
			json = true;
			break;
		case O_BOOT:
		case O_FOLDS:
		case O_SEED:
			errno = 0;
			v = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg || v < 0 ||
			    (c == O_BOOT && (v < 1 || v > 1000000)) ||
			    (c == O_FOLDS && (v < 2 || v > 100))) {
				fprintf(stderr, "caigen: bad value '%s' for "
					"--%s\n", optarg, c == O_BOOT ?
					"bootstrap" : c == O_FOLDS ? "folds" :
					"seed");
				return 2;
			}
			if (c == O_BOOT)
				boot = (int)v;
			else if (c == O_FOLDS)
				folds = (int)v;
			else
				seed = (unsigned long long)v;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		fprintf(stderr, "caigen: calibrate needs an output folder or "
			"preference files\n");
		usage(stderr);
		return 2;
	}
	inputs = json_array();
	for (int i = optind; i < argc; i++) {
		bool dir = is_dir(argv[i]);
		char *path = dir ? xasprintf("%s/preferences.jsonl", argv[i]) :
				   xstrdup(argv[i]);
		char *slash = strrchr(path, '/');
		char *folder = slash ? xstrndup(path, (size_t)(slash - path)) :
				       xstrdup(".");
		char *rpath = xasprintf("%s/%s", folder, REVIEWS_FILE);
		struct reviews rv;
		int r;

		reviews_init(&rv);
		r = access(rpath, F_OK) == 0 ?
		    reviews_read(&rv, rpath, &err) : 0;
		if (r == 0)
			r = read_records(&its, path, &rv, &err);
		if (!defout)
			defout = xasprintf("%s/calibration.json", folder);
		json_array_append_new(inputs, json_string(path));
		reviews_release(&rv);
		free(rpath);
		free(folder);
		free(path);
		if (r < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			json_decref(inputs);
			goto out;
		}
	}
	if (its.n < (size_t)(2 * folds) || its.n < 10) {
		fprintf(stderr, "caigen: %zu items with a reference: too few "
			"to calibrate with %d folds (at least %d)\n", its.n,
			folds, 2 * folds > 10 ? 2 * folds : 10);
		json_decref(inputs);
		goto out;
	}
	rep = calibrate_items(&its, folds, seed, boot, &err);
	if (!rep) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		json_decref(inputs);
		goto out;
	}
	json_object_set_new(rep, "inputs", inputs);
	if (!outp)
		outp = defout;
	text = json_dumps(rep, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	{
		char *tmp = xasprintf("%s.tmp", outp);

		f = fopen(tmp, "w");
		if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0 ||
		    rename(tmp, outp) < 0) {
			fprintf(stderr, "caigen: cannot write '%s': %s\n",
				outp, strerror(errno));
			free(tmp);
			goto out;
		}
		free(tmp);
	}
	if (json)
		printf("%s\n", text);
	else
		print_text(stdout, rep, its.no_reference);
	if (!json)
		printf("written to %s\n", outp);
	rc = 0;
out:
	for (size_t i = 0; i < its.n; i++)
		free(its.v[i].id);
	free(its.v);
	free(its.model);
	free(its.method);
	free(defout);
	free(text);
	json_decref(rep);
	return rc;
}
