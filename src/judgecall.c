/* judgecall.c - one pair judged in both orders; the preference record. */
#include "judgecall.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum method { M_LOGPROBS, M_TEXT, M_VOTES };

/* Appended to the comparison prompt for the rationale call. */
static const char cot_ask[] =
	"\n\nDo not give the letter yet. First reason it through step by "
	"step: say briefly how each reply measures up to the principle, "
	"then stop.";
/* The user turn after the rationale (chat and Anthropic). */
static const char letter_ask[] =
	"Given that reasoning, which reply is better under the principle? "
	"Answer with a single letter, A or B.";
/* Completion models: the text after the rationale, ending right before
 * the letter. */
static const char letter_tail[] = "\n\nThe answer is: (";

bool judgecall_clamp(const struct config *cfg, double *lo, double *hi)
{
	if (cfg->clamp.mode == CLAMP_ON) {
		*lo = cfg->clamp.lo;
		*hi = cfg->clamp.hi;
		return true;
	}
	if (cfg->clamp.mode == CLAMP_AUTO && cfg->cot) {
		*lo = 0.4;
		*hi = 0.6;
		return true;
	}
	return false;
}

static void usage_add(struct chat_usage *a, const struct chat_usage *b)
{
	a->prompt_tokens += b->prompt_tokens;
	a->completion_tokens += b->completion_tokens;
}

static enum method method_for(const struct llm *l, const struct config *cfg,
			      struct judge_shared *sh)
{
	if (l->api == API_ANTHROPIC || atomic_load(&sh->no_logprobs))
		return cfg->votes > 0 ? M_VOTES : M_TEXT;
	return M_LOGPROBS;
}

/* What one judge request says: a conversation (chat, anthropic) or a
 * raw prompt (completions). */
struct ask {
	json_t *msgs;		/* owned */
	char *prompt;		/* owned, completions only */
};

static void ask_release(struct ask *a)
{
	json_decref(a->msgs);
	free(a->prompt);
	a->msgs = NULL;
	a->prompt = NULL;
}

static void push(json_t *msgs, const char *role, const char *text)
{
	json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", role,
					      "content", text));
}

/* One call; the reply's first text is copied to *text, and *cut says
 * whether max_tokens cut it (cut may be NULL). */
static int call_text(const struct llm *l, struct chat_params *cp,
		     const struct ask *a, char **text, bool *cut,
		     struct chat_usage *usage, struct err *err)
{
	struct chat_reply r;

	cp->messages = a->msgs;
	cp->prompt = a->prompt;
	if (l->call(l->ctx, cp, &r, err) < 0)
		return -1;
	usage_add(usage, &r.usage);
	*text = xstrdup(r.text[0] ? r.text[0] : "");
	if (cut)
		*cut = guard_is_cut(r.finish[0]);
	chat_reply_release(&r);
	return 0;
}

static void warn_refused(struct judge_shared *sh, const struct config *cfg,
			 bool silent)
{
	if (atomic_exchange(&sh->no_logprobs, 1) == 0)
		fprintf(stderr, "caigen: the judge %s; reading the answer %s "
			"from now on\n", silent ? "endpoint returned a reply "
			"without the logprobs asked for" : "model refuses "
			"logprobs", cfg->votes > 0 ?
			"by votes of sampled replies" : "from the reply text");
}

/* A 2xx whose choice has no logprobs although they were asked for. */
static bool lacks_logprobs(const struct chat_reply *r)
{
	return r->n == 0 || !r->logprobs[0] ||
	       json_array_size(r->logprobs[0]) == 0;
}

/* Read the letter for one order by the endpoint's method. `a` is the
 * request without any prefill; Anthropic gets one here. */
static int read_letter(const struct llm *l, const struct config *cfg,
		       struct judge_shared *sh, const char *id,
		       struct ask *a, struct judgment *j,
		       struct chat_usage *usage, struct err *err)
{
	struct chat_params cp = {
		.model = cfg->judge.model,
		.temperature = cfg->judge.temperature,
		.top_p = cfg->judge.top_p,
		.max_tokens = cfg->judge.max_tokens,
		.n = 1,
		.has_seed = true,
		.seed = rng_u64(cfg->seed, id, "judge", (uint64_t)j->order),
	};
	enum method m = method_for(l, cfg, sh);
	struct chat_reply r;
	char *text = NULL;
	int rc = -1;

	if (l->api == API_ANTHROPIC)
		push(a->msgs, "assistant", "(");
	if (m == M_LOGPROBS) {
		cp.logprobs = true;
		cp.top_logprobs = cfg->top_logprobs;
		cp.messages = a->msgs;
		cp.prompt = a->prompt;
		if (l->call(l->ctx, &cp, &r, err) == 0) {
			usage_add(usage, &r.usage);
			if (!lacks_logprobs(&r)) {
				rc = judge_read_logprobs(r.logprobs[0],
							 cfg->scan_positions,
							 j, err);
				chat_reply_release(&r);
				return rc;
			}
			chat_reply_release(&r);
			if (sh->counts)
				atomic_fetch_add(&sh->counts->
						 nologprobs_fallbacks, 1);
			warn_refused(sh, cfg, true);
		} else if (provider_refuses_logprobs(err->msg)) {
			warn_refused(sh, cfg, false);
		} else {
			return -1;
		}
		m = cfg->votes > 0 ? M_VOTES : M_TEXT;
		cp.logprobs = false;
		cp.top_logprobs = 0;
	}
	/* room for a reasoning model's hidden tokens or a short preamble */
	if (cp.max_tokens < 16)
		cp.max_tokens = 16;
	if (m == M_TEXT) {
		if (call_text(l, &cp, a, &text, NULL, usage, err) < 0)
			return -1;
		rc = judge_read_text(text, j, err);
		free(text);
		return rc;
	}
	j->votes_a = j->votes_b = 0;
	j->votes_k = cfg->votes;
	cp.temperature = 1.0;
	for (int k = 0; k < cfg->votes; k++) {
		struct judgment one = { 0 };
		struct err ignore;

		cp.seed = rng_u64(cfg->seed, id, "vote",
				  (uint64_t)j->order * 256 + (uint64_t)k);
		if (call_text(l, &cp, a, &text, NULL, usage, err) < 0)
			return -1;
		if (judge_read_text(text, &one, &ignore) == 0) {
			j->votes_a += one.p_a > 0.5;
			j->votes_b += one.p_a <= 0.5;
		}
		free(text);
	}
	if (j->votes_a + j->votes_b == 0)
		return err_set(err, "none of %d sampled judge replies named "
			       "A or B", cfg->votes);
	j->p_a = (double)j->votes_a / (j->votes_a + j->votes_b);
	j->mass_a = j->mass_b = 0;
	j->other_mass = 1.0 - (double)(j->votes_a + j->votes_b) / cfg->votes;
	j->position = 0;
	j->method = "votes";
	return 0;
}

/* The request for one order, with the rationale step when asked. */
static int judge_order(const struct llm *l, const struct config *cfg,
		       const struct constitution *con,
		       struct judge_shared *sh, const char *id,
		       const char *conv, const struct principle *pr,
		       const char *ra, const char *rb, struct judgment *j,
		       bool *cut, struct chat_usage *usage, struct err *err)
{
	const char *sys = constitution_template(con, TPL_COMPARE_SYSTEM);
	char *user = judge_render(constitution_template(con, TPL_COMPARE),
				  conv, pr->compare, ra, rb, cfg->seed, id);
	struct ask a = { NULL, NULL };
	int rc = -1;

	j->rationale = NULL;
	if (cfg->cot) {
		char *u = xasprintf("%s%s", user, cot_ask);
		struct chat_params cp = {
			.model = cfg->judge.model,
			.temperature = 0,	/* greedy, as in RLAIF */
			.top_p = 1,
			.max_tokens = cfg->cot_max_tokens,
			.n = 1,
			.has_seed = true,
			.seed = rng_u64(cfg->seed, id, "judge-cot",
					(uint64_t)j->order),
		};

		free(user);
		user = u;
		if (l->api == API_COMPLETIONS)
			a.prompt = xasprintf("%s\n\n%s\n\nReasoning:", sys,
					     user);
		else
			a.msgs = json_pack("[{s:s,s:s},{s:s,s:s}]", "role",
					   "system", "content", sys, "role",
					   "user", "content", user);
		if (call_text(l, &cp, &a, &j->rationale, cut, usage,
			      err) < 0)
			goto out;
		if (*cut && sh->counts)
			atomic_fetch_add(&sh->counts->rationale_cut, 1);
		if (a.prompt) {
			char *p = xasprintf("%s %s%s", a.prompt, j->rationale,
					    letter_tail);

			free(a.prompt);
			a.prompt = p;
		} else {
			push(a.msgs, "assistant", j->rationale);
			push(a.msgs, "user", letter_ask);
		}
	} else if (l->api == API_COMPLETIONS) {
		a.prompt = xasprintf("%s\n\n%s (", sys, user);
	} else {
		a.msgs = json_pack("[{s:s,s:s},{s:s,s:s}]", "role", "system",
				   "content", sys, "role", "user", "content",
				   user);
	}
	rc = read_letter(l, cfg, sh, id, &a, j, usage, err);
out:
	ask_release(&a);
	free(user);
	return rc;
}

int judgecall_pair(const struct llm *l, const struct config *cfg,
		   const struct constitution *con, struct judge_shared *sh,
		   const char *id, json_t *messages, const char *r0,
		   const char *r1, struct pair_label *out, struct err *err)
{
	char *conv = judge_conversation(messages);
	const char *resp[2] = { r0, r1 };
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->nj = cfg->both_orders ? 2 : 1;
	out->pr = constitution_draw(con, STAGE_COMPARE,
				    rng_unit(cfg->seed, id, "principle", 0));
	out->j[0].order = ORDER_AB;
	out->j[1].order = ORDER_BA;
	if (out->nj == 1 && rng_unit(cfg->seed, id, "order", 0) >= 0.5)
		out->j[0].order = ORDER_BA;
	for (int i = 0; i < out->nj && rc == 0; i++) {
		int swap = out->j[i].order == ORDER_BA;

		rc = judge_order(l, cfg, con, sh, id, conv, out->pr,
				 resp[swap], resp[!swap], &out->j[i],
				 &out->rationale_cut[i], &out->usage, err);
	}
	free(conv);
	if (rc < 0) {
		pair_label_release(out);
		return -1;
	}
	out->p_raw = judge_combine(out->j, out->nj);
	out->p = out->p_raw;
	out->clamped = judgecall_clamp(cfg, &out->lo, &out->hi);
	if (out->clamped)
		out->p = judge_clamp(out->p_raw, out->lo, out->hi);
	return 0;
}

void pair_label_release(struct pair_label *lb)
{
	for (int i = 0; i < 2; i++) {
		free(lb->j[i].rationale);
		lb->j[i].rationale = NULL;
	}
}

/* ---- the record ----------------------------------------------------- */

static json_t *lp_json(double mass)
{
	return mass > 0 ? json_real(log(mass)) : json_null();
}

static json_t *as_turn(const struct prompt *pr, const char *text)
{
	if (pr->text)
		return json_string(text);
	return json_pack("[{s:s,s:s}]", "role", "assistant", "content", text);
}

static json_t *judgment_json(const struct judgment *j, bool cut)
{
	json_t *x = json_object();

	json_object_set_new(x, "order", json_string(
		j->order == ORDER_AB ? "AB" : "BA"));
	json_object_set_new(x, "p_a", json_real(j->p_a));
	json_object_set_new(x, "lp_a", lp_json(j->mass_a));
	json_object_set_new(x, "lp_b", lp_json(j->mass_b));
	json_object_set_new(x, "other_mass", json_real(j->other_mass));
	json_object_set_new(x, "position", json_integer(j->position));
	json_object_set_new(x, "method", json_string(j->method));
	json_object_set_new(x, "rationale", j->rationale ?
			    json_string(j->rationale) : json_null());
	if (j->rationale)
		json_object_set_new(x, "rationale_truncated",
				    json_boolean(cut));
	if (!strcmp(j->method, "votes"))
		json_object_set_new(x, "votes", json_pack("{s:i,s:i,s:i}",
			"A", j->votes_a, "B", j->votes_b, "k", j->votes_k));
	return x;
}

char *judgecall_record(const struct config *cfg, const struct prompt *pr,
		       const char *r0, const char *r1,
		       const char *const finish[2],
		       const struct pair_label *lb,
		       const struct chat_usage *usage)
{
	const char *resp[2] = { r0, r1 };
	int ci = lb->p >= 0.5 ? 0 : 1;
	json_t *o = json_object(), *js = json_array(), *tags = json_array();
	char *s;

	for (int i = 0; i < lb->nj; i++)
		json_array_append_new(js, judgment_json(&lb->j[i],
							lb->rationale_cut[i]));
	for (size_t t = 0; t < lb->pr->ntags; t++)
		json_array_append_new(tags, json_string(lb->pr->tags[t]));

	json_object_set_new(o, "schema", json_string("caigen.preference/1"));
	json_object_set_new(o, "id", json_string(pr->id));
	json_object_set_new(o, "index", json_integer((json_int_t)pr->index));
	json_object_set_new(o, "prompt", pr->text ? json_string(pr->text) :
			    json_deep_copy(pr->messages));
	json_object_set_new(o, "chosen", as_turn(pr, resp[ci]));
	json_object_set_new(o, "rejected", as_turn(pr, resp[1 - ci]));
	json_object_set_new(o, "margin", json_real(fabs(lb->p - 0.5)));
	json_object_set_new(o, "responses", json_pack("[ss]", r0, r1));
	json_object_set_new(o, "finish_reasons", json_pack("[oo]",
		finish && finish[0] ? json_string(finish[0]) : json_null(),
		finish && finish[1] ? json_string(finish[1]) : json_null()));
	json_object_set_new(o, "chosen_index", json_integer(ci));
	json_object_set_new(o, "p", json_real(lb->p));
	json_object_set_new(o, "p_raw", json_real(lb->p_raw));
	json_object_set_new(o, "clamp", lb->clamped ?
			    json_pack("[ff]", lb->lo, lb->hi) : json_null());
	json_object_set_new(o, "principle", json_pack("{s:s,s:s,s:o}",
		"id", lb->pr->id, "constitution", lb->pr->source,
		"tags", tags));
	json_object_set_new(o, "judgments", js);
	json_object_set_new(o, "models", json_pack("{s:s,s:s}",
		"policy", cfg->policy.model, "judge", cfg->judge.model));
	json_object_set_new(o, "usage", json_pack("{s:I,s:I}",
		"prompt_tokens", (json_int_t)usage->prompt_tokens,
		"completion_tokens", (json_int_t)usage->completion_tokens));
	json_object_set_new(o, "seed", config_ull_json(cfg->seed));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(8));
	json_decref(o);
	return s;
}
