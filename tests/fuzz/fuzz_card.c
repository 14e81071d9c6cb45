/*
 * fuzz_card.c - libFuzzer target for the dataset card writer: the input
 * is an output folder (fuzz_dir.h: sections "%%% NAME" for manifest.json,
 * eval.json, preferences.jsonl, critiques.jsonl, a failures log and shard
 * files), rendered by card_render. Besides what ASan and UBSan catch, a
 * failure must come with a message, and a card must hold no control
 * character but '\n' (data strings are escaped: card.c md, md_code,
 * yaml_str).
 * Build and run: make fuzz FUZZ_SECONDS=N (tests/fuzz/run.sh).
 */
#include "card.h"
#include "fuzz_dir.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"manifest.json", "eval.json", "preferences.jsonl", "critiques.jsonl",
	"failures.jsonl", "rejects.jsonl",
	"preferences.shard-00000-of-00002.jsonl",
	"preferences.shard-00001-of-00002.jsonl",
	"preferences.shard-00000-of-00003.jsonl",
	NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_dir_fill(data, size, names);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct err err;
	int rc;

	if (!f)
		abort();
	err.msg[0] = '\0';
	rc = card_render(dir, f, &err);
	fclose(f);
	if (rc < 0 && !err.msg[0])
		abort();	/* every error says what is wrong */
	for (size_t i = 0; rc == 0 && i < len; i++)
		if (((unsigned char)out[i] < 0x20 && out[i] != '\n') ||
		    out[i] == 0x7f)
			abort();	/* a raw control character */
	free(out);
	return 0;
}
