/*
 * constitution.h - principles, prompt templates and weighted draws.
 *
 * A constitution file is YAML:
 *
 *   name: harmless
 *   version: 1
 *   principles:
 *     - id: harm-dangerous          # stable, unique across every loaded file
 *       tags: [harm, safety]
 *       weight: 1                   # > 0, relative draw weight (default 1)
 *       compare: "..."              # comparison (RL) stage
 *       critique: "..."             # critique request (SL stage)
 *       revise: "..."               # revision request (SL stage)
 *   templates:                      # optional overrides of built-ins
 *     compare: "...{conversation}...{principle}...{a}...{b}..."
 *     compare_system: "..."
 *     critique: "...{principle}..."
 *     revise: "...{principle}..."
 *   fewshot:                        # critique stage: example dialogues
 *     - prompt: "..."               # every key required, non-empty
 *       answer: "..."
 *       critique_request: "..."
 *       critique: "..."
 *       revision_request: "..."
 *       revision: "..."
 *
 * Few-shot dialogues of every loaded file are pooled in load order; the
 * critique stage prepends them as messages (critique.h).
 *
 * A principle serves the compare stage if it has `compare`, the critique
 * stage if it has both `critique` and `revise`. Loading several files pools
 * their principles; each remembers the file it came from ("name@sha256:hex").
 *
 * Principle texts are trimmed of surrounding white space; templates are
 * kept verbatim (write `|-` to drop a block scalar's final newline). In a
 * template "{{" and "}}" stand for literal braces, "{name}" is a
 * placeholder, and a lone brace is an error.
 *
 * Errors are "file:line:col: message" in err->msg.
 *
 * Pointers into c->p (from draw and find) stay valid until the next load or
 * release.
 *
 * Thread-safety: load and release from one thread; once loaded the struct is
 * read-only and every other function may be called from any thread.
 */
#ifndef CAIGEN_CONSTITUTION_H
#define CAIGEN_CONSTITUTION_H

#include <stddef.h>

#include "util.h"

enum stage {
	STAGE_COMPARE = 0,
	STAGE_CRITIQUE = 1,
	STAGE_COUNT
};

struct principle {
	char *id;
	char **tags;
	size_t ntags;
	double weight;
	char *compare;		/* NULL if the principle does not serve it */
	char *critique;		/* NULL unless the critique stage is served */
	char *revise;
	const char *source;	/* "name@sha256:<64 hex>", owned by the set */
	char *where;		/* "file:line:col" of its id, for messages */
};

enum template_kind {
	TPL_COMPARE = 0,	/* {conversation} {principle} {a} {b} */
	TPL_COMPARE_SYSTEM,	/* no placeholders */
	TPL_CRITIQUE,		/* {principle} */
	TPL_REVISE,		/* {principle} */
	TPL_COUNT
};

/* One worked critique/revision example. */
struct fewshot {
	char *prompt, *answer;
	char *critique_request, *critique;
	char *revision_request, *revision;
};

struct constitution {
	struct principle *p;
	size_t n;
	struct fewshot *fewshot;
	size_t nfewshot;
	/* per stage: indexes into p[] of the principles serving it, and the
	 * cumulative weights for draws */
	size_t *stage_idx[STAGE_COUNT];
	double *stage_cum[STAGE_COUNT];
	size_t stage_n[STAGE_COUNT];
	char *tpl[TPL_COUNT];	/* overrides; NULL means the built-in */
	char **sources;		/* one "name@sha256:hex" per loaded file */
	size_t nsources;
};

void constitution_init(struct constitution *c);
/*
 * Parse FILE and add its principles and templates to c (a later file's
 * template overrides an earlier one's). Checks: YAML syntax, unknown keys,
 * wrong types, empty principle list, missing/duplicate ids, weight <= 0,
 * principles that serve no stage, unknown {placeholders} in templates.
 * On error returns -1, fills err, and leaves c as it was.
 */
int constitution_load(struct constitution *c, const char *path,
		      struct err *err) __attribute__((warn_unused_result));
/* After all loads: build draw tables. -1 if no principle serves `need`
 * (a bitmask of 1 << STAGE_*), with the reason in err. */
int constitution_finish(struct constitution *c, unsigned need,
			struct err *err) __attribute__((warn_unused_result));
void constitution_release(struct constitution *c);

/* Weighted draw for a stage; u in [0,1). NULL if the stage has none. */
const struct principle *constitution_draw(const struct constitution *c,
					  enum stage s, double u);
const struct principle *constitution_find(const struct constitution *c,
					  const char *id);
/* The template in force: the override if loaded, else the built-in. */
const char *constitution_template(const struct constitution *c,
				  enum template_kind k);
/* The built-in template text. */
const char *constitution_builtin_template(enum template_kind k);

#endif
