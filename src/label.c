/*
 * label.c - existing pairs as the pipeline's input (label.h).
 */
#include "label.h"
#include "cost.h"
#include "eval.h"
#include "evasive.h"
#include "provenance.h"
#include "review.h"
#include "rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

bool label_swapped(unsigned long long seed, const char *id)
{
	return rng_unit(seed, id, "label-swap", 0) >= 0.5;
}

/* The record's "reference" member for a pair shown swapped or not. */
static char *reference(const struct pair *p, bool swap)
{
	json_t *o;
	char *members;
	int pref = p->label;

	if (p->label == PAIR_NONE)
		return NULL;
	if (swap && pref != PAIR_TIE)
		pref = 1 - pref;
	o = json_pack("{s:{s:o,s:s,s:O}}", "reference",
		      "preferred", pref == PAIR_TIE ? json_null() :
		      json_integer(pref),
		      "format", pairs_format_name(p->format),
		      "tags", p->tags);
	members = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	/* "{...}" -> "..." */
	memmove(members, members + 1, strlen(members));
	members[strlen(members) - 1] = '\0';
	return members;
}

static enum prompts_status feed_next(void *ctx, struct prompt *pr,
				     char *resp[2], char **extra,
				     struct reject *rj, struct err *err)
{
	struct label_feed *lf = ctx;
	struct pair p;
	size_t line;
	char *reason;
	enum pairs_status st;
	bool swap;

	memset(pr, 0, sizeof(*pr));
	memset(rj, 0, sizeof(*rj));
	st = pairs_next(lf->in, &p, &line, &reason, err);
	lf->st = (struct prompts_stats){ pairs_stats(lf->in)->lines,
		pairs_stats(lf->in)->blank, pairs_stats(lf->in)->ok,
		pairs_stats(lf->in)->rejected };
	if (st == PAIRS_EOF)
		return PROMPTS_EOF;
	if (st == PAIRS_ERROR)
		return PROMPTS_ERROR;
	if (st == PAIRS_REJECT) {
		rj->line = line;
		rj->reason = reason;
		return PROMPTS_REJECT;
	}
	swap = label_swapped(lf->seed, p.id);
	*extra = reference(&p, swap);
	pr->index = p.index;
	pr->id = p.id;
	pr->text = p.text;
	pr->messages = p.messages;
	resp[0] = p.resp[swap];
	resp[1] = p.resp[!swap];
	json_decref(p.tags);
	return PROMPTS_OK;
}

static const struct prompts_stats *feed_stats(void *ctx)
{
	return &((struct label_feed *)ctx)->st;
}

int label_feed_open(struct label_feed *lf, const char *path,
		    enum pairs_format f, size_t max_line,
		    unsigned long long seed, struct err *err)
{
	memset(lf, 0, sizeof(*lf));
	lf->in = pairs_open(path, f, max_line, err);
	if (!lf->in)
		return -1;
	lf->seed = seed;
	lf->feed.ctx = lf;
	lf->feed.next = feed_next;
	lf->feed.stats = feed_stats;
	return 0;
}

void label_feed_close(struct label_feed *lf)
{
	pairs_close(lf->in);
	lf->in = NULL;
}

int label_eval_report(const struct config *cfg, const char *suffix,
		      const struct run_counts *counts, int boot, bool json,
		      const char *html, const char *input)
{
	struct eval_opts eo = { cfg->seed, boot, NAN, NAN, 0 };
	struct eval *ev = eval_new(&eo);
	struct chat_usage u[ROLE_COUNT];
	long long tin = 0, tout = 0, rin = 0, rout = 0;
	char *path = xasprintf("%s/preferences%s.jsonl", cfg->out, suffix);
	char *jpath = xasprintf("%s/eval%s.json", cfg->out, suffix);
	char *tmp = xasprintf("%s.tmp", jpath);
	char *rpath = xasprintf("%s/%s", cfg->out, REVIEWS_FILE);
	struct reviews rv;
	struct evasive_list rl = { NULL, 0, NULL };
	json_t *rep = NULL, *prov;
	char *text = NULL;
	struct err err;
	int rc = -1;

	reviews_init(&rv);
	if (evasive_load(&rl, NULL, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	eval_set_refusals(ev, &rl);
	if (access(rpath, F_OK) == 0) {	/* caigen review's, if any */
		if (reviews_read(&rv, rpath, &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
		eval_set_reviews(ev, &rv);
	}
	if (eval_read_file(ev, path, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	/* the file's judge tokens, split between the judges (a panel) as
	 * this run's were, each at its own model's price */
	eval_tokens(ev, &tin, &tout);
	memset(u, 0, sizeof(u));
	for (int r = ROLE_JUDGE; r < ROLE_COUNT; r++) {
		rin += counts->usage_role[r].prompt_tokens;
		rout += counts->usage_role[r].completion_tokens;
	}
	for (int r = ROLE_JUDGE; r < ROLE_COUNT; r++) {
		const struct chat_usage *o = &counts->usage_role[r];

		u[r].prompt_tokens = rin ? (long long)((double)tin *
			(double)o->prompt_tokens / (double)rin + 0.5) :
			r == ROLE_JUDGE ? tin : 0;
		u[r].completion_tokens = rout ? (long long)((double)tout *
			(double)o->completion_tokens / (double)rout + 0.5) :
			r == ROLE_JUDGE ? tout : 0;
	}
	eval_set_cost(ev, cfg->nprices ? cost_usd(cfg, u) : NAN,
		      counts->written ? counts->seconds : NAN,
		      counts->written);
	rep = eval_report(ev);
	/* what made it: the records' judges, not this command line's */
	prov = provenance_json(eval_judges(ev));
	json_object_set_new(prov, "input", json_string(input ? input : path));
	json_object_set_new(rep, "provenance", prov);
	text = json_dumps(rep, JSON_INDENT(2));
	free(tmp);
	tmp = xasprintf("%s\n", text);
	if (write_file_atomic(jpath, tmp, strlen(tmp), &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (html && eval_html_write(rep, html, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (json) {
		printf("%s\n", text);
	} else {
		eval_print_text(stdout, rep);
	}
	rc = 0;
out:
	free(text);
	json_decref(rep);
	eval_free(ev);
	evasive_release(&rl);
	reviews_release(&rv);
	free(rpath);
	free(path);
	free(jpath);
	free(tmp);
	return rc;
}

