/*
 * fuzz_replies.c - libFuzzer target for the response parsers: the first
 * byte picks the API flavour (chat, completions, anthropic) and the scan
 * depth, the rest is a 2xx body. Whatever parses is read the way the
 * judge reads it (letter logprobs, letter in the text), so the judge
 * readers see every shape the parsers let through. Checked besides the
 * sanitizers: a parse error has a message, a reply has 1..MAX choices of
 * text, and a judgment is a probability.
 */
#include "judge.h"
#include "provider.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_judgment(const struct judgment *j)
{
	if (!(j->p_a >= 0 && j->p_a <= 1) || !(j->other_mass >= 0) ||
	    !j->method)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chat_reply r;
	struct err err;
	char *body;
	int api, scan;

	if (size == 0)
		return 0;
	api = data[0] % 3;
	scan = 1 + (data[0] / 3) % 16;
	body = malloc(size);
	if (!body)
		abort();
	memcpy(body, data + 1, size - 1);
	body[size - 1] = '\0';
	err.msg[0] = '\0';
	memset(&r, 0, sizeof(r));
	if (provider_parse(api, body, true, &r, &err) < 0) {
		if (!err.msg[0])
			abort();
	} else {
		if (r.n < 1 || r.n > PROVIDER_MAX_CHOICES)
			abort();
		for (size_t i = 0; i < r.n; i++) {
			struct judgment j;

			if (!r.text[i])
				abort();
			memset(&j, 0, sizeof(j));
			if (judge_read_logprobs(r.logprobs[i], scan, &j,
						&err) == 0)
				check_judgment(&j);
			memset(&j, 0, sizeof(j));
			if (judge_read_text(r.text[i], &j, &err) == 0)
				check_judgment(&j);
		}
		chat_reply_release(&r);
	}
	free(body);
	return 0;
}
