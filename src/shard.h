/*
 * shard.h - which slice of the prompts one process of a job array does.
 *
 * A prompt belongs to shard hash64(id) mod N (rng.h's hash64 over the id
 * bytes), so the split does not depend on the order of the file, on which
 * lines were rejected, or on the N an earlier job used: the same id always
 * lands in the same shard of an N-way split.
 *
 * The shard comes from `--shard K/N` (0 <= K < N), or, without the flag,
 * from the first scheduler whose index variable is set, in this order:
 *   Slurm job array:  K = SLURM_ARRAY_TASK_ID - MIN and N =
 *                     SLURM_ARRAY_TASK_COUNT, or MAX - MIN + 1 when the
 *                     count is missing (MIN and MAX are
 *                     SLURM_ARRAY_TASK_MIN/MAX; MIN defaults to 0);
 *   Kubernetes Indexed Job: K = JOB_COMPLETION_INDEX, N =
 *                     CAIGEN_SHARD_COUNT (Kubernetes does not tell a pod
 *                     the Job's completions: the manifest sets it);
 *   AWS Batch array job: K = AWS_BATCH_JOB_ARRAY_INDEX, N =
 *                     AWS_BATCH_JOB_ARRAY_SIZE, else CAIGEN_SHARD_COUNT.
 * N = 1 means no sharding: file names carry no suffix.
 *
 * Plain values, no allocation except shard_suffix's string.
 */
#ifndef CAIGEN_SHARD_H
#define CAIGEN_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

#define SHARD_MAX 100000	/* N above this is refused */
/* The job's size where the scheduler does not say it (Kubernetes). */
#define SHARD_COUNT_VAR "CAIGEN_SHARD_COUNT"

struct shard {
	unsigned k;	/* this process's shard, 0-based */
	unsigned n;	/* shards in the job; 1 = unsharded */
};

/* Parse "K/N". Returns 0, or -1 with err ("--shard must be K/N with
 * 0 <= K < N, got '3'"). */
int shard_parse(struct shard *s, const char *text, struct err *err)
	__attribute__((warn_unused_result));
/*
 * From the scheduler's environment (see above). Returns 1 and fills s
 * when one of the index variables is set, 0 when none is (s = 0/1), -1
 * with err when the variables are missing a count or are inconsistent.
 */
int shard_from_env(struct shard *s, struct err *err)
	__attribute__((warn_unused_result));
/*
 * The same, knowing the job's size (a split folder's N; 0: unknown, then
 * for a one-task array CAIGEN_SHARD_COUNT if set). When the Slurm array's
 * count differs from that size, the array is a resubmission of some of
 * the job's tasks (sbatch --array=3, a one-task array): K is
 * SLURM_ARRAY_TASK_ID itself and N the size. A one-task array with an id above 0 and no size is an
 * error that says how to give it.
 */
int shard_from_env_sized(struct shard *s, unsigned size, struct err *err)
	__attribute__((warn_unused_result));
/* Whether the prompt with this id is ours. Always true when n <= 1. */
bool shard_owns(const struct shard *s, const char *id);
/* The file-name suffix: "" when n <= 1, else ".shard-00003-of-00016".
 * Heap string; the caller frees it. */
char *shard_suffix(const struct shard *s);

#endif
