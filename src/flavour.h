/*
 * flavour.h - the API flavours besides OpenAI chat completions: the legacy
 * `/v1/completions` route (base models) and Anthropic's Messages API.
 *
 * Each flavour has a body builder and a reader that fills the common
 * struct chat_reply (chat.h), so the callers see one shape:
 *
 * - completions: `prompt` is p->prompt, or the messages rendered as
 *   "User: ...\n\nAssistant:" turns; `logprobs` is an integer (top
 *   alternatives per position, at most 5). Replies carry logprobs either in
 *   the legacy shape (`tokens`, `token_logprobs`, `top_logprobs` as a list
 *   of {token: logprob} objects; OpenAI, vLLM) or chat-style
 *   (`logprobs.content[...]`; llama.cpp and Ollama on this route). Legacy
 *   logprobs are converted to the chat-style array, a `null` logprob kept
 *   as null (judge.c reads it as no mass).
 * - anthropic: system messages go to the top-level `system` string; the
 *   rest stay messages (the last may be an assistant turn: a prefill);
 *   `max_tokens` is always sent; no n, seed or logprobs. The reply's text
 *   is the concatenation of its `content[k].text` blocks of type "text";
 *   usage is input_tokens/output_tokens; `{"type": "error", "error":
 *   {...}}` is an error.
 *
 * The reply owns every converted value through reply->extra, and each
 * choice's logprobs (struct chat_logprobs, chat.h) through reply->lp_own.
 * Thread-safety: pure functions of their arguments.
 */
#ifndef CAIGEN_FLAVOUR_H
#define CAIGEN_FLAVOUR_H

#include <jansson.h>

#include "chat.h"
#include "util.h"

char *flavour_completions_body(const struct chat_params *p, size_t *len);
char *flavour_anthropic_body(const struct chat_params *p, size_t *len);
int flavour_parse_completions(const char *body, struct chat_reply *out,
			      struct err *err)
	__attribute__((warn_unused_result));
int flavour_parse_anthropic(const char *body, struct chat_reply *out,
			    struct err *err)
	__attribute__((warn_unused_result));
/* Legacy completions logprobs ({tokens, token_logprobs, top_logprobs})
 * as a chat-style content array [{token, logprob, top_logprobs: [{token,
 * logprob}]}]. New reference; NULL if lp is not of that shape. */
json_t *flavour_legacy_logprobs(json_t *lp);

/* The start every jansson reply reader shares: zero *out, parse body
 * into out->root, and fail ("reply is not JSON: ...", "error in reply:
 * ...") on invalid JSON or a non-null "error" member (a 200 can carry
 * one). */
int flavour_reply_open(const char *body, struct chat_reply *out,
		       struct err *err) __attribute__((warn_unused_result));
/* flavour_reply_open, then the reply's non-empty "choices" array
 * (borrowed from out->root); NULL with err and *out released otherwise. */
json_t *flavour_reply_choices(const char *body, struct chat_reply *out,
			      struct err *err);
/* Fill out->usage from the reply's usage.{in_key, out_key}. */
void flavour_reply_usage(struct chat_reply *out, const char *in_key,
			 const char *out_key);

#endif
