/*
 * progress.h - what the run is doing, for a human watching it.
 *
 * One line, every field named:
 *
 *   prompts 1,200/60,000 (2.0%), ETA 23m10s: written 1,180, failed 20,
 *   rejected 0; 41.3 prompts/s; tokens 1.2M in, 3.4M out; cost $1.2300
 *
 * - The count is of the whole job this run belongs to: prompts done (or
 *   rejected) by earlier runs into the same OUT are counted, and said
 *   ("30,000 done before"), so a resume goes on from where it was; the
 *   total honours --limit. A shard's total is its share of the input's
 *   lines until the end ("~"). When the total cannot be known (stdin, a
 *   pipe) the line says so instead of showing one ("total unknown"; with
 *   --limit "at most N").
 * - The rate is of this run's prompts (written or failed), so the ETA is
 *   not flattered by the skipped ones. No ETA while it cannot be known,
 *   and none on the last line: that one says "finished in 4m12s".
 * - Tokens are every reply's received so far (failed prompts' too); the
 *   cost is priced from the config's price table. A role whose model has
 *   no price is named ("cost $0.51 + unknown for judge (no price)"); with
 *   no price table at all the cost is not shown.
 *
 * On a terminal the line is redrawn in place behind a bar, cut to the
 * terminal's width (the count and the ETA come first); otherwise (a
 * Slurm log, a pipe) it is printed as "progress: ..." every `interval`
 * seconds. Output goes to stderr. Only the writer thread calls these, so
 * there is no locking.
 */
#ifndef CAIGEN_PROGRESS_H
#define CAIGEN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "call.h"
#include "chat.h"
#include "config.h"

struct progress {
	FILE *out;
	bool tty;
	bool quiet;
	double interval;
	double start;
	double last;
	const char *unit;	/* "prompts" or "pairs" */
	size_t total;		/* of the job, earlier runs' included; 0 =
				 * unknown */
	bool approx;		/* total is an estimate (a shard's share) */
	size_t limit;		/* --limit, said when total is unknown */
	size_t before;		/* done or rejected by earlier runs */
	bool drawn;
	long long tok_in, tok_out;
	double cost;		/* USD of the priced roles; < 0: no price
				 * table, not shown */
	char unpriced[96];	/* roles that used tokens without a price */
};

/* before: prompts earlier runs finished (records and rejects already in
 * OUT), counted into total. */
void progress_init(struct progress *p, const char *unit, size_t total,
		   bool approx, size_t limit, size_t before, double interval,
		   bool quiet);
/* Is a line due now? (Lets the caller skip gathering the tokens.) */
bool progress_due(const struct progress *p);
/* The tokens so far, per role (call.h), and their price. */
void progress_usage(struct progress *p, const struct config *cfg,
		    const struct chat_usage u[ROLE_COUNT]);
/* Prints when due (or always when force). Counts are this run's. */
void progress_update(struct progress *p, size_t written, size_t failed,
		     size_t rejected, bool force);
/* The last line, with the exact counts now known (before: what the run
 * found done; total: the job's, 0 if unknown), no ETA; ends the
 * in-place line. */
void progress_finish(struct progress *p, size_t total, size_t before,
		     size_t written, size_t failed, size_t rejected);

/* The body of a line (no "progress: " and no newline) into b, for tests
 * and the terminal bar alike. elapsed: seconds; done: the run is over. */
void progress_format(const struct progress *p, char *b, size_t n,
		     size_t written, size_t failed, size_t rejected,
		     double elapsed, bool done);

#endif
