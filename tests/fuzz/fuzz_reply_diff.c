/*
 * fuzz_reply_diff.c - differential libFuzzer target for the chat reply
 * reader: reply_read_chat (reply.h) against provider_parse_chat (the
 * jansson tree) on the same body. Both must refuse, with the same message
 * unless both say the body is not JSON, or both accept with the same
 * fields (reply_same: n, text, finish, usage, and logprobs as the judge
 * reads them), with want_logprobs and without (then no logprobs at all).
 * The body is the input up to its first NUL, as a server's body reaches
 * provider_parse; the whole input, when it holds a NUL, must be refused.
 * Any difference is an abort(). Seeds: tests/fuzz/corpus/fuzz_reply_diff.
 */
#include "provider.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool json_error(const struct err *e)
{
	return !strncmp(e->msg, "reply is not JSON: ", 19);
}

static void differ(const char *what, const struct err *a,
		   const struct err *b)
{
	fprintf(stderr, "fuzz_reply_diff: %s: jansson '%s', reply '%s'\n",
		what, a->msg, b->msg);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body = malloc(size + 1);
	struct chat_reply ref, mine, bare;
	struct err e1, e2, e3, why;
	size_t len;
	int r1, r2, r3;

	if (!body)
		abort();
	memcpy(body, data, size);
	body[size] = '\0';
	len = strlen(body);
	e1.msg[0] = e2.msg[0] = e3.msg[0] = why.msg[0] = '\0';
	r1 = provider_parse_chat(body, &ref, &e1);
	r2 = reply_read_chat(body, len, true, &mine, &e2);
	r3 = reply_read_chat(body, len, false, &bare, &e3);
	if (r1 != r2 || r2 != r3)
		differ("outcome", &e1, &e2);
	if (r1 < 0) {
		if (!e1.msg[0] || !e2.msg[0] || strcmp(e2.msg, e3.msg))
			differ("message", &e1, &e2);
		if (!(json_error(&e1) && json_error(&e2)) &&
		    strcmp(e1.msg, e2.msg))
			differ("message", &e1, &e2);
	} else {
		if (!reply_same(&ref, &mine, true, &why) ||
		    !reply_same(&ref, &bare, false, &why))
			differ(why.msg, &e1, &e2);
		for (size_t i = 0; i < PROVIDER_MAX_CHOICES; i++)
			if (bare.logprobs[i] || (i >= mine.n &&
						 (mine.text[i] ||
						  mine.logprobs[i])))
				differ("logprobs without want_logprobs", &e1,
				       &e2);
		chat_reply_release(&ref);
		chat_reply_release(&mine);
		chat_reply_release(&bare);
	}
	if (len < size) {	/* a NUL inside is never JSON */
		if (reply_read_chat(body, size, true, &mine, &e2) == 0 ||
		    !json_error(&e2))
			differ("NUL inside accepted", &e1, &e2);
	}
	free(body);
	return 0;
}
