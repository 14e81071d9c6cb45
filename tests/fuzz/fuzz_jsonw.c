/*
 * fuzz_jsonw.c - libFuzzer target: whatever jansson reads, jsonw must
 * write byte for byte as json_dumps does (or refuse exactly when it
 * does). The first byte picks the real precision.
 */
#include "jsonw.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *v;
	char *want;
	struct buf b;
	int prec, got;

	if (size == 0)
		return 0;
	prec = data[0] % 18;
	v = json_loadb((const char *)data + 1, size - 1,
		       JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!v)
		return 0;
	want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
			  JSON_REAL_PRECISION(prec));
	buf_init(&b, 1u << 26);
	got = jsonw_value(&b, v, prec);
	if (want ? got != 0 || b.len != strlen(want) ||
		   memcmp(b.data, want, b.len) : got == 0)
		abort();
	free(want);
	buf_release(&b);
	json_decref(v);
	return 0;
}
