/*
 * dryrun.h - `caigen run --dry-run`: show what a run would send, and how
 * much, without sending anything.
 *
 * Everything a real run loads is loaded and checked first (by main.c: the
 * config, the constitutions); then the prompts file is read once, the way
 * the pipeline reads it (the same --limit, shard and resume rules), and
 * every request the run would make is built by the same code a run
 * uses (provider_body for the policy's sampling request, the judging and
 * critique machines for the rest) through an executor that records the
 * request instead of sending it, and answers with a placeholder reply. Placeholders stand for what only the servers can
 * produce: the judge is shown the replies as "<answer 1>" and "<answer 2>",
 * a critique chain's later turns hold "<reply>", and a chain-of-thought
 * judge's letter request holds "<reasoning>".
 *
 * For `caigen label` and `caigen eval` (o->feed set) the pairs are read
 * through the same feed the run uses (same order, ids, swaps, rejects),
 * and each is judged as the run judges it, on its real replies: the plan
 * has no policy row, and its tokens are those of the real bodies.
 *
 * Output (to `out`): the first `show` requests as they would go on the
 * wire (method and URL, the headers with the key replaced by "***", the
 * JSON body byte for byte), then the plan: prompts to do, requests per
 * endpoint, estimated tokens (request bytes / 4, each placeholder counted
 * as a full policy reply, plus max_tokens per reply asked for) and the
 * cost by the config's price table.
 *
 * No socket is opened and no file is written or locked; the records file
 * of a previous run is only read, to leave out the prompts it holds.
 *
 * Thread-safety: one thread.
 */
#ifndef CAIGEN_DRYRUN_H
#define CAIGEN_DRYRUN_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "constitution.h"
#include "pipeline.h"
#include "shard.h"
#include "util.h"

#define DRYRUN_SHOW_DEFAULT 3	/* requests printed without --dry-run-count */

struct dryrun_opts {
	const struct config *cfg;
	const struct constitution *con;	/* finished (constitution_finish) */
	struct shard shard;		/* n = 1: the whole file */
	const char *suffix;		/* shard suffix of file names, or "" */
	size_t show;			/* requests to print in full */
	/* `caigen label` and `eval`: the pairs (label.h's feed) instead of
	 * the prompts; no policy stage, the judge sees the real replies */
	const struct pair_feed *feed;
};

/* Print the requests and the plan to out. 0, or -1 with err when the
 * prompts cannot be read. */
int dryrun_run(const struct dryrun_opts *o, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

#endif
