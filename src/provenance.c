/*
 * provenance.c - what made a report (provenance.h).
 */
#include "provenance.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void provenance_init(struct provenance *p)
{
	memset(p, 0, sizeof(*p));
}

void provenance_release(struct provenance *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->model[i]);
	provenance_init(p);
}

void provenance_add_model(struct provenance *p, const char *name)
{
	if (!name || !*name)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->model[i], name))
			return;
	if (p->n == PROV_MAX_MODELS) {
		p->omitted++;
		return;
	}
	p->model[p->n++] = xstrdup(name);
}

void provenance_add_record(struct provenance *p, json_t *rec)
{
	json_t *models = json_object_get(rec, "models"), *v, *c, *m;
	size_t i, k;

	if (!json_is_object(rec))
		return;
	provenance_add_model(p, json_string_value(json_object_get(models,
								  "judge")));
	json_array_foreach(json_object_get(models, "panel"), i, v)
		provenance_add_model(p, json_string_value(v));
	json_array_foreach(json_object_get(rec, "comparisons"), i, c)
		json_array_foreach(json_object_get(c, "panel"), k, m)
			provenance_add_model(p, json_string_value(
				json_object_get(m, "model")));
}

time_t provenance_now(void)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (s && *s) {
		errno = 0;
		v = strtoll(s, &end, 10);
		if (!errno && !*end && v >= 0 && v <= INT_MAX)
			return (time_t)v;
	}
	return time(NULL);
}

void provenance_iso(time_t t, char *buf, size_t n)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, n, "?");
}

json_t *provenance_json(const struct provenance *p)
{
	json_t *judges = json_array(), *o;
	char when[32];

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(judges, json_string(p->model[i]));
	provenance_iso(provenance_now(), when, sizeof(when));
	o = json_pack("{s:o,s:s,s:s}", "judge_models", judges, "time", when,
		      "caigen_version", CAIGEN_VERSION);
	if (p->omitted)
		json_object_set_new(o, "judge_models_omitted",
				    json_integer((json_int_t)p->omitted));
	return o;
}
