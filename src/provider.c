/* provider.c - OpenAI-compatible chat completion bodies and replies. */
#include "provider.h"
#include "config.h"
#include "flavour.h"
#include "jsonw.h"
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#define MAX_BODY (256u << 20)	/* ceiling on one request body */

/* The body is written straight into a buffer (jsonw.h): the same bytes
 * as a jansson object dumped with JSON_COMPACT | JSON_REAL_PRECISION(6),
 * without building the object. */
char *provider_chat_body(const struct chat_params *p, size_t *len)
{
	struct buf b;
	int rc;

	buf_init(&b, MAX_BODY);
	rc = buf_addstr(&b, "{\"model\":") < 0 ||
	     jsonw_cstr(&b, p->model) < 0 ||
	     buf_addstr(&b, ",\"messages\":") < 0 ||
	     jsonw_value(&b, p->messages, 6) < 0 ||
	     buf_addstr(&b, ",\"temperature\":") < 0 ||
	     jsonw_real(&b, p->temperature, 6) < 0 ||
	     (p->top_p < 1.0 && (buf_addstr(&b, ",\"top_p\":") < 0 ||
				 jsonw_real(&b, p->top_p, 6) < 0)) ||
	     buf_addstr(&b, ",\"max_tokens\":") < 0 ||
	     jsonw_int(&b, p->max_tokens) < 0 ||
	     (p->n > 1 && (buf_addstr(&b, ",\"n\":") < 0 ||
			   jsonw_int(&b, p->n) < 0)) ||
	     (p->has_seed && (buf_addstr(&b, ",\"seed\":") < 0 ||
			      jsonw_int(&b, (long long)(p->seed &
							0x7fffffff)) < 0)) ||
	     (p->logprobs && (buf_addstr(&b, ",\"logprobs\":true") < 0 ||
			      (p->top_logprobs > 0 &&
			       (buf_addstr(&b, ",\"top_logprobs\":") < 0 ||
				jsonw_int(&b, p->top_logprobs) < 0)))) ||
	     buf_addstr(&b, "}") < 0 ? -1 : 0;
	if (rc < 0) {
		/* over the ceiling or not finite: a body the server will
		 * refuse with a clear error rather than a silent cut */
		buf_reset(&b);
		if (buf_addstr(&b, "{}") < 0)
			abort();
	}
	*len = b.len;
	return buf_detach(&b);
}

int provider_parse_chat(const char *body, struct chat_reply *out,
			struct err *err)
{
	json_t *choices = flavour_reply_choices(body, out, err);
	size_t i;

	if (!choices)
		return -1;
	for (i = 0; i < json_array_size(choices) &&
		    out->n < PROVIDER_MAX_CHOICES; i++) {
		json_t *c = json_array_get(choices, i);
		json_t *m = json_object_get(c, "message");
		json_t *lp = json_object_get(c, "logprobs");
		const char *t = json_string_value(json_object_get(m,
								  "content"));

		if (!t) {
			err_set(err, "choices[%zu].message.content is not "
				"a string", i);
			goto fail;
		}
		out->text[out->n] = t;
		out->finish[out->n] = json_string_value(
			json_object_get(c, "finish_reason"));
		lp = json_is_object(lp) ? json_object_get(lp, "content") :
					  NULL;
		out->lp_own[out->n] = chat_logprobs_of_json(lp);
		out->logprobs[out->n] = out->lp_own[out->n];
		out->n++;
	}
	flavour_reply_usage(out, "prompt_tokens", "completion_tokens");
	return 0;
fail:
	chat_reply_release(out);
	return -1;
}

char *provider_auth_header(const char *key)
{
	return key ? xasprintf("Authorization: Bearer %s", key) : NULL;
}

void provider_free_secret(char *s)
{
	if (!s)
		return;
	/* volatile so the wipe is not optimised away */
	for (volatile char *p = s; *p; p++)
		*p = 0;
	free(s);
}

/* ---- flavours (the bodies and readers live in flavour.c) ---- */

char *provider_url(const char *base, int api)
{
	return xasprintf("%s/%s", base, api == API_COMPLETIONS ? "completions" :
			 api == API_ANTHROPIC ? "messages" :
			 "chat/completions");
}

char *provider_body(const struct chat_params *p, size_t *len)
{
	if (p->api == API_COMPLETIONS)
		return flavour_completions_body(p, len);
	if (p->api == API_ANTHROPIC)
		return flavour_anthropic_body(p, len);
	return provider_chat_body(p, len);
}

int provider_parse(int api, const char *body, bool want_logprobs,
		   struct chat_reply *out, struct err *err)
{
	if (api == API_COMPLETIONS)
		return flavour_parse_completions(body, out, err);
	if (api == API_ANTHROPIC)
		return flavour_parse_anthropic(body, out, err);
	/* reply.h: chat replies without a jansson tree (json_loads was
	 * ~43 % of a request's CPU). provider_parse_chat stays as the
	 * reference the differential tests hold it to. */
	return reply_read_chat(body, strlen(body), want_logprobs, out, err);
}

char *provider_key_header(int api, const char *key)
{
	if (!key)
		return NULL;
	return api == API_ANTHROPIC ? xasprintf("x-api-key: %s", key) :
				      provider_auth_header(key);
}

const char *provider_fixed_header(int api)
{
	return api == API_ANTHROPIC ? "anthropic-version: 2023-06-01" : NULL;
}

bool provider_refuses_logprobs(const char *msg)
{
	return msg && strstr(msg, "logprobs") &&
	       (strstr(msg, "not allowed") || strstr(msg, "not supported"));
}
