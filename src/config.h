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
 *   out: datasets/out
 *   seed: 1
 *   limit: 0                      # 0 = all
 *   mode: preferences             # preferences | critiques | both
 *   constitutions: [constitution/harmless.yaml]   # or a single string
 *   max_line_bytes: 1048576
 *   policy:
 *     base_url: http://127.0.0.1:8000/v1
 *     model: policy
 *     api_key_env: OPENAI_API_KEY  # name of the variable holding the key
 *     api_key_file: path           # alternative: a file holding the key
 *     concurrency: 8
 *     timeout: 120                 # seconds, whole request
 *     connect_timeout: 10
 *     max_attempts: 5
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
enum n_mode { N_AUTO = 0, N_ONE = 1, N_TWO = 2 };

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
};

struct config {
	char *path;		/* the YAML file, or NULL */
	char *prompts;
	char *out;
	unsigned long long seed;
	long long limit;
	enum run_mode mode;
	char **constitutions;
	size_t nconstitutions;
	size_t max_line_bytes;

	struct endpoint policy;
	enum n_mode n;

	struct endpoint judge;
	bool both_orders;
	int top_logprobs;
	int scan_positions;

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
json_t *config_to_json(const struct config *c);
/* Replace a string field: frees the old value, copies s. */
void config_set_str(char **field, const char *s);
/* `caigen check` on a run config: init, load_yaml, validate, release.
 * Validation errors are prefixed "file: ". No keys are read. */
int config_check_file(const char *path, struct err *err)
	__attribute__((warn_unused_result));

#endif
