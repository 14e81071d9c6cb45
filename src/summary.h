/*
 * summary.h - the end-of-run summary of run, label and eval, on stderr:
 *
 *   caigen: N lines read: N written, N already done, N failed, ...
 *   caigen: N records in total in 'OUT'; S s, R prompts/s; tokens: N in,
 *           N out (every reply received, failed prompts' included)
 *   caigen: tokens by role: policy N in, N out; judge N in, N out; ...
 *           (the roles' lines add up to the tokens line)
 *   caigen: tokens by model: ... cost $X
 *   caigen: failed N: <what happened>: <the fix> (one line per kind of
 *           failure, reason.h), then where the reasons are: failures.jsonl
 *   caigen: guards: ...
 *   caigen: policy: N requests, N retries ...; caigen: judge: ...; one
 *           line per panel member (judge[1] ...), as tokens and cost are
 *   caigen: shard and per-server lines
 *
 * label and eval (a feed of pairs: no policy) leave out the policy's
 * lines.
 */
#ifndef CAIGEN_SUMMARY_H
#define CAIGEN_SUMMARY_H

#include <stdio.h>

#include "pipeline.h"

void summary_print(FILE *f, const struct run_opts *o,
		   const struct run_counts *c);

#endif
