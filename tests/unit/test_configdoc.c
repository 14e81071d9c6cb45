/*
 * test_configdoc.c - the keys' documentation against the parser: every
 * key has exactly one row and every row a key; each key's printed default
 * is what config_init gives and reads back to it; `caigen config
 * --example` loads to the defaults; any value config_key_text prints reads
 * back to itself; panel members take the judge keys; the man text names
 * every key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "configdoc.h"
#include "harness.h"

#define VAL_MAX 1024

/* Write text to a new temporary file; the caller unlinks and frees. */
static char *write_tmp(const char *text)
{
	char *path = strdup("/tmp/caigen-test-configdoc-XXXXXX");
	int fd = mkstemp(path);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n) {
		perror("write_tmp");
		exit(2);
	}
	close(fd);
	return path;
}

/* The settings as JSON text, without the file's path. */
static char *dump(const struct config *c)
{
	json_t *j = config_to_json(c);
	char *s;

	json_object_del(j, "config_file");
	s = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* Every key's text of c, one "path=text" line each. */
static char *texts(const struct config *c)
{
	size_t n = config_key_count(), len = 0, size = 1;
	char *all = calloc(1, 1), val[VAL_MAX];
	struct config_key_info k;

	for (size_t i = 0; i < n; i++) {
		config_key_info(i, &k);
		config_key_text(c, i, val, sizeof(val));
		size += strlen(k.path) + strlen(val) + 2;
		all = realloc(all, size);
		len += (size_t)sprintf(all + len, "%s=%s\n", k.path, val);
	}
	return all;
}

/* Load YAML text over fresh defaults; 0 or -1, the message on stderr
 * unless `quiet`. */
static int load_text_quiet(struct config *c, const char *yaml, bool quiet)
{
	struct err e = { "" };
	char *path = write_tmp(yaml);
	int rc;

	config_init(c);
	rc = config_load_yaml(c, path, &e);
	if (rc && !quiet)
		fprintf(stderr, "  %s\n  in:\n%s\n", e.msg, yaml);
	unlink(path);
	free(path);
	return rc;
}

/* Load YAML text over fresh defaults; 0 or -1 (message on stderr). */
static int load_text(struct config *c, const char *yaml)
{
	return load_text_quiet(c, yaml, false);
}

/* Each key: exactly one row; each row: some key. */
static void test_every_key_one_row(void)
{
	size_t n = config_key_count(), sections = 0;
	struct config_key_info k;
	const char *first;

	CHECK(n >= 79);		/* 77 keys and 2 sections when written */
	for (size_t i = 0; i < n; i++) {
		config_key_info(i, &k);
		sections += k.is_section;
		if (configdoc_rows_for(&k) != 1) {
			fprintf(stderr, "  %s: %zu rows\n", k.path,
				configdoc_rows_for(&k));
			harness_failed = 1;
		}
	}
	CHECK(sections == 2);
	CHECK(configdoc_unused_rows(&first) == 0);
	if (first)
		fprintf(stderr, "  row '%s' describes no key\n", first);
	printf("# %zu keys (%zu sections) documented\n", n, sections);
}

/* The walker sees what the parser takes: paths unique, sections first,
 * flag-only switches left out, and a key of another section refused. */
static void test_walker(void)
{
	size_t n = config_key_count();
	struct config_key_info k, o;
	const char *sec = NULL;
	struct config c;

	for (size_t i = 0; i < n; i++) {
		config_key_info(i, &k);
		CHECK(strcmp(k.name, "jobs") && strcmp(k.name, "quiet") &&
		      strcmp(k.name, "progress_interval"));
		if (k.is_section)
			sec = k.name;
		else if (k.section)
			CHECK(sec && !strcmp(sec, k.section));
		for (size_t j = 0; j < i; j++) {
			config_key_info(j, &o);
			CHECK(strcmp(o.path, k.path));
		}
	}
	config_key_info(n, &k);
	CHECK(k.name == NULL);
	CHECK(load_text_quiet(&c, "judge:\n  n: auto\n", true) < 0);
	config_release(&c);
}

/* Spot values, so that a wrong walker cannot agree with itself. */
static void test_default_texts(void)
{
	static const struct { const char *path, *text; } want[] = {
		{ "prompts", "datasets/sample/prompts.jsonl" },
		{ "seed", "1" },
		{ "mode", "preferences" },
		{ "constitutions", "[constitution/harmless.yaml]" },
		{ "prices", "{}" },
		{ "batch_poll", "30" },
		{ "policy.concurrency", "auto" },
		{ "policy.base_urls", "[]" },
		{ "policy.api_key_file", "null" },
		{ "policy.timeout", "120" },
		{ "policy.backoff_base", "0.5" },
		{ "policy.n", "auto" },
		{ "judge.timeout", "60" },
		{ "judge.temperature", "0" },
		{ "judge.max_tokens", "1" },
		{ "judge.both_orders", "true" },
		{ "judge.clamp", "auto" },
		{ "judge.calibration", "null" },
		{ "judge", "" },
	};
	size_t n = config_key_count();
	struct config_key_info k;
	struct config c;
	char val[VAL_MAX];

	config_init(&c);
	for (size_t w = 0; w < ARRAY_SIZE(want); w++) {
		bool found = false;

		for (size_t i = 0; i < n; i++) {
			config_key_info(i, &k);
			if (strcmp(k.path, want[w].path))
				continue;
			found = true;
			config_key_text(&c, i, val, sizeof(val));
			CHECK_STR(val, want[w].text);
		}
		CHECK(found);
	}
	config_release(&c);
}

/* An empty file parses to the printed defaults; each key written alone
 * at its printed default changes nothing. */
static void test_each_default_reads_back(void)
{
	size_t n = config_key_count();
	struct config_key_info k;
	struct config d, c;
	char *dj, *dt, val[VAL_MAX];

	config_init(&d);
	dj = dump(&d);
	dt = texts(&d);
	CHECK(load_text(&c, "") == 0);
	{
		char *t = texts(&c);

		CHECK_STR(t, dt);
		free(t);
	}
	config_release(&c);
	for (size_t i = 0; i < n; i++) {
		char *yaml, *cj, *ct;

		config_key_info(i, &k);
		if (k.is_section)
			continue;
		config_key_text(&d, i, val, sizeof(val));
		yaml = k.section ? xasprintf("%s:\n  %s: %s\n", k.section,
					     k.name, val)
				 : xasprintf("%s: %s\n", k.name, val);
		if (load_text(&c, yaml) == 0) {
			cj = dump(&c);
			ct = texts(&c);
			if (strcmp(cj, dj) || strcmp(ct, dt)) {
				fprintf(stderr, "  %s: %s changes the "
					"settings\n", k.path, val);
				harness_failed = 1;
			}
			free(cj);
			free(ct);
		} else {
			harness_failed = 1;
		}
		config_release(&c);
		free(yaml);
	}
	free(dj);
	free(dt);
	config_release(&d);
}

/* The example: every key once per section, and loading it gives the
 * defaults, valid. */
static void test_example_reads_back(void)
{
	char *text = NULL, *dj, *dt, *cj, *ct;
	size_t size = 0, keys = 0;
	FILE *f = open_memstream(&text, &size);
	struct config d, c;
	struct err e = { "" };

	CHECK(configdoc_example(f) == 0);
	fclose(f);
	for (const char *p = text; p && *p; p = strchr(p, '\n') + 1) {
		const char *q = p + strspn(p, " ");

		if (*q != '#' && *q != '\n')
			keys++;
		if (!strchr(p, '\n'))
			break;
	}
	CHECK(keys == config_key_count());
	CHECK(!strstr(text, "not described"));
	config_init(&d);
	dj = dump(&d);
	dt = texts(&d);
	CHECK(load_text(&c, text) == 0);
	CHECK(config_validate(&c, &e) == 0);
	cj = dump(&c);
	ct = texts(&c);
	CHECK_STR(cj, dj);
	CHECK_STR(ct, dt);
	free(cj);
	free(ct);
	free(dj);
	free(dt);
	config_release(&c);
	config_release(&d);
	free(text);
}

/* Values away from the defaults, printed and read back: the printer is
 * right for every form, not only for the defaults. */
static void test_other_values_read_back(void)
{
	static const char *const yaml =
		"prompts: \"in #1: odd.jsonl\"\n"
		"prompt_field: question\n"
		"seed: 18446744073709551615\n"
		"limit: 12\n"
		"mode: both\n"
		"constitutions: [a.yaml, \"b c.yaml\", null.yaml]\n"
		"max_line_bytes: 4096\n"
		"prices: {\"m:1\": {input: 2.5, output: 10}, "
		"m2: {input: 1, output: 2, batch_input: 0.3, "
		"batch_output: 0.7}}\n"
		"max_cost: 12.75\n"
		"pairs: random:3\n"
		"policy:\n"
		"  base_urls: [http://a:1/v1, http://b:2/v1]\n"
		"  concurrency: [4, 256]\n"
		"  api_key_env: null\n"
		"  api_key_file: \"~\"\n"
		"  model: \"null\"\n"
		"  timeout: 0.001\n"
		"  temperature: 0.7\n"
		"  n: 1\n"
		"  truncated: keep\n"
		"judge:\n"
		"  concurrency: 16\n"
		"  clamp: [0.2, 0.8]\n"
		"  top_p: 0.95\n"
		"  calibration: \"-x\"\n"
		"  both_orders: false\n";
	size_t n = config_key_count();
	struct config_key_info k;
	struct config a, b;
	char val[VAL_MAX], *out = NULL, *ta, *tb, *ja, *jb;
	size_t size = 0;
	FILE *f;

	CHECK(load_text(&a, yaml) == 0);
	f = open_memstream(&out, &size);
	for (size_t i = 0; i < n; i++) {
		config_key_info(i, &k);
		config_key_text(&a, i, val, sizeof(val));
		fprintf(f, "%s%s:%s%s\n", k.section ? "  " : "", k.name,
			*val ? " " : "", val);
	}
	fclose(f);
	CHECK(load_text(&b, out) == 0);
	ta = texts(&a);
	tb = texts(&b);
	ja = dump(&a);
	jb = dump(&b);
	CHECK_STR(ta, tb);
	CHECK_STR(ja, jb);
	CHECK(strstr(ta, "policy.concurrency=[4, 256]\n") != NULL);
	CHECK(strstr(ta, "judge.concurrency=16\n") != NULL);
	CHECK(strstr(ta, "policy.api_key_env=null\n") != NULL);
	CHECK(strstr(ta, "policy.model=\"null\"\n") != NULL);
	CHECK(strstr(ta, "prompts=\"in #1: odd.jsonl\"\n") != NULL);
	free(ta);
	free(tb);
	free(ja);
	free(jb);
	free(out);
	config_release(&a);
	config_release(&b);
}

/* A panel member written with every judge key at its default is the
 * member written with none. */
static void test_panel_member_defaults(void)
{
	size_t n = config_key_count();
	struct config_key_info k;
	struct config d, a, b;
	char val[VAL_MAX], *full = NULL, *ja, *jb;
	size_t size = 0;
	FILE *f = open_memstream(&full, &size);

	config_init(&d);
	fputs("judge:\n  - {model: j1}\n  - model: j2\n", f);
	for (size_t i = 0; i < n; i++) {
		config_key_info(i, &k);
		if (!k.section || strcmp(k.section, "judge") ||
		    !strcmp(k.name, "model"))
			continue;
		config_key_text(&d, i, val, sizeof(val));
		fprintf(f, "    %s: %s\n", k.name, val);
	}
	fclose(f);
	CHECK(load_text(&a, full) == 0);
	CHECK(load_text(&b, "judge:\n  - {model: j1}\n  - {model: j2}\n")
	      == 0);
	CHECK(a.nmembers == 1 && b.nmembers == 1);
	ja = dump(&a);
	jb = dump(&b);
	CHECK_STR(ja, jb);
	free(ja);
	free(jb);
	free(full);
	config_release(&a);
	config_release(&b);
	config_release(&d);
}

/* The man text: an entry for every key, the markers, nothing left
 * undescribed, the prices' batch keys named. */
static void test_man_names_every_key(void)
{
	size_t n = config_key_count(), size = 0;
	struct config_key_info k;
	char *text = NULL;
	FILE *f = open_memstream(&text, &size);

	CHECK(configdoc_man(f) == 0);
	fclose(f);
	CHECK(!strncmp(text, ".\\\" caigen-keys-begin", 21));
	CHECK(strstr(text, "\n.\\\" caigen-keys-end\n") != NULL);
	CHECK(!strstr(text, "not described"));
	CHECK(strstr(text, "batch_input") && strstr(text, "batch_output"));
	for (size_t i = 0; i < n; i++) {
		char *want;

		config_key_info(i, &k);
		want = xasprintf("\n.%s %s:%s", k.is_section ? "B" : "BR",
				 k.name, k.is_section ? "\n" : " \"");
		if (!strstr(text, want)) {
			fprintf(stderr, "  no man entry for %s\n", k.path);
			harness_failed = 1;
		}
		free(want);
	}
	free(text);
}

TESTS(
	T(test_every_key_one_row),
	T(test_walker),
	T(test_default_texts),
	T(test_each_default_reads_back),
	T(test_example_reads_back),
	T(test_other_values_read_back),
	T(test_panel_member_defaults),
	T(test_man_names_every_key),
)
