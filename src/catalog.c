/*
 * catalog.c - category and technique files (catalog.h), read with
 * libyaml's document API so every node keeps its line and column.
 */
#include "catalog.h"
#include "sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_FILE (8u << 20)

struct ld {
	const char *path;
	yaml_document_t *doc;
	struct err *err;
	struct catalog c;	/* what this file adds */
};

struct fld {
	const char *name;
	yaml_node_t *key, *val;
};

static const char *const gen_names[] = { "category", "instructions",
					 "examples", "count", NULL };
static const char *const per_names[] = { "technique", "definition",
					 "example", "request", NULL };

static int failm(struct ld *l, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failm(struct ld *l, yaml_mark_t m, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err_set(l->err, "%s:%zu:%zu: %s", l->path, m.line + 1,
		       m.column + 1, msg);
}

static const char *sc(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static const char *kind(const yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE ? "a string" :
	       n->type == YAML_SEQUENCE_NODE ? "a list" :
	       n->type == YAML_MAPPING_NODE ? "a mapping" : "nothing";
}

static yaml_node_t *node(struct ld *l, int i)
{
	return yaml_document_get_node(l->doc, i);
}

static int fields(struct ld *l, yaml_node_t *map, const char *what,
		  struct fld *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
		f[i].key = f[i].val = NULL;
	if (map->type != YAML_MAPPING_NODE)
		return failm(l, map->start_mark, "%s must be a mapping, got "
			     "%s", what, kind(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(l, p->key), *v = node(l, p->value);
		const char *best = NULL;
		size_t i, bd = 4;

		if (k->type != YAML_SCALAR_NODE)
			return failm(l, k->start_mark, "keys in %s must be "
				     "strings", what);
		for (i = 0; i < nf && strcmp(sc(k), f[i].name); i++)
			;
		if (i < nf) {
			if (f[i].key)
				return failm(l, k->start_mark, "duplicate key "
					     "'%s' in %s", sc(k), what);
			f[i].key = k;
			f[i].val = v;
			continue;
		}
		for (i = 0; i < nf; i++) {
			size_t d = edit_distance(sc(k), f[i].name);

			if (d < bd) {
				bd = d;
				best = f[i].name;
			}
		}
		if (best)
			return failm(l, k->start_mark, "unknown key '%s' in %s "
				     "(did you mean '%s'?)", sc(k), what,
				     best);
		return failm(l, k->start_mark, "unknown key '%s' in %s",
			     sc(k), what);
	}
	return 0;
}

/* A required (or optional) non-blank string, trimmed. */
static int text(struct ld *l, yaml_node_t *map, const struct fld *f,
		const char *what, bool required, char **out)
{
	const char *s, *e;

	*out = NULL;
	if (!f->val) {
		if (!required)
			return 0;
		return failm(l, map->start_mark, "%s has no '%s'", what,
			     f->name);
	}
	if (f->val->type != YAML_SCALAR_NODE)
		return failm(l, f->val->start_mark, "'%s' in %s must be a "
			     "string, got %s", f->name, what, kind(f->val));
	s = sc(f->val);
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
			 e[-1] == '\r'))
		e--;
	if (e == s)
		return failm(l, f->val->start_mark, "'%s' in %s is empty",
			     f->name, what);
	*out = xstrndup(s, (size_t)(e - s));
	return 0;
}

static bool id_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static char *where(struct ld *l, yaml_node_t *n)
{
	return xasprintf("%s:%zu:%zu", l->path, n->start_mark.line + 1,
			 n->start_mark.column + 1);
}

/* An id, checked for shape and against ids already loaded. */
static int read_id(struct ld *l, yaml_node_t *item, struct fld *f,
		   const struct catalog *before, bool tech, char **out)
{
	if (text(l, item, f, tech ? "a technique" : "a category", true,
		 out) < 0)
		return -1;
	if (!id_ok(*out)) {
		failm(l, f->val->start_mark, "id '%s' may hold only a-z, 0-9, "
		      "'-', '_' and '.'", *out);
		goto bad;
	}
	if (tech ? (catalog_technique(before, *out) ||
		    catalog_technique(&l->c, *out))
		 : (catalog_category(before, *out) ||
		    catalog_category(&l->c, *out))) {
		failm(l, f->val->start_mark, "repeated %s id '%s'",
		      tech ? "technique" : "category", *out);
		goto bad;
	}
	return 0;
bad:
	free(*out);
	*out = NULL;
	return -1;
}

static int read_categories(struct ld *l, yaml_node_t *seq,
			   const struct catalog *before)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return failm(l, seq->start_mark, "'categories' must be a list, "
			     "got %s", kind(seq));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(l, *it);
		struct fld f[] = { { "id", 0, 0 }, { "kind", 0, 0 },
				   { "title", 0, 0 }, { "instructions", 0, 0 },
				   { "seeds", 0, 0 } };
		struct category c = { 0 };

		if (fields(l, m, "a category", f, ARRAY_SIZE(f)) < 0 ||
		    read_id(l, m, &f[0], before, false, &c.id) < 0)
			return -1;
		c.where = where(l, f[0].val);
		l->c.cat = xrealloc(l->c.cat, (l->c.ncat + 1) * sizeof(c));
		l->c.cat[l->c.ncat++] = c;
		if (text(l, m, &f[1], "a category", true,
			 &l->c.cat[l->c.ncat - 1].kind) < 0 ||
		    text(l, m, &f[2], "a category", true,
			 &l->c.cat[l->c.ncat - 1].title) < 0 ||
		    text(l, m, &f[3], "a category", true,
			 &l->c.cat[l->c.ncat - 1].instructions) < 0)
			return -1;
		if (strcmp(l->c.cat[l->c.ncat - 1].kind, "harm") &&
		    strcmp(l->c.cat[l->c.ncat - 1].kind, "helpful"))
			return failm(l, f[1].val->start_mark, "kind must be "
				     "'harm' or 'helpful', got '%s'",
				     l->c.cat[l->c.ncat - 1].kind);
		if (f[4].val) {
			struct category *cc = &l->c.cat[l->c.ncat - 1];
			yaml_node_t *s = f[4].val;

			if (s->type != YAML_SEQUENCE_NODE)
				return failm(l, s->start_mark, "'seeds' must "
					     "be a list of strings, got %s",
					     kind(s));
			for (yaml_node_item_t *j = s->data.sequence.items.start;
			     j < s->data.sequence.items.top; j++) {
				yaml_node_t *v = node(l, *j);
				struct fld sf = { "seed", 0, v };
				char *t;

				if (text(l, s, &sf, "'seeds'", true, &t) < 0)
					return -1;
				cc->seeds = xrealloc(cc->seeds,
						     (cc->nseeds + 1) *
						     sizeof(char *));
				cc->seeds[cc->nseeds++] = t;
			}
		}
	}
	return 0;
}

static int read_techniques(struct ld *l, yaml_node_t *seq,
			   const struct catalog *before)
{
	if (seq->type != YAML_SEQUENCE_NODE)
		return failm(l, seq->start_mark, "'techniques' must be a list, "
			     "got %s", kind(seq));
	for (yaml_node_item_t *it = seq->data.sequence.items.start;
	     it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = node(l, *it);
		struct fld f[] = { { "id", 0, 0 }, { "title", 0, 0 },
				   { "definition", 0, 0 },
				   { "example", 0, 0 } };
		struct technique t = { 0 };

		if (fields(l, m, "a technique", f, ARRAY_SIZE(f)) < 0 ||
		    read_id(l, m, &f[0], before, true, &t.id) < 0)
			return -1;
		t.where = where(l, f[0].val);
		l->c.tech = xrealloc(l->c.tech, (l->c.ntech + 1) * sizeof(t));
		l->c.tech[l->c.ntech++] = t;
		if (text(l, m, &f[1], "a technique", true,
			 &l->c.tech[l->c.ntech - 1].title) < 0 ||
		    text(l, m, &f[2], "a technique", true,
			 &l->c.tech[l->c.ntech - 1].definition) < 0 ||
		    text(l, m, &f[3], "a technique", true,
			 &l->c.tech[l->c.ntech - 1].example) < 0)
			return -1;
	}
	return 0;
}

int catalog_check_template(const char *t, const char *const *allowed,
			   struct err *err)
{
	for (const char *p = t; *p; p++) {
		const char *e;
		size_t i;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		if (*p == '}')
			return err_set(err, "a lone '}' (write '}}' for a "
				       "brace)");
		if (*p != '{')
			continue;
		e = strchr(p, '}');
		if (!e)
			return err_set(err, "a '{' without its '}'");
		for (i = 0; allowed[i]; i++)
			if (strlen(allowed[i]) == (size_t)(e - p - 1) &&
			    !strncmp(allowed[i], p + 1, (size_t)(e - p - 1)))
				break;
		if (!allowed[i])
			return err_set(err, "unknown placeholder '{%.*s}'",
				       (int)(e - p - 1), p + 1);
		p = e;
	}
	return 0;
}

char *catalog_fill(const char *t, const char *const *names,
		   const char *const *vals)
{
	size_t cap = strlen(t) + 64, n = 0;
	char *out = xmalloc(cap);

	for (const char *p = t; *p; p++) {
		const char *add = p;
		size_t len = 1;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			p++;
		} else if (*p == '{' && strchr(p, '}')) {
			const char *e = strchr(p, '}');

			for (size_t i = 0; names[i]; i++)
				if (strlen(names[i]) == (size_t)(e - p - 1) &&
				    !strncmp(names[i], p + 1,
					     (size_t)(e - p - 1))) {
					add = vals[i];
					len = strlen(vals[i]);
					p = e;
					break;
				}
		}
		if (n + len + 1 > cap) {
			cap = (n + len + 1) * 2;
			out = xrealloc(out, cap);
		}
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = 0;
	return out;
}

static int read_templates(struct ld *l, yaml_node_t *m)
{
	struct fld f[] = { { "generate", 0, 0 }, { "persuade", 0, 0 } };
	char **dst[] = { &l->c.generate_tpl, &l->c.persuade_tpl };
	const char *const *allowed[] = { gen_names, per_names };

	if (fields(l, m, "'templates'", f, ARRAY_SIZE(f)) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(f); i++) {
		struct err e;

		if (!f[i].val)
			continue;
		if (text(l, m, &f[i], "'templates'", true, dst[i]) < 0)
			return -1;
		if (catalog_check_template(*dst[i], allowed[i], &e) < 0)
			return failm(l, f[i].val->start_mark, "template "
				     "'%s': %s", f[i].name, e.msg);
	}
	return 0;
}

static void cat_free(struct category *c)
{
	free(c->id);
	free(c->kind);
	free(c->title);
	free(c->instructions);
	for (size_t i = 0; i < c->nseeds; i++)
		free(c->seeds[i]);
	free(c->seeds);
	free(c->where);
}

static void tech_free(struct technique *t)
{
	free(t->id);
	free(t->title);
	free(t->definition);
	free(t->example);
	free(t->where);
}

void catalog_release(struct catalog *c)
{
	for (size_t i = 0; i < c->ncat; i++)
		cat_free(&c->cat[i]);
	for (size_t i = 0; i < c->ntech; i++)
		tech_free(&c->tech[i]);
	free(c->cat);
	free(c->tech);
	free(c->generate_tpl);
	free(c->persuade_tpl);
	for (size_t i = 0; i < c->nsources; i++)
		free(c->sources[i]);
	free(c->sources);
	memset(c, 0, sizeof(*c));
}

const struct category *catalog_category(const struct catalog *c,
					const char *id)
{
	for (size_t i = 0; i < c->ncat; i++)
		if (c->cat[i].id && !strcmp(c->cat[i].id, id))
			return &c->cat[i];
	return NULL;
}

const struct technique *catalog_technique(const struct catalog *c,
					  const char *id)
{
	for (size_t i = 0; i < c->ntech; i++)
		if (c->tech[i].id && !strcmp(c->tech[i].id, id))
			return &c->tech[i];
	return NULL;
}

static int slurp(const char *path, char **out, size_t *len, struct err *err)
{
	FILE *f = fopen(path, "rb");
	size_t n = 0, cap = 8192;
	char *d;

	if (!f)
		return err_set(err, "cannot open '%s': %s", path,
			       strerror(errno));
	d = xmalloc(cap + 1);
	for (;;) {
		size_t got = fread(d + n, 1, cap - n, f);

		n += got;
		if (n > MAX_FILE) {
			fclose(f);
			free(d);
			return err_set(err, "cannot read '%s': larger than "
				       "%u MiB", path, MAX_FILE >> 20);
		}
		if (n == cap) {
			cap *= 2;
			d = xrealloc(d, cap + 1);
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(d);
		return err_set(err, "cannot read '%s': %s", path,
			       strerror(errno));
	}
	fclose(f);
	d[n] = 0;
	*out = d;
	*len = n;
	return 0;
}

static int read_root(struct ld *l, yaml_node_t *root,
		     const struct catalog *before, char **name)
{
	struct fld f[] = { { "name", 0, 0 }, { "version", 0, 0 },
			   { "categories", 0, 0 }, { "techniques", 0, 0 },
			   { "templates", 0, 0 } };

	if (fields(l, root, "the file", f, ARRAY_SIZE(f)) < 0 ||
	    text(l, root, &f[0], "the file", true, name) < 0)
		return -1;
	if (f[1].val) {
		char *end;
		long v;

		errno = 0;
		v = f[1].val->type == YAML_SCALAR_NODE ?
		    strtol(sc(f[1].val), &end, 10) : 0;
		if (f[1].val->type != YAML_SCALAR_NODE || errno || *end ||
		    v < 1)
			return failm(l, f[1].val->start_mark, "version must "
				     "be a positive integer");
	}
	if (!f[2].val && !f[3].val)
		return failm(l, root->start_mark, "the file has neither "
			     "'categories' nor 'techniques'");
	if (f[2].val && read_categories(l, f[2].val, before) < 0)
		return -1;
	if (f[3].val && read_techniques(l, f[3].val, before) < 0)
		return -1;
	if (f[4].val && read_templates(l, f[4].val) < 0)
		return -1;
	return 0;
}

int catalog_load(struct catalog *c, const char *path, struct err *err)
{
	struct ld l = { path, NULL, err, { 0 } };
	yaml_parser_t ps;
	yaml_document_t doc;
	yaml_node_t *root;
	char *raw = NULL, *name = NULL, hex[65];
	size_t n = 0;
	int rc = -1;

	if (slurp(path, &raw, &n, err) < 0)
		return -1;
	if (!yaml_parser_initialize(&ps)) {
		free(raw);
		return err_set(err, "cannot start the YAML parser");
	}
	yaml_parser_set_input_string(&ps, (const unsigned char *)raw, n);
	if (!yaml_parser_load(&ps, &doc)) {
		err_set(err, "%s:%zu:%zu: %s", path, ps.problem_mark.line + 1,
			ps.problem_mark.column + 1,
			ps.problem ? ps.problem : "invalid YAML");
		yaml_parser_delete(&ps);
		free(raw);
		return -1;
	}
	l.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		err_set(err, "%s:1:1: the file is empty", path);
		goto out;
	}
	if (read_root(&l, root, c, &name) < 0)
		goto out;
	/* adopt */
	c->cat = xrealloc(c->cat, (c->ncat + l.c.ncat + 1) * sizeof(*c->cat));
	if (l.c.ncat)
		memcpy(c->cat + c->ncat, l.c.cat, l.c.ncat * sizeof(*c->cat));
	c->ncat += l.c.ncat;
	c->tech = xrealloc(c->tech,
			   (c->ntech + l.c.ntech + 1) * sizeof(*c->tech));
	if (l.c.ntech)
		memcpy(c->tech + c->ntech, l.c.tech, l.c.ntech * sizeof(*c->tech));
	c->ntech += l.c.ntech;
	if (l.c.generate_tpl) {
		free(c->generate_tpl);
		c->generate_tpl = l.c.generate_tpl;
	}
	if (l.c.persuade_tpl) {
		free(c->persuade_tpl);
		c->persuade_tpl = l.c.persuade_tpl;
	}
	free(l.c.cat);
	free(l.c.tech);
	memset(&l.c, 0, sizeof(l.c));
	sha256_hex(raw, n, hex);
	c->sources = xrealloc(c->sources,
			      (c->nsources + 1) * sizeof(char *));
	c->sources[c->nsources++] = xasprintf("%s@sha256:%s", name, hex);
	rc = 0;
out:
	catalog_release(&l.c);
	free(name);
	yaml_document_delete(&doc);
	yaml_parser_delete(&ps);
	free(raw);
	return rc;
}
