/*
 * fuzz_manifests.c - libFuzzer target for the readers of a folder's
 * manifests and records: `caigen status`, `caigen merge` over two shards
 * and `caigen card`. The input is the folder (fuzz_dir.h: sections
 * "%%% NAME": the two shards' manifests and records files, failures,
 * split.json, manifest.json). Besides what ASan and UBSan catch (a sum
 * of crafted counts that overflows, a read past a buffer), each command
 * must end with 0, 1 or 2, and card with a message when it fails.
 * Build and run: make fuzz FUZZ_SECONDS=N (tests/fuzz/run.sh).
 */
#include "card.h"
#include "fuzz_dir.h"
#include "merge.h"
#include "status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
	"manifest.shard-00000-of-00002.json",
	"manifest.shard-00001-of-00002.json",
	"preferences.shard-00000-of-00002.jsonl",
	"preferences.shard-00001-of-00002.jsonl",
	"failures.shard-00000-of-00002.jsonl",
	"manifest.json", "split.json",
	NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	const char *dir = fuzz_dir_fill(data, size, names);
	char in0[512], in1[512], out[512];
	char *st[] = { "status", (char *)dir, NULL };
	char *stj[] = { "status", "--json", (char *)dir, NULL };
	char *mg[] = { "merge", "-q", in0, in1, "-o", out, NULL };
	FILE *f;
	struct err err;
	int rc;

	if (!quiet) {
		/* the commands print; the fuzzer's own output is stderr */
		if (!freopen("/dev/null", "w", stdout))
			abort();
		quiet = 1;
	}
	rc = status_main(2, st);
	if (rc < 0 || rc > 2)
		abort();
	rc = status_main(3, stj);
	if (rc < 0 || rc > 2)
		abort();
	snprintf(in0, sizeof(in0), "%s/%s", dir, names[2]);
	snprintf(in1, sizeof(in1), "%s/%s", dir, names[3]);
	snprintf(out, sizeof(out), "%s/merged.jsonl", dir);
	rc = merge_main(6, mg);
	if (rc < 0 || rc > 2)
		abort();
	f = fopen("/dev/null", "w");
	if (!f)
		abort();
	err.msg[0] = '\0';
	if (card_render(dir, f, &err) < 0 && !err.msg[0])
		abort();
	fclose(f);
	return 0;
}
