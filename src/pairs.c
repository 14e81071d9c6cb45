/*
 * pairs.c - streaming reader of existing preference pairs (pairs.h).
 *
 * A line is read into a buffer of at most max_line bytes (the rest of a
 * longer line is skipped byte by byte, so memory stays bounded), parsed
 * with jansson, and handed to the parser of its format. Each format parser
 * produces the prompt as a message list and the two replies as strings;
 * the prompt's text form is kept when the input gave one.
 */
#include "pairs.h"
#include "rng.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE_DEFAULT (1u << 20)
#define HH_HUMAN "\n\nHuman:"
#define HH_ASSISTANT "\n\nAssistant:"

struct pairs {
	FILE *f;
	bool is_stdin;
	enum pairs_format format;
	size_t max_line;
	char *line;		/* max_line + 1 bytes */
	struct idset ids;
	struct pairs_stats st;
};

static const char *const format_names[PAIRS_NFORMATS] = {
	"auto", "trl", "hh-rlhf", "ultrafeedback", "caigen", "hhh",
	"mt-bench",
};

const char *pairs_format_name(enum pairs_format f)
{
	return f >= 0 && f < PAIRS_NFORMATS ? format_names[f] : "?";
}

int pairs_format_parse(const char *name)
{
	for (int i = 0; i < PAIRS_NFORMATS; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

/* ---- building blocks ------------------------------------------------ */

static json_t *turn(const char *role, const char *text, size_t n)
{
	return json_pack("{s:s,s:s%}", "role", role, "content", text, n);
}

/* A list of {role, content} with string contents and known roles. */
static bool is_messages(json_t *v)
{
	size_t i;
	json_t *m;

	if (!json_is_array(v) || !json_array_size(v))
		return false;
	json_array_foreach(v, i, m) {
		const char *role = json_string_value(json_object_get(m,
								     "role"));

		if (!json_is_object(m) || !role ||
		    !json_is_string(json_object_get(m, "content")))
			return false;
		if (strcmp(role, "user") && strcmp(role, "assistant") &&
		    strcmp(role, "system"))
			return false;
	}
	return true;
}

static const char *role_of(json_t *m)
{
	return json_string_value(json_object_get(m, "role"));
}

static const char *content_of(json_t *m)
{
	return json_string_value(json_object_get(m, "content"));
}

/* The last message's content when it is one assistant reply, else NULL. */
static const char *last_reply(json_t *list, size_t from)
{
	size_t n = json_array_size(list);
	json_t *m;

	if (n != from + 1)
		return NULL;
	m = json_array_get(list, from);
	if (strcmp(role_of(m), "assistant"))
		return NULL;
	return content_of(m);
}

static int set_prompt_messages(struct pair *p, json_t *msgs, size_t n,
			       struct err *err)
{
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append(out, json_array_get(msgs, i));
	if (!n || strcmp(role_of(json_array_get(out, n - 1)), "user")) {
		json_decref(out);
		return err_set(err, "the prompt does not end with a user turn");
	}
	p->messages = out;
	return 0;
}

static void set_prompt_text(struct pair *p, const char *text, size_t n)
{
	p->text = xstrndup(text, n);
	p->messages = json_pack("[o]", turn("user", p->text, n));
}

/* Split "\n\nHuman: ...\n\nAssistant: ...\n\nHuman: ..." into turns. */
static int hh_turns(const char *s, size_t n, struct pair *p, struct err *err)
{
	json_t *out = json_array();
	const char *end = s + n;
	int rc = 0;

	while (s < end) {
		bool human = !strncmp(s, HH_HUMAN, strlen(HH_HUMAN));
		const char *body, *next, *h, *a;

		if (!human && strncmp(s, HH_ASSISTANT, strlen(HH_ASSISTANT))) {
			rc = err_set(err, "a transcript turn does not start "
				     "with '\\n\\nHuman:' or "
				     "'\\n\\nAssistant:'");
			goto out;
		}
		body = s + strlen(human ? HH_HUMAN : HH_ASSISTANT);
		if (body < end && *body == ' ')
			body++;
		h = memmem(body, (size_t)(end - body), HH_HUMAN,
			   strlen(HH_HUMAN));
		a = memmem(body, (size_t)(end - body), HH_ASSISTANT,
			   strlen(HH_ASSISTANT));
		next = !h ? (a ? a : end) : !a ? h : h < a ? h : a;
		json_array_append_new(out, turn(human ? "user" : "assistant",
						body, (size_t)(next - body)));
		s = next;
	}
	if (!json_array_size(out) ||
	    strcmp(role_of(json_array_get(out, json_array_size(out) - 1)),
		   "user")) {
		rc = err_set(err, "the transcript's prompt does not end with "
			     "a Human turn");
		goto out;
	}
	p->messages = out;
	out = NULL;
out:
	json_decref(out);
	return rc;
}

/* Two hh-style transcripts sharing everything up to the last
 * "\n\nAssistant:": the prompt turns and the two final answers. */
static int parse_hh(const char *a, const char *b, struct pair *p,
		    struct err *err)
{
	size_t la = strlen(a), lb = strlen(b), k = 0;
	const char *cut = NULL, *ra, *rb;

	while (k < la && k < lb && a[k] == b[k])
		k++;
	/* the last "\n\nAssistant:" that starts within the common part */
	for (const char *s = a; (s = strstr(s, HH_ASSISTANT)) &&
	     (size_t)(s - a) < k + 1; s++)
		if (!strncmp(b + (s - a), HH_ASSISTANT, strlen(HH_ASSISTANT)))
			cut = s;
	if (strncmp(a, HH_HUMAN, strlen(HH_HUMAN)) || !cut)
		return err_set(err, "no common prompt ending in "
			       "'\\n\\nAssistant:'");
	ra = cut + strlen(HH_ASSISTANT);
	rb = b + (ra - a);
	if (*ra == ' ')
		ra++;
	if (*rb == ' ')
		rb++;
	if (strstr(ra, HH_HUMAN) || strstr(rb, HH_HUMAN))
		return err_set(err, "the replies differ before the last "
			       "Assistant turn");
	if (hh_turns(a, (size_t)(cut - a), p, err) < 0)
		return -1;
	p->resp[0] = xstrdup(ra);
	p->resp[1] = xstrdup(rb);
	return 0;
}

/* TRL's extract_prompt for strings: the common prefix; one that ends in
 * a space leaves the space to the replies. */
static int parse_implicit_text(const char *a, const char *b, struct pair *p,
			       struct err *err)
{
	size_t k = 0;

	while (a[k] && a[k] == b[k])
		k++;
	if (k && a[k - 1] == ' ')
		k--;
	/* do not cut a UTF-8 sequence */
	while (k && ((unsigned char)a[k] & 0xC0) == 0x80)
		k--;
	if (!k)
		return err_set(err, "no common prompt in 'chosen' and "
			       "'rejected' (implicit prompt)");
	set_prompt_text(p, a, k);
	p->resp[0] = xstrdup(a + k);
	p->resp[1] = xstrdup(b + k);
	return 0;
}

/* Conversational, implicit: the common messages are the prompt and each
 * list ends in one assistant reply. */
static int parse_implicit_msgs(json_t *a, json_t *b, struct pair *p,
			       struct err *err)
{
	size_t k = 0, na = json_array_size(a), nb = json_array_size(b);
	const char *ra, *rb;

	while (k < na && k < nb && json_equal(json_array_get(a, k),
					      json_array_get(b, k)))
		k++;
	if (k == na || k == nb)
		return err_set(err, "'chosen' and 'rejected' hold the same "
			       "conversation");
	ra = last_reply(a, k);
	rb = last_reply(b, k);
	if (!ra || !rb)
		return err_set(err, "'chosen' and 'rejected' must each end in "
			       "one assistant reply after the common prompt");
	if (set_prompt_messages(p, a, k, err) < 0)
		return -1;
	p->resp[0] = xstrdup(ra);
	p->resp[1] = xstrdup(rb);
	return 0;
}

/* One reply given as a string or as an assistant message list. */
static const char *reply_of(json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (is_messages(v))
		return last_reply(v, json_array_size(v) - 1);
	return NULL;
}

static int parse_explicit(json_t *prompt, json_t *c, json_t *r,
			  struct pair *p, struct err *err)
{
	const char *a = reply_of(c), *b = reply_of(r);

	if (!a || !b)
		return err_set(err, "'%s' is not a string or a list ending in "
			       "one assistant message", a ? "rejected" :
			       "chosen");
	if (json_is_string(prompt)) {
		set_prompt_text(p, json_string_value(prompt),
				json_string_length(prompt));
	} else if (is_messages(prompt)) {
		if (set_prompt_messages(p, prompt, json_array_size(prompt),
					err) < 0)
			return -1;
	} else {
		return err_set(err, "'prompt' is not a string or message list");
	}
	p->resp[0] = xstrdup(a);
	p->resp[1] = xstrdup(b);
	return 0;
}

static int parse_chosen_rejected(json_t *o, struct pair *p, struct err *err)
{
	json_t *c = json_object_get(o, "chosen");
	json_t *r = json_object_get(o, "rejected");
	json_t *prompt = json_object_get(o, "prompt");

	p->label = PAIR_FIRST;
	if (!c || !r)
		return err_set(err, "missing '%s'", c ? "rejected" : "chosen");
	if (p->format == PAIRS_HH) {
		if (!json_is_string(c) || !json_is_string(r))
			return err_set(err, "hh-rlhf 'chosen' and 'rejected' "
				       "must be strings");
		return parse_hh(json_string_value(c), json_string_value(r), p,
				err);
	}
	if (p->format == PAIRS_ULTRAFEEDBACK) {
		json_t *sc = json_object_get(o, "score_chosen");
		json_t *sr = json_object_get(o, "score_rejected");

		if ((sc && !json_is_number(sc) && !json_is_null(sc)) ||
		    (sr && !json_is_number(sr) && !json_is_null(sr)))
			return err_set(err, "'%s' must be a number",
				       sc && !json_is_number(sc) &&
				       !json_is_null(sc) ? "score_chosen" :
				       "score_rejected");
		if (json_is_number(sc) && json_is_number(sr) &&
		    json_number_value(sc) == json_number_value(sr))
			p->label = PAIR_TIE;
		/* its lists carry the user turn: the prompt is in them */
		if (is_messages(c) && is_messages(r))
			return parse_implicit_msgs(c, r, p, err);
	}
	/* a conversational prompt with full lists: TRL's implicit shape */
	if (is_messages(c) && is_messages(r) &&
	    (!prompt || json_array_size(c) > 1))
		return parse_implicit_msgs(c, r, p, err);
	if (prompt)
		return parse_explicit(prompt, c, r, p, err);
	if (json_is_string(c) && json_is_string(r))
		return parse_implicit_text(json_string_value(c),
					   json_string_value(r), p, err);
	return err_set(err, "'chosen' and 'rejected' must both be strings or "
		       "both message lists");
}

/* The label of a caigen record's pair from "reference".preferred (an
 * index into responses[], null for a tie) or else from "chosen_index":
 * which of the two replies taken (indexes first, second) it names. */
static int caigen_label(json_t *o, json_int_t first, json_int_t second,
			struct pair *p, struct err *err)
{
	json_t *ref = json_object_get(o, "reference");
	json_t *ci = json_object_get(o, "chosen_index");
	json_t *v = ci;
	const char *what = "chosen_index";

	if (ref && !json_is_object(ref))
		return err_set(err, "'reference' must be an object");
	if (json_is_object(ref)) {
		v = json_object_get(ref, "preferred");
		what = "reference.preferred";
		if (!v || json_is_null(v)) {
			p->label = PAIR_TIE;
			v = NULL;
		}
		if (json_is_array(json_object_get(ref, "tags")))
			json_array_extend(p->tags, json_object_get(ref,
								   "tags"));
	} else if (json_is_null(v)) {
		v = NULL;	/* unlabelled */
	}
	if (!v)
		return 0;
	if (!json_is_integer(v))
		return err_set(err, "'%s' must be an integer index of "
			       "'responses'%s", what, ref ? " or null" : "");
	if (json_integer_value(v) == first)
		p->label = PAIR_FIRST;
	else if (json_integer_value(v) == second)
		p->label = PAIR_SECOND;
	else if (first == 0 && second == 1)
		return err_set(err, "'%s' must be 0 or 1", what);
	return 0;
}

/*
 * caigen.preference/1, or /2 (ranked, ranking.h): a /2 record of two
 * responses is read as /1; one of more is the pair it binarized, chosen
 * then rejected (its label: chosen, the run's judge's choice, unless a
 * reference says otherwise). Each part of binarize all-pairs is a pair of
 * its own: its id gets "#part" (the parts share the prompt's id).
 */
static int parse_caigen(json_t *o, struct pair *p, struct err *err)
{
	json_t *resp = json_object_get(o, "responses");
	json_t *prompt = json_object_get(o, "prompt");
	const char *schema = json_string_value(json_object_get(o, "schema"));
	json_t *ci = json_object_get(o, "chosen_index");
	json_t *ri = json_object_get(o, "rejected_index");
	json_int_t first = 0, second = 1;
	const char *a, *b;

	if (schema && !strcmp(schema, "caigen.preference/2") &&
	    json_array_size(resp) > 2) {
		size_t k = json_array_size(resp);

		if (!json_is_integer(ci) || !json_is_integer(ri) ||
		    json_integer_value(ci) < 0 ||
		    (size_t)json_integer_value(ci) >= k ||
		    json_integer_value(ri) < 0 ||
		    (size_t)json_integer_value(ri) >= k)
			return err_set(err, "'chosen_index' and "
				       "'rejected_index' must index the %zu "
				       "'responses'", k);
		first = json_integer_value(ci);
		second = json_integer_value(ri);
		if (!json_object_get(o, "reference"))
			p->label = PAIR_FIRST;
	} else if (json_array_size(resp) != 2) {
		return err_set(err, "'responses' must be a list of two "
			       "strings");
	}
	a = json_string_value(json_array_get(resp, (size_t)first));
	b = json_string_value(json_array_get(resp, (size_t)second));
	if (!a || !b)
		return err_set(err, "'responses' must be a list of strings");
	if (caigen_label(o, first, second, p, err) < 0)
		return -1;
	if (json_is_string(prompt))
		set_prompt_text(p, json_string_value(prompt),
				json_string_length(prompt));
	else if (!is_messages(prompt) ||
		 set_prompt_messages(p, prompt, json_array_size(prompt),
				     err) < 0)
		return err_set(err, "'prompt' is not a string or a message "
			       "list ending with a user turn");
	p->resp[0] = xstrdup(a);
	p->resp[1] = xstrdup(b);
	return 0;
}

static int parse_hhh(json_t *o, struct pair *p, struct err *err)
{
	const char *c = json_string_value(json_object_get(o, "text_correct"));
	const char *i = json_string_value(json_object_get(o,
							  "text_incorrect"));

	if (!c || !i)
		return err_set(err, "'text_correct' and 'text_incorrect' must "
			       "be strings");
	p->label = PAIR_FIRST;
	return parse_hh(c, i, p, err);
}

static int parse_mtbench(json_t *o, struct pair *p, struct err *err)
{
	json_t *ca = json_object_get(o, "conversation_a");
	json_t *cb = json_object_get(o, "conversation_b");
	json_t *t = json_object_get(o, "turn");
	const char *w = json_string_value(json_object_get(o, "winner"));
	const char *ra, *rb;

	if (!is_messages(ca) || !is_messages(cb))
		return err_set(err, "'conversation_a' and 'conversation_b' "
			       "must be message lists");
	if (t && (!json_is_integer(t) || json_integer_value(t) != 1))
		return err_set(err, "only turn 1 is supported (the two "
			       "conversations differ before a later turn)");
	if (!w)
		return err_set(err, "'winner' must be a string");
	if (!strcmp(w, "model_a"))
		p->label = PAIR_FIRST;
	else if (!strcmp(w, "model_b"))
		p->label = PAIR_SECOND;
	else if (!strncmp(w, "tie", 3))
		p->label = PAIR_TIE;
	else
		return err_set(err, "unknown winner '%.40s'", w);
	if (json_array_size(ca) < 2 || json_array_size(cb) < 2 ||
	    !json_equal(json_array_get(ca, 0), json_array_get(cb, 0)))
		return err_set(err, "the conversations do not share their "
			       "first user turn");
	ra = strcmp(role_of(json_array_get(ca, 1)), "assistant") ? NULL :
	     content_of(json_array_get(ca, 1));
	rb = strcmp(role_of(json_array_get(cb, 1)), "assistant") ? NULL :
	     content_of(json_array_get(cb, 1));
	if (!ra || !rb)
		return err_set(err, "the second message of each conversation "
			       "must be the assistant's answer");
	if (set_prompt_messages(p, ca, 1, err) < 0)
		return -1;
	p->resp[0] = xstrdup(ra);
	p->resp[1] = xstrdup(rb);
	return 0;
}

static enum pairs_format detect(json_t *o)
{
	const char *schema = json_string_value(json_object_get(o, "schema"));
	json_t *c = json_object_get(o, "chosen");
	json_t *r = json_object_get(o, "rejected");

	if (schema && (!strcmp(schema, "caigen.preference/1") ||
		       !strcmp(schema, "caigen.preference/2")))
		return PAIRS_CAIGEN;
	if (json_object_get(o, "conversation_a"))
		return PAIRS_MTBENCH;
	if (json_object_get(o, "text_correct"))
		return PAIRS_HHH;
	if (json_is_string(c) && json_is_string(r) &&
	    !json_object_get(o, "prompt") &&
	    !strncmp(json_string_value(c), HH_HUMAN, strlen(HH_HUMAN)))
		return PAIRS_HH;
	if (json_is_array(c) && (json_object_get(o, "prompt_id") ||
				 json_object_get(o, "score_chosen")))
		return PAIRS_ULTRAFEEDBACK;
	return PAIRS_TRL;
}

static void read_tags(json_t *o, json_t *tags)
{
	json_t *t = json_object_get(o, "tags"), *v;
	const char *subset = json_string_value(json_object_get(o, "subset"));
	size_t i;

	json_array_foreach(t, i, v)
		if (json_is_string(v))
			json_array_append(tags, v);
	if (subset)
		json_array_append_new(tags, json_string(subset));
}

/* The input's id: "id" as text, else NULL (set later). */
static int read_id(json_t *o, struct pair *p, struct err *err)
{
	json_t *id = json_object_get(o, "id");

	if (json_is_string(id) && json_string_length(id))
		p->id = xstrdup(json_string_value(id));
	else if (json_is_integer(id))
		p->id = xasprintf("%lld", (long long)json_integer_value(id));
	else if (id && !json_is_null(id))
		return err_set(err, "'id' must be a non-empty string or an "
			       "integer");
	else if (p->format == PAIRS_MTBENCH)
		p->id = xasprintf("mt-%lld-%s-%s-%s",
			(long long)json_integer_value(json_object_get(o,
				"question_id")),
			json_string_value(json_object_get(o, "model_a")) ?:
			"a", json_string_value(json_object_get(o, "model_b"))
			?: "b", json_string_value(json_object_get(o, "judge"))
			?: "j");
	return 0;
}

int pairs_parse(json_t *o, enum pairs_format f, struct pair *out,
		struct err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->label = PAIR_NONE;
	out->tags = json_array();
	if (!json_is_object(o)) {
		err_set(err, "not a JSON object");
		goto fail;
	}
	out->format = f == PAIRS_AUTO ? detect(o) : f;
	switch (out->format) {
	case PAIRS_CAIGEN:
		rc = parse_caigen(o, out, err);
		break;
	case PAIRS_HHH:
		rc = parse_hhh(o, out, err);
		break;
	case PAIRS_MTBENCH:
		rc = parse_mtbench(o, out, err);
		break;
	default:
		rc = parse_chosen_rejected(o, out, err);
		break;
	}
	if (rc < 0)
		goto fail;
	if (!strcmp(out->resp[0], out->resp[1])) {
		err_set(err, "identical replies");
		goto fail;
	}
	if (read_id(o, out, err) < 0)
		goto fail;
	if (out->format == PAIRS_CAIGEN && out->id &&
	    json_integer_value(json_object_get(o, "parts")) > 1) {
		json_t *part = json_object_get(o, "part");
		char *id;

		if (!json_is_integer(part) || json_integer_value(part) < 0) {
			err_set(err, "'part' must be an integer >= 0 when "
				"'parts' is above 1");
			goto fail;
		}
		/* binarize all-pairs: the parts of a prompt share its id */
		id = xasprintf("%s#%lld", out->id,
			       (long long)json_integer_value(part));
		free(out->id);
		out->id = id;
	}
	read_tags(o, out->tags);
	return 0;
fail:
	pair_release(out);
	return -1;
}

/* ---- the reader ----------------------------------------------------- */

struct pairs *pairs_open(const char *path, enum pairs_format f,
			 size_t max_line, struct err *err)
{
	struct pairs *r;
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;

	if (!fp) {
		err_set(err, "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	r = xcalloc(1, sizeof(*r));
	r->f = fp;
	r->is_stdin = fp == stdin;
	r->format = f;
	r->max_line = max_line ? max_line : MAX_LINE_DEFAULT;
	r->line = xmalloc(r->max_line + 1);
	idset_init(&r->ids);
	return r;
}

/* One physical line into r->line: its length, -1 at EOF, -2 when too long
 * (skipped), -3 on a read error. */
static long read_line(struct pairs *r)
{
	size_t n = 0;
	bool over = false;
	int ch;

	while ((ch = getc_unlocked(r->f)) != EOF && ch != '\n') {
		if (n < r->max_line)
			r->line[n++] = (char)ch;
		else
			over = true;
	}
	if (ferror(r->f))
		return -3;
	if (ch == EOF && n == 0 && !over)
		return -1;
	r->st.lines++;
	if (over)
		return -2;
	if (n && r->line[n - 1] == '\r')
		n--;
	r->line[n] = '\0';
	return (long)n;
}

static char *auto_id(const struct pair *p)
{
	json_t *k = json_pack("[O,s,s]", p->messages, p->resp[0],
			      p->resp[1]);
	char *s = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS);
	char *id = xasprintf("p%016llx", (unsigned long long)hash64(s,
		strlen(s)));

	free(s);
	json_decref(k);
	return id;
}

enum pairs_status pairs_next(struct pairs *r, struct pair *out,
			     size_t *line, char **reason, struct err *err)
{
	memset(out, 0, sizeof(*out));
	*reason = NULL;
	*line = 0;
	for (;;) {
		long n = read_line(r);
		const char *s = r->line;
		json_error_t je;
		json_t *o;
		struct err e;

		if (n == -1)
			return PAIRS_EOF;
		if (n == -3) {
			err_set(err, "cannot read the pairs: %s",
				strerror(errno));
			return PAIRS_ERROR;
		}
		*line = r->st.lines;
		if (n == -2) {
			*reason = xasprintf("line longer than %zu bytes",
					    r->max_line);
			r->st.rejected++;
			return PAIRS_REJECT;
		}
		if (r->st.lines == 1 && !strncmp(s, "\xEF\xBB\xBF", 3)) {
			s += 3;
			n -= 3;
		}
		if (strspn(s, " \t") == (size_t)n) {
			r->st.blank++;
			continue;
		}
		o = json_loadb(s, (size_t)n, JSON_REJECT_DUPLICATES, &je);
		if (!o) {
			*reason = xasprintf("invalid JSON at column %d: %s",
					    je.column, je.text);
			r->st.rejected++;
			return PAIRS_REJECT;
		}
		if (pairs_parse(o, r->format, out, &e) < 0) {
			json_decref(o);
			*reason = xstrdup(e.msg);
			r->st.rejected++;
			return PAIRS_REJECT;
		}
		json_decref(o);
		out->index = r->st.lines - 1;
		if (!out->id)
			out->id = auto_id(out);
		if (!idset_add(&r->ids, idset_hash(out->id))) {
			*reason = xasprintf("duplicate id '%.80s'", out->id);
			pair_release(out);
			r->st.rejected++;
			return PAIRS_REJECT;
		}
		r->st.ok++;
		return PAIRS_OK;
	}
}

const struct pairs_stats *pairs_stats(const struct pairs *r)
{
	return &r->st;
}

void pairs_close(struct pairs *r)
{
	if (!r)
		return;
	if (!r->is_stdin)
		fclose(r->f);
	idset_release(&r->ids);
	free(r->line);
	free(r);
}

void pair_release(struct pair *p)
{
	free(p->id);
	free(p->text);
	json_decref(p->messages);
	free(p->resp[0]);
	free(p->resp[1]);
	json_decref(p->tags);
	memset(p, 0, sizeof(*p));
	p->label = PAIR_NONE;
}
