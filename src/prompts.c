/*
 * prompts.c - streaming reader of the prompts file (see prompts.h).
 *
 * Design: the file is read with read(2) into one 64 KiB block and cut into
 * lines with memchr. A line is copied into a buffer whose ceiling is
 * max_line + 1 bytes (room for a trailing CR); once a line passes it the
 * rest of that line is only scanned for its end, never stored, so memory
 * stays bounded whatever the input. The only state that grows with the
 * file is the set of id hashes seen (8 bytes per id, for duplicates).
 *
 * We use read(2) rather than fread: fread on a pipe waits until the whole
 * block is full, which would hold back the first prompts of a slow
 * producer on stdin; read returns what is there.
 *
 * Each line is checked in this order: length, blank, NUL bytes and strict
 * UTF-8 (so the reason names the byte, not a JSON parser's guess), then the
 * format's own rules, then the id for duplicates. A bad line becomes a
 * reject and the next call goes on with the next line.
 *
 * A shard file of `caigen split` (split.h) is recognised by its header
 * line. Each entry carries the line number the prompt had in the source
 * file, so the prompt comes out exactly as it would have from the source
 * (same index, id, text); a stored reject comes back as the reject it was.
 */
#include "prompts.h"
#include "buf.h"
#include "idset.h"
#include "rng.h"
#include "split.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define BLOCK_SIZE (64 * 1024)
#define DEFAULT_MAX_LINE ((size_t)1 << 20)
/* A ceiling on max_line so that max_line + 1 and the buffer's doubling
 * cannot overflow. */
#define LIMIT_MAX_LINE (SIZE_MAX / 4)
/* Quoted user values (ids, roles) in reasons are cut to this many bytes. */
#define QUOTE_MAX 64

enum format {
	FORMAT_UNKNOWN = 0,	/* sniffed at the first non-blank line */
	FORMAT_JSONL,
	FORMAT_TEXT,
};

enum line_status {
	LINE_OK,
	LINE_TOO_LONG,
	LINE_EOF,
	LINE_ERROR,
};

struct prompts {
	char *name;		/* for messages: the path, or "<stdin>" */
	int fd;
	bool own_fd;		/* false for stdin, which we do not close */
	size_t max_line;
	enum format format;

	char *block;		/* BLOCK_SIZE bytes read ahead */
	size_t pos, end;	/* unread bytes are block[pos..end) */
	bool eof;
	int read_errno;		/* nonzero once a read failed (sticky) */

	struct buf line;	/* the current line, ceiling max_line + 1 */
	char first;		/* first non-space byte of the line, or 0 */

	struct idset seen;	/* hashes of the ids handed out so far */
	struct prompts_stats stats;

	bool check_dups;	/* reject an id seen before (default) */
	bool only_own;		/* remember only the ids of `shard` */
	struct shard shard;

	z_stream *z;		/* gzip input: inflated into block; NULL:
				 * plain */
	unsigned char *zin;	/* compressed bytes read ahead */
	bool zdone;		/* the last gzip member ended */
	const char *zerr;	/* a bad gzip stream: the reason */

	int fixed;		/* PROMPTS_FIRST: the format the first
				 * prompt chose (0: none yet) */

	bool lists_only;	/* prompts_any_messages: pass over the
				 * lines that cannot hold a message list */
	bool split;		/* a shard file of `caigen split` */
	bool split_end;		/* its last line (the trailer) was read */
	size_t split_lines, split_blank;	/* from the trailer */
};

/* The key holding the prompt (prompts_set_field); NULL: "prompt". */
static char *prompt_field;

static const char *field_name(void)
{
	return prompt_field ? prompt_field : "prompt";
}

/* The format every prompt is given in (prompts_set_format). */
static enum prompts_format_mode format_mode = PROMPTS_KEEP;

void prompts_set_format(enum prompts_format_mode m)
{
	format_mode = m;
}

/* Give p the dataset's one format; NULL, or the reason to reject it. */
static char *apply_format(struct prompts *r, struct prompt *p)
{
	int f = format_mode;
	json_t *m, *c;

	if (f == PROMPTS_FIRST) {
		if (!r->fixed)
			r->fixed = p->text ? PROMPTS_STANDARD :
					     PROMPTS_CONVERSATIONAL;
		f = r->fixed;
	}
	if (f == PROMPTS_CONVERSATIONAL && p->text) {
		/* messages already holds the one user turn; the id stays
		 * the hash of the text */
		free(p->text);
		p->text = NULL;
	} else if (f == PROMPTS_STANDARD && !p->text) {
		m = json_array_get(p->messages, 0);
		c = json_object_get(m, "content");
		if (json_array_size(p->messages) != 1 || !json_is_string(c))
			return xstrdup("a message list among string prompts "
				       "(prompt_format: standard; set "
				       "prompt_format: conversational to "
				       "write every prompt as a list)");
		p->text = xstrndup(json_string_value(c),
				   json_string_length(c));
	}
	return NULL;
}

bool prompts_any_messages(const char *path, size_t max_line)
{
	struct err err;
	struct prompts *r = prompts_open(path, max_line, &err);
	enum prompts_format_mode saved = format_mode;
	bool any = false;

	if (!r)
		return false;
	format_mode = PROMPTS_KEEP;
	prompts_check_dups(r, false);
	r->lists_only = true;
	for (;;) {
		struct prompt p;
		struct reject rej;
		enum prompts_status st = prompts_next(r, &p, &rej, &err);

		if (st == PROMPTS_EOF || st == PROMPTS_ERROR)
			break;
		any = st == PROMPTS_OK && !p.text;
		prompt_release(&p);
		reject_release(&rej);
		if (any)
			break;
	}
	format_mode = saved;
	prompts_close(r);
	return any;
}

void prompts_set_field(const char *name)
{
	free(prompt_field);
	prompt_field = name && *name && strcmp(name, "prompt") ?
		       xstrdup(name) : NULL;
}

/* jansson returns NULL only when malloc fails: end the program as xmalloc
 * would rather than thread a third kind of failure through every caller. */
static json_t *jnew(json_t *j)
{
	if (!j) {
		fprintf(stderr, "caigen: out of memory (jansson)\n");
		exit(2);
	}
	return j;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The format a file's name promises, or FORMAT_UNKNOWN. */
static enum format format_of_name(const char *path)
{
	size_t n = strlen(path);
	char *base = has_suffix(path, ".gz") ? xstrndup(path, n - 3) :
		     xstrdup(path);
	enum format f = FORMAT_UNKNOWN;

	if (has_suffix(base, ".jsonl") || has_suffix(base, ".json"))
		f = FORMAT_JSONL;
	else if (has_suffix(base, ".txt"))
		f = FORMAT_TEXT;
	free(base);
	return f;
}

/* The reason a read failed, for messages. */
static const char *read_error(const struct prompts *r)
{
	return r->zerr ? r->zerr : strerror(r->read_errno);
}

/*
 * Inflate gzip input into dst (at most cap bytes), reading compressed
 * bytes with read(2) as they come (a pipe is never waited on for more
 * than it has). Concatenated members are one stream, as gzip -d reads
 * them. Returns as read(2) does; a bad stream sets r->zerr.
 */
static ssize_t inflate_some(struct prompts *r, char *dst, size_t cap)
{
	z_stream *z = r->z;

	z->next_out = (unsigned char *)dst;
	z->avail_out = (uInt)cap;
	while (z->avail_out == cap) {
		int zr;

		if (z->avail_in == 0) {
			ssize_t n;

			do
				n = read(r->fd, r->zin, BLOCK_SIZE);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				return -1;
			if (n == 0) {
				if (r->zdone)
					return 0;
				r->zerr = "the gzip stream is cut short";
				errno = EIO;
				return -1;
			}
			z->next_in = r->zin;
			z->avail_in = (uInt)n;
		}
		if (r->zdone) {
			/* more bytes after a member: the next member */
			if (inflateReset(z) != Z_OK) {
				r->zerr = "the gzip stream is damaged";
				errno = EIO;
				return -1;
			}
			r->zdone = false;
		}
		zr = inflate(z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			r->zdone = true;
		} else if (zr != Z_OK && zr != Z_BUF_ERROR) {
			r->zerr = "the gzip stream is damaged";
			errno = EIO;
			return -1;
		}
	}
	return (ssize_t)(cap - z->avail_out);
}

/* The first bytes are gzip's magic: inflate from here on. The bytes read
 * so far go back in as compressed input. */
static void start_gzip(struct prompts *r)
{
	r->z = xcalloc(1, sizeof(*r->z));
	if (inflateInit2(r->z, 16 + MAX_WBITS) != Z_OK) {
		fprintf(stderr, "caigen: out of memory\n");
		exit(2);
	}
	r->zin = xmalloc(BLOCK_SIZE);
	memcpy(r->zin, r->block + r->pos, r->end - r->pos);
	r->z->next_in = r->zin;
	r->z->avail_in = (uInt)(r->end - r->pos);
	r->pos = r->end = 0;
	r->eof = false;
}

/*
 * Read more of the file after block[end), moving what is unread to the
 * front first. Returns the number of bytes added, 0 at end of file, -1 on
 * a read error (r->read_errno set).
 */
static ssize_t fill(struct prompts *r)
{
	ssize_t n;

	if (r->read_errno)
		return -1;
	if (r->eof)
		return 0;
	if (r->pos > 0) {
		memmove(r->block, r->block + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	if (r->z)
		n = inflate_some(r, r->block + r->end, BLOCK_SIZE - r->end);
	else
		do
			n = read(r->fd, r->block + r->end,
				 BLOCK_SIZE - r->end);
		while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->read_errno = errno ? errno : EIO;
		return -1;
	}
	if (n == 0)
		r->eof = true;
	r->end += (size_t)n;
	return n;
}

/* Remember the first non-space byte of the line, which decides both
 * "blank" and, for the first non-blank line, the sniffed format. */
static void note_first(struct prompts *r, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !r->first; i++)
		if (!is_space((unsigned char)p[i]))
			r->first = p[i] ? p[i] : '\1';
}

/*
 * Read one physical line into r->line without its '\n' and trailing '\r'.
 * A line longer than max_line is consumed to its end but not kept:
 * LINE_TOO_LONG. A last line without '\n' is still a line.
 */
static enum line_status read_line(struct prompts *r)
{
	bool any = false, too_long = false;

	buf_reset(&r->line);
	r->first = 0;
	for (;;) {
		const char *p, *nl;
		size_t n;

		if (r->pos == r->end) {
			ssize_t got = fill(r);

			if (got < 0)
				return LINE_ERROR;
			if (got == 0)
				break;
		}
		p = r->block + r->pos;
		nl = memchr(p, '\n', r->end - r->pos);
		n = nl ? (size_t)(nl - p) : r->end - r->pos;
		any = true;
		note_first(r, p, n);
		if (!too_long && buf_add(&r->line, p, n) < 0) {
			/* drop what we held: the rest is only skipped */
			too_long = true;
			buf_reset(&r->line);
		}
		r->pos += n + (nl != NULL);
		if (nl)
			break;
	}
	if (!any)
		return LINE_EOF;
	if (too_long)
		return LINE_TOO_LONG;
	if (r->line.len && r->line.data[r->line.len - 1] == '\r')
		r->line.data[--r->line.len] = '\0';
	/* a shard file's entry is measured without its index, later */
	return r->line.len > r->max_line && !r->split ? LINE_TOO_LONG
						      : LINE_OK;
}

/*
 * Strict UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
 * U+10FFFF) without NUL bytes. Returns NULL if s is clean, else the reason
 * with the 1-based byte where the bad sequence starts.
 */
static char *check_bytes(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t need, k;

		if (c == 0)
			return xasprintf("NUL byte at byte %zu", i + 1);
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			need = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			need = 2;
			if (c == 0xe0)
				lo = 0xa0;	/* overlong below U+0800 */
			else if (c == 0xed)
				hi = 0x9f;	/* surrogates D800-DFFF */
		} else if (c >= 0xf0 && c <= 0xf4) {
			need = 3;
			if (c == 0xf0)
				lo = 0x90;	/* overlong below U+10000 */
			else if (c == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else {
			/* continuation byte, C0/C1 overlong, F5-FF */
			goto bad;
		}
		if (n - i - 1 < need || s[i + 1] < lo || s[i + 1] > hi)
			goto bad;
		for (k = 2; k <= need; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
		i += need + 1;
	}
	return NULL;
bad:
	return xasprintf("invalid UTF-8 at byte %zu", i + 1);
}

/* A copy of s (valid UTF-8) fit to quote in a reason: at most QUOTE_MAX
 * bytes, cut on a character boundary, "..." marking the cut. */
static char *clip(const char *s)
{
	size_t n = strlen(s);

	if (n <= QUOTE_MAX)
		return xstrdup(s);
	n = QUOTE_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return xasprintf("%.*s...", (int)n, s);
}

char *prompts_dup_reason(const char *id)
{
	char *q = clip(id);
	char *reason = xasprintf("duplicate id '%s'", q);

	free(q);
	return reason;
}

static bool only_space(const char *s)
{
	for (; *s; s++)
		if (!is_space((unsigned char)*s) && *s != '\n')
			return false;
	return true;
}

/* [{"role":"user","content":text}]: new ref */
static json_t *user_turn(const char *text, size_t len)
{
	json_t *msg = jnew(json_object());
	json_t *list = jnew(json_array());

	json_object_set_new(msg, "role", jnew(json_string("user")));
	json_object_set_new(msg, "content", jnew(json_stringn(text, len)));
	json_array_append_new(list, msg);
	return list;
}

/* "h" + 16 hex digits of hash64 over the bytes. */
static char *default_id(const void *p, size_t n)
{
	return xasprintf("h%016" PRIx64, hash64(p, n));
}

/* The id of a messages list: hash64 of its compact JSON. json_dumpb, not
 * json_dumps, so the bytes are ours to free whatever allocator jansson
 * was given. */
static char *messages_id(const json_t *messages)
{
	size_t n = json_dumpb(messages, NULL, 0, JSON_COMPACT);
	char *s = xmalloc(n ? n : 1);
	char *id;

	if (n == 0 || json_dumpb(messages, s, n, JSON_COMPACT) != n) {
		fprintf(stderr, "caigen: out of memory (jansson)\n");
		exit(2);
	}
	id = default_id(s, n);
	free(s);
	return id;
}

static bool known_role(const char *role)
{
	return strcmp(role, "system") == 0 || strcmp(role, "user") == 0 ||
	       strcmp(role, "assistant") == 0;
}

/*
 * Check a "messages" value and build its normal form: a new list of new
 * objects holding only role and content (the strings are shared). Returns
 * NULL and sets *out (new ref), or the reason.
 */
static char *take_messages(json_t *list, json_t **out)
{
	json_t *norm, *msg;
	const char *role = NULL;
	char *reason = NULL;
	size_t i;

	*out = NULL;
	if (!json_is_array(list) || json_array_size(list) == 0)
		return xstrdup("'messages' must be a non-empty list");
	norm = jnew(json_array());
	json_array_foreach(list, i, msg) {
		json_t *r = json_object_get(msg, "role");
		json_t *c = json_object_get(msg, "content");
		json_t *o;

		if (!json_is_object(msg) || !json_is_string(r) ||
		    !json_is_string(c)) {
			reason = xasprintf("messages[%zu] must be an object "
					   "with string 'role' and 'content'",
					   i);
			goto out;
		}
		role = json_string_value(r);
		if (!known_role(role)) {
			char *q = clip(role);

			reason = xasprintf("messages[%zu] has unknown role "
					   "'%s' (expected system, user or "
					   "assistant)", i, q);
			free(q);
			goto out;
		}
		o = jnew(json_object());
		json_object_set(o, "role", r);
		json_object_set(o, "content", c);
		json_array_append_new(norm, o);
	}
	if (strcmp(role, "user") != 0) {
		reason = xstrdup("the last message must have role 'user'");
		goto out;
	}
	*out = norm;
	norm = NULL;
out:
	json_decref(norm);
	return reason;
}

/* The "id" field as our id string (new), or NULL and *reason. */
static char *take_id(json_t *id, char **reason)
{
	if (json_is_integer(id))
		return xasprintf("%" JSON_INTEGER_FORMAT,
				 json_integer_value(id));
	if (json_is_string(id) && json_string_length(id) > 0)
		return xstrdup(json_string_value(id));
	*reason = xstrdup("'id' must be a non-empty string or an integer");
	return NULL;
}

/*
 * The common line without jansson (json_loadb was 25k instructions a
 * line of 170 bytes, the most of reading a prompt): one object of at
 * most FLAT_MAX members whose keys are plain strings (no backslash) and
 * whose values are strings (escapes \" \\ \/ \b \f \n \r \t only) or
 * integers of at most 18 digits, no key twice, the prompt field a string
 * that is not only blanks, no "messages". That is a line jansson reads
 * too, to the same values, and parse_jsonl would accept: true with *p
 * filled as parse_jsonl fills it. Anything else (a \u escape, another
 * kind of value, a reject of any reason) is false with *p untouched, and
 * jansson reads the line as before. The line is strict UTF-8 without NUL
 * (check_bytes ran), which jansson's strings need too.
 */
#define FLAT_MAX 16

struct flat {
	const char *k, *v;	/* key; value: its text (a string's
				 * between the quotes) */
	size_t kn, vn;
	bool str, esc;		/* a string; one holding a backslash */
};

static const char *flat_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	return s;
}

/* The string at s (past its opening quote): its closing quote, or NULL
 * when it holds a control byte, an escape other than the simple ones
 * (keys: any backslash) or does not end. */
static const char *flat_str(const char *s, const char *e, bool key,
			    bool *esc)
{
	*esc = false;
	for (; s < e; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"')
			return s;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			if (key || ++s >= e || !strchr("\"\\/bfnrt", *s) ||
			    !*s)
				return NULL;
			*esc = true;
		}
	}
	return NULL;
}

/* Decode a checked flat string value into a new NUL-terminated copy. */
static char *flat_decode(const struct flat *m)
{
	char *out = xmalloc(m->vn + 1), *o = out;

	for (size_t i = 0; i < m->vn; i++) {
		char c = m->v[i];

		if (c == '\\' && m->esc) {
			c = m->v[++i];
			c = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ?
			    '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
		}
		*o++ = c;
	}
	*o = '\0';
	return out;
}

static const struct flat *flat_get(const struct flat *m, size_t n,
				   const char *key)
{
	size_t kn = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (m[i].kn == kn && !memcmp(m[i].k, key, kn))
			return &m[i];
	return NULL;
}

static bool flat_off;	/* prompts_set_flat(false): for the tests */

void prompts_set_flat(bool on)
{
	flat_off = !on;
}

static bool parse_flat(const char *line, size_t len, struct prompt *p)
{
	const char *s = line, *e = line + len, *q;
	struct flat m[FLAT_MAX];
	const struct flat *prompt, *id;
	size_t n = 0;
	char *text;

	s = flat_ws(s, e);
	if (flat_off || s >= e || *s++ != '{')
		return false;
	for (;;) {
		struct flat *x = &m[n];
		bool esc;

		s = flat_ws(s, e);
		if (n == FLAT_MAX || s >= e || *s++ != '"' ||
		    !(q = flat_str(s, e, true, &esc)))
			return false;
		x->k = s;
		x->kn = (size_t)(q - s);
		for (size_t i = 0; i < n; i++)
			if (m[i].kn == x->kn && !memcmp(m[i].k, x->k, x->kn))
				return false;	/* twice: jansson's reason */
		s = flat_ws(q + 1, e);
		if (s >= e || *s++ != ':')
			return false;
		s = flat_ws(s, e);
		if (s < e && *s == '"') {
			if (!(q = flat_str(++s, e, false, &x->esc)))
				return false;
			x->str = true;
			x->v = s;
			x->vn = (size_t)(q - s);
			s = q + 1;
		} else {
			const char *d = s + (s < e && *s == '-');

			if (d >= e || *d < '0' || *d > '9')
				return false;
			q = d + 1;
			if (*d != '0')
				while (q < e && *q >= '0' && *q <= '9')
					q++;
			if (q - d > 18 || (q < e && (*q == '.' || *q == 'e' ||
						     *q == 'E' ||
						     (*q >= '0' && *q <= '9'))))
				return false;
			x->str = x->esc = false;
			x->v = s;
			x->vn = (size_t)(q - s);
			s = q;
		}
		n++;
		s = flat_ws(s, e);
		if (s < e && *s == ',') {
			s++;
			continue;
		}
		if (s >= e || *s++ != '}')
			return false;
		break;
	}
	if (flat_ws(s, e) != e || flat_get(m, n, "messages"))
		return false;
	prompt = flat_get(m, n, field_name());
	id = flat_get(m, n, "id");
	if (!prompt || !prompt->str || (id && id->str && id->vn == 0))
		return false;
	text = flat_decode(prompt);
	if (only_space(text)) {
		free(text);
		return false;
	}
	p->text = text;
	/* the length jansson's string would have (no NUL can be inside) */
	p->messages = user_turn(text, strlen(text));
	if (!id) {
		p->id = default_id(text, strlen(text));
	} else if (id->str) {
		p->id = flat_decode(id);
	} else {
		long long v = strtoll(id->v, NULL, 10);

		p->id = xasprintf("%" JSON_INTEGER_FORMAT, (json_int_t)v);
	}
	return true;
}

/* One JSONL line into *p (id, text, messages). NULL, or the reason. */
static char *parse_jsonl(const char *line, size_t len, struct prompt *p)
{
	json_error_t je;
	json_t *root, *prompt, *messages, *id;
	const char *f = field_name();
	char *reason = NULL;

	if (parse_flat(line, len, p))
		return NULL;

	/* DECODE_ANY so that a scalar gets "not a JSON object" rather than
	 * jansson's "'[' or '{' expected"; no DISABLE_EOF_CHECK, so trailing
	 * garbage after the object is an error. */
	root = json_loadb(line, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			  &je);
	if (!root) {
		if (je.column > 0)
			return xasprintf("invalid JSON at column %d: %s",
					 je.column, je.text);
		return xasprintf("invalid JSON: %s", je.text);
	}
	if (!json_is_object(root)) {
		reason = xstrdup("not a JSON object");
		goto out;
	}
	prompt = json_object_get(root, f);
	messages = json_object_get(root, "messages");
	id = json_object_get(root, "id");
	/* a named field may hold a message list itself */
	if (prompt_field && json_is_array(prompt) && !messages) {
		messages = prompt;
		prompt = NULL;
	}
	if (!prompt && !messages) {
		reason = xasprintf("missing '%s' or 'messages'", f);
		goto out;
	}
	if (prompt && messages) {
		reason = xasprintf("both '%s' and 'messages' given", f);
		goto out;
	}
	if (prompt) {
		if (!json_is_string(prompt)) {
			reason = xasprintf("'%s' must be a string", f);
			goto out;
		}
		/* whitespace is no prompt, as a blank line is none */
		if (only_space(json_string_value(prompt))) {
			reason = xasprintf("'%s' is empty", f);
			goto out;
		}
		p->text = xstrndup(json_string_value(prompt),
				   json_string_length(prompt));
		p->messages = user_turn(p->text, json_string_length(prompt));
	} else {
		reason = take_messages(messages, &p->messages);
		if (reason)
			goto out;
	}
	if (id) {
		p->id = take_id(id, &reason);
		if (!p->id)
			goto out;
	} else if (p->text) {
		p->id = default_id(p->text, strlen(p->text));
	} else {
		p->id = messages_id(p->messages);
	}
out:
	json_decref(root);
	return reason;
}

/* One text line (known non-blank and clean) into *p. */
static void parse_text(const char *line, size_t len, struct prompt *p)
{
	p->text = xstrndup(line, len);
	p->messages = user_turn(line, len);
	p->id = default_id(line, len);
}

/* The header line of a shard file: the source's format. The line buffer
 * gets room for the entry's line number in front of a line. */
static int open_split(struct prompts *r, struct err *err)
{
	json_t *h;
	const char *fmt;
	int rc = 0;

	buf_release(&r->line);
	buf_init(&r->line, 64 * 1024);
	r->split = true;
	if (read_line(r) != LINE_OK)
		return err_set(err, "'%s': cannot read the header of a split "
			       "file", r->name);
	h = json_loadb(r->line.data, r->line.len, 0, NULL);
	buf_release(&r->line);
	buf_init(&r->line, r->max_line + 1 + SPLIT_PREFIX_MAX);
	fmt = json_string_value(json_object_get(h, "format"));
	if (!fmt || (strcmp(fmt, "jsonl") && strcmp(fmt, "text")))
		rc = err_set(err, "'%s': the header of this split file has "
			     "no format: split the prompts again", r->name);
	else
		r->format = !strcmp(fmt, "text") ? FORMAT_TEXT : FORMAT_JSONL;
	json_decref(h);
	return rc;
}

/*
 * One entry of a shard file in r->line: "INDEX LINE" (a line to read),
 * "INDEX!REASON" (a stored reject), or the trailer object. Leaves LINE in
 * r->line and returns 0 with *index; 1 with *reason (new) for a stored
 * reject; 2 for the trailer; -1 with err when the entry is malformed.
 */
static int split_entry(struct prompts *r, size_t *index, char **reason,
		       struct err *err)
{
	char *d = r->line.data, *end;
	unsigned long long v;
	size_t skip;

	if (r->split_end)
		return err_set(err, "'%s': lines after the trailer: split the "
			       "prompts again", r->name);
	if (r->line.len && d[0] == '{') {
		json_t *t = json_loadb(d, r->line.len, 0, NULL);
		json_t *l = json_object_get(t, "lines");
		json_t *b = json_object_get(t, "blank");
		int rc = 2;

		if (!json_is_integer(l) || !json_is_integer(b) ||
		    json_integer_value(l) < (json_int_t)r->stats.lines ||
		    json_integer_value(b) < 0 ||
		    json_integer_value(b) > json_integer_value(l))
			rc = err_set(err, "'%s': a bad trailer after line "
				     "%zu", r->name, r->stats.lines);
		else {
			r->split_lines = (size_t)json_integer_value(l);
			r->split_blank = (size_t)json_integer_value(b);
		}
		json_decref(t);
		return rc;
	}
	errno = 0;
	v = (r->line.len && d[0] >= '0' && d[0] <= '9') ?
		strtoull(d, &end, 10) : 0;
	if (errno || !r->line.len || d[0] < '0' || d[0] > '9' ||
	    (*end != ' ' && *end != '!'))
		return err_set(err, "'%s': an entry after line %zu is not "
			       "'INDEX LINE': split the prompts again",
			       r->name, r->stats.lines);
	/* split writes the entries in source order */
	if (v >= (unsigned long long)(SIZE_MAX / 2) ||
	    (size_t)v < r->stats.lines)
		return err_set(err, "'%s': the entry for line %llu comes after "
			       "line %zu: split the prompts again", r->name,
			       v + 1, r->stats.lines);
	*index = (size_t)v;
	skip = (size_t)(end - d) + 1;
	if (*end == '!') {
		json_t *j = json_loadb(end + 1, r->line.len - skip,
				       JSON_DECODE_ANY, NULL);

		if (json_is_string(j))
			*reason = xstrdup(json_string_value(j));
		json_decref(j);
		if (!*reason)
			return err_set(err, "'%s': a bad stored reject at "
				       "line %zu", r->name, *index + 1);
		return 1;
	}
	memmove(d, d + skip, r->line.len - skip + 1);
	r->line.len -= skip;
	r->first = 0;
	note_first(r, d, r->line.len);
	return 0;
}

struct prompts *prompts_open(const char *path, size_t max_line,
			     struct err *err)
{
	struct prompts *r = NULL;
	bool is_stdin = strcmp(path, "-") == 0;
	struct stat st;
	int fd;

	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err_set(err, "cannot open '%s': %s", path,
				strerror(errno));
			return NULL;
		}
	}
	/* open(2) accepts a directory and read(2) then fails with EISDIR:
	 * say it at open, as the user would expect */
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, "cannot open '%s': %s", path, strerror(EISDIR));
		if (!is_stdin)
			close(fd);
		return NULL;
	}

	r = xcalloc(1, sizeof(*r));
	r->name = xstrdup(is_stdin ? "<stdin>" : path);
	r->fd = fd;
	r->own_fd = !is_stdin;
	if (max_line == 0)
		max_line = DEFAULT_MAX_LINE;
	if (max_line > LIMIT_MAX_LINE)
		max_line = LIMIT_MAX_LINE;
	r->max_line = max_line;
	r->format = is_stdin ? FORMAT_UNKNOWN : format_of_name(path);
	r->block = xmalloc(BLOCK_SIZE);
	buf_init(&r->line, max_line + 1);
	idset_init(&r->seen);

	/* gzip's magic bytes: the file is compressed (hh-rlhf ships
	 * .jsonl.gz); it is read as it is */
	while (r->end < 2 && !r->eof) {
		if (fill(r) < 0)
			break;	/* the read below says it */
	}
	if (r->end >= 2 && (unsigned char)r->block[0] == 0x1f &&
	    (unsigned char)r->block[1] == 0x8b)
		start_gzip(r);
	/* Read ahead to see a BOM (a pipe may hand out fewer than 3 bytes
	 * at a time) and, usually, the first non-blank byte. */
	while (r->end < 3 && !r->eof) {
		if (fill(r) < 0) {
			err_set(err, "error reading '%s': %s", r->name,
				read_error(r));
			prompts_close(r);
			return NULL;
		}
	}
	if (r->end >= 3 && memcmp(r->block, "\xef\xbb\xbf", 3) == 0)
		r->pos = 3;
	r->check_dups = true;
	while (r->end - r->pos < sizeof(SPLIT_MAGIC) - 1 && !r->eof)
		if (fill(r) < 0)
			break;	/* the next read says it */
	if (r->end - r->pos >= sizeof(SPLIT_MAGIC) - 1 &&
	    memcmp(r->block + r->pos, SPLIT_MAGIC,
		   sizeof(SPLIT_MAGIC) - 1) == 0 &&
	    open_split(r, err) < 0) {
		prompts_close(r);
		return NULL;
	}
	if (r->format == FORMAT_UNKNOWN) {
		for (size_t i = r->pos; i < r->end; i++) {
			unsigned char c = (unsigned char)r->block[i];

			if (is_space(c) || c == '\n')
				continue;
			r->format = c == '{' ? FORMAT_JSONL : FORMAT_TEXT;
			break;
		}
	}
	return r;
}

enum prompts_status prompts_next(struct prompts *r, struct prompt *out,
				 struct reject *rej, struct err *err)
{
	memset(out, 0, sizeof(*out));
	memset(rej, 0, sizeof(*rej));
	for (;;) {
		enum line_status ls = read_line(r);
		char *reason = NULL;
		size_t index = 0;

		if (ls == LINE_ERROR) {
			err_set(err, "error reading '%s': %s", r->name,
				read_error(r));
			return PROMPTS_ERROR;
		}
		if (ls == LINE_EOF && r->split && !r->split_end) {
			err_set(err, "'%s' ends before its trailer (a split "
				"cut short?): split the prompts again",
				r->name);
			return PROMPTS_ERROR;
		}
		if (ls == LINE_EOF) {
			if (r->split) {
				r->stats.lines = r->split_lines;
				r->stats.blank = r->split_blank;
			}
			return PROMPTS_EOF;
		}
		if (r->split) {
			int e = ls == LINE_OK ? split_entry(r, &index, &reason,
							    err)
					      : err_set(err, "'%s': an entry "
							"after line %zu is "
							"longer than "
							"max_line_bytes: split "
							"with the run's limit",
							r->name,
							r->stats.lines);

			if (e < 0)
				return PROMPTS_ERROR;
			if (e == 2) {
				r->split_end = true;
				continue;
			}
			r->stats.lines = index + 1;
			if (e == 1)
				goto reject;
			if (r->line.len > r->max_line)
				ls = LINE_TOO_LONG;
		} else {
			r->stats.lines++;
		}
		/* a too-long line decides the format too, as it would have
		 * had it been in the block prompts_open looked at */
		if (r->format == FORMAT_UNKNOWN && r->first)
			r->format = r->first == '{' ? FORMAT_JSONL
						    : FORMAT_TEXT;
		if (ls == LINE_TOO_LONG) {
			reason = xasprintf("line is longer than the limit of "
					   "%zu bytes", r->max_line);
			goto reject;
		}
		if (!r->first) {
			r->stats.blank++;
			continue;
		}
		/* A message list is a JSON array, so a JSONL line without a
		 * '[' byte and a text line are, whatever else they are, no
		 * message list: prompts_any_messages needs no more of them
		 * (this pass was a second parse of the whole file, 4 % of
		 * the instructions of a run). */
		if (r->lists_only && (r->format != FORMAT_JSONL ||
				      !memchr(r->line.data, '[', r->line.len)))
			continue;
		reason = check_bytes((const unsigned char *)r->line.data,
				     r->line.len);
		if (reason)
			goto reject;
		if (r->format == FORMAT_JSONL) {
			reason = parse_jsonl(r->line.data, r->line.len, out);
			if (reason)
				goto reject;
		} else {
			parse_text(r->line.data, r->line.len, out);
		}
		reason = apply_format(r, out);
		if (reason)
			goto reject;
		if (r->check_dups && (!r->only_own ||
				      shard_owns(&r->shard, out->id)) &&
		    !idset_add(&r->seen, idset_hash(out->id))) {
			reason = prompts_dup_reason(out->id);
			goto reject;
		}
		out->index = r->stats.lines - 1;
		r->stats.ok++;
		return PROMPTS_OK;
reject:
		prompt_release(out);
		rej->line = r->stats.lines;
		rej->reason = reason;
		r->stats.rejected++;
		return PROMPTS_REJECT;
	}
}

void prompts_only_shard(struct prompts *r, const struct shard *s)
{
	r->shard = *s;
	r->only_own = s->n > 1 && s->k != 0;
}

void prompts_check_dups(struct prompts *r, bool on)
{
	r->check_dups = on;
}

bool prompts_is_split(const struct prompts *r)
{
	return r->split;
}

/* Append s to the string array a unless it holds s. */
static void tag_once(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
		if (!strcmp(json_string_value(v), s))
			return;
	json_array_append_new(a, jnew(json_string(s)));
}

json_t *prompts_line_tags(const json_t *o)
{
	static const char *const keys[] = { "category", "technique" };
	json_t *out = jnew(json_array()), *v;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *s = json_string_value(json_object_get(o, keys[i]));
		char *t;

		if (!s)
			continue;
		t = xasprintf("%s:%s", keys[i], s);
		tag_once(out, t);
		free(t);
	}
	json_array_foreach(json_object_get(o, "tags"), i, v)
		if (json_is_string(v))
			tag_once(out, json_string_value(v));
	return out;
}

const char *prompts_line(const struct prompts *r, size_t *len)
{
	*len = r->line.len;
	return r->line.data ? r->line.data : "";
}

const struct prompts_stats *prompts_stats(const struct prompts *r)
{
	return &r->stats;
}

const char *prompts_format(const struct prompts *r)
{
	return r->format == FORMAT_TEXT ? "text" : "jsonl";
}

void prompts_close(struct prompts *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	if (r->z) {
		inflateEnd(r->z);
		free(r->z);
	}
	free(r->zin);
	free(r->name);
	free(r->block);
	buf_release(&r->line);
	idset_release(&r->seen);
	free(r);
}

void prompt_release(struct prompt *p)
{
	if (!p)
		return;
	free(p->id);
	free(p->text);
	json_decref(p->messages);
	memset(p, 0, sizeof(*p));
}

void reject_release(struct reject *r)
{
	if (!r)
		return;
	free(r->reason);
	memset(r, 0, sizeof(*r));
}
