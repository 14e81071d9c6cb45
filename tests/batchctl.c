/*
 * batchctl.c - a small driver of batchapi.h for the tests
 * (tests/e2e/batch_wire.sh): one call of the client per command, its
 * outcome as one JSON line on stdout, errors on stderr (exit 1).
 *
 * batchctl [--api chat|anthropic] --url BASE [--key-env VAR]
 *          [--attempts N] COMMAND ARGS...
 *
 *   lines             stdin "CUSTOM_ID BODY" per line -> batchapi_line
 *                     lines on stdout
 *   create FILE N TAG [COUNT]
 *                     create a batch of the N lines in FILE (COUNT
 *                     times; the last one is shown)
 *   poll ID           the batch
 *   wait ID           poll every 20 ms until it is no longer running;
 *                     one line per status seen, the last one the end
 *   fetch ID OUT      poll, then append its results to OUT
 *   cancel ID         cancel, then poll at once
 *   find TAG          the newest batch with metadata.caigen TAG, or
 *                     {"found": false}
 *   parse FILE        one line per result line: {custom_id, ok, status,
 *                     retry, error, body}
 *
 * The key comes from the variable --key-env names (never the command
 * line, which ps shows). Batch info lines: {id, phase, status, total,
 * completed, failed, output, errors, why}.
 */
#include "batchapi.h"
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const phases[] = { "running", "ended", "failed" };

static void die(const struct err *e)
{
	fprintf(stderr, "batchctl: %s\n", e->msg);
	exit(1);
}

static void usage(void)
{
	fputs("usage: batchctl [--api chat|anthropic] --url BASE "
	      "[--key-env VAR] [--attempts N]\n"
	      "       lines | create FILE N TAG | poll ID | wait ID | "
	      "fetch ID OUT | cancel ID\n"
	      "       | find TAG | parse FILE\n", stderr);
	exit(2);
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);

	puts(s ? s : "null");
	free(s);
	json_decref(j);
}

static json_t *info_json(const struct batch_info *in)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:s, s:s}",
			 "id", in->id, "phase", phases[in->phase], "status",
			 in->status, "total", (json_int_t)in->total,
			 "completed", (json_int_t)in->completed, "failed",
			 (json_int_t)in->failed, "output", in->output,
			 "errors", in->errors, "why", in->why);
}

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, ms % 1000 * 1000000L };

	nanosleep(&t, NULL);
}

static void cmd_lines(struct batchapi *b)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	while ((n = getline(&line, &cap, stdin)) > 0) {
		char *sp = strchr(line, ' '), *out;
		size_t len;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (!sp)
			continue;
		*sp = '\0';
		out = batchapi_line(b, line, sp + 1, strlen(sp + 1), &len);
		fwrite(out, 1, len, stdout);
		free(out);
	}
	free(line);
}

static void cmd_parse(int api, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f) {
		perror(path);
		exit(1);
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct batch_result r;
		struct err e;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (n == 0)
			continue;
		if (batchapi_parse_result(api, line, (size_t)n, &r, &e)) {
			print_json(json_pack("{s:s}", "bad", e.msg));
			continue;
		}
		print_json(json_pack("{s:s, s:b, s:I, s:b, s:s, s:s?}",
				     "custom_id", r.custom_id, "ok", r.ok,
				     "status", (json_int_t)r.status, "retry",
				     r.retry, "error", r.error, "body",
				     r.body));
		free(r.body);
	}
	free(line);
	fclose(f);
}

int main(int argc, char **argv)
{
	struct endpoint ep = {
		.api = API_CHAT, .max_attempts = 3, .timeout = 30,
		.connect_timeout = 5, .stall_timeout = 30,
		.backoff_base = 0.05, .backoff_max = 0.2,
	};
	struct batch_info in;
	struct batchapi *b;
	struct err e = { "" };
	const char *cmd;
	int i = 1, rc;

	for (; i + 1 < argc && !strncmp(argv[i], "--", 2); i += 2) {
		if (!strcmp(argv[i], "--api"))
			ep.api = !strcmp(argv[i + 1], "anthropic") ?
				 API_ANTHROPIC : !strcmp(argv[i + 1],
				 "completions") ? API_COMPLETIONS : API_CHAT;
		else if (!strcmp(argv[i], "--url"))
			ep.base_url = argv[i + 1];
		else if (!strcmp(argv[i], "--key-env"))
			ep.api_key = getenv(argv[i + 1]);
		else if (!strcmp(argv[i], "--attempts"))
			ep.max_attempts = atoi(argv[i + 1]);
		else
			usage();
	}
	if (i >= argc)
		usage();
	cmd = argv[i++];
	if (!strcmp(cmd, "parse") && i < argc) {
		cmd_parse(ep.api, argv[i]);
		return 0;
	}
	if (!ep.base_url)
		usage();
	if (!(b = batchapi_new(&ep, &e)))
		die(&e);
	if (!strcmp(cmd, "lines")) {
		cmd_lines(b);
	} else if (!strcmp(cmd, "create") && i + 2 < argc) {
		long times = i + 3 < argc ? atol(argv[i + 3]) : 1;

		for (long k = 0; k < times; k++)
			if (batchapi_create(b, argv[i], strtoul(argv[i + 1],
					    NULL, 10), argv[i + 2], &in, &e))
				die(&e);
		print_json(info_json(&in));
	} else if (!strcmp(cmd, "poll") && i < argc) {
		if (batchapi_poll(b, argv[i], &in, &e))
			die(&e);
		print_json(info_json(&in));
	} else if (!strcmp(cmd, "wait") && i < argc) {
		char last[32] = "";

		for (int k = 0; k < 3000; k++) {
			if (batchapi_poll(b, argv[i], &in, &e))
				die(&e);
			if (strcmp(last, in.status)) {
				print_json(info_json(&in));
				snprintf(last, sizeof(last), "%s", in.status);
			}
			if (in.phase != BATCH_RUNNING)
				break;
			sleep_ms(20);
		}
	} else if (!strcmp(cmd, "fetch") && i + 1 < argc) {
		if (batchapi_poll(b, argv[i], &in, &e) ||
		    batchapi_fetch(b, &in, argv[i + 1], &e))
			die(&e);
		print_json(info_json(&in));
	} else if (!strcmp(cmd, "cancel") && i < argc) {
		/* the poll at once: cancelling lasts a moment only */
		if (batchapi_cancel(b, argv[i], &e) ||
		    batchapi_poll(b, argv[i], &in, &e))
			die(&e);
		print_json(info_json(&in));
	} else if (!strcmp(cmd, "find") && i < argc) {
		rc = batchapi_find(b, argv[i], &in, &e);
		if (rc < 0)
			die(&e);
		print_json(rc ? info_json(&in) : json_pack("{s:b}", "found",
							   0));
	} else {
		usage();
	}
	batchapi_free(b);
	return 0;
}
