/* judge.c - comparison prompt rendering and answer-letter reading. */
#include "judge.h"
#include "buf.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PROMPT (64u << 20)

char *judge_conversation(json_t *messages)
{
	struct buf b;
	size_t i;
	json_t *m;

	buf_init(&b, MAX_PROMPT);
	json_array_foreach(messages, i, m) {
		const char *role = json_string_value(json_object_get(m,
								     "role"));
		const char *text = json_string_value(json_object_get(m,
								     "content"));
		const char *who = !role ? "User" :
				  strcmp(role, "assistant") == 0 ?
				  "Assistant" :
				  strcmp(role, "system") == 0 ? "System" :
				  "User";
		size_t nwho = strlen(who), ntext = text ? strlen(text) : 0;

		if (i && buf_addstr(&b, "\n\n") < 0)
			break;
		/* "who: text" whole or not at all (as one buf_printf was),
		 * without formatting the text through vsnprintf twice */
		if (nwho + 2 + ntext > b.max - b.len ||
		    buf_add(&b, who, nwho) < 0 || buf_add(&b, ": ", 2) < 0 ||
		    buf_add(&b, text, ntext) < 0)
			break;	/* over 64 MiB: keep what fits */
	}
	return buf_detach(&b);
}

static bool tag_free(const char *tag, const char *const *texts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (texts[i] && strstr(texts[i], tag))
			return false;
	return true;
}

static int add_fenced(struct buf *b, const char *what, const char *tag,
		      const char *text)
{
	/* "<<<what tag>>>\ntext\n<<<end of what tag>>>" */
	return buf_addstr(b, "<<<") < 0 || buf_addstr(b, what) < 0 ||
	       buf_addstr(b, " ") < 0 || buf_addstr(b, tag) < 0 ||
	       buf_addstr(b, ">>>\n") < 0 || buf_addstr(b, text) < 0 ||
	       buf_addstr(b, "\n<<<end of ") < 0 || buf_addstr(b, what) < 0 ||
	       buf_addstr(b, " ") < 0 || buf_addstr(b, tag) < 0 ||
	       buf_addstr(b, ">>>") < 0 ? -1 : 0;
}

/* The rendering through a buffer with the MAX_PROMPT ceiling: what fits
 * of it, up to the piece that would cross the ceiling. */
static char *render_buf(const char *tpl, const char *conversation,
			const char *principle, const char *a, const char *b,
			const char *tag)
{
	struct buf out;
	const char *p;

	buf_init(&out, MAX_PROMPT);
	for (p = tpl; *p; p++) {
		int rc = 0;

		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			rc = buf_add(&out, p++, 1);
		} else if (p[0] == '{') {
			const char *end = strchr(p, '}');
			size_t n = end ? (size_t)(end - p - 1) : 0;

			if (n == 12 && !strncmp(p + 1, "conversation", n))
				rc = add_fenced(&out, "conversation", tag,
						conversation);
			else if (n == 9 && !strncmp(p + 1, "principle", n))
				rc = buf_addstr(&out, principle);
			else if (n == 1 && p[1] == 'a')
				rc = add_fenced(&out, "reply A", tag, a);
			else if (n == 1 && p[1] == 'b')
				rc = add_fenced(&out, "reply B", tag, b);
			else
				end = NULL;	/* the loader rejects these */
			if (end)
				p = end;
			else
				rc = buf_add(&out, p, 1);
		} else {
			/* the plain run up to the next brace, at once */
			size_t n = strcspn(p, "{}");

			rc = buf_add(&out, p, n ? n : 1);
			p += n ? n - 1 : 0;
		}
		if (rc < 0)
			break;
	}
	return buf_detach(&out);
}

/* Where render_to writes: at o when not NULL; n counts either way. */
struct rout {
	char *o;
	size_t n;
};

static void put(struct rout *w, const char *s, size_t n)
{
	if (w->o && n)
		memcpy(w->o + w->n, s, n);
	w->n += n;
}

static size_t slen(const char *s)
{
	return s ? strlen(s) : 0;	/* a text the template leaves out */
}

/* The texts of a rendering with their lengths. */
struct rtexts {
	const char *conv, *principle, *a, *b, *tag;
	size_t nconv, nprinciple, na, nb, ntag;
};

static void put_fenced(struct rout *w, const char *what, size_t nwhat,
		       const struct rtexts *t, const char *text, size_t n)
{
	/* "<<<what tag>>>\ntext\n<<<end of what tag>>>" */
	put(w, "<<<", 3);
	put(w, what, nwhat);
	put(w, " ", 1);
	put(w, t->tag, t->ntag);
	put(w, ">>>\n", 4);
	put(w, text, n);
	put(w, "\n<<<end of ", 11);
	put(w, what, nwhat);
	put(w, " ", 1);
	put(w, t->tag, t->ntag);
	put(w, ">>>", 3);
}

/* The pieces render_buf adds, in the same order, without a ceiling:
 * written at w->o when not NULL, counted in w->n. */
static void render_to(struct rout *w, const char *tpl,
		      const struct rtexts *t)
{
	for (const char *p = tpl; *p; p++) {
		if ((p[0] == '{' && p[1] == '{') ||
		    (p[0] == '}' && p[1] == '}')) {
			put(w, p++, 1);
		} else if (p[0] == '{') {
			const char *end = strchr(p, '}');
			size_t n = end ? (size_t)(end - p - 1) : 0;

			if (n == 12 && !strncmp(p + 1, "conversation", n))
				put_fenced(w, "conversation", 12, t, t->conv,
					   t->nconv);
			else if (n == 9 && !strncmp(p + 1, "principle", n))
				put(w, t->principle, t->nprinciple);
			else if (n == 1 && p[1] == 'a')
				put_fenced(w, "reply A", 7, t, t->a, t->na);
			else if (n == 1 && p[1] == 'b')
				put_fenced(w, "reply B", 7, t, t->b, t->nb);
			else
				end = NULL;	/* the loader rejects these */
			if (end)
				p = end;
			else
				put(w, p, 1);
		} else {
			size_t n = strcspn(p, "{}");

			put(w, p, n ? n : 1);
			p += n ? n - 1 : 0;
		}
	}
}

/* A rendering is counted first, then written into one allocation of
 * its size: the buffer's doublings and its per-piece calls were most of
 * a render's cost. Over the ceiling (never in practice) render_buf cuts
 * it as before. */
char *judge_render(const char *tpl, const char *conversation,
		   const char *principle, const char *a, const char *b,
		   uint64_t seed, const char *id)
{
	const char *texts[] = { conversation, principle, a, b, tpl };
	static const char hex[] = "0123456789abcdef";
	char tag[11];
	struct rtexts t;
	struct rout w = { NULL, 0 };

	for (uint64_t k = 0;; k++) {
		/* "[%08x]" of the high 32 bits */
		unsigned x = (unsigned)(rng_u64(seed, id, "fence", k) >> 32);

		tag[0] = '[';
		for (int i = 0; i < 8; i++)
			tag[1 + i] = hex[(x >> (28 - 4 * i)) & 0xf];
		tag[9] = ']';
		tag[10] = '\0';
		if (tag_free(tag + 1, texts, ARRAY_SIZE(texts)))
			break;
	}
	t = (struct rtexts){ conversation, principle, a, b, tag,
			     slen(conversation), slen(principle), slen(a),
			     slen(b), 10 };
	render_to(&w, tpl, &t);
	if (w.n > MAX_PROMPT)
		return render_buf(tpl, conversation, principle, a, b, tag);
	w.o = xmalloc(w.n + 1);
	w.n = 0;
	render_to(&w, tpl, &t);
	w.o[w.n] = '\0';
	return w.o;
}

/* Strip the characters that may wrap a letter: ASCII space and
 * punctuation, SentencePiece's U+2581 and GPT-2's U+0120 space marks. */
static void trim_token(const char **s, const char **e)
{
	static const char wrap[] = " \t\r\n()[]*\"'>.:`#_";

	for (;;) {
		if (*s < *e && strchr(wrap, **s) && **s) {
			(*s)++;
		} else if (*e - *s >= 3 && !memcmp(*s, "\xe2\x96\x81", 3)) {
			*s += 3;
		} else if (*e - *s >= 2 && !memcmp(*s, "\xc4\xa0", 2)) {
			*s += 2;
		} else {
			break;
		}
	}
	while (*e > *s && strchr(wrap, (*e)[-1]) && (*e)[-1])
		(*e)--;
}

int judge_token_letter(const char *tok)
{
	const char *s = tok, *e = tok + strlen(tok);
	size_t n;

	trim_token(&s, &e);
	n = (size_t)(e - s);
	if (n == 0)
		return 0;
	if (n == 1 && (*s == 'A' || *s == 'B'))
		return *s;
	/* Cyrillic capital A / Ve, full-width A / B */
	if (n == 2 && !memcmp(s, "\xd0\x90", 2))
		return 'A';
	if (n == 2 && !memcmp(s, "\xd0\x92", 2))
		return 'B';
	if (n == 3 && !memcmp(s, "\xef\xbc\xa1", 3))
		return 'A';
	if (n == 3 && !memcmp(s, "\xef\xbc\xa2", 3))
		return 'B';
	return -1;
}

/* exp(logprob), with the servers' "not listed" sentinels as 0. */
static double mass_of(const struct chat_logprob *e)
{
	double v;

	if (!e->has_logprob)
		return 0;
	v = e->logprob;
	if (!isfinite(v) || v <= -9999.0)
		return 0;
	/* a logprob above 0 is rounding (or garbage): at most certainty,
	 * never an infinite mass */
	return v > 0 ? 1.0 : exp(v);
}

struct position_mass {
	double a, b, listed;
};

static void add_candidate(struct position_mass *m, const char **seen,
			  size_t *nseen, size_t maxseen,
			  const struct chat_logprob *e)
{
	const char *tok = e->token;
	double v;

	if (!tok)
		return;
	for (size_t i = 0; i < *nseen; i++)
		if (!strcmp(seen[i], tok))
			return;	/* vLLM may list a token twice */
	if (*nseen < maxseen)
		seen[(*nseen)++] = tok;
	v = mass_of(e);
	m->listed += v;
	switch (judge_token_letter(tok)) {
	case 'A':
		m->a += v;
		break;
	case 'B':
		m->b += v;
		break;
	}
}

static struct position_mass position_mass(const struct chat_logprob *pos)
{
	struct position_mass m = { 0, 0, 0 };
	const char *seen[64];
	size_t nseen = 0, i;

	for (i = 0; i < pos->ntop; i++)
		add_candidate(&m, seen, &nseen, ARRAY_SIZE(seen),
			      &pos->top[i]);
	/* the sampled token, when the server left it out of the list */
	add_candidate(&m, seen, &nseen, ARRAY_SIZE(seen), pos);
	return m;
}

int judge_read_logprobs(const struct chat_logprobs *content, int scan,
			struct judgment *j, struct err *err)
{
	size_t n = content ? content->n : 0, i;
	int chosen = -1;
	struct position_mass m = { 0, 0, 0 };
	const char *first = NULL;

	if (!n)
		return err_set(err, "reply carries no logprobs (does the "
			       "server support logprobs/top_logprobs?)");
	for (i = 0; i < n && i < (size_t)scan; i++) {
		const struct chat_logprob *pos = &content->pos[i];
		const char *tok = pos->token;
		int letter = tok ? judge_token_letter(tok) : -1;
		struct position_mass pm = position_mass(pos);

		if (!first)
			first = tok;
		if (letter == 'A' || letter == 'B') {
			chosen = (int)i;
			m = pm;
			break;
		}
		if (chosen < 0 && pm.a + pm.b > 0) {
			chosen = (int)i;
			m = pm;
		}
		if (letter < 0)
			break;	/* a word: the letter will not follow */
	}
	if (chosen < 0 || m.a + m.b <= 0)
		return err_set(err, "no answer letter in the first %d "
			       "positions (first token '%.40s')", scan,
			       first ? first : "");
	j->position = chosen;
	j->mass_a = m.a;
	j->mass_b = m.b;
	j->p_a = m.a / (m.a + m.b);
	j->other_mass = fmax(0.0, 1.0 - m.a - m.b);
	j->method = "logprobs";
	return 0;
}

double judge_combine(const struct judgment *j, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += j[i].order == ORDER_AB ? j[i].p_a : 1.0 - j[i].p_a;
	return n ? sum / n : 0.5;
}

int judge_read_text(const char *text, struct judgment *j, struct err *err)
{
	const char *p = text ? text : "";
	char word[64];

	for (int w = 0; w < 8 && *p; w++) {
		size_t n;
		int letter;

		p += strspn(p, " \t\r\n");
		n = strcspn(p, " \t\r\n");
		if (!n)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)(n < 63 ? n : 63),
			 p);
		p += n;
		letter = judge_token_letter(word);
		if (letter == 'A' || letter == 'B') {
			j->p_a = letter == 'A';
			j->mass_a = j->mass_b = 0;
			j->other_mass = 0;
			j->position = w;
			j->method = "text";
			return 0;
		}
	}
	return err_set(err, "no answer letter in the reply text '%.40s'",
		       text ? text : "");
}

double judge_clamp(double p, double lo, double hi)
{
	return p < lo ? lo : p > hi ? hi : p;
}
