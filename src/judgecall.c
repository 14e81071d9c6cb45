/* judgecall.c - one pair judged in both orders; the preference record. */
#include "judgecall.h"
#include "provider.h"	/* provider_refuses_logprobs */
#include "calibrate.h"
#include "jsonw.h"
#include "rng.h"

#include <limits.h>

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


static enum method method_for(int api, const struct config *cfg,
			      struct judge_shared *sh)
{
	if (api == API_ANTHROPIC || atomic_load(&sh->no_logprobs))
		return cfg->votes > 0 ? M_VOTES : M_TEXT;
	return M_LOGPROBS;
}

/* {"role": role, "content": text} as json_pack("{s:s,s:s}") makes it,
 * with the UTF-8 check done once (jsonw_utf8: jansson's own check of a
 * long prompt cost more than the rest of the request); NULL, as
 * json_pack, when text is not UTF-8. */
static json_t *message(const char *role, const char *text)
{
	size_t n = strlen(text);
	json_t *o;

	if (!jsonw_utf8(text, n) || !jsonw_utf8(role, strlen(role)))
		return json_pack("{s:s,s:s}", "role", role, "content", text);
	o = json_object();
	json_object_set_new_nocheck(o, "role", json_string_nocheck(role));
	json_object_set_new_nocheck(o, "content",
				    json_stringn_nocheck(text, n));
	return o;
}

static void push(json_t *msgs, const char *role, const char *text)
{
	json_array_append_new(msgs, message(role, text));
}

/* [system, user], NULL when either is not UTF-8 (as json_pack). */
static json_t *two_messages(const char *sys, const char *user)
{
	json_t *a = json_array(), *s = message("system", sys),
	       *u = message("user", user);

	if (!s || !u) {
		json_decref(s);
		json_decref(u);
		json_decref(a);
		return NULL;
	}
	json_array_append_new(a, s);
	json_array_append_new(a, u);
	return a;
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
	return r->n == 0 || !r->logprobs[0] || r->logprobs[0]->n == 0;
}

/* The steps of one order. */
enum phase {
	PH_COT,		/* the rationale call */
	PH_LOGPROBS,	/* the letter from its logprobs */
	PH_TEXT,	/* the letter from the reply text */
	PH_VOTES,	/* k sampled letters */
};

static void on_reply(struct call *c);
static bool before_wire(struct call *c);

/* The index of o's seeds: its order, plus two per pair before it, so the
 * first pair's seeds are a two-answer prompt's. */
static uint64_t slot(const struct pair_job *pj, const struct order_job *o)
{
	return 2 * (uint64_t)pj->pair + (uint64_t)o->j->order;
}

/* Set o's call up for phase ph. */
static void order_params(struct pair_job *pj, struct order_job *o, int ph)
{
	const struct config *cfg = pj->cfg;
	struct chat_params *cp = &o->call.cp;

	memset(cp, 0, sizeof(*cp));
	cp->model = cfg->judge.model;
	cp->temperature = cfg->judge.temperature;
	cp->top_p = cfg->judge.top_p;
	cp->max_tokens = cfg->judge.max_tokens;
	cp->n = 1;
	cp->has_seed = true;
	cp->seed = rng_u64(cfg->seed, pj->id, "judge", slot(pj, o));
	cp->messages = o->msgs;
	cp->prompt = o->prompt;
	switch (ph) {
	case PH_COT:
		cp->temperature = 0;	/* greedy, as in RLAIF */
		cp->top_p = 1;
		cp->max_tokens = cfg->cot_max_tokens;
		cp->seed = rng_u64(cfg->seed, pj->id, "judge-cot",
				   slot(pj, o));
		break;
	case PH_LOGPROBS:
		cp->logprobs = true;
		cp->top_logprobs = cfg->top_logprobs;
		break;
	case PH_VOTES:
		cp->temperature = 1.0;
		cp->seed = rng_u64(cfg->seed, pj->id, "vote",
				   slot(pj, o) * 256 + (uint64_t)o->vote);
		/* fall through */
	case PH_TEXT:
		/* room for a reasoning model's hidden tokens or a preamble */
		if (cp->max_tokens < 16)
			cp->max_tokens = 16;
		break;
	}
	o->phase = ph;
	o->call.role = pj->role;
	o->call.done = on_reply;
	o->call.prepare = ph == PH_LOGPROBS ? before_wire : NULL;
	o->call.owner = pj;
}

static void order_send(struct pair_job *pj, struct order_job *o, int ph)
{
	order_params(pj, o, ph);
	exec_send(pj->x, &o->call);
}

static void votes_init(struct pair_job *pj, struct order_job *o)
{
	o->j->votes_a = o->j->votes_b = 0;
	o->j->votes_k = pj->cfg->votes;
	o->vote = 0;
}

/* A letter call asking for logprobs leaves its wait for a place after
 * another call found that the endpoint refuses them: ask as the other
 * calls now do. */
static bool before_wire(struct call *c)
{
	struct pair_job *pj = c->owner;
	struct order_job *o = (struct order_job *)c;
	enum method m = method_for(pj->api, pj->cfg, pj->sh);

	if (m == M_LOGPROBS)
		return false;
	if (m == M_VOTES)
		votes_init(pj, o);
	order_params(pj, o, m == M_TEXT ? PH_TEXT : PH_VOTES);
	return true;
}

/* The letter step by the endpoint's method (Anthropic gets its "("
 * prefill here, once). */
static void letter_send(struct pair_job *pj, struct order_job *o,
			enum method m)
{
	if (pj->api == API_ANTHROPIC)
		push(o->msgs, "assistant", "(");
	if (m == M_VOTES)
		votes_init(pj, o);
	order_send(pj, o, m == M_LOGPROBS ? PH_LOGPROBS :
		   m == M_TEXT ? PH_TEXT : PH_VOTES);
}

/* judge.calibration when it covers this label: the run's judge (its
 * model checked by config_validate) and every judgment of the file's
 * method; else NULL (calibrate.h). */
static const struct calibration *label_calibration(const struct config *cfg,
						   const struct pair_label *lb)
{
	const struct calibration *c = cfg->calib;

	if (!c || !lb->nj || strcmp(cfg->judge.model, c->judge_model))
		return NULL;
	for (int i = 0; i < lb->nj; i++)
		if (!calibration_covers(c, lb->j[i].method))
			return NULL;
	return c;
}

/* One order is over (rc 0) or failed (err filled): when both are, tell
 * the owner. Nothing may touch pj after the last one. */
static void order_end(struct pair_job *pj, int rc, const struct err *err)
{
	if (rc < 0 && pj->rc == 0) {
		pj->rc = -1;
		pj->err = *err;
	}
	if (--pj->pending > 0)
		return;
	if (pj->rc == 0) {
		struct pair_label *out = &pj->out;

		out->p_raw = judge_combine(out->j, out->nj);
		out->p = out->p_raw;
		out->cal = label_calibration(pj->cfg, out);
		if (out->cal)
			out->p = calibration_apply(out->cal, out->p_raw);
		out->clamped = judgecall_clamp(pj->cfg, &out->lo, &out->hi);
		if (out->clamped)
			out->p = judge_clamp(out->p, out->lo, out->hi);
	} else {
		pair_label_release(&pj->out);
	}
	pj->finished(pj);
}

static void on_reply(struct call *c)
{
	struct pair_job *pj = c->owner;
	struct order_job *o = (struct order_job *)c;	/* call is first */
	struct judgment *j = o->j;
	struct err err;
	const char *text;
	int rc;

	if (c->rc < 0) {
		if (o->phase == PH_LOGPROBS && !c->stopped &&
		    provider_refuses_logprobs(call_errmsg(c))) {
			warn_refused(pj->sh, pj->cfg, false);
			if (pj->rc == 0) {
				letter_send(pj, o, pj->cfg->votes > 0 ?
					    M_VOTES : M_TEXT);
				return;
			}
		}
		order_end(pj, -1, call_err(c));
		return;
	}
	chat_usage_add(&pj->out.usage, &c->reply.usage);
	text = c->reply.text[0] ? c->reply.text[0] : "";
	switch (o->phase) {
	case PH_COT:
		j->rationale = xstrdup(text);
		if (guard_is_cut(c->reply.finish[0])) {
			pj->out.rationale_cut[o - pj->ord] = true;
			if (pj->sh->counts)
				atomic_fetch_add(&pj->sh->counts->rationale_cut,
						 1);
		}
		chat_reply_release(&c->reply);
		if (pj->rc < 0)
			break;
		if (o->prompt) {
			char *p = xasprintf("%s %s%s", o->prompt,
					    j->rationale, letter_tail);

			free(o->prompt);
			o->prompt = p;
		} else {
			push(o->msgs, "assistant", j->rationale);
			push(o->msgs, "user", letter_ask);
		}
		letter_send(pj, o, method_for(pj->api, pj->cfg, pj->sh));
		return;
	case PH_LOGPROBS:
		if (lacks_logprobs(&c->reply)) {
			/* a proxy or server that drops them: a method
			 * change, like a refusal, not a retry */
			chat_reply_release(&c->reply);
			if (pj->sh->counts)
				atomic_fetch_add(&pj->sh->counts->
						 nologprobs_fallbacks, 1);
			warn_refused(pj->sh, pj->cfg, true);
			if (pj->rc < 0)
				break;
			letter_send(pj, o, pj->cfg->votes > 0 ? M_VOTES :
				    M_TEXT);
			return;
		}
		rc = judge_read_logprobs(c->reply.logprobs[0],
					 pj->cfg->scan_positions, j, &err);
		chat_reply_release(&c->reply);
		order_end(pj, rc, &err);
		return;
	case PH_TEXT:
		rc = judge_read_text(text, j, &err);
		chat_reply_release(&c->reply);
		order_end(pj, rc, &err);
		return;
	case PH_VOTES: {
		struct judgment one = { 0 };

		if (judge_read_text(text, &one, &err) == 0) {
			j->votes_a += one.p_a > 0.5;
			j->votes_b += one.p_a <= 0.5;
		}
		chat_reply_release(&c->reply);
		if (++o->vote < pj->cfg->votes && pj->rc == 0) {
			order_send(pj, o, PH_VOTES);
			return;
		}
		if (pj->rc < 0)
			break;
		if (j->votes_a + j->votes_b == 0) {
			err_set(&err, "none of %d sampled judge replies "
				"named A or B", pj->cfg->votes);
			order_end(pj, -1, &err);
			return;
		}
		j->p_a = (double)j->votes_a / (j->votes_a + j->votes_b);
		j->mass_a = j->mass_b = 0;
		j->other_mass = 1.0 - (double)(j->votes_a + j->votes_b) /
				pj->cfg->votes;
		j->position = 0;
		j->method = "votes";
		order_end(pj, 0, NULL);
		return;
	}
	}
	order_end(pj, 0, NULL);	/* the other order failed: just end */
}

/* The rendered comparison is in the request now (copied into its
 * prompt or messages): it is not kept next to them while in flight. */
static void drop_user(struct order_job *o)
{
	free(o->user);
	o->user = NULL;
}

/* Build order o's request and send its first step. */
static void order_step(struct pair_job *pj, struct order_job *o)
{
	const struct config *cfg = pj->cfg;
	const struct constitution *con = pj->con;
	const char *sys = constitution_template(con, TPL_COMPARE_SYSTEM);
	int swap = o->j->order == ORDER_BA;

	o->user = judge_render(constitution_template(con, TPL_COMPARE),
			       pj->conv, pj->out.pr->compare, pj->resp[swap],
			       pj->resp[!swap], cfg->seed, pj->id);
	o->j->rationale = NULL;
	if (cfg->cot) {
		char *u = xasprintf("%s%s", o->user, cot_ask);

		free(o->user);
		o->user = u;
		if (pj->api == API_COMPLETIONS)
			o->prompt = xasprintf("%s\n\n%s\n\nReasoning:", sys,
					      o->user);
		else
			o->msgs = two_messages(sys, o->user);
		drop_user(o);
		order_send(pj, o, PH_COT);
		return;
	}
	if (pj->api == API_COMPLETIONS)
		o->prompt = xasprintf("%s\n\n%s (", sys, o->user);
	else
		o->msgs = two_messages(sys, o->user);
	drop_user(o);
	letter_send(pj, o, method_for(pj->api, cfg, pj->sh));
}

void judgecall_start(struct pair_job *pj, struct exec *x, int api,
		     const struct config *cfg,
		     const struct constitution *con, struct judge_shared *sh,
		     const char *id, json_t *messages, const char *r0,
		     const char *r1, void (*finished)(struct pair_job *),
		     void *owner)
{
	judgecall_start_at(pj, x, ROLE_JUDGE, 0, api, cfg, con, sh, id,
			   messages, r0, r1, finished, owner);
}

void judgecall_start_at(struct pair_job *pj, struct exec *x, int role,
			unsigned pair, int api, const struct config *cfg,
			const struct constitution *con,
			struct judge_shared *sh, const char *id,
			json_t *messages, const char *r0, const char *r1,
			void (*finished)(struct pair_job *), void *owner)
{
	struct pair_label *out = &pj->out;
	int n;

	memset(pj, 0, sizeof(*pj));
	pj->role = role;
	pj->pair = pair;
	pj->cfg = cfg;
	pj->con = con;
	pj->sh = sh;
	pj->x = x;
	pj->api = api;
	pj->id = id;
	pj->resp[0] = r0;
	pj->resp[1] = r1;
	pj->finished = finished;
	pj->owner = owner;
	pj->conv = judge_conversation(messages);
	out->nj = cfg->both_orders ? 2 : 1;
	out->pr = constitution_draw(con, STAGE_COMPARE,
				    rng_unit(cfg->seed, id, "principle", 0));
	out->j[0].order = ORDER_AB;
	out->j[1].order = ORDER_BA;
	if (out->nj == 1 && rng_unit(cfg->seed, id, "order", pair) >= 0.5)
		out->j[0].order = ORDER_BA;
	n = out->nj;
	pj->pending = n;
	for (int i = 0; i < n; i++)
		pj->ord[i].j = &out->j[i];
	/* each step may finish the machine: nothing after the last send */
	for (int i = 0; i < n; i++)
		order_step(pj, &pj->ord[i]);
}

void judgecall_release(struct pair_job *pj)
{
	for (int i = 0; i < 2; i++) {
		call_forget(&pj->ord[i].call);
		json_decref(pj->ord[i].msgs);
		free(pj->ord[i].prompt);
		free(pj->ord[i].user);
		pj->ord[i].msgs = NULL;
		pj->ord[i].prompt = NULL;
		pj->ord[i].user = NULL;
	}
	free(pj->conv);
	pj->conv = NULL;
}

void pair_label_release(struct pair_label *lb)
{
	for (int i = 0; i < 2; i++) {
		free(lb->j[i].rationale);
		lb->j[i].rationale = NULL;
	}
}

/* ---- the record -----------------------------------------------------
 *
 * Written straight into a buffer (jsonw.h): the bytes jansson would give
 * for the same object dumped with JSON_COMPACT | JSON_REAL_PRECISION(8),
 * members in this order, without building the object.
 */

#define REC_PRECISION 8
#define REC_MAX (256u << 20)

/* Every key is a plain ASCII literal: written with its quotes and colon
 * in one piece (QK), the bytes jsonw_cstr and ":" gave, without the
 * escaping scan. q, qn below are such a piece. */
#define QK(k) ("\"" k "\":"), (sizeof("\"" k "\":") - 1)

static int key_q(struct buf *b, const char *q, size_t qn)
{
	/* "," unless right after the opening brace or bracket */
	if (b->len && b->data[b->len - 1] != '{' &&
	    b->data[b->len - 1] != '[' && buf_add(b, ",", 1) < 0)
		return -1;
	return buf_add(b, q, qn);
}

static int real_q(struct buf *b, const char *q, size_t qn, double x)
{
	return key_q(b, q, qn) < 0 ||
	       jsonw_real(b, x, REC_PRECISION) < 0 ? -1 : 0;
}

static int str_q(struct buf *b, const char *q, size_t qn, const char *v)
{
	return key_q(b, q, qn) < 0 || (v ? jsonw_cstr(b, v) :
				       buf_addstr(b, "null")) < 0 ? -1 : 0;
}

static int integer_q(struct buf *b, const char *q, size_t qn, long long v)
{
	return key_q(b, q, qn) < 0 || jsonw_int(b, v) < 0 ? -1 : 0;
}

/* The log of a summed probability, or null when it was not listed. */
static int lp_q(struct buf *b, const char *q, size_t qn, double mass)
{
	if (mass > 0)
		return real_q(b, q, qn, log(mass));
	return key_q(b, q, qn) < 0 || buf_addstr(b, "null") < 0 ? -1 : 0;
}

/* A reply as TRL wants it: a string, or a one-message assistant list. */
static int as_turn_q(struct buf *b, const char *q, size_t qn,
		     const struct prompt *pr, const char *text)
{
	if (pr->text)
		return str_q(b, q, qn, text);
	return key_q(b, q, qn) < 0 ||
	       buf_addstr(b, "[{\"role\":\"assistant\",\"content\":") < 0 ||
	       jsonw_cstr(b, text) < 0 || buf_addstr(b, "}]") < 0 ? -1 : 0;
}

#define key(b, k) key_q((b), QK(k))
#define real(b, k, x) real_q((b), QK(k), (x))
#define str(b, k, v) str_q((b), QK(k), (v))
#define integer(b, k, v) integer_q((b), QK(k), (v))
#define lp(b, k, m) lp_q((b), QK(k), (m))
#define as_turn(b, k, pr, t) as_turn_q((b), QK(k), (pr), (t))

static int judgment(struct buf *b, const struct judgment *j, bool cut,
		    double min_mass)
{
	int rc = buf_add(b, "{", 1) < 0 ||
		 str(b, "order", j->order == ORDER_AB ? "AB" : "BA") < 0 ||
		 real(b, "p_a", j->p_a) < 0 ||
		 lp(b, "lp_a", j->mass_a) < 0 || lp(b, "lp_b", j->mass_b) < 0 ||
		 real(b, "other_mass", j->other_mass) < 0 ||
		 integer(b, "position", j->position) < 0 ||
		 str(b, "method", j->method) < 0 ||
		 str(b, "rationale", j->rationale) < 0 ? -1 : 0;

	if (rc == 0 && j->rationale)
		rc = key(b, "rationale_truncated") < 0 ||
		     buf_addstr(b, cut ? "true" : "false") < 0 ? -1 : 0;
	if (rc == 0 && !strcmp(j->method, "votes"))
		rc = key(b, "votes") < 0 || buf_add(b, "{", 1) < 0 ||
		     integer(b, "A", j->votes_a) < 0 ||
		     integer(b, "B", j->votes_b) < 0 ||
		     integer(b, "k", j->votes_k) < 0 ||
		     buf_add(b, "}", 1) < 0 ? -1 : 0;
	/* only when set, so records of a sound judge keep their bytes */
	if (rc == 0 && guard_low_mass(j->method, j->other_mass, min_mass))
		rc = key(b, "low_letter_mass") < 0 ||
		     buf_addstr(b, "true") < 0 ? -1 : 0;
	return rc < 0 ? -1 : buf_add(b, "}", 1);
}

char *judgecall_judgments(const struct config *cfg,
			  const struct pair_label *lb)
{
	struct buf b;
	int rc;

	buf_init(&b, REC_MAX);
	rc = buf_add(&b, "[", 1);
	for (int i = 0; rc == 0 && i < lb->nj; i++)
		rc = (i && buf_add(&b, ",", 1) < 0) ||
		     judgment(&b, &lb->j[i], lb->rationale_cut[i],
			      cfg->min_letter_mass) < 0 ? -1 : 0;
	if (rc < 0 || buf_add(&b, "]", 1) < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}

char *judgecall_record(const struct config *cfg, const struct prompt *pr,
		       const char *r0, const char *r1,
		       const char *const finish[2],
		       const struct pair_label *lb,
		       const struct chat_usage *usage)
{
	const char *resp[2] = { r0, r1 };
	int ci = lb->p >= 0.5 ? 0 : 1;
	struct buf b;
	int rc;

	buf_init(&b, REC_MAX);
	rc = buf_add(&b, "{", 1) < 0 ||
	     str(&b, "schema", "caigen.preference/1") < 0 ||
	     str(&b, "id", pr->id) < 0 ||
	     integer(&b, "index", (long long)pr->index) < 0 ||
	     (pr->text ? str(&b, "prompt", pr->text) :
	      key(&b, "prompt") < 0 ||
	      jsonw_value(&b, pr->messages, REC_PRECISION) < 0) ||
	     as_turn(&b, "chosen", pr, resp[ci]) < 0 ||
	     as_turn(&b, "rejected", pr, resp[1 - ci]) < 0 ||
	     real(&b, "margin", fabs(lb->p - 0.5)) < 0 ||
	     key(&b, "responses") < 0 || buf_add(&b, "[", 1) < 0 ||
	     jsonw_cstr(&b, r0) < 0 || buf_add(&b, ",", 1) < 0 ||
	     jsonw_cstr(&b, r1) < 0 || buf_add(&b, "]", 1) < 0 ||
	     key(&b, "finish_reasons") < 0 || buf_add(&b, "[", 1) < 0 ||
	     (finish && finish[0] ? jsonw_cstr(&b, finish[0]) :
	      buf_addstr(&b, "null")) < 0 || buf_add(&b, ",", 1) < 0 ||
	     (finish && finish[1] ? jsonw_cstr(&b, finish[1]) :
	      buf_addstr(&b, "null")) < 0 || buf_add(&b, "]", 1) < 0 ||
	     integer(&b, "chosen_index", ci) < 0 ||
	     real(&b, "p", lb->p) < 0 || real(&b, "p_raw", lb->p_raw) < 0 ||
	     key(&b, "clamp") < 0 ||
	     (lb->clamped ? buf_add(&b, "[", 1) < 0 ||
	      jsonw_real(&b, lb->lo, REC_PRECISION) < 0 ||
	      buf_add(&b, ",", 1) < 0 ||
	      jsonw_real(&b, lb->hi, REC_PRECISION) < 0 ||
	      buf_add(&b, "]", 1) < 0 : buf_addstr(&b, "null") < 0) ||
	     key(&b, "principle") < 0 || buf_add(&b, "{", 1) < 0 ||
	     str(&b, "id", lb->pr->id) < 0 ||
	     str(&b, "constitution", lb->pr->source) < 0 ||
	     key(&b, "tags") < 0 || buf_add(&b, "[", 1) < 0 ? -1 : 0;
	for (size_t t = 0; rc == 0 && t < lb->pr->ntags; t++)
		rc = (t && buf_add(&b, ",", 1) < 0) ||
		     jsonw_cstr(&b, lb->pr->tags[t]) < 0 ? -1 : 0;
	rc = rc < 0 || buf_addstr(&b, "]}") < 0 ||
	     key(&b, "judgments") < 0 || buf_add(&b, "[", 1) < 0 ? -1 : 0;
	for (int i = 0; rc == 0 && i < lb->nj; i++)
		rc = (i && buf_add(&b, ",", 1) < 0) ||
		     judgment(&b, &lb->j[i], lb->rationale_cut[i],
			      cfg->min_letter_mass) < 0 ? -1 : 0;
	rc = rc < 0 || buf_add(&b, "]", 1) < 0 ||
	     key(&b, "models") < 0 || buf_add(&b, "{", 1) < 0 ||
	     str(&b, "policy", cfg->policy.model) < 0 ||
	     str(&b, "judge", cfg->judge.model) < 0 ||
	     buf_add(&b, "}", 1) < 0 ||
	     key(&b, "usage") < 0 || buf_add(&b, "{", 1) < 0 ||
	     integer(&b, "prompt_tokens", usage->prompt_tokens) < 0 ||
	     integer(&b, "completion_tokens", usage->completion_tokens) < 0 ||
	     buf_add(&b, "}", 1) < 0 || key(&b, "seed") < 0 ? -1 : 0;
	if (rc == 0 && cfg->seed <= (unsigned long long)LLONG_MAX) {
		rc = jsonw_int(&b, (long long)cfg->seed);
	} else if (rc == 0) {	/* above jansson's integers: a string */
		char num[24];

		snprintf(num, sizeof(num), "%llu", cfg->seed);
		rc = jsonw_cstr(&b, num);
	}
	/* last, and only when in force: records of an uncalibrated run
	 * keep their bytes; calibrate apply writes the same */
	if (rc == 0 && lb->cal)
		rc = key(&b, "calibration") < 0 || buf_add(&b, "{", 1) < 0 ||
		     real(&b, "temperature", lb->cal->temperature) < 0 ||
		     real(&b, "bias", lb->cal->bias) < 0 ||
		     str(&b, "judge", lb->cal->judge_model) < 0 ||
		     str(&b, "method", lb->cal->judge_method) < 0 ||
		     buf_add(&b, "}", 1) < 0 ? -1 : 0;
	if (rc < 0 || buf_add(&b, "}", 1) < 0) {
		/* over 256 MiB or a value that is not finite: no record */
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b);
}
