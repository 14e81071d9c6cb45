/* import.c - Anthropic's and Hugging Face's constitution files to YAML. */
#include "import.h"
#include "rng.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLUG_MAX 40

/* A YAML double-quoted scalar: safe for any UTF-8 text. */
static void yaml_quote(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\t')
			fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void hash6(const char *text, char out[7])
{
	snprintf(out, 7, "%06llx", (unsigned long long)
		 (hash64(text, strlen(text)) >> 40));
}

/* Lower-case letters and digits, other runs as one '-'. */
static void slug(const char *s, char *out, size_t n)
{
	size_t k = 0;

	for (; *s && k + 1 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
			out[k++] = (char)c;
		else if (c >= 'A' && c <= 'Z')
			out[k++] = (char)(c - 'A' + 'a');
		else if (k && out[k - 1] != '-')
			out[k++] = '-';
	}
	while (k && out[k - 1] == '-')
		k--;
	out[k] = '\0';
}

/* Ids written so far, to keep them unique. */
struct ids {
	char **v;
	size_t n;
};

static bool ids_has(const struct ids *ids, const char *id)
{
	for (size_t i = 0; i < ids->n; i++)
		if (!strcmp(ids->v[i], id))
			return true;
	return false;
}

static const char *ids_add(struct ids *ids, char *id)
{
	ids->v = xrealloc(ids->v, (ids->n + 1) * sizeof(*ids->v));
	ids->v[ids->n++] = id;
	return id;
}

static void ids_release(struct ids *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		free(ids->v[i]);
	free(ids->v);
}

static void principle_out(FILE *f, const char *id, const char *tag,
			  const char *compare, const char *critique,
			  const char *revise)
{
	fprintf(f, "  - id: %s\n    tags: [%s]\n", id, tag);
	if (compare) {
		fputs("    compare: ", f);
		yaml_quote(f, compare);
		fputc('\n', f);
	}
	if (critique) {
		fputs("    critique: ", f);
		yaml_quote(f, critique);
		fputs("\n    revise: ", f);
		yaml_quote(f, revise);
		fputc('\n', f);
	}
}

static bool blank(const char *s)
{
	return !s || !s[strspn(s, " \t\r\n")];
}

static int anthropic_critiques(json_t *root, const char *path, FILE *f,
			       struct ids *ids, struct err *err)
{
	const char *name;
	json_t *e;

	json_object_foreach(root, name, e) {
		json_t *pr = json_object_get(e, "prompt");
		const char *crit = json_is_array(pr) ?
			json_string_value(json_array_get(pr, 0)) :
			json_string_value(pr);
		const char *rev = json_string_value(json_object_get(
			e, "edit_request"));
		char s[SLUG_MAX + 1], h[7];
		char *id;

		if (blank(crit) || blank(rev))
			return err_set(err, "'%s': entry '%s' needs a "
				       "non-empty 'prompt' list and "
				       "'edit_request'", path, name);
		slug(name, s, sizeof(s));
		hash6(crit, h);
		id = xasprintf("imp-crt-%s", *s ? s : h);
		if (ids_has(ids, id)) {
			free(id);
			id = xasprintf("imp-crt-%s-%s", s, h);
		}
		principle_out(f, ids_add(ids, id), "imported", NULL, crit,
			      rev);
	}
	return 0;
}

static int anthropic_compare(json_t *root, const char *path, FILE *f,
			     struct ids *ids, struct err *err)
{
	size_t i;
	json_t *e;

	json_array_foreach(root, i, e) {
		const char *t = json_string_value(e);
		char h[7];

		if (blank(t))
			return err_set(err, "'%s': item %zu is not a "
				       "non-empty string", path, i + 1);
		hash6(t, h);
		principle_out(f, ids_add(ids, xasprintf("imp-cmp-%02zu-%s",
							i + 1, h)),
			      "imported", t, NULL, NULL);
	}
	return 0;
}

static int hf_constitutions(json_t *root, const char *path, FILE *f,
			    struct ids *ids, struct err *err)
{
	json_t *list = json_object_get(root, "constitutions"), *e;
	size_t i;

	if (!json_is_array(list) || !json_array_size(list))
		return err_set(err, "'%s': expected a non-empty "
			       "'constitutions' list", path);
	json_array_foreach(list, i, e) {
		const char *crit = json_string_value(json_object_get(e,
								     "critic"));
		const char *rev = json_string_value(json_object_get(
			e, "revision"));
		char h[7];

		if (blank(crit) || blank(rev))
			return err_set(err, "'%s': constitutions[%zu] needs "
				       "non-empty 'critic' and 'revision'",
				       path, i);
		hash6(crit, h);
		principle_out(f, ids_add(ids, xasprintf("hf-%02zu-%s", i + 1,
							h)),
			      "imported", NULL, crit, rev);
	}
	return 0;
}

static int hf_fewshot(json_t *root, const char *path, FILE *f,
		      struct err *err)
{
	static const char *const keys[6] = {
		"prompt", "answer", "critique_request", "critique",
		"revision_request", "revision",
	};
	json_t *chats = json_object_get(root, "system_chat"), *dlg;
	size_t i;

	if (!chats || json_is_null(chats))
		return 0;
	if (!json_is_array(chats))
		return err_set(err, "'%s': 'system_chat' must be a list of "
			       "dialogues", path);
	if (json_array_size(chats))
		fputs("fewshot:\n", f);
	json_array_foreach(chats, i, dlg) {
		const char *turn[6];
		size_t j, n = 0;
		json_t *m;

		json_array_foreach(dlg, j, m) {
			const char *role = json_string_value(
				json_object_get(m, "role"));
			const char *text = json_string_value(
				json_object_get(m, "content"));
			const char *want = n % 2 ? "assistant" : "user";

			if (role && !strcmp(role, "system"))
				continue;
			if (n >= 6 || !role || strcmp(role, want) ||
			    blank(text))
				return err_set(err, "'%s': system_chat[%zu] "
					       "must be six non-empty turns, "
					       "user and assistant in turn",
					       path, i);
			turn[n++] = text;
		}
		if (n != 6)
			return err_set(err, "'%s': system_chat[%zu] has %zu "
				       "turns, expected 6 (prompt, answer, "
				       "critique request, critique, revision "
				       "request, revision)", path, i, n);
		for (j = 0; j < 6; j++) {
			fprintf(f, "%s%s: ", j ? "    " : "  - ", keys[j]);
			yaml_quote(f, turn[j]);
			fputc('\n', f);
		}
	}
	return 0;
}

int import_file(enum import_format fmt, const char *path, const char *name,
		FILE *out, struct err *err)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	struct ids ids = { NULL, 0 };
	int rc = -1;

	if (!root)
		return err_set(err, "%s:%d:%d: %s", path, je.line, je.column,
			       je.text);
	fprintf(out, "# imported by 'caigen import %s' from %s\n"
		"name: %s\nversion: 1\nprinciples:\n",
		fmt == IMPORT_HF ? "hf" : "anthropic", path, name);
	if (fmt == IMPORT_HF) {
		if (!json_is_object(root))
			err_set(err, "'%s': expected an object with "
				"'constitutions'", path);
		else if (hf_constitutions(root, path, out, &ids, err) == 0 &&
			 hf_fewshot(root, path, out, err) == 0)
			rc = 0;
	} else if (json_is_object(root) && json_object_size(root)) {
		rc = anthropic_critiques(root, path, out, &ids, err);
	} else if (json_is_array(root) && json_array_size(root)) {
		rc = anthropic_compare(root, path, out, &ids, err);
	} else {
		err_set(err, "'%s': expected the critique set (an object of "
			"{\"prompt\", \"edit_request\"}) or the comparison set "
			"(a list of strings)", path);
	}
	ids_release(&ids);
	json_decref(root);
	return rc;
}

/* NAME from --name or the output's base name, made a valid name. */
static char *pick_name(const char *name, const char *out)
{
	const char *b = name;
	char *s;
	size_t n;

	if (!b && out) {
		b = strrchr(out, '/');
		b = b ? b + 1 : out;
	}
	if (!b || !*b)
		b = "imported";
	s = xstrdup(b);
	n = strlen(s);
	if (!name && n > 5 && !strcmp(s + n - 5, ".yaml"))
		s[n - 5] = '\0';
	for (char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("._-", *p)))
			*p = '-';
	return s;
}

static void usage(FILE *f)
{
	fputs("usage: caigen import anthropic|hf FILE.json [-o OUT.yaml] "
	      "[--name NAME]\n\n"
	      "Convert a published constitution to caigen's YAML:\n"
	      "  anthropic  the critique set ({\"name\": {\"prompt\": [...], "
	      "\"edit_request\": ...}})\n"
	      "             or the comparison set (a list of strings)\n"
	      "  hf         {\"constitutions\": [{\"critic\", \"revision\"}], "
	      "\"system_chat\": [...]}\n"
	      "Ids are stable: importing the same file again gives the same "
	      "ones.\n", f);
}

int import_main(int argc, char **argv)
{
	const char *fmt_s = NULL, *in = NULL, *out = NULL, *name = NULL;
	enum import_format fmt;
	struct err err;
	char *nm, *tmp = NULL;
	FILE *f = stdout;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		} else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) &&
			   i + 1 < argc) {
			out = argv[++i];
		} else if (!strcmp(a, "--name") && i + 1 < argc) {
			name = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "caigen: import: unknown option "
				"'%s'\n", a);
			usage(stderr);
			return 2;
		} else if (!fmt_s) {
			fmt_s = a;
		} else if (!in) {
			in = a;
		} else {
			fprintf(stderr, "caigen: import: unexpected argument "
				"'%s'\n", a);
			return 2;
		}
	}
	if (!fmt_s || !in) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(fmt_s, "anthropic")) {
		fmt = IMPORT_ANTHROPIC;
	} else if (!strcmp(fmt_s, "hf")) {
		fmt = IMPORT_HF;
	} else {
		fprintf(stderr, "caigen: import: unknown format '%s' (use "
			"anthropic or hf)\n", fmt_s);
		return 2;
	}
	nm = pick_name(name, out);
	if (out) {
		tmp = xasprintf("%s.tmp", out);
		f = fopen(tmp, "w");
		if (!f) {
			fprintf(stderr, "caigen: cannot open '%s': %s\n", tmp,
				strerror(errno));
			free(tmp);
			free(nm);
			return 2;
		}
	}
	rc = import_file(fmt, in, nm, f, &err);
	if (rc < 0)
		fprintf(stderr, "caigen: %s\n", err.msg);
	if (out) {
		if (fclose(f) != 0 && rc == 0) {
			fprintf(stderr, "caigen: cannot write '%s': %s\n", tmp,
				strerror(errno));
			rc = -1;
		}
		if (rc == 0 && rename(tmp, out) < 0) {
			fprintf(stderr, "caigen: cannot rename '%s': %s\n",
				tmp, strerror(errno));
			rc = -1;
		}
		if (rc < 0)
			unlink(tmp);
		else
			fprintf(stderr, "caigen: wrote '%s'\n", out);
		free(tmp);
	}
	free(nm);
	return rc < 0 ? 2 : 0;
}
