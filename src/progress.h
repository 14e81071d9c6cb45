/*
 * progress.h - what the run is doing, for a human watching it.
 *
 * On a terminal: one line redrawn in place (done/total, rate, ETA,
 * failures, and the cost so far when the config has prices). Otherwise (a
 * Slurm log, a pipe): a plain line every `interval` seconds. Output goes
 * to stderr. Only the writer thread calls progress_update, so there is no
 * locking.
 */
#ifndef CAIGEN_PROGRESS_H
#define CAIGEN_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct progress {
	FILE *out;
	bool tty;
	bool quiet;
	double interval;
	double start;
	double last;
	size_t total;		/* prompts to do this run; 0 = unknown */
	bool drawn;
	double cost;		/* USD so far: shown when >= 0 ("?" when
				 * NAN); < 0: no price table, not shown */
};

void progress_init(struct progress *p, size_t total, double interval,
		   bool quiet);
/* Called often; prints when due (or always when force). */
void progress_update(struct progress *p, size_t done, size_t failed,
		     size_t rejected, bool force);
/* End the in-place line, if any. */
void progress_finish(struct progress *p);

#endif
