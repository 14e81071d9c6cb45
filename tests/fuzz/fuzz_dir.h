/*
 * fuzz_dir.h - a helper for the fuzz targets that read a whole output
 * folder: the input is cut into files at lines "%%% NAME" (NAME one of the
 * target's list; the bytes up to the next such line are its content), the
 * folder (one per process, made once, removed at exit) is emptied first.
 */
#ifndef CAIGEN_FUZZ_DIR_H
#define CAIGEN_FUZZ_DIR_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[] = "/tmp/caigen-fuzz-dir.XXXXXX";

static void fuzz_dir_empty(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *de;
	char p[512];

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		snprintf(p, sizeof(p), "%s/%s", fuzz_dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

static void fuzz_dir_cleanup(void)
{
	fuzz_dir_empty();
	rmdir(fuzz_dir);
}

/* Fill the folder from the input; returns its path. names[] ends with
 * NULL; a section naming no file of the list is dropped. */
static const char *fuzz_dir_fill(const uint8_t *data, size_t size,
				 const char *const *names)
{
	const char *p = (const char *)data, *end = p + size;
	const char *name = names[0];

	static int made;

	if (!made) {
		if (!mkdtemp(fuzz_dir))
			abort();
		atexit(fuzz_dir_cleanup);
		made = 1;
	}
	fuzz_dir_empty();
	while (p < end) {
		const char *mark = NULL, *next;
		char path[512];
		FILE *f;

		for (const char *q = p; q + 4 <= end; q++)
			if ((q == (const char *)data || q[-1] == '\n') &&
			    !memcmp(q, "%%% ", 4)) {
				mark = q;
				break;
			}
		next = mark ? mark : end;
		if (name && next > p) {
			snprintf(path, sizeof(path), "%s/%s", fuzz_dir, name);
			f = fopen(path, "ab");
			if (!f || fwrite(p, 1, (size_t)(next - p), f) !=
			    (size_t)(next - p) || fclose(f) != 0)
				abort();
		}
		if (!mark)
			break;
		/* the name runs to the end of the marker's line */
		p = mark + 4;
		name = NULL;
		for (size_t i = 0; names[i]; i++) {
			size_t l = strlen(names[i]);

			if ((size_t)(end - p) >= l && !memcmp(p, names[i], l) &&
			    (p + l == end || p[l] == '\n')) {
				name = names[i];
				break;
			}
		}
		while (p < end && *p != '\n')
			p++;
		if (p < end)
			p++;
	}
	return fuzz_dir;
}

#endif
