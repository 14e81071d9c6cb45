/* test_writer.c - partial-line repair, resume scan, whole-line appends. */
#include "harness.h"
#include "writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void put_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static char *get_file(const char *name)
{
	char path[256], *s;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f)
		return strdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = calloc(1, (size_t)n + 1);
	if (fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	fclose(f);
	return s;
}

static void fresh_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/caigen-writer-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
}

static void test_repair_and_scan(void)
{
	struct writer w;
	struct idset done, rej;
	struct writer_resume res;
	struct err err;
	char *s;

	fresh_dir();
	put_file("preferences.jsonl", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"
		 "{\"id\":\"c\",\"pro");
	put_file("rejects.jsonl", "{\"line\":4,\"reason\":\"x\"}\n");
	idset_init(&done);
	idset_init(&rej);
	CHECK(writer_open(&w, dir, "preferences", "", &done, &rej, &res,
			  &err) == 0);
	CHECK(res.records == 2);
	CHECK(res.rejects == 1);
	CHECK(res.repaired_bytes == strlen("{\"id\":\"c\",\"pro"));
	CHECK(idset_has(&done, idset_hash("a")));
	CHECK(idset_has(&done, idset_hash("b")));
	CHECK(!idset_has(&done, idset_hash("c")));
	CHECK(idset_has(&rej, 5));
	CHECK(writer_put(&w, OUT_RECORDS, "{\"id\":\"c\"}", 10, &err) == 0);
	CHECK(writer_close(&w, &err) == 0);
	s = get_file("preferences.jsonl");
	CHECK_STR(s, "{\"id\":\"a\"}\n{\"id\":\"b\"}\n{\"id\":\"c\"}\n");
	free(s);
	idset_release(&done);
	idset_release(&rej);
}

static void test_no_newline_at_all(void)
{
	struct writer w;
	struct idset done, rej;
	struct writer_resume res;
	struct err err;
	char *s;

	fresh_dir();
	put_file("preferences.jsonl", "{\"id\":\"torn");
	idset_init(&done);
	idset_init(&rej);
	CHECK(writer_open(&w, dir, "preferences", ".shard-00001-of-00002",
			  &done, &rej, &res, &err) == 0);
	CHECK(res.records == 0);
	writer_close(&w, &err);
	/* the shard files are separate; the unsharded one is untouched */
	s = get_file("preferences.jsonl");
	CHECK_STR(s, "{\"id\":\"torn");
	free(s);
	CHECK(writer_open(&w, dir, "preferences", "", &done, &rej, &res,
			  &err) == 0);
	CHECK(res.repaired_bytes == strlen("{\"id\":\"torn"));
	writer_close(&w, &err);
	s = get_file("preferences.jsonl");
	CHECK_STR(s, "");
	free(s);
	idset_release(&done);
	idset_release(&rej);
}

static void test_manifest_atomic(void)
{
	struct writer w;
	struct idset done, rej;
	struct writer_resume res;
	struct err err;
	char *s;

	fresh_dir();
	idset_init(&done);
	idset_init(&rej);
	CHECK(writer_open(&w, dir, "preferences", "", &done, &rej, &res,
			  &err) == 0);
	CHECK(writer_manifest(&w, "{\"a\":1}", &err) == 0);
	CHECK(writer_manifest(&w, "{\"a\":2}", &err) == 0);
	writer_close(&w, &err);
	s = get_file("manifest.json");
	CHECK_STR(s, "{\"a\":2}\n");
	free(s);
	s = get_file("manifest.json.tmp");
	CHECK_STR(s, "");
	free(s);
	idset_release(&done);
	idset_release(&rej);
}

static void test_unwritable_dir(void)
{
	struct writer w;
	struct idset done, rej;
	struct writer_resume res;
	struct err err;

	idset_init(&done);
	idset_init(&rej);
	CHECK(writer_open(&w, "/proc/nope/out", "preferences", "", &done,
			  &rej, &res, &err) < 0);
	CHECK(strstr(err.msg, "cannot create '/proc/nope'") != NULL);
}

static void test_disk_full(void)
{
	struct writer w;
	struct idset done, rej;
	struct writer_resume res;
	struct err err;
	char big[1000];

	/* /dev/full answers every write with ENOSPC */
	fresh_dir();
	idset_init(&done);
	idset_init(&rej);
	CHECK(writer_open(&w, dir, "preferences", "", &done, &rej, &res,
			  &err) == 0);
	close(w.fd[OUT_RECORDS]);
	w.fd[OUT_RECORDS] = open("/dev/full", O_WRONLY);
	memset(big, 'x', sizeof(big));
	CHECK(writer_put(&w, OUT_RECORDS, big, sizeof(big), &err) == 0);
	CHECK(writer_flush(&w, 0, &err) < 0);
	CHECK(strstr(err.msg, "No space left on device") != NULL);
	writer_close(&w, &err);
	idset_release(&done);
	idset_release(&rej);
}

TESTS(T(test_repair_and_scan), T(test_no_newline_at_all),
      T(test_manifest_atomic), T(test_unwritable_dir), T(test_disk_full))
