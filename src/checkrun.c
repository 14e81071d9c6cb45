/*
 * checkrun.c - `caigen check` on a run config (checkrun.h).
 */
#include "checkrun.h"
#include "config.h"
#include "constitution.h"
#include "http.h"
#include "prompts.h"
#include "split.h"
#include "usable.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Prefix err's message with the file's name. */
static int in_file(const char *path, struct err *err)
{
	char msg[sizeof(err->msg)];

	memcpy(msg, err->msg, sizeof(msg));
	return err_set(err, "%s: %s", path, msg);
}

/* The constitutions, loaded as the run loads them. */
static int check_constitutions(const struct config *c, char *note,
			       size_t n, struct err *err)
{
	struct constitution con;
	unsigned need = c->mode == MODE_CRITIQUES ? 1u << STAGE_CRITIQUE :
			c->mode == MODE_BOTH ? (1u << STAGE_COMPARE |
						1u << STAGE_CRITIQUE) :
			1u << STAGE_COMPARE;
	int rc = 0;

	constitution_init(&con);
	for (size_t i = 0; i < c->nconstitutions && rc == 0; i++)
		rc = constitution_load(&con, c->constitutions[i], err);
	if (rc == 0)
		rc = constitution_finish(&con, need, err);
	if (rc == 0)
		snprintf(note, n, "%zu principles (%zu compare, %zu critique)",
			 con.n, con.stage_n[STAGE_COMPARE],
			 con.stage_n[STAGE_CRITIQUE]);
	constitution_release(&con);
	return rc;
}

/* A split folder: whole, and made for some N (its split.json says). */
static int check_split(const char *dir, char *note, size_t n,
		       struct err *err)
{
	char *meta = xasprintf("%s/split.json", dir);
	json_t *j = json_load_file(meta, 0, NULL);
	json_int_t shards = json_integer_value(json_object_get(j, "n"));
	struct shard s = { 0, (unsigned)shards };
	char *file = NULL;
	size_t lines = 0;
	int rc = 0;

	json_decref(j);
	if (shards <= 0) {
		rc = err_set(err, "prompts '%s' is a folder but not a whole "
			     "split ('%s' missing or unreadable)", dir, meta);
	} else if (split_resolve(dir, &s, &file, &lines, err) < 0) {
		rc = -1;
	} else {
		snprintf(note, n, "a split for %lld tasks, %zu lines",
			 (long long)shards, lines);
	}
	free(file);
	free(meta);
	return rc;
}

/* The prompts: they open, and some of the first lines are usable. */
static int check_prompts(const struct config *c, char *note, size_t n,
			 struct err *err)
{
	struct prompts *r;
	struct stat st;
	size_t ok = 0, bad = 0, top_n = 0;
	char *top = NULL, *first = NULL;
	bool more = false;
	int rc = 0;

	if (!strcmp(c->prompts, "-")) {
		snprintf(note, n, "standard input (not read here)");
		return 0;
	}
	if (stat(c->prompts, &st) == 0 && S_ISDIR(st.st_mode))
		return check_split(c->prompts, note, n, err);
	r = prompts_open(c->prompts, c->max_line_bytes, err);
	if (!r) {
		if (c->prompts[0] != '/') {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			err_set(err, "%s (relative paths are from the current "
				"folder)", msg);
		}
		return -1;
	}
	for (size_t i = 0; i < CHECKRUN_LINES; i++) {
		struct prompt p;
		struct reject rej;
		enum prompts_status st2 = prompts_next(r, &p, &rej, err);

		if (st2 == PROMPTS_ERROR) {
			rc = -1;
			break;
		}
		if (st2 == PROMPTS_EOF)
			break;
		if (st2 == PROMPTS_OK) {
			ok++;
		} else {
			char *k = usable_reason_kind(rej.reason);

			bad++;
			/* the first reason seen, and how often it comes */
			if (!first) {
				first = k;
				k = NULL;
			}
			if (k && !strcmp(k, first))
				top_n++;
			else if (!k)
				top_n++;
			free(k);
		}
		prompt_release(&p);
		reject_release(&rej);
		more = i + 1 == CHECKRUN_LINES;
	}
	top = first;
	if (rc == 0 && ok == 0 && bad == 0)
		snprintf(note, n, "none: the file is empty or blank, a run "
			 "does nothing");
	else if (rc == 0 && ok == 0)
		rc = err_set(err, "prompts '%s': 0 usable prompts in %zu "
			     "lines read (the first rejected for \"%s\", %zu "
			     "like it)%s", c->prompts, bad, top, top_n,
			     !strncmp(top, "missing '", 9) ? "; is the prompt "
			     "under another key? set prompt_field" : "");
	else if (rc == 0)
		snprintf(note, n, "%zu usable%s, %zu rejected%s", ok,
			 more ? " in the first lines" : "", bad,
			 more ? "" : " (whole file read)");
	free(top);
	prompts_close(r);
	return rc;
}

int checkrun_file(const char *path, FILE *out, struct err *err)
{
	struct config c;
	char pnote[160] = "", cnote[160] = "";
	int rc;

	if (config_check_file(path, err) < 0)
		return -1;
	config_init(&c);
	rc = config_load_yaml(&c, path, err);
	if (rc == 0 && (config_apply_env(&c, false, err) < 0 ||
			config_validate(&c, err) < 0))
		rc = in_file(path, err);
	if (rc == 0) {
		prompts_set_field(c.prompt_field);
		if (check_constitutions(&c, cnote, sizeof(cnote), err) < 0 ||
		    check_prompts(&c, pnote, sizeof(pnote), err) < 0)
			rc = in_file(path, err);
	}
	if (rc == 0) {
		fprintf(out, "%s: ok: run config (prompts: %s; "
			"constitutions: %s", path, pnote, cnote);
		/* an http key set: the wire it gives (http.h) */
		if (c.policy.http != HTTP_AUTO)
			fprintf(out, "; policy over %s", http_wire_name(
				c.policy.http, c.policy.base_url));
		if (c.judge.http != HTTP_AUTO && c.mode != MODE_CRITIQUES)
			fprintf(out, "; judge over %s", http_wire_name(
				c.judge.http, c.judge.base_url));
		fprintf(out, ")\n");
	}
	config_release(&c);
	return rc;
}
