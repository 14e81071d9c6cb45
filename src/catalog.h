/*
 * catalog.h - the category and persuasion-technique files of
 * `caigen prompts generate` and `caigen prompts persuade`.
 *
 * A catalog file is YAML, like a constitution:
 *
 *   name: redteam                 # required
 *   version: 1                    # optional, a positive integer
 *   categories:                   # a list (optional if techniques given)
 *     - id: privacy-violation     # [a-z0-9._-], unique across the set
 *       kind: harm                # harm | helpful
 *       title: "Privacy violation"
 *       instructions: "..."       # what generated requests should ask
 *       seeds: ["...", "..."]     # example requests (optional)
 *   techniques:                   # a list (optional if categories given)
 *     - id: logical-appeal
 *       title: "Logical appeal"
 *       definition: "..."
 *       example: "..."
 *   templates:                    # optional overrides of the built-ins
 *     generate: "...{category}...{instructions}...{examples}...{count}"
 *     persuade: "...{technique}...{definition}...{example}...{request}"
 *
 * Every key shown is required in its item except seeds and version;
 * unknown keys, wrong types, empty texts, repeated ids and unknown
 * placeholders are refused with "file:line:col: message". Several files
 * may be loaded into one catalog (their lists pool; a later template
 * replaces an earlier one).
 *
 * Thread-safety: load from one thread; then read-only.
 */
#ifndef CAIGEN_CATALOG_H
#define CAIGEN_CATALOG_H

#include <stddef.h>

#include "util.h"

struct category {
	char *id, *kind, *title, *instructions;
	char **seeds;
	size_t nseeds;
	char *where;		/* "file:line:col" of its id */
};

struct technique {
	char *id, *title, *definition, *example;
	char *where;
};

struct catalog {
	struct category *cat;
	size_t ncat;
	struct technique *tech;
	size_t ntech;
	char *generate_tpl;	/* NULL: the built-in */
	char *persuade_tpl;
	char **sources;		/* "name@sha256:<hex>" per file */
	size_t nsources;
};

/* Load path into c (zeroed before the first load). -1 with "file:line:
 * col: ..." in err; c is then unchanged. */
int catalog_load(struct catalog *c, const char *path, struct err *err)
	__attribute__((warn_unused_result));
void catalog_release(struct catalog *c);
const struct category *catalog_category(const struct catalog *c,
					const char *id);
const struct technique *catalog_technique(const struct catalog *c,
					  const char *id);
/* Whether template text t uses only the placeholders in allowed (a
 * NULL-ended list) and balanced braces ("{{" "}}" literal). -1 with a
 * reason in err (no position). */
int catalog_check_template(const char *t, const char *const *allowed,
			   struct err *err);
/* Fill template t: each {name} replaced by vals[i] where names[i] ==
 * name. New string. */
char *catalog_fill(const char *t, const char *const *names,
		   const char *const *vals);

#endif
