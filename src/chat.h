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
 * (extra), its decoded strings and logprobs (arena) and, for the jansson
 * readers, one logprobs block a choice (lp_own); chat_reply_release frees
 * them.
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

/*
 * One logprobs position of a choice (a chat reply's
 * choices[i].logprobs.content[k]) or one of its candidates (top[j]), with
 * only what the judge reads. token: the "token" member when a string
 * (NUL-terminated, token_len bytes; no NUL inside, as JSON text cannot
 * carry one), else NULL. has_logprob: "logprob" is a number, its value
 * in logprob (an integer converted as jansson's json_number_value does).
 * top: a position's "top_logprobs" when an array (ntop entries; 0 and
 * NULL otherwise); a candidate has none. An element that is not an
 * object is an entry with neither token nor logprob.
 */
struct chat_logprob {
	const char *token;
	size_t token_len;
	double logprob;
	bool has_logprob;
	size_t ntop;
	const struct chat_logprob *top;
};

/* A choice's logprobs.content: n positions. */
struct chat_logprobs {
	size_t n;
	const struct chat_logprob *pos;
};

/*
 * The jansson array content (positions as above) as one malloc'ed block:
 * the struct, its positions and candidates. Tokens point into content,
 * which must outlive the block. NULL when content is not an array. Free
 * with free(). For the jansson readers (provider_parse_chat, flavour.c)
 * and tests.
 */
struct chat_logprobs *chat_logprobs_of_json(json_t *content);

struct chat_reply {
	json_t *root;		/* owned */
	size_t n;		/* choices found */
	const char *text[PROVIDER_MAX_CHOICES];	/* point into root */
	const char *finish[PROVIDER_MAX_CHOICES];
	/* logprobs.content or NULL; in arena, or in lp_own */
	const struct chat_logprobs *logprobs[PROVIDER_MAX_CHOICES];
	struct chat_logprobs *lp_own[PROVIDER_MAX_CHOICES];	/* owned */
	struct chat_usage usage;
	json_t *extra;		/* owned: text and logprobs converted from
				 * other flavours (flavour.h), or built by
				 * reply_read_chat (reply.h) */
	char *arena;		/* owned: the strings and logprobs
				 * reply_read_chat decoded; NULL for the
				 * jansson readers */
};

void chat_reply_release(struct chat_reply *r);

#endif
