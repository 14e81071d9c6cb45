/*
 * pipeline.h - the run: reader, in-flight window, executor, writer.
 *
 *   reader ─► window ─► live executor (item machines, live.h) ─► [q_write]
 *      └──────────── rejects ───────────────────────────────►  [q_write]
 *                                                                 writer
 *
 * The reader (a thread of its own) streams prompts, skips ids that are
 * already done, numbers every item it emits with a sequence number, and
 * gives it to the executor, whose item machine (item.h) makes the calls
 * and builds the finished JSON line(s). A counting limit on items in
 * flight (`window`) bounds memory: the reader takes a slot per item, the
 * writer gives it back. The writer (the calling thread) puts items back
 * into input order through a ring of `window` slots and is the only
 * thread that touches output files. Mode both writes two records per
 * prompt (critiques and preferences files); a prompt is done when both
 * exist.
 *
 * A failure is recorded in the item and travels to the writer like a
 * result.
 */
#ifndef CAIGEN_PIPELINE_H
#define CAIGEN_PIPELINE_H

#include <signal.h>
#include <stddef.h>

#include "config.h"
#include "constitution.h"
#include "endpoint.h"
#include "guard.h"
#include "call.h"
#include "http.h"
#include "prompts.h"
#include "reason.h"
#include "chat.h"
#include "shard.h"
#include "util.h"

struct run_counts {
	size_t lines;		/* input lines read (blank included) */
	size_t blank;
	size_t rejected;	/* rejected this run */
	size_t rejected_before;	/* rejected lines already recorded */
	size_t skipped_done;	/* prompts finished by an earlier run */
	size_t written;		/* records written this run */
	size_t failed;		/* prompts that failed this run */
	size_t interrupted;	/* prompts left for the next run */
	size_t not_read;	/* lines left unread (stop or --limit) */
	size_t records_total;	/* records in the file at the end */
	size_t repaired_bytes;	/* partial-line bytes cut on open */
	size_t n_fallback;	/* 1 if n=2 was found unsupported */
	size_t other_shard;	/* prompts of other shards (and, outside
				 * shard 0, every bad line: shard 0 alone
				 * records rejects) */
	/* per server of each role's pool (base URLs borrowed from cfg) */
	struct endpoint_count endpoints[2][ENDPOINT_MAX];
	size_t nendpoints[2];
	struct chat_usage usage;
	struct chat_usage usage_role[ROLE_COUNT];	/* every reply
				 * received, failed prompts' too, per role
				 * (call.h): policy, judge, panel members */
	struct http_stats http[2];	/* policy, judge (members folded
					 * into judge, for the manifest) */
	struct http_stats http_role[ROLE_COUNT];	/* per role (call.h) */
	size_t failed_by[REASON_COUNT];	/* this run's failures by kind */
	struct guard_counts guards;	/* cut, identical, no logprobs */
	int refused;		/* stopped: an endpoint refused
				 * stop_after_refusals requests in a row
				 * (guard.h); the line is printed */
	int capped;		/* the spending cap stopped the run */
	double spent;		/* USD, with a cap (budget.h) */
	bool batch;		/* the batch executor ran (batch.h) */
	size_t exported[2];	/* batch export: requests written */
	double seconds;
};

/*
 * Pairs that already carry their two replies (caigen label): with
 * run_opts.feed set, cfg->prompts is not opened and there is no policy
 * stage (no policy threads, pool or requests); the reader sends each item
 * straight to the judges. next() is called from the reader thread only and
 * behaves like prompts_next; on PROMPTS_OK it also gives the item its two
 * replies (resp[0], resp[1]: owned by the run from then on) and may set
 * *extra to JSON object members ("\"k\":v") that are appended to the
 * preference record (owned by the run). stats() gives the input's counts.
 */
struct pair_feed {
	void *ctx;
	enum prompts_status (*next)(void *ctx, struct prompt *pr,
				    char *resp[2], char **extra,
				    struct reject *rj, struct err *err);
	const struct prompts_stats *(*stats)(void *ctx);
};

struct run_opts {
	const struct config *cfg;
	const struct constitution *con;
	const char *suffix;		/* shard suffix for file names, or "" */
	struct shard shard;		/* prompts not ours are skipped; n 0
					 * or 1: all */
	volatile sig_atomic_t *stop;	/* set by signal handlers */
	size_t total_hint;		/* input lines, for progress; 0 = ? */
	const struct pair_feed *feed;	/* NULL: prompts and the policy */
	bool batch_export;		/* `caigen batch export`: the batch
					 * executor writes the requests not
					 * answered yet to files, sends none */
	const uint64_t *imported;	/* batch import: batch_opts.imported */
};

/*
 * Run the job. Returns 0 when the run went through (failures and rejects
 * may exist: see counts; counts->refused set if refusals stopped it, and
 * then the prompts not done are neither written nor failed), -1 on a
 * fatal error (cannot open input or
 * output, disk full) with err set. The output files are consistent either
 * way.
 */
int pipeline_run(const struct run_opts *o, struct run_counts *c,
		 struct err *err) __attribute__((warn_unused_result));

#endif
