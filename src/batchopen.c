/* batchopen.c - open batches of roles a run does not batch (batchopen.h). */
#include "batchopen.h"
#include "batchapi.h"
#include "ranking.h"
#include "util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The journal's role names (batch.c's file names): policy, judge,
 * judge1.. for a panel's members. */
static int role_of(const char *name)
{
	char *end;
	long m;

	if (!name)
		return -1;
	if (!strcmp(name, "policy"))
		return ROLE_POLICY;
	if (strncmp(name, "judge", 5))
		return -1;
	if (!name[5])
		return ROLE_JUDGE;
	m = strtol(name + 5, &end, 10);
	if (*end || m < 1 || m >= ROLE_COUNT - ROLE_JUDGE)
		return -1;
	return ROLE_JUDGE + (int)m;
}

size_t batchopen_list(const char *path, const bool *batched,
		      struct batch_open **out)
{
	FILE *f = fopen(path, "r");
	struct batch_open *v = NULL;
	bool *over = NULL;
	size_t n = 0, cap = 0, k = 0;
	char *line = NULL;
	size_t lcap = 0;

	*out = NULL;
	if (!f)
		return 0;
	/* the last line of each (role, seq) decides */
	while (getline(&line, &lcap, f) > 0) {
		json_t *o = json_loads(line, 0, NULL);
		const char *op = json_string_value(json_object_get(o, "op"));
		const char *id = json_string_value(json_object_get(o, "id"));
		int r = role_of(json_string_value(json_object_get(o, "role")));
		json_int_t seq = json_integer_value(json_object_get(o, "seq"));
		size_t i;

		if (!o || !op || r < 0 || seq <= 0 || seq > 999999) {
			json_decref(o);	/* a torn last line */
			continue;
		}
		for (i = 0; i < n; i++)
			if (v[i].role == r && v[i].seq == (unsigned)seq)
				break;
		if (i == n) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				v = xrealloc(v, cap * sizeof(*v));
				over = xrealloc(over, cap * sizeof(*over));
			}
			memset(&v[n], 0, sizeof(v[n]));
			v[n].role = r;
			v[n].seq = (unsigned)seq;
			n++;
		}
		/* created: open with its id; make: open, maybe created;
		 * fetched, failed (or anything else): over */
		v[i].created = !strcmp(op, "created");
		over[i] = !v[i].created && strcmp(op, "make");
		snprintf(v[i].id, sizeof(v[i].id), "%s",
			 v[i].created && id ? id : "");
		json_decref(o);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!over[i] && !(batched && batched[v[i].role]))
			v[k++] = v[i];
	free(over);
	if (!k) {
		free(v);
		return 0;
	}
	*out = v;
	return k;
}

/* "policy", "judge" or "judge[m]", as the summary names roles; the
 * journal's and the batch files' name: "judgeM" for a member. */
static const char *role_label(int r, bool file, char buf[24])
{
	if (r <= ROLE_JUDGE)
		return r == ROLE_POLICY ? "policy" : "judge";
	snprintf(buf, 24, file ? "judge%d" : "judge[%d]", r - ROLE_JUDGE);
	return buf;
}

/* Drop from v the batches the provider says are over (ended, failed:
 * nothing more is billed); keep those running, made without an id, or
 * whose state cannot be read. Returns how many are left. */
static size_t still_running(const struct config *cfg, struct batch_open *v,
			    size_t n)
{
	struct batchapi *api[ROLE_COUNT] = { NULL };
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		struct batch_info info;
		struct err e;
		int r = v[i].role;

		if (v[i].created && !api[r])
			api[r] = batchapi_new(ranking_role_endpoint(cfg, r), &e);
		v[i].running = false;
		if (v[i].created && api[r] &&
		    batchapi_poll(api[r], v[i].id, &info, &e) == 0) {
			if (info.phase != BATCH_RUNNING)
				continue;
			v[i].running = true;
		}
		v[k++] = v[i];
	}
	for (int r = 0; r < ROLE_COUNT; r++)
		batchapi_free(api[r]);
	return k;
}

size_t batchopen_say(const struct config *cfg, const char *suffix,
		     const bool *batched, FILE *to)
{
	char *path = xasprintf("%s/batch%s/journal.jsonl", cfg->out,
			       suffix ? suffix : "");
	struct batch_open *v;
	size_t n = batchopen_list(path, batched, &v);
	char buf[24], fbuf[24];

	if (n)
		n = still_running(cfg, v, n);
	if (!n) {
		free(v);
		free(path);
		return 0;
	}
	fprintf(to, "caigen: warning: '%s' lists %zu batch%s still open "
		"with the provider for roles this run does not batch: %s "
		"billed, and this run does not use %s answers but asks "
		"again itself:\n", path, n, n == 1 ? "" : "es",
		n == 1 ? "it is" : "they are", n == 1 ? "its" : "their");
	for (size_t i = 0; i < n; i++) {
		const struct endpoint *ep = ranking_role_endpoint(cfg, v[i].role);
		char *base = url_mask(ep->nbase_urls ? ep->base_urls[0] :
				      ep->base_url);
		const char *route = ep->api == API_ANTHROPIC ?
				    "messages/batches" : "batches";

		if (v[i].running)
			fprintf(to, "  %s: batch %s (file %s-%06u.jsonl); "
				"cancel: POST %s/%s/%s/cancel\n",
				role_label(v[i].role, false, buf), v[i].id,
				role_label(v[i].role, true, fbuf), v[i].seq,
				base ? base : "?", route, v[i].id);
		else if (v[i].created)
			/* the role's endpoint now may not be the one that
			 * made it */
			fprintf(to, "  %s: batch %s (file %s-%06u.jsonl): "
				"%s cannot tell its state; cancel: POST "
				"BASE_URL/%s/%s/cancel at the provider that "
				"runs it\n", role_label(v[i].role, false, buf),
				v[i].id, role_label(v[i].role, true, fbuf),
				v[i].seq, base ? base : "?", route, v[i].id);
		else
			fprintf(to, "  %s: file %s-%06u.jsonl: a batch may "
				"have been created for it (a run stopped "
				"before it recorded the id; a batch run finds "
				"it by its metadata tag)\n",
				role_label(v[i].role, false, buf),
				role_label(v[i].role, true, fbuf), v[i].seq);
		free(base);
	}
	fprintf(to, "caigen: to use their answers instead (nothing paid "
		"twice), stop this run and run again with that role's "
		"executor: batch, which waits for them; else cancel them "
		"with the provider (the POSTs above, with the role's key).\n");
	free(v);
	free(path);
	return n;
}
