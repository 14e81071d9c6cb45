/*
 * main.c - the command line: dispatch to the commands, flags, signals,
 * exit codes. Nothing else lives here.
 *
 * Exit codes: 0 done; 1 failures remain (or the output failed); 2 usage or
 * configuration error; 75 interrupted, resume by running again (EX_TEMPFAIL,
 * which a Slurm requeue script can test for).
 */
#include "audit.h"
#include "batch.h"
#include "calibrate.h"
#include "card.h"
#include "catalog.h"
#include "checkrun.h"
#include "review.h"
#include "config.h"
#include "configdoc.h"
#include "constitution.h"
#include "datadir.h"
#include "dryrun.h"
#include "import.h"
#include "label.h"
#include "merge.h"
#include "pipeline.h"
#include "preflight.h"
#include "runrules.h"
#include "promptgen.h"
#include "prompts.h"
#include "rank.h"
#include "runinfo.h"
#include "shard.h"
#include "split.h"
#include "status.h"
#include "summary.h"
#include "usable.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

enum exit_code {
	EXIT_DONE = 0,
	EXIT_FAILURES = 1,
	EXIT_USAGE = 2,
	EXIT_INTERRUPTED = 75,
};

static volatile sig_atomic_t stop_requested;
static double grace_seconds = 30;
#define GRACE_CLEANUP_SECONDS 2.0	/* end of the grace: write, leave */

static void on_signal(int sig)
{
	static const char msg[] = "\ncaigen: stopping: finishing requests "
		"in flight (signal again to quit at once)\n";

	(void)sig;
	/* atomics, lock-free on an int: safe in a handler, and the threads
	 * that read the flag see a defined value (TSan agrees) */
	if (__atomic_load_n(&stop_requested, __ATOMIC_RELAXED))
		_exit(EXIT_INTERRUPTED);
	__atomic_store_n(&stop_requested, 1, __ATOMIC_RELAXED);
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do about it in a handler */
	}
}

/* After a stop request, give in-flight work `grace_seconds`, then leave:
 * the files hold only whole lines, so the next run resumes cleanly. */
static void *grace_main(void *arg)
{
	/* the last part of the grace is kept for writing out */
	double cleanup = grace_seconds / 2 < GRACE_CLEANUP_SECONDS ?
			 grace_seconds / 2 : GRACE_CLEANUP_SECONDS;

	(void)arg;
	while (!__atomic_load_n(&stop_requested, __ATOMIC_RELAXED))
		usleep(50 * 1000);
	usleep((useconds_t)((grace_seconds - cleanup) * 1e6));
	/* drop the requests still on the wire (http.c aborts transfers at
	 * 2) so the run can write its last records and the manifest within
	 * the grace; if even that hangs, leave: the files hold whole lines
	 * only, and the next run resumes from them */
	fprintf(stderr, "caigen: grace period of %.0f s nearly over, "
		"dropping requests in flight\n", grace_seconds);
	__atomic_store_n(&stop_requested, 2, __ATOMIC_RELAXED);
	usleep((useconds_t)(cleanup * 1e6));
	fprintf(stderr, "caigen: exiting without the manifest\n");
	_exit(EXIT_INTERRUPTED);
	return NULL;
}

static void install_signals(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&t, NULL, grace_main, NULL);
	pthread_detach(t);
}

/* Lines in a regular file (for progress and ETA), gzip-compressed or
 * not; 0 if unknown. */
static size_t count_lines(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	static char block[1 << 16];
	size_t n = 0;
	int got;
	char last = '\n';
	struct stat st;
	gzFile gz;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	gz = gzdopen(fd, "rb");	/* reads a plain file as it is */
	if (!gz) {
		close(fd);
		return 0;
	}
	gzbuffer(gz, 1 << 16);
	while ((got = gzread(gz, block, sizeof(block))) > 0) {
		for (char *p = block; (p = memchr(p, '\n',
				  (size_t)(block + got - p))); p++)
			n++;
		last = block[got - 1];
	}
	gzclose(gz);
	return got < 0 ? 0 : n + (last != '\n');
}

static void usage_run(FILE *f)
{
	fputs("usage: caigen run [options]\n"
	      "\n"
	      "Sample two answers per prompt from the policy model, have the "
	      "judge model\n"
	      "compare them under a principle drawn from the constitution, "
	      "and append\n"
	      "preference records to OUT/preferences.jsonl. Runs resume: "
	      "prompts already\n"
	      "written are skipped. Settings: defaults < YAML < environment "
	      "< flags.\n"
	      "With 'mode: critiques' in the config, critique/revision "
	      "chains go to\n"
	      "OUT/critiques.jsonl instead; 'mode: both' writes both files.\n"
	      "\n"
	      "options:\n"
	      "      --allow-changed-settings  add to records in OUT made "
	      "with other\n"
	      "                           settings (models, seed, judge, "
	      "...); without it\n"
	      "                           such a run is refused, the "
	      "differences listed\n"
	      "  -c, --config FILE        settings from a YAML run config\n"
	      "      --constitution FILE  constitution to draw from: a file "
	      "or a short\n"
	      "                           name (harmless); repeatable, "
	      "replaces the\n"
	      "                           config's list\n"
	      "      --dry-run            print the first requests as they "
	      "would be sent (key\n"
	      "                           shown as ***), the number of "
	      "requests and an\n"
	      "                           estimate of tokens and cost; send "
	      "nothing\n"
	      "      --dry-run-count N    requests --dry-run prints in full "
	      "(default 3)\n"
	      "      --grace SECONDS      after a stop signal, let requests "
	      "in flight\n"
	      "                           finish this long (default 30)\n"
	      "  -h, --help               print this help and exit\n"
	      "      --max-cost USD       stop taking prompts before the "
	      "spending\n"
	      "                           would pass USD (needs prices; exit "
	      "75)\n"
	      "  -j, --jobs N             requests in flight per endpoint "
	      "(sets both\n"
	      "                           policy and judge concurrency)\n"
	      "      --judge-model M      judge (feedback) model name\n"
	      "      --judge-url URL      judge base URL, e.g. "
	      "http://host:8000/v1\n"
	      "      --limit N            read at most N input lines "
	      "(0: all)\n"
	      "      --mode M             preferences (default), critiques "
	      "or both\n"
	      "      --no-preflight       skip the start-up probe of each "
	      "endpoint\n"
	      "      --out DIR            output folder\n"
	      "      --policy-model M     policy model name\n"
	      "      --policy-url URL     policy base URL\n"
	      "      --progress-interval S\n"
	      "                           seconds between progress lines "
	      "off a terminal\n"
	      "                           (default 5)\n"
	      "      --prompt-field KEY   the JSONL key holding the prompt "
	      "(default\n"
	      "                           prompt; a string or a message "
	      "list)\n"
	      "      --prompts FILE       prompts: JSONL or plain text, "
	      "'-' for stdin,\n"
	      "                           gzip-compressed or not, or a "
	      "folder written\n"
	      "                           by 'caigen split'\n"
	      "  -q, --quiet              no progress lines or summary\n"
	      "      --responses K        answers per prompt, 2..16 (above "
	      "2: rankings)\n"
	      "      --rounds N           critique/revision rounds per "
	      "prompt\n"
	      "      --seed S             run seed: same seed and input, "
	      "same draws\n"
	      "      --shard K/N          do shard K (0-based) of N; "
	      "default: from\n"
	      "                           SLURM_ARRAY_TASK_ID, "
	      "JOB_COMPLETION_INDEX\n"
	      "                           (with CAIGEN_SHARD_COUNT) or "
	      "AWS_BATCH_JOB_ARRAY_*\n"
	      "\n"
	      "'caigen label' and 'caigen eval' take these options too, "
	      "and --pairs,\n"
	      "--format, --json, --html and --bootstrap (see their "
	      "--help).\n"
	      "\n"
	      "Exit status: 0 done, 1 failures remain, 2 usage or config "
	      "error,\n"
	      "75 interrupted (run again to resume). See caigen(1).\n", f);
}

/* A --*-url flag replaces a YAML base_urls list too. */
static void drop_list(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

static int parse_long(const char *s, long long lo, long long hi,
		      const char *what, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "caigen: %s must be an integer between %lld "
			"and %lld, got '%s'\n", what, lo, hi, s);
		return -1;
	}
	*out = v;
	return 0;
}

/* --dry-run: print what the run would send; nothing is sent. */
static int run_dry(const struct config *cfg, const struct constitution *con,
		   struct shard shard, size_t show,
		   const struct pair_feed *feed)
{
	struct dryrun_opts o = { cfg, con, shard, NULL, show, feed };
	struct err err;
	char *suffix;
	int rc;

	if (shard.n == 0 && shard_from_env(&shard, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		return EXIT_USAGE;
	}
	suffix = shard_suffix(&shard);
	o.shard = shard;
	o.suffix = suffix;
	rc = dryrun_run(&o, stdout, &err);
	if (rc < 0)
		fprintf(stderr, "caigen: %s\n", err.msg);
	free(suffix);
	return rc < 0 ? EXIT_USAGE : EXIT_DONE;
}

/* The settings agree with those of OUT's records, or the user allowed
 * the change (runinfo.h); -1 after saying why. */
static int settings_agree(const struct config *cfg, const struct shard *s,
			  json_t *settings, bool allow, bool dry)
{
	char *sfx = shard_suffix(s);
	bool changed;
	struct err err;
	int rc = runinfo_check(cfg->out, sfx, settings, dry ? false : allow,
			       &changed, &err);

	if (rc < 0 && dry) {
		/* a dry run plans anyway, and says what the run would do */
		fprintf(stderr, "caigen: note: the run would be refused%s: "
			"%s\n", allow ? " without --allow-changed-settings" :
			"", err.msg);
		rc = 0;
	} else if (rc < 0)
		fprintf(stderr, "caigen: %s\n", err.msg);
	else if (changed && !cfg->quiet)
		fprintf(stderr, "caigen: warning: '%s' holds records made "
			"with other settings; adding to them "
			"(--allow-changed-settings)\n", cfg->out);
	free(sfx);
	return rc;
}

/* The dataset's prompt format (prompts.h) from prompt_format. */
static enum prompts_format_mode prompt_format(const struct config *cfg,
					      int split)
{
	if (!strcmp(cfg->prompt_format, "standard"))
		return PROMPTS_STANDARD;
	if (!strcmp(cfg->prompt_format, "conversational"))
		return PROMPTS_CONVERSATIONAL;
	if (!strcmp(cfg->prompts, "-"))
		return PROMPTS_FIRST;
	if (split)	/* cfg->prompts is the shard file: its folder's
			 * split.json says it for the whole source */
		return split_conversational(cfg->prompts) ?
		       PROMPTS_CONVERSATIONAL : PROMPTS_STANDARD;
	return prompts_any_messages(cfg->prompts, cfg->max_line_bytes) ?
	       PROMPTS_CONVERSATIONAL : PROMPTS_STANDARD;
}

enum run_kind { KIND_RUN, KIND_LABEL, KIND_EVAL, KIND_EXPORT, KIND_IMPORT };

static void usage_batch(FILE *f)
{
	fputs("usage: caigen batch export [options]\n"
	      "       caigen batch import [options] RESULTS.jsonl...\n"
	      "\n"
	      "Run the job through an offline batch runner (vllm run-batch, "
	      "a manual\n"
	      "upload): 'export' goes as far as the answers at hand allow "
	      "and writes the\n"
	      "requests still to answer, one per line in the OpenAI batch "
	      "shape, to\n"
	      "OUT/batch/policy.export.jsonl and OUT/batch/judge.export.jsonl; "
	      "'import'\n"
	      "adds the runner's result lines (matched by custom_id) and "
	      "does the same.\n"
	      "Repeat until the exit status is 0: each round answers one "
	      "step of every\n"
	      "prompt (the samples, then the judgments, ...). Records are "
	      "written as in\n"
	      "'caigen run'. Options: those of 'caigen run'. Every endpoint "
	      "the run\n"
	      "uses must have api: chat (the OpenAI shape); anthropic and "
	      "completions\n"
	      "endpoints are refused before anything is written.\n"
	      "\n"
	      "Exit status: 0 done, 1 failures remain, 2 usage or config "
	      "error,\n75 requests were exported: answer them and import "
	      "the results.\n", f);
}

static void usage_kind(FILE *f, enum run_kind kind)
{
	if (kind == KIND_RUN) {
		usage_run(f);
		return;
	}
	if (kind == KIND_EXPORT || kind == KIND_IMPORT) {
		usage_batch(f);
		return;
	}
	fprintf(f, "usage: caigen %s --pairs FILE [options]\n"
	      "\n", kind == KIND_LABEL ? "label" : "eval");
	if (kind == KIND_LABEL)
		fputs("Judge pairs that already exist (TRL, hh-rlhf, "
		      "UltraFeedback, caigen, CAI HHH,\n"
		      "MT-Bench) with the judge stage of 'caigen run': "
		      "principle draws, both\n"
		      "orders, CoT, clamp, methods, resume, shards. No policy "
		      "endpoint is used.\n"
		      "Each pair is shown in a seeded random order. Records "
		      "go to\n"
		      "OUT/preferences.jsonl, with the input's own label as "
		      "\"reference\".\n", f);
	else
		fputs("Label pairs with a reference (human) label as "
		      "'caigen label' does, then\n"
		      "report how the judge agrees with it: agreement with "
		      "bootstrap intervals,\n"
		      "calibration (Brier, log loss, ECE, reliability), "
		      "position and length bias,\n"
		      "per principle, tag and method, price and time per 1000 "
		      "pairs. The report\n"
		      "is printed and written to OUT/eval.json. OUT/reviews.jsonl "
		      "('caigen review')\n"
		      "replaces the references of the records it reviewed; "
		      "without --pairs, eval\n"
		      "reports on the records already in OUT and sends "
		      "nothing.\n", f);
	fputs("\noptions (and those of 'caigen run' for the judge, output "
	      "and run):\n"
	      "      --pairs FILE         the pairs (JSONL), '-' for stdin\n"
	      "      --format F           auto (default: by the keys of each "
	      "line), trl,\n"
	      "                           hh-rlhf, ultrafeedback, caigen, "
	      "hhh, mt-bench\n", f);
	if (kind == KIND_EVAL)
		fputs("      --bootstrap N        bootstrap resamples (default "
		      "1000)\n"
		      "      --html FILE          also write the report as "
		      "HTML\n"
		      "      --json               print the report as JSON "
		      "instead of text\n", f);
	fputs("\nExit status: 0 done, 1 failures remain, 2 usage or config "
	      "error,\n75 interrupted (run again to resume). See "
	      "caigen(1).\n", f);
}

/* batch import: every results file into OUT/batch's results, each
 * checked whole before any line is added. */
static int import_results(const struct config *cfg, const char *suffix,
			  int n, char **files, uint64_t from[ROLE_COUNT])
{
	char *dir = xasprintf("%s/batch%s", cfg->out, suffix);
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++) {
		struct err err;
		size_t got;

		rc = batch_import(dir, cfg, files[i], &got, from, &err);
		if (rc < 0)
			fprintf(stderr, "caigen: %s\n", err.msg);
		else if (!cfg->quiet)
			fprintf(stderr, "caigen: %zu results from '%s' added "
				"to '%s'\n", got, files[i], dir);
	}
	free(dir);
	return rc;
}

/* batch export: where the requests went, and what to do next. */
static void say_exported(const struct config *cfg, const char *suffix,
			 const struct run_counts *c)
{
	static const char *const names[2] = { "policy", "judge" };

	for (int r = 0; r < 2; r++)
		if (c->exported[r])
			fprintf(stderr, "caigen: %zu %s requests to answer in "
				"'%s/batch%s/%s.export.jsonl'\n",
				c->exported[r], names[r], cfg->out, suffix,
				names[r]);
	if (c->exported[0] + c->exported[1])
		fprintf(stderr, "caigen: run them (e.g. vllm run-batch -i "
			"FILE -o RESULTS --model M), then 'caigen batch "
			"import RESULTS...' with the same options\n");
}

static int run_kind(int argc, char **argv, enum run_kind kind)
{
	enum { O_PROMPTS = 256, O_OUT, O_SEED, O_LIMIT, O_GRACE, O_PURL,
	       O_PMODEL, O_JURL, O_JMODEL, O_CONST, O_SHARD, O_NOPRE,
	       O_DRY, O_DRYN, O_PAIRS, O_FORMAT, O_JSON, O_HTML, O_BOOT,
	       O_MAXCOST, O_PFIELD, O_MODE, O_ROUNDS, O_RESPONSES,
	       O_ALLOWCHG, O_PROGRESS };
	uint64_t imported[ROLE_COUNT];	/* batch import: where it began */
	static const struct option opts[] = {
		{ "allow-changed-settings", no_argument, NULL, O_ALLOWCHG },
		{ "bootstrap", required_argument, NULL, O_BOOT },
		{ "config", required_argument, NULL, 'c' },
		{ "constitution", required_argument, NULL, O_CONST },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "dry-run-count", required_argument, NULL, O_DRYN },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "help", no_argument, NULL, 'h' },
		{ "html", required_argument, NULL, O_HTML },
		{ "jobs", required_argument, NULL, 'j' },
		{ "json", no_argument, NULL, O_JSON },
		{ "judge-model", required_argument, NULL, O_JMODEL },
		{ "judge-url", required_argument, NULL, O_JURL },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "max-cost", required_argument, NULL, O_MAXCOST },
		{ "mode", required_argument, NULL, O_MODE },
		{ "no-preflight", no_argument, NULL, O_NOPRE },
		{ "out", required_argument, NULL, O_OUT },
		{ "pairs", required_argument, NULL, O_PAIRS },
		{ "policy-model", required_argument, NULL, O_PMODEL },
		{ "policy-url", required_argument, NULL, O_PURL },
		{ "progress-interval", required_argument, NULL, O_PROGRESS },
		{ "prompt-field", required_argument, NULL, O_PFIELD },
		{ "prompts", required_argument, NULL, O_PROMPTS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "responses", required_argument, NULL, O_RESPONSES },
		{ "rounds", required_argument, NULL, O_ROUNDS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "shard", required_argument, NULL, O_SHARD },
		{ NULL, 0, NULL, 0 },
	};
	struct shard shard = { 0, 0 };	/* n 0: not given, ask Slurm */
	char *suffix = NULL, *split_path = NULL;
	size_t split_lines = 0;
	int split;
	struct config cfg;
	struct constitution con;
	struct run_counts counts;
	struct run_opts ro;
	struct err err;
	const char *cfg_path = NULL;
	char **flag_const = NULL;
	size_t nflag_const = 0;
	int c, rc = EXIT_USAGE;
	bool no_preflight = false;
	bool dry_run = false, allow_changed = false;
	json_t *settings = NULL;
	size_t dry_show = DRYRUN_SHOW_DEFAULT;
	long long v;
	const char *pairs_path = NULL, *html = NULL, *only = NULL;
	int format = PAIRS_AUTO, boot = 0;
	bool json = false;
	struct label_feed lf;
	bool lf_open = false;

	config_init(&cfg);
	constitution_init(&con);
	/* first pass: the config file, so flags can override it */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage_kind(stdout, kind);	/* even if the file
							 * is bad */
			rc = EXIT_DONE;
			goto out;
		}
		if ((!strcmp(argv[i], "-c") || !strcmp(argv[i], "--config")) &&
		    i + 1 < argc)
			cfg_path = argv[i + 1];
		else if (!strncmp(argv[i], "--config=", 9))
			cfg_path = argv[i] + 9;
	}
	if (cfg_path && config_load_yaml(&cfg, cfg_path, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (config_apply_env(&cfg, false, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:hj:q", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			break;
		case 'h':
			usage_kind(stdout, kind);
			rc = EXIT_DONE;
			goto out;
		case O_PAIRS:
			pairs_path = optarg;
			only = kind != KIND_LABEL && kind != KIND_EVAL ?
			       "--pairs" : only;
			break;
		case O_FORMAT:
			format = pairs_format_parse(optarg);
			if (format < 0) {
				fprintf(stderr, "caigen: unknown --format "
					"'%s' (auto, trl, hh-rlhf, "
					"ultrafeedback, caigen, hhh, "
					"mt-bench)\n", optarg);
				goto out;
			}
			only = kind != KIND_LABEL && kind != KIND_EVAL ?
			       "--format" : only;
			break;
		case O_JSON:
			json = true;
			only = kind != KIND_EVAL ? "--json" : only;
			break;
		case O_HTML:
			html = optarg;
			only = kind != KIND_EVAL ? "--html" : only;
			break;
		case O_BOOT:
			if (parse_long(optarg, 1, 1000000, "--bootstrap",
				       &v) < 0)
				goto out;
			boot = (int)v;
			only = kind != KIND_EVAL ? "--bootstrap" : only;
			break;
		case 'j':
			if (parse_long(optarg, 1, 100000, "--jobs", &v) < 0)
				goto out;
			cfg.jobs = (int)v;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case O_NOPRE:
			no_preflight = true;
			break;
		case O_PROGRESS:
			if (parse_long(optarg, 1, 86400, "--progress-interval",
				       &v) < 0)
				goto out;
			cfg.progress_interval = (int)v;
			break;
		case O_DRYN:
			if (parse_long(optarg, 0, 1000000, "--dry-run-count",
				       &v) < 0)
				goto out;
			dry_show = (size_t)v;
			dry_run = true;	/* a count asks for a dry run */
			break;
		case O_DRY:
			dry_run = true;
			break;
		case O_PROMPTS:
			config_set_str(&cfg.prompts, optarg);
			break;
		case O_ALLOWCHG:
			allow_changed = true;
			break;
		case O_MODE:
			if (!strcmp(optarg, "preferences"))
				cfg.mode = MODE_PREFERENCES;
			else if (!strcmp(optarg, "critiques"))
				cfg.mode = MODE_CRITIQUES;
			else if (!strcmp(optarg, "both"))
				cfg.mode = MODE_BOTH;
			else {
				fprintf(stderr, "caigen: unknown --mode '%s' "
					"(preferences, critiques, both)\n",
					optarg);
				goto out;
			}
			break;
		case O_ROUNDS:
			if (parse_long(optarg, 1, 64, "--rounds", &v) < 0)
				goto out;
			cfg.rounds = (int)v;
			break;
		case O_RESPONSES:
			if (parse_long(optarg, 2, RANK_MAX, "--responses",
				       &v) < 0)
				goto out;
			cfg.responses = (int)v;
			break;
		case O_PFIELD:
			config_set_str(&cfg.prompt_field, optarg);
			only = kind == KIND_LABEL || kind == KIND_EVAL ?
			       "--prompt-field" : only;
			break;
		case O_OUT:
			config_set_str(&cfg.out, optarg);
			break;
		case O_SEED:
			if (parse_long(optarg, 0, 0x7fffffffffffffffLL,
				       "--seed", &v) < 0)
				goto out;
			cfg.seed = (unsigned long long)v;
			break;
		case O_LIMIT:
			if (parse_long(optarg, 0, 0x7fffffffffffffffLL,
				       "--limit", &v) < 0)
				goto out;
			cfg.limit = v;
			break;
		case O_GRACE:
			if (parse_long(optarg, 0, 86400, "--grace", &v) < 0)
				goto out;
			grace_seconds = (double)v;
			break;
		case O_MAXCOST: {
			char *end;
			double usd = strtod(optarg, &end);

			if (end == optarg || *end || !(usd >= 0) ||
			    usd > 1e12) {
				fprintf(stderr, "caigen: --max-cost must be "
					"an amount in USD (0: no cap), got "
					"'%s'\n", optarg);
				goto out;
			}
			cfg.max_cost = usd;
			break;
		}
		case O_PURL:
			config_set_str(&cfg.policy.base_url, optarg);
			drop_list(&cfg.policy.base_urls, &cfg.policy.nbase_urls);
			break;
		case O_SHARD:
			if (shard_parse(&shard, optarg, &err) < 0) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			break;
		case O_PMODEL:
			config_set_str(&cfg.policy.model, optarg);
			break;
		case O_JURL:
			config_set_str(&cfg.judge.base_url, optarg);
			drop_list(&cfg.judge.base_urls, &cfg.judge.nbase_urls);
			break;
		case O_JMODEL:
			config_set_str(&cfg.judge.model, optarg);
			break;
		case O_CONST:
			flag_const = xrealloc(flag_const, (nflag_const + 1) *
					      sizeof(*flag_const));
			flag_const[nflag_const++] = xstrdup(optarg);
			break;
		default:
			usage_kind(stderr, kind);
			goto out;
		}
	}
	if (only) {
		fprintf(stderr, "caigen: %s is not an option of 'caigen %s'\n",
			only, kind == KIND_RUN ? "run" : kind == KIND_EXPORT ?
			"batch export" : kind == KIND_IMPORT ? "batch import" :
			kind == KIND_EVAL ? "eval" : "label");
		goto out;
	}
	if (kind == KIND_EVAL && !pairs_path && optind == argc) {
		/* no pairs: the report on the records already in OUT (a
		 * run's, graded against OUT/reviews.jsonl), no requests */
		struct run_counts none;

		memset(&none, 0, sizeof(none));
		rc = label_eval_report(&cfg, "", &none, boot, json, html,
				       NULL) < 0 ?
		     EXIT_USAGE : EXIT_DONE;
		goto out;
	}
	if (kind == KIND_LABEL || kind == KIND_EVAL) {
		if (!pairs_path) {
			fprintf(stderr, "caigen: %s needs --pairs FILE\n",
				kind == KIND_LABEL ? "label" : "eval");
			goto out;
		}
		/* label and eval judge pairs: a run config made for mode
		 * both (preferences and critiques) is reused as it is, for
		 * its preference part; one that makes critiques only is not
		 * meant for pairs */
		if (cfg.mode == MODE_CRITIQUES) {
			fprintf(stderr, "caigen: %s judges pairs: mode must "
				"be preferences or both, not critiques\n",
				kind == KIND_LABEL ? "label" : "eval");
			goto out;
		}
		cfg.mode = MODE_PREFERENCES;
		/* the manifest names the input; the replies were not
		 * sampled by a policy model */
		config_set_str(&cfg.prompts, pairs_path);
		config_set_str(&cfg.policy.model, "input");
	}
	if (optind < argc && kind != KIND_IMPORT) {
		fprintf(stderr, "caigen: unexpected argument '%s'\n",
			argv[optind]);
		goto out;
	}
	if (optind == argc && kind == KIND_IMPORT) {
		fprintf(stderr, "caigen: batch import needs the results "
			"file(s) of the exported requests\n");
		goto out;
	}
	if (nflag_const) {
		for (size_t i = 0; i < cfg.nconstitutions; i++)
			free(cfg.constitutions[i]);
		free(cfg.constitutions);
		cfg.constitutions = flag_const;
		cfg.nconstitutions = nflag_const;
		flag_const = NULL;
		nflag_const = 0;
	}
	if (config_validate(&cfg, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	/* the report must not replace an input or a record file: said
	 * now, before any request is paid for */
	if (html && report_out_check(html, (const char *const *)
				     cfg.constitutions, cfg.nconstitutions,
				     &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (html && report_out_check(html, (const char *const *)&pairs_path,
				     1, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	prompts_set_field(cfg.prompt_field);
	if (kind == KIND_LABEL || kind == KIND_EVAL)
		cfg.policy.concurrency = 0;	/* no policy stage: the
						 * manifest says so, preflight
						 * skips it */
	for (size_t i = 0; i < cfg.nconstitutions; i++) {
		if (constitution_load(&con, cfg.constitutions[i], &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	}
	/* each mode needs principles for the stages it runs */
	if (constitution_finish(&con, cfg.mode == MODE_CRITIQUES ?
				1u << STAGE_CRITIQUE : cfg.mode == MODE_BOTH ?
				(1u << STAGE_COMPARE | 1u << STAGE_CRITIQUE) :
				1u << STAGE_COMPARE, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}

	/* --shard wins; else a scheduler's array task takes its slice (of
	 * the split folder's size, for a resubmitted task) */
	if (shard.n == 0 && shard_from_env_sized(&shard,
						 split_size(cfg.prompts),
						 &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	/* prompts from `caigen split`: read this shard's file only */
	split = split_resolve(cfg.prompts, &shard, &split_path, &split_lines,
			      &err);
	if (split < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	if (split) {
		free(cfg.prompts);
		cfg.prompts = split_path;
	}
	/* one prompt format for the whole dataset: conversational when any
	 * prompt of the input is a message list (the whole input is looked
	 * at, so every shard decides alike; a split folder recorded it) */
	if (kind != KIND_LABEL && kind != KIND_EVAL)
		prompts_set_format(prompt_format(&cfg, split));

	/* records already in OUT were made with these settings, or the
	 * run stops here, before anything is sent (runinfo.h); an import
	 * checks its files first */
	settings = runinfo_settings(&cfg, &con);
	if (kind != KIND_IMPORT &&
	    settings_agree(&cfg, &shard, settings, allow_changed,
			   dry_run) < 0)
		goto out;
	if (dry_run) {
		if (kind == KIND_LABEL || kind == KIND_EVAL) {
			/* the pairs as the run reads them */
			if (label_feed_open(&lf, pairs_path,
					    (enum pairs_format)format,
					    cfg.max_line_bytes, cfg.seed,
					    &err) < 0) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				goto out;
			}
			lf_open = true;
		}
		rc = run_dry(&cfg, &con, shard, dry_show,
			     lf_open ? &lf.feed : NULL);
		goto out;
	}
	/* from here a signal is a stop with its grace: the probes below
	 * can wait seconds on a slow server, and a job preempted then
	 * should leave as one stopped later does (exit 75) */
	install_signals();
	/* what run would refuse is refused before any probe is sent
	 * (runrules.h) */
	if (runrules_check(&cfg, kind == KIND_LABEL || kind == KIND_EVAL,
			   kind == KIND_EXPORT || kind == KIND_IMPORT,
			   &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	/* a wrong URL or key: one line now, not a failure per prompt
	 * (export and import send nothing) */
	if (kind != KIND_EXPORT && kind != KIND_IMPORT && !no_preflight &&
	    preflight_run(&cfg, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	memset(&ro, 0, sizeof(ro));
	if (kind == KIND_LABEL || kind == KIND_EVAL) {
		if (label_feed_open(&lf, pairs_path, (enum pairs_format)format,
				    cfg.max_line_bytes, cfg.seed, &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
		lf_open = true;
		ro.feed = &lf.feed;
	}
	ro.cfg = &cfg;
	ro.con = &con;
	suffix = shard_suffix(&shard);
	ro.shard = shard;
	ro.suffix = suffix;
	ro.stop = &stop_requested;
	ro.batch_export = kind == KIND_EXPORT || kind == KIND_IMPORT;
	for (int r = 0; r < ROLE_COUNT; r++)
		imported[r] = UINT64_MAX;
	ro.imported = imported;
	if (kind == KIND_IMPORT && (import_results(&cfg, suffix,
						   argc - optind,
						   argv + optind,
						   imported) < 0 ||
				    settings_agree(&cfg, &shard, settings,
						   allow_changed, false) < 0))
		goto out;
	if (runinfo_save(cfg.out, suffix, settings, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}
	ro.total_hint = split ? split_lines :
		count_lines(pairs_path ? pairs_path : cfg.prompts);
	if (pipeline_run(&ro, &counts, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		rc = counts.lines || counts.written ? EXIT_FAILURES :
						       EXIT_USAGE;
		if (__atomic_load_n(&stop_requested, __ATOMIC_RELAXED))
			rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (!cfg.quiet)
		summary_print(stderr, &ro, &counts);
	if (counts.capped)	/* said even with --quiet, as errors are */
		fprintf(stderr, "caigen: spending cap of $%.4f reached: "
			"$%.4f spent by the replies received; the prompts not "
			"done are left for the next run (raise --max-cost to "
			"go on)\n", cfg.max_cost, counts.spent);
	if (ro.batch_export)
		say_exported(&cfg, suffix, &counts);
	if (counts.refused)
		rc = EXIT_USAGE;	/* a key, model or route refused */
	else if (counts.capped)
		rc = EXIT_INTERRUPTED;	/* the next run goes on */
	else if (__atomic_load_n(&stop_requested, __ATOMIC_RELAXED) &&
		 (counts.interrupted || counts.not_read))
		rc = EXIT_INTERRUPTED;
	else if (counts.failed)
		rc = EXIT_FAILURES;
	else if (counts.exported[0] + counts.exported[1])
		rc = EXIT_INTERRUPTED;	/* answer them, then import */
	else
		rc = EXIT_DONE;
	if (rc == EXIT_DONE && usable_none(&counts)) {
		/* lines read, none usable: not a success (usable.h) */
		char *rej = xasprintf("%s/rejects%s.jsonl", cfg.out, suffix);
		char *why = usable_explain(pairs_path ? "pairs" : "prompts",
					   rej, pairs_path ? NULL :
					   cfg.prompts, !pairs_path);

		fprintf(stderr, "caigen: %s\n", why);
		free(why);
		free(rej);
		rc = EXIT_USAGE;
	}
	if (kind == KIND_EVAL && rc != EXIT_INTERRUPTED && rc != EXIT_USAGE &&
	    label_eval_report(&cfg, suffix, &counts, boot, json, html,
			      pairs_path) < 0)
		rc = EXIT_USAGE;	/* records it cannot read, or I/O */
out:
	json_decref(settings);
	if (lf_open)
		label_feed_close(&lf);
	for (size_t i = 0; i < nflag_const; i++)
		free(flag_const[i]);
	free(flag_const);
	free(suffix);
	constitution_release(&con);
	config_release(&cfg);
	return rc;
}

static int cmd_run(int argc, char **argv)
{
	return run_kind(argc, argv, KIND_RUN);
}

/* `caigen prompts`: generate and persuade run through cmd_run. */
static int cmd_prompts(int argc, char **argv)
{
	return prompts_cmd_main(argc, argv, cmd_run);
}

static int cmd_label(int argc, char **argv)
{
	return run_kind(argc, argv, KIND_LABEL);
}

static int cmd_eval(int argc, char **argv)
{
	return run_kind(argc, argv, KIND_EVAL);
}

static int cmd_batch(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "export"))
		return run_kind(argc - 1, argv + 1, KIND_EXPORT);
	if (argc >= 2 && !strcmp(argv[1], "import"))
		return run_kind(argc - 1, argv + 1, KIND_IMPORT);
	if (argc >= 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help"))) {
		usage_batch(stdout);
		return EXIT_DONE;
	}
	if (argc >= 2)
		fprintf(stderr, "caigen: unknown batch command '%s' (export, "
			"import)\n", argv[1]);
	usage_batch(stderr);
	return EXIT_USAGE;
}

static int cmd_check(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs("usage: caigen check [options] FILE.yaml...\n\n"
		      "Validate constitutions, run configs and prompts "
		      "catalogs (a file with a\ntop-level 'principles:' key "
		      "is a constitution, one with 'categories:' or\n"
		      "'techniques:' a catalog of `caigen prompts`). "
		      "Mistakes are printed as\nfile:line:col: message. "
		      "'caigen config --example' prints a run config\n"
		      "with every key at its default.\n\n"
		      "options:\n"
		      "  -h, --help   print this help and exit\n\n"
		      "Exit status: 0 every file is valid, 2 a file is not.\n",
		      argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_DONE;
	}
	for (int i = 1; i < argc; i++) {
		struct err err;
		struct constitution con;
		char *found = NULL;
		const char *path = argv[i];
		FILE *f;
		char line[4096];
		bool is_con = false, is_cat = false;
		int rc;

		/* a short name ("harmless") is a shipped constitution */
		if (access(path, F_OK) != 0) {
			if (datadir_constitution(path, &found, &err) == 0) {
				path = found;
			} else if (!strchr(path, '.')) {
				fprintf(stderr, "caigen: %s\n", err.msg);
				bad = 1;
				continue;
			}
		}
		f = fopen(path, "r");

		/* a constitution has a top-level "principles:" key */
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "principles:", 11))
				is_con = true;
			else if (!strncmp(line, "categories:", 11) ||
				 !strncmp(line, "techniques:", 11))
				is_cat = true;
		if (f)
			fclose(f);
		if (is_cat && !is_con) {
			struct catalog cat = { 0 };

			rc = catalog_load(&cat, path, &err);
			if (rc == 0)
				printf("%s: ok: prompts catalog, %zu categories"
				       ", %zu techniques\n", argv[i], cat.ncat,
				       cat.ntech);
			catalog_release(&cat);
		} else if (is_con) {
			constitution_init(&con);
			rc = constitution_load(&con, argv[i], &err);
			if (rc == 0)
				rc = constitution_finish(&con, 0, &err);
			if (rc == 0)
				printf("%s: ok: constitution, %zu principles "
				       "(%zu compare, %zu critique)\n", argv[i],
				       con.n, con.stage_n[STAGE_COMPARE],
				       con.stage_n[STAGE_CRITIQUE]);
			constitution_release(&con);
		} else {
			rc = checkrun_file(argv[i], stdout, &err);
		}
		if (rc < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
		}
		free(found);
	}
	return bad ? EXIT_USAGE : EXIT_DONE;
}

static int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs("usage: caigen version\n\nPrint the version.\n\n"
		      "options:\n"
		      "  -h, --help   print this help and exit\n", stdout);
		return EXIT_DONE;
	}
	if (argc > 1) {
		fprintf(stderr, "caigen: unexpected argument '%s'\n",
			argv[1]);
		return EXIT_USAGE;
	}
	printf("caigen %s\n", CAIGEN_VERSION);
	return EXIT_DONE;
}

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Every command, sorted by name. Dispatch and `caigen --help` both read
 * this table, so a command added here is listed too. */
static const struct command commands[] = {
	{ "audit", audit_main, "report principle coverage, judge behaviour" },
	{ "batch", cmd_batch, "export requests for an offline batch runner, "
	  "import results" },
	{ "calibrate", calibrate_main, "fit the judge's calibration to "
	  "references, apply it" },
	{ "card", card_main, "write OUT/README.md, a Hugging Face dataset card" },
	{ "check", cmd_check, "validate constitutions and run configs" },
	{ "config", configdoc_main, "every config key with its default: "
	  "example YAML, man text" },
	{ "eval", cmd_eval, "label pairs with human labels, grade the judge" },
	{ "import", import_main, "convert a published constitution to YAML" },
	{ "label", cmd_label, "judge existing preference pairs" },
	{ "merge", merge_main, "merge the shard files of a job array" },
	{ "prompts", cmd_prompts, "make prompt sets: generate, persuade, "
	  "dedup, decontaminate" },
	{ "review", review_main, "blind human review of records in the "
	  "browser" },
	{ "run", cmd_run, "generate preference pairs from a prompts file" },
	{ "split", split_main, "split a prompts file for an N-task job array" },
	{ "status", status_main, "per-shard progress of a job array's output" },
	{ "version", cmd_version, "print the version" },
};

static void usage(FILE *f)
{
	fputs("usage: caigen <command> [options]\n\ncommands:\n", f);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n'caigen <command> --help' (or 'caigen help <command>') "
	      "describes a command;\n'man caigen' has the details.\n\n"
	      "Exit status: 0 done, 1 failures remain, 2 usage or config "
	      "error,\n75 interrupted (run again to resume).\n", f);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static char help_flag[] = "--help";
	const struct command *cmd;
	const char *name;
	char *help[4];
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") ||
	    (!strcmp(name, "help") && argc == 2)) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (!strcmp(name, "--version"))
		name = "version";
	if (!strcmp(name, "help")) {
		/* "caigen help CMD" is "caigen CMD --help" */
		name = argv[2];
		help[0] = argv[0];
		help[1] = argv[2];
		help[2] = help_flag;
		help[3] = NULL;
		argv = help;
		argc = 3;
	}
	cmd = find_command(name);
	if (!cmd) {
		fprintf(stderr, "caigen: unknown command '%s'\n", name);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "caigen: curl_global_init failed\n");
		return EXIT_FAILURES;
	}
	rc = cmd->fn(argc - 1, argv + 1);
	curl_global_cleanup();
	return rc;
}
