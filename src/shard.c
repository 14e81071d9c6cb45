/*
 * shard.c - shard of a job array: parsing, the Slurm environment, the
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

int shard_from_env(struct shard *s, struct err *err)
{
	unsigned id = 0, count = 0, lo = 0, hi = 0;
	bool has_id, has_count, has_lo, has_hi;

	s->k = 0;
	s->n = 1;
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
	if (id < lo || id - lo >= count)
		return err_set(err, "SLURM_ARRAY_TASK_ID %u is outside the "
			       "array (min %u, %u tasks); use --array=0-%u "
			       "or pass --shard K/N", id, lo, count,
			       count ? count - 1 : 0);
	s->k = id - lo;
	s->n = count;
	return 1;
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
