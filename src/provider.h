/*
 * provider.h - request bodies and response parsing per API flavour.
 *
 * Today: OpenAI-compatible chat completions (OpenAI, vLLM, llama.cpp,
 * Ollama, TGI). The parsed result keeps the jansson tree alive and points
 * into it, so nothing is copied until the caller wants to keep it.
 *
 * Parsing is defensive, per the servers' real behaviour: a missing
 * `logprobs` key is the same as null, unknown keys are ignored, and an error
 * object inside a 200 reply is an error.
 */
#ifndef CAIGEN_PROVIDER_H
#define CAIGEN_PROVIDER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chat.h"
#include "util.h"

/* The JSON body of a chat completion request, compact; caller frees. */
char *provider_chat_body(const struct chat_params *p, size_t *len);
/* Parse a 2xx chat completion body. -1 with err on anything unusable
 * ("reply has no choices", "choices[0].message.content is not a string",
 * "reply is not JSON: ...", "error in reply: ..."). */
int provider_parse_chat(const char *body, struct chat_reply *out,
			struct err *err) __attribute__((warn_unused_result));
/* The request URL for an API flavour: {base}/chat/completions,
 * {base}/completions or {base}/messages. Caller frees. */
char *provider_url(const char *base, int api);
/* The body for p->api (chat, completions or anthropic). Caller frees. */
char *provider_body(const struct chat_params *p, size_t *len);
/* Parse a 2xx body of the given flavour into the common reply: text per
 * choice, logprobs as a chat-style content list (struct chat_logprobs;
 * legacy completions logprobs are converted), usage. Same errors as provider_parse_chat.
 * Chat replies go through reply_read_chat (reply.h), which builds
 * logprobs only with want_logprobs (pass the request's cp.logprobs);
 * without it logprobs[i] is NULL for chat. The other flavours ignore it. */
int provider_parse(int api, const char *body, bool want_logprobs,
		   struct chat_reply *out, struct err *err)
	__attribute__((warn_unused_result));
/* The key header of a flavour ("x-api-key: KEY" for anthropic, else the
 * Bearer line), or NULL without a key; free with provider_free_secret. */
char *provider_key_header(int api, const char *key);
/* A fixed header the flavour needs ("anthropic-version: 2023-06-01"), or
 * NULL. Static string. */
const char *provider_fixed_header(int api);
/* Does a failed request's error say the model refuses logprobs (OpenAI
 * reasoning models: 403 "not allowed to request logprobs", 400 "logprobs
 * are not supported with reasoning models")? */
bool provider_refuses_logprobs(const char *msg);
/* "Authorization: Bearer KEY" in a heap string, or NULL when key is NULL.
 * The caller must free it with provider_free_secret (which wipes it). */
char *provider_auth_header(const char *key);
void provider_free_secret(char *s);

#endif
