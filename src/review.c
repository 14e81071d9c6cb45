/*
 * review.c - the reviews file read back as references (review.h); the
 * review page's server follows below it.
 */
#include "review.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "constitution.h"
#include "judge.h"
#include "jsonl.h"
#include "report_html.h"
#include "rng.h"

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

static int read_vote(void *ctx, json_t *o, size_t lineno, struct err *err)
{
	struct reviews *rv = ctx;
	struct review_vote v;

	memset(&v, 0, sizeof(v));
	if (parse_review(o, &v, err) < 0)
		return -1;
	v.line = rv->lines + lineno;
	if (rv->n == rv->cap) {
		rv->cap = rv->cap ? 2 * rv->cap : 64;
		rv->v = xrealloc(rv->v, rv->cap * sizeof(*rv->v));
	}
	rv->v[rv->n++] = v;
	return 0;
}

int reviews_read(struct reviews *rv, const char *path, struct err *err)
{
	size_t w = 0;
	long lines;
	int rc = 0;

	/* a last line cut by a crash mid-write: the choice was never
	 * acknowledged */
	lines = jsonl_each(path, JSONL_DROP_CUT_LAST, read_vote, rv, err);
	if (lines < 0)
		rc = -1;
	else
		rv->lines += (size_t)lines;
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

/* ---- the review page's server ----------------------------------------- */

#define REVIEW_MAX_NAME 64

/* One record of the sample, its texts already HTML-escaped. */
struct ritem {
	char *id;
	bool swapped;		/* A is responses[1] */
	char *prompt, *principle, *a, *b;	/* escaped */
};

/* A reviewer's current choice on an item. */
struct rdone {
	char *reviewer;
	size_t item;
	char choice[8];
};

struct server {
	struct ritem *it;
	size_t n;
	struct rdone *done;
	size_t ndone, capdone;
	int fd;			/* OUT/reviews.jsonl, O_APPEND */
	char *path;
	char token[33];
	pthread_mutex_t lock;
};

static char *escaped(const char *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return xstrdup("");
	report_html_escape(f, s ? s : "");
	fclose(f);
	return out;
}

static int cmp_sample(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The record's prompt as text. Caller frees. */
static char *prompt_text(json_t *rec)
{
	json_t *p = json_object_get(rec, "prompt");

	if (json_is_string(p))
		return xstrdup(json_string_value(p));
	if (json_is_array(p))
		return judge_conversation(p);
	return xstrdup("");
}

/* The records read so far, each with its sample key. */
struct loaded {
	uint64_t (*key)[2];	/* draw, record number */
	json_t **recs;
	size_t n, cap;
	unsigned long long seed;
};

static int load_one(void *ctx, json_t *o, size_t lineno, struct err *err)
{
	struct loaded *l = ctx;
	const char *schema = json_string_value(json_object_get(o, "schema"));
	const char *id = json_string_value(json_object_get(o, "id"));
	json_t *resp = json_object_get(o, "responses");

	(void)lineno;
	if (!schema || strcmp(schema, "caigen.preference/1"))
		return 0;	/* rankings are not reviewed here */
	if (!id || json_array_size(resp) != 2 ||
	    !json_is_string(json_array_get(resp, 0)) ||
	    !json_is_string(json_array_get(resp, 1)))
		return err_set(err, "a preference record needs 'id' and two "
			       "string 'responses'");
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->key = xrealloc(l->key, l->cap * sizeof(*l->key));
		l->recs = xrealloc(l->recs, l->cap * sizeof(*l->recs));
	}
	l->key[l->n][0] = rng_u64(l->seed, id, "review-sample", 0);
	l->key[l->n][1] = l->n;
	l->recs[l->n++] = json_incref(o);
	return 0;
}

/* Read the records and take the sample. -1 with err. */
static int load_items(struct server *sv, const char *path, size_t sample,
		      unsigned long long seed, const struct constitution *con,
		      struct err *err)
{
	struct loaded l = { .seed = seed };
	uint64_t (*key)[2];
	json_t **recs;
	size_t n;
	int rc = jsonl_each(path, 0, load_one, &l, err) < 0 ? -1 : 0;

	key = l.key;
	recs = l.recs;
	n = l.n;
	if (rc == 0 && n == 0)
		rc = err_set(err, "%s: no caigen.preference/1 record to "
			     "review", path);
	if (rc == 0) {
		qsort(key, n, sizeof(*key), cmp_sample);
		sv->n = sample && sample < n ? sample : n;
		sv->it = xcalloc(sv->n, sizeof(*sv->it));
		for (size_t i = 0; i < sv->n; i++) {
			json_t *o = recs[key[i][1]];
			json_t *resp = json_object_get(o, "responses");
			const char *id = json_string_value(json_object_get(o,
									   "id"));
			const char *pid = json_string_value(json_object_get(
				json_object_get(o, "principle"), "id"));
			const struct principle *pr = pid && con ?
				constitution_find(con, pid) : NULL;
			struct ritem *it = &sv->it[i];
			char *pt = prompt_text(o), *ps;

			it->id = xstrdup(id);
			it->swapped = rng_unit(seed, id, "review-swap", 0) >=
				      0.5;
			it->prompt = escaped(pt);
			ps = pr && pr->compare ?
			     xasprintf("%s: %s", pid, pr->compare) :
			     xstrdup(pid ? pid : "(none)");
			it->principle = escaped(ps);
			it->a = escaped(json_string_value(json_array_get(resp,
				it->swapped ? 1 : 0)));
			it->b = escaped(json_string_value(json_array_get(resp,
				it->swapped ? 0 : 1)));
			free(pt);
			free(ps);
		}
	}
	for (size_t i = 0; i < n; i++)
		json_decref(recs[i]);
	free(recs);
	free(key);
	return rc;
}

static bool valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > REVIEW_MAX_NAME)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static size_t item_of(const struct server *sv, const char *id)
{
	for (size_t i = 0; i < sv->n; i++)
		if (!strcmp(sv->it[i].id, id))
			return i;
	return sv->n;
}

/* Remember reviewer's choice on item i (the later one wins). */
static void set_done(struct server *sv, const char *who, size_t i,
		     const char *choice)
{
	for (size_t k = 0; k < sv->ndone; k++)
		if (sv->done[k].item == i &&
		    !strcmp(sv->done[k].reviewer, who)) {
			snprintf(sv->done[k].choice,
				 sizeof(sv->done[k].choice), "%s", choice);
			return;
		}
	if (sv->ndone == sv->capdone) {
		sv->capdone = sv->capdone ? 2 * sv->capdone : 64;
		sv->done = xrealloc(sv->done, sv->capdone * sizeof(*sv->done));
	}
	sv->done[sv->ndone].reviewer = xstrdup(who);
	sv->done[sv->ndone].item = i;
	snprintf(sv->done[sv->ndone].choice, sizeof(sv->done[0].choice),
		 "%s", choice);
	sv->ndone++;
}

/* Open the reviews file for appending: a last line cut by a crash is
 * dropped (its choice was never acknowledged), earlier reviews of the
 * sample's records are remembered. -1 with err. */
static int open_reviews(struct server *sv, struct err *err)
{
	struct stat st;
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	off_t good = 0;
	ssize_t n;

	sv->fd = open(sv->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC,
		      0644);
	if (sv->fd < 0 || fstat(sv->fd, &st) < 0)
		return err_set(err, "cannot open '%s': %s", sv->path,
			       strerror(errno));
	f = fopen(sv->path, "r");
	while (f && (n = getline(&line, &cap, f)) >= 0) {
		json_t *o;
		const char *id, *who, *choice;
		size_t i;

		lineno++;
		if (line[n - 1] != '\n')
			break;
		good += n;
		if (n <= 1)
			continue;
		o = json_loadb(line, (size_t)n, 0, NULL);
		id = json_string_value(json_object_get(o, "id"));
		who = json_string_value(json_object_get(o, "reviewer"));
		choice = json_string_value(json_object_get(o, "choice"));
		if (!o || !id || !who || !choice) {
			json_decref(o);
			free(line);
			fclose(f);
			return err_set(err, "%s:%zu: not a review", sv->path,
				       lineno);
		}
		i = item_of(sv, id);
		if (i < sv->n)
			set_done(sv, who, i, choice);
		json_decref(o);
	}
	free(line);
	if (f)
		fclose(f);
	if (good < st.st_size && ftruncate(sv->fd, good) < 0)
		return err_set(err, "cannot truncate '%s': %s", sv->path,
			       strerror(errno));
	return 0;
}

/* Append one review and fsync it. -1 on an I/O error. */
static int append_review(struct server *sv, size_t i, const char *who,
			 const char *choice)
{
	const struct ritem *it = &sv->it[i];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "schema", REVIEW_SCHEMA,
			      "id", it->id, "reviewer", who, "choice",
			      choice);
	char *text;
	size_t len, off = 0;
	int rc = 0;

	if (!strcmp(choice, "A") || !strcmp(choice, "B"))
		json_object_set_new(o, "preferred", json_integer(
			(choice[0] == 'A') == !it->swapped ? 0 : 1));
	else if (!strcmp(choice, "tie"))
		json_object_set_new(o, "preferred", json_null());
	json_object_set_new(o, "swapped", json_boolean(it->swapped));
	json_object_set_new(o, "time", json_integer((json_int_t)time(NULL)));
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	len = strlen(text);
	text[len++] = '\n';	/* json_dumps leaves room: replace the NUL */
	while (off < len) {
		ssize_t w = write(sv->fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			break;
		}
		off += (size_t)w;
	}
	free(text);
	if (rc == 0 && fsync(sv->fd) < 0)
		rc = -1;
	return rc;
}

static const char page[] =
"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
"<title>caigen review</title>\n"
"<style>\n"
"body{font:15px/1.45 system-ui,sans-serif;margin:0;background:#f6f6f3;"
"color:#222}\n"
"header{display:flex;gap:1em;align-items:center;padding:.6em 1em;"
"background:#2d3a4a;color:#fff}\n"
"header b{font-size:1.1em}#progress{margin-left:auto}\n"
"main{max-width:1200px;margin:1em auto;padding:0 1em}\n"
".box{background:#fff;border:1px solid #ddd;border-radius:6px;"
"padding:.8em 1em;margin:.6em 0;white-space:pre-wrap;"
"overflow-wrap:anywhere}\n"
".label{font-size:.8em;text-transform:uppercase;color:#666;"
"letter-spacing:.05em}\n"
"#answers{display:grid;grid-template-columns:1fr 1fr;gap:1em}\n"
".keys{color:#555}.keys kbd{border:1px solid #aaa;border-radius:3px;"
"padding:0 .35em;background:#fff}\n"
"button{font:inherit;padding:.3em .9em;margin-right:.4em}\n"
"#login,#finished{display:none}#error{color:#b00}\n"
"</style></head><body>\n"
"<header><b>caigen review</b><span id=\"who\"></span>"
"<span id=\"progress\"></span></header>\n<main>\n"
"<div id=\"login\" class=\"box\"><p>Your name (it is written with each "
"review):</p><input id=\"reviewer-name\" maxlength=\"64\" autofocus> "
"<button id=\"start\">Start</button></div>\n"
"<div id=\"finished\" class=\"box\">Every record of the sample is "
"reviewed. Thank you.</div>\n"
"<div id=\"item\" style=\"display:none\">\n"
"<div class=\"label\">Principle</div><div id=\"principle\" "
"class=\"box\"></div>\n"
"<div class=\"label\">Conversation</div><div id=\"prompt\" "
"class=\"box\"></div>\n"
"<div id=\"answers\"><div><div class=\"label\">Answer A</div>"
"<div id=\"answer-a\" class=\"box\"></div></div>\n"
"<div><div class=\"label\">Answer B</div><div id=\"answer-b\" "
"class=\"box\"></div></div></div>\n"
"<p class=\"keys\">Which answer follows the principle better? "
"<kbd>a</kbd> A &nbsp; <kbd>b</kbd> B &nbsp; <kbd>t</kbd> tie &nbsp; "
"<kbd>s</kbd> skip &nbsp; <kbd>&larr;</kbd> back</p>\n"
"<p><button data-c=\"A\">A is better</button><button data-c=\"B\">B is "
"better</button><button data-c=\"tie\">Tie</button><button "
"data-c=\"skip\">Skip</button></p>\n"
"</div><p id=\"error\"></p>\n</main>\n<script>\n"
"'use strict';\n"
"const token = new URLSearchParams(location.search).get('token') || '';\n"
"let name = localStorage.getItem('caigen-reviewer') || '';\n"
"let items = [], cur = -1, busy = false;\n"
"const $ = id => document.getElementById(id);\n"
"function api(path, args, method) {\n"
"  const q = new URLSearchParams(Object.assign({token}, args));\n"
"  return fetch(path + '?' + q, {method: method || 'GET'}).then(r => {\n"
"    if (!r.ok) throw new Error(r.status + ' ' + r.statusText);\n"
"    return r.json(); });\n"
"}\n"
"function next(from) {\n"
"  for (let k = 0; k < items.length; k++) {\n"
"    const i = (from + k) % items.length;\n"
"    if (!items[i].done) return i;\n"
"  }\n"
"  return -1;\n"
"}\n"
"function progress() {\n"
"  const d = items.filter(x => x.done).length;\n"
"  $('progress').textContent = d + ' / ' + items.length + ' reviewed';\n"
"  $('progress').dataset.done = d;\n"
"}\n"
"function show(i) {\n"
"  cur = i; progress();\n"
"  if (i < 0) { $('item').style.display = 'none';\n"
"    $('finished').style.display = 'block'; return; }\n"
"  const it = items[i];\n"
"  /* the server sends these texts HTML-escaped */\n"
"  $('principle').innerHTML = it.principle;\n"
"  $('prompt').innerHTML = it.prompt;\n"
"  $('answer-a').innerHTML = it.a;\n"
"  $('answer-b').innerHTML = it.b;\n"
"  $('item').dataset.index = i;\n"
"  $('item').style.display = 'block';\n"
"  $('finished').style.display = 'none';\n"
"}\n"
"function choose(c) {\n"
"  if (busy || cur < 0) return;\n"
"  busy = true;\n"
"  api('/api/review', {index: cur, choice: c, reviewer: name}, 'POST')\n"
"    .then(() => { items[cur].done = c; $('error').textContent = '';\n"
"      show(next(cur + 1)); })\n"
"    .catch(e => { $('error').textContent = 'not saved: ' + e.message; })\n"
"    .finally(() => { busy = false; });\n"
"}\n"
"function load() {\n"
"  $('login').style.display = 'none';\n"
"  $('who').textContent = 'reviewer: ' + name;\n"
"  api('/api/items', {reviewer: name}).then(r => {\n"
"    items = r.items; show(next(0)); document.body.dataset.ready = '1'; })\n"
"    .catch(e => { $('error').textContent = e.message; });\n"
"}\n"
"document.addEventListener('keydown', e => {\n"
"  if (e.target.tagName === 'INPUT') {\n"
"    if (e.key === 'Enter') $('start').click();\n"
"    return;\n"
"  }\n"
"  if (e.ctrlKey || e.metaKey || e.altKey) return;\n"
"  const m = {a: 'A', 1: 'A', b: 'B', 2: 'B', t: 'tie', 0: 'tie',\n"
"             s: 'skip'}[e.key.toLowerCase()];\n"
"  if (m) { e.preventDefault(); choose(m); }\n"
"  else if (e.key === 'ArrowLeft' && cur > 0) show(cur - 1);\n"
"  else if (e.key === 'ArrowLeft' && cur < 0 && items.length)\n"
"    show(items.length - 1);\n"
"});\n"
"document.querySelectorAll('button[data-c]').forEach(b =>\n"
"  b.addEventListener('click', () => choose(b.dataset.c)));\n"
"$('start').addEventListener('click', () => {\n"
"  const v = $('reviewer-name').value.trim();\n"
"  if (!v) return;\n"
"  name = v; localStorage.setItem('caigen-reviewer', name); load();\n"
"});\n"
"if (name) load(); else $('login').style.display = 'block';\n"
"</script></body></html>\n";

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status,
			      const char *type, const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len,
		(void *)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Content-Security-Policy",
				"default-src 'none'; script-src "
				"'unsafe-inline'; style-src 'unsafe-inline'; "
				"connect-src 'self'");
	rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result answer_json(struct MHD_Connection *c, unsigned status,
				   json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	enum MHD_Result rc = answer(c, status, "application/json", s,
				    strlen(s));

	free(s);
	json_decref(o);
	return rc;
}

static enum MHD_Result error_json(struct MHD_Connection *c, unsigned status,
				  const char *msg)
{
	return answer_json(c, status, json_pack("{s:s}", "error", msg));
}

/* Constant-time token comparison. */
static bool token_ok(const struct server *sv, const char *t)
{
	unsigned char d = 0;

	if (!t || strlen(t) != 32)
		return false;
	for (int i = 0; i < 32; i++)
		d |= (unsigned char)(t[i] ^ sv->token[i]);
	return d == 0;
}

static enum MHD_Result items_json(struct server *sv, struct MHD_Connection *c,
				  const char *who)
{
	json_t *a = json_array();

	pthread_mutex_lock(&sv->lock);
	for (size_t i = 0; i < sv->n; i++) {
		const struct ritem *it = &sv->it[i];
		const char *done = NULL;

		for (size_t k = 0; k < sv->ndone && who; k++)
			if (sv->done[k].item == i &&
			    !strcmp(sv->done[k].reviewer, who))
				done = sv->done[k].choice;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s, "
			"s:o}", "principle", it->principle, "prompt",
			it->prompt, "a", it->a, "b", it->b, "done",
			done ? json_string(done) : json_null()));
	}
	pthread_mutex_unlock(&sv->lock);
	return answer_json(c, MHD_HTTP_OK, json_pack("{s:o}", "items", a));
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **state)
{
	static int marker;
	struct server *sv = cls;
	const char *tok, *who;

	(void)version;
	(void)upload;
	if (!*state) {		/* headers only so far */
		*state = &marker;
		return MHD_YES;
	}
	if (*upload_size) {	/* a body: not used */
		*upload_size = 0;
		return MHD_YES;
	}
	tok = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
	if (!tok)
		tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						  "X-Review-Token");
	if (!token_ok(sv, tok))
		return error_json(c, MHD_HTTP_FORBIDDEN, "a valid token is "
				  "needed: use the URL caigen review printed");
	who = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
					  "reviewer");
	if (!strcmp(method, "GET") && !strcmp(url, "/"))
		return answer(c, MHD_HTTP_OK, "text/html; charset=utf-8", page,
			      sizeof(page) - 1);
	if (!strcmp(method, "GET") && !strcmp(url, "/api/items")) {
		if (who && !valid_name(who))
			return error_json(c, MHD_HTTP_BAD_REQUEST, "bad "
					  "reviewer name");
		return items_json(sv, c, who);
	}
	if (!strcmp(method, "POST") && !strcmp(url, "/api/review")) {
		const char *ix = MHD_lookup_connection_value(c,
			MHD_GET_ARGUMENT_KIND, "index");
		const char *ch = MHD_lookup_connection_value(c,
			MHD_GET_ARGUMENT_KIND, "choice");
		char *end = NULL;
		unsigned long long i = ix ? strtoull(ix, &end, 10) : 0;
		int rc;

		if (!ix || !*ix || *end || i >= sv->n)
			return error_json(c, MHD_HTTP_BAD_REQUEST, "bad index");
		if (!ch || (strcmp(ch, "A") && strcmp(ch, "B") &&
			    strcmp(ch, "tie") && strcmp(ch, "skip")))
			return error_json(c, MHD_HTTP_BAD_REQUEST, "choice "
					  "must be A, B, tie or skip");
		if (!valid_name(who))
			return error_json(c, MHD_HTTP_BAD_REQUEST, "a "
					  "reviewer name of 1 to 64 "
					  "characters is needed");
		pthread_mutex_lock(&sv->lock);
		rc = append_review(sv, (size_t)i, who, ch);
		if (rc == 0)
			set_done(sv, who, (size_t)i, ch);
		pthread_mutex_unlock(&sv->lock);
		if (rc < 0)
			return error_json(c, MHD_HTTP_INTERNAL_SERVER_ERROR,
					  "the review could not be saved");
		return answer_json(c, MHD_HTTP_OK, json_pack("{s:b}", "ok",
							     1));
	}
	return error_json(c, MHD_HTTP_NOT_FOUND, "no such page");
}

static void usage(FILE *f)
{
	fputs("usage: caigen review OUT/ [options]\n"
	      "\n"
	      "Serve a local web page for blind human review of "
	      "OUT/preferences.jsonl:\n"
	      "per record the prompt, the principle and the two answers in "
	      "a random order,\n"
	      "the judge's label hidden; keys a, b, t (tie), s (skip). Each "
	      "choice is\n"
	      "appended to OUT/reviews.jsonl at once; 'caigen eval' and "
	      "'caigen calibrate'\n"
	      "take the reviews as references. Stop with Ctrl-C.\n"
	      "\n"
	      "options:\n"
	      "      --constitution FILE  show the principles' texts "
	      "(repeatable)\n"
	      "  -h, --help               print this help and exit\n"
	      "      --host ADDR          listen address (default 127.0.0.1)\n"
	      "      --port N             port (default 0: any free one)\n"
	      "      --sample N           review a seeded sample of N "
	      "records (default: all)\n"
	      "      --seed S             sample and order seed (default 1)\n"
	      "      --url-file FILE      also write the URL to FILE\n"
	      "\n"
	      "Exit status: 0 stopped, 2 usage error or bad input.\n", f);
}

static int random_token(char out[33])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(b))
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int review_main(int argc, char **argv)
{
	enum { O_CONST = 256, O_HOST, O_PORT, O_SAMPLE, O_SEED, O_URLF };
	static const struct option opts[] = {
		{ "constitution", required_argument, NULL, O_CONST },
		{ "help", no_argument, NULL, 'h' },
		{ "host", required_argument, NULL, O_HOST },
		{ "port", required_argument, NULL, O_PORT },
		{ "sample", required_argument, NULL, O_SAMPLE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "url-file", required_argument, NULL, O_URLF },
		{ NULL, 0, NULL, 0 }
	};
	struct server sv;
	struct constitution con;
	bool have_con = false;
	const char *host = "127.0.0.1", *url_file = NULL;
	unsigned long long seed = 1, port = 0, sample = 0;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	const union MHD_DaemonInfo *info;
	char *recs = NULL, *url = NULL;
	sigset_t ss;
	struct err err;
	int c, sig, rc = 2;

	memset(&sv, 0, sizeof(sv));
	sv.fd = -1;
	pthread_mutex_init(&sv.lock, NULL);
	constitution_init(&con);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		char *end;
		unsigned long long v;

		switch (c) {
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		case O_CONST:
			if (constitution_load(&con, optarg, &err) < 0) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			have_con = true;
			break;
		case O_HOST:
			host = optarg;
			break;
		case O_URLF:
			url_file = optarg;
			break;
		case O_PORT:
		case O_SAMPLE:
		case O_SEED:
			errno = 0;
			v = strtoull(optarg, &end, 10);
			if (errno || *end || end == optarg || *optarg == '-' ||
			    (c == O_PORT && v > 65535) ||
			    (c == O_SEED && v > (unsigned long long)INT64_MAX)) {
				fprintf(stderr, "caigen: bad value '%s' for "
					"--%s\n", optarg, c == O_PORT ? "port" :
					c == O_SAMPLE ? "sample" : "seed");
				goto out;
			}
			if (c == O_PORT)
				port = v;
			else if (c == O_SAMPLE)
				sample = v;
			else
				seed = v;
			break;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "caigen: review needs one output folder\n");
		usage(stderr);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "caigen: --host must be an IPv4 address, got "
			"'%s'\n", host);
		goto out;
	}
	recs = xasprintf("%s/preferences.jsonl", argv[optind]);
	sv.path = xasprintf("%s/%s", argv[optind], REVIEWS_FILE);
	if (load_items(&sv, recs, (size_t)sample, seed,
		       have_con ? &con : NULL, &err) < 0 ||
	    open_reviews(&sv, &err) < 0 || random_token(sv.token) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	/* the signals go to sigwait below, not to the server's threads */
	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &ss, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG, 0, NULL, NULL, handle, &sv,
			     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "caigen: cannot listen on %s:%llu\n", host,
			port);
		goto out;
	}
	info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	url = xasprintf("http://%s:%u/?token=%s", host,
			info ? (unsigned)info->port : (unsigned)port,
			sv.token);
	if (url_file) {
		char *tmp = xasprintf("%s.tmp", url_file);
		FILE *f = fopen(tmp, "w");

		if (!f || fprintf(f, "%s\n", url) < 0 || fclose(f) != 0 ||
		    rename(tmp, url_file) < 0) {
			fprintf(stderr, "caigen: cannot write '%s': %s\n",
				url_file, strerror(errno));
			free(tmp);
			goto out;
		}
		free(tmp);
	}
	printf("%zu records to review; open in a browser:\n%s\n", sv.n, url);
	fflush(stdout);
	while (sigwait(&ss, &sig) != 0)
		;
	fprintf(stderr, "caigen: review stopped; reviews are in %s\n",
		sv.path);
	rc = 0;
out:
	if (d)
		MHD_stop_daemon(d);
	if (sv.fd >= 0)
		close(sv.fd);
	for (size_t i = 0; i < sv.n; i++) {
		free(sv.it[i].id);
		free(sv.it[i].prompt);
		free(sv.it[i].principle);
		free(sv.it[i].a);
		free(sv.it[i].b);
	}
	free(sv.it);
	for (size_t i = 0; i < sv.ndone; i++)
		free(sv.done[i].reviewer);
	free(sv.done);
	free(sv.path);
	free(recs);
	free(url);
	constitution_release(&con);
	pthread_mutex_destroy(&sv.lock);
	return rc;
}
