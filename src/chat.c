/* chat.c - the data a call carries (see chat.h). */
#include "chat.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

void chat_usage_add(struct chat_usage *a, const struct chat_usage *b)
{
	a->prompt_tokens += b->prompt_tokens;
	a->completion_tokens += b->completion_tokens;
}

void chat_reply_release(struct chat_reply *r)
{
	for (size_t i = 0; i < PROVIDER_MAX_CHOICES; i++)
		free(r->lp_own[i]);
	json_decref(r->extra);
	json_decref(r->root);
	free(r->arena);
	memset(r, 0, sizeof(*r));
}

/* One entry from the jansson object e (anything else: an empty entry). */
static void entry_of(json_t *e, struct chat_logprob *out)
{
	json_t *tok = json_object_get(e, "token");
	json_t *lp = json_object_get(e, "logprob");

	memset(out, 0, sizeof(*out));
	if (json_is_string(tok)) {
		out->token = json_string_value(tok);
		out->token_len = json_string_length(tok);
	}
	if (json_is_number(lp)) {
		out->has_logprob = true;
		out->logprob = json_number_value(lp);
	}
}

struct chat_logprobs *chat_logprobs_of_json(json_t *content)
{
	size_t n = json_array_size(content), total = n, i, k;
	struct chat_logprobs *h;
	struct chat_logprob *e, *c;
	json_t *pos;

	if (!json_is_array(content))
		return NULL;
	json_array_foreach(content, i, pos) {
		json_t *top = json_object_get(pos, "top_logprobs");

		if (json_is_array(top))
			total += json_array_size(top);
	}
	h = xmalloc(sizeof(*h) + total * sizeof(*e));
	e = (struct chat_logprob *)(h + 1);
	c = e + n;		/* the candidates after the positions */
	h->n = n;
	h->pos = e;
	json_array_foreach(content, i, pos) {
		json_t *top = json_object_get(pos, "top_logprobs"), *t;

		entry_of(pos, &e[i]);
		if (!json_is_array(top))
			continue;
		e[i].top = c;
		e[i].ntop = json_array_size(top);
		json_array_foreach(top, k, t)
			entry_of(t, c++);
	}
	return h;
}
