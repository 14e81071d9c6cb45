/*
 * batch.h - the batch executor: item machines (item.h) driven in waves,
 * their calls answered through the providers' batch APIs (batchapi.h) at
 * the batch price, or written to a file for an offline runner (`caigen
 * batch export`, e.g. vllm run-batch) and answered from its results file
 * later (`caigen batch import`).
 *
 * A wave: batch_prompts items (fewer at the end of the input, or when no
 * new item came for 2 s) are taken and their machines started; the
 * reader meanwhile reads the next wave (the pipeline's window holds two).
 * A call they send waits. When no machine can move, the waiting calls
 * become batches, one or more per role (split at the provider's request
 * and byte limits, or batch_max_requests / batch_max_bytes); the executor
 * polls them every batch_poll seconds, downloads the results, answers the
 * calls by custom_id (never by order), and the machines send their next
 * calls (the judge after the samples, the letter after a rationale, the
 * next critique round), which become the next batches. So a run goes in
 * phases without naming them, and the records are the ones a live run
 * writes. The wave ends when its items are finished; then the next one.
 *
 * custom_id = role tag (p, j, or j1... for a panel's members), '-', the
 * draw's key (callkey.h: the first 128 bits of the SHA-256 of the request
 * body and the draw's seed) in hex, and "-N" for the Nth new attempt
 * after a failed result: "j-3f0c...-1". The seed is keyed by (run seed,
 * prompt id, purpose, draw index), so every independent draw (the two
 * samples, answer k, a vote, a resample after a cut or identical answer)
 * is a request of its own even when the body carries no seed (Anthropic);
 * the same draw has the same id in every run (a resume finds its answer);
 * a changed configuration never reuses an answer. "Equal requests are
 * asked once" now means only: the same draw of the same request, needed
 * twice in one run, is one request.
 *
 * Mixed runs: a role whose endpoint is live (batch_opts.live_role) is
 * not batched: bx_send hands its calls to the live executor (live_post),
 * whose loop sends them and relays them back here, where the machine's
 * done runs. Batches are made only when no call is out at live, so a
 * wave's requests of a batch role still go out together.
 *
 * State, in dir (OUT/batch, with the shard suffix):
 *   id                    random tag of this folder, in batch metadata
 *   journal.jsonl         append-only, fsynced: each batch file made
 *                         ("make", before the create call), created
 *                         (with the provider's id), fetched, failed
 *   ROLE-NNNNNN.jsonl     the request lines of each batch (ROLE: policy,
 *                         judge, or judge1... for a panel's members)
 *   ROLE.results.jsonl    every result line fetched or imported, as the
 *                         provider wrote it
 *   ROLE.export.jsonl     batch export: the requests not answered yet
 * Resume: a result already here answers its call without sending
 * anything; a call whose id is in a batch created but not fetched waits
 * for that batch (polled again); only the rest goes out in new batches.
 * A run killed between a create and the line recording its id finds the
 * batch by its metadata tag (OpenAI). No request is paid for twice.
 *
 * Failures: a failed result that may be retried (expired, cancelled,
 * 5xx, 429, no result at all) goes out again under the next attempt's id,
 * up to the endpoint's max_attempts; others fail the call with the
 * provider's reason. A batch that fails validation fails its calls with
 * the provider's line and reason. An error of the batch API itself
 * (after batchapi's retries) stops the run, prompts left for the next.
 *
 * Stopping: at a signal the batches created stay with the provider (the
 * next run polls them) and the waiting calls end stopped. The spending
 * cap (budget.h): a call reserves its most at the batch price before it
 * goes into a new batch; one that would pass the cap ends stopped and no
 * new batch is made, but the batches already made are waited for (they
 * are paid for) and their results kept.
 *
 * Thread-safety: batch_submit, batch_close and batch_tokens from any
 * thread; the machines run on the executor's one thread.
 */
#ifndef CAIGEN_BATCH_H
#define CAIGEN_BATCH_H

#include <signal.h>
#include <stdbool.h>

#include "call.h"
#include "config.h"
#include "budget.h"
#include "http.h"
#include "item.h"
#include "live.h"

struct batch;

struct batch_opts {
	const struct config *cfg;
	struct item_env *env;		/* borrowed */
	struct budget *budget;		/* the spending cap, or NULL */
	struct live *live;		/* a mixed run (live.h): calls of the
					 * roles in live_role go there */
	bool live_role[ROLE_COUNT];
	volatile sig_atomic_t *stop;
	const char *dir;		/* the state folder, made if missing */
	bool export_only;		/* write requests to ROLE.export.jsonl,
					 * send nothing */
	const uint64_t *imported;	/* NULL, or per role the offset in
					 * ROLE.results.jsonl from which the
					 * lines were imported just before
					 * this run (batch_import): their
					 * tokens count as this run's */
	/* finished items, handed on in batches from the executor's thread */
	void (*deliver)(void *owner, struct item **items, size_t n);
	void *owner;
};

/* Open the state folder, index the results kept there, find the batches
 * still open, start the thread. NULL with err. */
struct batch *batch_new(const struct batch_opts *o, struct err *err);
void batch_submit(struct batch *b, struct item *it);
/* env->done of a run on this executor. */
void batch_item_finished(struct item_env *env, struct item *it);
void batch_close(struct batch *b);	/* no more items */
void batch_join(struct batch *b);
/* Tokens of the replies fetched by this run, per role (each panel
 * member its own). Any thread. */
void batch_tokens(struct batch *b, struct chat_usage u[ROLE_COUNT]);
/* After batch_join: per role, requests sent (lines in new batches),
 * answered, given up, retried; and the requests exported. */
void batch_stats(struct batch *b, struct http_stats h[ROLE_COUNT],
		 size_t exported[ROLE_COUNT]);
void batch_free(struct batch *b);	/* NULL is fine */

/* `caigen batch import`: check every line of the results file `path` (an
 * OpenAI or vllm run-batch output/error file, or Anthropic results),
 * then append them to dir's ROLE.results.jsonl by the role tag of
 * their custom_id. Refused, "path:line: what is wrong" and nothing added:
 * a line that does not parse, a custom_id no request of this run has (in
 * dir's batch or export files: results of another run or config), the
 * same custom_id twice with different answers (in the file, or against
 * an answer kept). Not appended: a line whose answer is kept already
 * (the same file imported twice adds nothing), a failure where a success
 * is kept. *n gets the lines added; from[r] (may be NULL) is lowered to
 * the offset in role r's results file where this import's lines start,
 * so the run after it counts their tokens and cost (batch_opts). */
int batch_import(const char *dir, const struct config *cfg,
		 const char *path, size_t *n, uint64_t from[ROLE_COUNT],
		 struct err *err)
	__attribute__((warn_unused_result));

#endif
