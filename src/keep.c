/* keep.c - the journal of paid answers (see keep.h). */
#include "keep.h"
#include "buf.h"
#include "idset.h"
#include "jsonw.h"
#include "rng.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct keep {
	pthread_mutex_t lock;
	int fd;
	char *path;
	off_t size;		/* bytes of whole lines */
	struct idmap at;	/* hash64(key) -> offset of its line: the
				 * answers found at open, never this run's */
	double synced;		/* when the file was last synced */
	bool dirty;
	size_t hits;
};

static uint64_t key_hash(const char *key)
{
	return hash64(key, strlen(key));
}

/* The line at offset `at`, malloc'ed without its '\n'; NULL on a read
 * error. */
static char *line_at(int fd, off_t at)
{
	struct buf b;
	char chunk[8192];

	buf_init(&b, (size_t)1 << 30);
	for (;;) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), at);
		char *nl;

		if (n <= 0) {
			buf_release(&b);
			return NULL;
		}
		nl = memchr(chunk, '\n', (size_t)n);
		if (buf_add(&b, chunk, nl ? (size_t)(nl - chunk) :
			    (size_t)n) < 0) {
			buf_release(&b);
			return NULL;
		}
		if (nl)
			break;
		at += n;
	}
	return buf_detach(&b);
}

/* Parse a journal line: its key (borrowed from *root) and reply. */
static int parse_line(const char *line, json_t **root, const char **key,
		      const char **reply, size_t *len)
{
	json_t *k, *r;

	*root = json_loads(line, 0, NULL);
	if (json_is_string(json_object_get(*root, "forget"))) {
		*key = NULL;	/* a forget line */
		return 0;
	}
	k = json_object_get(*root, "key");
	r = json_object_get(*root, "reply");
	if (!json_is_string(k) || !json_is_string(r)) {
		json_decref(*root);
		*root = NULL;
		return -1;
	}
	*key = json_string_value(k);
	*reply = json_string_value(r);
	*len = json_string_length(r);
	return 0;
}

/* An answer line seen on open: its key, its prompt, where it is. */
struct seen {
	uint64_t key, id, at;
};

static uint64_t id_hash(const char *id)
{
	return id ? hash64(id, strlen(id)) | 1 : 0;
}

struct keep *keep_open(const char *path, struct err *err)
{
	struct keep *k = xcalloc(1, sizeof(*k));
	struct seen *seen = NULL;
	size_t nseen = 0, capseen = 0;
	struct idmap forgot;	/* prompt -> offset of its last forget */
	FILE *f;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	off_t at = 0;

	k->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (k->fd < 0) {
		err_set(err, "cannot open '%s': %s", path, strerror(errno));
		free(k);
		return NULL;
	}
	idmap_init(&k->at);
	idmap_init(&forgot);
	f = fdopen(dup(k->fd), "r");
	if (!f) {
		err_set(err, "cannot read '%s': %s", path, strerror(errno));
		close(k->fd);
		free(k);
		return NULL;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *root;
		const char *key, *reply;
		size_t len;

		lineno++;
		if (line[n - 1] != '\n')
			break;		/* partial last line: cut below */
		line[n - 1] = '\0';
		if (parse_line(line, &root, &key, &reply, &len) < 0) {
			err_set(err, "%s:%zu: not a kept answer (a JSON object "
				"with the strings key and reply); delete the "
				"file to ask again", path, lineno);
			free(line);
			fclose(f);
			free(seen);
			idmap_release(&forgot);
			idmap_release(&k->at);
			close(k->fd);
			free(k);
			return NULL;
		}
		if (!key) {	/* answers before it are not to be used */
			uint64_t h = id_hash(json_string_value(
				json_object_get(root, "forget")));

			idmap_set(&forgot, h, (uint64_t)at);
		} else {
			if (nseen == capseen) {
				capseen = capseen ? 2 * capseen : 1024;
				seen = xrealloc(seen, capseen * sizeof(*seen));
			}
			seen[nseen].key = key_hash(key);
			seen[nseen].id = id_hash(json_string_value(
				json_object_get(root, "id")));
			seen[nseen++].at = (uint64_t)at;
		}
		json_decref(root);
		at += n;
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < nseen; i++) {
		uint64_t last;

		if (seen[i].id && idmap_get(&forgot, seen[i].id, &last) &&
		    last > seen[i].at)
			continue;	/* its prompt failed since */
		idmap_put(&k->at, seen[i].key, seen[i].at, NULL);
	}
	free(seen);
	idmap_release(&forgot);
	if (ftruncate(k->fd, at) < 0) {
		err_set(err, "cannot cut '%s': %s", path, strerror(errno));
		idmap_release(&k->at);
		close(k->fd);
		free(k);
		return NULL;
	}
	k->size = at;
	k->path = xstrdup(path);
	k->synced = now_sec();
	pthread_mutex_init(&k->lock, NULL);
	return k;
}

char *keep_find(struct keep *k, const char *key)
{
	uint64_t at;
	char *line, *out = NULL;
	json_t *root;
	const char *lkey, *reply;
	size_t len;

	pthread_mutex_lock(&k->lock);
	if (!idmap_get(&k->at, key_hash(key), &at)) {
		pthread_mutex_unlock(&k->lock);
		return NULL;
	}
	pthread_mutex_unlock(&k->lock);
	line = line_at(k->fd, (off_t)at);
	if (line && parse_line(line, &root, &lkey, &reply, &len) == 0) {
		if (strcmp(lkey, key) == 0) {
			out = xmalloc(len + 1);
			memcpy(out, reply, len);
			out[len] = '\0';
		}
		json_decref(root);
	}
	free(line);
	if (out) {
		pthread_mutex_lock(&k->lock);
		k->hits++;
		pthread_mutex_unlock(&k->lock);
	}
	return out;
}

/* Append one line (the NUL of s becomes its newline), under the lock. */
/* s: n bytes, the line with its '\n' */
static int append(struct keep *k, const char *s, size_t n, struct err *err)
{
	ssize_t w;

	w = write(k->fd, s, n);
	if (w == (ssize_t)n) {
		k->size += (off_t)w;
		k->dirty = true;
		return 0;
	}
	if (w > 0 && ftruncate(k->fd, k->size) < 0) {
		/* the next open cuts the partial line */
	}
	return err_set(err, "cannot write '%s': %s", k->path,
		       w < 0 ? strerror(errno) : "short write");
}

static void sync_now(struct keep *k, bool force)
{
	if (k->dirty && (force || now_sec() - k->synced >= KEEP_SYNC_SECONDS)) {
		if (fdatasync(k->fd) < 0) {
			/* reported at the next write, if the disk is gone */
		}
		k->synced = now_sec();
		k->dirty = false;
	}
}

int keep_forget(struct keep *k, const char *id, struct err *err)
{
	json_t *o = json_pack("{s:s}", "forget", id);
	char *line = json_dumps(o, JSON_COMPACT);
	size_t n;
	int rc;

	json_decref(o);
	if (!line)
		return err_set(err, "an id cannot be kept (not UTF-8)");
	n = strlen(line);
	line[n++] = '\n';	/* over its NUL: written by length */
	pthread_mutex_lock(&k->lock);
	rc = append(k, line, n, err);
	sync_now(k, false);
	pthread_mutex_unlock(&k->lock);
	free(line);
	return rc;
}

/* The line of an answer, as json_dumps(JSON_COMPACT) writes the object
 * {"id","key","reply"}, with its '\n'; written straight (jsonw.h), which
 * costs a fraction of building and dumping a tree of a reply with its
 * logprobs. NULL when a string is not UTF-8. */
static char *answer_line(const char *key, const char *id, const char *body,
			 size_t len, size_t *n)
{
	struct buf b;

	if (!jsonw_utf8(body, len) || !jsonw_utf8(key, strlen(key)) ||
	    (id && !jsonw_utf8(id, strlen(id))))
		return NULL;
	buf_init(&b, SIZE_MAX);
	if ((id && (buf_addstr(&b, "{\"id\":") < 0 ||
		    jsonw_cstr(&b, id) < 0 || buf_addstr(&b, ",") < 0)) ||
	    (!id && buf_addstr(&b, "{") < 0) ||
	    buf_addstr(&b, "\"key\":") < 0 || jsonw_cstr(&b, key) < 0 ||
	    buf_addstr(&b, ",\"reply\":") < 0 ||
	    jsonw_str(&b, body, len) < 0 || buf_addstr(&b, "}\n") < 0) {
		buf_release(&b);
		return NULL;
	}
	*n = b.len;
	return buf_detach(&b);
}

int keep_put(struct keep *k, const char *key, const char *id,
	     const char *body, size_t len, struct err *err)
{
	char *line;
	size_t n = 0;
	int rc = 0;

	line = answer_line(key, id, body, len, &n);
	if (!line) {
		/* not UTF-8: as jansson made it (a string it refuses is
		 * left out, or the whole line) */
		json_t *o = json_object();

		if (id)
			json_object_set_new(o, "id", json_string(id));
		json_object_set_new(o, "key", json_string(key));
		json_object_set_new(o, "reply", json_stringn(body, len));
		line = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (!line)
			return err_set(err, "a reply cannot be kept (not UTF-8)");
		n = strlen(line);
		line[n++] = '\n';	/* over its NUL: written by length */
	}
	pthread_mutex_lock(&k->lock);
	/* this run's answers are not indexed (keep.h): a key from the open
	 * is there already; one put twice in a run goes in twice, and the
	 * next open keeps its first */
	if (!idmap_has(&k->at, key_hash(key)))
		rc = append(k, line, n, err);
	sync_now(k, false);
	pthread_mutex_unlock(&k->lock);
	free(line);
	return rc;
}

size_t keep_indexed(struct keep *k)
{
	size_t n;

	pthread_mutex_lock(&k->lock);
	n = k->at.n;
	pthread_mutex_unlock(&k->lock);
	return n;
}

size_t keep_hits(struct keep *k)
{
	size_t n;

	pthread_mutex_lock(&k->lock);
	n = k->hits;
	pthread_mutex_unlock(&k->lock);
	return n;
}

void keep_close(struct keep *k)
{
	if (!k)
		return;
	sync_now(k, true);
	close(k->fd);
	idmap_release(&k->at);
	pthread_mutex_destroy(&k->lock);
	free(k->path);
	free(k);
}
