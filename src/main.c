/*
 * main.c - the command line: dispatch to the commands, flags, signals,
 * exit codes. Nothing else lives here.
 *
 * Exit codes: 0 done; 1 failures remain (or the output failed); 2 usage or
 * configuration error; 75 interrupted, resume by running again (EX_TEMPFAIL,
 * which a Slurm requeue script can test for).
 */
#include "config.h"
#include "constitution.h"
#include "pipeline.h"

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

enum exit_code {
	EXIT_DONE = 0,
	EXIT_FAILURES = 1,
	EXIT_USAGE = 2,
	EXIT_INTERRUPTED = 75,
};

static volatile sig_atomic_t stop_requested;
static double grace_seconds = 30;

static void on_signal(int sig)
{
	static const char msg[] = "\ncaigen: stopping: finishing requests "
		"in flight (signal again to quit at once)\n";

	(void)sig;
	if (stop_requested)
		_exit(EXIT_INTERRUPTED);
	stop_requested = 1;
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing to do about it in a handler */
	}
}

/* After a stop request, give in-flight work `grace_seconds`, then leave:
 * the files hold only whole lines, so the next run resumes cleanly. */
static void *grace_main(void *arg)
{
	(void)arg;
	while (!stop_requested)
		usleep(50 * 1000);
	usleep((useconds_t)(grace_seconds * 1e6));
	fprintf(stderr, "caigen: grace period of %.0f s over, exiting\n",
		grace_seconds);
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

/* Lines in a regular file (for progress and ETA); 0 if unknown. */
static size_t count_lines(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	static char block[1 << 16];
	size_t n = 0;
	ssize_t got;
	char last = '\n';
	struct stat st;

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return 0;
	}
	while ((got = read(fd, block, sizeof(block))) > 0) {
		for (char *p = block; (p = memchr(p, '\n',
				  (size_t)(block + got - p))); p++)
			n++;
		last = block[got - 1];
	}
	close(fd);
	return n + (last != '\n');
}

static void usage_run(FILE *f)
{
	fputs("usage: caigen run [-c run.yaml] [--prompts FILE] [--out DIR] "
	      "[--jobs N]\n"
	      "                  [--seed S] [--limit N] [--grace SECONDS] "
	      "[--quiet]\n"
	      "                  [--policy-url URL] [--policy-model M] "
	      "[--judge-url URL]\n"
	      "                  [--judge-model M] [--constitution FILE]...\n"
	      "\n"
	      "Sample two answers per prompt from the policy model, have the "
	      "judge model\n"
	      "compare them under a principle drawn from the constitution, "
	      "and append\n"
	      "preference records to OUT/preferences.jsonl. Runs resume: "
	      "prompts already\n"
	      "written are skipped. Settings: defaults < YAML < environment "
	      "< flags.\n"
	      "\n"
	      "Exit status: 0 done, 1 failures remain, 2 usage or config "
	      "error,\n"
	      "75 interrupted (run again to resume).\n", f);
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

static int cmd_run(int argc, char **argv)
{
	enum { O_PROMPTS = 256, O_OUT, O_SEED, O_LIMIT, O_GRACE, O_PURL,
	       O_PMODEL, O_JURL, O_JMODEL, O_CONST };
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "constitution", required_argument, NULL, O_CONST },
		{ "grace", required_argument, NULL, O_GRACE },
		{ "help", no_argument, NULL, 'h' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "judge-model", required_argument, NULL, O_JMODEL },
		{ "judge-url", required_argument, NULL, O_JURL },
		{ "limit", required_argument, NULL, O_LIMIT },
		{ "out", required_argument, NULL, O_OUT },
		{ "policy-model", required_argument, NULL, O_PMODEL },
		{ "policy-url", required_argument, NULL, O_PURL },
		{ "prompts", required_argument, NULL, O_PROMPTS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "seed", required_argument, NULL, O_SEED },
		{ NULL, 0, NULL, 0 },
	};
	struct config cfg;
	struct constitution con;
	struct run_counts counts;
	struct run_opts ro;
	struct err err;
	const char *cfg_path = NULL;
	char **flag_const = NULL;
	size_t nflag_const = 0;
	int c, rc = EXIT_USAGE;
	long long v;

	config_init(&cfg);
	constitution_init(&con);
	/* first pass: the config file, so flags can override it */
	for (int i = 1; i < argc; i++) {
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
			usage_run(stdout);
			rc = EXIT_DONE;
			goto out;
		case 'j':
			if (parse_long(optarg, 1, 4096, "--jobs", &v) < 0)
				goto out;
			cfg.jobs = (int)v;
			break;
		case 'q':
			cfg.quiet = true;
			break;
		case O_PROMPTS:
			config_set_str(&cfg.prompts, optarg);
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
		case O_PURL:
			config_set_str(&cfg.policy.base_url, optarg);
			break;
		case O_PMODEL:
			config_set_str(&cfg.policy.model, optarg);
			break;
		case O_JURL:
			config_set_str(&cfg.judge.base_url, optarg);
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
			usage_run(stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "caigen: unexpected argument '%s'\n",
			argv[optind]);
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
	if (cfg.mode != MODE_PREFERENCES) {
		fprintf(stderr, "caigen: mode '%s' is not available yet; use "
			"'preferences'\n", cfg.mode == MODE_CRITIQUES ?
			"critiques" : "both");
		goto out;
	}
	for (size_t i = 0; i < cfg.nconstitutions; i++) {
		if (constitution_load(&con, cfg.constitutions[i], &err) < 0) {
			fprintf(stderr, "caigen: %s\n", err.msg);
			goto out;
		}
	}
	if (constitution_finish(&con, 1u << STAGE_COMPARE, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		goto out;
	}

	install_signals();
	ro.cfg = &cfg;
	ro.con = &con;
	ro.suffix = "";
	ro.stop = &stop_requested;
	ro.total_hint = count_lines(cfg.prompts);
	if (pipeline_run(&ro, &counts, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		rc = counts.lines || counts.written ? EXIT_FAILURES :
						       EXIT_USAGE;
		if (stop_requested)
			rc = EXIT_INTERRUPTED;
		goto out;
	}
	if (!cfg.quiet)
		pipeline_summary(stderr, &ro, &counts);
	if (stop_requested && (counts.interrupted || counts.not_read))
		rc = EXIT_INTERRUPTED;
	else if (counts.failed)
		rc = EXIT_FAILURES;
	else
		rc = EXIT_DONE;
out:
	for (size_t i = 0; i < nflag_const; i++)
		free(flag_const[i]);
	free(flag_const);
	constitution_release(&con);
	config_release(&cfg);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	int bad = 0;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs("usage: caigen check FILE.yaml...\n\n"
		      "Validate constitutions and run configs; print "
		      "file:line:col: errors.\n", argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_DONE;
	}
	for (int i = 1; i < argc; i++) {
		struct err err;
		struct constitution con;
		FILE *f = fopen(argv[i], "r");
		char line[4096];
		bool is_con = false;
		int rc;

		/* a constitution has a top-level "principles:" key */
		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "principles:", 11))
				is_con = true;
		if (f)
			fclose(f);
		if (is_con) {
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
			rc = config_check_file(argv[i], &err);
			if (rc == 0)
				printf("%s: ok: run config\n", argv[i]);
		}
		if (rc < 0) {
			fprintf(stderr, "%s\n", err.msg);
			bad = 1;
		}
	}
	return bad ? EXIT_USAGE : EXIT_DONE;
}

static void usage(FILE *f)
{
	fputs("usage: caigen <command> [options]\n\n"
	      "commands:\n"
	      "  run      generate preference pairs from a prompts file\n"
	      "  check    validate constitutions and run configs\n"
	      "  version  print the version\n\n"
	      "'caigen <command> --help' describes a command.\n", f);
}

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_DONE;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("caigen %s\n", CAIGEN_VERSION);
		return EXIT_DONE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "caigen: curl_global_init failed\n");
		return EXIT_FAILURES;
	}
	if (!strcmp(argv[1], "run"))
		rc = cmd_run(argc - 1, argv + 1);
	else if (!strcmp(argv[1], "check"))
		rc = cmd_check(argc - 1, argv + 1);
	else {
		fprintf(stderr, "caigen: unknown command '%s'\n", argv[1]);
		usage(stderr);
		rc = EXIT_USAGE;
	}
	curl_global_cleanup();
	return rc;
}
