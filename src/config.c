/*
 * config.c - the run configuration: defaults, YAML file, environment, checks.
 *
 * DESIGN. Every setting is one row of a key table, {key, type, offset,
 * flags, range, default}, after redis's static_configs[]. Four walkers use
 * the tables and nothing else: config_init takes the defaults from them,
 * config_load_yaml looks YAML keys up in them, config_validate checks the
 * ranges again (flags set the struct directly and bypass the YAML checks)
 * and config_to_json emits the settings in table order, so manifests are
 * deterministic. Adding a setting is a field in struct config plus one row
 * here; a new kind of value is a new enum key_type and a case in each
 * walker. A nested mapping is a KT_SECTION row pointing at another table.
 * The documentation (configdoc.h) reads the same tables through
 * config_key_info and config_key_text: a key's default, as text, is its
 * value in a config_init'ed config, so the man page and `caigen config
 * --example` show what config_init really sets.
 *
 * Offsets count from the start of struct config, not of the section, so a
 * key may be written in one YAML section and live elsewhere in the struct:
 * judge.both_orders is config.both_orders.
 *
 * Relative paths in the file (prompts, out, constitutions, api_key_file)
 * are taken relative to the current directory, not to the YAML file: users
 * run caigen from the repository root and write paths as they see them
 * from there, the same as on the command line.
 *
 * Secrets. API keys are not settings: they never enter the tables, the YAML
 * or the JSON, and no message here formats one. A file names where a key
 * is (api_key_env, api_key_file); config_apply_env fetches it into
 * endpoint.api_key, and config_release wipes it before freeing.
 */
#include "config.h"
#include "calibrate.h"
#include "runrules.h"
#include "endpoint.h"
#include "guard.h"
#include "http.h"
#include "rank.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define DEFAULT_BASE_URL "http://127.0.0.1:8000/v1"
#define NO_MAX LLONG_MAX	/* integer keys bounded only by their type */
#define KEY_FILE_MAX 65536	/* a key file larger than this is not a key */
#define SHOW_MAX 60		/* bytes of a bad value quoted in a message */

/* Enums are stored through an int pointer. */
_Static_assert(sizeof(enum run_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum n_mode) == sizeof(int), "enum size");

enum key_type {
	KT_STR,		/* char *, owned */
	KT_STRLIST,	/* char **, owned, with a size_t count at count_off;
			 * YAML gives a string or a list of strings */
	KT_INT,		/* int */
	KT_LLONG,	/* long long */
	KT_ULLONG,	/* unsigned long long, every 64-bit value allowed */
	KT_SIZE,	/* size_t */
	KT_DOUBLE,	/* finite double */
	KT_BOOL,	/* bool: true/false, yes/no, on/off */
	KT_ENUM,	/* an int-sized enum, spelled as in names[] */
	KT_SECTION,	/* a nested mapping whose keys are in sub */
	KT_CLAMP,	/* struct clamp: auto, off, or [lo, hi] in [0, 1] */
	KT_PRICES,	/* struct price *, count at count_off: a mapping
			 * MODEL: {input: USD/Mtok, output: USD/Mtok} */
};

enum key_flags {
	KF_NULLABLE = 1 << 0,	/* KT_STR: may be unset (NULL, YAML null) */
	KF_URL = 1 << 1,	/* KT_STR: one trailing '/' is dropped */
	KF_FLAG_ONLY = 1 << 2,	/* set by command-line flags, not in YAML */
	KF_MIN_OPEN = 1 << 3,	/* KT_DOUBLE: must be greater than dmin */
	KF_QUIET_DEFAULT = 1 << 4,	/* KT_STR: config_to_json leaves it out
					 * at its default (a key added later:
					 * older manifests read the same) */
};

struct key_name {
	const char *name;
	int value;
};

struct section;

struct key {
	const char *name;
	enum key_type type;
	size_t off;			/* of the field in struct config */
	unsigned flags;			/* enum key_flags */
	long long imin, imax;		/* integers; imax NO_MAX: none */
	double dmin, dmax;		/* KT_DOUBLE; +-HUGE_VAL: none */
	const struct key_name *names;	/* KT_ENUM, ended by a NULL name */
	const struct section *sub;	/* KT_SECTION */
	size_t count_off;		/* KT_STRLIST */
	const char *dstr;		/* default of KT_STR, KT_STRLIST */
	double dnum;			/* default of numbers, bools, enums */
};

struct section {
	const char *name;	/* "policy"; NULL for the top level */
	const struct key *keys;
	size_t nkeys;
	bool endpoint;		/* has a struct endpoint at ep_off */
	size_t ep_off;
};

#define OFF(f) offsetof(struct config, f)
#define K_STR(n, f, fl, d) { .name = n, .type = KT_STR, .off = OFF(f), \
	.flags = (fl), .dstr = (d) }
#define K_LIST(n, f, cnt, fl, d) { .name = n, .type = KT_STRLIST, \
	.off = OFF(f), .count_off = OFF(cnt), .flags = (fl), .dstr = (d) }
#define K_INTEGER(t, n, f, fl, lo, hi, d) { .name = n, .type = t, \
	.off = OFF(f), .flags = (fl), .imin = (lo), .imax = (hi), \
	.dnum = (d) }
#define K_INT(...) K_INTEGER(KT_INT, __VA_ARGS__)
#define K_LL(...) K_INTEGER(KT_LLONG, __VA_ARGS__)
#define K_SIZE(...) K_INTEGER(KT_SIZE, __VA_ARGS__)
#define K_ULL(n, f, fl, d) { .name = n, .type = KT_ULLONG, .off = OFF(f), \
	.flags = (fl), .dnum = (d) }
#define K_DBL(n, f, fl, lo, hi, d) { .name = n, .type = KT_DOUBLE, \
	.off = OFF(f), .flags = (fl), .dmin = (lo), .dmax = (hi), \
	.dnum = (d) }
#define K_BOOL(n, f, fl, d) { .name = n, .type = KT_BOOL, .off = OFF(f), \
	.flags = (fl), .dnum = (d) }
#define K_ENUM(n, f, fl, nm, d) { .name = n, .type = KT_ENUM, \
	.off = OFF(f), .flags = (fl), .names = (nm), .dnum = (d) }
#define K_SECT(n, s) { .name = n, .type = KT_SECTION, .sub = (s) }

/*
 * The keys every endpoint has. Written once so policy and judge cannot
 * drift apart; the defaults that differ are the arguments. Timeouts are
 * capped at a day so that converting them to curl's milliseconds cannot
 * overflow.
 */
#define ENDPOINT_KEYS(ep, d_model, d_timeout, d_temperature, d_max_tokens) \
	K_STR("base_url", ep.base_url, KF_URL, DEFAULT_BASE_URL), \
	K_LIST("base_urls", ep.base_urls, ep.nbase_urls, 0, NULL), \
	K_DBL("cooldown", ep.cooldown, KF_MIN_OPEN, 0, 3600, 5), \
	K_STR("model", ep.model, 0, d_model), \
	K_STR("api_key_env", ep.api_key_env, KF_NULLABLE, "OPENAI_API_KEY"), \
	K_STR("api_key_file", ep.api_key_file, KF_NULLABLE, NULL), \
	K_INT("concurrency", ep.concurrency, 0, 1, 100000, 8), \
	K_DBL("timeout", ep.timeout, KF_MIN_OPEN, 0, 86400, d_timeout), \
	K_DBL("connect_timeout", ep.connect_timeout, KF_MIN_OPEN, 0, 86400, \
	      10), \
	K_INT("max_attempts", ep.max_attempts, 0, 1, 100, 5), \
	K_DBL("backoff_base", ep.backoff_base, KF_MIN_OPEN, 0, 3600, 0.5), \
	K_DBL("backoff_max", ep.backoff_max, KF_MIN_OPEN, 0, 3600, 8), \
	K_DBL("stall_timeout", ep.stall_timeout, 0, 1, 86400, 30), \
	K_DBL("requests_per_minute", ep.requests_per_minute, 0, 0, 1e9, 0), \
	K_DBL("tokens_per_minute", ep.tokens_per_minute, 0, 0, 1e12, 0), \
	K_DBL("temperature", ep.temperature, 0, 0, 2, d_temperature), \
	K_DBL("top_p", ep.top_p, 0, 0, 1, 1), \
	K_INT("max_tokens", ep.max_tokens, 0, 1, NO_MAX, d_max_tokens), \
	K_ENUM("api", ep.api, 0, api_names, API_CHAT), \
	K_ENUM("executor", ep.executor, 0, executor_names, EXEC_LIVE), \
	K_INT("batch_max_requests", ep.batch_max_requests, 0, 0, 100000, 0), \
	K_LL("batch_max_bytes", ep.batch_max_bytes, 0, 0, 1LL << 30, 0), \
	K_ENUM("http", ep.http, 0, http_names, HTTP_AUTO), \
	K_STR("ca_file", ep.ca_file, KF_NULLABLE, NULL)

static const struct key_name api_names[] = {
	{ "chat", API_CHAT },
	{ "completions", API_COMPLETIONS },
	{ "anthropic", API_ANTHROPIC },
	{ NULL, 0 }
};

static const struct key_name executor_names[] = {
	{ "live", EXEC_LIVE },
	{ "batch", EXEC_BATCH },
	{ NULL, 0 }
};

/* http.h: the wire of an endpoint's requests */
static const struct key_name http_names[] = {
	{ "auto", HTTP_AUTO },
	{ "1.1", HTTP_1_1 },
	{ "2", HTTP_2 },
	{ NULL, 0 }
};

static const struct key_name mode_names[] = {
	{ "preferences", MODE_PREFERENCES },
	{ "critiques", MODE_CRITIQUES },
	{ "both", MODE_BOTH },
	{ NULL, 0 }
};

static const struct key_name n_names[] = {
	{ "auto", N_AUTO },
	{ "1", N_ONE },
	{ "2", N_TWO },
	{ NULL, 0 }
};

/* guard.h: what to do with a cut answer and with two identical ones */
static const struct key_name truncated_names[] = {
	{ "retry", GUARD_CUT_RETRY },
	{ "keep", GUARD_CUT_KEEP },
	{ "fail", GUARD_CUT_FAIL },
	{ NULL, 0 }
};

static const struct key_name identical_names[] = {
	{ "resample", GUARD_SAME_RESAMPLE },
	{ "keep", GUARD_SAME_KEEP },
	{ "fail", GUARD_SAME_FAIL },
	{ NULL, 0 }
};

static const struct key_name binarize_names[] = {
	{ "best-worst", BIN_BEST_WORST },
	{ "best-random", BIN_BEST_RANDOM },
	{ "all-pairs", BIN_ALL_PAIRS },
	{ NULL, 0 }
};

static const struct key_name panel_names[] = {
	{ "mean", PANEL_MEAN },
	{ "median", PANEL_MEDIAN },
	{ "majority", PANEL_MAJORITY },
	{ NULL, 0 }
};

static const struct key policy_keys[] = {
	ENDPOINT_KEYS(policy, "policy", 120, 1.0, 512),
	K_ENUM("n", n, 0, n_names, N_AUTO),
	K_ENUM("truncated", truncated, 0, truncated_names, GUARD_CUT_RETRY),
	K_ENUM("identical", identical, 0, identical_names,
	       GUARD_SAME_RESAMPLE),
	K_INT("identical_resamples", identical_resamples, 0, 0, 100, 2),
};

static const struct key judge_keys[] = {
	ENDPOINT_KEYS(judge, "judge", 60, 0.0, 1),
	K_BOOL("both_orders", both_orders, 0, true),
	K_INT("top_logprobs", top_logprobs, 0, 0, 20, 20),
	K_INT("scan_positions", scan_positions, 0, 1, 16, 4),
	K_BOOL("cot", cot, 0, false),
	K_INT("cot_max_tokens", cot_max_tokens, 0, 1, 65536, 256),
	{ .name = "clamp", .type = KT_CLAMP, .off = OFF(clamp),
	  .dnum = CLAMP_AUTO },
	K_INT("votes", votes, 0, 0, 100, 0),
	K_DBL("min_letter_mass", min_letter_mass, 0, 0, 1, 0.5),
	K_STR("calibration", calibration, KF_NULLABLE, NULL),
};

static const struct section policy_section = {
	"policy", policy_keys, ARRAY_SIZE(policy_keys), true, OFF(policy)
};

static const struct section judge_section = {
	"judge", judge_keys, ARRAY_SIZE(judge_keys), true, OFF(judge)
};

static const struct key top_keys[] = {
	K_STR("prompts", prompts, 0, "datasets/sample/prompts.jsonl"),
	K_STR("prompt_field", prompt_field, KF_QUIET_DEFAULT, "prompt"),
	K_STR("prompt_format", prompt_format, KF_QUIET_DEFAULT, "auto"),
	K_STR("out", out, 0, "datasets/out"),
	K_ULL("seed", seed, 0, 1),
	K_LL("limit", limit, 0, 0, NO_MAX, 0),
	K_ENUM("mode", mode, 0, mode_names, MODE_PREFERENCES),
	K_INT("rounds", rounds, 0, 1, 64, 1),
	K_INT("stop_after_refusals", stop_after_refusals, 0, 1, 1000000,
	      GUARD_REFUSALS_DEFAULT),
	K_LIST("constitutions", constitutions, nconstitutions, 0,
	       "constitution/harmless.yaml"),
	K_SIZE("max_line_bytes", max_line_bytes, 0, 1024, 1073741824,
	       1048576),
	{ .name = "prices", .type = KT_PRICES, .off = OFF(prices),
	  .count_off = OFF(nprices) },
	K_INT("loops", loops, 0, 0, 16, 0),
	K_DBL("max_cost", max_cost, 0, 0, 1e12, 0),
	K_DBL("batch_poll", batch_poll, KF_MIN_OPEN, 0, 86400, 30),
	K_LL("batch_prompts", batch_prompts, 0, 1, 10000000, 10000),
	K_INT("responses", responses, 0, 2, RANK_MAX, 2),
	K_STR("pairs", pairs, 0, "all"),
	K_ENUM("binarize", binarize, 0, binarize_names, BIN_BEST_WORST),
	K_ENUM("panel", panel, 0, panel_names, PANEL_MEAN),
	K_SECT("policy", &policy_section),
	K_SECT("judge", &judge_section),
	/* run-time switches, set by flags only */
	K_INT("jobs", jobs, KF_FLAG_ONLY, 0, 100000, 0),
	K_BOOL("quiet", quiet, KF_FLAG_ONLY, false),
	K_INT("progress_interval", progress_interval, KF_FLAG_ONLY, 1, 86400,
	      5),
};

static const struct section top_section = {
	NULL, top_keys, ARRAY_SIZE(top_keys), false, 0
};

static void free_members(struct config *c);

/* A YAML file being loaded, for messages. */
struct loader {
	const char *path;
	yaml_document_t doc;
};

#define FIELD(c, k, t) ((t *)(void *)((char *)(c) + (k)->off))
#define CFIELD(c, k, t) \
	((const t *)(const void *)((const char *)(c) + (k)->off))

static struct endpoint *section_endpoint(struct config *c,
					 const struct section *sec)
{
	return (struct endpoint *)(void *)((char *)c + sec->ep_off);
}

/* Drop one trailing '/', but never the second slash of "http://" or of a
 * path ending in "//": that keeps it idempotent, so it may run at every
 * place a URL comes in. */
static void strip_slash(char *url)
{
	size_t n = url ? strlen(url) : 0;

	if (n >= 2 && url[n - 1] == '/' && url[n - 2] != '/')
		url[n - 1] = '\0';
}

/* Free a secret, overwriting it first so it does not linger in freed
 * memory (core dumps, later allocations). */
static void wipe_str(char **p)
{
	if (*p) {
		explicit_bzero(*p, strlen(*p));
		free(*p);
		*p = NULL;
	}
}

static void free_list(char ***list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((*list)[i]);
	free(*list);
	*list = NULL;
	*n = 0;
}

void config_set_str(char **field, const char *s)
{
	char *copy = s ? xstrdup(s) : NULL;	/* s may be *field itself */

	free(*field);
	*field = copy;
}

static void free_prices(struct config *c)
{
	for (size_t i = 0; i < c->nprices; i++)
		free(c->prices[i].model);
	free(c->prices);
	c->prices = NULL;
	c->nprices = 0;
}

bool config_rates(const struct config *c, const struct endpoint *ep,
		  double *in, double *out)
{
	const struct price *p = config_price(c, ep->model);
	bool batch = ep->executor == EXEC_BATCH;

	if (!p)
		return false;
	*in = (batch ? p->batch_input : p->input) / 1e6;
	*out = (batch ? p->batch_output : p->output) / 1e6;
	return true;
}

const struct price *config_price(const struct config *c, const char *model)
{
	for (size_t i = 0; model && i < c->nprices; i++)
		if (!strcmp(c->prices[i].model, model))
			return &c->prices[i];
	return NULL;
}

static void init_section(struct config *c, const struct section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct key *k = &sec->keys[i];

		switch (k->type) {
		case KT_STR:
			*FIELD(c, k, char *) = k->dstr ? xstrdup(k->dstr)
						       : NULL;
			break;
		case KT_STRLIST:	/* no default: an empty list */
			*FIELD(c, k, char **) = NULL;
			*(size_t *)(void *)((char *)c + k->count_off) = 0;
			if (!k->dstr)
				break;
			*FIELD(c, k, char **) = xmalloc(sizeof(char *));
			**FIELD(c, k, char **) = xstrdup(k->dstr);
			*(size_t *)(void *)((char *)c + k->count_off) = 1;
			break;
		case KT_INT:
		case KT_ENUM:
			*FIELD(c, k, int) = (int)k->dnum;
			break;
		case KT_LLONG:
			*FIELD(c, k, long long) = (long long)k->dnum;
			break;
		case KT_ULLONG:
			*FIELD(c, k, unsigned long long) =
				(unsigned long long)k->dnum;
			break;
		case KT_SIZE:
			*FIELD(c, k, size_t) = (size_t)k->dnum;
			break;
		case KT_DOUBLE:
			*FIELD(c, k, double) = k->dnum;
			break;
		case KT_BOOL:
			*FIELD(c, k, bool) = k->dnum != 0;
			break;
		case KT_SECTION:
			init_section(c, k->sub);
			break;
		case KT_PRICES:
			break;	/* empty table: config_init zeroed it */
		case KT_CLAMP:
			*FIELD(c, k, struct clamp) = (struct clamp){
				(int)k->dnum, 0.4, 0.6 };
			break;
		}
	}
	if (sec->endpoint) {
		struct endpoint *ep = section_endpoint(c, sec);

		ep->concurrency_auto = true;
		ep->concurrency_floor = CONCURRENCY_FLOOR;
		ep->concurrency_ceiling = CONCURRENCY_CEILING;
	}
}

int endpoint_max_concurrency(const struct endpoint *ep)
{
	if (!ep->concurrency_auto || ep->concurrency <= 0)
		return ep->concurrency;	/* 0: a stage that does not run */
	return ep->concurrency_ceiling > ep->concurrency ?
	       ep->concurrency_ceiling : ep->concurrency;
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	init_section(c, &top_section);
}

static void release_section(struct config *c, const struct section *sec)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct key *k = &sec->keys[i];

		if (k->type == KT_STR) {
			free(*FIELD(c, k, char *));
			*FIELD(c, k, char *) = NULL;
		} else if (k->type == KT_STRLIST) {
			free_list(FIELD(c, k, char **), (size_t *)(void *)
				  ((char *)c + k->count_off));
		} else if (k->type == KT_PRICES) {
			free_prices(c);
		} else if (k->type == KT_SECTION) {
			release_section(c, k->sub);
		}
	}
	if (sec->endpoint)
		wipe_str(&section_endpoint(c, sec)->api_key);
}

void config_release(struct config *c)
{
	if (c->calib) {
		calibration_release(c->calib);
		free(c->calib);
		c->calib = NULL;
	}
	free_members(c);
	release_section(c, &top_section);
	free(c->path);
	c->path = NULL;
}

/* ---- range checks, shared by the YAML loader and config_validate ---- */

static long long type_max(const struct key *k)
{
	if (k->type == KT_INT)
		return INT_MAX;
	if (k->type == KT_SIZE && (unsigned long long)SIZE_MAX < LLONG_MAX)
		return (long long)SIZE_MAX;
	return LLONG_MAX;
}

static bool int_in_range(const struct key *k, long long v)
{
	long long hi = k->imax < type_max(k) ? k->imax : type_max(k);

	return v >= k->imin && v <= hi;
}

static bool double_in_range(const struct key *k, double v)
{
	if (!isfinite(v) || v > k->dmax)
		return false;
	return (k->flags & KF_MIN_OPEN) ? v > k->dmin : v >= k->dmin;
}

/*
 * The allowed range in words: "between 1 and 4096", "at least 1",
 * "greater than 0 and at most 86400". `too_big` says which side the value
 * fell off, for keys whose only upper bound is their C type.
 */
static void range_text(const struct key *k, bool too_big, char *buf,
		       size_t n)
{
	if (k->type == KT_DOUBLE) {
		bool lo = k->dmin > -HUGE_VAL, hi = k->dmax < HUGE_VAL;
		const char *gt = (k->flags & KF_MIN_OPEN) ? "greater than"
							  : "at least";

		if (lo && hi && !(k->flags & KF_MIN_OPEN))
			snprintf(buf, n, "between %g and %g", k->dmin,
				 k->dmax);
		else if (lo && hi)
			snprintf(buf, n, "%s %g and at most %g", gt, k->dmin,
				 k->dmax);
		else if (lo)
			snprintf(buf, n, "%s %g", gt, k->dmin);
		else
			snprintf(buf, n, "at most %g", k->dmax);
		return;
	}
	if (k->imax != NO_MAX)
		snprintf(buf, n, "between %lld and %lld", k->imin, k->imax);
	else if (too_big)
		snprintf(buf, n, "at most %lld", type_max(k));
	else
		snprintf(buf, n, "at least %lld", k->imin);
}

static const char *enum_name(const struct key *k, int v)
{
	for (const struct key_name *e = k->names; e->name; e++)
		if (e->value == v)
			return e->name;
	return NULL;
}

/* "preferences, critiques or both" */
static void enum_text(const struct key *k, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (const struct key_name *e = k->names; e->name && len < n; e++) {
		const char *sep = e == k->names ? "" : e[1].name ? ", "
								 : " or ";

		len += (size_t)snprintf(buf + len, n - len, "%s%s", sep,
					e->name);
	}
}

/* ---- the YAML loader ---- */

/* Report at a position: "path:line:col: message". */
__attribute__((format(printf, 4, 5)))
static int at(const struct loader *ld, yaml_mark_t m, struct err *err,
	      const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(err, "%s:%zu:%zu: %s", ld->path, m.line + 1,
		       m.column + 1, msg);
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* The plain scalars YAML reads as null. */
static bool is_null_word(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

/* YAML's null: an empty plain scalar (`key:`), `~` or `null`. */
static bool is_null(const yaml_node_t *n)
{
	const char *s;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	s = scalar(n);
	return is_null_word(s);
}

/* What a node is, for "got ...": 'text' (cut short), a list, nothing. */
static const char *describe(const yaml_node_t *n, char *buf, size_t size)
{
	const char *s;
	size_t len;

	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	s = scalar(n);
	if (!*s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return "nothing";
	len = strlen(s);
	if (len <= SHOW_MAX) {
		snprintf(buf, size, "'%s'", s);
		return buf;
	}
	len = SHOW_MAX;
	while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
		len--;		/* do not cut a UTF-8 sequence */
	snprintf(buf, size, "'%.*s...'", (int)len, s);
	return buf;
}

/* Decimal integer, optional sign, nothing else. */
static bool parse_ll(const char *s, long long *out, bool *overflow)
{
	const char *p = s + (*s == '-' || *s == '+');
	char *end;

	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	if (*end)
		return false;
	*overflow = errno == ERANGE;
	return true;
}

static bool parse_ull(const char *s, unsigned long long *out)
{
	char *end;

	/* strtoull would take "-1" as 2^64-1 */
	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !*end && errno != ERANGE;
}

static bool parse_double(const char *s, double *out)
{
	char *end;

	/* strtod skips leading space; a quoted " 1" is not a number */
	if (!*s || *s == ' ' || *s == '\t')
		return false;
	*out = strtod(s, &end);
	return !*end && isfinite(*out);
}

static bool parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i]) || !strcasecmp(s, no[i])) {
			*out = !strcasecmp(s, yes[i]);
			return true;
		}
	}
	return false;
}

/* A string value: a scalar without NUL bytes. */
static int get_string(const struct loader *ld, const struct key *k,
		      const yaml_node_t *v, const char **out,
		      struct err *err)
{
	char buf[SHOW_MAX + 8];

	if (v->type != YAML_SCALAR_NODE || is_null(v))
		return at(ld, v->start_mark, err,
			  "'%s' must be a string, got %s", k->name,
			  describe(v, buf, sizeof(buf)));
	if (strlen(scalar(v)) != v->data.scalar.length)
		return at(ld, v->start_mark, err,
			  "'%s' must not contain a NUL byte", k->name);
	*out = scalar(v);
	return 0;
}

static int set_list(const struct loader *ld, struct config *c,
		    const struct key *k, const yaml_node_t *v,
		    struct err *err)
{
	char buf[SHOW_MAX + 8];
	size_t *count = (size_t *)(void *)((char *)c + k->count_off);
	char **list;
	size_t n;

	if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
		const char *s;

		if (get_string(ld, k, v, &s, err))
			return -1;
		list = xmalloc(sizeof(*list));
		list[0] = xstrdup(s);
		n = 1;
	} else if (v->type == YAML_SEQUENCE_NODE) {
		yaml_node_item_t *it = v->data.sequence.items.start;
		yaml_node_item_t *top = v->data.sequence.items.top;

		if (it == top && k->dstr)
			return at(ld, v->start_mark, err,
				  "'%s' must not be an empty list", k->name);
		/* a list without default may be empty (base_urls: []) */
		list = xcalloc((size_t)(top - it) + 1, sizeof(*list));
		for (n = 0; it < top; it++) {
			yaml_node_t *e = yaml_document_get_node(
				(yaml_document_t *)&ld->doc, *it);

			if (e->type != YAML_SCALAR_NODE || is_null(e) ||
			    strlen(scalar(e)) != e->data.scalar.length) {
				at(ld, e->start_mark, err,
				   "'%s' must be a string or a list of "
				   "strings, got %s", k->name,
				   describe(e, buf, sizeof(buf)));
				free_list(&list, &n);
				return -1;
			}
			list[n++] = xstrdup(scalar(e));
		}
	} else {
		return at(ld, v->start_mark, err,
			  "'%s' must be a string or a list of strings, got %s",
			  k->name, describe(v, buf, sizeof(buf)));
	}
	free_list(FIELD(c, k, char **), count);
	*FIELD(c, k, char **) = list;
	*count = n;
	return 0;
}

static int set_integer(const struct loader *ld, struct config *c,
		       const struct key *k, const yaml_node_t *v,
		       struct err *err);

/* An endpoint's concurrency: `auto`, `[floor, ceiling]` (auto between
 * them) or an integer (fixed). */
static int set_concurrency(const struct loader *ld, struct config *c,
			   const struct key *k, const yaml_node_t *v,
			   struct err *err)
{
	struct endpoint *ep = (struct endpoint *)(void *)
		((char *)FIELD(c, k, int) - offsetof(struct endpoint,
						     concurrency));
	const yaml_node_item_t *it;
	int saved = *FIELD(c, k, int), x[2];

	if (v->type == YAML_SCALAR_NODE && !strcmp(scalar(v), "auto")) {
		ep->concurrency_auto = true;
		return 0;
	}
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top - v->data.sequence.items.start != 2) {
		if (set_integer(ld, c, k, v, err))
			return -1;
		ep->concurrency_auto = false;
		return 0;
	}
	it = v->data.sequence.items.start;
	for (int i = 0; i < 2; i++) {
		const yaml_node_t *e = yaml_document_get_node(
			(yaml_document_t *)&ld->doc, it[i]);

		if (!e || set_integer(ld, c, k, e, err))
			return -1;
		x[i] = *FIELD(c, k, int);
	}
	*FIELD(c, k, int) = saved;
	if (x[0] > x[1])
		return at(ld, v->start_mark, err, "'%s' [floor, ceiling] "
			  "needs floor <= ceiling, got [%d, %d]", k->name,
			  x[0], x[1]);
	ep->concurrency_auto = true;
	ep->concurrency_floor = x[0];
	ep->concurrency_ceiling = x[1];
	return 0;
}

static int set_integer(const struct loader *ld, struct config *c,
		       const struct key *k, const yaml_node_t *v,
		       struct err *err)
{
	char buf[SHOW_MAX + 8], range[96];
	const char *s = v->type == YAML_SCALAR_NODE ? scalar(v) : "";
	bool overflow = false;
	long long x;

	if (v->type != YAML_SCALAR_NODE || !parse_ll(s, &x, &overflow))
		return at(ld, v->start_mark, err,
			  "'%s' must be an integer, got %s", k->name,
			  describe(v, buf, sizeof(buf)));
	if (overflow || !int_in_range(k, x)) {
		range_text(k, overflow ? *s != '-' : x >= k->imin, range,
			   sizeof(range));
		return at(ld, v->start_mark, err, "'%s' must be %s, got %s",
			  k->name, range, describe(v, buf, sizeof(buf)));
	}
	if (k->type == KT_INT)
		*FIELD(c, k, int) = (int)x;
	else if (k->type == KT_SIZE)
		*FIELD(c, k, size_t) = (size_t)x;
	else
		*FIELD(c, k, long long) = x;
	return 0;
}

static int load_mapping(const struct loader *ld, struct config *c,
			const yaml_node_t *map, const struct section *sec,
			struct err *err);

/* judge.clamp: `auto`, `off` (or false/null), or a list [lo, hi] with
 * 0 <= lo <= hi <= 1. */
static int set_clamp(const struct loader *ld, struct config *c,
		     const struct key *k, const yaml_node_t *v,
		     struct err *err)
{
	struct clamp *cl = FIELD(c, k, struct clamp);
	yaml_node_item_t *it;
	double x[2];
	char buf[SHOW_MAX + 8];
	bool b;

	if (v->type == YAML_SCALAR_NODE) {
		if (!strcmp(scalar(v), "auto")) {
			cl->mode = CLAMP_AUTO;
			return 0;
		}
		if (is_null(v) || !strcmp(scalar(v), "off") ||
		    (parse_bool(scalar(v), &b) && !b)) {
			cl->mode = CLAMP_OFF;
			return 0;
		}
	}
	if (v->type != YAML_SEQUENCE_NODE ||
	    v->data.sequence.items.top - v->data.sequence.items.start != 2)
		return at(ld, v->start_mark, err, "'%s' must be auto, off or "
			  "a list [low, high], got %s", k->name,
			  describe(v, buf, sizeof(buf)));
	it = v->data.sequence.items.start;
	for (int i = 0; i < 2; i++) {
		yaml_node_t *e = yaml_document_get_node(
			(yaml_document_t *)&ld->doc, it[i]);

		if (e->type != YAML_SCALAR_NODE ||
		    !parse_double(scalar(e), &x[i]) || x[i] < 0 || x[i] > 1)
			return at(ld, e->start_mark, err, "'%s' bounds must "
				  "be numbers between 0 and 1, got %s",
				  k->name, describe(e, buf, sizeof(buf)));
	}
	if (x[0] > x[1])
		return at(ld, v->start_mark, err, "'%s' low bound %g is above "
			  "the high bound %g", k->name, x[0], x[1]);
	*cl = (struct clamp){ CLAMP_ON, x[0], x[1] };
	return 0;
}

/* One price: {input: N, output: N} and optionally batch_input and
 * batch_output, numbers >= 0; the batch ones default to half. */
static int set_price(const struct loader *ld, struct price *p,
		     const yaml_node_t *v, struct err *err)
{
	static const char *const names[4] = { "input", "output",
					       "batch_input", "batch_output" };
	yaml_document_t *doc = (yaml_document_t *)&ld->doc;
	double *field[4] = { &p->input, &p->output, &p->batch_input,
			     &p->batch_output };
	bool have[4] = { false, false, false, false };
	char buf[SHOW_MAX + 8];

	if (v->type != YAML_MAPPING_NODE)
		return at(ld, v->start_mark, err, "the price of '%s' must be "
			  "a mapping {input: USD, output: USD} per million "
			  "tokens, got %s", p->model,
			  describe(v, buf, sizeof(buf)));
	for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
	     q < v->data.mapping.pairs.top; q++) {
		yaml_node_t *kn = yaml_document_get_node(doc, q->key);
		yaml_node_t *vn = yaml_document_get_node(doc, q->value);
		int i = -1;
		double x;

		for (int j = 0; j < 4 && kn->type == YAML_SCALAR_NODE; j++)
			if (!strcmp(scalar(kn), names[j]))
				i = j;
		if (i < 0)
			return at(ld, kn->start_mark, err, "unknown key %s in "
				  "the price of '%s' (valid keys: input, "
				  "output, batch_input, batch_output)",
				  describe(kn, buf, sizeof(buf)), p->model);
		if (have[i])
			return at(ld, kn->start_mark, err, "duplicate key "
				  "'%s' in the price of '%s'", scalar(kn),
				  p->model);
		if (vn->type != YAML_SCALAR_NODE ||
		    !parse_double(scalar(vn), &x) || !(x >= 0) || isinf(x))
			return at(ld, vn->start_mark, err, "'%s' of '%s' must "
				  "be a number of USD per million tokens, 0 or "
				  "more, got %s", scalar(kn), p->model,
				  describe(vn, buf, sizeof(buf)));
		*field[i] = x;
		have[i] = true;
	}
	if (!have[0] || !have[1])
		return at(ld, v->start_mark, err, "the price of '%s' needs "
			  "both 'input' and 'output'", p->model);
	if (!have[2])
		p->batch_input = p->input / 2;
	if (!have[3])
		p->batch_output = p->output / 2;
	return 0;
}

/* prices: a mapping MODEL: {input, output}; replaces the whole table. */
static int set_prices(const struct loader *ld, struct config *c,
		      const yaml_node_t *v, struct err *err)
{
	yaml_document_t *doc = (yaml_document_t *)&ld->doc;
	char buf[SHOW_MAX + 8];

	free_prices(c);
	if (is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return at(ld, v->start_mark, err, "'prices' must be a mapping "
			  "MODEL: {input: USD, output: USD} (per million "
			  "tokens), got %s", describe(v, buf, sizeof(buf)));
	for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
	     q < v->data.mapping.pairs.top; q++) {
		yaml_node_t *kn = yaml_document_get_node(doc, q->key);
		struct price *p;

		if (kn->type != YAML_SCALAR_NODE || !*scalar(kn))
			return at(ld, kn->start_mark, err, "a model name in "
				  "'prices' must be a non-empty string, got "
				  "%s", describe(kn, buf, sizeof(buf)));
		if (config_price(c, scalar(kn)))
			return at(ld, kn->start_mark, err, "model '%s' is "
				  "priced twice in 'prices'", scalar(kn));
		c->prices = xrealloc(c->prices, (c->nprices + 1) *
				     sizeof(*c->prices));
		p = &c->prices[c->nprices++];
		*p = (struct price){ xstrdup(scalar(kn)), 0, 0, 0, 0 };
		if (set_price(ld, p, yaml_document_get_node(doc, q->value),
			      err))
			return -1;
	}
	return 0;
}

static void free_members(struct config *c)
{
	for (size_t i = 0; i < c->nmembers; i++)
		config_release(&c->members[i]);
	free(c->members);
	c->members = NULL;
	for (size_t i = 0; c->member_views && i < c->nmembers; i++)
		free(c->member_views[i]);
	free(c->member_views);
	c->member_views = NULL;
	c->nmembers = 0;
}

/*
 * judge as a list: a panel (rank.h). The first mapping is `judge` as
 * usual; each further one is loaded into a config of its own from the
 * built-in defaults, so a member inherits nothing from the first.
 */
static int set_panel(const struct loader *ld, struct config *c,
		     const yaml_node_t *v, struct err *err)
{
	yaml_document_t *doc = (yaml_document_t *)&ld->doc;
	yaml_node_item_t *it = v->data.sequence.items.start;
	yaml_node_item_t *top = v->data.sequence.items.top;
	char buf[SHOW_MAX + 8];
	size_t n = (size_t)(top - it);

	free_members(c);
	if (n < 1 || n > CONFIG_PANEL_MAX)
		return at(ld, v->start_mark, err, "'judge' as a list (a panel) "
			  "must name 1 to %d judges, got %zu",
			  CONFIG_PANEL_MAX, n);
	c->members = xcalloc(n - 1 ? n - 1 : 1, sizeof(*c->members));
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *e = yaml_document_get_node(doc, it[i]);
		struct config *dst = i ? &c->members[i - 1] : c;

		if (e->type != YAML_MAPPING_NODE)
			return at(ld, e->start_mark, err, "each judge of a "
				  "panel must be a mapping of judge keys, got "
				  "%s", describe(e, buf, sizeof(buf)));
		if (i) {
			config_init(dst);
			c->nmembers = i;
		}
		if (load_mapping(ld, dst, e, &judge_section, err))
			return -1;
	}
	return 0;
}

/* An endpoint's ca_file: a readable PEM file, so that a wrong path is
 * said here, with its line, not as a TLS failure of every request. */
static int check_ca_file(const struct loader *ld, const yaml_node_t *v,
			 const char *path, struct err *err)
{
	char line[256];
	bool pem = false;
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "r");
	if (!f)
		return at(ld, v->start_mark, err, "cannot read ca_file '%s': "
			  "%s", path, strerror(errno));
	while (!pem && fgets(line, sizeof(line), f))
		pem = !strncmp(line, "-----BEGIN CERTIFICATE-----", 27);
	fclose(f);
	if (!pem)
		return at(ld, v->start_mark, err, "ca_file '%s' holds no "
			  "certificate (a PEM file with '-----BEGIN "
			  "CERTIFICATE-----' lines)", path);
	return 0;
}

/* Store one value; v is the value node of key k. */
static int set_value(const struct loader *ld, struct config *c,
		     const struct key *k, const yaml_node_t *v,
		     struct err *err)
{
	char buf[SHOW_MAX + 8], words[256];
	const char *s = v->type == YAML_SCALAR_NODE ? scalar(v) : NULL;
	unsigned long long u;
	double d;
	bool b;

	switch (k->type) {
	case KT_STR:
		if ((k->flags & KF_NULLABLE) && is_null(v)) {
			config_set_str(FIELD(c, k, char *), NULL);
			return 0;
		}
		if (get_string(ld, k, v, &s, err))
			return -1;
		config_set_str(FIELD(c, k, char *), s);
		if (k->flags & KF_URL)
			strip_slash(*FIELD(c, k, char *));
		if (!strcmp(k->name, "ca_file"))
			return check_ca_file(ld, v, *FIELD(c, k, char *),
					     err);
		return 0;
	case KT_STRLIST:
		return set_list(ld, c, k, v, err);
	case KT_INT:
	case KT_LLONG:
	case KT_SIZE:
		if (!strcmp(k->name, "concurrency"))
			return set_concurrency(ld, c, k, v, err);
		return set_integer(ld, c, k, v, err);
	case KT_ULLONG:
		if (!s || !parse_ull(s, &u))
			return at(ld, v->start_mark, err,
				  "'%s' must be an unsigned 64-bit integer, "
				  "got %s", k->name,
				  describe(v, buf, sizeof(buf)));
		*FIELD(c, k, unsigned long long) = u;
		return 0;
	case KT_DOUBLE:
		if (!s || !parse_double(s, &d))
			return at(ld, v->start_mark, err,
				  "'%s' must be a number, got %s", k->name,
				  describe(v, buf, sizeof(buf)));
		if (!double_in_range(k, d)) {
			range_text(k, d > k->dmax, words, sizeof(words));
			return at(ld, v->start_mark, err,
				  "'%s' must be %s, got %s", k->name, words,
				  describe(v, buf, sizeof(buf)));
		}
		*FIELD(c, k, double) = d;
		return 0;
	case KT_BOOL:
		if (!s || !parse_bool(s, &b))
			return at(ld, v->start_mark, err,
				  "'%s' must be true or false, got %s",
				  k->name, describe(v, buf, sizeof(buf)));
		*FIELD(c, k, bool) = b;
		return 0;
	case KT_ENUM:
		for (const struct key_name *e = k->names; s && e->name; e++) {
			if (!strcmp(s, e->name)) {
				*FIELD(c, k, int) = e->value;
				return 0;
			}
		}
		enum_text(k, words, sizeof(words));
		return at(ld, v->start_mark, err, "'%s' must be %s, got %s",
			  k->name, words, describe(v, buf, sizeof(buf)));
	case KT_SECTION:
		/* `policy:` with every key commented out is no error */
		if (is_null(v))
			return 0;
		if (v->type == YAML_SEQUENCE_NODE && k->sub == &judge_section)
			return set_panel(ld, c, v, err);
		if (v->type != YAML_MAPPING_NODE)
			return at(ld, v->start_mark, err,
				  "'%s' must be a mapping, got %s", k->name,
				  describe(v, buf, sizeof(buf)));
		return load_mapping(ld, c, v, k->sub, err);
	case KT_CLAMP:
		return set_clamp(ld, c, k, v, err);
	case KT_PRICES:
		return set_prices(ld, c, v, err);
	}
	return 0;
}

static const struct key *find_key(const struct section *sec,
				  const char *name)
{
	for (size_t i = 0; i < sec->nkeys; i++)
		if (!strcmp(sec->keys[i].name, name))
			return &sec->keys[i];
	return NULL;
}

/* Is a candidate close enough to suggest? At most 3 edits, and at most
 * half of it changed, so that 'foo' does not suggest 'mode'. */
static bool near(const char *typo, const char *cand, size_t *dist)
{
	*dist = edit_distance(typo, cand);
	return *dist <= 3 && 2 * *dist <= strlen(cand);
}

/*
 * The hint after "unknown key 'x'": where the key really goes if another
 * section has it, else the nearest key of this section, else the list of
 * this section's keys.
 */
static void unknown_hint(const char *name, const struct section *sec,
			 char *buf, size_t n)
{
	const struct key *best = NULL;
	size_t len = 0, bestd = SIZE_MAX, d;

	if (sec != &top_section && find_key(&top_section, name) &&
	    !(find_key(&top_section, name)->flags & KF_FLAG_ONLY)) {
		snprintf(buf, n, "(it goes at the top level)");
		return;
	}
	for (size_t i = 0; i < top_section.nkeys; i++) {
		const struct section *o = top_keys[i].sub;

		if (top_keys[i].type != KT_SECTION || o == sec ||
		    !find_key(o, name))
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s'%s'",
					len ? " or " : "(it goes in ", o->name);
		if (len >= n)
			return;
	}
	if (len) {
		snprintf(buf + len, n - len, ")");
		return;
	}
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct key *k = &sec->keys[i];

		if (!(k->flags & KF_FLAG_ONLY) && near(name, k->name, &d) &&
		    d < bestd) {
			best = k;
			bestd = d;
		}
	}
	if (best) {
		snprintf(buf, n, "(did you mean '%s'?)", best->name);
		return;
	}
	len = (size_t)snprintf(buf, n, "(valid keys:");
	for (size_t i = 0, j = 0; i < sec->nkeys && len < n; i++) {
		if (sec->keys[i].flags & KF_FLAG_ONLY)
			continue;
		len += (size_t)snprintf(buf + len, n - len, "%s %s",
					j++ ? "," : "", sec->keys[i].name);
	}
	if (len < n)
		snprintf(buf + len, n - len, ")");
}

static int unknown_key(const struct loader *ld, const yaml_node_t *kn,
		       const struct section *sec, struct err *err)
{
	char hint[768], where[64] = "";
	const char *name = scalar(kn);

	if (sec->name)
		snprintf(where, sizeof(where), " in '%s'", sec->name);
	if (!strcmp(name, "api_key")) {
		/* a key written into a run config ends up committed */
		return at(ld, kn->start_mark, err,
			  "unknown key 'api_key'%s (keys stay out of the "
			  "file: name a variable with 'api_key_env' or a "
			  "file with 'api_key_file')", where);
	}
	unknown_hint(name, sec, hint, sizeof(hint));
	return at(ld, kn->start_mark, err, "unknown key '%s'%s %s", name,
		  where, hint);
}

static int load_mapping(const struct loader *ld, struct config *c,
			const yaml_node_t *map, const struct section *sec,
			struct err *err)
{
	yaml_document_t *doc = (yaml_document_t *)&ld->doc;
	yaml_node_pair_t *first = map->data.mapping.pairs.start;
	yaml_node_pair_t *top = map->data.mapping.pairs.top;
	char buf[SHOW_MAX + 8];

	for (yaml_node_pair_t *p = first; p < top; p++) {
		yaml_node_t *kn = yaml_document_get_node(doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(doc, p->value);
		const struct key *k;

		if (kn->type != YAML_SCALAR_NODE)
			return at(ld, kn->start_mark, err,
				  "a key must be a string, got %s",
				  describe(kn, buf, sizeof(buf)));
		/* earlier pairs are all scalar keys: checked above */
		for (yaml_node_pair_t *q = first; q < p; q++) {
			yaml_node_t *prev = yaml_document_get_node(doc,
								   q->key);

			if (!strcmp(scalar(prev), scalar(kn)))
				return at(ld, kn->start_mark, err,
					  "duplicate key '%s' (first at "
					  "%s:%zu:%zu)", scalar(kn), ld->path,
					  prev->start_mark.line + 1,
					  prev->start_mark.column + 1);
		}
		k = find_key(sec, scalar(kn));
		if (!k)
			return unknown_key(ld, kn, sec, err);
		if (k->flags & KF_FLAG_ONLY)
			return at(ld, kn->start_mark, err,
				  "'%s' can only be set on the command line",
				  k->name);
		if (set_value(ld, c, k, vn, err))
			return -1;
	}
	return 0;
}

/* libyaml's own description of a syntax error, with its position. */
static int yaml_error(const char *path, const yaml_parser_t *p,
		      struct err *err)
{
	const char *problem = p->problem ? p->problem : "invalid YAML";
	yaml_mark_t pm = p->problem_mark, cm = p->context_mark;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return err_set(err, "%s: out of memory while parsing", path);
	case YAML_READER_ERROR:
		/* the reader knows only a byte offset */
		return err_set(err, "%s: %s at byte %zu", path, problem,
			       p->problem_offset);
	default:
		if (p->context)
			return err_set(err, "%s:%zu:%zu: %s (%s at %zu:%zu)",
				       path, pm.line + 1, pm.column + 1,
				       problem, p->context, cm.line + 1,
				       cm.column + 1);
		return err_set(err, "%s:%zu:%zu: %s", path, pm.line + 1,
			       pm.column + 1, problem);
	}
}

/*
 * On error c may hold some of the file's values: callers report and
 * release, they do not run on.
 */
int config_load_yaml(struct config *c, const char *path, struct err *err)
{
	struct loader ld = { .path = path };
	yaml_parser_t parser;
	yaml_document_t extra;
	yaml_node_t *root, *more;
	struct stat st;
	char buf[SHOW_MAX + 8];
	FILE *f;
	int rc = -1;

	f = fopen(path, "rb");
	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, "cannot read '%s': %s", path, strerror(EISDIR));
		goto out_close;
	}
	if (!yaml_parser_initialize(&parser)) {
		err_set(err, "%s: out of memory while parsing", path);
		goto out_close;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &ld.doc)) {
		yaml_error(path, &parser, err);
		goto out_parser;
	}
	config_set_str(&c->path, path);
	root = yaml_document_get_root_node(&ld.doc);
	if (!root || is_null(root)) {
		rc = 0;		/* an empty file changes nothing */
		goto out_doc;
	}
	/* a second document would otherwise be ignored without a word */
	if (!yaml_parser_load(&parser, &extra)) {
		yaml_error(path, &parser, err);
		goto out_doc;
	}
	more = yaml_document_get_root_node(&extra);
	if (more)
		at(&ld, more->start_mark, err,
		   "more than one YAML document (a run config is one "
		   "mapping)");
	yaml_document_delete(&extra);
	if (more)
		goto out_doc;
	if (root->type != YAML_MAPPING_NODE) {
		at(&ld, root->start_mark, err,
		   "the top level must be a mapping of settings, got %s",
		   describe(root, buf, sizeof(buf)));
		goto out_doc;
	}
	rc = load_mapping(&ld, c, root, &top_section, err);
out_doc:
	yaml_document_delete(&ld.doc);
out_parser:
	yaml_parser_delete(&parser);
out_close:
	fclose(f);
	return rc;
}

/* ---- environment and keys ---- */

/* Trailing white space is dropped (files end in a newline); anything
 * else below ' ' would let a key split the Authorization header. */
static bool clean_key(char *key)
{
	size_t n = strlen(key);

	while (n > 0 && (key[n - 1] == ' ' || key[n - 1] == '\t' ||
			 key[n - 1] == '\r' || key[n - 1] == '\n'))
		key[--n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)key[i] < 0x20 || key[i] == 0x7f)
			return false;
	return true;
}

/* Letters, digits and '_', not starting with a digit. A key pasted into
 * api_key_env fails this (keys hold '-'), so it is not echoed back in
 * "variable 'sk-...' is not set". */
static bool env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= '0' && *s <= '9') ||
		      (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

static int read_key_file(const char *path, char **out, struct err *err)
{
	char *key = xmalloc(KEY_FILE_MAX + 1);
	struct stat st;
	size_t n = 0;
	int rc = -1;
	FILE *f;

	f = fopen(path, "rb");
	if (!f) {
		err_set(err, "cannot read key file '%s': %s", path,
			strerror(errno));
		goto out;
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		err_set(err, "cannot read key file '%s': not a regular file",
			path);
		goto out_close;
	}
	n = fread(key, 1, KEY_FILE_MAX + 1, f);
	if (ferror(f)) {
		err_set(err, "cannot read key file '%s': %s", path,
			strerror(errno));
		goto out_close;
	}
	if (n > KEY_FILE_MAX) {
		err_set(err, "key file '%s' is larger than %d bytes", path,
			KEY_FILE_MAX);
		goto out_close;
	}
	key[n] = '\0';
	if (strlen(key) != n || !clean_key(key)) {
		err_set(err, "key file '%s' holds more than one line or "
			"control characters", path);
		goto out_close;
	}
	if (!*key) {
		err_set(err, "key file '%s' is empty", path);
		goto out_close;
	}
	*out = xstrdup(key);
	rc = 0;
out_close:
	fclose(f);
out:
	explicit_bzero(key, KEY_FILE_MAX + 1);
	free(key);
	return rc;
}

/* Fetch one endpoint's key: the file if named, else the variable. */
static int resolve_key(struct endpoint *ep, const char *name, bool need,
		       struct err *err)
{
	const char *v;
	char *key;

	wipe_str(&ep->api_key);
	if (ep->api_key_file && *ep->api_key_file)
		return read_key_file(ep->api_key_file, &ep->api_key, err);
	if (!ep->api_key_env || !*ep->api_key_env) {
		if (need)
			return err_set(err, "no api key for '%s': set "
				       "%s.api_key_env or %s.api_key_file",
				       name, name, name);
		return 0;
	}
	if (!env_name_ok(ep->api_key_env))
		return err_set(err, "%s.api_key_env must be the name of an "
			       "environment variable (letters, digits, '_'), "
			       "not the key itself", name);
	v = getenv(ep->api_key_env);
	if (!v || !*v) {
		if (need)
			return err_set(err, "environment variable '%s' is not "
				       "set (%s.api_key_env names it)",
				       ep->api_key_env, name);
		return 0;
	}
	key = xstrdup(v);
	if (!clean_key(key) || !*key) {
		wipe_str(&key);
		return err_set(err, "environment variable '%s' holds control "
			       "characters or only white space "
			       "(%s.api_key_env names it)", ep->api_key_env,
			       name);
	}
	ep->api_key = key;
	return 0;
}

/* An anthropic endpoint left at the OpenAI defaults gets Anthropic's. */
static void anthropic_defaults(struct endpoint *ep)
{
	if (ep->api != API_ANTHROPIC)
		return;
	if (ep->base_url && !strcmp(ep->base_url, DEFAULT_BASE_URL))
		config_set_str(&ep->base_url, "https://api.anthropic.com/v1");
	if (ep->api_key_env && !strcmp(ep->api_key_env, "OPENAI_API_KEY"))
		config_set_str(&ep->api_key_env, "ANTHROPIC_API_KEY");
}

int config_apply_env(struct config *c, bool need_keys, struct err *err)
{
	const char *url = getenv("OPENAI_BASE_URL");

	for (size_t i = 0; i < top_section.nkeys; i++) {
		const struct section *sec = top_keys[i].sub;
		struct endpoint *ep;

		if (top_keys[i].type != KT_SECTION || !sec->endpoint)
			continue;
		ep = section_endpoint(c, sec);
		anthropic_defaults(ep);
		if (url && *url && ep->api != API_ANTHROPIC) {
			config_set_str(&ep->base_url, url);
			strip_slash(ep->base_url);
		}
		if (resolve_key(ep, sec->name, need_keys, err))
			return -1;
	}
	for (size_t i = 0; i < c->nmembers; i++) {	/* a panel */
		struct endpoint *ep = &c->members[i].judge;
		char name[32];

		anthropic_defaults(ep);
		if (url && *url && ep->api != API_ANTHROPIC) {
			config_set_str(&ep->base_url, url);
			strip_slash(ep->base_url);
		}
		snprintf(name, sizeof(name), "judge[%zu]", i + 1);
		if (resolve_key(ep, name, need_keys, err))
			return -1;
	}
	return 0;
}

/* ---- validation ---- */

static int validate_section(struct config *c, const struct section *sec,
			    struct err *err)
{
	const char *pre = sec->name ? sec->name : "", *dot = *pre ? "." : "";
	char range[96];

	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct key *k = &sec->keys[i];
		long long x;
		double d;
		char **list;
		size_t n;

		switch (k->type) {
		case KT_STR:
			if (k->flags & KF_URL)
				strip_slash(*FIELD(c, k, char *));
			if (!(k->flags & KF_NULLABLE) &&
			    (!*FIELD(c, k, char *) || !**FIELD(c, k, char *)))
				return err_set(err, "%s%s%s must not be empty",
					       pre, dot, k->name);
			break;
		case KT_STRLIST:
			list = *FIELD(c, k, char **);
			n = *(size_t *)(void *)((char *)c + k->count_off);
			if (!n && k->dstr)	/* a list without default may
						 * be empty */
				return err_set(err, "%s%s%s must name at "
					       "least one file", pre, dot,
					       k->name);
			for (size_t j = 0; j < n; j++)
				if (!list[j] || !*list[j])
					return err_set(err, "%s%s%s must not "
						       "hold an empty name",
						       pre, dot, k->name);
			break;
		case KT_INT:
		case KT_LLONG:
		case KT_SIZE:
			if (k->type == KT_INT)
				x = *FIELD(c, k, int);
			else if (k->type == KT_LLONG)
				x = *FIELD(c, k, long long);
			else if (*FIELD(c, k, size_t) > (size_t)LLONG_MAX)
				x = LLONG_MAX;
			else
				x = (long long)*FIELD(c, k, size_t);
			if (int_in_range(k, x))
				break;
			range_text(k, x > k->imin, range, sizeof(range));
			return err_set(err, "%s%s%s must be %s, got '%lld'",
				       pre, dot, k->name, range, x);
		case KT_DOUBLE:
			d = *FIELD(c, k, double);
			if (double_in_range(k, d))
				break;
			range_text(k, d > k->dmax, range, sizeof(range));
			return err_set(err, "%s%s%s must be %s, got '%g'", pre,
				       dot, k->name, range, d);
		case KT_ENUM:
			if (!enum_name(k, *FIELD(c, k, int)))
				return err_set(err, "%s%s%s has no valid value",
					       pre, dot, k->name);
			break;
		case KT_SECTION:
			if (validate_section(c, k->sub, err))
				return -1;
			break;
		case KT_CLAMP: {
			const struct clamp *cl = CFIELD(c, k, struct clamp);

			if (cl->mode == CLAMP_ON &&
			    !(cl->lo >= 0 && cl->lo <= cl->hi && cl->hi <= 1))
				return err_set(err, "%s%s%s must satisfy 0 <= "
					       "low <= high <= 1", pre, dot,
					       k->name);
			break;
		}
		case KT_ULLONG:
		case KT_BOOL:
		case KT_PRICES:
			break;
		}
	}
	return 0;
}

static int validate_endpoint(const struct endpoint *ep, const char *name,
			     bool used, struct err *err)
{
	if (strncasecmp(ep->base_url, "http://", 7) &&
	    strncasecmp(ep->base_url, "https://", 8))
		return err_set(err, "%s.base_url must start with http:// or "
			       "https://, got '%s'", name, ep->base_url);
	if (ep->nbase_urls > ENDPOINT_MAX)
		return err_set(err, "%s.base_urls may list at most %d servers, "
			       "got %zu", name, ENDPOINT_MAX, ep->nbase_urls);
	for (size_t i = 0; i < ep->nbase_urls; i++)
		if (strncasecmp(ep->base_urls[i], "http://", 7) &&
		    strncasecmp(ep->base_urls[i], "https://", 8))
			return err_set(err, "%s.base_urls[%zu] must start with "
				       "http:// or https://, got '%s'", name,
				       i, ep->base_urls[i]);
	if (ep->api_key_env && *ep->api_key_env &&
	    !env_name_ok(ep->api_key_env))
		return err_set(err, "%s.api_key_env must be the name of an "
			       "environment variable (letters, digits, '_'), "
			       "not the key itself", name);
	/* an endpoint the mode never calls (judge in mode critiques) may
	 * keep settings it could not use (runrules.h) */
	if (used && ep->executor == EXEC_BATCH && ep->api == API_COMPLETIONS)
		return err_set(err, "%s.executor: batch needs api: chat "
			       "(OpenAI Batch) or api: anthropic (Message "
			       "Batches); completions have no batch API", name);
	if (ep->executor == EXEC_BATCH && ep->nbase_urls > 1)
		return err_set(err, "%s.executor: batch sends to one server: "
			       "give base_url, not base_urls", name);
	if (used && ep->http == HTTP_2) {
		const char *plain = NULL;
		char why[160];

		if (ep->nbase_urls == 0 && !strncasecmp(ep->base_url, "http://",
							  7))
			plain = ep->base_url;
		for (size_t i = 0; i < ep->nbase_urls && !plain; i++)
			if (!strncasecmp(ep->base_urls[i], "http://", 7))
				plain = ep->base_urls[i];
		if (plain && !http_h2c_usable(why, sizeof(why)))
			return err_set(err, "%s.http: 2 on an http:// URL is "
				       "HTTP/2 without TLS (h2c), and %s: use "
				       "an https:// URL, or http: auto",
				       name, why);
	}
	return 0;
}

/*
 * The panel's members: their judge keys checked like judge's, then one
 * view each: the run's settings with the member's judge keys (borrowed
 * from the member, which owns them).
 */
static int validate_panel(struct config *c, struct err *err)
{
	for (size_t i = 0; c->member_views && i < c->nmembers; i++)
		free(c->member_views[i]);
	free(c->member_views);
	c->member_views = NULL;
	if (!c->nmembers)
		return 0;
	if (c->mode == MODE_CRITIQUES)
		return err_set(err, "a judge panel needs mode preferences or "
			       "both (mode critiques judges nothing)");
	c->member_views = xcalloc(c->nmembers, sizeof(*c->member_views));
	for (size_t i = 0; i < c->nmembers; i++) {
		struct config *m = &c->members[i], *v;
		char name[32];

		snprintf(name, sizeof(name), "judge[%zu]", i + 1);
		if (validate_section(m, &judge_section, err))
			return -1;
		anthropic_defaults(&m->judge);
		if (validate_endpoint(&m->judge, name, true, err))
			return -1;
		if (c->jobs > 0) {
			m->judge.concurrency = c->jobs;
			m->judge.concurrency_auto = false;
		}
		v = c->member_views[i] = xmalloc(sizeof(*v));
		*v = *c;
		v->members = NULL;
		v->member_views = NULL;
		v->nmembers = 0;
		v->judge = m->judge;
		v->both_orders = m->both_orders;
		v->top_logprobs = m->top_logprobs;
		v->scan_positions = m->scan_positions;
		v->cot = m->cot;
		v->cot_max_tokens = m->cot_max_tokens;
		v->clamp = m->clamp;
		v->votes = m->votes;
		v->min_letter_mass = m->min_letter_mass;
	}
	return 0;
}

/* pairs: all, adjacent or random:m with m >= 1. */
static int parse_pairs(struct config *c, struct err *err)
{
	const char *s = c->pairs ? c->pairs : "all";
	char *end;
	long m;

	c->pairs_m = 0;
	if (!strcmp(s, "all")) {
		c->pairs_mode = PAIRS_ALL;
		return 0;
	}
	if (!strcmp(s, "adjacent")) {
		c->pairs_mode = PAIRS_ADJACENT;
		return 0;
	}
	if (!strncmp(s, "random:", 7) && s[7] >= '0' && s[7] <= '9') {
		errno = 0;
		m = strtol(s + 7, &end, 10);
		if (!*end && !errno && m >= 1 && m <= RANK_MAX_PAIRS) {
			c->pairs_mode = PAIRS_RANDOM;
			c->pairs_m = (int)m;
			return 0;
		}
	}
	return err_set(err, "pairs must be all, adjacent or random:m with m "
		       "between 1 and %d, got '%.60s'", RANK_MAX_PAIRS, s);
}

/* judge.calibration: load the file, refuse one of another judge */
static int validate_calibration(struct config *c, struct err *err)
{
	struct calibration *cal;

	if (!c->calibration || c->calib)
		return 0;
	if (c->responses > 2 || c->nmembers)
		return err_set(err, "judge.calibration applies to runs of two "
			       "answers and one judge (not responses: %d, "
			       "nor a judge panel)", c->responses);
	cal = xcalloc(1, sizeof(*cal));
	if (calibration_load(cal, c->calibration, err) < 0 ||
	    calibration_check(cal, c->calibration, c->judge.model, c->cot,
			      err) < 0) {
		calibration_release(cal);
		free(cal);
		return -1;
	}
	c->calib = cal;
	return 0;
}

int config_validate(struct config *c, struct err *err)
{
	if (validate_section(c, &top_section, err))
		return -1;
	if (parse_pairs(c, err))
		return -1;
	if (strcmp(c->prompt_format, "auto") &&
	    strcmp(c->prompt_format, "standard") &&
	    strcmp(c->prompt_format, "conversational"))
		return err_set(err, "prompt_format must be auto, standard or "
			       "conversational, got '%s'", c->prompt_format);
	if (c->responses > 2 && c->mode != MODE_PREFERENCES)
		return err_set(err, "responses above 2 needs mode preferences "
			       "(critiques and both make one answer and its "
			       "revision)");
	for (size_t i = 0; i < top_section.nkeys; i++) {
		const struct section *sec = top_keys[i].sub;

		if (top_keys[i].type != KT_SECTION || !sec->endpoint)
			continue;
		anthropic_defaults(section_endpoint(c, sec));
		if (validate_endpoint(section_endpoint(c, sec), sec->name,
				      section_endpoint(c, sec) != &c->judge ||
				      c->mode != MODE_CRITIQUES, err))
			return -1;
	}
	if (c->jobs > 0) {
		c->policy.concurrency = c->jobs;
		c->judge.concurrency = c->jobs;
		c->policy.concurrency_auto = false;
		c->judge.concurrency_auto = false;
	}
	if (validate_calibration(c, err))
		return -1;
	return validate_panel(c, err);
}

int config_check_file(const char *path, struct err *err)
{
	struct config c;
	int rc;

	config_init(&c);
	rc = config_load_yaml(&c, path, err);
	if (!rc && (config_validate(&c, err) ||
		    runrules_check(&c, false, false, err))) {
		/* validation knows no line; name the file at least */
		if (err) {
			char msg[sizeof(err->msg)];

			memcpy(msg, err->msg, sizeof(msg));
			err_set(err, "%s: %s", path, msg);
		}
		rc = -1;
	}
	config_release(&c);
	return rc;
}

/* ---- JSON for the manifest ---- */

/* New ref. Paths from flags need not be UTF-8; JSON must be. */
static json_t *json_str(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

static void section_json(const struct config *c, const struct section *sec,
			 json_t *o)
{
	for (size_t i = 0; i < sec->nkeys; i++) {
		const struct key *k = &sec->keys[i];
		unsigned long long u;
		json_t *v = NULL, *a;

		switch (k->type) {
		case KT_STR:
			if ((k->flags & KF_QUIET_DEFAULT) && k->dstr &&
			    *CFIELD(c, k, char *) &&
			    !strcmp(*CFIELD(c, k, char *), k->dstr))
				continue;
			v = json_str(*CFIELD(c, k, char *));
			break;
		case KT_STRLIST:
			a = json_array();
			for (size_t j = 0; j < *(const size_t *)(const void *)
			     ((const char *)c + k->count_off); j++)
				json_array_append_new(a, /* steals */
					json_str((*CFIELD(c, k, char **))[j]));
			v = a;
			break;
		case KT_INT:
			v = json_integer(*CFIELD(c, k, int));
			break;
		case KT_LLONG:
			v = json_integer(*CFIELD(c, k, long long));
			break;
		case KT_SIZE:
			v = json_integer((json_int_t)*CFIELD(c, k, size_t));
			break;
		case KT_ULLONG:
			/* jansson integers are signed 64-bit: a larger seed
			 * goes out as a decimal string */
			u = *CFIELD(c, k, unsigned long long);
			v = config_ull_json(u);
			break;
		case KT_DOUBLE:
			v = json_real(*CFIELD(c, k, double));
			break;
		case KT_BOOL:
			v = json_boolean(*CFIELD(c, k, bool));
			break;
		case KT_ENUM:
			v = json_str(enum_name(k, *CFIELD(c, k, int)));
			break;
		case KT_SECTION:
			v = json_object();
			section_json(c, k->sub, v);
			break;
		case KT_CLAMP: {
			const struct clamp *cl = CFIELD(c, k, struct clamp);

			v = cl->mode == CLAMP_AUTO ? json_string("auto") :
			    cl->mode == CLAMP_OFF ? json_false() :
			    json_pack("[ff]", cl->lo, cl->hi);
			break;
		}
		case KT_PRICES:
			v = json_object();
			for (size_t j = 0; j < c->nprices; j++) {
				const struct price *pr = &c->prices[j];
				json_t *row = json_pack("{s:f,s:f}", "input",
							pr->input, "output",
							pr->output);

				/* batch prices only when not the half */
				if (pr->batch_input != pr->input / 2 ||
				    pr->batch_output != pr->output / 2) {
					json_object_set_new(row, "batch_input",
						json_real(pr->batch_input));
					json_object_set_new(row,
						"batch_output",
						json_real(pr->batch_output));
				}
				json_object_set_new(v, pr->model, row);
			}
			break;
		}
		json_object_set_new(o, k->name, v);	/* steals */
	}
	if (sec->endpoint) {
		const struct endpoint *ep = (const struct endpoint *)
			(const void *)((const char *)c + sec->ep_off);

		json_object_set_new(o, "api_key_set",
				    json_boolean(ep->api_key != NULL));
	}
}

json_t *config_ull_json(unsigned long long u)
{
	char num[24];

	/* jansson integers are signed 64-bit: a larger value goes out as a
	 * decimal string */
	if (u <= (unsigned long long)LLONG_MAX)
		return json_integer((json_int_t)u);
	snprintf(num, sizeof(num), "%llu", u);
	return json_string(num);
}

json_t *config_to_json(const struct config *c)
{
	json_t *o = json_object();

	json_object_set_new(o, "config_file", json_str(c->path));
	section_json(c, &top_section, o);
	if (c->nmembers) {	/* only then: other manifests keep their keys */
		json_t *a = json_array();

		for (size_t i = 0; i < c->nmembers; i++) {
			json_t *m = json_object();

			section_json(&c->members[i], &judge_section, m);
			json_array_append_new(a, m);
		}
		json_object_set_new(o, "judge_panel", a);
	}
	return o;
}

/* ---- the keys, for their documentation ---- */

/* The i-th YAML key and its section; NULL past the last. One level of
 * sections: no section holds another. */
static const struct key *nth_key(size_t i, const struct section **secp)
{
	size_t n = 0;

	for (size_t t = 0; t < top_section.nkeys; t++) {
		const struct key *k = &top_keys[t];

		if (k->flags & KF_FLAG_ONLY)
			continue;
		if (n++ == i) {
			*secp = &top_section;
			return k;
		}
		if (k->type != KT_SECTION)
			continue;
		for (size_t j = 0; j < k->sub->nkeys; j++) {
			if (k->sub->keys[j].flags & KF_FLAG_ONLY)
				continue;
			if (n++ == i) {
				*secp = k->sub;
				return &k->sub->keys[j];
			}
		}
	}
	return NULL;
}

size_t config_key_count(void)
{
	const struct section *sec;
	size_t n = 0;

	while (nth_key(n, &sec))
		n++;
	return n;
}

void config_key_info(size_t i, struct config_key_info *out)
{
	const struct section *sec = NULL;
	const struct key *k = nth_key(i, &sec);
	char *a = out->allowed;
	size_t n = sizeof(out->allowed);

	memset(out, 0, sizeof(*out));
	if (!k)
		return;
	out->section = sec->name;
	out->name = k->name;
	out->is_section = k->type == KT_SECTION;
	snprintf(out->path, sizeof(out->path), "%s%s%s",
		 sec->name ? sec->name : "", sec->name ? "." : "", k->name);
	switch (k->type) {
	case KT_STR:
		if (k->flags & KF_URL)
			snprintf(a, n, "an http:// or https:// URL");
		else if (k->flags & KF_NULLABLE)
			snprintf(a, n, "a string, or null for none");
		break;
	case KT_STRLIST:
		snprintf(a, n, k->dstr ? "a string or a list of strings" :
			 "a list of strings, [] for none");
		break;
	case KT_INT:
	case KT_LLONG:
	case KT_SIZE:
		if (!strcmp(k->name, "concurrency")) {
			char r[96];

			range_text(k, false, r, sizeof(r));
			snprintf(a, n, "auto, [floor, ceiling] or a fixed "
				 "number, each %s", r);
		} else {
			range_text(k, false, a, n);
		}
		break;
	case KT_ULLONG:
		snprintf(a, n, "between 0 and %llu", ULLONG_MAX);
		break;
	case KT_DOUBLE:
		range_text(k, false, a, n);
		break;
	case KT_BOOL:
		snprintf(a, n, "true or false");
		break;
	case KT_ENUM:
		enum_text(k, a, n);
		break;
	case KT_CLAMP:
		snprintf(a, n, "auto, off or [low, high] with 0 <= low <= "
			 "high <= 1");
		break;
	case KT_PRICES:
		snprintf(a, n, "a mapping MODEL: {input: USD, output: USD}");
		break;
	case KT_SECTION:
		snprintf(a, n, k->sub == &judge_section ?
			 "a mapping, or a list of 1 to %d mappings (a panel)" :
			 "a mapping", CONFIG_PANEL_MAX);
		break;
	}
}

/* Append to buf (size n, used *len) like snprintf; stops when full. */
__attribute__((format(printf, 4, 5)))
static void put(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*len >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *len, n - *len, fmt, ap);
	va_end(ap);
	*len = w < 0 ? n : *len + (size_t)w;
}

/* A string as a YAML scalar: plain when it reads back as itself in block
 * and flow context, else double-quoted. */
static void put_yaml_str(char *buf, size_t n, size_t *len, const char *s)
{
	bool plain = *s && !is_null_word(s) && s[strlen(s) - 1] != ':';

	for (const char *p = s; plain && *p; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '_' || *p == '.' ||
			*p == '/' || (p > s && strchr(":-+@", *p));
	if (plain) {
		put(buf, n, len, "%s", s);
		return;
	}
	put(buf, n, len, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p == '"' || *p == '\\')
			put(buf, n, len, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			put(buf, n, len, "\\x%02x", *p);
		else
			put(buf, n, len, "%c", *p);
	put(buf, n, len, "\"");
}

/* The shortest decimal that strtod reads back to d. */
static void put_num(char *buf, size_t n, size_t *len, double d)
{
	char num[32];

	if (d == floor(d) && fabs(d) < 1e15) {	/* 30, not 3e+01 */
		put(buf, n, len, "%.0f", d);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(num, sizeof(num), "%.*g", prec, d);
		if (strtod(num, NULL) == d)
			break;
	}
	put(buf, n, len, "%s", num);
}

void config_key_text(const struct config *c, size_t i, char *buf, size_t n)
{
	const struct section *sec;
	const struct key *k = nth_key(i, &sec);
	size_t len = 0, cnt;

	if (n)
		buf[0] = '\0';
	if (!k || !n)
		return;
	switch (k->type) {
	case KT_STR:
		if (!*CFIELD(c, k, char *))
			put(buf, n, &len, "null");
		else
			put_yaml_str(buf, n, &len, *CFIELD(c, k, char *));
		break;
	case KT_STRLIST:
		cnt = *(const size_t *)(const void *)((const char *)c +
						      k->count_off);
		put(buf, n, &len, "[");
		for (size_t j = 0; j < cnt; j++) {
			put(buf, n, &len, "%s", j ? ", " : "");
			put_yaml_str(buf, n, &len, (*CFIELD(c, k, char **))[j]);
		}
		put(buf, n, &len, "]");
		break;
	case KT_INT:
		if (!strcmp(k->name, "concurrency")) {
			const struct endpoint *ep = (const struct endpoint *)
				(const void *)((const char *)c + sec->ep_off);

			if (ep->concurrency_auto &&
			    ep->concurrency_floor == CONCURRENCY_FLOOR &&
			    ep->concurrency_ceiling == CONCURRENCY_CEILING)
				put(buf, n, &len, "auto");
			else if (ep->concurrency_auto)
				put(buf, n, &len, "[%d, %d]",
				    ep->concurrency_floor,
				    ep->concurrency_ceiling);
			else
				put(buf, n, &len, "%d", ep->concurrency);
			break;
		}
		put(buf, n, &len, "%d", *CFIELD(c, k, int));
		break;
	case KT_LLONG:
		put(buf, n, &len, "%lld", *CFIELD(c, k, long long));
		break;
	case KT_SIZE:
		put(buf, n, &len, "%zu", *CFIELD(c, k, size_t));
		break;
	case KT_ULLONG:
		put(buf, n, &len, "%llu", *CFIELD(c, k, unsigned long long));
		break;
	case KT_DOUBLE:
		put_num(buf, n, &len, *CFIELD(c, k, double));
		break;
	case KT_BOOL:
		put(buf, n, &len, "%s", *CFIELD(c, k, bool) ? "true" : "false");
		break;
	case KT_ENUM:
		put(buf, n, &len, "%s", enum_name(k, *CFIELD(c, k, int)) ?
		    enum_name(k, *CFIELD(c, k, int)) : "null");
		break;
	case KT_CLAMP: {
		const struct clamp *cl = CFIELD(c, k, struct clamp);

		if (cl->mode == CLAMP_AUTO) {
			put(buf, n, &len, "auto");
		} else if (cl->mode == CLAMP_OFF) {
			put(buf, n, &len, "off");
		} else {
			put(buf, n, &len, "[");
			put_num(buf, n, &len, cl->lo);
			put(buf, n, &len, ", ");
			put_num(buf, n, &len, cl->hi);
			put(buf, n, &len, "]");
		}
		break;
	}
	case KT_PRICES:
		put(buf, n, &len, "{");
		for (size_t j = 0; j < c->nprices; j++) {
			const struct price *pr = &c->prices[j];

			put(buf, n, &len, "%s", j ? ", " : "");
			put_yaml_str(buf, n, &len, pr->model);
			put(buf, n, &len, ": {input: ");
			put_num(buf, n, &len, pr->input);
			put(buf, n, &len, ", output: ");
			put_num(buf, n, &len, pr->output);
			put(buf, n, &len, ", batch_input: ");
			put_num(buf, n, &len, pr->batch_input);
			put(buf, n, &len, ", batch_output: ");
			put_num(buf, n, &len, pr->batch_output);
			put(buf, n, &len, "}");
		}
		put(buf, n, &len, "}");
		break;
	case KT_SECTION:
		break;
	}
}
