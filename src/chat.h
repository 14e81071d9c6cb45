/*
 * chat.h - what one model call carries, apart from how it goes over the
 * wire: the parameters a machine asks with (struct chat_params), the
 * reply it gets (struct chat_reply: texts, finish reasons, logprobs per
 * choice) and the tokens it cost (struct chat_usage).
 *
 * The item machines (sampler.h, critique.h, judgecall.h, ranking.h) and
 * the executors' struct call (call.h) depend on these types only; the
 * wire (provider.h, flavour.h, reply.h) builds bodies from them and
 * fills replies, so nothing above the wire includes it for the types.
 *
 * Ownership: a chat_reply owns its jansson tree, its converted values
 * (extra) and its decoded strings (arena); chat_reply_release frees them.
 * Thread-safety: plain data.
 */
#ifndef CAIGEN_CHAT_H
#define CAIGEN_CHAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

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

void chat_reply_release(struct chat_reply *r);

#endif
