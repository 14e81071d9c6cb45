/* sampler.c - the sampling machine: two answers per prompt. */
#include "sampler.h"
#include "rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sample_shared_init(struct sample_shared *sh, const struct config *cfg)
{
	/* Anthropic has no n: two calls from the start */
	atomic_init(&sh->n_mode, cfg->policy.api == API_ANTHROPIC ? N_ONE :
		    (int)cfg->n);
	atomic_init(&sh->fell_back, 0);
}

static void on_reply(struct call *c);

static void params(struct sample_job *sj, struct call *c, int n,
		   uint64_t k)
{
	const struct config *cfg = sj->cfg;
	struct chat_params *cp = &c->cp;

	memset(cp, 0, sizeof(*cp));
	cp->model = cfg->policy.model;
	cp->messages = sj->pr->messages;
	cp->temperature = cfg->policy.temperature;
	cp->top_p = cfg->policy.top_p;
	cp->max_tokens = cfg->policy.max_tokens;
	cp->n = n;
	cp->has_seed = true;
	cp->seed = rng_u64(cfg->seed, sj->pr->id, "sample", k);
	c->role = ROLE_POLICY;
	c->done = on_reply;
	c->owner = sj;
	c->tag = (int)k;
}

/* Two n=1 requests side by side. */
static void send_two(struct sample_job *sj)
{
	sj->pending = 2;
	params(sj, &sj->call[0], 1, 1);
	params(sj, &sj->call[1], 1, 2);
	exec_send(sj->x, &sj->call[0]);
	exec_send(sj->x, &sj->call[1]);	/* may finish the machine */
}

/* Does a failed n=2 request say the server cannot do n > 1? Other 400s
 * are ordinary failures. */
static bool refuses_n(const struct call *c)
{
	const char *b = c->errbody;

	return c->status == 400 && !c->stopped &&
	       (strstr(b, "choice") || strstr(b, "'n'") ||
		strstr(b, "\"n\""));
}

static void fall_back(struct sample_job *sj)
{
	if (atomic_exchange(&sj->sh->n_mode, N_ONE) != N_ONE &&
	    atomic_exchange(&sj->sh->fell_back, 1) == 0)
		fprintf(stderr, "caigen: the policy server does not return "
			"2 choices per request; making two calls per "
			"prompt\n");
}

static void fail(struct sample_job *sj, const char *msg)
{
	if (sj->rc == 0) {
		sj->rc = -1;
		err_set(&sj->err, "%s", msg);
	}
}

static void on_reply(struct call *c)
{
	struct sample_job *sj = c->owner;

	if (c->tag == 0) {	/* the n=2 request */
		if (c->rc == 0 && c->reply.n >= 2) {
			sj->text[0] = xstrdup(c->reply.text[0]);
			sj->text[1] = xstrdup(c->reply.text[1]);
			sj->usage = c->reply.usage;
			chat_reply_release(&c->reply);
			sj->finished(sj);
			return;
		}
		if (c->rc == 0) {
			chat_reply_release(&c->reply);
			if (sj->cfg->n == N_TWO) {
				fail(sj, "the policy server returned 1 "
				     "choice for n=2 (set policy.n: 1)");
				sj->finished(sj);
				return;
			}
		} else if (sj->cfg->n == N_TWO || !refuses_n(c)) {
			fail(sj, c->err.msg);
			sj->finished(sj);
			return;
		}
		fall_back(sj);
		send_two(sj);
		return;
	}
	if (c->rc < 0) {
		fail(sj, c->err.msg);
	} else {
		sj->text[c->tag - 1] = xstrdup(c->reply.text[0] ?
					       c->reply.text[0] : "");
		sj->usage.prompt_tokens += c->reply.usage.prompt_tokens;
		sj->usage.completion_tokens +=
			c->reply.usage.completion_tokens;
		chat_reply_release(&c->reply);
	}
	if (--sj->pending == 0)
		sj->finished(sj);
}

void sample_start(struct sample_job *sj, struct exec *x,
		  const struct config *cfg, const struct prompt *pr,
		  struct sample_shared *sh,
		  void (*finished)(struct sample_job *), void *owner)
{
	memset(sj, 0, sizeof(*sj));
	sj->x = x;
	sj->cfg = cfg;
	sj->pr = pr;
	sj->sh = sh;
	sj->finished = finished;
	sj->owner = owner;
	if (atomic_load(&sh->n_mode) == N_ONE) {
		send_two(sj);
		return;
	}
	sj->pending = 1;
	params(sj, &sj->call[0], 2, 0);
	exec_send(x, &sj->call[0]);
}

void sample_job_release(struct sample_job *sj)
{
	free(sj->text[0]);
	free(sj->text[1]);
	sj->text[0] = sj->text[1] = NULL;
}
