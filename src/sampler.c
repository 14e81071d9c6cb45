/* sampler.c - the sampling machine: k answers per prompt. */
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
static void on_again(struct call *c);

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
	c->prompt_id = sj->pr->id;
	c->done = on_reply;
	c->owner = sj;
	c->tag = (int)k;
}

/* k n=1 requests side by side. */
static void send_two(struct sample_job *sj)
{
	int k = sj->k;

	sj->pending = k;
	for (int i = 0; i < k; i++)
		params(sj, &sj->call[i], 1, (uint64_t)i + 1);
	for (int i = 0; i < k; i++)
		exec_send(sj->x, &sj->call[i]);	/* the last may finish
						 * the machine */
}

/* Does a failed n=2 request say the server cannot do n > 1? Other 400s
 * are ordinary failures. */
static bool refuses_n(const struct call *c)
{
	const char *b = call_errbody(c);

	return c->status == 400 && !c->stopped &&
	       (strstr(b, "choice") || strstr(b, "'n'") ||
		strstr(b, "\"n\""));
}

static void fall_back(struct sample_job *sj)
{
	if (atomic_exchange(&sj->sh->n_mode, N_ONE) != N_ONE &&
	    atomic_exchange(&sj->sh->fell_back, 1) == 0)
		fprintf(stderr, "caigen: the policy server does not return "
			"%d choices per request; making %s calls per "
			"prompt\n", sj->k, sj->k == 2 ? "two" : "one-choice");
}

/* Keep choice i of r as answer k (its text and finish reason). */
static void take(struct sample_job *sj, int k, const struct chat_reply *r,
		 size_t i)
{
	free(sj->text[k]);
	free(sj->finish[k]);
	sj->text[k] = xstrdup(r->text[i] ? r->text[i] : "");
	sj->finish[k] = r->finish[i] ? xstrdup(r->finish[i]) : NULL;
}


static void count(struct sample_job *sj, atomic_long *counter)
{
	if (sj->sh->counts)
		atomic_fetch_add(counter, 1);
}

/* One more answer k with a derived seed (guard.h). */
static void again(struct sample_job *sj, int k, const char *purpose,
		  uint64_t index)
{
	struct call *c = &sj->call[0];

	params(sj, c, 1, 0);
	c->cp.seed = guard_seed(sj->cfg->seed, sj->pr->id, purpose, index);
	c->done = on_again;
	c->tag = k;
	exec_send(sj->x, c);
}

static void fail(struct sample_job *sj, const char *msg);

/* What answer 0 is compared with by the identical guard: answer 1 of
 * two; of more, the first that differs from answer 0, so the guard only
 * acts when all are the same. */
static const char *other(const struct sample_job *sj)
{
	for (int i = 1; i < sj->k; i++)
		if (!guard_same_text(sj->text[0], sj->text[i]))
			return sj->text[i];
	return sj->text[1];
}

/* The guards on the pair so far: cut answers, then identical ones. Sends
 * one more sample or ends the machine. */
static void guard(struct sample_job *sj)
{
	const struct config *cfg = sj->cfg;
	struct guard_counts *g = sj->sh->counts;

	for (int k = 0; k < sj->k; k++) {
		if (sj->settled[k])
			continue;
		switch (guard_cut_verdict((enum guard_cut_mode)cfg->truncated,
					  guard_is_cut(sj->finish[k]),
					  sj->tries[k])) {
		case GUARD_ACCEPT:
			break;
		case GUARD_KEEP_CUT:
			count(sj, &g->truncated_kept);
			break;
		case GUARD_RETRY:
			count(sj, &g->truncated_retries);
			sj->tries[k]++;
			again(sj, k, "truncated", sj->cut_index[k]);
			return;
		default:
			count(sj, &g->truncated_failed);
			fail(sj, "truncated");
			sj->finished(sj);
			return;
		}
		sj->settled[k] = true;
	}
	switch (guard_same_verdict((enum guard_same_mode)cfg->identical,
				   sj->text[0], other(sj), sj->resamples,
				   cfg->identical_resamples)) {
	case GUARD_ACCEPT:
		break;
	case GUARD_KEEP_CUT:
		count(sj, &g->identical_kept);
		break;
	case GUARD_RETRY:
		count(sj, &g->identical_resamples);
		/* the new answer 2 goes through the cut guard again */
		sj->settled[1] = false;
		sj->tries[1] = 0;
		sj->cut_index[1] = (uint64_t)sj->k +
				   (uint64_t)sj->resamples;
		again(sj, 1, "identical", (uint64_t)sj->resamples++);
		return;
	default:
		count(sj, &g->identical_failed);
		fail(sj, "identical responses");
		break;
	}
	sj->finished(sj);
}

static void on_again(struct call *c)
{
	struct sample_job *sj = c->owner;

	if (c->rc < 0) {
		fail(sj, call_errmsg(c));
		sj->finished(sj);
		return;
	}
	take(sj, c->tag, &c->reply, 0);
	chat_usage_add(&sj->usage, &c->reply.usage);
	chat_reply_release(&c->reply);
	guard(sj);
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

	if (c->tag == 0) {	/* the n=k request */
		if (c->rc == 0 && c->reply.n >= (size_t)sj->k) {
			for (int i = 0; i < sj->k; i++)
				take(sj, i, &c->reply, (size_t)i);
			chat_usage_add(&sj->usage, &c->reply.usage);
			chat_reply_release(&c->reply);
			guard(sj);
			return;
		}
		if (c->rc == 0) {
			chat_reply_release(&c->reply);
			if (sj->cfg->n == N_TWO) {
				if (sj->k == 2)
					fail(sj, "the policy server returned "
					     "1 choice for n=2 (set policy.n: "
					     "1)");
				else
					fail(sj, "the policy server returned "
					     "fewer choices than asked for "
					     "(set policy.n: 1)");
				sj->finished(sj);
				return;
			}
		} else if (sj->cfg->n == N_TWO || !refuses_n(c)) {
			fail(sj, call_errmsg(c));
			sj->finished(sj);
			return;
		}
		fall_back(sj);
		send_two(sj);
		return;
	}
	if (c->rc < 0) {
		fail(sj, call_errmsg(c));
	} else {
		take(sj, c->tag - 1, &c->reply, 0);
		chat_usage_add(&sj->usage, &c->reply.usage);
		chat_reply_release(&c->reply);
	}
	if (--sj->pending > 0)
		return;
	if (sj->rc < 0)
		sj->finished(sj);
	else
		guard(sj);
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
	sj->k = cfg->responses > 2 ? cfg->responses : 2;
	if (sj->k > RANK_MAX)
		sj->k = RANK_MAX;
	/* two answers keep their calls in the job, as items are many */
	sj->call = sj->k > 2 ? xcalloc((size_t)sj->k, sizeof(*sj->call)) :
		   sj->call2;
	for (int i = 0; i < sj->k; i++)
		sj->cut_index[i] = (uint64_t)i;
	if (atomic_load(&sh->n_mode) == N_ONE ||
	    sj->k > PROVIDER_MAX_CHOICES) {
		send_two(sj);
		return;
	}
	sj->pending = 1;
	params(sj, &sj->call[0], sj->k, 0);
	exec_send(x, &sj->call[0]);
}

void sample_job_release(struct sample_job *sj)
{
	int ncalls = sj->call == sj->call2 ? 2 : sj->call ? sj->k : 0;

	for (int i = 0; i < ncalls; i++)
		call_forget(&sj->call[i]);
	if (sj->call && sj->call != sj->call2)
		free(sj->call);
	sj->call = NULL;
	for (int k = 0; k < RANK_MAX; k++) {
		free(sj->text[k]);
		free(sj->finish[k]);
		sj->text[k] = sj->finish[k] = NULL;
	}
}
