/*
 * status.h - `caigen status OUT/`: how far each shard of a job array is,
 * from the files in the output folder alone (no server, no scheduler).
 *
 *   caigen status OUT [--json] [--split DIR]
 *
 * Per shard (files NAME.shard-0000K-of-0000N.*, or the unsuffixed files
 * of a single process as shard 0 of 1):
 *   done       ids in the records file (preferences, or critiques; in
 *              mode both, ids in both files)
 *   failed     ids in the failures log that have no record yet
 *   left       the shard's prompts minus done and failed: null when the
 *              shard's size is unknown. The size comes from the split's
 *              split.json: the one --split DIR names (every shard's
 *              size, before any task has run: OUT may be empty or not
 *              exist yet), or the one the shard's run read, else
 *              from the shard's manifest when its last run read the whole
 *              input (skipped_done + written + failed + interrupted).
 *   last_write newest modification time of the shard's output files
 *   locked     whether a run holds the shard's lock now: a shared flock
 *              tried without waiting and dropped at once. Across nodes
 *              this needs a file system with cluster-wide flock (NFS,
 *              Lustre mounted with -o flock).
 *   state      running (locked), done (nothing left or failed), failed
 *              (only failures left), stopped (work left, no run),
 *              missing (no file at all for a shard the folder's other
 *              files say exists), or with --split pending (no file yet)
 *
 * Reads every records and failures file once (like a resume scan), one
 * shard at a time: memory is one shard's id set.
 *
 * Files are opened without blocking and only when regular (a FIFO named
 * like a lock is not a lock; one named like a data file is an error).
 *
 * Exit status: 0 shown, 2 usage error, OUT unreadable or not a run's
 * output (no caigen file in it), shard files of two job sizes in it (their
 * prompts overlap: no total would be right), or a manifest whose counts
 * are not counts (negative, or above 2^40).
 */
#ifndef CAIGEN_STATUS_H
#define CAIGEN_STATUS_H

/* The command; argv[0] is "status". Prints to stdout. */
int status_main(int argc, char **argv);

#endif
