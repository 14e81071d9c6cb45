/*
 * test_card.c - the dataset card rendered from folders made here: many
 * shard files become one glob in configs, YAML and Markdown escaping of
 * names, the size category, and the errors (no data, a broken manifest).
 */
#include "harness.h"
#include "card.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char *render(const char *dir, int *rc)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	struct err err;

	*rc = card_render(dir, f, &err);
	fclose(f);
	return text;
}

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(path);
}

static const char rec[] =
	"{\"schema\":\"caigen.preference/1\",\"id\":\"%d\",\"p\":0.7,"
	"\"responses\":[\"a\",\"b\"],\"principle\":{\"id\":\"odd|id\","
	"\"tags\":[\"t<1>\"]},\"judgments\":[{\"order\":\"AB\",\"p_a\":0.7,"
	"\"other_mass\":0.2,\"method\":\"logprobs\"}]}\n";

static void test_many_shards_glob(void)
{
	char tmpl[] = "/tmp/caigen-card.XXXXXX";
	char *base = mkdtemp(tmpl), *dir, *text;
	int rc;

	CHECK(base != NULL);
	if (!base)
		return;
	/* a folder name that needs YAML escaping */
	dir = xasprintf("%s/we\"ird", base);
	CHECK(mkdir(dir, 0700) == 0);
	for (int k = 0; k < CARD_MAX_LISTED + 1; k++) {
		char *name = xasprintf("preferences.shard-%05d-of-%05d.jsonl",
				       k, CARD_MAX_LISTED + 1);
		char *line = xasprintf(rec, k);

		put(dir, name, line);
		free(name);
		free(line);
	}
	text = render(dir, &rc);
	CHECK(rc == 0);
	CHECK(strstr(text, "pretty_name: \"we\\\"ird\"\n"));
	CHECK(strstr(text, "    path: \"preferences.shard-*-of-*.jsonl\"\n"));
	CHECK(!strstr(text, "    - \"preferences.shard-00000"));
	CHECK(strstr(text, "| preferences, all shards | 33 |"));
	CHECK(strstr(text, "- n<1K\n"));
	CHECK(strstr(text, "no `manifest.json`"));
	/* Markdown: no cell break, no HTML from a principle or tag name */
	CHECK(strstr(text, "| `odd\\|id` | t&lt;1&gt; | 33 |"));
	CHECK(strstr(text, "- records: 33 (33 preference, 0 critique)"));
	CHECK(strstr(text, "0.8000"));	/* letter mass 1 - 0.2 */
	CHECK(!strstr(text, "## Judge evaluation"));
	free(text);

	/* a broken manifest is an error naming it */
	put(dir, "manifest.json", "{\"counts\": ");
	text = render(dir, &rc);
	CHECK(rc < 0);
	free(text);
	for (int k = 0; k < CARD_MAX_LISTED + 1; k++) {
		char *path = xasprintf("%s/preferences.shard-%05d-of-%05d"
				       ".jsonl", dir, k, CARD_MAX_LISTED + 1);

		unlink(path);
		free(path);
	}
	/* the shards gone, nothing is left to describe */
	text = render(dir, &rc);
	CHECK(rc < 0);
	free(text);
	text = xasprintf("rm -rf '%s'", base);
	CHECK(system(text) == 0);
	free(text);
	free(dir);
}

TESTS(T(test_many_shards_glob))
