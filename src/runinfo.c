/*
 * runinfo.c - the settings that made OUT's records (runinfo.h).
 */
#include "runinfo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Top-level keys that change records. */
static const char *const top_keys[] = {
	"mode", "seed", "rounds", "responses", "pairs", "binarize", "panel",
	"prompt_field", "prompt_format",
};

/* Endpoint keys that never change a record. */
static const char *const operational[] = {
	"base_url", "base_urls", "cooldown", "api_key_env", "api_key_file",
	"api_key_set", "concurrency", "timeout", "connect_timeout",
	"max_attempts", "backoff_base", "backoff_max", "stall_timeout",
	"requests_per_minute", "tokens_per_minute", "executor",
	"batch_max_requests", "batch_max_bytes", "http", "ca_file",
};

static bool is_operational(const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(operational); i++)
		if (!strcmp(operational[i], k))
			return true;
	return false;
}

/* An endpoint's keys without the operational ones. URLs are left out:
 * a server that moves (a new node, a restart on another port) serves the
 * same model, which its name and sampling keys identify. */
static json_t *endpoint_part(json_t *ep, const char *default_model)
{
	json_t *o = json_object(), *v;
	const char *k;

	(void)default_model;
	json_object_foreach(ep, k, v)
		if (!is_operational(k))
			json_object_set(o, k, v);
	return o;
}

json_t *runinfo_settings(const struct config *cfg,
			 const struct constitution *con)
{
	json_t *all = config_to_json(cfg), *o = json_object();
	json_t *srcs = json_array(), *panel = json_array(), *m;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(top_keys); i++) {
		json_t *v = json_object_get(all, top_keys[i]);

		if (v)
			json_object_set(o, top_keys[i], v);
	}
	/* config_to_json leaves these out at their defaults; a run that
	 * sets one later must differ from an OUT made with the default */
	if (!json_object_get(o, "prompt_field"))
		json_object_set_new(o, "prompt_field",
				    json_string(cfg->prompt_field));
	if (!json_object_get(o, "prompt_format"))
		json_object_set_new(o, "prompt_format",
				    json_string(cfg->prompt_format));
	/* critiques use no judge, labelling no policy */
	if (cfg->mode != MODE_CRITIQUES)
		json_object_set_new(o, "judge", endpoint_part(
			json_object_get(all, "judge"), "judge"));
	json_object_set_new(o, "policy", endpoint_part(
		json_object_get(all, "policy"), "policy"));
	json_array_foreach(json_object_get(all, "judge_panel"), i, m)
		json_array_append_new(panel, endpoint_part(m, "judge"));
	json_object_set_new(o, "judge_panel", panel);
	for (i = 0; con && i < con->nsources; i++)
		json_array_append_new(srcs, json_string(con->sources[i]));
	json_object_set_new(o, "constitutions", srcs);
	json_decref(all);
	return o;
}

static char *path_of(const char *out, const char *name, const char *suffix,
		     const char *ext)
{
	return xasprintf("%s/%s%s.%s", out, name, suffix, ext);
}

static bool nonempty(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_size > 0;
}

/* The settings stored in OUT: settings.json, else those in manifest.json
 * (an OUT of an older caigen). NULL if neither. */
static json_t *stored(const char *out, const char *suffix)
{
	char *p = path_of(out, "settings", suffix, "json");
	json_t *j = json_load_file(p, 0, NULL), *s = NULL;

	free(p);
	if (j) {
		s = json_incref(json_object_get(j, "settings"));
		json_decref(j);
		return s;
	}
	p = path_of(out, "manifest", suffix, "json");
	j = json_load_file(p, 0, NULL);
	free(p);
	if (j && json_is_object(json_object_get(j, "config"))) {
		/* the same shape, from the manifest's config */
		json_t *all = json_object_get(j, "config"), *m;
		size_t i;

		s = json_object();
		for (i = 0; i < ARRAY_SIZE(top_keys); i++)
			if (json_object_get(all, top_keys[i]))
				json_object_set(s, top_keys[i],
						json_object_get(all,
								top_keys[i]));
		if (json_object_get(all, "judge"))
			json_object_set_new(s, "judge", endpoint_part(
				json_object_get(all, "judge"), "judge"));
		if (json_object_get(all, "policy"))
			json_object_set_new(s, "policy", endpoint_part(
				json_object_get(all, "policy"), "policy"));
		if (json_object_get(all, "judge_panel")) {
			json_t *panel = json_array();

			json_array_foreach(json_object_get(all,
							   "judge_panel"), i, m)
				json_array_append_new(panel,
						      endpoint_part(m,
								    "judge"));
			json_object_set_new(s, "judge_panel", panel);
		}
		if (json_object_get(j, "constitutions"))
			json_object_set(s, "constitutions",
					json_object_get(j, "constitutions"));
	}
	json_decref(j);
	return s;
}

/* Append "  key: OUT has X, this run Y" for each difference of a and b
 * below prefix; a key one side lacks is skipped. */
static void diff(const char *prefix, json_t *a, json_t *b, char **msg,
		 size_t *n)
{
	const char *k;
	json_t *va;

	if (json_is_object(a) && json_is_object(b)) {
		json_object_foreach(a, k, va) {
			json_t *vb = json_object_get(b, k);
			char *p;

			if (!vb)
				continue;
			p = xasprintf("%s%s%s", prefix, *prefix ? "." : "", k);
			diff(p, va, vb, msg, n);
			free(p);
		}
		return;
	}
	if (json_equal(a, b))
		return;
	{
		char *x = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY |
				   JSON_REAL_PRECISION(12));
		char *y = json_dumps(b, JSON_COMPACT | JSON_ENCODE_ANY |
				   JSON_REAL_PRECISION(12));
		char *t = xasprintf("%s\n  %s: OUT has %s, this run %s",
				    *msg ? *msg : "", prefix, x ? x : "?",
				    y ? y : "?");

		free(*msg);
		*msg = t;
		free(x);
		free(y);
		(*n)++;
	}
}

int runinfo_check(const char *out, const char *suffix, json_t *settings,
		  bool allow, bool *changed, struct err *err)
{
	static const char *const records[] = { "preferences", "critiques" };
	bool have = false;
	json_t *old;
	char *msg = NULL;
	size_t n = 0;

	*changed = false;
	for (size_t i = 0; i < ARRAY_SIZE(records); i++) {
		char *p = path_of(out, records[i], suffix, "jsonl");

		have = have || nonempty(p);
		free(p);
	}
	if (!have)
		return 0;	/* no record to mix with */
	old = stored(out, suffix);
	if (!old)
		return 0;
	diff("", old, settings, &msg, &n);
	json_decref(old);
	if (!n)
		return 0;
	*changed = true;
	if (allow) {
		free(msg);
		return 0;
	}
	err_set(err, "'%s' holds records made with other settings; this run "
		"would mix them in (%zu difference%s):%s\nuse another --out "
		"for these settings, or --allow-changed-settings to add to "
		"those records anyway", out, n, n == 1 ? "" : "s", msg);
	free(msg);
	return -1;
}

/* mkdir -p */
static int make_dirs(const char *dir, struct err *err)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) < 0 && errno != EEXIST) {
				err_set(err, "cannot create '%s': %s", p,
					strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return 0;
}

int runinfo_save(const char *out, const char *suffix, json_t *settings,
		 struct err *err)
{
	if (make_dirs(out, err) < 0)
		return -1;

	json_t *o = json_pack("{s:s,s:s,s:O}", "schema", "caigen.settings/1",
			      "version", CAIGEN_VERSION, "settings",
			      settings);
	char *p = path_of(out, "settings", suffix, "json");
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	char *t = xasprintf("%s\n", s);
	int rc = write_file_atomic(p, t, strlen(t), err);

	free(t);
	free(s);
	free(p);
	json_decref(o);
	return rc;
}
