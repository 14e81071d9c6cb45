/* agree.c - agreement between the members of a judge panel. */
#include "agree.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void agree_init(struct agree *g)
{
	memset(g, 0, sizeof(*g));
}

void agree_release(struct agree *g)
{
	for (int m = 0; m < AGREE_MAX; m++)
		free(g->model[m]);
	agree_init(g);
}

int agree_side(double p)
{
	return p > 0.5 ? 1 : p < 0.5 ? -1 : 0;
}

void agree_add(struct agree *g, json_t *comparison)
{
	json_t *panel = json_object_get(comparison, "panel"), *e;
	json_t *pc = json_object_get(comparison, "p");
	int side[AGREE_MAX], has[AGREE_MAX] = { 0 };
	size_t i;

	if (!json_is_array(panel) || !json_is_number(pc))
		return;
	json_array_foreach(panel, i, e) {
		json_t *mv = json_object_get(e, "member");
		json_t *pv = json_object_get(e, "p");
		const char *model = json_string_value(json_object_get(e,
								      "model"));
		json_int_t m = json_is_integer(mv) ? json_integer_value(mv) :
			       -1;

		if (m < 0 || m >= AGREE_MAX || !json_is_number(pv) ||
		    has[m])
			continue;
		has[m] = 1;
		side[m] = agree_side(json_number_value(pv));
		if (!g->model[m])
			g->model[m] = xstrdup(model ? model : "(none)");
	}
	g->comparisons++;
	for (int a = 0; a < AGREE_MAX; a++) {
		if (!has[a])
			continue;
		g->seen[a]++;
		g->with_panel[a] += side[a] ==
				    agree_side(json_number_value(pc));
		for (int b = a + 1; b < AGREE_MAX; b++) {
			if (!has[b])
				continue;
			g->both[a][b]++;
			g->same[a][b] += side[a] == side[b];
		}
	}
}

static json_t *rate(uint64_t k, uint64_t n)
{
	return n ? json_real((double)k / (double)n) : json_null();
}

json_t *agree_json(const struct agree *g)
{
	json_t *members = json_array(), *pairs = json_array();

	if (!g->comparisons) {
		json_decref(members);
		json_decref(pairs);
		return json_null();
	}
	for (int a = 0; a < AGREE_MAX; a++) {
		if (!g->model[a])
			continue;
		json_array_append_new(members, json_pack("{s:i,s:s,s:I,s:o}",
			"member", a, "model", g->model[a], "comparisons",
			(json_int_t)g->seen[a], "with_panel",
			rate(g->with_panel[a], g->seen[a])));
		for (int b = a + 1; b < AGREE_MAX; b++)
			if (g->model[b])
				json_array_append_new(pairs, json_pack(
					"{s:i,s:i,s:s,s:s,s:I,s:o}", "a", a,
					"b", b, "model_a", g->model[a],
					"model_b", g->model[b], "comparisons",
					(json_int_t)g->both[a][b], "agreement",
					rate(g->same[a][b], g->both[a][b])));
	}
	return json_pack("{s:I,s:o,s:o}", "comparisons",
			 (json_int_t)g->comparisons, "members", members,
			 "pairs", pairs);
}
