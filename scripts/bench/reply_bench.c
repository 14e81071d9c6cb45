/*
 * reply_bench.c - time the two chat reply readers on one body: the jansson
 * tree (provider_parse_chat) and the hand-written reader (reply_read_chat,
 * with and without building logprobs). Not part of `make test`. Build
 * against the library objects of a normal build (so jansson runs on the
 * jsonmem allocator, as in caigen), then run from the repo root:
 *
 *   make && cc -std=c11 -D_GNU_SOURCE -O2 -Isrc \
 *     -o obj/default/reply_bench scripts/bench/reply_bench.c \
 *     $(find obj/default -maxdepth 1 -name '*.o' ! -name main.o) \
 *     $(pkg-config --libs libcurl jansson yaml-0.1) -lm -pthread
 *   obj/default/reply_bench [N] [FILE...]
 *
 * N defaults to 100000, FILE to scripts/bench/completion.json. Prints ns
 * per parse for each reader, the best of three rounds.
 */
#include "provider.h"
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per parse of body by reader k (0 jansson, 1 reply + logprobs,
 * 2 reply without), best of three rounds of n. */
static double time_reader(int k, const char *body, size_t len, long n)
{
	double best = 0;

	for (int round = 0; round < 3; round++) {
		double t0 = now_ns(), dt;

		for (long i = 0; i < n; i++) {
			struct chat_reply r;
			struct err err;
			int rc = k == 0 ? provider_parse_chat(body, &r, &err) :
				 reply_read_chat(body, len, k == 1, &r, &err);

			if (rc < 0) {
				fprintf(stderr, "reply_bench: %s\n", err.msg);
				exit(1);
			}
			chat_reply_release(&r);
		}
		dt = (now_ns() - t0) / (double)n;
		if (round == 0 || dt < best)
			best = dt;
	}
	return best;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		fclose(f);
		return NULL;
	}
	s[n] = '\0';
	*len = (size_t)n;
	fclose(f);
	return s;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	static const char *const dflt[] = { "scripts/bench/completion.json" };
	const char *const *files = argc > 2 ? (const char *const *)argv + 2 :
				   dflt;
	int nfiles = argc > 2 ? argc - 2 : 1;

	for (int f = 0; f < nfiles; f++) {
		size_t len = 0;
		char *body = slurp(files[f], &len);
		double t[3];

		if (!body) {
			fprintf(stderr, "reply_bench: cannot read '%s'\n",
				files[f]);
			return 2;
		}
		for (int k = 0; k < 3; k++)
			t[k] = time_reader(k, body, len, n);
		printf("%s (%zu bytes), %ld parses each, best of 3:\n"
		       "  jansson provider_parse_chat   %9.0f ns\n"
		       "  reply_read_chat, logprobs     %9.0f ns  (%.1fx)\n"
		       "  reply_read_chat, no logprobs  %9.0f ns  (%.1fx)\n",
		       files[f], len, n, t[0], t[1], t[0] / t[1], t[2],
		       t[0] / t[2]);
		free(body);
	}
	return 0;
}
