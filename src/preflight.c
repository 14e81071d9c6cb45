/*
 * preflight.c - one probe per endpoint before the run (preflight.h).
 *
 * It uses its own curl handle rather than struct http: a probe is one
 * attempt, and it needs to tell "could not connect" from "connected but
 * slow", which only curl's own error codes and timings say.
 */
#include "preflight.h"
#include "guard.h"
#include "http.h"
#include "provider.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE_BODY_MAX (1u << 20)
/* A refused key, model or route comes back at once: a POST the server is
 * still working on this long after the GET before it reached the server
 * was accepted (and a slow model does not hold the start of the run).
 * Seconds, on top of the GET's connect time. */
#define PROBE_POST_WAIT 0.25

enum verdict { PASS, PASS_NO_MODELS, FATAL };

struct probe {
	CURL *curl;
	const char *role;	/* "policy", "judge", "policy and judge" */
	const char *field;	/* "policy", "judge": the config section */
	const struct endpoint *ep;
	const struct config *cfg;
	double deadline;
	struct buf body;
	long status;
	char curl_err[CURL_ERROR_SIZE];
	double post_wait;	/* > 0: the POST's time limit (the GET before
				 * it reached the server) */
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct probe *pr = arg;

	if (buf_add(&pr->body, p, size * n) < 0)
		return 0;
	return size * n;
}

/* Server text may quote our request: no key goes further. */
static void redact_keys(const struct config *c, char *s)
{
	http_redact(s, c->policy.api_key);
	http_redact(s, c->judge.api_key);
}

/* One request: GET when body is NULL. Returns the curl code. */
static CURLcode send_probe(struct probe *pr, const char *url,
			   const char *body, size_t len)
{
	struct curl_slist *sl = NULL;
	char *key = provider_key_header(pr->ep->api, pr->ep->api_key);
	const char *fixed = provider_fixed_header(pr->ep->api);
	double left = pr->deadline - now_sec();
	double connect = pr->ep->connect_timeout;
	CURLcode cc;

	if (left < 0.2)
		left = 0.2;
	if (body && pr->post_wait > 0 && left > pr->post_wait)
		left = pr->post_wait;
	if (connect > left)
		connect = left;
	if (key)
		sl = curl_slist_append(sl, key);
	if (fixed)
		sl = curl_slist_append(sl, fixed);
	if (body) {
		sl = curl_slist_append(sl, "Content-Type: application/json");
		sl = curl_slist_append(sl, "Expect:");
	}
	buf_reset(&pr->body);
	pr->status = 0;
	pr->curl_err[0] = '\0';
	curl_easy_reset(pr->curl);
	curl_easy_setopt(pr->curl, CURLOPT_URL, url);
	/* the endpoint's HTTP version and CA, as its requests (http.h) */
	http_setup(pr->curl, pr->ep->http, url, pr->ep->ca_file);
	curl_easy_setopt(pr->curl, CURLOPT_HTTPHEADER, sl);
	curl_easy_setopt(pr->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(pr->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(pr->curl, CURLOPT_WRITEDATA, pr);
	curl_easy_setopt(pr->curl, CURLOPT_ERRORBUFFER, pr->curl_err);
	curl_easy_setopt(pr->curl, CURLOPT_TIMEOUT_MS, (long)(left * 1000));
	curl_easy_setopt(pr->curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(connect * 1000));
	curl_easy_setopt(pr->curl, CURLOPT_USERAGENT,
			 "caigen/" CAIGEN_VERSION);
	if (body) {
		curl_easy_setopt(pr->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(pr->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(pr->curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	}
	cc = curl_easy_perform(pr->curl);
	if (cc == CURLE_OK)
		curl_easy_getinfo(pr->curl, CURLINFO_RESPONSE_CODE,
				  &pr->status);
	/* the server may have echoed the key: out before any use */
	redact_keys(pr->cfg, pr->body.data);
	curl_slist_free_all(sl);
	provider_free_secret(key);
	return cc;
}

/* Did the TCP connection (and TLS) come up before the failure? */
static bool connected(struct probe *pr)
{
	curl_off_t t = 0;

	curl_easy_getinfo(pr->curl, CURLINFO_CONNECT_TIME_T, &t);
	return t > 0;
}

static int fail(struct probe *pr, const char *url, struct err *err,
		const char *what, const char *fix)
{
	err_set(err, "%s endpoint %s: %s: %s", pr->role, url, what, fix);
	redact_keys(pr->cfg, err->msg);
	err_mask_urls(err);
	return FATAL;
}

static int transport_error(struct probe *pr, const char *base,
			   CURLcode cc, struct err *err)
{
	char what[400], fix[200];
	long os_err = 0;

	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		snprintf(what, sizeof(what), "cannot resolve the host name");
		snprintf(fix, sizeof(fix), "is %s.base_url right?",
			 pr->field);
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		snprintf(what, sizeof(what), "not a usable URL (%s)",
			 curl_easy_strerror(cc));
		snprintf(fix, sizeof(fix), "%s.base_url should look like "
			 "http://HOST:PORT/v1", pr->field);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		/* the server answered TLS with a certificate we do not trust */
		snprintf(what, sizeof(what), "TLS failed (%s)",
			 pr->curl_err[0] ? pr->curl_err :
			 curl_easy_strerror(cc));
		snprintf(fix, sizeof(fix), "if its certificate comes from a "
			 "private CA, name that CA's PEM file as %s.ca_file",
			 pr->field);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		snprintf(what, sizeof(what), "TLS failed (%s)",
			 pr->curl_err[0] ? pr->curl_err :
			 curl_easy_strerror(cc));
		snprintf(fix, sizeof(fix), "is it http:// rather than "
			 "https:// in %s.base_url?", pr->field);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (connected(pr))
			return PASS;	/* there, but slow: the run copes */
		snprintf(what, sizeof(what), "cannot connect (no answer "
			 "within %.1f s)", PREFLIGHT_SECONDS);
		snprintf(fix, sizeof(fix), "is the server running, reachable "
			 "from here, and is %s.base_url right?", pr->field);
		break;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(pr->curl, CURLINFO_OS_ERRNO, &os_err);
		if (os_err == ECONNREFUSED)
			snprintf(what, sizeof(what), "cannot connect "
				 "(connection refused)");
		else if (os_err)
			snprintf(what, sizeof(what), "cannot connect (%s)",
				 strerror((int)os_err));
		else
			snprintf(what, sizeof(what), "cannot connect (%s)",
				 pr->curl_err[0] ? pr->curl_err :
				 curl_easy_strerror(cc));
		snprintf(fix, sizeof(fix), "is the server running and is "
			 "%s.base_url right?", pr->field);
		break;
	default:
		if (connected(pr))
			return PASS;	/* it answered something */
		snprintf(what, sizeof(what), "cannot connect (%s)",
			 pr->curl_err[0] ? pr->curl_err :
			 curl_easy_strerror(cc));
		snprintf(fix, sizeof(fix), "is the server running and is "
			 "%s.base_url right?", pr->field);
		break;
	}
	return fail(pr, base, err, what, fix);
}

void preflight_advice(const struct endpoint *ep, const char *field,
		      long status, char *out, size_t n)
{
	if (status == 404)
		snprintf(out, n, "is %s.base_url right (it usually ends in "
			 "/v1) and is %s.model '%s' served there?", field,
			 field, ep->model);
	else if (status == 429)
		snprintf(out, n, "the account behind the %s key is out of "
			 "credit: top it up or use another key", field);
	else if (status == 400)
		snprintf(out, n, "is %s.model '%s' served there?", field,
			 ep->model);
	else if (!ep->api_key)
		snprintf(out, n, "the server wants a key: set $%s (the "
			 "variable %s.api_key_env names) or %s.api_key_file",
			 ep->api_key_env ? ep->api_key_env : "OPENAI_API_KEY",
			 field, field);
	else if (ep->api_key_file)
		snprintf(out, n, "check the key in '%s' (%s.api_key_file)",
			 ep->api_key_file, field);
	else
		snprintf(out, n, "check the key in $%s (%s.api_key_env)",
			 ep->api_key_env ? ep->api_key_env : "?", field);
}

/* A status from the server: PASS, PASS_NO_MODELS (404 on /models), or
 * FATAL with err. On /models only a refused key and a missing path are
 * fatal; on the API path every refusal no retry mends (guard.h) is. 429,
 * 5xx and the like mean the server is there, and the run retries them. */
static int judge_status(struct probe *pr, const char *base, bool models,
			struct err *err)
{
	char msg[300], what[420], fix[240];

	if (pr->status == 404 && models)
		return PASS_NO_MODELS;
	if (models ? pr->status != 401 && pr->status != 403 &&
		     pr->status != 404 :
		     !guard_unmendable(pr->status, pr->body.data))
		return PASS;
	http_error_message(pr->body.data, msg, sizeof(msg));
	if (msg[0])
		snprintf(what, sizeof(what), "HTTP %ld (%s)", pr->status, msg);
	else
		snprintf(what, sizeof(what), "HTTP %ld", pr->status);
	preflight_advice(pr->ep, pr->field, pr->status, fix, sizeof(fix));
	return fail(pr, base, err, what, fix);
}

/* The tiny request: one token from the endpoint's own API. */
static int probe_api(struct probe *pr, const char *base, struct err *err)
{
	json_t *msgs = json_pack("[{s:s,s:s}]", "role", "user", "content",
				 "ping");
	struct chat_params cp = {
		.model = pr->ep->model,
		.messages = msgs,
		.temperature = 0,
		.top_p = 1,
		.max_tokens = 1,
		.n = 1,
		.api = pr->ep->api,
	};
	char *url = provider_url(base, pr->ep->api);
	size_t len;
	char *body = provider_body(&cp, &len);
	CURLcode cc = send_probe(pr, url, body, len);
	/* no verdict within the short wait: the server took the request */
	int v = cc == CURLE_OPERATION_TIMEDOUT && pr->post_wait > 0 ? PASS :
		cc != CURLE_OK ? transport_error(pr, base, cc, err) :
		judge_status(pr, base, false, err);

	free(body);
	free(url);
	json_decref(msgs);
	return v;
}

static int probe_url(struct probe *pr, const char *base, struct err *err)
{
	char *url = xasprintf("%s/models", base);
	CURLcode cc = send_probe(pr, url, NULL, 0);
	int v;

	free(url);
	if (cc != CURLE_OK)
		return transport_error(pr, base, cc, err);
	v = judge_status(pr, base, true, err);
	/* /models answers without a key on some servers (llama-server
	 * --api-key): only a real request tells a refused key, model or
	 * route; the server is known to answer, so it need not be waited
	 * for long */
	if (v != FATAL) {
		curl_off_t conn = 0;

		curl_easy_getinfo(pr->curl, CURLINFO_CONNECT_TIME_T, &conn);
		pr->post_wait = PROBE_POST_WAIT + 2 * (double)conn / 1e6;
		v = probe_api(pr, base, err);
		pr->post_wait = 0;
	}
	return v;
}

/* One role: every configured server URL; the role passes if one does,
 * but a refused key anywhere is fatal. The first problem is reported. */
static int probe_endpoint(struct probe *pr, struct err *err)
{
	const struct endpoint *ep = pr->ep;
	size_t n = ep->nbase_urls ? ep->nbase_urls : 1;
	bool passed = false, failed = false;
	struct err e;

	for (size_t i = 0; i < n; i++) {
		const char *base = ep->nbase_urls ? ep->base_urls[i] :
				   ep->base_url;

		if (probe_url(pr, base, &e) == PASS) {
			passed = true;
			continue;
		}
		if (!failed)
			*err = e;
		failed = true;
		if (pr->status == 401 || pr->status == 403) {
			*err = e;
			return -1;
		}
	}
	return passed ? 0 : -1;
}

static bool same_endpoint(const struct endpoint *a, const struct endpoint *b)
{
	return !a->nbase_urls && !b->nbase_urls && a->api == b->api &&
	       strcmp(a->base_url, b->base_url) == 0 &&
	       ((!a->api_key && !b->api_key) || (a->api_key && b->api_key &&
		strcmp(a->api_key, b->api_key) == 0));
}

int preflight_run(const struct config *c, struct err *err)
{
	struct probe pr;
	/* policy concurrency 0: no policy stage (caigen label) */
	bool no_policy = c->policy.concurrency == 0;
	/* mode critiques calls no judge: it is not probed */
	bool no_judge = c->mode == MODE_CRITIQUES;
	bool shared = !no_policy && !no_judge &&
		      same_endpoint(&c->policy, &c->judge);
	int rc = 0;

	memset(&pr, 0, sizeof(pr));
	pr.curl = curl_easy_init();
	if (!pr.curl)
		return err_set(err, "curl_easy_init failed");
	buf_init(&pr.body, PROBE_BODY_MAX);
	pr.cfg = c;
	pr.deadline = now_sec() + PREFLIGHT_SECONDS;
	for (int role = 0; role < 2 && rc == 0; role++) {
		if (role == 1 && shared) {
			/* one server: its other model still gets its POST */
			if (strcmp(c->policy.model, c->judge.model) == 0)
				break;
			pr.ep = &c->judge;
			pr.field = pr.role = "judge";
			pr.post_wait = PROBE_POST_WAIT + 0.1;
			if (probe_api(&pr, c->judge.base_url, err) == FATAL)
				rc = -1;
			break;
		}
		if (role == 0 && no_policy)
			continue;
		if (role == 1 && no_judge)
			break;
		pr.ep = role ? &c->judge : &c->policy;
		pr.field = role ? "judge" : "policy";
		pr.role = shared ? "policy and judge" : pr.field;
		rc = probe_endpoint(&pr, err);
	}
	/* a judge panel (config.h): each other member's endpoint too */
	for (size_t m = 0; m < c->nmembers && rc == 0; m++) {
		char name[32];

		snprintf(name, sizeof(name), "judge[%zu]", m + 1);
		pr.ep = &c->member_views[m]->judge;
		pr.field = pr.role = name;
		pr.post_wait = 0;
		rc = probe_endpoint(&pr, err);
	}
	buf_release(&pr.body);
	curl_easy_cleanup(pr.curl);
	return rc;
}
