/*
 * fuzz_constitution.c - libFuzzer target for the constitution loader:
 * the input is written to a .yaml file and loaded, then finished for
 * every stage. Besides what ASan and UBSan catch, a failure must come
 * with a message and a success must hold principles that serve a stage.
 * Build and run: make fuzz FUZZ_SECONDS=N (tests/fuzz/run.sh).
 */
#include "constitution.h"
#include "fuzz_file.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("c.yaml", data, size);
	struct constitution c;
	struct err err;
	int rc;

	err.msg[0] = '\0';
	constitution_init(&c);
	rc = constitution_load(&c, path, &err);
	if (rc == 0)
		rc = constitution_finish(&c, 0, &err);
	if (rc < 0 && !err.msg[0])
		abort();	/* every error says what is wrong */
	if (rc == 0 && c.n == 0)
		abort();
	constitution_release(&c);
	return 0;
}
