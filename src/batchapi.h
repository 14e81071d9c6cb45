/*
 * batchapi.h - the providers' batch endpoints, as a blocking client:
 * OpenAI Batch (POST /files, POST /batches, GET /batches/{id},
 * GET /files/{id}/content, POST /batches/{id}/cancel, GET /batches) for
 * `api: chat` endpoints, and Anthropic Message Batches
 * (POST /messages/batches, GET /messages/batches/{id}, GET results_url,
 * POST .../cancel) for `api: anthropic`.
 *
 * The caller (batch.h) writes the requests of one batch to a local file,
 * one line per request, in the provider's shape (batchapi_line), and gets
 * back result lines it reads with batchapi_parse_result: matched by
 * custom_id, never by order.
 *
 * Every HTTP call retries what a retry may mend (connect errors, 5xx,
 * 429 with its retry-after) up to the endpoint's max_attempts with its
 * backoff; a 4xx is an error at once ("POST /v1/batches: 400: message").
 * Errors never hold the key.
 *
 * Thread-safety: one struct batchapi per thread; the pure functions
 * (batchapi_line, batchapi_parse_result, batchapi_custom_id_ok) anywhere.
 */
#ifndef CAIGEN_BATCHAPI_H
#define CAIGEN_BATCHAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "util.h"

/* The limits of one batch, by provider (BATCH.md 1.7, 2.5), with margin. */
#define BATCHAPI_OPENAI_MAX_REQUESTS	50000
#define BATCHAPI_OPENAI_MAX_BYTES	(190L << 20)
#define BATCHAPI_ANTHROPIC_MAX_REQUESTS	100000
#define BATCHAPI_ANTHROPIC_MAX_BYTES	(240L << 20)

enum batch_phase {
	BATCH_RUNNING,	/* validating, in_progress, finalizing, cancelling,
			 * canceling: poll again */
	BATCH_ENDED,	/* completed, expired, cancelled, ended: results
			 * (possibly partial, possibly none) can be fetched */
	BATCH_FAILED,	/* failed validation: nothing ran, nothing billed;
			 * why says the line and reason */
};

struct batch_info {
	char id[128];
	enum batch_phase phase;
	char status[32];	/* the provider's word, e.g. "in_progress" */
	long total, completed, failed;	/* request_counts; Anthropic:
					 * total = sum of the five counts,
					 * completed = succeeded, failed =
					 * errored + expired + canceled */
	char output[512];	/* OpenAI output_file_id, Anthropic
				 * results_url; "" if none */
	char errors[512];	/* OpenAI error_file_id; "" if none */
	char why[512];		/* BATCH_FAILED: "line 3: invalid_json_line:
				 * This line is not parseable as valid JSON."
				 * (every error joined by "; ", cut) */
};

struct batchapi;

/* A client for the endpoint's base_url, api and key (ep is borrowed and
 * must outlive it). NULL with err if the api has no batch endpoints
 * (completions) or curl cannot start. */
struct batchapi *batchapi_new(const struct endpoint *ep, struct err *err);
void batchapi_free(struct batchapi *b);	/* NULL is fine; wipes the key */

/*
 * One request line for the batch input file, with its '\n': OpenAI
 * {"custom_id":ID,"method":"POST","url":PATH,"body":BODY} where PATH is
 * the base_url's path + "/chat/completions" (base ".../v1" ->
 * "/v1/chat/completions"); Anthropic {"custom_id":ID,"params":BODY}.
 * body is the live request body (provider_body), len bytes, copied in
 * verbatim. Caller frees; *n gets the length.
 */
char *batchapi_line(const struct batchapi *b, const char *custom_id,
		    const char *body, size_t len, size_t *n);

/* ^[A-Za-z0-9_-]{1,64}$: what both providers accept. */
bool batchapi_custom_id_ok(const char *id);

/*
 * Create a batch from the request lines in `path` (nreq lines, written by
 * batchapi_line). OpenAI: upload as multipart (purpose=batch, a filename
 * ending in .jsonl), then create with completion_window 24h and metadata
 * {"caigen": tag}. Anthropic: POST {"requests":[...]} built from the
 * lines (a 413 is an error naming the size). tag is at most 64 chars.
 * On success out->id is set and out->phase is BATCH_RUNNING (or what the
 * create reply said).
 * A create is a paid order, so it waits out a slow provider (no total
 * time limit, a stall of at least 120 s whatever stall_timeout says), and
 * an OpenAI create with a tag is never sent again blindly: before each
 * retry the batch it may have made is looked for (batchapi_find) and, if
 * there, is the result; if that look-up fails, so does the create.
 */
int batchapi_create(struct batchapi *b, const char *path, size_t nreq,
		    const char *tag, struct batch_info *out, struct err *err)
	__attribute__((warn_unused_result));

/* OpenAI only: the newest batch whose metadata.caigen equals tag, looked
 * for in the list (GET /batches, paged); 1 found (out filled), 0 none,
 * -1 error. Anthropic: always 0 (no metadata). For a run killed between
 * its create and the line that records the id. */
int batchapi_find(struct batchapi *b, const char *tag,
		  struct batch_info *out, struct err *err)
	__attribute__((warn_unused_result));

/* GET the batch; fills out. */
int batchapi_poll(struct batchapi *b, const char *id, struct batch_info *out,
		  struct err *err) __attribute__((warn_unused_result));

/* Ask the provider to cancel; the batch ends later (poll) with what had
 * finished. */
int batchapi_cancel(struct batchapi *b, const char *id, struct err *err)
	__attribute__((warn_unused_result));

/* An ended batch's result lines (OpenAI: the output file then the error
 * file, either may be missing; Anthropic: results_url), appended to the
 * file `path` (created if missing) and fsynced. The bytes are the
 * provider's, unchanged. */
int batchapi_fetch(struct batchapi *b, const struct batch_info *in,
		   const char *path, struct err *err)
	__attribute__((warn_unused_result));

/* One result line, parsed. */
struct batch_result {
	char custom_id[65];
	bool ok;		/* a usable reply: body holds it */
	char *body;		/* ok: the reply's JSON text (OpenAI
				 * response.body, Anthropic result.message),
				 * compact, what the live endpoint would have
				 * answered; caller frees */
	long status;		/* HTTP status of the request, 0 if none */
	bool retry;		/* !ok: a new attempt may succeed (expired,
				 * canceled, 429, 5xx, status 0, rate_limit,
				 * overloaded, api_error, timeout ...); false
				 * for 4xx validation errors */
	char error[256];	/* !ok: "batch_expired: This request ..." */
};

/*
 * Parse one result line of provider api (API_CHAT: OpenAI or vLLM
 * run-batch shapes, `error` null, an object or a string, status_code 0;
 * API_ANTHROPIC: succeeded, errored, canceled, expired). 0 and *r filled,
 * or -1 with err ("result line is not JSON", "result line has no
 * custom_id") for a line that names no request.
 */
int batchapi_parse_result(int api, const char *line, size_t len,
			  struct batch_result *r, struct err *err)
	__attribute__((warn_unused_result));

#endif
