/* critique.c - the critique/revision rounds and their record. */
#include "critique.h"
#include "buf.h"
#include "guard.h"
#include "judge.h"
#include "rng.h"

#include <stdlib.h>
#include <string.h>

#define MAX_TEXT (64u << 20)

static void push(json_t *msgs, const char *role, const char *text)
{
	json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", role,
					      "content", text));
}

json_t *critique_fewshot_messages(const struct constitution *con)
{
	json_t *m = json_array();

	for (size_t i = 0; i < con->nfewshot; i++) {
		const struct fewshot *s = &con->fewshot[i];

		push(m, "user", s->prompt);
		push(m, "assistant", s->answer);
		push(m, "user", s->critique_request);
		push(m, "assistant", s->critique);
		push(m, "user", s->revision_request);
		push(m, "assistant", s->revision);
	}
	return m;
}

char *critique_render(const char *tpl, const char *principle,
		      const char *conversation)
{
	struct buf b;

	buf_init(&b, MAX_TEXT);
	for (const char *p = tpl; *p; p++) {
		int rc;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			rc = buf_add(&b, p++, 1);
		} else if (!strncmp(p, "{principle}", 11)) {
			rc = buf_addstr(&b, principle);
			p += 10;
		} else if (!strncmp(p, "{conversation}", 14)) {
			rc = buf_addstr(&b, conversation);
			p += 13;
		} else {
			rc = buf_add(&b, p, 1);
		}
		if (rc < 0)
			break;	/* over 64 MiB: keep what fits */
	}
	return buf_detach(&b);
}

/* What the model sees: the prompt's leading system turns, the few-shot
 * dialogues, then the rest of the chat. New reference. */
static json_t *with_fewshot(json_t *chat, json_t *fewshot)
{
	json_t *all = json_array(), *m;
	size_t i, lead = 0;

	json_array_foreach(chat, i, m) {
		const char *r = json_string_value(json_object_get(m, "role"));

		if (!r || strcmp(r, "system"))
			break;
		lead = i + 1;
	}
	json_array_foreach(chat, i, m) {
		if (i == lead)
			json_array_extend(all, fewshot);
		json_array_append(all, m);
	}
	if (lead >= json_array_size(chat))
		json_array_extend(all, fewshot);
	return all;
}

/* One policy call on the chat so far, again while policy.truncated says
 * so; the answer is appended to chat and returned (pointing into chat),
 * its finish reason copied to *finish. */
static const char *ask(const struct llm *l, const struct config *cfg,
		       const struct prompt *pr, json_t *chat, json_t *fewshot,
		       uint64_t call, struct critique_chain *c, char **finish,
		       struct err *err)
{
	json_t *msgs = with_fewshot(chat, fewshot);
	struct chat_params cp = {
		.model = cfg->policy.model,
		.messages = msgs,
		.temperature = cfg->policy.temperature,
		.top_p = cfg->policy.top_p,
		.max_tokens = cfg->policy.max_tokens,
		.n = 1,
		.has_seed = true,
		.seed = rng_u64(cfg->seed, pr->id, "critique-call", call),
	};
	struct chat_reply r;
	int rc, tries = 0;
	enum guard_verdict v = GUARD_ACCEPT;

	for (;;) {
		rc = l->call(l->ctx, &cp, &r, err);
		if (rc < 0)
			break;
		c->usage.prompt_tokens += r.usage.prompt_tokens;
		c->usage.completion_tokens += r.usage.completion_tokens;
		v = guard_cut_verdict(cfg->truncated,
				      guard_is_cut(r.finish[0]), tries);
		if (v != GUARD_RETRY)
			break;
		chat_reply_release(&r);
		c->cut_retries++;
		cp.seed = guard_seed(cfg->seed, pr->id, "critique-call",
				     call);
		tries++;
	}
	json_decref(msgs);
	if (rc < 0)
		return NULL;
	if (v == GUARD_REJECT) {
		chat_reply_release(&r);
		c->cut_failed = true;
		err_set(err, "truncated");
		return NULL;
	}
	c->cut_kept += v == GUARD_KEEP_CUT;
	*finish = r.finish[0] ? xstrdup(r.finish[0]) : NULL;
	push(chat, "assistant", r.text[0] ? r.text[0] : "");
	chat_reply_release(&r);
	return json_string_value(json_object_get(
		json_array_get(chat, json_array_size(chat) - 1), "content"));
}

/* The request for a round's step, appended to chat as a user turn. */
static char *request(const struct constitution *con, enum template_kind k,
		     const char *principle, json_t *chat)
{
	char *conv = judge_conversation(chat);
	char *s = critique_render(constitution_template(con, k), principle,
				  conv);

	free(conv);
	push(chat, "user", s);
	return s;
}

int critique_run(const struct llm *l, const struct config *cfg,
		 const struct constitution *con, const struct prompt *pr,
		 struct critique_chain *out, struct err *err)
{
	json_t *fewshot = critique_fewshot_messages(con);
	const char *t;
	uint64_t call = 0;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->messages = json_deep_copy(pr->messages);
	out->rounds = xcalloc((size_t)cfg->rounds, sizeof(*out->rounds));
	out->finish = xcalloc(1 + 2 * (size_t)cfg->rounds,
			      sizeof(*out->finish));
	t = ask(l, cfg, pr, out->messages, fewshot, call, out,
		&out->finish[call], err);
	call++;
	if (!t)
		goto out;
	out->initial = xstrdup(t);
	for (int k = 0; k < cfg->rounds; k++) {
		struct critique_round *r = &out->rounds[k];

		r->pr = constitution_draw(con, STAGE_CRITIQUE, rng_unit(
			cfg->seed, pr->id, "critique-principle",
			(uint64_t)k));
		out->nrounds = k + 1;
		r->critique_request = request(con, TPL_CRITIQUE,
					      r->pr->critique, out->messages);
		t = ask(l, cfg, pr, out->messages, fewshot, call, out,
			&out->finish[call], err);
		call++;
		if (!t)
			goto out;
		r->critique = xstrdup(t);
		r->revision_request = request(con, TPL_REVISE, r->pr->revise,
					      out->messages);
		t = ask(l, cfg, pr, out->messages, fewshot, call, out,
			&out->finish[call], err);
		call++;
		if (!t)
			goto out;
		r->revision = xstrdup(t);
	}
	rc = 0;
out:
	json_decref(fewshot);
	if (rc < 0) {
		/* the caller counts what the guard did even on failure */
		int retries = out->cut_retries, kept = out->cut_kept;
		bool cut = out->cut_failed;

		critique_chain_release(out);
		out->cut_retries = retries;
		out->cut_kept = kept;
		out->cut_failed = cut;
	}
	return rc;
}

void critique_chain_release(struct critique_chain *c)
{
	for (int k = 0; k < c->nrounds; k++) {
		free(c->rounds[k].critique_request);
		free(c->rounds[k].critique);
		free(c->rounds[k].revision_request);
		free(c->rounds[k].revision);
	}
	for (int i = 0; c->finish && i < 1 + 2 * c->nrounds; i++)
		free(c->finish[i]);
	free(c->finish);
	free(c->rounds);
	free(c->initial);
	json_decref(c->messages);
	memset(c, 0, sizeof(*c));
}

/* ---- the record ----------------------------------------------------- */

static json_t *principle_json(const struct principle *p)
{
	json_t *tags = json_array();

	for (size_t t = 0; t < p->ntags; t++)
		json_array_append_new(tags, json_string(p->tags[t]));
	return json_pack("{s:s,s:s,s:o}", "id", p->id, "constitution",
			 p->source, "tags", tags);
}

const char *critique_finish(const struct critique_chain *c, int i)
{
	return c->finish && i >= 0 && i < 1 + 2 * c->nrounds ? c->finish[i] :
								NULL;
}

static json_t *finish_json(const char *f)
{
	return f ? json_string(f) : json_null();
}

/* The prompt's turns followed by one assistant turn. New reference. */
static json_t *turns_plus(json_t *prompt_msgs, const char *answer)
{
	json_t *m = json_deep_copy(prompt_msgs);

	push(m, "assistant", answer);
	return m;
}

/* The text of the prompt's last user turn (HF `init_prompt`). */
static const char *last_user(json_t *msgs)
{
	const char *t = "";
	size_t i;
	json_t *m;

	json_array_foreach(msgs, i, m) {
		const char *r = json_string_value(json_object_get(m, "role"));
		const char *c = json_string_value(json_object_get(m,
								  "content"));

		if (r && !strcmp(r, "user") && c)
			t = c;
	}
	return t;
}

char *critique_record(const struct config *cfg, const struct prompt *pr,
		      const struct critique_chain *c)
{
	const struct critique_round *last = &c->rounds[c->nrounds - 1];
	json_t *o = json_object(), *rounds = json_array();
	char *s;

	for (int k = 0; k < c->nrounds; k++) {
		const struct critique_round *r = &c->rounds[k];

		json_array_append_new(rounds, json_pack(
			"{s:o,s:s,s:s,s:s,s:s,s:o,s:o}",
			"principle", principle_json(r->pr),
			"critique_request", r->critique_request,
			"critique", r->critique,
			"revision_request", r->revision_request,
			"revision", r->revision,
			"critique_finish", finish_json(
				critique_finish(c, 2 * k + 1)),
			"revision_finish", finish_json(
				critique_finish(c, 2 * k + 2))));
	}
	json_object_set_new(o, "schema", json_string("caigen.critique/1"));
	json_object_set_new(o, "id", json_string(pr->id));
	json_object_set_new(o, "index", json_integer((json_int_t)pr->index));
	json_object_set_new(o, "prompt", pr->text ? json_string(pr->text) :
			    json_deep_copy(pr->messages));
	json_object_set_new(o, "initial", json_string(c->initial));
	json_object_set_new(o, "initial_finish",
			    finish_json(critique_finish(c, 0)));
	json_object_set_new(o, "rounds", rounds);
	json_object_set_new(o, "revision", json_string(last->revision));
	/* the Hugging Face CAI recipe's names; one round there, the last
	 * round here */
	json_object_set_new(o, "init_prompt",
			    json_string(last_user(pr->messages)));
	json_object_set_new(o, "init_response", json_string(c->initial));
	json_object_set_new(o, "critic_prompt",
			    json_string(last->critique_request));
	json_object_set_new(o, "critic_response", json_string(last->critique));
	json_object_set_new(o, "revision_prompt",
			    json_string(last->revision_request));
	json_object_set_new(o, "revision_response",
			    json_string(last->revision));
	json_object_set_new(o, "messages", json_deep_copy(c->messages));
	json_object_set_new(o, "chosen", turns_plus(pr->messages,
						    last->revision));
	json_object_set_new(o, "rejected", turns_plus(pr->messages,
						      c->initial));
	json_object_set_new(o, "usage", json_pack("{s:I,s:I}",
		"prompt_tokens", (json_int_t)c->usage.prompt_tokens,
		"completion_tokens", (json_int_t)c->usage.completion_tokens));
	json_object_set_new(o, "models", json_pack("{s:s}", "policy",
						   cfg->policy.model));
	json_object_set_new(o, "seed", config_ull_json(cfg->seed));
	s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(8));
	json_decref(o);
	return s;
}
