/*
 * dryrun.c - `caigen run --dry-run`: every request of the run is built by
 * the pipeline's own builders and handed to a recording transport instead
 * of the network (see dryrun.h).
 *
 * DESIGN. The judge and the critique machines (judgecall.h, critique.h)
 * send their calls through an executor (call.h), so the dry run is one:
 * its send prints or counts the request and answers at once with a
 * placeholder reply parsed by provider_parse_chat, and the machine runs to
 * its end inside its start function.
 * The policy's sampling request is built here from the same fields the
 * pipeline's sampler fills (model, messages, sampling settings, n, the
 * keyed seed); the test compares it with what the fake server receives
 * in a real run, so the two cannot drift apart unnoticed.
 */
#include "dryrun.h"
#include "http.h"
#include "promptgen.h"
#include "critique.h"
#include "idset.h"
#include "judgecall.h"
#include "prompts.h"
#include "provider.h"
#include "ranking.h"
#include "rng.h"
#include "runrules.h"
#include "writer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ANSWER_1 "<answer 1>"
#define ANSWER_2 "<answer 2>"
#define REPLY "<reply>"
#define REASONING "<reasoning>"


struct tally {
	unsigned long long requests;
	double in_tokens, out_tokens;	/* estimates */
};

struct dryrun {
	const struct dryrun_opts *o;
	FILE *out;
	size_t shown;
	struct tally t[ROLE_COUNT];
	/* the prompt being planned */
	const char *id;
	bool said_answers, said_reply, said_reasoning;	/* placeholders
							 * explained */
};

/* The dry run's executor (call.h): every call is recorded and answered
 * at once with a placeholder, so the machines run to their end inside
 * their start function. */
struct recorder {
	struct exec x;		/* first */
	struct dryrun *d;
};

/* What a machine's finished function leaves here. */
struct outcome {
	int rc;
	struct err err;
};

static const struct endpoint *role_ep(const struct config *cfg,
				      enum role r)
{
	return ranking_role_endpoint(cfg, r);	/* a panel's members too */
}

/* The first server's base URL (a pool sends to all of them in turn). */
static const char *role_base(const struct endpoint *ep)
{
	return ep->nbase_urls ? ep->base_urls[0] : ep->base_url;
}

static size_t count_str(const char *s, const char *needle, size_t *bytes)
{
	size_t n = 0, len = strlen(needle);

	for (const char *p = s; (p = strstr(p, needle)); p += len)
		n++;
	*bytes += n * len;
	return n;
}

/* The key header with the key itself replaced by "***". */
static void print_key_header(FILE *f, int api, const char *key)
{
	char *h = provider_key_header(api, key);
	const char *at = h ? strstr(h, key) : NULL;

	if (at)
		fprintf(f, "%.*s***\n", (int)(at - h), h);
	provider_free_secret(h);
}

static void print_request(struct dryrun *d, enum role r, const char *body,
			  size_t len, int api)
{
	const struct endpoint *ep = role_ep(d->o->cfg, r);
	char *raw = provider_url(role_base(ep), api);
	char *url = url_mask(raw);	/* shown: no password */
	FILE *f = d->out;

	free(raw);

	fprintf(f, "--- request %zu: %s, prompt '%s'", d->shown + 1,
		r == ROLE_POLICY ? "policy" : "judge", d->id);
	if (r > ROLE_JUDGE)
		fprintf(f, " (panel member %d)", (int)r - ROLE_JUDGE);
	if (ep->nbase_urls > 1)
		fprintf(f, " (to one of %zu servers)", ep->nbase_urls);
	fputc('\n', f);
	if (!d->said_answers && strstr(body, ANSWER_1)) {
		fprintf(f, "(placeholders: \"%s\" and \"%s\" stand for the "
			"policy's two answers, which a real run sends)\n",
			ANSWER_1, ANSWER_2);
		d->said_answers = true;
	}
	if (!d->said_reply && strstr(body, REPLY)) {
		fprintf(f, "(placeholder: \"%s\" stands for an earlier reply "
			"of the model, which a real run sends)\n", REPLY);
		d->said_reply = true;
	}
	if (!d->said_reasoning && strstr(body, REASONING)) {
		fprintf(f, "(placeholder: \"%s\" stands for the judge's "
			"reasoning from the previous request)\n", REASONING);
		d->said_reasoning = true;
	}
	fprintf(f, "POST %s\n", url);
	if (ep->api_key)
		print_key_header(f, api, ep->api_key);
	if (provider_fixed_header(api))
		fprintf(f, "%s\n", provider_fixed_header(api));
	fprintf(f, "Content-Type: application/json\n"
		"User-Agent: caigen/%s\n\n", CAIGEN_VERSION);
	fwrite(body, 1, len, f);
	fputs("\n\n", f);
	free(url);
}

static const struct config *role_cfg(const struct config *cfg,
				     enum role r);

/* Count (and maybe print) one request as the run would send it. */
static void record(struct dryrun *d, enum role r, const struct chat_params *cp)
{
	const struct config *cfg = d->o->cfg;
	struct chat_params flav = *cp;
	struct tally *t = &d->t[r];
	size_t len, ph_bytes = 0, nph, nreason;
	char *body;

	flav.api = role_ep(cfg, r)->api;
	body = provider_body(&flav, &len);
	nph = count_str(body, ANSWER_1, &ph_bytes) +
	      count_str(body, ANSWER_2, &ph_bytes) +
	      count_str(body, REPLY, &ph_bytes);
	for (int i = 3; i <= cfg->responses; i++) {	/* ranked: more */
		char ph[24];

		snprintf(ph, sizeof(ph), "<answer %d>", i);
		nph += count_str(body, ph, &ph_bytes);
	}
	nreason = count_str(body, REASONING, &ph_bytes);
	t->requests++;
	t->in_tokens += (double)(len - ph_bytes) / 4 +
			(double)nph * cfg->policy.max_tokens +
			(double)nreason * role_cfg(cfg, r)->cot_max_tokens;
	t->out_tokens += (double)cp->max_tokens * (cp->n > 1 ? cp->n : 1);
	if (d->shown < d->o->show) {
		print_request(d, r, body, len, flav.api);
		d->shown++;
	}
	free(body);
}

/* The settings a role's calls are made with: a panel member's view. */
static const struct config *role_cfg(const struct config *cfg, enum role r)
{
	size_t m = r > ROLE_JUDGE ? (size_t)(r - ROLE_JUDGE) : 0;

	return m && m <= cfg->nmembers ? cfg->member_views[m - 1] : cfg;
}

/* Is this the judge's chain-of-thought call (reasoning, no letter)? */
static bool reasoning_call(const struct config *cfg,
			   const struct chat_params *cp)
{
	return cfg->cot && !cp->logprobs &&
	       cp->max_tokens == cfg->cot_max_tokens &&
	       cfg->cot_max_tokens != cfg->judge.max_tokens;
}

/*
 * A reply the callers can read: n choices whose text is a placeholder
 * (the policy's: ANSWER_1, ANSWER_2, or REPLY; the judge's reasoning:
 * REASONING), or for the judge the letter A with its logprobs; and a
 * usage block.
 */
static int placeholder_reply(const struct config *cfg, enum role r,
			     const struct chat_params *cp,
			     struct chat_reply *out, struct err *err)
{
	json_t *choices = json_array(), *root;
	int n = cp->n > 1 ? cp->n : 1, rc;
	bool letter = r >= ROLE_JUDGE && !reasoning_call(role_cfg(cfg, r),
							  cp);
	char *s;

	for (int i = 0; i < n; i++) {
		json_t *c = json_object();
		char more[24];
		const char *text = letter ? "A" :
				   r >= ROLE_JUDGE ? REASONING :
				   n > 1 ? (i ? ANSWER_2 : ANSWER_1) : REPLY;

		if (n > 2 && i >= 2 && !letter && r == ROLE_POLICY) {
			snprintf(more, sizeof(more), "<answer %d>", i + 1);
			text = more;
		}

		json_object_set_new(c, "index", json_integer(i));
		json_object_set_new(c, "message", json_pack("{s:s,s:s}",
			"role", "assistant", "content", text));
		json_object_set_new(c, "finish_reason", json_string("stop"));
		if (letter)
			json_object_set_new(c, "logprobs", json_pack(
				"{s:[{s:s,s:f,s:[{s:s,s:f},{s:s,s:f}]}]}",
				"content", "token", "A", "logprob", -0.1,
				"top_logprobs", "token", "A", "logprob", -0.1,
				"token", "B", "logprob", -2.4));
		json_array_append_new(choices, c);
	}
	root = json_pack("{s:s,s:o,s:{s:i,s:i}}", "object", "chat.completion",
			 "choices", choices, "usage", "prompt_tokens", 0,
			 "completion_tokens", 0);
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	rc = provider_parse_chat(s, out, err);
	free(s);
	return rc;
}

static void recorder_send(struct exec *x, struct call *c)
{
	struct recorder *rec = (struct recorder *)x;
	struct err e;

	call_forget(c);
	record(rec->d, (enum role)c->role, &c->cp);
	c->stopped = false;
	c->status = 200;
	c->rc = placeholder_reply(rec->d->o->cfg, (enum role)c->role, &c->cp,
				  &c->reply, &e);
	if (c->rc < 0)
		*call_err(c) = e;
	c->done(c);
}

static void critique_finished(struct critique_job *cj)
{
	struct outcome *oc = cj->owner;

	oc->rc = cj->rc;
	oc->err = cj->err;
	if (cj->rc == 0)
		critique_chain_release(&cj->out);
	critique_job_release(cj);
}

static void judge_finished(struct pair_job *pj)
{
	struct outcome *oc = pj->owner;

	oc->rc = pj->rc;
	oc->err = pj->err;
	if (pj->rc == 0)
		pair_label_release(&pj->out);
	judgecall_release(pj);
}

/* Whether the sampler asks for all answers in one request (sampler.c:
 * sample_shared_init and sample_start): not with policy.n: 1, not on
 * Anthropic's API, which has no n, and not for more answers than a reply
 * may hold. */
static bool policy_uses_n(const struct config *cfg, int k)
{
	return cfg->n != N_ONE && cfg->policy.api != API_ANTHROPIC &&
	       k <= PROVIDER_MAX_CHOICES;
}

/* The policy's sampling request(s), as the pipeline's sampler builds
 * them: n=2 in one request unless policy.n is 1, then two with n=1; with
 * responses: k, n=k, or k requests with n=1 (see policy_uses_n). */
static void plan_sample(struct dryrun *d, const struct prompt *pr)
{
	const struct config *cfg = d->o->cfg;
	struct chat_params cp = {
		.model = cfg->policy.model,
		.messages = pr->messages,
		.temperature = cfg->policy.temperature,
		.top_p = cfg->policy.top_p,
		.max_tokens = cfg->policy.max_tokens,
		.n = 1,
		.has_seed = true,
	};
	int k = cfg->responses > 2 && cfg->mode == MODE_PREFERENCES ?
		cfg->responses : 2;

	if (policy_uses_n(cfg, k)) {
		cp.n = k;
		cp.seed = rng_u64(cfg->seed, pr->id, "sample", 0);
		record(d, ROLE_POLICY, &cp);
		return;
	}
	for (int i = 0; i < k; i++) {
		cp.seed = rng_u64(cfg->seed, pr->id, "sample", 1 + (uint64_t)i);
		record(d, ROLE_POLICY, &cp);
	}
}

static void rank_finished(struct ranking_job *rj)
{
	struct outcome *oc = rj->owner;

	oc->rc = rj->rc;
	oc->err = rj->err;
	ranking_release(rj);
}

/* The judges of the run, as item.c builds them for a ranked prompt. */
static void dry_panel(const struct config *cfg, struct ranking_panel *p,
		      struct judge_shared *sh)
{
	p->n = 1 + (int)cfg->nmembers;
	for (int m = 0; m < p->n; m++) {
		p->cfg[m] = m ? cfg->member_views[m - 1] : cfg;
		atomic_init(&sh[m].no_logprobs, 0);
		sh[m].counts = NULL;
		p->sh[m] = &sh[m];
	}
}

/* A ranked prompt's judging (ranking.h) on placeholder answers, or on
 * the given ones (label's pairs). */
static int plan_rank(struct dryrun *d, struct recorder *rec,
		     const struct prompt *pr, int k, char *const *given,
		     struct err *err)
{
	const struct config *cfg = d->o->cfg;
	struct judge_shared sh[RANKING_MEMBERS_MAX];
	struct ranking_panel panel;
	struct ranking_job rj;
	struct outcome oc = { -1, { "" } };
	char *text[RANK_MAX];

	dry_panel(cfg, &panel, sh);
	for (int i = 0; i < k; i++)
		text[i] = given ? xstrdup(given[i]) :
			  xasprintf("<answer %d>", i + 1);
	ranking_start(&rj, &rec->x, cfg, d->o->con, &panel, pr,
		      (const char *const *)text, NULL, k, NULL, rank_finished,
		      &oc);
	for (int i = 0; i < k; i++)
		free(text[i]);
	if (oc.rc < 0)
		*err = oc.err;
	return oc.rc;
}

static int plan_prompt(struct dryrun *d, const struct prompt *pr,
		       struct err *err)
{
	const struct dryrun_opts *o = d->o;
	const struct config *cfg = o->cfg;
	struct recorder rec = { { recorder_send }, d };
	struct judge_shared sh;
	struct critique_job cj;
	struct pair_job pj;
	struct outcome oc = { -1, { "" } };

	atomic_init(&sh.no_logprobs, 0);
	d->id = pr->id;
	if (promptgen_active()) {
		/* caigen prompts generate/persuade: one request a line */
		struct call c;

		promptgen_params(&c, cfg, pr);
		record(d, (enum role)c.role, &c.cp);
		return 0;
	}
	if (cfg->mode == MODE_PREFERENCES) {
		plan_sample(d, pr);
	} else {
		critique_start(&cj, &rec.x, cfg, o->con, pr,
			       critique_finished, &oc);
		if (oc.rc < 0) {
			*err = oc.err;
			return -1;
		}
		if (cfg->mode == MODE_CRITIQUES)
			return 0;
	}
	if ((cfg->responses > 2 && cfg->mode == MODE_PREFERENCES) ||
	    cfg->nmembers > 0)
		return plan_rank(d, &rec, pr, cfg->mode == MODE_PREFERENCES &&
				 cfg->responses > 2 ? cfg->responses : 2, NULL,
				 err);
	oc.rc = -1;
	judgecall_start(&pj, &rec.x, cfg->judge.api, cfg, o->con, &sh, pr->id,
			pr->messages, ANSWER_1, ANSWER_2, judge_finished, &oc);
	if (oc.rc < 0) {
		*err = oc.err;
		return -1;
	}
	return 0;
}

/* A pair of label's feed: judged as item.c judges one, on its replies
 * (a panel through the ranking machine). */
static int plan_pair(struct dryrun *d, const struct prompt *pr,
		     char *const resp[2], struct err *err)
{
	const struct config *cfg = d->o->cfg;
	struct recorder rec = { { recorder_send }, d };
	struct judge_shared sh;
	struct pair_job pj;
	struct outcome oc = { -1, { "" } };

	atomic_init(&sh.no_logprobs, 0);
	d->id = pr->id;
	if (cfg->nmembers > 0)
		return plan_rank(d, &rec, pr, 2, resp, err);
	judgecall_start(&pj, &rec.x, cfg->judge.api, cfg, d->o->con, &sh,
			pr->id, pr->messages, resp[0], resp[1], judge_finished,
			&oc);
	if (oc.rc < 0) {
		*err = oc.err;
		return -1;
	}
	return 0;
}

/* Ids already in a records file of an earlier run (read only). */
static void read_done(const char *path, struct idset *done)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *id;

		if (line[n - 1] != '\n')
			break;	/* a partial last line: the run cuts it */
		id = writer_line_id(line, (size_t)n);
		if (id)
			idset_add(done, idset_hash(id));
		free(id);
	}
	free(line);
	fclose(f);
}

/* USD for the estimate, or NAN when a model has no price. */
static double role_cost(const struct config *cfg, enum role r,
			const struct tally *t)
{
	double in, out;

	if (!t->requests)
		return 0;
	if (!config_rates(cfg, role_ep(cfg, r), &in, &out))
		return NAN;
	return t->in_tokens * in + t->out_tokens * out;
}

/* Ranked runs: the judge requests per prompt by the formula of rank.h. */
static void print_rank_plan(FILE *f, const struct config *cfg)
{
	struct judge_shared sh[RANKING_MEMBERS_MAX];
	struct ranking_panel panel;
	int k = cfg->mode == MODE_PREFERENCES && cfg->responses > 2 ?
		cfg->responses : 2;

	dry_panel(cfg, &panel, sh);
	fprintf(f, "  (responses: %d, pairs: %s: %d pairs per prompt, %s, "
		"%d judge%s: %ld judge requests per prompt; fewer when "
		"identical answers are collapsed)\n", k, cfg->pairs,
		rank_npairs(cfg->pairs_mode, cfg->pairs_m, k),
		cfg->both_orders ? "both orders" : "one order", panel.n,
		panel.n > 1 ? "s" : "", ranking_requests(&panel, k));
}

static void print_plan(struct dryrun *d, size_t todo, size_t done,
		       size_t rejects, size_t other_shard)
{
	const struct config *cfg = d->o->cfg;
	int roles = ROLE_JUDGE + 1 + (int)cfg->nmembers;
	unsigned long long requests = 0;
	double tokens = 0;
	double cost = 0;
	bool unknown = false;
	FILE *f = d->out;
	int ks = cfg->responses > 2 && cfg->mode == MODE_PREFERENCES ?
		 cfg->responses : 2;

	fprintf(f, "plan: %zu %s to do", todo, d->o->feed ? "pairs" :
		"prompts");
	fprintf(f, " (%zu already done in '%s', %zu input lines rejected",
		done, cfg->out, rejects);
	if (d->o->shard.n > 1)
		fprintf(f, ", %zu in other shards", other_shard);
	fprintf(f, ")\n");
	for (int r = 0; r < roles; r++) {
		const struct endpoint *ep = role_ep(cfg, (enum role)r);
		const struct tally *t = &d->t[r];
		double c = role_cost(cfg, (enum role)r, t);
		char name[16];

		if (r == ROLE_POLICY && d->o->feed)
			continue;	/* label, eval: the replies exist */
		/* a panel: one row (requests, tokens, cost) per member */
		if (r > ROLE_JUDGE)
			snprintf(name, sizeof(name), "judge%d",
				 r - ROLE_JUDGE);
		else
			snprintf(name, sizeof(name), "%s", r == ROLE_POLICY ?
				 "policy" : "judge");
		requests += t->requests;
		tokens += t->in_tokens + t->out_tokens;
		char *shown = url_mask(role_base(ep));

		fprintf(f, "  %-6s %s model '%s'", name, shown, ep->model);
		/* the wire, when not plain HTTP/1.1 by default (http.h) */
		if (ep->executor != EXEC_BATCH &&
		    (ep->http != HTTP_AUTO ||
		     strcmp(http_wire_name(ep->http, role_base(ep)),
			    "HTTP/1.1")))
			fprintf(f, " over %s", http_wire_name(ep->http,
							      role_base(ep)));
		fprintf(f, ": %llu %srequests", t->requests,
			ep->executor == EXEC_BATCH ? "batch " : "");
		free(shown);
		if (r == ROLE_POLICY && cfg->mode == MODE_PREFERENCES &&
		    cfg->n == N_AUTO && policy_uses_n(cfg, ks) &&
		    t->requests)
			fprintf(f, " (%llu if the server cannot return %d "
				"choices per request)", (unsigned long long)
				ks * t->requests, ks);
		fprintf(f, ", about %.0f input + %.0f output tokens",
			t->in_tokens, t->out_tokens);
		if (isnan(c)) {
			fprintf(f, ", cost unknown (no price for '%s')",
				ep->model);
			unknown = true;
		} else if (t->requests) {
			fprintf(f, ", $%.4f", c);
			cost += c;
		}
		fputc('\n', f);
	}
	if (cfg->cot)
		fprintf(f, "  (judge.cot: each judgment is two requests, the "
			"reasoning then the letter)\n");
	if ((cfg->responses > 2 && cfg->mode == MODE_PREFERENCES) ||
	    cfg->nmembers > 0)
		print_rank_plan(f, cfg);
	if (cfg->votes > 0)
		fprintf(f, "  (a judge that refuses logprobs is sampled %d "
			"times per judgment instead: judge.votes)\n",
			cfg->votes);
	fprintf(f, "  total: %llu requests, about %.0f tokens", requests,
		tokens);
	if (unknown)
		fprintf(f, "; cost unknown: add the models to 'prices'\n");
	else
		fprintf(f, "; estimated cost $%.4f (an upper bound: every "
			"reply at max_tokens)\n", cost);
	fprintf(f, "dry run: nothing was sent and no file was written\n");
}

int dryrun_run(const struct dryrun_opts *o, FILE *out, struct err *err)
{
	const struct config *cfg = o->cfg;
	struct dryrun d = { .o = o, .out = out };
	struct idset done, done2;
	struct prompts *in;
	size_t todo = 0, skipped = 0, rejects = 0, other = 0;
	long long taken = 0;
	bool two = cfg->mode == MODE_BOTH;
	char *path;
	int rc = -1;

	/* what run refuses, the dry run refuses, first (runrules.h) */
	if (runrules_check(cfg, false, false, err) < 0)
		return -1;
	idset_init(&done);
	idset_init(&done2);
	path = xasprintf("%s/%s%s.jsonl", cfg->out, cfg->mode ==
			 MODE_PREFERENCES ? "preferences" : "critiques",
			 o->suffix);
	read_done(path, &done);
	free(path);
	if (two) {
		path = xasprintf("%s/preferences%s.jsonl", cfg->out,
				 o->suffix);
		read_done(path, &done2);
		free(path);
	}
	if (!o->feed) {
		in = prompts_open(cfg->prompts, cfg->max_line_bytes, err);
		if (!in)
			goto out;
		prompts_only_shard(in, &o->shard);	/* memory follows the
							 * shard */
	} else {
		in = NULL;
	}
	for (;;) {
		struct prompt pr;
		struct reject rj;
		enum prompts_status st;
		char *resp[2] = { NULL, NULL }, *extra = NULL;

		if (cfg->limit > 0 && taken >= cfg->limit)
			break;
		st = o->feed ? o->feed->next(o->feed->ctx, &pr, resp, &extra,
					     &rj, err) :
			       prompts_next(in, &pr, &rj, err);
		if (st == PROMPTS_EOF)
			break;
		if (st == PROMPTS_ERROR)
			goto out_in;
		taken++;
		if (st == PROMPTS_REJECT) {
			if (o->shard.n > 1 && o->shard.k)
				other++;
			else
				rejects++;
			reject_release(&rj);
			continue;
		}
		if (o->shard.n > 1 && !shard_owns(&o->shard, pr.id)) {
			other++;
		} else if (idset_has(&done, idset_hash(pr.id)) &&
			   (!two || idset_has(&done2, idset_hash(pr.id)))) {
			skipped++;
		} else if ((o->feed ? plan_pair(&d, &pr, resp, err) :
			    plan_prompt(&d, &pr, err)) < 0) {
			prompt_release(&pr);
			free(resp[0]);
			free(resp[1]);
			free(extra);
			goto out_in;
		} else {
			todo++;
		}
		prompt_release(&pr);
		free(resp[0]);
		free(resp[1]);
		free(extra);
	}
	if (!d.shown)
		fprintf(out, "(no request to show: no prompt left to do)\n");
	print_plan(&d, todo, skipped, rejects, other);
	rc = 0;
out_in:
	if (in)
		prompts_close(in);
out:
	idset_release(&done);
	idset_release(&done2);
	return rc;
}
