/*
 * review.c - the reviews file read back as references (review.h); the
 * review page's server follows below it.
 */
#include "review.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading reviews -------------------------------------------------- */

void reviews_init(struct reviews *rv)
{
	memset(rv, 0, sizeof(*rv));
}

void reviews_release(struct reviews *rv)
{
	for (size_t i = 0; i < rv->n; i++) {
		free(rv->v[i].id);
		free(rv->v[i].reviewer);
	}
	free(rv->v);
	memset(rv, 0, sizeof(*rv));
}

static int cmp_vote(const void *a, const void *b)
{
	const struct review_vote *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c)
		return c;
	c = strcmp(x->reviewer, y->reviewer);
	if (c)
		return c;
	return (x->line > y->line) - (x->line < y->line);
}

/* One review line into a vote; -1 with err. */
static int parse_review(json_t *o, struct review_vote *rv, struct err *err)
{
	const char *schema = json_string_value(json_object_get(o, "schema"));
	const char *id = json_string_value(json_object_get(o, "id"));
	const char *who = json_string_value(json_object_get(o, "reviewer"));
	const char *choice = json_string_value(json_object_get(o, "choice"));
	json_t *pf = json_object_get(o, "preferred");

	if (!schema || strcmp(schema, REVIEW_SCHEMA))
		return err_set(err, "not a review (schema must be \"%s\")",
			       REVIEW_SCHEMA);
	if (!id || !who || !*who || !choice)
		return err_set(err, "a review needs 'id', 'reviewer' and "
			       "'choice'");
	if (!strcmp(choice, "skip")) {
		rv->v = -1;
	} else if (!strcmp(choice, "tie") && json_is_null(pf)) {
		rv->v = 0.5;
	} else if ((!strcmp(choice, "A") || !strcmp(choice, "B")) &&
		   json_is_integer(pf) && (json_integer_value(pf) == 0 ||
					   json_integer_value(pf) == 1)) {
		rv->v = json_integer_value(pf) == 0 ? 1 : 0;
	} else {
		return err_set(err, "'choice' must be A, B, tie or skip, with "
			       "'preferred' 0 or 1 for A and B, null for a "
			       "tie");
	}
	rv->id = xstrdup(id);
	rv->reviewer = xstrdup(who);
	return 0;
}

int reviews_read(struct reviews *rv, const char *path, struct err *err)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, w = 0;
	ssize_t n;
	int rc = 0;

	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	while ((n = getline(&line, &cap, f)) >= 0) {
		json_error_t je;
		json_t *o;
		struct review_vote v;
		struct err e;

		lineno++;
		if (n <= 1)
			continue;
		if (line[n - 1] != '\n' && feof(f))
			break;	/* a line cut by a crash mid-write: the
				 * choice was never acknowledged */
		o = json_loadb(line, (size_t)n, 0, &je);
		if (!o) {
			rc = err_set(err, "%s:%zu: invalid JSON: %s", path,
				     lineno, je.text);
			break;
		}
		memset(&v, 0, sizeof(v));
		if (parse_review(o, &v, &e) < 0) {
			rc = err_set(err, "%s:%zu: %s", path, lineno, e.msg);
			json_decref(o);
			break;
		}
		json_decref(o);
		v.line = rv->lines + lineno;
		if (rv->n == rv->cap) {
			rv->cap = rv->cap ? 2 * rv->cap : 64;
			rv->v = xrealloc(rv->v, rv->cap * sizeof(*rv->v));
		}
		rv->v[rv->n++] = v;
	}
	if (rc == 0 && ferror(f))
		rc = err_set(err, "cannot read '%s': %s", path,
			     strerror(errno));
	rv->lines += lineno;
	free(line);
	fclose(f);
	/* keep each reviewer's last review of a record */
	qsort(rv->v, rv->n, sizeof(*rv->v), cmp_vote);
	for (size_t i = 0; i < rv->n; i++) {
		if (i + 1 < rv->n && !strcmp(rv->v[i].id, rv->v[i + 1].id) &&
		    !strcmp(rv->v[i].reviewer, rv->v[i + 1].reviewer)) {
			free(rv->v[i].id);
			free(rv->v[i].reviewer);
			continue;
		}
		rv->v[w++] = rv->v[i];
	}
	rv->n = w;
	return rc;
}

/* The first vote of id, or rv->n. */
static size_t first_of(const struct reviews *rv, const char *id)
{
	size_t lo = 0, hi = rv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(rv->v[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rv->n && !strcmp(rv->v[lo].id, id) ? lo : rv->n;
}

bool reviews_target(const struct reviews *rv, const char *id, double *y)
{
	double s = 0;
	size_t k = 0;

	for (size_t i = first_of(rv, id); i < rv->n &&
	     !strcmp(rv->v[i].id, id); i++)
		if (rv->v[i].v >= 0) {
			s += rv->v[i].v;
			k++;
		}
	if (!k)
		return false;
	*y = s / (double)k;
	return true;
}

bool reviews_reference(const struct reviews *rv, const char *id, double *y)
{
	double m;

	if (!reviews_target(rv, id, &m))
		return false;
	*y = m > 0.5 ? 1 : m < 0.5 ? 0 : 0.5;
	return true;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

json_t *reviews_summary(const struct reviews *rv)
{
	const char **names = xcalloc(rv->n ? rv->n : 1, sizeof(*names));
	size_t nn = 0, records = 0, reviews = 0, multi = 0, pairs = 0;
	double agree = 0;
	json_t *rn = json_array();

	for (size_t i = 0; i < rv->n;) {
		size_t j = i, k = 0;

		while (j < rv->n && !strcmp(rv->v[j].id, rv->v[i].id))
			j++;
		for (size_t a = i; a < j; a++) {
			if (rv->v[a].v < 0)
				continue;
			k++;
			names[nn++] = rv->v[a].reviewer;
			for (size_t b = a + 1; b < j; b++)
				if (rv->v[b].v >= 0) {
					pairs++;
					agree += rv->v[a].v == rv->v[b].v;
				}
		}
		reviews += k;
		records += k > 0;
		multi += k > 1;
		i = j;
	}
	qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nn; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			json_array_append_new(rn, json_string(names[i]));
	free(names);
	return json_pack("{s:I, s:I, s:o, s:I, s:I, s:o}", "reviews",
			 (json_int_t)reviews, "records", (json_int_t)records,
			 "reviewers", rn, "multi_reviewed", (json_int_t)multi,
			 "reviewer_pairs", (json_int_t)pairs, "agreement",
			 pairs ? json_real(agree / (double)pairs) :
			 json_null());
}
