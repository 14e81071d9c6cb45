/*
 * usable.c - the sentence that explains an input with nothing usable
 * (usable.h).
 */
#include "usable.h"
#include "pipeline.h"
#include "prompts.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KINDS_MAX 32		/* distinct reasons tallied */
#define REREAD_LINES 1000	/* input lines read again for keys */
#define KEYS_MAX 8		/* keys named in the sentence */

bool usable_none(const struct run_counts *c)
{
	return c->lines > c->blank && c->written == 0 &&
	       c->skipped_done == 0 && c->failed == 0 &&
	       c->interrupted == 0 && c->records_total == 0 &&
	       c->rejected + c->rejected_before > 0;
}

char *usable_reason_kind(const char *reason)
{
	/* reasons that carry a position or a value after a fixed start */
	static const char *const fixed[] = {
		"invalid JSON", "invalid UTF-8", "NUL byte", "duplicate id",
		"line is longer than", "messages[",
	};

	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
		if (!strncmp(reason, fixed[i], strlen(fixed[i]))) {
			if (!strcmp(fixed[i], "messages["))
				return xstrdup("a bad 'messages' list");
			if (!strcmp(fixed[i], "line is longer than"))
				return xstrdup("line too long");
			return xstrdup(fixed[i]);
		}
	return xstrdup(reason);
}

struct tally {
	char *kind[KINDS_MAX];
	size_t n[KINDS_MAX];
	size_t nkinds;
	size_t total;
};

static void tally_add(struct tally *t, const char *reason)
{
	char *k = usable_reason_kind(reason);
	size_t i;

	t->total++;
	for (i = 0; i < t->nkinds; i++)
		if (!strcmp(t->kind[i], k)) {
			t->n[i]++;
			free(k);
			return;
		}
	if (t->nkinds < KINDS_MAX) {
		t->kind[t->nkinds] = k;
		t->n[t->nkinds++] = 1;
	} else {
		free(k);
	}
}

static void tally_file(struct tally *t, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		const char *r = json_string_value(json_object_get(j,
								  "reason"));

		if (r)
			tally_add(t, r);
		json_decref(j);
	}
	free(line);
	fclose(f);
}

/* Keys of the first rejected objects lacking the prompt field; *pick: a
 * key that holds a non-empty string in one of them (a likely prompt). */
static char *keys_seen(const char *input, char **pick)
{
	/* keys that usually hold the prompt, in the order we prefer them */
	static const char *const likely[] = {
		"question", "instruction", "query", "input", "text",
		"content", "prompt_text", "problem", "request",
	};
	struct err err;
	struct prompts *r = prompts_open(input, 0, &err);
	char *keys[KEYS_MAX];
	size_t nkeys = 0, best = ARRAY_SIZE(likely);
	char *first_str = NULL, *out = NULL;

	*pick = NULL;
	if (!r)
		return NULL;
	for (size_t n = 0; n < REREAD_LINES; n++) {
		struct prompt p;
		struct reject rej;
		enum prompts_status st = prompts_next(r, &p, &rej, &err);
		const char *line;
		size_t len;
		json_t *o;
		const char *k;
		json_t *v;

		if (st == PROMPTS_EOF || st == PROMPTS_ERROR)
			break;
		prompt_release(&p);
		if (st != PROMPTS_REJECT || strncmp(rej.reason, "missing '", 9)) {
			reject_release(&rej);
			continue;
		}
		reject_release(&rej);
		line = prompts_line(r, &len);
		o = json_loadb(line, len, 0, NULL);
		json_object_foreach(o, k, v) {
			bool have = false;

			for (size_t i = 0; i < nkeys; i++)
				have = have || !strcmp(keys[i], k);
			if (!have && nkeys < KEYS_MAX)
				keys[nkeys++] = xstrdup(k);
			if (!json_is_string(v) || !json_string_length(v) ||
			    !strcmp(k, "id"))
				continue;
			if (!first_str)
				first_str = xstrdup(k);
			for (size_t i = 0; i < best; i++)
				if (!strcmp(likely[i], k))
					best = i;
		}
		json_decref(o);
	}
	prompts_close(r);
	for (size_t i = 0; i < nkeys; i++) {
		char *t = xasprintf("%s%s%s", out ? out : "", out ? ", " : "",
				    keys[i]);

		free(out);
		out = t;
		free(keys[i]);
	}
	if (best < ARRAY_SIZE(likely)) {
		*pick = xstrdup(likely[best]);
		free(first_str);
	} else {
		*pick = first_str;
	}
	return out;
}

char *usable_explain(const char *noun, const char *rejects,
		     const char *input, bool suggest_field)
{
	struct tally t = { 0 };
	size_t top = 0;
	char *keys = NULL, *pick = NULL, *s;

	tally_file(&t, rejects);
	if (t.nkinds == 0) {
		s = xasprintf("0 usable %s: every line read was rejected; see "
			      "%s", noun, rejects);
		return s;
	}
	for (size_t i = 1; i < t.nkinds; i++)
		if (t.n[i] > t.n[top])
			top = i;
	if (!strncmp(t.kind[top], "missing '", 9) && input &&
	    strcmp(input, "-"))
		keys = keys_seen(input, &pick);
	s = xasprintf("0 usable %s: %zu line%s rejected, %s\"%s\" (%zu%s%s)"
		      "; see %s%s%s", noun, t.total, t.total == 1 ? "" : "s",
		      t.n[top] == t.total ? "all for " : "most for ",
		      t.kind[top], t.n[top], keys ? "; keys seen: " : "",
		      keys ? keys : "", rejects,
		      suggest_field && pick ? "; try --prompt-field " : "",
		      suggest_field && pick ? pick : "");
	for (size_t i = 0; i < t.nkinds; i++)
		free(t.kind[i]);
	free(keys);
	free(pick);
	return s;
}
