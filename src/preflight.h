/*
 * preflight.h - probe each endpoint once before a run starts, so that a
 * wrong URL, a server that is down or a refused key is one clear error
 * line instead of a failures.jsonl full of the same reason.
 *
 * Each distinct endpoint (base URL, key, API and model; policy and judge
 * are often the same) gets GET {base_url}/models with its key, then one
 * minimal real request to its own API path (max_tokens 1, no logprobs):
 * a server may list its models to anyone and refuse every POST
 * (llama-server --api-key), so only a real request tells a wrong key,
 * model or route. So at most one POST per role and server. A 404 on
 * /models is not an error by itself (some servers have no /models).
 * Fatal: cannot connect, cannot resolve the host, TLS errors, no answer
 * at all within the time limit, 401/403 on either, and on the POST every
 * refusal no retry mends (guard.h: 404, a model that does not exist,
 * insufficient_quota). Not fatal: other 429s and 5xx (the server is there
 * and the key was taken; the run's retries deal with them), and slow
 * answers once connected: a POST still unanswered 0.25 s after connecting
 * passes (servers refuse keys, models and routes at once, before any
 * inference), so a busy server does not delay the run.
 *
 * The whole check takes at most PREFLIGHT_SECONDS. Error messages name
 * the endpoint, the URL, what happened and what to fix, e.g.
 *   judge endpoint http://127.0.0.1:9/v1: cannot connect (connection
 *   refused): is the server running and is judge.base_url right?
 * Keys never appear in them: server text is redacted of every key.
 *
 * A policy endpoint with concurrency 0 (no policy stage: caigen label) is
 * not probed.
 *
 * Thread-safety: call from one thread, after curl_global_init.
 */
#ifndef CAIGEN_PREFLIGHT_H
#define CAIGEN_PREFLIGHT_H

#include "config.h"
#include "util.h"

#define PREFLIGHT_SECONDS 4.5

/* What to fix after a refusal with this status from endpoint ep (config
 * section `field`, "policy" or "judge"): "check the key in $VAR
 * (policy.api_key_env)", "is policy.base_url right ...", ... into out.
 * Names variables and files, never a key. */
void preflight_advice(const struct endpoint *ep, const char *field,
		      long status, char *out, size_t n);

/* 0 when every endpoint answered well enough; -1 with err otherwise. */
int preflight_run(const struct config *c, struct err *err)
	__attribute__((warn_unused_result));

#endif
