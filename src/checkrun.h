/*
 * checkrun.h - `caigen check` on a run config: everything `caigen run -c
 * FILE` needs before it sends a request.
 *
 * Beyond the file's own keys (config_check_file), the config as run reads
 * it (environment applied, no keys needed) must give:
 *   - constitutions that exist (paths or short names, datadir.h), parse,
 *     and have principles for every stage of the mode;
 *   - a prompts input that exists and opens (a split folder: a whole one),
 *     with at least one usable prompt among its first CHECKRUN_LINES lines
 *     (prompt_field applied; stdin is not read);
 *   - endpoints a run accepts.
 * So a config that `run` would refuse at start-up never gets "ok".
 */
#ifndef CAIGEN_CHECKRUN_H
#define CAIGEN_CHECKRUN_H

#include <stdio.h>

#include "util.h"

#define CHECKRUN_LINES 100000	/* prompt lines read at most */

/* 0 and the "FILE: ok: run config (...)" line on out; -1 with err
 * ("FILE: ..." or "FILE:line:col: ...") otherwise. */
int checkrun_file(const char *path, FILE *out, struct err *err)
	__attribute__((warn_unused_result));

#endif
