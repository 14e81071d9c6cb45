/*
 * runbatch.c - an offline batch runner for the tests, in the shape of
 * `vllm run-batch`: it reads OpenAI batch input lines ({"custom_id",
 * "method", "url", "body"}), sends each body to a live server (the fake
 * model server) at the line's url, and writes one result line per input
 * line, in input order, with the errors inline:
 *
 *   {"id":"vllm-N","custom_id":ID,"response":{"status_code":S,
 *    "request_id":"vllm-batch-N","body":REPLY or null},"error":null}
 *
 * A reply that is not JSON gets "body": null and the status; a request
 * that cannot be sent gets "response": null and "error": "message".
 *
 * runbatch --server http://127.0.0.1:PORT -i IN -o OUT [--skip-every N]
 *   --skip-every N  leave out every Nth line's result (1-based), as a
 *                   runner killed midway would.
 * Exit 0, or 2 on a bad argument or an input line that is not a request
 * (vllm run-batch stops there too).
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct reply {
	char *data;
	size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct reply *r = arg;
	char *d = realloc(r->data, r->len + size * n + 1);

	if (!d)
		return 0;
	memcpy(d + r->len, p, size * n);
	r->len += size * n;
	d[r->len] = '\0';
	r->data = d;
	return size * n;
}

static void usage(void)
{
	fputs("usage: runbatch --server URL -i IN -o OUT [--skip-every N]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *server = NULL, *in = NULL, *out = NULL;
	long skip = 0, lineno = 0;
	FILE *fi, *fo;
	char *line = NULL;
	size_t cap = 0;
	CURL *h;
	struct curl_slist *hdr;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--server"))
			server = argv[i + 1];
		else if (!strcmp(argv[i], "-i"))
			in = argv[i + 1];
		else if (!strcmp(argv[i], "-o"))
			out = argv[i + 1];
		else if (!strcmp(argv[i], "--skip-every"))
			skip = atol(argv[i + 1]);
		else
			usage();
	}
	if (!server || !in || !out || argc % 2 == 0)
		usage();
	fi = fopen(in, "r");
	fo = fopen(out, "w");
	if (!fi || !fo) {
		fprintf(stderr, "runbatch: cannot open %s\n", fi ? out : in);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	h = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	while (getline(&line, &cap, fi) > 0) {
		json_error_t je;
		json_t *req = json_loads(line, 0, &je), *res, *body;
		const char *id = json_string_value(json_object_get(req,
								   "custom_id"));
		const char *url = json_string_value(json_object_get(req, "url"));
		struct reply r = { NULL, 0 };
		char *send, *full, *text;
		long status = 0;
		CURLcode cc;

		lineno++;
		if (!id || !url || !json_is_object(json_object_get(req,
								   "body"))) {
			fprintf(stderr, "runbatch: %s:%ld: not a batch request "
				"line\n", in, lineno);
			return 2;
		}
		send = json_dumps(json_object_get(req, "body"), JSON_COMPACT);
		full = malloc(strlen(server) + strlen(url) + 1);
		strcpy(full, server);
		strcat(full, url);
		curl_easy_setopt(h, CURLOPT_URL, full);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, send);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &r);
		cc = curl_easy_perform(h);
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
		body = r.data ? json_loads(r.data, 0, NULL) : NULL;
		if (cc != CURLE_OK)
			res = json_pack("{s:s,s:s,s:n,s:s}", "id", "vllm-x",
					"custom_id", id, "response", "error",
					curl_easy_strerror(cc));
		else
			res = json_pack("{s:s,s:s,s:{s:i,s:s,s:o},s:n}", "id",
					"vllm-x", "custom_id", id, "response",
					"status_code", (int)status,
					"request_id", "vllm-batch-x", "body",
					body ? body : json_null(), "error");
		text = json_dumps(res, JSON_COMPACT);
		if (!skip || lineno % skip)
			fprintf(fo, "%s\n", text);
		free(text);
		json_decref(res);
		json_decref(req);
		free(send);
		free(full);
		free(r.data);
	}
	free(line);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	curl_global_cleanup();
	return fclose(fo) == 0 ? 0 : 2;
}
