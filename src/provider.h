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
	int top_logprobs;
};

struct chat_usage {
	long long prompt_tokens;
	long long completion_tokens;
};

struct chat_reply {
	json_t *root;		/* owned */
	size_t n;		/* choices found */
	const char *text[PROVIDER_MAX_CHOICES];	/* point into root */
	const char *finish[PROVIDER_MAX_CHOICES];
	json_t *logprobs[PROVIDER_MAX_CHOICES];	/* logprobs.content or NULL */
	struct chat_usage usage;
};

/* The JSON body of a chat completion request, compact; caller frees. */
char *provider_chat_body(const struct chat_params *p, size_t *len);
/* Parse a 2xx chat completion body. -1 with err on anything unusable
 * ("reply has no choices", "choices[0].message.content is not a string",
 * "reply is not JSON: ...", "error in reply: ..."). */
int provider_parse_chat(const char *body, struct chat_reply *out,
			struct err *err) __attribute__((warn_unused_result));
void chat_reply_release(struct chat_reply *r);
/* "Authorization: Bearer KEY" in a heap string, or NULL when key is NULL.
 * The caller must free it with provider_free_secret (which wipes it). */
char *provider_auth_header(const char *key);
void provider_free_secret(char *s);

#endif
