/*
 * configdoc.c - the run config's keys in words, and the example YAML and
 * man page section made from them with config.h's key walker.
 *
 * DESIGN. The rows hold words only: a key's name, type, default and
 * accepted values are read from config.c's tables when the text is made,
 * so a changed default or range shows in `--example` and in caigen.1 (after
 * `make man`) without touching this file. A row found for no key, or a key
 * without a row, fails tests/unit/test_configdoc.c.
 */
#include "configdoc.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum doc_where {
	D_TOP,		/* a top-level key (policy and judge included) */
	D_ENDPOINT,	/* a key both policy and judge have */
	D_POLICY,	/* policy only */
	D_JUDGE,	/* judge only */
};

struct key_doc {
	enum doc_where where;
	const char *name;
	const char *line;	/* one line, for --example and the man page */
	const char *more;	/* further text for the man page, or NULL */
	const char *eg;		/* YAML shown as "# e.g." after the key in
				 * --example ('\n' between lines), or NULL */
};

static const struct key_doc docs[] = {
	/* ---- top level ---- */
	{ D_TOP, "prompts",
	  "The prompts: a JSONL or text file (gzip read as is), a split "
	  "folder, or - for standard input.",
	  "Same as `--prompts`.", NULL },
	{ D_TOP, "prompt_field",
	  "The JSONL key that holds the prompt (a string or a message list).",
	  "Same as `--prompt-field`. When no line has it, the run names the "
	  "keys it saw.", NULL },
	{ D_TOP, "prompt_format",
	  "One format for every record's prompt: auto, standard or "
	  "conversational.",
	  "`conversational`: a message list (a string prompt becomes one "
	  "user turn); `standard`: a string (a list of one user turn becomes "
	  "its text, a longer one is rejected); `auto`: conversational when "
	  "any prompt of the input is a message list (the input is read once "
	  "first; a split folder records it), else standard; from standard "
	  "input, the first prompt's format.", NULL },
	{ D_TOP, "out",
	  "The output folder; a rerun into it resumes.",
	  "Same as `--out`.", NULL },
	{ D_TOP, "seed",
	  "The run seed: the same seed and input give the same draws.",
	  "Against a deterministic server the same bytes, for any "
	  "concurrency and shard count.", NULL },
	{ D_TOP, "limit",
	  "Read at most this many input lines; 0 reads them all.", NULL,
	  NULL },
	{ D_TOP, "mode",
	  "What a run makes: judged pairs, critique/revision chains, or both.",
	  "`preferences` writes OUT/preferences.jsonl, `critiques` "
	  "OUT/critiques.jsonl, `both` each prompt to both.", NULL },
	{ D_TOP, "rounds",
	  "Critique/revision rounds per prompt.",
	  "Each round draws a fresh principle and revises the previous "
	  "round's revision.", NULL },
	{ D_TOP, "stop_after_refusals",
	  "Refusals in a row of one endpoint that no retry mends before the "
	  "run stops.",
	  "HTTP 401, a 403 that is not a refusal of log-probabilities, 404, a "
	  "model that does not exist, `insufficient_quota`: when this many "
	  "requests to one endpoint in a row are refused so, the run stops "
	  "taking prompts, names the endpoint and what to fix, and exits 2. "
	  "Prompts not done are left for the next run, not recorded as "
	  "failed.", NULL },
	{ D_TOP, "constitutions",
	  "Constitution files or short names (harmless); their principles "
	  "are pooled.",
	  "A short name is looked up in the installed share folder and in "
	  "the source tree's constitution folder. Same as `--constitution`, "
	  "which replaces this list.",
	  "constitutions: [harmless, constitution/udhr.yaml]" },
	{ D_TOP, "max_line_bytes",
	  "An input line longer than this many bytes is rejected.", NULL,
	  NULL },
	{ D_TOP, "prices",
	  "USD per million tokens by model name, for the cost shown and "
	  "max_cost.",
	  "Each model maps to {input: USD, output: USD} and optionally "
	  "`batch_input` and `batch_output`, the prices through a batch API "
	  "(executor: batch; default half the live ones). A model missing "
	  "from the table makes the cost unknown, never zero.",
	  "prices: {my-model: {input: 0.15, output: 0.6}}" },
	{ D_TOP, "loops",
	  "Event-loop threads that drive the requests; 0: one per core.",
	  "At least one per 1,024 requests in flight, never more than the "
	  "smaller concurrency. Concurrency is requests in flight per "
	  "endpoint, not threads.", NULL },
	{ D_TOP, "max_cost",
	  "A cap in USD on what the run spends; 0: none.",
	  "Before each request the most it could cost is reserved (request "
	  "bytes / 4 input tokens, max_tokens output tokens); a request that "
	  "would pass the cap is not sent, the run lets the requests on the "
	  "wire finish and exits 75 (the next run goes on). A cap needs a "
	  "price for every model the run uses. Same as `--max-cost`.", NULL },
	{ D_TOP, "batch_poll",
	  "Seconds between polls of a provider batch (executor: batch).",
	  "With 10% jitter either way.", NULL },
	{ D_TOP, "batch_prompts",
	  "Prompts per wave in batch mode.",
	  "A wave's requests go out together, one phase (samples, "
	  "judgments, ...) after another.", NULL },
	{ D_TOP, "responses",
	  "Answers the policy samples per prompt (mode preferences).",
	  "One request with n: k (unless policy.n is 1, the server refuses "
	  "n above 1, or k is above 8), else k requests with n = 1 and seeds "
	  "from the keyed generator. Answers equal after trimming are "
	  "collapsed into the first (listed in the record's duplicates). "
	  "Above 2 (or with a judge panel) the pairs of `pairs` are judged, "
	  "the answers ranked, and the records are caigen.preference/2; with "
	  "two answers and one judge they stay caigen.preference/1.", NULL },
	{ D_TOP, "pairs",
	  "Which pairs of the answers are judged: all, adjacent or random:m.",
	  "`all`: k(k-1)/2 pairs; `adjacent`: answers 1-2, 2-3, ...; "
	  "`random:m`: m pairs drawn by a seeded shuffle (at most k(k-1)/2). "
	  "Each pair is judged like a two-answer prompt: judge requests per "
	  "prompt = pairs x orders (2, or 1 without judge.both_orders) x "
	  "requests per judgment (1, 2 with judge.cot, the vote count for an "
	  "Anthropic judge with judge.votes), summed over a panel's members; "
	  "`--dry-run` prints it.", NULL },
	{ D_TOP, "binarize",
	  "Which pairs of a ranking become records.",
	  "`best-worst`: the top answer chosen, the bottom one rejected; "
	  "`best-random`: the top one and a seeded draw among the others; "
	  "`all-pairs`: every pair, the higher chosen (k(k-1)/2 records per "
	  "prompt, numbered by part and parts). The ranking is a "
	  "Bradley-Terry fit on the judged pairs' soft labels with a prior of "
	  "a 0.1-weight virtual tie on every pair; equal scores are ordered "
	  "by a seeded draw.", NULL },
	{ D_TOP, "panel",
	  "How a judge panel's labels of a pair combine.",
	  "`majority` is the share of members with p above 0.5, one at "
	  "exactly 0.5 counting half. The record keeps each member's "
	  "judgments; `caigen audit` reports each member's labels and their "
	  "agreement, `--dry-run` the requests and cost per member. See "
	  "`judge`.", NULL },
	{ D_TOP, "policy",
	  "The model that answers, critiques and revises: an endpoint.",
	  "Its keys are below.", NULL },
	{ D_TOP, "judge",
	  "The model that compares two answers: an endpoint, or a list of "
	  "them (a panel).",
	  "A list of judge mappings (at most 8) is a panel: every pair goes "
	  "to every member, whose labels combine as `panel` says. Each "
	  "member is a full judge section; its unset keys take their "
	  "defaults, not the first member's values. Flags such as "
	  "`--judge-url` set the first member.",
	  "judge:\n"
	  "  - {base_url: http://gpu2:8000/v1, model: judge-a}\n"
	  "  - {base_url: http://gpu3:8000/v1, model: judge-b}" },

	/* ---- both endpoints ---- */
	{ D_ENDPOINT, "base_url",
	  "The server's base URL; requests go to base_url/chat/completions.",
	  "Or the path the `api` needs. OPENAI_BASE_URL overrides it for "
	  "both endpoints.", NULL },
	{ D_ENDPOINT, "base_urls",
	  "Several servers of the same model, used instead of base_url.",
	  "Each request goes to the server with the fewest requests in "
	  "flight; a request that fails on one is tried on another.",
	  "base_urls: [http://gpu1:8000/v1, http://gpu2:8000/v1]" },
	{ D_ENDPOINT, "cooldown",
	  "Seconds a server of base_urls sits out after 3 failures in a row.",
	  "Doubled after each failed probe, up to a minute.", NULL },
	{ D_ENDPOINT, "model",
	  "The model name sent in every request.", NULL, NULL },
	{ D_ENDPOINT, "api_key_env",
	  "The environment variable that holds the API key (never the key "
	  "itself).",
	  "An unset variable means no key is sent. With `api: anthropic` "
	  "the default is ANTHROPIC_API_KEY.", NULL },
	{ D_ENDPOINT, "api_key_file",
	  "A file whose single line is the API key; wins over api_key_env.",
	  NULL, NULL },
	{ D_ENDPOINT, "concurrency",
	  "Requests in flight: auto (adaptive), [floor, ceiling], or a fixed "
	  "number.",
	  "`auto` starts at 8 and moves between 1 and 2048 as the server "
	  "keeps up or pushes back (429, 503, latency); `[floor, ceiling]` "
	  "bounds it; a number, or `--jobs`, fixes it.",
	  "concurrency: [4, 256]" },
	{ D_ENDPOINT, "timeout",
	  "Seconds for a whole request.", NULL, NULL },
	{ D_ENDPOINT, "connect_timeout",
	  "Seconds to open a connection.", NULL, NULL },
	{ D_ENDPOINT, "max_attempts",
	  "Tries per request, the first included.",
	  "Connection errors, timeouts, 408, 409, 429 and 5xx are retried; "
	  "400, 401, 403, 404 and exhausted quotas are not.", NULL },
	{ D_ENDPOINT, "backoff_base",
	  "Seconds: retry k waits up to min(backoff_max, backoff_base * 2^k).",
	  "A random time, unless the server says how long with retry-after "
	  "or retry-after-ms.", NULL },
	{ D_ENDPOINT, "backoff_max",
	  "The longest wait between retries, in seconds.", NULL, NULL },
	{ D_ENDPOINT, "stall_timeout",
	  "Seconds under 1 byte/s that count as a timeout.", NULL, NULL },
	{ D_ENDPOINT, "requests_per_minute",
	  "A client-side limit on requests started per minute; 0: none.",
	  NULL, NULL },
	{ D_ENDPOINT, "tokens_per_minute",
	  "A client-side limit on tokens per minute; 0: none.",
	  "Tokens are the prompt's estimate plus max_tokens.", NULL },
	{ D_ENDPOINT, "temperature",
	  "Sampling temperature.", NULL, NULL },
	{ D_ENDPOINT, "top_p",
	  "Nucleus sampling mass.", NULL, NULL },
	{ D_ENDPOINT, "max_tokens",
	  "The most tokens one reply may have (the judge needs one letter).",
	  NULL, NULL },
	{ D_ENDPOINT, "api",
	  "The wire format: OpenAI chat, OpenAI text completions, or "
	  "Anthropic Messages.",
	  "With `anthropic` the defaults of base_url and api_key_env become "
	  "https://api.anthropic.com/v1 and ANTHROPIC_API_KEY.", NULL },
	{ D_ENDPOINT, "executor",
	  "live sends requests one by one; batch as provider batches at the "
	  "batch price.",
	  "`batch` needs `api: chat` (OpenAI Batch API) or `api: anthropic` "
	  "(Message Batches) and one base_url; batches are polled every "
	  "batch_poll seconds and resumed from OUT/batch, each request sent "
	  "once.", NULL },
	{ D_ENDPOINT, "batch_max_requests",
	  "The most requests per batch; 0: the provider's limit.",
	  "OpenAI 50,000, Anthropic 100,000.", NULL },
	{ D_ENDPOINT, "batch_max_bytes",
	  "The most bytes per batch; 0: the provider's limit, with a margin.",
	  "OpenAI 190 MB, Anthropic 240 MB.", NULL },
	{ D_ENDPOINT, "http",
	  "The HTTP version of the requests (HTTP/2 lets them share "
	  "connections).",
	  "auto: HTTP/2 on https when the server offers it (ALPN), else "
	  "HTTP/1.1; HTTP/1.1 on http. 2: on https as auto; on http, HTTP/2 "
	  "without TLS (h2c, prior knowledge) for a gateway such as nginx "
	  "`listen ... http2` or envoy, which needs libcurl 8.0.0 or later "
	  "(older ones fail an h2c connection's second request). With "
	  "HTTP/2 up to 100 requests (fewer if the server says so) share a "
	  "connection, so tens of thousands in flight take a few hundred "
	  "descriptors; with 1.1 each request in flight is a connection.",
	  "http: 2" },
	{ D_ENDPOINT, "ca_file",
	  "A PEM file of the certificates that sign the server's, in place of "
	  "the system's; unset: the system's.",
	  "For a private or corporate CA (libcurl reads neither "
	  "CURL_CA_BUNDLE nor SSL_CERT_FILE).", "ca_file: /etc/ssl/corp-ca.pem" },

	/* ---- policy only ---- */
	{ D_POLICY, "n",
	  "auto: both answers in one request (n=2) if the server can; 1: two "
	  "requests; 2: n=2.", NULL, NULL },
	{ D_POLICY, "truncated",
	  "An answer max_tokens cut: sample it again once, keep it, or fail "
	  "the prompt.",
	  "Cut means finish reason length (max_tokens on Anthropic). "
	  "`retry` samples it again with a derived seed and fails the prompt "
	  "with the reason truncated when it is cut again. Critiques and revisions are treated the same "
	  "way; records keep every answer's finish reason.", NULL },
	{ D_POLICY, "identical",
	  "Two answers equal after trimming: sample the second again, keep "
	  "them, or fail.",
	  "`resample` tries up to identical_resamples times, then fails the "
	  "prompt with the reason identical responses.", NULL },
	{ D_POLICY, "identical_resamples",
	  "How many times to sample the second of two identical answers "
	  "again.", NULL, NULL },

	/* ---- judge only ---- */
	{ D_JUDGE, "both_orders",
	  "Ask twice with the answers swapped and average, to cancel slot "
	  "bias.", NULL, NULL },
	{ D_JUDGE, "top_logprobs",
	  "Alternatives per position asked for (TGI allows 5).", NULL, NULL },
	{ D_JUDGE, "scan_positions",
	  "Look for the answer letter this many generated positions in.",
	  NULL, NULL },
	{ D_JUDGE, "cot",
	  "Chain of thought: the judge reasons first (stored as rationale), "
	  "then answers.",
	  "Two requests per judgment; a rationale cut by cot_max_tokens has "
	  "rationale_truncated set.", NULL },
	{ D_JUDGE, "cot_max_tokens",
	  "The most tokens the judge's reasoning may have.", NULL, NULL },
	{ D_JUDGE, "clamp",
	  "Squeeze labels into a range; auto: [0.4, 0.6] with cot, else off.",
	  "The label before the clamp is kept as p_raw.",
	  "clamp: [0.2, 0.8]" },
	{ D_JUDGE, "votes",
	  "Above 0: without log-probabilities, sample this many answers; p "
	  "is A's share.", NULL, NULL },
	{ D_JUDGE, "min_letter_mass",
	  "Flag judgments whose letters A and B got less than this "
	  "probability; 0: off.",
	  "Flagged judgments have low_letter_mass: true and are counted in "
	  "the manifest; above 20% of 20 or more, the run warns once (a "
	  "wrong chat template, a base model on the chat route, or a judge "
	  "too small).", NULL },
	{ D_JUDGE, "calibration",
	  "A file from caigen calibrate: the label p becomes the calibrated "
	  "p_raw.",
	  "Then clamped; chosen, rejected, chosen_index and margin follow it "
	  "and the record gets a calibration key. A file fitted for another "
	  "judge model or cot setting is refused. Not with responses above 2 "
	  "or a panel.", NULL },
};

/* ---- rows and keys ---- */

static bool row_matches(const struct key_doc *d,
			const struct config_key_info *k)
{
	if (strcmp(d->name, k->name))
		return false;
	switch (d->where) {
	case D_TOP:
		return !k->section;
	case D_POLICY:
		return k->section && !strcmp(k->section, "policy");
	case D_JUDGE:
		return k->section && !strcmp(k->section, "judge");
	case D_ENDPOINT:
		return k->section && (!strcmp(k->section, "policy") ||
				      !strcmp(k->section, "judge"));
	}
	return false;
}

size_t configdoc_rows_for(const struct config_key_info *k)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		n += row_matches(&docs[i], k);
	return n;
}

size_t configdoc_unused_rows(const char **first)
{
	size_t nkeys = config_key_count(), unused = 0;
	struct config_key_info k;

	*first = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++) {
		bool used = false;

		for (size_t j = 0; j < nkeys && !used; j++) {
			config_key_info(j, &k);
			used = row_matches(&docs[i], &k);
		}
		if (!used && !unused++)
			*first = docs[i].name;
	}
	return unused;
}

static const struct key_doc *find_doc(const struct config_key_info *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(docs); i++)
		if (row_matches(&docs[i], k))
			return &docs[i];
	return NULL;
}

/* Is key k of section sec one both endpoints have? */
static bool in_both(const struct config_key_info *k, size_t *other)
{
	size_t n = config_key_count();
	struct config_key_info o;

	if (!k->section)
		return false;
	for (size_t j = 0; j < n; j++) {
		config_key_info(j, &o);
		if (o.section && strcmp(o.section, k->section) &&
		    !strcmp(o.name, k->name)) {
			*other = j;
			return true;
		}
	}
	return false;
}

/* ---- --example ---- */

/* Words of s as "# " comment lines at indent, `x` printed as x. */
static void comment(FILE *f, int indent, const char *s)
{
	int col = 0;

	while (*s) {
		size_t w = strcspn(s, " ");

		if (col && col + 1 + (int)w > 78) {
			fputc('\n', f);
			col = 0;
		}
		if (!col)
			col = fprintf(f, "%*s#", indent, "");
		fputc(' ', f);
		col++;
		for (size_t i = 0; i < w; i++)
			if (s[i] != '`') {
				fputc(s[i], f);
				col++;
			}
		s += w;
		s += strspn(s, " ");
	}
	if (col)
		fputc('\n', f);
}

int configdoc_example(FILE *f)
{
	size_t n = config_key_count();
	struct config_key_info k;
	struct config c;
	char val[1024], *words;

	config_init(&c);
	fputs("# A caigen run config with every key at its default "
	      "(`caigen config --example`).\n"
	      "# `caigen check FILE` accepts it as printed when run from the "
	      "source tree;\n"
	      "# set prompts, out, the URLs and the models to yours, delete "
	      "what you keep\n"
	      "# at its default. API keys never go here: api_key_env names "
	      "the variable.\n"
	      "# Every key is in `man caigen` (CONFIGURATION).\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct key_doc *d;
		int indent;

		config_key_info(i, &k);
		d = find_doc(&k);
		indent = k.section ? 2 : 0;
		fputc('\n', f);
		words = xasprintf("%s%s%s%s", d ? d->line : "(not described "
				  "yet)", *k.allowed ? " Values: " : "",
				  k.allowed, *k.allowed ? "." : "");
		comment(f, indent, words);
		free(words);
		if (d && d->eg) {
			const char *p = d->eg;

			fprintf(f, "%*s# e.g.%s", indent, "",
				strchr(p, '\n') ? "\n" : "");
			while (*p) {
				size_t len = strcspn(p, "\n");

				fprintf(f, "%s%.*s\n", strchr(d->eg, '\n') ?
					"#   " : " ", (int)len, p);
				p += len + (p[len] == '\n');
			}
		}
		config_key_text(&c, i, val, sizeof(val));
		fprintf(f, "%*s%s:%s%s\n", indent, "", k.name, *val ? " " : "",
			val);
	}
	config_release(&c);
	return ferror(f) ? -1 : 0;
}

/* ---- --man ---- */

/* Text in roff: `x` bold, '-' and '\' escaped, a line never starting
 * with '.' or '\'', lines broken near 72 columns. */
static void roff_text(FILE *f, const char *s)
{
	int col = 0;
	bool bold = false;

	while (*s) {
		size_t w = strcspn(s, " ");

		if (col && col + 1 + (int)w > 72) {
			fputc('\n', f);
			col = 0;
		} else if (col) {
			fputc(' ', f);
			col++;
		}
		if (!col && (*s == '.' || *s == '\''))
			col += fprintf(f, "\\&");
		for (size_t i = 0; i < w; i++) {
			if (s[i] == '`') {
				col += fprintf(f, bold ? "\\fR" : "\\fB");
				bold = !bold;
			} else if (s[i] == '-') {
				col += fprintf(f, "\\-");
			} else if (s[i] == '\\') {
				col += fprintf(f, "\\e");
			} else {
				fputc(s[i], f);
				col++;
			}
		}
		s += w;
		s += strspn(s, " ");
	}
	if (col)
		fputc('\n', f);
}

/* A default in a macro argument: '-', '\' and '"' escaped. */
static void roff_arg(FILE *f, const char *s)
{
	for (; *s; s++)
		if (*s == '-')
			fputs("\\-", f);
		else if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '"')
			fputs("\\(dq", f);
		else
			fputc(*s, f);
}

static void man_entry(FILE *f, const struct config *c, size_t i,
		      const struct config_key_info *k, size_t other)
{
	const struct key_doc *d = find_doc(k);
	char val[1024], oval[1024];

	config_key_text(c, i, val, sizeof(val));
	fputs(k->is_section ? ".TP\n.B " : ".TP\n.BR ", f);
	roff_arg(f, k->name);
	if (k->is_section) {
		fputs(":\n", f);
		goto text;
	}
	fputs(": \" ", f);
	roff_arg(f, val);
	if (other != (size_t)-1) {
		config_key_text(c, other, oval, sizeof(oval));
		if (strcmp(val, oval)) {
			fputc('/', f);
			roff_arg(f, oval);
		}
	}
	fputs("\"\n", f);
text:
	roff_text(f, d ? d->line : "(not described yet)");
	if (d && d->more)
		roff_text(f, d->more);
	if (*k->allowed && strcmp(k->allowed, "true or false")) {
		char *v = xasprintf("Values: %s.", k->allowed);

		roff_text(f, v);
		free(v);
	}
}

/* The entries of one part: top-level keys, keys both endpoints have,
 * policy's own, judge's own. */
static void man_part(FILE *f, const struct config *c, int part)
{
	size_t n = config_key_count(), other;
	struct config_key_info k;

	for (size_t i = 0; i < n; i++) {
		bool both;

		config_key_info(i, &k);
		other = (size_t)-1;
		both = in_both(&k, &other);
		if (part == D_TOP ? k.section != NULL :
		    part == D_ENDPOINT ? !both || strcmp(k.section, "policy") :
		    part == D_POLICY ? both || !k.section ||
				       strcmp(k.section, "policy") :
		    both || !k.section || strcmp(k.section, "judge"))
			continue;
		man_entry(f, c, i, &k, part == D_ENDPOINT ? other : (size_t)-1);
	}
}

int configdoc_man(FILE *f)
{
	struct config c;

	config_init(&c);
	fputs(".\\\" caigen-keys-begin: made by `caigen config --man` from "
	      "the key table;\n"
	      ".\\\" edit src/configdoc.c and run `make man`, not this text.\n"
	      ".SH CONFIGURATION\n", f);
	roff_text(f, "A run config is one YAML mapping. Every key is "
		  "optional; its default follows the key. An unknown key is "
		  "an error that names the closest valid key. Relative paths "
		  "are taken from the current directory, not from the file. "
		  "API keys never go into the file: name the environment "
		  "variable that holds the key with `api_key_env`, or a file "
		  "with `api_key_file`. `caigen config --example` prints "
		  "every key below as a commented YAML file.");
	fputs(".SS Top level\n", f);
	man_part(f, &c, D_TOP);
	fputs(".SS Endpoints: policy and judge\n", f);
	roff_text(f, "Both sections take these keys. Where their defaults "
		  "differ they are shown as policy/judge.");
	man_part(f, &c, D_ENDPOINT);
	fputs(".SS Policy only\n", f);
	man_part(f, &c, D_POLICY);
	fputs(".SS Judge only\n", f);
	man_part(f, &c, D_JUDGE);
	fputs(".\\\" caigen-keys-end\n", f);
	config_release(&c);
	return ferror(f) ? -1 : 0;
}

/* ---- caigen config ---- */

static void usage(FILE *f)
{
	fputs("usage: caigen config --example | --man\n\n"
	      "Print the run config's keys, each with its default and one "
	      "line, from the\nsame table the YAML parser reads.\n\n"
	      "options:\n"
	      "      --example   a complete commented YAML run config, every "
	      "key at its\n"
	      "                  default and uncommented: `caigen check` "
	      "accepts it as\n"
	      "                  printed from the source tree (its default "
	      "prompts and\n"
	      "                  constitution); set prompts, out, the URLs "
	      "and models\n"
	      "                  to yours\n"
	      "  -h, --help      print this help and exit\n"
	      "      --man       the man page's CONFIGURATION section in roff "
	      "(`make man`\n"
	      "                  puts it into caigen.1)\n\n"
	      "Exit status: 0 done, 2 usage error.\n", f);
}

int configdoc_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "example", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "man", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	int c, what = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
		case 'm':
			if (what && what != c) {
				fprintf(stderr, "caigen config: --example and "
					"--man are one or the other\n");
				usage(stderr);
				return 2;
			}
			what = c;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || !what) {
		if (optind < argc)
			fprintf(stderr, "caigen config: unexpected argument "
				"'%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((what == 'e' ? configdoc_example(stdout) : configdoc_man(stdout))
	    || fflush(stdout)) {
		fprintf(stderr, "caigen config: cannot write the output\n");
		return 1;
	}
	return 0;
}
