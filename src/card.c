/*
 * card.c - the Hugging Face dataset card of an output folder (card.h).
 *
 * Design: first everything is gathered (the data files and their record
 * counts, the sibling logs, manifest.json, eval.json, and the audit's
 * report over the data files), then the card is printed from those
 * values alone. Settings come from a fixed list of manifest keys, so a
 * key that is not on it (a URL, an api_key_* name, one added later) never
 * reaches the card.
 */
#include "card.h"
#include "audit.h"
#include "provenance.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <glob.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { KIND_PREF, KIND_CRIT, KINDS };
static const char *const kind_name[KINDS] = { "preferences", "critiques" };

/* The files of one kind of data. */
struct datafiles {
	char **name;		/* in the folder, owned */
	long *records;
	size_t n;
	long total;
};

struct card {
	const char *dir;
	char *title;		/* the folder's name */
	struct datafiles d[KINDS];
	long failures, rejects;
	json_t *manifest, *eval, *audit;	/* NULL when absent */
	time_t newest;		/* mtime of the newest file read */
};

/* The settings a card shows, as "section.key" of the manifest's config;
 * everything else stays out. */
static const char *const settings[] = {
	"seed", "mode", "rounds", "limit",
	"policy.model", "policy.api", "policy.temperature", "policy.top_p",
	"policy.max_tokens", "policy.n", "policy.truncated",
	"policy.identical",
	"judge.model", "judge.api", "judge.temperature", "judge.max_tokens",
	"judge.both_orders", "judge.top_logprobs", "judge.scan_positions",
	"judge.cot", "judge.cot_max_tokens", "judge.clamp", "judge.votes",
	"judge.min_letter_mass",
};

static char *join(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* The lines of a file that are not blank. */
static int count_records(const char *path, long *n, struct err *err)
{
	FILE *f = fopen_regular(path, err);
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;

	*n = 0;
	if (!f)
		return errno == ENOENT ? err_set(err, "cannot open '%s': %s",
						 path, strerror(errno)) : -1;
	while ((len = getline(&line, &cap, f)) > 0)
		*n += strspn(line, " \t\r\n") < (size_t)len;
	if (ferror(f))
		rc = err_set(err, "cannot read '%s': %s", path,
			     strerror(errno));
	free(line);
	fclose(f);
	return rc;
}

static void add_name(struct datafiles *d, const char *name)
{
	d->name = xrealloc(d->name, (d->n + 1) * sizeof(*d->name));
	d->records = xrealloc(d->records, (d->n + 1) * sizeof(*d->records));
	d->name[d->n] = xstrdup(name);
	d->records[d->n++] = 0;
}

/* The names in c->dir matching pattern, sorted (glob sorts). */
static void glob_names(const struct card *c, const char *pattern,
		       struct datafiles *d)
{
	char *pat = join(c->dir, pattern);
	size_t skip = strlen(c->dir) + 1;
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			add_name(d, g.gl_pathv[i] + skip);
	globfree(&g);
	free(pat);
}

static void datafiles_release(struct datafiles *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->name[i]);
	free(d->name);
	free(d->records);
	memset(d, 0, sizeof(*d));
}

/* Remember path's modification time when it is the newest yet. */
static void seen_file(struct card *c, const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && st.st_mtime > c->newest)
		c->newest = st.st_mtime;
}

/* Every record of every file of d, and their total. */
static int count_all(struct card *c, struct datafiles *d, long *total,
		     struct err *err)
{
	*total = 0;
	for (size_t i = 0; i < d->n; i++) {
		char *path = join(c->dir, d->name[i]);
		int rc = count_records(path, &d->records[i], err);

		seen_file(c, path);
		free(path);
		if (rc < 0)
			return -1;
		*total += d->records[i];
	}
	return 0;
}

/* Shard files of two job sizes hold the same prompts twice: a card over
 * both would publish every record twice. */
static int mixed_sizes(const struct card *c, const struct datafiles *d,
		       struct err *err)
{
	unsigned n0 = 0, k, n;

	for (size_t i = 0; i < d->n; i++) {
		const char *p = strstr(d->name[i], ".shard-");

		if (!p || sscanf(p, ".shard-%u-of-%u", &k, &n) != 2)
			continue;
		if (n0 && n != n0)
			return err_set(err, "'%s' holds the shard files of "
				       "jobs of %u and %u shards ('%s'): the "
				       "two sets hold the same prompts; keep "
				       "one set, or merge it into %s.jsonl "
				       "first", c->dir, n0, n, d->name[i],
				       strncmp(d->name[i], "critiques", 9) ?
				       "preferences" : "critiques");
		n0 = n;
	}
	return 0;
}

/* The data files: KIND.jsonl, else its shard files. */
static int find_data(struct card *c, struct err *err)
{
	bool any = false;

	for (int k = 0; k < KINDS; k++) {
		char *name = xasprintf("%s.jsonl", kind_name[k]);
		char *path = join(c->dir, name);
		char *pat;

		if (access(path, F_OK) == 0) {
			add_name(&c->d[k], name);
		} else {
			pat = xasprintf("%s.shard-*-of-*.jsonl",
					kind_name[k]);
			glob_names(c, pat, &c->d[k]);
			free(pat);
		}
		free(name);
		free(path);
		if (mixed_sizes(c, &c->d[k], err) < 0 ||
		    count_all(c, &c->d[k], &c->d[k].total, err) < 0)
			return -1;
		any |= c->d[k].n > 0;
	}
	if (!any)
		return err_set(err, "'%s' has no preferences.jsonl or "
			       "critiques.jsonl (nor their shard files)",
			       c->dir);
	return 0;
}

/* The lines of the failures and rejects logs. */
static int count_logs(struct card *c, struct err *err)
{
	struct datafiles f = { 0 }, r = { 0 };
	int rc;

	glob_names(c, "failures*.jsonl", &f);
	glob_names(c, "rejects*.jsonl", &r);
	rc = count_all(c, &f, &c->failures, err) < 0 ||
	     count_all(c, &r, &c->rejects, err) < 0 ? -1 : 0;
	datafiles_release(&f);
	datafiles_release(&r);
	return rc;
}

/* dir/name as JSON, or NULL when there is no such file. */
static int load_json(struct card *c, const char *name, json_t **out,
		     struct err *err)
{
	char *path = join(c->dir, name);
	json_error_t je;
	int rc = 0;

	*out = NULL;
	if (access(path, F_OK) == 0) {
		FILE *f = fopen_regular(path, err);

		if (!f) {
			free(path);
			return -1;
		}
		*out = json_loadf(f, 0, &je);
		fclose(f);
		seen_file(c, path);
		if (!*out) {
			rc = err_set(err, "%s:%d:%d: not JSON: %s", path,
				     je.line, je.column, je.text);
		} else if (!json_is_object(*out)) {
			rc = err_set(err, "'%s' is not the %s caigen writes: "
				     "a JSON object was expected, it holds %s",
				     path, name, json_is_array(*out) ?
				     "an array" : "a single value");
			json_decref(*out);
			*out = NULL;
		}
	}
	free(path);
	return rc;
}

static int run_audit(struct card *c, struct err *err)
{
	struct audit *a = audit_new();
	int rc = audit_set_refusals(a, NULL, err);

	for (int k = 0; k < KINDS && rc == 0; k++) {
		for (size_t i = 0; i < c->d[k].n && rc == 0; i++) {
			char *path = join(c->dir, c->d[k].name[i]);

			rc = audit_scan_file(a, path, err);
			free(path);
		}
	}
	if (rc == 0)
		c->audit = audit_report(a);
	audit_free(a);
	return rc;
}

/* The folder's own name: "out/run1/" is "run1". */
static char *folder_title(const char *dir)
{
	char *real = realpath(dir, NULL), *slash, *t;

	if (!real)
		return xstrdup(dir);
	slash = strrchr(real, '/');
	t = xstrdup(slash && slash[1] ? slash + 1 : real);
	free(real);
	return t;
}

static void card_release(struct card *c)
{
	for (int k = 0; k < KINDS; k++)
		datafiles_release(&c->d[k]);
	free(c->title);
	json_decref(c->manifest);
	json_decref(c->eval);
	json_decref(c->audit);
}

/* ---- printing helpers ---- */

/* A YAML double-quoted scalar. */
static void yaml_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/*
 * Text from data in a Markdown line or table cell: what could start
 * markup is escaped. '<', '>' and '&' as entities (no HTML tag, comment
 * or entity of the data's own); ':' and the '.' of "www." (no GFM
 * autolink; an e-mail address still becomes a mailto: link);
 * '\', '`', '*', '[', ']', '|', '~' and a
 * '_' not between two letters or digits with a backslash (no code span,
 * emphasis, link, image, cell break or strike-through), and so is a
 * first character that is punctuation (no heading, list or quote in the
 * list item it follows); line breaks and other control characters as
 * spaces.
 */
static void md(FILE *f, const char *s)
{
	const char *start = s;

	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			fputc(' ', f);
		else if (ch == '<')
			fputs("&lt;", f);
		else if (ch == '>')
			fputs("&gt;", f);
		else if (ch == '&')
			fputs("&amp;", f);
		else if (strchr("\\`*[]|~:", ch) ||
			 (ch == '.' && s - start >= 3 &&
			  !strncasecmp(s - 3, "www", 3)) ||
			 (ch == '_' && (s == start || !isalnum((unsigned char)
				 s[-1]) || !isalnum((unsigned char)s[1]))) ||
			 (s == start && ch < 0x80 && ispunct(ch)))
			fprintf(f, "\\%c", ch);
		else
			fputc(ch, f);
	}
}

/*
 * Text from data as a code span: inside one nothing is markup and no
 * escape works, so the span's fence is a run of backticks longer than
 * any in the text, with a space inside it when the text starts or ends
 * with a backtick. In a table cell '|' still ends the cell unless
 * written "\|" (GFM strips that backslash, also inside code).
 */
static void md_code(FILE *f, const char *s, bool in_table)
{
	size_t run = 0, longest = 0, n;
	const char *p;
	bool pad;

	s = s ? s : "";
	for (p = s; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	n = strlen(s);
	pad = n && (s[0] == '`' || s[n - 1] == '`' ||
		    (s[0] == ' ' && s[n - 1] == ' '));
	for (size_t i = 0; i <= longest; i++)
		fputc('`', f);
	if (pad)
		fputc(' ', f);
	for (p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch < 0x20 || ch == 0x7f)
			fputc(' ', f);
		else if (ch == '|' && in_table)
			fputs("\\|", f);
		else
			fputc(ch, f);
	}
	if (pad)
		fputc(' ', f);
	for (size_t i = 0; i <= longest; i++)
		fputc('`', f);
}

/* A number as a percentage, a decimal or an integer; "n/a" for null. */
static void pct(FILE *f, json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "%.1f %%", 100 * json_number_value(v));
	else
		fputs("n/a", f);
}

static void dec(FILE *f, json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "%.4f", json_number_value(v));
	else
		fputs("n/a", f);
}

static void integer(FILE *f, json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "%.0f", json_number_value(v));
	else
		fputs("n/a", f);
}

/* A setting's value as compact JSON. */
static void value(FILE *f, json_t *v)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT |
			     JSON_REAL_PRECISION(6));

	md(f, s ? s : "?");
	free(s);
}

/* ---- the card ---- */

static const char *size_category(long n)
{
	static const char *const cat[] = {
		"n<1K", "1K<n<10K", "10K<n<100K", "100K<n<1M", "1M<n<10M",
		"10M<n<100M", "100M<n<1B", "1B<n<10B",
	};
	size_t i = 0;

	for (long lim = 1000; n >= lim && i + 1 < ARRAY_SIZE(cat) &&
	     lim < LONG_MAX / 10; lim *= 10)
		i++;
	return cat[i];
}

static void front_matter(FILE *f, const struct card *c)
{
	bool first = true;

	fputs("---\npretty_name: ", f);
	yaml_str(f, c->title);
	fputs("\n# license: fill this in yourself (e.g. cc-by-4.0, "
	      "apache-2.0, other): the\n# terms of the prompts and of "
	      "the models that wrote and judged the replies apply\n"
	      "license:\n"
	      "tags:\n- caigen\n- constitutional-ai\n- rlaif\n"
	      "- synthetic\n", f);
	if (c->d[KIND_PREF].n)
		fputs("- preference\n", f);
	if (c->d[KIND_CRIT].n)
		fputs("- critique\n", f);
	fprintf(f, "task_categories:\n- text-generation\n"
		"size_categories:\n- %s\nconfigs:\n",
		size_category(c->d[KIND_PREF].total + c->d[KIND_CRIT].total));
	for (int k = 0; k < KINDS; k++) {
		const struct datafiles *d = &c->d[k];

		if (!d->n)
			continue;
		fprintf(f, "- config_name: %s\n", kind_name[k]);
		if (first)
			fputs("  default: true\n", f);
		first = false;
		fputs("  data_files:\n  - split: train\n    path:", f);
		if (d->n == 1) {
			fputc(' ', f);
			yaml_str(f, d->name[0]);
		} else if (d->n > CARD_MAX_LISTED) {
			char *g = xasprintf("%s.shard-*-of-*.jsonl",
					    kind_name[k]);

			fputc(' ', f);
			yaml_str(f, g);
			free(g);
		} else {
			for (size_t i = 0; i < d->n; i++) {
				fputs("\n    - ", f);
				yaml_str(f, d->name[i]);
			}
		}
		fputc('\n', f);
	}
	fputs("---\n", f);
}

static void files_section(FILE *f, const struct card *c)
{
	fputs("\n## Files\n\n| file | records |\n|---|---:|\n", f);
	for (int k = 0; k < KINDS; k++) {
		for (size_t i = 0; i < c->d[k].n; i++) {
			fputs("| ", f);
			md_code(f, c->d[k].name[i], true);
			fprintf(f, " | %ld |\n", c->d[k].records[i]);
		}
		if (c->d[k].n > 1)
			fprintf(f, "| %s, all shards | %ld |\n", kind_name[k],
				c->d[k].total);
	}
	fprintf(f, "| failures (`failures*.jsonl`) | %ld |\n"
		"| rejected input lines (`rejects*.jsonl`) | %ld |\n",
		c->failures, c->rejects);
	if (c->d[KIND_PREF].n)
		fputs("\nPreference records have `prompt`, `chosen`, "
		      "`rejected` and `margin` (TRL's preference\nformat; "
		      "`margin` = |p - 0.5|), the soft label `p` = P(the "
		      "first of `responses` is the\nbetter one), the "
		      "`principle` drawn and the judge's `judgments`.\n", f);
	if (c->d[KIND_CRIT].n)
		fputs("\nCritique records have the critique/revision "
		      "`rounds`, and `messages`, `chosen` and\n`rejected` "
		      "with the field names of the Hugging Face CAI recipe."
		      "\n", f);
	fputs("\n```python\nfrom datasets import load_dataset\n\n"
	      "ds = load_dataset(\"PATH/TO/THIS/FOLDER\", ", f);
	fprintf(f, "\"%s\", split=\"train\")\n```\n",
		c->d[KIND_PREF].n ? kind_name[KIND_PREF] :
		kind_name[KIND_CRIT]);
}

/* The last part of a path: the card names no local folder. */
static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;

	return slash && slash[1] ? slash + 1 : path;
}

/*
 * What made the data and this card: the judge models named by the
 * records (the audit's provenance), the input (the data files above, the
 * prompts file of the manifest's config and the pairs of eval.json, by
 * their last name only), a time and the versions. The time is the
 * modification time of the newest file the card was made from, not the
 * clock: the card of an unchanged folder is the same bytes each time.
 */
static void provenance_section(FILE *f, const struct card *c)
{
	json_t *judges = audit_json_at(c->audit, "provenance.judge_models");
	json_t *more = audit_json_at(c->audit,
				     "provenance.judge_models_omitted");
	const char *prompts = json_string_value(audit_json_at(c->manifest,
		"config.prompts"));
	const char *pairs = json_string_value(audit_json_at(c->eval,
		"provenance.input"));
	const char *version = json_string_value(json_object_get(c->manifest,
								"version"));
	char when[32];
	json_t *v;
	size_t i;

	fputs("\n## Provenance\n\n- judge models (as the records name them):"
	      " ", f);
	if (!json_array_size(judges))
		fputs("none", f);
	json_array_foreach(judges, i, v) {
		fputs(i ? ", " : "", f);
		md_code(f, json_string_value(v), false);
	}
	if (json_integer_value(more) > 0)
		fprintf(f, " (and %lld more mentions of other models)",
			(long long)json_integer_value(more));
	fputs("\n- input: the data files above", f);
	if (prompts && c->d[KIND_PREF].n + c->d[KIND_CRIT].n) {
		fputs(", made from ", f);
		md_code(f, base_name(prompts), false);
		fputs(" (the run's input)", f);
	}
	if (pairs) {
		fputs("; `eval.json` from ", f);
		md_code(f, base_name(pairs), false);
	}
	provenance_iso(c->newest, when, sizeof(when));
	fprintf(f, "\n- time: %s (the newest of the files this card was made "
		"from)\n- caigen version: card written by ", when);
	md(f, CAIGEN_VERSION);
	if (version) {
		fputs("; data made by ", f);
		md(f, version);
	}
	fputc('\n', f);
}

static void manifest_section(FILE *f, const struct card *c)
{
	json_t *m = c->manifest, *v, *cfg = json_object_get(m, "config");
	const char *k;
	size_t i;

	if (!m) {
		fputs("\n## Run\n\nThere is no `manifest.json` in this folder, "
		      "so the constitutions, models,\nsettings and cost are "
		      "not known here.\n", f);
		return;
	}
	fputs("\n## Counts\n\nFrom `manifest.json` (", f);
	fputs(json_object_get(m, "merge") ? "summed by `caigen merge` over "
	      "the shards" : "the last run; `records_total` counts every "
	      "record in the file", f);
	fputs("):\n\n", f);
	json_object_foreach(json_object_get(m, "counts"), k, v) {
		if (!json_is_integer(v))
			continue;
		fputs("- ", f);
		md(f, k);
		fprintf(f, ": %lld\n", (long long)json_integer_value(v));
	}
	fputs("\n## Constitutions\n\n", f);
	json_array_foreach(json_object_get(m, "constitutions"), i, v) {
		fputs("- ", f);
		md_code(f, json_string_value(v), false);
		fputc('\n', f);
	}
	fputs("\n## Models\n\n", f);
	for (int r = 0; r < 2; r++) {
		const char *role = r ? "judge" : "policy";
		const char *model = json_string_value(audit_json_at(cfg, r ?
			"judge.model" : "policy.model"));

		fprintf(f, "- %s: ", role);
		if (model) {
			md_code(f, model, false);
		} else {
			fputs("n/a", f);
		}
		fputc('\n', f);
	}
	fputs("\nMade with caigen ", f);
	md(f, json_string_value(json_object_get(m, "version")) ?
	   json_string_value(json_object_get(m, "version")) : "?");
	fputs(".\n\n## Settings\n\n", f);
	for (i = 0; i < ARRAY_SIZE(settings); i++) {
		v = audit_json_at(cfg, settings[i]);
		if (!v)
			continue;
		fprintf(f, "- `%s`: ", settings[i]);
		value(f, v);
		fputc('\n', f);
	}
	fputs("\nService addresses and key settings are left out.\n", f);
}

/* A cost cell: USD to four places, or "unknown" (no price). */
static void usd(FILE *f, json_t *cost)
{
	if (json_is_number(cost))
		fprintf(f, "%.4f", json_number_value(cost));
	else
		fputs("unknown", f);
}

static void cost_section(FILE *f, const struct card *c)
{
	json_t *m = c->manifest, *v, *cost;
	const char *k;

	if (!m)
		return;
	fputs("\n## Tokens and cost\n\n| model | prompt tokens | "
	      "completion tokens | cost (USD) |\n|---|---:|---:|---:|\n", f);
	json_object_foreach(json_object_get(m, "usage_by_model"), k, v) {
		fputs("| ", f);
		md_code(f, k, true);
		fputs(" | ", f);
		integer(f, json_object_get(v, "prompt_tokens"));
		fputs(" | ", f);
		integer(f, json_object_get(v, "completion_tokens"));
		fputs(" | ", f);
		usd(f, json_object_get(v, "cost_usd"));
		fputs(" |\n", f);
	}
	fputs("| all | ", f);
	integer(f, audit_json_at(m, "usage.prompt_tokens"));
	fputs(" | ", f);
	integer(f, audit_json_at(m, "usage.completion_tokens"));
	fputs(" | ", f);
	cost = json_object_get(m, "cost_usd");
	usd(f, cost);
	fputs(" |\n\n", f);
	if (!json_is_number(cost))
		fputs("The cost is unknown where a model had no row in the "
		      "config's `prices`.\n", f);
	if (json_is_number(json_object_get(m, "wall_seconds")))
		fprintf(f, "Wall time of the run: %.1f s.\n",
			json_number_value(json_object_get(m,
							  "wall_seconds")));
	fputs("\nGuards (cut answers, identical pairs, judge replies "
	      "without logprobs, judgments\nwhose letters got too little "
	      "probability):", f);
	v = json_object_get(m, "guards");
	if (!json_object_size(v))
		fputs(" none recorded.\n", f);
	else
		fputc('\n', f);
	json_object_foreach(v, k, cost) {
		fputs("\n- ", f);
		md(f, k);
		fputs(": ", f);
		integer(f, cost);
	}
	if (json_object_size(v))
		fputc('\n', f);
}

static void audit_section(FILE *f, const struct card *c)
{
	json_t *a = c->audit, *lab = audit_json_at(a, "overall.labels"), *r, *v;
	json_t *rows = json_object_get(a, "principles");
	const char *k;
	size_t i, j;

	fputs("\n## Audit\n\nThe summary of `caigen audit` over the data "
	      "files (run it with `--constitution`\nfor the coverage "
	      "against the principles' weights).\n\n", f);
	fprintf(f, "- records: %lld (%lld preference, %lld critique); "
		"invalid lines: %lld; duplicate ids: %lld\n",
		(long long)json_integer_value(audit_json_at(a, "health.records")),
		(long long)json_integer_value(audit_json_at(a, "health.preference")),
		(long long)json_integer_value(audit_json_at(a, "health.critique")),
		(long long)json_integer_value(audit_json_at(a, "health.invalid_lines")),
		(long long)json_integer_value(audit_json_at(a,
						 "health.duplicate_ids")));
	fprintf(f, "- principles drawn: %lld compare, %lld critique\n",
		(long long)json_integer_value(audit_json_at(a,
			"coverage.compare.draws")),
		(long long)json_integer_value(audit_json_at(a,
			"coverage.critique.draws")));
	if (json_integer_value(json_object_get(lab, "n"))) {
		fputs("- labels: ", f);
		integer(f, json_object_get(lab, "n"));
		fputs("; mean p ", f);
		dec(f, json_object_get(lab, "mean_p"));
		fputs("; decisiveness (mean |p - 0.5|) ", f);
		dec(f, json_object_get(lab, "decisiveness"));
		fputs("; near ties ", f);
		pct(f, json_object_get(lab, "near_tie_rate"));
		fputs("\n- position bias (the same slot wins both orders): ",
		      f);
		pct(f, json_object_get(lab, "position_bias"));
		fputs("; order disagreement ", f);
		pct(f, json_object_get(lab, "order_disagreement"));
		fputs("\n- the judge prefers the longer reply (lengths more "
		      "than 30 characters apart): ", f);
		pct(f, json_object_get(lab, "prefers_longer"));
		fputs(" of ", f);
		integer(f, json_object_get(lab, "length_pairs"));
		fputs(" pairs\n- mean letter mass (1 - other_mass, logprobs "
		      "judgments): ", f);
		dec(f, json_object_get(lab, "mean_letter_mass"));
		fputs("; marked low: ", f);
		integer(f, json_object_get(lab, "low_letter_mass"));
		fputs("\n- judgments by method:", f);
		json_object_foreach(json_object_get(lab, "methods"), k, v) {
			fputc(' ', f);
			md(f, k);
			fprintf(f, " %lld", (long long)json_integer_value(v));
		}
		fputc('\n', f);
	}
	if (!json_array_size(rows))
		return;
	fputs("\n| principle | tags | compare draws | critique rounds | "
	      "mean p | position bias | prefers longer | letter mass |\n"
	      "|---|---|---:|---:|---:|---:|---:|---:|\n", f);
	json_array_foreach(rows, i, r) {
		fputs("| ", f);
		md_code(f, json_string_value(json_object_get(r, "id")), true);
		fputs(" | ", f);
		json_array_foreach(json_object_get(r, "tags"), j, v) {
			fputs(j ? ", " : "", f);
			md(f, json_string_value(v));
		}
		fputs(" | ", f);
		integer(f, audit_json_at(r, "coverage.compare.draws"));
		fputs(" | ", f);
		integer(f, audit_json_at(r, "coverage.critique.draws"));
		fputs(" | ", f);
		dec(f, audit_json_at(r, "labels.mean_p"));
		fputs(" | ", f);
		pct(f, audit_json_at(r, "labels.position_bias"));
		fputs(" | ", f);
		pct(f, audit_json_at(r, "labels.prefers_longer"));
		fputs(" | ", f);
		dec(f, audit_json_at(r, "labels.mean_letter_mass"));
		fputs(" |\n", f);
	}
}

static void refusal_row(FILE *f, const char *name, bool code, json_t *r)
{
	fputs("| ", f);
	if (code)
		md_code(f, name, true);
	else
		md(f, name);
	fputs(" | ", f);
	integer(f, json_object_get(r, "pairs"));
	fputs(" | ", f);
	pct(f, json_object_get(r, "chosen_rate"));
	fputs(" | ", f);
	pct(f, json_object_get(r, "rejected_rate"));
	fputs(" | ", f);
	integer(f, json_object_get(r, "one_refuses"));
	fputs(" | ", f);
	pct(f, json_object_get(r, "judge_chose_refusal"));
	fputs(" |\n", f);
}

/* Refusals and evasive answers (evasive.h), from the audit. */
static void refusals_section(FILE *f, const struct card *c)
{
	json_t *b = json_object_get(c->audit, "refusals"), *r;
	const char *path = json_string_value(json_object_get(b, "phrases"));
	const char *base = path && strrchr(path, '/') ?
			   strrchr(path, '/') + 1 : path;
	static const char *const by[2][2] = {
		{ "by_principle", "principle" }, { "by_tag", "tag" } };
	const char *k;

	if (!json_integer_value(audit_json_at(b, "overall.pairs")))
		return;
	fputs("\n## Refusals and evasiveness\n\nAnswers that refuse or "
	      "evade, as found by the phrase list `", f);
	md(f, base ? base : "?");
	fputs("` (", f);
	integer(f, json_object_get(b, "phrase_count"));
	fputs(" phrases, looked for in each answer's first ", f);
	integer(f, json_object_get(b, "scan_chars"));
	fputs(" characters). \"Judge chose the refusal\" is over the pairs "
	      "where exactly one answer refuses.\n\n", f);
	if (json_is_string(json_object_get(b, "warning"))) {
		fputs("**Warning:** ", f);
		md(f, json_string_value(json_object_get(b, "warning")));
		fputs(".\n\n", f);
	}
	fputs("| | pairs | chosen refuses | rejected refuses | exactly one "
	      "refuses | judge chose the refusal |\n"
	      "|---|---:|---:|---:|---:|---:|\n", f);
	refusal_row(f, "all", false, json_object_get(b, "overall"));
	for (int d = 0; d < 2; d++)
		json_object_foreach(json_object_get(b, by[d][0]), k, r) {
			char *name = xasprintf("%s %s", by[d][1], k);

			refusal_row(f, name, false, r);
			free(name);
		}
}

static void interval(FILE *f, json_t *a)
{
	pct(f, json_object_get(a, "value"));
	if (json_is_number(json_object_get(a, "ci_low"))) {
		fputs(" (95 % interval ", f);
		pct(f, json_object_get(a, "ci_low"));
		fputs(" to ", f);
		pct(f, json_object_get(a, "ci_high"));
		fputc(')', f);
	}
}

static void eval_section(FILE *f, const struct card *c)
{
	json_t *e = c->eval, *o = json_object_get(e, "overall"), *b;
	size_t i;

	if (!e)
		return;
	fputs("\n## Judge evaluation\n\nFrom `eval.json` (`caigen eval`: "
	      "the judge against the reference labels of\nthe input "
	      "pairs).\n\n", f);
	fputs("- pairs: ", f);
	integer(f, json_object_get(o, "n"));
	fputs(" (", f);
	integer(f, json_object_get(o, "scored"));
	fputs(" scored, ", f);
	integer(f, json_object_get(o, "reference_ties"));
	fputs(" reference ties)\n- agreement, hard (argmax of p): ", f);
	interval(f, json_object_get(o, "agreement_hard"));
	fputs("\n- agreement, soft (mean probability of the preferred "
	      "reply): ", f);
	interval(f, json_object_get(o, "agreement_soft"));
	fputs("\n- one order alone: AB ", f);
	pct(f, audit_json_at(o, "agreement_single_order.ab"));
	fputs(", BA ", f);
	pct(f, audit_json_at(o, "agreement_single_order.ba"));
	fputs("\n- calibration: Brier ", f);
	dec(f, json_object_get(o, "brier"));
	fputs(", log loss ", f);
	dec(f, json_object_get(o, "log_loss"));
	fputs(", ECE ", f);
	dec(f, json_object_get(o, "ece"));
	fputs(", MCE ", f);
	dec(f, json_object_get(o, "mce"));
	fputs(" (", f);
	md(f, json_string_value(audit_json_at(e, "conventions.bin_edges")));
	fputs(")\n- position: same slot preferred in ", f);
	pct(f, audit_json_at(o, "position.same_position"));
	fputs(" of pairs; length: the judge prefers the longer reply ", f);
	pct(f, audit_json_at(o, "length.judge_longer"));
	fputs(", the reference ", f);
	pct(f, audit_json_at(o, "length.reference_longer"));
	fputc('\n', f);
	if (!json_array_size(json_object_get(e, "reliability")))
		return;
	fputs("\n| p from | to | mean p | observed | count |\n"
	      "|---:|---:|---:|---:|---:|\n", f);
	json_array_foreach(json_object_get(e, "reliability"), i, b) {
		fputs("| ", f);
		dec(f, json_object_get(b, "lo"));
		fputs(" | ", f);
		dec(f, json_object_get(b, "hi"));
		fputs(" | ", f);
		dec(f, json_object_get(b, "mean_p"));
		fputs(" | ", f);
		dec(f, json_object_get(b, "freq"));
		fputs(" | ", f);
		integer(f, json_object_get(b, "count"));
		fputs(" |\n", f);
	}
}

int card_render(const char *dir, FILE *f, struct err *err)
{
	struct card c = { .dir = dir };
	int rc = -1;

	if (find_data(&c, err) < 0 || count_logs(&c, err) < 0 ||
	    load_json(&c, "manifest.json", &c.manifest, err) < 0 ||
	    load_json(&c, "eval.json", &c.eval, err) < 0 ||
	    run_audit(&c, err) < 0)
		goto out;
	c.title = folder_title(dir);
	front_matter(f, &c);
	fputs(CARD_MARKER "\n\n# ", f);
	md(f, c.title);
	fputs("\n\nConstitutional-AI training data made with caigen: a "
	      "policy model's replies to\nprompts, judged by a feedback "
	      "model under principles drawn from a constitution.\nThe "
	      "labels are AI feedback, not human judgments.\n", f);
	files_section(f, &c);
	provenance_section(f, &c);
	manifest_section(f, &c);
	cost_section(f, &c);
	audit_section(f, &c);
	refusals_section(f, &c);
	eval_section(f, &c);
	fputs("\n## License\n\nNot set: fill in `license` in the header "
	      "above. The prompts' licence and the terms\nof the models "
	      "that wrote and judged the replies apply to this data.\n", f);
	rc = 0;
out:
	card_release(&c);
	return rc;
}

/* Is the file at path a card caigen wrote (or absent)? */
static bool ours_or_absent(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	bool ours = false;

	if (!f)
		return errno == ENOENT;
	while (!ours && getline(&line, &cap, f) > 0)
		ours = strstr(line, CARD_MARKER) != NULL;
	free(line);
	fclose(f);
	return ours;
}

int card_write(const char *dir, bool force, struct err *err)
{
	char *path = join(dir, "README.md");
	struct wfile w;
	FILE *f;
	int rc = -1;

	if (!force && !ours_or_absent(path)) {
		err_set(err, "'%s' was not written by caigen card: keeping "
			"it (--force replaces it)", path);
	} else if ((f = wfile_open(&w, path, err))) {
		if (card_render(dir, f, err) < 0)
			wfile_abort(&w);
		else
			rc = wfile_commit(&w, err);
	}
	free(path);
	return rc;
}

static void usage(FILE *f)
{
	fputs("usage: caigen card OUT [--force]\n"
	      "\n"
	      "Write OUT/README.md, a Hugging Face dataset card for an "
	      "output folder: a YAML\nheader (configs pointing at "
	      "preferences.jsonl and critiques.jsonl or their shard\n"
	      "files, tags, an empty license for you to fill in), then the "
	      "record counts, the\nconstitutions and their hashes, the "
	      "models, settings and cost from\nmanifest.json, the audit's "
	      "summary, and the judge's agreement and calibration\nwhen "
	      "eval.json is there. It reads only the folder's files; no "
	      "key is read or\nwritten. Run again, it replaces the card.\n"
	      "\n"
	      "options:\n"
	      "  --force      replace a README.md that caigen did not "
	      "write\n"
	      "  -h, --help   print this help and exit\n", f);
}

int card_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	struct err err;
	struct stat st;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage(stdout);
			return 0;
		case 'f':
			force = true;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "caigen: card needs one output folder\n");
		usage(stderr);
		return 2;
	}
	if (stat(argv[optind], &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "caigen: '%s' is not a folder\n",
			argv[optind]);
		return 2;
	}
	if (card_write(argv[optind], force, &err) < 0) {
		fprintf(stderr, "caigen: %s\n", err.msg);
		return 2;
	}
	printf("caigen: wrote '%s/README.md'\n", argv[optind]);
	return 0;
}
