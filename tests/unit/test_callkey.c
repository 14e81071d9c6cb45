/* test_callkey.c - a draw's key names the draw and the request (callkey.h). */
#include "harness.h"
#include "callkey.h"
#include "rng.h"
#include "sha256.h"

#include <stdlib.h>

static void set(struct call *c, const char *body, bool has_seed,
		uint64_t seed)
{
	memset(c, 0, sizeof(*c));
	c->body = (char *)body;
	c->body_len = strlen(body);
	c->cp.has_seed = has_seed;
	c->cp.seed = seed;
}

/* An Anthropic body has no seed: two draws of one prompt are two keys. */
static void test_draws_differ_without_seed_in_body(void)
{
	const char *body = "{\"model\":\"m\",\"max_tokens\":64}";
	struct call a, b;
	char ka[CALLKEY_HEX + 1], kb[CALLKEY_HEX + 1];

	set(&a, body, true, rng_u64(1, "q1", "sample", 1));
	set(&b, body, true, rng_u64(1, "q1", "sample", 2));
	callkey_hex(&a, ka);
	callkey_hex(&b, kb);
	CHECK(strlen(ka) == CALLKEY_HEX);
	CHECK(strcmp(ka, kb) != 0);
	/* a vote and a resample of the same body too */
	set(&b, body, true, rng_u64(1, "q1", "vote", 1));
	callkey_hex(&b, kb);
	CHECK(strcmp(ka, kb) != 0);
}

/* The same draw of the same request: one key, in every run. */
static void test_same_draw_same_key(void)
{
	const char *body = "{\"model\":\"m\"}";
	struct call a, b;
	char ka[CALLKEY_HEX + 1], kb[CALLKEY_HEX + 1];

	set(&a, body, true, 42);
	set(&b, body, true, 42);
	callkey_hex(&a, ka);
	callkey_hex(&b, kb);
	CHECK_STR(ka, kb);
	/* a changed body (config) is a new key */
	set(&b, "{\"model\":\"n\"}", true, 42);
	callkey_hex(&b, kb);
	CHECK(strcmp(ka, kb) != 0);
}

/* Without a seed the key is the body's hash alone. */
static void test_no_seed_is_body_hash(void)
{
	const char *body = "{\"x\":1}";
	struct call a;
	char ka[CALLKEY_HEX + 1], full[65];

	set(&a, body, false, 7);
	callkey_hex(&a, ka);
	sha256_hex(body, strlen(body), full);
	full[CALLKEY_HEX] = '\0';
	CHECK_STR(ka, full);
}

TESTS(T(test_draws_differ_without_seed_in_body), T(test_same_draw_same_key),
      T(test_no_seed_is_body_hash))
