/*
 * runinfo.h - what made the records in OUT, so that a resume never mixes
 * configurations.
 *
 * OUT/settings.json (with the shard suffix: settings.shard-K-of-N.json)
 * holds the settings that decide what a record says: the mode, seed,
 * rounds, responses, pairs, binarize, panel and prompt_field; the policy's
 * and judge's (and a panel's) model and sampling and judging keys; the
 * constitutions' digests ("name@sha256:..."). Operational keys (URLs,
 * concurrency, timeouts, retries, rate limits, executor, keys, prices,
 * paths, limit) are not in it: a server that moves serves the same model,
 * and none of them changes what a record says.
 *
 * Before a run sends anything, runinfo_check compares the run's settings
 * with the stored ones (or, for an OUT written before this file existed,
 * with the config in its manifest.json) when OUT already holds records
 * of this shard. A difference is refused with every changed key listed,
 * unless `allow` (--allow-changed-settings). A key that one side does not
 * have (a caigen of another version) is not a difference. runinfo_save
 * then writes the run's settings (atomically).
 */
#ifndef CAIGEN_RUNINFO_H
#define CAIGEN_RUNINFO_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "constitution.h"
#include "util.h"

/* The record-deciding settings of a run (new reference). */
json_t *runinfo_settings(const struct config *cfg,
			 const struct constitution *con);

/*
 * 0: OUT may take this run's records (nothing stored, no records yet,
 * the same settings, or allowed); *changed says whether settings differed
 * (allowed). -1: refused, err holds the message with one "  key: OUT has
 * X, this run Y" line per difference.
 */
int runinfo_check(const char *out, const char *suffix, json_t *settings,
		  bool allow, bool *changed, struct err *err)
	__attribute__((warn_unused_result));

/* Write OUT/settings{suffix}.json. */
int runinfo_save(const char *out, const char *suffix, json_t *settings,
		 struct err *err) __attribute__((warn_unused_result));

#endif
