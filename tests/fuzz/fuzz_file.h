/*
 * fuzz_yaml.h - a helper for the file-reading fuzz targets: write the
 * input to a temp file in a directory of our own (made once per process,
 * removed at exit) and return its path.
 */
#ifndef CAIGEN_FUZZ_FILE_H
#define CAIGEN_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static char fuzz_dir[] = "/tmp/caigen-fuzz.XXXXXX";
static char fuzz_path[64];

static void fuzz_cleanup(void)
{
	unlink(fuzz_path);
	rmdir(fuzz_dir);
}

static const char *fuzz_file(const char *name, const uint8_t *p, size_t n)
{
	FILE *f;

	if (!fuzz_path[0]) {
		if (!mkdtemp(fuzz_dir))
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "%s/%s", fuzz_dir,
			 name);
		atexit(fuzz_cleanup);
	}
	f = fopen(fuzz_path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0)
		abort();
	return fuzz_path;
}

#endif
