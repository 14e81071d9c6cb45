/* chat.c - the data a call carries (see chat.h). */
#include "chat.h"

#include <stdlib.h>
#include <string.h>

void chat_usage_add(struct chat_usage *a, const struct chat_usage *b)
{
	a->prompt_tokens += b->prompt_tokens;
	a->completion_tokens += b->completion_tokens;
}

void chat_reply_release(struct chat_reply *r)
{
	json_decref(r->extra);
	json_decref(r->root);
	free(r->arena);
	memset(r, 0, sizeof(*r));
}
