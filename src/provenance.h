/*
 * provenance.h - what made a report: the judge models that labelled its
 * records, the input it read, the time and caigen's version (issue 21
 * item 9). Used by eval.json and its HTML page, the audit (JSON, text
 * and HTML) and the dataset card.
 *
 * Judge models are taken from the records themselves, so a report on an
 * existing folder names the judges that made its labels, not the ones a
 * later command line names: per preference record (caigen.preference/1
 * or /2) `models.judge`, each string of `models.panel`, and each
 * `comparisons[].panel[].model`. Names are kept in the order first seen
 * (so a run's main judge comes first), each once; once PROV_MAX_MODELS
 * names are kept, a name not among them is only counted, each time it is
 * met (a hostile file naming a new model per line costs no more).
 *
 * JSON (provenance_json), keys only ever added:
 *   {"judge_models": [name...], "time": "YYYY-MM-DDTHH:MM:SSZ",
 *    "caigen_version": CAIGEN_VERSION}
 * plus "judge_models_omitted": n, the mentions only counted, when any. The
 * caller adds what it read: "input" (eval.json: one path) or "inputs"
 * (the audit: the paths on its command line).
 *
 * The time is the report's: now, or SOURCE_DATE_EPOCH when that is set
 * to a whole number of seconds (the reproducible-builds convention), so
 * two runs can give byte-identical reports.
 *
 * Thread-safety: none; one struct per thread.
 */
#ifndef CAIGEN_PROVENANCE_H
#define CAIGEN_PROVENANCE_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define PROV_MAX_MODELS 64

struct provenance {
	char *model[PROV_MAX_MODELS];	/* owned, first seen first */
	size_t n;
	size_t omitted;			/* mentions of names past the cap */
};

/* Zero-initialise, or: */
void provenance_init(struct provenance *p);
void provenance_release(struct provenance *p);

/* One judge model name (NULL and "" are ignored). */
void provenance_add_model(struct provenance *p, const char *name);
/* The judge models of one record (see above); anything else is ignored. */
void provenance_add_record(struct provenance *p, json_t *rec);

/* The report's time: SOURCE_DATE_EPOCH when valid, else now. */
time_t provenance_now(void);
/* t as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf (at least 24 bytes). */
void provenance_iso(time_t t, char *buf, size_t n);

/* The block above at time provenance_now() (new reference). */
json_t *provenance_json(const struct provenance *p);

#endif
