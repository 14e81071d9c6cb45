/*
 * fuzz_config.c - libFuzzer target for the run-config loader: the input is
 * written to a .yaml file, merged over the defaults and validated. A
 * failure must come with a message; a success must leave a config that
 * serialises for the manifest. No keys are read (no environment step).
 */
#include "config.h"
#include "fuzz_file.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_file("run.yaml", data, size);
	struct config c;
	struct err err;
	int rc;

	err.msg[0] = '\0';
	config_init(&c);
	rc = config_load_yaml(&c, path, &err);
	if (rc == 0)
		rc = config_validate(&c, &err);
	if (rc < 0 && !err.msg[0])
		abort();
	if (rc == 0) {
		json_t *j = config_to_json(&c);

		if (!json_is_object(j))
			abort();
		json_decref(j);
	}
	config_release(&c);
	return 0;
}
