/*
 * config.h - the run configuration.
 *
 * Settings come from, lowest to highest precedence: built-in defaults
 * (config_init), the YAML file (config_load_yaml), the environment
 * (config_apply_env), and command-line flags (applied by main.c directly on
 * the struct, then config_validate).
 *
 * YAML shape (every key optional; unknown keys are errors that suggest the
 * nearest valid key):
 *
 *   prompts: datasets/sample/prompts.jsonl
 *   prompt_field: prompt           # the JSONL key holding the prompt
 *   prompt_format: auto            # auto | standard | conversational:
 *                                  # one format for every record's prompt
 *   out: datasets/out
 *   seed: 1
 *   limit: 0                      # 0 = all
 *   mode: preferences             # preferences | critiques | both
 *   constitutions: [constitution/harmless.yaml]   # or a single string
 *   max_line_bytes: 1048576
 *   policy:
 *     base_url: http://127.0.0.1:8000/v1
 *     base_urls: [http://a:8000/v1, http://b:8000/v1]  # several servers
 *                                  # of one model; when set, base_url is
 *                                  # not used (endpoint.h: least in
 *                                  # flight, cool-down, probe)
 *     cooldown: 5                  # seconds a server failing 3 times in a
 *                                  # row sits out; doubles up to 60
 *     model: policy
 *     api_key_env: OPENAI_API_KEY  # name of the variable holding the key
 *     api_key_file: path           # alternative: a file holding the key
 *     concurrency: 8
 *     timeout: 120                 # seconds, whole request
 *     connect_timeout: 10
 *     max_attempts: 5
 *     backoff_base: 0.5            # seconds; retry k waits up to
 *     backoff_max: 8               #   min(backoff_max, base * 2^k)
 *     stall_timeout: 30            # seconds under 1 byte/s: a timeout
 *     requests_per_minute: 0       # client-side limits; 0 = none
 *     tokens_per_minute: 0
 *     temperature: 1.0
 *     top_p: 1.0
 *     max_tokens: 512
 *     n: auto                      # auto | 1 (always two calls) | 2
 *   judge:
 *     (the endpoint keys above, with other defaults), plus
 *     both_orders: true
 *     top_logprobs: 20
 *     max_tokens: 1
 *     temperature: 0
 *     scan_positions: 4
 *     cot: false                   # rationale first (two calls)
 *     cot_max_tokens: 256
 *     clamp: auto                  # auto | off | [lo, hi]
 *     votes: 0                     # > 0: k sampled answers, p = A/k
 *     min_letter_mass: 0.5         # logprobs judgments whose A and B got
 *                                  # less (1 - other_mass) are flagged
 *   rounds: 1                      # critique/revision rounds
 *   loops: 0                       # event-loop threads; 0: one per core
 *   max_cost: 0                    # USD cap (budget.h); 0 = none
 *   batch_poll: 30                 # seconds between polls of a batch
 *   batch_prompts: 10000           # prompts per wave in batch mode
 *   prices:                        # USD per million tokens, by model name
 *     my-judge: {input: 2.5, output: 10}   # batch_input, batch_output:
 *                                  # through a batch API; default half
 *   responses: 2                   # answers per prompt, 2..16 (rank.h)
 *   pairs: all                     # all | adjacent | random:m
 *   binarize: best-worst           # best-worst | best-random | all-pairs
 *   panel: mean                    # mean | median | majority
 *
 * `judge` may also be a list of judge mappings (at most CONFIG_PANEL_MAX):
 * a panel. The first is `judge` itself (flags such as --judge-url apply
 * to it alone); each other member is loaded from the built-in defaults
 * into `members`, its key read by config_apply_env ("judge[i]" in
 * messages), and config_validate checks it and builds member_views[i]:
 * the run's settings with that member's judge keys (--jobs sets its
 * concurrency too). config_to_json adds "judge_panel", the other members'
 * judge keys, only when there is a panel.
 *
 * Both endpoints take `executor: live | batch` (batch.h: the requests go
 * out as provider batches; api chat or anthropic, one base_url) with
 * `batch_max_requests` and `batch_max_bytes` (0: the provider's limits),
 * and `api: chat | completions | anthropic`; an anthropic
 * endpoint whose base_url or api_key_env were left at their defaults
 * gets https://api.anthropic.com/v1 and ANTHROPIC_API_KEY instead.
 *
 * Environment: OPENAI_BASE_URL overrides both base URLs; the key variables
 * named by api_key_env are read for the keys.
 *
 * Relative paths in the file (prompts, out, constitutions, api_key_file) are
 * relative to the current directory, not to the YAML file.
 *
 * config_to_json also emits "config_file" (path), the flag-only switches,
 * and "api_key_set" per endpoint; a seed above 2^63-1 is a string.
 *
 * The struct owns every string in it. Keys are never printed: config_to_json
 * leaves them out.
 */
#ifndef CAIGEN_CONFIG_H
#define CAIGEN_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum run_mode { MODE_PREFERENCES, MODE_CRITIQUES, MODE_BOTH };
#define CONFIG_PANEL_MAX 8	/* judges in a panel (judge as a list) */
enum n_mode { N_AUTO = 0, N_ONE = 1, N_TWO = 2 };
/* The HTTP API an endpoint speaks (provider.h builds and reads each). */
enum api_kind { API_CHAT = 0, API_COMPLETIONS = 1, API_ANTHROPIC = 2 };
/* How an endpoint's requests go out: one by one (live.h) or as provider
 * batches at the batch price (batch.h). */
enum executor_kind { EXEC_LIVE = 0, EXEC_BATCH = 1 };

/* judge.clamp: auto (on at [0.4, 0.6] with judge.cot, else off), off, or
 * a range [lo, hi] the label p is clamped to. */
enum clamp_mode { CLAMP_AUTO = 0, CLAMP_OFF = 1, CLAMP_ON = 2 };
struct clamp {
	int mode;		/* enum clamp_mode */
	double lo, hi;
};

struct endpoint {
	char *base_url;		/* without trailing slash, e.g. ".../v1" */
	char *model;
	char *api_key_env;
	char *api_key_file;
	char *api_key;		/* resolved secret; NULL if none */
	int concurrency;
	double timeout;
	double connect_timeout;
	int max_attempts;
	double temperature;
	double top_p;
	int max_tokens;
	int api;		/* enum api_kind */
	double backoff_base;	/* seconds: first retry waits up to this */
	double backoff_max;	/* seconds: cap on one backoff wait */
	double stall_timeout;	/* seconds under 1 byte/s: a timeout */
	double requests_per_minute;	/* 0 = no client-side limit */
	double tokens_per_minute;	/* 0 = no client-side limit */
	char **base_urls;	/* several servers of this model (endpoint.h);
				 * none: base_url alone */
	size_t nbase_urls;
	double cooldown;	/* seconds a failing server sits out first */
	int executor;		/* enum executor_kind */
	int batch_max_requests;	/* requests per batch; 0: the provider's */
	long long batch_max_bytes;	/* bytes per batch; 0: the provider's */
	/* `concurrency: auto` (the default) or `[floor, ceiling]`: the
	 * limiter (limiter.h) moves the places in flight between these,
	 * starting at `concurrency`; an integer or --jobs fixes it */
	bool concurrency_auto;
	int concurrency_floor, concurrency_ceiling;
	int http;		/* enum http_version (http.h): auto, 1.1, 2 */
	char *ca_file;		/* PEM bundle that signs the server's
				 * certificate, in place of the system's;
				 * NULL: the system's */
};

#define CONCURRENCY_FLOOR 1	/* defaults of concurrency: auto */
#define CONCURRENCY_CEILING 2048

/* The most calls an endpoint may have in flight: the ceiling when the
 * limiter moves it, else the fixed concurrency. */
int endpoint_max_concurrency(const struct endpoint *ep);

/* One row of the price table (`prices:` in the YAML), in USD per million
 * tokens. */
struct price {
	char *model;
	double input;		/* prompt tokens */
	double output;		/* completion tokens */
	double batch_input;	/* the same through a batch API; unless */
	double batch_output;	/* given, half the live price */
};

struct config {
	char *path;		/* the YAML file, or NULL */
	char *prompts;
	char *prompt_field;	/* JSONL key holding the prompt (prompts.h) */
	char *prompt_format;	/* auto | standard | conversational */
	char *out;
	unsigned long long seed;
	long long limit;
	enum run_mode mode;
	char **constitutions;
	size_t nconstitutions;
	size_t max_line_bytes;

	struct endpoint policy;
	enum n_mode n;
	int truncated;		/* policy.truncated: enum guard_cut_mode */
	int identical;		/* policy.identical: enum guard_same_mode */
	int identical_resamples;	/* policy.identical_resamples */
	int stop_after_refusals;	/* unmendable refusals in a row of one
					 * endpoint that stop the run */

	struct endpoint judge;
	bool both_orders;
	int top_logprobs;
	int scan_positions;
	bool cot;		/* judge.cot: rationale first, then letter */
	int cot_max_tokens;
	struct clamp clamp;
	int votes;		/* judge.votes: 0 = off, else k samples */
	double min_letter_mass;	/* judge.min_letter_mass: flag below it */
	char *calibration;	/* judge.calibration: a calibrate.h file */
	struct calibration *calib;	/* loaded by config_validate */

	int rounds;		/* critique/revision rounds per prompt */
	int loops;		/* event-loop threads; 0: one per core */
	double max_cost;	/* USD cap on the run's spending; 0: none */
	double batch_poll;	/* seconds between polls of a batch */
	long long batch_prompts;	/* prompts per wave in batch mode */

	struct price *prices;	/* prices: MODEL: {input, output} */
	size_t nprices;

	/* rankings (rank.h): responses: k answers per prompt (2..16);
	 * pairs: "all", "adjacent" or "random:m", parsed by config_validate
	 * into pairs_mode and pairs_m; binarize: enum rank_binarize */
	int responses;
	char *pairs;
	int pairs_mode;		/* enum rank_pairs */
	int pairs_m;		/* random:m */
	int binarize;		/* enum rank_binarize */
	int panel;		/* enum rank_panel: a panel's labels combined */
	/* judge: as a list, members 1.. of the panel (member 0 is judge),
	 * each the run's settings with its own judge keys; views borrow
	 * from the run config and from the member's loaded keys */
	struct config *members;	/* owned: the members' own loaded keys */
	struct config **member_views;	/* built by config_validate */
	size_t nmembers;

	/* run-time switches, flags only */
	int jobs;		/* > 0: overrides both concurrencies */
	bool quiet;
	int progress_interval;	/* seconds between plain progress lines */
};

void config_init(struct config *c);
void config_release(struct config *c);
/* Merge a YAML file over c. Errors as "file:line:col: message". */
int config_load_yaml(struct config *c, const char *path, struct err *err)
	__attribute__((warn_unused_result));
/* Apply environment overrides and read the API keys (from the variable
 * or file named). A named variable that is unset is an error only if
 * `need_keys`. */
int config_apply_env(struct config *c, bool need_keys, struct err *err)
	__attribute__((warn_unused_result));
/* Final checks (ranges, required fields). */
int config_validate(struct config *c, struct err *err)
	__attribute__((warn_unused_result));
/* Settings as JSON for manifest.json, without secrets. New reference. */
/* An unsigned 64-bit setting (the seed) as JSON: an integer up to
 * 2^63 - 1, a decimal string above. New reference. */
json_t *config_ull_json(unsigned long long u);
json_t *config_to_json(const struct config *c);
/* The price row of `model`, or NULL when the table has none. */
const struct price *config_price(const struct config *c, const char *model);
/* USD per token (input, output) of endpoint ep's model, at the batch
 * price when ep->executor is batch; false when the model has no row. */
bool config_rates(const struct config *c, const struct endpoint *ep,
		  double *in, double *out);
/* Replace a string field: frees the old value, copies s. */
void config_set_str(char **field, const char *s);
/* `caigen check` on a run config: init, load_yaml, validate, release.
 * Validation errors are prefixed "file: ". No keys are read. */
int config_check_file(const char *path, struct err *err)
	__attribute__((warn_unused_result));

/*
 * The YAML keys, for their documentation (configdoc.h) and its tests:
 * every key config_load_yaml accepts, in table order, a section (policy,
 * judge) before its keys; the flag-only switches are not keys. Index i
 * runs from 0 to config_key_count() - 1.
 */
struct config_key_info {
	char path[64];		/* "judge.cot"; a section: "judge" */
	const char *section;	/* "policy", "judge"; NULL: the top level */
	const char *name;	/* "cot" */
	bool is_section;
	char allowed[160];	/* the values accepted, in words ("between 1
				 * and 64", "auto, off or [low, high]"); ""
				 * when any string goes */
};
size_t config_key_count(void);
void config_key_info(size_t i, struct config_key_info *out);
/* Key i's value in c as YAML text that config_load_yaml reads back to the
 * same value ("8", "auto", "[0.4, 0.6]", "null", "[a.yaml, b.yaml]",
 * "{}"); a section: "". On a config_init'ed c this is the key's default. */
void config_key_text(const struct config *c, size_t i, char *buf, size_t n);

#endif
