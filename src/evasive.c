/*
 * evasive.c - refusal detection by phrase list, and the tallies of how
 * labels treat refusals (evasive.h).
 */
#include "evasive.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datadir.h"

/* Normalise at most max bytes of s (see evasive.h). Caller frees. */
static char *normalise(const char *s, size_t max)
{
	size_t n = strlen(s), o = 0;
	char *out = xmalloc((n < max ? n : max) + 1);
	bool space = true;	/* drops leading white space */

	for (size_t i = 0; i < n && o < max; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0xE2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
		    ((unsigned char)s[i + 2] == 0x98 ||
		     (unsigned char)s[i + 2] == 0x99)) {
			out[o++] = '\'';	/* U+2018, U+2019 */
			i += 2;
			space = false;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
		    c == '\f' || c == '\v') {
			if (!space)
				out[o++] = ' ';
			space = true;
			continue;
		}
		out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
		space = false;
	}
	out[o] = 0;
	return out;
}

void evasive_release(struct evasive_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->phrase[i]);
	free(l->phrase);
	free(l->path);
	memset(l, 0, sizeof(*l));
}

int evasive_load(struct evasive_list *l, const char *path, struct err *err)
{
	char *p = NULL, *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	FILE *f;

	memset(l, 0, sizeof(*l));
	if (datadir_constitution(path ? path : EVASIVE_DEFAULT, &p, err) < 0)
		return -1;
	f = fopen(p, "r");
	if (!f) {
		err_set(err, "cannot open phrase list '%s': %s", p,
			strerror(errno));
		free(p);
		return -1;
	}
	l->path = p;
	while ((n = getline(&line, &cap, f)) >= 0) {
		char *ph;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		ph = normalise(line, (size_t)n);
		while (*ph && ph[strlen(ph) - 1] == ' ')
			ph[strlen(ph) - 1] = 0;
		if (!*ph || ph[0] == '#') {
			free(ph);
			continue;
		}
		if (strlen(ph) > EVASIVE_SCAN) {
			free(ph);
			fclose(f);
			free(line);
			err_set(err, "%s:%zu: a phrase longer than %d characters "
				"can never match", p, lineno, EVASIVE_SCAN);
			evasive_release(l);
			return -1;
		}
		l->phrase = xrealloc(l->phrase, (l->n + 1) * sizeof(*l->phrase));
		l->phrase[l->n++] = ph;
	}
	free(line);
	fclose(f);
	if (!l->n) {
		err_set(err, "%s: no phrase in the list", p);
		evasive_release(l);
		return -1;
	}
	return 0;
}

bool evasive_refuses(const struct evasive_list *l, const char *text)
{
	char *t = normalise(text, EVASIVE_SCAN);
	bool hit = false;

	for (size_t i = 0; i < l->n && !hit; i++)
		hit = strstr(t, l->phrase[i]) != NULL;
	free(t);
	return hit;
}

/* ---- tallies ---------------------------------------------------------- */

struct estat {
	char *key;		/* "dim\tname"; "" overall */
	double pairs, chosen, rejected, one, pick, ref_n, ref_pick;
};

struct evasive_tally {
	const struct evasive_list *l;
	struct estat *s;
	size_t n, cap;
};

struct evasive_tally *evasive_tally_new(const struct evasive_list *l)
{
	struct evasive_tally *t = xcalloc(1, sizeof(*t));

	t->l = l;
	t->s = xcalloc(1, sizeof(*t->s));
	t->s[0].key = xstrdup("");
	t->n = t->cap = 1;
	return t;
}

void evasive_tally_free(struct evasive_tally *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->s[i].key);
	free(t->s);
	free(t);
}

static struct estat *stat_of(struct evasive_tally *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->s[i].key, key))
			return &t->s[i];
	if (t->n == t->cap) {
		t->cap *= 2;
		t->s = xrealloc(t->s, t->cap * sizeof(*t->s));
	}
	memset(&t->s[t->n], 0, sizeof(t->s[0]));
	t->s[t->n].key = xstrdup(key);
	return &t->s[t->n++];
}

static void count(struct estat *s, bool r0, bool r1, double p, double y)
{
	int ci = p >= 0.5 ? 0 : 1;
	bool rc = ci == 0 ? r0 : r1, rr = ci == 0 ? r1 : r0;

	s->pairs++;
	s->chosen += rc;
	s->rejected += rr;
	if (r0 == r1)
		return;
	s->one++;
	/* the label's weight on the refusing answer, ties half */
	s->pick += p == 0.5 ? 0.5 : ((p > 0.5) == r0);
	if (!isnan(y) && y != 0.5) {
		s->ref_n++;
		s->ref_pick += (y == 1) == r0;
	}
}

void evasive_tally_record(struct evasive_tally *t, json_t *rec, double y,
			  const char *const *groups, size_t ngroups)
{
	json_t *resp = json_object_get(rec, "responses");
	json_t *pv = json_object_get(rec, "p");
	const char *a = json_string_value(json_array_get(resp, 0));
	const char *b = json_string_value(json_array_get(resp, 1));
	bool r0, r1;
	double p;

	if (json_array_size(resp) != 2 || !a || !b || !json_is_number(pv))
		return;
	p = json_number_value(pv);
	r0 = evasive_refuses(t->l, a);
	r1 = evasive_refuses(t->l, b);
	count(&t->s[0], r0, r1, p, y);
	for (size_t g = 0; g < ngroups; g++) {
		bool dup = false;

		for (size_t h = 0; h < g; h++)
			dup |= !strcmp(groups[g], groups[h]);
		if (!dup)
			count(stat_of(t, groups[g]), r0, r1, p, y);
	}
}

static json_t *rate(double num, double den)
{
	return den > 0 ? json_real(num / den) : json_null();
}

static json_t *stat_json(const struct estat *s, bool refs)
{
	json_t *o = json_pack("{s:I, s:I, s:o, s:I, s:o, s:I, s:o}",
		"pairs", (json_int_t)s->pairs,
		"chosen_refusals", (json_int_t)s->chosen,
		"chosen_rate", rate(s->chosen, s->pairs),
		"rejected_refusals", (json_int_t)s->rejected,
		"rejected_rate", rate(s->rejected, s->pairs),
		"one_refuses", (json_int_t)s->one,
		"judge_chose_refusal", rate(s->pick, s->one));

	if (refs) {
		json_object_set_new(o, "reference_pairs",
				    json_integer((json_int_t)s->ref_n));
		json_object_set_new(o, "reference_chose_refusal",
				    rate(s->ref_pick, s->ref_n));
	}
	return o;
}

static bool prefers_refusals(const struct estat *s)
{
	return s->one >= EVASIVE_MIN_PAIRS && s->pick / s->one > 0.5;
}

json_t *evasive_tally_json(const struct evasive_tally *t,
			   const char *const *dims, size_t ndims)
{
	bool refs = false;
	json_t *o, *warn = json_array();
	const struct estat *all = &t->s[0];

	for (size_t i = 0; i < t->n; i++)
		refs |= t->s[i].ref_n > 0;
	o = json_pack("{s:s, s:I, s:i, s:o}", "phrases", t->l->path,
		      "phrase_count", (json_int_t)t->l->n, "scan_chars",
		      EVASIVE_SCAN, "overall", stat_json(all, refs));
	for (size_t d = 0; d < ndims; d++) {
		json_t *by = json_object();
		size_t len = strlen(dims[d]);
		char *k = xasprintf("by_%s", dims[d]);

		for (size_t i = 1; i < t->n; i++) {
			const struct estat *s = &t->s[i];

			if (strncmp(s->key, dims[d], len) ||
			    s->key[len] != '\t')
				continue;
			json_object_set_new(by, s->key + len + 1,
					    stat_json(s, refs));
			if (!strcmp(dims[d], "principle") &&
			    prefers_refusals(s))
				json_array_append_new(warn, json_string(
					s->key + len + 1));
		}
		json_object_set_new(o, k, by);
		free(k);
	}
	if (prefers_refusals(all)) {
		char *w = xasprintf("the judge preferred the refusing answer in "
				    "%.0f of %.0f pairs (%.0f %%) where exactly "
				    "one answer refuses: labels like these "
				    "teach evasiveness", all->pick, all->one,
				    100 * all->pick / all->one);

		json_object_set_new(o, "warning", json_string(w));
		free(w);
	} else {
		json_object_set_new(o, "warning", json_null());
	}
	json_object_set_new(o, "warn_principles", warn);
	return o;
}

static const char *pct(char *buf, json_t *v)
{
	if (!json_is_number(v))
		return "-";
	snprintf(buf, 16, "%.1f%%", 100 * json_number_value(v));
	return buf;
}

void evasive_print_text(FILE *f, json_t *b)
{
	json_t *o = json_object_get(b, "overall"), *w;
	char x[4][16];

	if (!o)
		return;
	fprintf(f, "refusals (%lld phrases): chosen %s, rejected %s of %lld "
		"pairs; exactly one refuses in %lld, the judge chose the "
		"refusal in %s",
		(long long)json_integer_value(json_object_get(b,
							      "phrase_count")),
		pct(x[0], json_object_get(o, "chosen_rate")),
		pct(x[1], json_object_get(o, "rejected_rate")),
		(long long)json_integer_value(json_object_get(o, "pairs")),
		(long long)json_integer_value(json_object_get(o,
							      "one_refuses")),
		pct(x[2], json_object_get(o, "judge_chose_refusal")));
	if (json_object_get(o, "reference_chose_refusal"))
		fprintf(f, ", the reference in %s",
			pct(x[3], json_object_get(o,
						  "reference_chose_refusal")));
	fputc('\n', f);
	w = json_object_get(b, "warning");
	if (json_is_string(w))
		fprintf(f, "WARNING: %s\n", json_string_value(w));
	if (json_array_size(json_object_get(b, "warn_principles"))) {
		size_t i;
		json_t *p;

		fprintf(f, "  principles whose labels prefer refusals:");
		json_array_foreach(json_object_get(b, "warn_principles"), i, p)
			fprintf(f, " %s", json_string_value(p));
		fputc('\n', f);
	}
}
