/* callkey.c - the name of one draw (see callkey.h). */
#include "callkey.h"
#include "sha256.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void callkey_hex(const struct call *c, char hex[CALLKEY_HEX + 1])
{
	char full[65], tail[40];
	size_t nt = 0;
	char *buf;

	if (c->cp.has_seed)
		nt = (size_t)snprintf(tail, sizeof(tail), "\n#draw %llu",
				      (unsigned long long)c->cp.seed);
	buf = xmalloc(c->body_len + nt + 1);
	memcpy(buf, c->body, c->body_len);
	memcpy(buf + c->body_len, tail, nt);
	sha256_hex(buf, c->body_len + nt, full);
	free(buf);
	memcpy(hex, full, CALLKEY_HEX);
	hex[CALLKEY_HEX] = '\0';
}
