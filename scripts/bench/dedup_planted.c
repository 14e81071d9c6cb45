/*
 * dedup_planted.c - the data of `make bench-dedup`.
 *
 *   dedup_planted N SEED OUT.jsonl [TRUTH.txt [NGRAM THRESHOLD]]
 *
 * Writes N prompts with planted near duplicates (tests/unit/planted.h) as
 * JSONL with ids p0000001...; with TRUTH.txt, also the 1-based lines that
 * greedy dedup with exact Jaccard removes (one a line), for recall and
 * precision against `caigen prompts dedup --report`.
 */
#include "../../tests/unit/planted.h"

int main(int argc, char **argv)
{
	size_t n;
	uint64_t seed;
	char **t;
	FILE *f;

	if (argc < 4) {
		fprintf(stderr, "usage: dedup_planted N SEED OUT.jsonl "
			"[TRUTH.txt [NGRAM THRESHOLD]]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	seed = strtoull(argv[2], NULL, 10);
	t = planted_make(n, seed);
	if (!(f = fopen(argv[3], "w")))
		return 1;
	for (size_t i = 0; i < n; i++)
		fprintf(f, "{\"id\":\"p%07zu\",\"prompt\":\"%s\"}\n", i + 1,
			t[i]);
	if (fclose(f) != 0)
		return 1;
	if (argc >= 5) {
		int ngram = argc >= 7 ? atoi(argv[5]) : 2;
		double th = argc >= 7 ? atof(argv[6]) : 0.7;
		unsigned char *rm = xcalloc(n, 1);

		planted_truth(t, n, ngram, th, rm);
		if (!(f = fopen(argv[4], "w")))
			return 1;
		for (size_t i = 0; i < n; i++)
			if (rm[i])
				fprintf(f, "%zu\n", i + 1);
		if (fclose(f) != 0)
			return 1;
		free(rm);
	}
	for (size_t i = 0; i < n; i++)
		free(t[i]);
	free(t);
	return 0;
}
