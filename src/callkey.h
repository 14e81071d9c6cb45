/*
 * callkey.h - the name of one draw: what a kept answer (a batch result,
 * an answer in the live journal) is found by.
 *
 * The key is the first 128 bits, in hex, of the SHA-256 of the request
 * body followed by the draw's seed. The seed comes from the keyed
 * generator (rng.h: run seed, prompt id, purpose, draw index), so every
 * independent draw (the two samples, answer k of `responses: k`, a vote,
 * a resample after a cut or identical answer) has a key of its own even
 * when the API sends no seed (Anthropic) or ignores it; the body part
 * makes a changed configuration (model, prompt, template, temperature)
 * a new key, so no answer is ever reused for another request. Two calls
 * share a key only when they are the same draw of the same request.
 *
 * Thread-safety: pure.
 */
#ifndef CAIGEN_CALLKEY_H
#define CAIGEN_CALLKEY_H

#include "call.h"

#define CALLKEY_HEX 32

/* The key of c's current request (c->body must be built): 32 hex digits
 * and a NUL. */
void callkey_hex(const struct call *c, char hex[CALLKEY_HEX + 1]);

#endif
