/* flavour.c - legacy completions and Anthropic Messages bodies and replies. */
#include "flavour.h"
#include "buf.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

int flavour_reply_open(const char *body, struct chat_reply *out,
			struct err *err)
{
	json_error_t je;
	json_t *e;
	const char *m;

	memset(out, 0, sizeof(*out));
	out->root = json_loads(body, 0, &je);
	if (!out->root)
		return err_set(err, "reply is not JSON: %s", je.text);
	e = json_object_get(out->root, "error");
	if (!e || json_is_null(e))
		return 0;
	m = json_is_object(e) ?
		json_string_value(json_object_get(e, "message")) :
		json_string_value(e);
	err_set(err, "error in reply: %s", m ? m : "(no message)");
	chat_reply_release(out);
	return -1;
}

json_t *flavour_reply_choices(const char *body, struct chat_reply *out,
			       struct err *err)
{
	json_t *choices;

	if (flavour_reply_open(body, out, err) < 0)
		return NULL;
	choices = json_object_get(out->root, "choices");
	if (json_is_array(choices) && json_array_size(choices) > 0)
		return choices;
	err_set(err, "reply has no choices");
	chat_reply_release(out);
	return NULL;
}

void flavour_reply_usage(struct chat_reply *out, const char *in_key,
			  const char *out_key)
{
	json_t *u = json_object_get(out->root, "usage");

	out->usage.prompt_tokens = json_integer_value(json_object_get(u,
								      in_key));
	out->usage.completion_tokens = json_integer_value(
		json_object_get(u, out_key));
}


#define MAX_TEXT (64u << 20)

/* Messages as plain turns for a completion model, ending with an open
 * "Assistant:" turn unless the last message is the assistant's own start
 * (a prefill), which is left open as it is. */
static char *render_turns(json_t *messages)
{
	struct buf b;
	size_t i, n = json_array_size(messages);
	json_t *m;

	buf_init(&b, MAX_TEXT);
	json_array_foreach(messages, i, m) {
		const char *role = json_string_value(
			json_object_get(m, "role"));
		const char *text = json_string_value(
			json_object_get(m, "content"));
		bool asst = role && !strcmp(role, "assistant");
		const char *who = asst ? "Assistant: " :
				  role && !strcmp(role, "system") ? "" :
				  "User: ";
		int rc = buf_printf(&b, "%s%s%s", i ? "\n\n" : "", who,
				    text ? text : "");

		if (!rc && i + 1 == n && !asst)
			rc = buf_addstr(&b, "\n\nAssistant:");
		if (rc < 0)
			break;	/* over the ceiling: keep what fits */
	}
	return buf_detach(&b);
}

static char *dump(json_t *o, size_t *len)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(6));

	json_decref(o);
	*len = strlen(s);
	return s;
}

char *flavour_completions_body(const struct chat_params *p, size_t *len)
{
	json_t *o = json_object();
	char *prompt = p->prompt ? NULL : render_turns(p->messages);

	json_object_set_new(o, "model", json_string(p->model));
	json_object_set_new(o, "prompt", json_string(p->prompt ? p->prompt :
						     prompt));
	json_object_set_new(o, "temperature", json_real(p->temperature));
	if (p->top_p < 1.0)
		json_object_set_new(o, "top_p", json_real(p->top_p));
	json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
	if (p->n > 1)
		json_object_set_new(o, "n", json_integer(p->n));
	if (p->has_seed)
		json_object_set_new(o, "seed", json_integer(
			(json_int_t)(p->seed & 0x7fffffff)));
	if (p->logprobs)
		json_object_set_new(o, "logprobs", json_integer(
			p->top_logprobs > 5 ? 5 : p->top_logprobs < 1 ? 1 :
			p->top_logprobs));
	free(prompt);
	return dump(o, len);
}

char *flavour_anthropic_body(const struct chat_params *p, size_t *len)
{
	json_t *o = json_object(), *msgs = json_array(), *m;
	struct buf sys;
	size_t i;

	buf_init(&sys, MAX_TEXT);
	json_array_foreach(p->messages, i, m) {
		const char *role = json_string_value(
			json_object_get(m, "role"));
		const char *text = json_string_value(
			json_object_get(m, "content"));

		if (role && !strcmp(role, "system")) {
			if ((sys.len && buf_addstr(&sys, "\n\n") < 0) ||
			    buf_addstr(&sys, text ? text : "") < 0)
				break;
			continue;
		}
		json_array_append_new(msgs, json_pack("{s:s,s:s}", "role",
			role && !strcmp(role, "assistant") ? "assistant" :
			"user", "content", text ? text : ""));
	}
	json_object_set_new(o, "model", json_string(p->model));
	json_object_set_new(o, "max_tokens", json_integer(p->max_tokens));
	if (sys.len)
		json_object_set_new(o, "system", json_string(sys.data));
	json_object_set_new(o, "messages", msgs);
	/* Anthropic's range is 0..1; newer models refuse top_p with it */
	json_object_set_new(o, "temperature", json_real(
		p->temperature > 1 ? 1 : p->temperature));
	buf_release(&sys);
	return dump(o, len);
}

/* An error object in a 2xx reply, OpenAI's or Anthropic's. */
json_t *flavour_legacy_logprobs(json_t *lp)
{
	json_t *toks = json_object_get(lp, "tokens");
	json_t *vals = json_object_get(lp, "token_logprobs");
	json_t *tops = json_object_get(lp, "top_logprobs");
	json_t *out;
	size_t i;

	if (!json_is_array(toks))
		return NULL;
	out = json_array();
	for (i = 0; i < json_array_size(toks); i++) {
		json_t *top = json_array_get(tops, i), *alts = json_array();
		json_t *v = json_array_get(vals, i);
		const char *k;
		json_t *x;

		/* a dict keyed by token: one entry per distinct token */
		json_object_foreach(top, k, x)
			json_array_append_new(alts, json_pack("{s:s,s:O}",
				"token", k, "logprob", x));
		json_array_append_new(out, json_pack("{s:O,s:O,s:o}",
			"token", json_array_get(toks, i),
			"logprob", v ? v : json_null(),
			"top_logprobs", alts));
	}
	return out;
}

int flavour_parse_completions(const char *body, struct chat_reply *out,
			      struct err *err)
{
	json_t *choices = flavour_reply_choices(body, out, err);
	size_t i;

	if (!choices)
		return -1;
	out->extra = json_array();
	for (i = 0; i < json_array_size(choices) &&
		    out->n < PROVIDER_MAX_CHOICES; i++) {
		json_t *c = json_array_get(choices, i);
		json_t *lp = json_object_get(c, "logprobs");
		const char *t = json_string_value(json_object_get(c, "text"));
		json_t *content = json_object_get(lp, "content");

		if (!t) {
			err_set(err, "choices[%zu].text is not a string", i);
			goto fail;
		}
		out->text[out->n] = t;
		out->finish[out->n] = json_string_value(
			json_object_get(c, "finish_reason"));
		if (!json_is_array(content) && json_is_object(lp)) {
			content = flavour_legacy_logprobs(lp);
			if (content)
				json_array_append_new(out->extra, content);
		}
		out->lp_own[out->n] = chat_logprobs_of_json(content);
		out->logprobs[out->n] = out->lp_own[out->n];
		out->n++;
	}
	flavour_reply_usage(out, "prompt_tokens", "completion_tokens");
	return 0;
fail:
	chat_reply_release(out);
	return -1;
}

int flavour_parse_anthropic(const char *body, struct chat_reply *out,
			    struct err *err)
{
	json_t *content, *blk;
	struct buf text;
	size_t i;
	bool any = false;

	if (flavour_reply_open(body, out, err) < 0)
		return -1;
	content = json_object_get(out->root, "content");
	if (!json_is_array(content)) {
		err_set(err, "reply has no content");
		goto fail;
	}
	buf_init(&text, MAX_TEXT);
	json_array_foreach(content, i, blk) {
		const char *type = json_string_value(json_object_get(blk,
								     "type"));
		const char *t = json_string_value(json_object_get(blk,
								  "text"));

		if (!type || strcmp(type, "text") || !t)
			continue;	/* thinking, tool_use, ... */
		any = true;
		if (buf_addstr(&text, t) < 0)
			break;
	}
	if (!any) {
		buf_release(&text);
		err_set(err, "reply has no text block");
		goto fail;
	}
	out->extra = json_string(text.data);
	buf_release(&text);
	if (!out->extra) {
		err_set(err, "reply text is not UTF-8");
		goto fail;
	}
	out->text[0] = json_string_value(out->extra);
	out->finish[0] = json_string_value(json_object_get(out->root,
							   "stop_reason"));
	out->n = 1;
	flavour_reply_usage(out, "input_tokens", "output_tokens");
	return 0;
fail:
	chat_reply_release(out);
	return -1;
}
