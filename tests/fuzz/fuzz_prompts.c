/*
 * fuzz_prompts.c - libFuzzer target for the prompts reader.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=all -Isrc \
 *     tests/fuzz/fuzz_prompts.c src/prompts.c src/util.c src/buf.c \
 *     src/rng.c src/idset.c src/shard.c $(pkg-config --cflags --libs jansson) \
 *     -o /tmp/fuzz_prompts && /tmp/fuzz_prompts -max_total_time=60
 *
 * The first byte picks the file name, so that both formats and the sniffer
 * are reached: in.jsonl, in.txt, or in (sniffed); and the line limit:
 * 4096 bytes, or 32 so that short inputs reach the too-long path too
 * (libFuzzer's inputs rarely grow past a few KiB). The rest is the file.
 * Besides what ASan and UBSan catch, every result is checked against the
 * contract in prompts.h, and any breach aborts. An input that starts like
 * a shard file of `caigen split` may fail to open or end in an error (a
 * malformed split), and its line counts are the source file's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "prompts.h"
#include "split.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_LINE 4096
#define SHORT_LINE 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/fuzz_prompts.XXXXXX";
static char *names[3];

static void cleanup(void)
{
	for (int i = 0; i < 3; i++) {
		unlink(names[i]);
		free(names[i]);
	}
	rmdir(dir);
}

/* The temp files are made once per process, in a directory of our own. */
static void setup(void)
{
	static const char *const base[3] = { "in.jsonl", "in.txt", "in" };

	if (names[0])
		return;
	if (!mkdtemp(dir))
		abort();
	for (int i = 0; i < 3; i++)
		names[i] = xasprintf("%s/%s", dir, base[i]);
	atexit(cleanup);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
}

static void check_prompt(const struct prompt *p)
{
	json_t *last;
	const char *role;

	if (!p->id || !p->id[0] || !json_is_array(p->messages) ||
	    json_array_size(p->messages) == 0)
		abort();
	last = json_array_get(p->messages, json_array_size(p->messages) - 1);
	role = json_string_value(json_object_get(last, "role"));
	if (!role || strcmp(role, "user") != 0)
		abort();
	if (p->text && strcmp(json_string_value(json_object_get(last,
		"content")), p->text) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path;
	struct prompts *r;
	struct prompt p;
	struct reject rej;
	struct err err;
	enum prompts_status st;
	size_t lines_seen = 0, max_line;

	if (size == 0)
		return 0;
	setup();
	path = names[data[0] % 3];
	max_line = (data[0] / 3) % 2 ? SHORT_LINE : MAX_LINE;
	write_file(path, data + 1, size - 1);
	r = prompts_open(path, max_line, &err);
	if (!r && !memmem(data + 1, size - 1, SPLIT_MAGIC,
			  sizeof(SPLIT_MAGIC) - 1))
		abort();	/* a regular file always opens */
	if (!r)
		return 0;
	while ((st = prompts_next(r, &p, &rej, &err)) != PROMPTS_EOF) {
		if (st == PROMPTS_OK) {
			check_prompt(&p);
			if (p.index < lines_seen)
				abort();
			lines_seen = p.index + 1;
			prompt_release(&p);
		} else if (st == PROMPTS_REJECT) {
			if (!rej.reason || rej.line <= lines_seen)
				abort();
			lines_seen = rej.line;
			reject_release(&rej);
		} else if (prompts_is_split(r)) {
			prompts_close(r);	/* a malformed split */
			return 0;
		} else {
			abort();	/* no I/O errors on a temp file */
		}
	}
	if (prompts_is_split(r)) {
		if (prompts_stats(r)->lines < lines_seen)
			abort();
	} else {
		const struct prompts_stats *s = prompts_stats(r);

		if (s->lines != s->blank + s->ok + s->rejected ||
		    s->lines < lines_seen || s->lines > size)
			abort();
	}
	prompts_close(r);
	return 0;
}
