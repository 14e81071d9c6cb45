/*
 * reply.h - a hand-written reader for the 2xx body of an OpenAI-compatible
 * chat completion (OpenAI, vLLM, llama.cpp, Ollama, TGI).
 *
 * It fills struct chat_reply (chat.h) with exactly what
 * provider_parse_chat would, and refuses exactly the bodies that one
 * refuses, without building a jansson tree: one pass checks the whole body
 * by jansson's rules (json_loads with flags 0) and notes where the few
 * values it needs are, then only those are decoded. What "exactly" covers:
 *   - invalid JSON per jansson: a root that is not an object or array,
 *     anything after the root, \u0000, invalid UTF-8, a lone surrogate,
 *     an integer outside long long, a real that overflows a double,
 *     nesting deeper than JSON_PARSER_MAX_DEPTH. Only here the wording of
 *     the error differs ("reply is not JSON: ... at byte N");
 *   - a duplicate key: the last one wins, as in a jansson object;
 *   - a non-null "error" member: "error in reply: <message>";
 *   - no or empty "choices": "reply has no choices";
 *   - among the first PROVIDER_MAX_CHOICES choices, a message.content that
 *     is not a string: "choices[i].message.content is not a string";
 *   - usage.prompt_tokens / completion_tokens: 0 unless an integer.
 *
 * Logprobs: with want_logprobs, logprobs[i] is choices[i].logprobs.content
 * as struct chat_logprobs (chat.h; NULL where the jansson reader gives
 * NULL), holding what chat_logprobs_of_json takes from jansson's tree:
 * each position's "token" (when a string), "logprob" (when a number) and
 * "top_logprobs" (when an array, of candidates on the same rule); an
 * element that is not an object is an entry with neither. Without
 * want_logprobs every logprobs[i] is NULL, as if the server sent none.
 */
#ifndef CAIGEN_REPLY_H
#define CAIGEN_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "chat.h"
#include "util.h"

/*
 * Read the len bytes at body (no terminating NUL needed; a NUL byte
 * inside is invalid JSON, as it is to json_loadb). On success 0 and *out
 * owns everything it points to: the strings and the logprobs live in
 * out->arena (one allocation), out->root and out->extra are NULL; free with
 * chat_reply_release. On failure -1 with err filled and *out zeroed (safe
 * to release). Thread-safe: no shared state.
 */
int reply_read_chat(const char *body, size_t len, bool want_logprobs,
		    struct chat_reply *out, struct err *err)
	__attribute__((warn_unused_result));

/*
 * Do a and b carry the same reply: n, text[i], finish[i], usage and, when
 * logprobs is set, logprobs[i] as judge_read_logprobs reads them (array
 * size; each position's token string, logprob number to the bit, and its
 * top_logprobs the same way)? false with the first difference in why
 * (may be NULL). For the tests that hold reply_read_chat to
 * provider_parse_chat.
 */
bool reply_same(const struct chat_reply *a, const struct chat_reply *b,
		bool logprobs, struct err *why);

#endif
