/*
 * fuzz_batch_result.c - libFuzzer target for the batch result-line parser
 * (batchapi_parse_result, batchapi.h): OpenAI, vllm run-batch and
 * Anthropic lines, whatever the provider or a broken download wrote.
 *
 * The first byte picks the API (chat or anthropic); the rest is one line.
 * Every success is checked against the contract: a custom_id of 1 to 64
 * characters, a body that is JSON exactly when ok, an error message when
 * not ok; any breach aborts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "batchapi.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_result r;
	struct err e;
	int api;

	if (size < 1)
		return 0;
	api = data[0] & 1 ? API_ANTHROPIC : API_CHAT;
	if (batchapi_parse_result(api, (const char *)data + 1, size - 1, &r,
				  &e) < 0) {
		if (!e.msg[0])
			abort();	/* a failure says why */
		return 0;
	}
	if (!r.custom_id[0] || strlen(r.custom_id) > 64)
		abort();
	if (r.ok) {
		json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;

		if (!json_is_object(j))
			abort();	/* ok: the reply as a JSON object */
		json_decref(j);
	} else if (!r.error[0]) {
		abort();	/* a failed line says why */
	}
	free(r.body);
	return 0;
}
