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

static void on_reply(struct call *c);

/* Ask the policy for the next turn of the chat so far. */
static void ask(struct critique_job *cj)
{
	const struct config *cfg = cj->cfg;
	struct chat_params *cp = &cj->call.cp;

	json_decref(cj->sent);
	cj->sent = with_fewshot(cj->out.messages, cj->fewshot);
	memset(cp, 0, sizeof(*cp));
	cp->model = cfg->policy.model;
	cp->messages = cj->sent;
	cp->temperature = cfg->policy.temperature;
	cp->top_p = cfg->policy.top_p;
	cp->max_tokens = cfg->policy.max_tokens;
	cp->n = 1;
	cp->has_seed = true;
	cp->seed = rng_u64(cfg->seed, cj->pr->id, "critique-call",
			   (uint64_t)cj->step);
	cj->call.role = ROLE_POLICY;
	cj->call.prompt_id = cj->pr->id;
	cj->call.done = on_reply;
	cj->call.owner = cj;
	exec_send(cj->x, &cj->call);
}

static void finish(struct critique_job *cj, int rc, const struct err *err)
{
	cj->rc = rc;
	if (rc < 0) {
		/* the owner counts what the guard did even on failure */
		struct critique_chain *c = &cj->out;
		int retries = c->cut_retries, kept = c->cut_kept;
		bool cut = c->cut_failed;

		cj->err = *err;
		critique_chain_release(c);
		c->cut_retries = retries;
		c->cut_kept = kept;
		c->cut_failed = cut;
	}
	cj->finished(cj);
}

/* Step k of the chain: 0 the answer, then per round the critique (odd)
 * and the revision (even). Each request is appended as a user turn. */
static void on_reply(struct call *c)
{
	struct critique_job *cj = c->owner;
	struct critique_chain *out = &cj->out;
	const char *t;
	int round, k;
	enum guard_verdict v;

	if (c->rc < 0) {
		finish(cj, -1, call_err(c));
		return;
	}
	chat_usage_add(&out->usage, &c->reply.usage);
	v = guard_cut_verdict(cj->cfg->truncated,
			      guard_is_cut(c->reply.finish[0]), cj->tries);
	if (v == GUARD_RETRY) {	/* the same step again, another seed */
		chat_reply_release(&c->reply);
		out->cut_retries++;
		cj->tries++;
		c->cp.seed = guard_seed(cj->cfg->seed, cj->pr->id,
					"critique-call", (uint64_t)cj->step);
		exec_send(cj->x, c);
		return;
	}
	if (v == GUARD_REJECT) {
		struct err e;

		chat_reply_release(&c->reply);
		out->cut_failed = true;
		err_set(&e, "truncated");
		finish(cj, -1, &e);
		return;
	}
	out->cut_kept += v == GUARD_KEEP_CUT;
	cj->tries = 0;
	out->finish[cj->step] = c->reply.finish[0] ?
				xstrdup(c->reply.finish[0]) : NULL;
	push(out->messages, "assistant", c->reply.text[0] ?
	     c->reply.text[0] : "");
	chat_reply_release(&c->reply);
	t = json_string_value(json_object_get(json_array_get(out->messages,
		json_array_size(out->messages) - 1), "content"));
	k = cj->step;
	round = (k - 1) / 2;
	if (k == 0)
		out->initial = xstrdup(t);
	else if (k % 2)
		out->rounds[round].critique = xstrdup(t);
	else
		out->rounds[round].revision = xstrdup(t);
	if (k == 2 * cj->cfg->rounds) {
		finish(cj, 0, NULL);
		return;
	}
	cj->step = ++k;
	round = (k - 1) / 2;
	if (k % 2) {
		struct critique_round *r = &out->rounds[round];

		r->pr = constitution_draw(cj->con, STAGE_CRITIQUE, rng_unit(
			cj->cfg->seed, cj->pr->id, "critique-principle",
			(uint64_t)round));
		out->nrounds = round + 1;
		r->critique_request = request(cj->con, TPL_CRITIQUE,
					      r->pr->critique, out->messages);
	} else {
		struct critique_round *r = &out->rounds[round];

		r->revision_request = request(cj->con, TPL_REVISE,
					      r->pr->revise, out->messages);
	}
	ask(cj);
}

void critique_start(struct critique_job *cj, struct exec *x,
		    const struct config *cfg,
		    const struct constitution *con, const struct prompt *pr,
		    void (*finished)(struct critique_job *), void *owner)
{
	memset(cj, 0, sizeof(*cj));
	cj->x = x;
	cj->cfg = cfg;
	cj->con = con;
	cj->pr = pr;
	cj->finished = finished;
	cj->owner = owner;
	cj->fewshot = critique_fewshot_messages(con);
	cj->out.messages = json_deep_copy(pr->messages);
	cj->out.rounds = xcalloc((size_t)cfg->rounds,
				 sizeof(*cj->out.rounds));
	cj->out.finish = xcalloc(1 + 2 * (size_t)cfg->rounds,
				 sizeof(*cj->out.finish));
	ask(cj);
}

void critique_job_release(struct critique_job *cj)
{
	call_forget(&cj->call);
	json_decref(cj->fewshot);
	json_decref(cj->sent);
	cj->fewshot = cj->sent = NULL;
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
