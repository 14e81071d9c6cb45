/*
 * preflight.h - probe each endpoint once before a run starts, so that a
 * wrong URL, a server that is down or a refused key is one clear error
 * line instead of a failures.jsonl full of the same reason.
 *
 * Each distinct endpoint (base URL and key; policy and judge are often the
 * same) gets GET {base_url}/models with its key. A 2xx passes. A 404 there
 * is not an error by itself (some servers have no /models): then a tiny
 * request (one token) to the endpoint's own API path decides. Fatal:
 * cannot connect, cannot resolve the host, TLS errors, no answer at all
 * within the time limit, 401/403, and a 404 of the API path itself. Not
 * fatal: 429 and 5xx (the server is there and the key was taken; the
 * run's retries deal with them), and slow answers once connected.
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

/* 0 when every endpoint answered well enough; -1 with err otherwise. */
int preflight_run(const struct config *c, struct err *err)
	__attribute__((warn_unused_result));

#endif
