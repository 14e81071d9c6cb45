/*
 * report_html.h - the audit report as one self-contained HTML page.
 *
 * The page needs no network and no scripts: inline CSS and inline SVG
 * charts, each an <svg> with a fixed id:
 *   chart-draws-compare, chart-draws-critique
 *                        draws vs expected draws per principle (only for
 *                        a stage with draws); flagged principles in red
 *   chart-p-hist         histogram of the label p (20 bins)
 *   chart-position-bias  position bias per principle, with the overall
 *                        rate as a dashed line
 * followed by the principle tables. Text from the data is HTML-escaped.
 */
#ifndef CAIGEN_REPORT_HTML_H
#define CAIGEN_REPORT_HTML_H

#include <jansson.h>

#include "util.h"

/* Write the report (the JSON of audit_report) to path. -1 with err if
 * the file cannot be written. */
/* s with < > & " ' as HTML entities, to f (NULL writes nothing). */
void report_html_escape(FILE *f, const char *s);

int report_html_write(json_t *report, const char *path, struct err *err)
	__attribute__((warn_unused_result));

/* A report's "provenance" block (provenance.h) as table#provenance: the
 * judge models, the input ("input", or the list "inputs"), the time and
 * caigen's version, each escaped; nothing when prov is not an object. */
void report_html_provenance(FILE *f, json_t *prov);

#endif
