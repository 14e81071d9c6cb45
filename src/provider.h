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

#include "util.h"

#define PROVIDER_MAX_CHOICES 8

struct chat_params {
	const char *model;
	json_t *messages;	/* borrowed: [{role, content}...] */
	double temperature;
	double top_p;
	int max_tokens;
	int n;			/* 1 = omit the field */
	bool has_seed;
	uint64_t seed;		/* sent as a non-negative 31-bit integer */
	bool logprobs;
	int top_logprobs;	/* completions: sent as `logprobs`, max 5 */
	int api;		/* enum api_kind (config.h); 0 = chat */
	const char *prompt;	/* completions: raw prompt; NULL = the
				 * messages rendered as "User: ..." turns */
};

struct chat_usage {
	long long prompt_tokens;
	long long completion_tokens;
};

/* a += b. */
void chat_usage_add(struct chat_usage *a, const struct chat_usage *b);

struct chat_reply {
	json_t *root;		/* owned */
	size_t n;		/* choices found */
	const char *text[PROVIDER_MAX_CHOICES];	/* point into root */
	const char *finish[PROVIDER_MAX_CHOICES];
	json_t *logprobs[PROVIDER_MAX_CHOICES];	/* logprobs.content or NULL */
	struct chat_usage usage;
	json_t *extra;		/* owned: text and logprobs converted from
				 * other flavours (flavour.h), or built by
				 * reply_read_chat (reply.h) */
	char *arena;		/* owned: the strings reply_read_chat
				 * decoded; NULL for the jansson readers */
};

/* The JSON body of a chat completion request, compact; caller frees. */
char *provider_chat_body(const struct chat_params *p, size_t *len);
/* Parse a 2xx chat completion body. -1 with err on anything unusable
 * ("reply has no choices", "choices[0].message.content is not a string",
 * "reply is not JSON: ...", "error in reply: ..."). */
int provider_parse_chat(const char *body, struct chat_reply *out,
			struct err *err) __attribute__((warn_unused_result));
void chat_reply_release(struct chat_reply *r);
/* The start every reply parser shares: zero *out, parse body into
 * out->root, and fail ("reply is not JSON: ...", "error in reply: ...")
 * on invalid JSON or a non-null "error" member (a 200 can carry one). */
int provider_reply_open(const char *body, struct chat_reply *out,
			struct err *err) __attribute__((warn_unused_result));
/* provider_reply_open, then the reply's non-empty "choices" array
 * (borrowed from out->root); NULL with err and *out released otherwise. */
json_t *provider_reply_choices(const char *body, struct chat_reply *out,
			       struct err *err);
/* Fill out->usage from the reply's usage.{in_key, out_key}. */
void provider_reply_usage(struct chat_reply *out, const char *in_key,
			  const char *out_key);

/* The request URL for an API flavour: {base}/chat/completions,
 * {base}/completions or {base}/messages. Caller frees. */
char *provider_url(const char *base, int api);
/* The body for p->api (chat, completions or anthropic). Caller frees. */
char *provider_body(const struct chat_params *p, size_t *len);
/* Parse a 2xx body of the given flavour into the common reply: text per
 * choice, logprobs as a chat-style content array (legacy completions
 * logprobs are converted), usage. Same errors as provider_parse_chat.
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
