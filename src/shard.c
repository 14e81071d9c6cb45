/*
 * shard.c - shard of a job array: parsing, the schedulers' environment, the
 * id-to-shard rule and the file-name suffix.
 */
#include "shard.h"
#include "rng.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A decimal number in [0, SHARD_MAX] that runs to `end` (a char or 0). */
static bool number(const char *s, char end, const char **rest,
		   unsigned *out)
{
	char *e;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || *e != end || v > SHARD_MAX)
		return false;
	*out = (unsigned)v;
	if (rest)
		*rest = e;
	return true;
}

int shard_parse(struct shard *s, const char *text, struct err *err)
{
	const char *p;
	unsigned k, n;

	if (!number(text, '/', &p, &k) || !number(p + 1, '\0', NULL, &n) ||
	    n < 1 || k >= n)
		return err_set(err, "--shard must be K/N with 0 <= K < N <= "
			       "%d, got '%s'", SHARD_MAX, text);
	s->k = k;
	s->n = n;
	return 0;
}

static int env_number(const char *name, unsigned *out, bool *set,
		      struct err *err)
{
	const char *v = getenv(name);

	*set = v && *v;
	if (!*set)
		return 0;
	if (!number(v, '\0', NULL, out))
		return err_set(err, "%s must be a number up to %d, got '%s'",
			       name, SHARD_MAX, v);
	return 0;
}

/* Slurm: K and N from the array's id, count, min and max; `size`, the
 * job's size where known otherwise (a split folder's N, else
 * CAIGEN_SHARD_COUNT), when the array is a resubmission of some tasks. */
static int from_slurm(struct shard *s, unsigned size, struct err *err)
{
	unsigned id = 0, count = 0, lo = 0, hi = 0, total = size;
	bool has_id, has_count, has_lo, has_hi, has_total = size > 0;

	if (env_number("SLURM_ARRAY_TASK_ID", &id, &has_id, err) < 0 ||
	    env_number("SLURM_ARRAY_TASK_COUNT", &count, &has_count, err) < 0 ||
	    env_number("SLURM_ARRAY_TASK_MIN", &lo, &has_lo, err) < 0 ||
	    env_number("SLURM_ARRAY_TASK_MAX", &hi, &has_hi, err) < 0)
		return -1;
	if (!has_id)
		return 0;
	if (!has_count) {
		if (!has_hi)
			return err_set(err, "SLURM_ARRAY_TASK_ID is set but "
				       "neither SLURM_ARRAY_TASK_COUNT nor "
				       "SLURM_ARRAY_TASK_MAX is");
		if (hi < lo)
			return err_set(err, "SLURM_ARRAY_TASK_MAX (%u) is "
				       "below SLURM_ARRAY_TASK_MIN (%u)", hi,
				       lo);
		count = hi - lo + 1;
	}
	/* CAIGEN_SHARD_COUNT sizes a one-task array only: a bigger array
	 * says its own size (the variable may be set for Kubernetes) */
	if (!has_total && count == 1 &&
	    env_number(SHARD_COUNT_VAR, &total, &has_total, err) < 0)
		return -1;
	if (has_total && total != count) {
		/* some tasks of a bigger array submitted again (sbatch
		 * --array=3, which Slurm reports as a one-task array): the
		 * task id is the shard */
		if (total < 1 || id >= total)
			return err_set(err, "SLURM_ARRAY_TASK_ID %u is outside "
				       "the job of %u tasks", id, total);
		s->k = id;
		s->n = total;
		return 1;
	}
	if (count == 1 && id > 0)
		return err_set(err, "SLURM_ARRAY_TASK_ID is %u in a one-task "
			       "array (a resubmission such as sbatch "
			       "--array=%u?): say the job's size with %s=N, "
			       "or read a split folder, or pass --shard %u/N",
			       id, id, SHARD_COUNT_VAR, id);
	if (id < lo || id - lo >= count)
		return err_set(err, "SLURM_ARRAY_TASK_ID %u is outside the "
			       "array (min %u, %u tasks); use --array=0-%u "
			       "or pass --shard K/N", id, lo, count,
			       count ? count - 1 : 0);
	s->k = id - lo;
	s->n = count;
	return 1;
}

/*
 * A 0-based index variable and a count: the count from count_var, else
 * from CAIGEN_SHARD_COUNT (count_var may be NULL: Kubernetes has none).
 */
static int from_index(struct shard *s, const char *index_var,
		      const char *count_var, struct err *err)
{
	unsigned k = 0, n = 0;
	bool has_k, has_n = false;

	if (env_number(index_var, &k, &has_k, err) < 0)
		return -1;
	if (!has_k)
		return 0;
	if (count_var && env_number(count_var, &n, &has_n, err) < 0)
		return -1;
	if (!has_n && env_number(SHARD_COUNT_VAR, &n, &has_n, err) < 0)
		return -1;
	if (!has_n)
		return err_set(err, "%s is set but %s%s%s is not: set it to "
			       "the number of tasks, or pass --shard K/N",
			       index_var, count_var ? count_var : "",
			       count_var ? " nor " : "", SHARD_COUNT_VAR);
	if (n < 1 || k >= n)
		return err_set(err, "%s %u is outside the job of %u tasks",
			       index_var, k, n);
	s->k = k;
	s->n = n;
	return 1;
}

int shard_from_env(struct shard *s, struct err *err)
{
	return shard_from_env_sized(s, 0, err);
}

int shard_from_env_sized(struct shard *s, unsigned size, struct err *err)
{
	int rc;

	s->k = 0;
	s->n = 1;
	rc = from_slurm(s, size, err);
	if (rc == 0)
		rc = from_index(s, "JOB_COMPLETION_INDEX", NULL, err);
	if (rc == 0)
		rc = from_index(s, "AWS_BATCH_JOB_ARRAY_INDEX",
				"AWS_BATCH_JOB_ARRAY_SIZE", err);
	if (rc <= 0) {
		s->k = 0;
		s->n = 1;
	}
	return rc;
}

bool shard_owns(const struct shard *s, const char *id)
{
	if (s->n <= 1)
		return true;
	return hash64(id, strlen(id)) % s->n == s->k;
}

char *shard_suffix(const struct shard *s)
{
	if (s->n <= 1)
		return xstrdup("");
	return xasprintf(".shard-%05u-of-%05u", s->k, s->n);
}
