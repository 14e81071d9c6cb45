/* reason.c - failure reasons sorted into kinds, each with its fix. */
#include "reason.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct reason_row {
	const char *name;
	const char *label;
	const char *fix;
};

/* In enum order. Fixes name the config keys (config.h) a user changes. */
static const struct reason_row rows[REASON_COUNT] = {
	[REASON_TRUNCATED] = { "truncated", "answers cut at max_tokens",
		"raise policy.max_tokens, or keep cut answers with "
		"policy.truncated: keep (marked in finish_reasons)" },
	[REASON_IDENTICAL] = { "identical", "the two answers were identical",
		"raise policy.temperature (or use a server that honours "
		"seed); policy.identical: keep keeps such pairs" },
	[REASON_NO_LETTER] = { "no_letter",
		"the judge's reply named neither A nor B",
		"check the judge's API: judge.api (chat for an instruct "
		"model, completions for a base model) and its chat "
		"template; a reasoning model needs a larger "
		"judge.max_tokens or judge.cot: true" },
	[REASON_NO_LOGPROBS] = { "no_logprobs",
		"the judge's server returned no logprobs",
		"use a server that returns logprobs (vLLM, llama.cpp, "
		"OpenAI), or judge by sampled votes: judge.votes: 5" },
	[REASON_KEY] = { "key", "the server refused the key (HTTP 401/403)",
		"check the API key (api_key_env or api_key_file of that "
		"role) and that it may use the model" },
	[REASON_NOT_FOUND] = { "not_found",
		"no such model or route (HTTP 404)",
		"check model (the name the server lists at /v1/models) and "
		"base_url (it ends before /chat/completions, e.g. "
		"http://host:8000/v1)" },
	[REASON_RATE] = { "rate_limited",
		"rate limited after every retry (HTTP 429)",
		"lower concurrency, set requests_per_minute or "
		"tokens_per_minute, or raise max_attempts" },
	[REASON_TOO_LONG] = { "too_long",
		"the request is longer than the model's context (HTTP 400)",
		"lower max_tokens, or drop long prompts (max_line_bytes); "
		"a server with a longer context (vLLM --max-model-len)" },
	[REASON_BAD_REQUEST] = { "bad_request",
		"the server refused the request (HTTP 4xx)",
		"read the server's message in failures.jsonl; check api "
		"(chat, completions, anthropic) and the sampling keys the "
		"server accepts (n, seed, top_logprobs)" },
	[REASON_SERVER] = { "server_error",
		"server errors after every retry (HTTP 5xx)",
		"look at the server's log (out of memory, crashed worker); "
		"lower concurrency or raise max_attempts" },
	[REASON_TIMEOUT] = { "timeout", "no answer within the timeout",
		"raise timeout (seconds per request) or stall_timeout for a "
		"slow model, or lower concurrency" },
	[REASON_UNREACHABLE] = { "unreachable", "the server could not be "
		"reached",
		"is the server up at base_url (curl BASE_URL/models)? check "
		"host, port and scheme" },
	[REASON_BAD_REPLY] = { "bad_reply",
		"replies caigen cannot read (not the API's JSON)",
		"check api (chat, completions, anthropic) matches the "
		"server; a proxy in between may answer with HTML" },
	[REASON_RECORD] = { "record", "the record cannot be written",
		"a value the model returned cannot be stored as JSON: see "
		"the reason in failures.jsonl and report it" },
	[REASON_OTHER] = { "other", "other failures",
		"read the reason of each line in failures.jsonl" },
};

static bool has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

/* The status of the first "HTTP NNN" in s, or 0. */
static int http_status(const char *s)
{
	const char *p = strstr(s, "HTTP ");

	while (p) {
		char *end;
		long v = strtol(p + 5, &end, 10);

		if (end == p + 8 && v >= 100 && v <= 599)
			return (int)v;
		p = strstr(p + 5, "HTTP ");
	}
	return 0;
}

enum reason_kind reason_of(const char *r)
{
	int st;

	if (!r)
		return REASON_OTHER;
	if (!strncmp(r, "truncated", 9))
		return REASON_TRUNCATED;
	if (!strncmp(r, "identical responses", 19))
		return REASON_IDENTICAL;
	if (has(r, "no answer letter") || has(r, "named A or B"))
		return REASON_NO_LETTER;
	if (has(r, "carries no logprobs"))
		return REASON_NO_LOGPROBS;
	if (has(r, "the record cannot be written"))
		return REASON_RECORD;
	st = http_status(r);
	if (st == 401 || st == 403)
		return REASON_KEY;
	if (st == 404)
		return REASON_NOT_FOUND;
	if (st == 429)
		return REASON_RATE;
	if ((st == 400 || st == 413) &&
	    (has(r, "context") || has(r, "too long") ||
	     has(r, "maximum") || has(r, "too large")))
		return REASON_TOO_LONG;
	if (st >= 500)
		return REASON_SERVER;
	if (st >= 400)
		return REASON_BAD_REQUEST;
	if (has(r, "timed out") || has(r, "too slow") || has(r, "Timeout"))
		return REASON_TIMEOUT;
	if (has(r, "cannot reach"))
		return REASON_UNREACHABLE;
	if (has(r, "reply is not JSON") || has(r, "reply has no choices") ||
	    has(r, "error in reply") || has(r, "message.content") ||
	    has(r, "has no text") || has(r, "is larger than"))
		return REASON_BAD_REPLY;
	return REASON_OTHER;
}

static const struct reason_row *row(enum reason_kind k)
{
	return &rows[(unsigned)k < REASON_COUNT ? k : REASON_OTHER];
}

const char *reason_name(enum reason_kind k)
{
	return row(k)->name;
}

const char *reason_label(enum reason_kind k)
{
	return row(k)->label;
}

const char *reason_fix(enum reason_kind k)
{
	return row(k)->fix;
}

void reason_print_table(FILE *f)
{
	for (int k = 0; k < REASON_COUNT; k++)
		fprintf(f, "%s: %s: %s\n", rows[k].name, rows[k].label,
			rows[k].fix);
}
