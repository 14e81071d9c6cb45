/*
 * fuzz_pairs.c - libFuzzer target for the pairs parser (pairs.h).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -Isrc tests/fuzz/fuzz_pairs.c \
 *     src/pairs.c src/util.c src/rng.c src/idset.c \
 *     $(pkg-config --cflags --libs jansson) -o /tmp/fuzz_pairs
 *
 * The first byte picks the format (auto or a forced one); the rest is one
 * line of JSON. Every success is checked against the contract in pairs.h
 * (two different replies, a message list ending with a user turn, a known
 * label, a tags array), and any breach aborts.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "pairs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pair *p)
{
	size_t n = json_array_size(p->messages);
	json_t *last = json_array_get(p->messages, n ? n - 1 : 0);
	const char *role = json_string_value(json_object_get(last, "role"));

	if (!p->resp[0] || !p->resp[1] || !strcmp(p->resp[0], p->resp[1]))
		abort();
	if (!n || !role || strcmp(role, "user"))
		abort();
	if (p->label != PAIR_NONE && p->label != PAIR_FIRST &&
	    p->label != PAIR_SECOND && p->label != PAIR_TIE)
		abort();
	if (!json_is_array(p->tags))
		abort();
	if (p->text && strcmp(json_string_value(json_object_get(
		json_array_get(p->messages, 0), "content")), p->text))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pair p;
	struct err err;
	json_t *o;
	int f;

	if (size < 1)
		return 0;
	f = data[0] % PAIRS_NFORMATS;
	o = json_loadb((const char *)data + 1, size - 1, 0, NULL);
	if (!o)
		return 0;
	if (pairs_parse(o, (enum pairs_format)f, &p, &err) == 0) {
		check(&p);
		pair_release(&p);
	} else if (!err.msg[0]) {
		abort();	/* a refusal always says why */
	}
	json_decref(o);
	return 0;
}
