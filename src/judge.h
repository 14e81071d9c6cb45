/*
 * judge.h - the comparison prompt, reading the answer letter, soft labels.
 *
 * Prompt safety: the conversation and the two replies are put into the
 * template inside fences that carry a tag,
 *
 *     <<<reply A [3f9c2e1d]>>>
 *     ...reply text...
 *     <<<end of reply A [3f9c2e1d]>>>
 *
 * where the tag is drawn from the keyed generator and redrawn until it
 * occurs in none of the texts. A reply therefore cannot close its own
 * block, open the other one, or fake the options or the final question:
 * whatever it writes lacks the tag.
 *
 * Reading the letter (METHOD.md §4): within the first `scan` generated
 * positions, the first one whose token is a letter, else the first one
 * where A or B appear among the top logprobs. Token variants are summed
 * ("A", " A", "(A", "**A", "▁A", Cyrillic and full-width A), duplicates
 * (vLLM lists the sampled token twice) counted once, sentinels (-9999,
 * -3.4e38, null) read as zero mass. The two masses are renormalised;
 * what was neither A nor B is kept as other_mass.
 */
#ifndef CAIGEN_JUDGE_H
#define CAIGEN_JUDGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "chat.h"
#include "util.h"

enum judge_order { ORDER_AB = 0, ORDER_BA = 1 };

struct judgment {
	enum judge_order order;
	double p_a;		/* P(slot A better) */
	double mass_a, mass_b;	/* summed probabilities; 0 = not listed */
	double other_mass;
	int position;		/* generated position the letter was read at */
	const char *method;	/* "logprobs", "text" or "votes" (static) */
	char *rationale;	/* owned: chain-of-thought text, or NULL */
	int votes_a, votes_b, votes_k;	/* method "votes" */
};

/*
 * Read the answer letter from reply text (judges without logprobs): the
 * first of the first 8 white-space separated words that is a letter once
 * wrapping characters are stripped ("A", "(A)", "**B**", "A)" after a "("
 * prefill). p_a is 1 or 0, method "text". -1 with err when none is.
 */
int judge_read_text(const char *text, struct judgment *j, struct err *err)
	__attribute__((warn_unused_result));

/* p clamped to [lo, hi]. */
double judge_clamp(double p, double lo, double hi);

/* Render a conversation ([{role, content}...]) as plain turns:
 * "User: ...\n\nAssistant: ...". Caller frees. */
char *judge_conversation(json_t *messages);

/*
 * Fill the compare template. {conversation}, {a} and {b} become fenced
 * blocks, {principle} the principle text, "{{"/"}}" literal braces.
 * The tag comes from rng (seed, id, "fence", k) for k = 0, 1, ... until it
 * is absent from all inputs. Caller frees.
 */
char *judge_render(const char *tpl, const char *conversation,
		   const char *principle, const char *a, const char *b,
		   uint64_t seed, const char *id);

/*
 * Read the answer letter from a chat reply's logprobs.content (chat.h;
 * NULL or no positions: no logprobs).
 * 0 on success; -1 with err when no position carries A or B (e.g.
 * "no answer letter in the first 4 positions (first token 'The')").
 */
int judge_read_logprobs(const struct chat_logprobs *content, int scan,
			struct judgment *j, struct err *err)
	__attribute__((warn_unused_result));

/* Which letter a token stands for: 'A', 'B', 0 for a token that can come
 * before the letter (space, "(", "**"...), or -1 for anything else. */
int judge_token_letter(const char *tok);

/* P(first response better) from the judgments: with both orders,
 * (p_a(AB) + 1 - p_a(BA)) / 2; with one, that order's view of it. */
double judge_combine(const struct judgment *j, int n);

#endif
