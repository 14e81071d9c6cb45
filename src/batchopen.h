/*
 * batchopen.h - the provider batches an output folder's batch journal
 * (OUT/batch/journal.jsonl, batch.h) lists as still open, for the roles a
 * run does not batch.
 *
 * A role switched from `executor: batch` to live (or a run that no longer
 * uses it) leaves the batches it had created with the provider: they keep
 * running and are billed, and no live run reads their answers (the batch
 * executor, which polls them again, replays the journal of the roles it
 * batches only). Before such a run sends its work, batchopen_say looks
 * each up with the provider (a GET of the batch, unbilled) and lists
 * those still running (role, provider id, batch file; also a batch made
 * whose id was never recorded, or whose state cannot be read) with the
 * two ways out: stop and run again with that role's `executor: batch`
 * (the run waits for them and uses their answers; nothing is paid
 * twice), or cancel them with the provider (the cancel URL of each is
 * printed; caigen has no cancel command). Batches that ended are not
 * said again: nothing more is billed for them.
 *
 * The journal: one JSON object a line, {"op": "make" | "created" |
 * "fetched" | "failed", "role": "policy" | "judge" | "judge1".., "seq": N,
 * "id": the provider's id (created, fetched, failed)}. A batch is open
 * when the last line of its (role, seq) is "created", or "make" (made
 * and maybe created before a crash: the batch executor finds it by its
 * metadata tag). A torn or foreign line is skipped.
 */
#ifndef CAIGEN_BATCHOPEN_H
#define CAIGEN_BATCHOPEN_H

#include <stdbool.h>
#include <stdio.h>

#include "call.h"
#include "config.h"

struct batch_open {
	int role;		/* enum role (call.h) */
	unsigned seq;		/* the batch file's number */
	bool created;		/* false: "make" only, no id recorded */
	char id[128];		/* the provider's id ("" if !created) */
	bool running;		/* batchopen_say: the role's endpoint says
				 * it runs (else its state is unknown) */
};

/* The open batches of journal file PATH whose role is not batched[role]
 * (NULL: every role): *out (malloc'd, to free) and their number; 0 and
 * *out NULL when there are none or no journal. */
size_t batchopen_list(const char *path, const bool *batched,
		      struct batch_open **out);

/* Say on TO what batchopen_list found in OUT/batch<SUFFIX>/journal.jsonl
 * for the roles cfg uses and does not batch (batched[r]); returns their
 * number (0: nothing said). */
size_t batchopen_say(const struct config *cfg, const char *suffix,
		     const bool *batched, FILE *to);

#endif
