/*
 * report_html.c - render the audit report (its JSON) as an HTML page with
 * inline SVG bar charts. Layout is computed here in pixels; the charts
 * scale with the page through their viewBox.
 */
#include "report_html.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define CHART_W		1000
#define LABEL_W		260
#define BAR_H		18
#define ROW_H		24
#define PAD		30

static const char *const stage_names[] = { "compare", "critique" };

static json_t *get(json_t *o, const char *a, const char *b, const char *c)
{
	o = json_object_get(o, a);
	if (b)
		o = json_object_get(o, b);
	if (c)
		o = json_object_get(o, c);
	return o;
}

static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

void report_html_escape(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* The strings of a JSON array (or one string), comma separated. */
static void html_list(FILE *f, json_t *v, const char *none)
{
	json_t *e;
	size_t i;

	if (json_is_string(v)) {
		report_html_escape(f, json_string_value(v));
		return;
	}
	if (!json_array_size(v)) {
		fputs(none, f);
		return;
	}
	json_array_foreach(v, i, e) {
		if (i)
			fputs(", ", f);
		report_html_escape(f, json_string_value(e));
	}
}

void report_html_provenance(FILE *f, json_t *prov)
{
	json_t *in = json_object_get(prov, "input");
	json_t *more = json_object_get(prov, "judge_models_omitted");

	if (!json_is_object(prov))
		return;
	fputs("<table id='provenance'><tr><th colspan='2'>provenance"
	      "</th></tr>\n<tr><td>judge model(s)</td><td "
	      "class='id'>", f);
	html_list(f, json_object_get(prov, "judge_models"),
		  "none named in the records");
	if (json_integer_value(more) > 0)
		fprintf(f, " (and %lld more mentions of other models)",
			(long long)json_integer_value(more));
	fputs("</td></tr>\n<tr><td>input</td><td class='id'>", f);
	html_list(f, in ? in : json_object_get(prov, "inputs"), "none");
	fputs("</td></tr>\n<tr><td>time (UTC)</td><td class='id'>", f);
	report_html_escape(f, json_string_value(json_object_get(prov,
								"time")));
	fputs("</td></tr>\n<tr><td>caigen version</td><td class='id'>", f);
	report_html_escape(f, json_string_value(json_object_get(prov,
						"caigen_version")));
	fputs("</td></tr>\n</table>\n", f);
}

/* An axis maximum at or above x whose quarters are round numbers: 4
 * times 1, 2, 2.5 or 5 times a power of ten (at least 1). */
static double nice_max(double x)
{
	static const double m[] = { 1, 2, 2.5, 5, 10 };
	double q = x / 4, p;

	if (!(q > 1))
		return 4;
	p = pow(10, floor(log10(q)));
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (q <= m[i] * p && (m[i] != 2.5 || p >= 10))
			return 4 * m[i] * p;
	return 40 * p;
}

static void axis_ticks(FILE *f, double max, int x0, int x1, int y0, int y1,
		       bool percent)
{
	for (int k = 0; k <= 4; k++) {
		double v = max * k / 4;
		double x = x0 + (x1 - x0) * k / 4.0;

		fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' "
			"class='grid'/>", x, y0, x, y1);
		if (percent)
			fprintf(f, "<text x='%.1f' y='%d' class='tick'>%.0f%%"
				"</text>", x, y1 + 14, 100 * v);
		else
			fprintf(f, "<text x='%.1f' y='%d' class='tick'>%g"
				"</text>", x, y1 + 14, v);
	}
}

/* Draws vs expected draws per principle for one stage. */
static void chart_draws(FILE *f, json_t *rep, int s)
{
	json_t *rows = json_object_get(rep, "principles"), *r;
	const char *st = stage_names[s];
	double max = 0;
	size_t i, n = 0;
	int h, x0 = LABEL_W, x1 = CHART_W - PAD;

	json_array_foreach(rows, i, r) {
		double d = num(get(r, "coverage", st, "draws"));
		double e = num(get(r, "coverage", st, "expected_draws"));

		if (d > 0 || e > 0)
			n++;
		if (d > max)
			max = d;
		if (e > max)
			max = e;
	}
	max = nice_max(max);
	h = (int)n * ROW_H + 2 * PAD;
	fprintf(f, "<h2>Draws per principle, %s stage</h2>\n"
		"<svg id='chart-draws-%s' viewBox='0 0 %d %d' width='%d' "
		"height='%d' xmlns='http://www.w3.org/2000/svg'>", st, st,
		CHART_W, h, CHART_W, h);
	axis_ticks(f, max, x0, x1, PAD / 2, h - PAD, false);
	n = 0;
	json_array_foreach(rows, i, r) {
		json_t *cov = get(r, "coverage", st, NULL);
		double d = num(json_object_get(cov, "draws"));
		double e = num(json_object_get(cov, "expected_draws"));
		bool flag = json_is_string(json_object_get(cov, "flag"));
		int y = PAD / 2 + (int)n * ROW_H + 3;

		if (!(d > 0 || e > 0))
			continue;
		n++;
		fprintf(f, "<text x='%d' y='%d' class='name'>", x0 - 6,
			y + BAR_H - 5);
		report_html_escape(f, json_string_value(json_object_get(r, "id")));
		fprintf(f, "</text><rect x='%d' y='%d' width='%.1f' "
			"height='%d' class='%s'><title>", x0, y,
			(x1 - x0) * (d > 0 ? d : 0) / max, BAR_H,
			flag ? "bar flag" : "bar");
		report_html_escape(f, json_string_value(json_object_get(r, "id")));
		fprintf(f, ": %.0f draws", d);
		if (e > 0)
			fprintf(f, ", %.1f expected", e);
		fputs("</title></rect>", f);
		if (e > 0)
			fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' "
				"class='expect'/>", x0 + (x1 - x0) * e / max,
				y - 2, x0 + (x1 - x0) * e / max,
				y + BAR_H + 2);
	}
	fprintf(f, "<rect x='%d' y='%d' width='14' height='10' "
		"class='bar'/><text x='%d' y='%d' class='legend'>"
		"draws</text>"
		"<line x1='%d' y1='%d' x2='%d' y2='%d' class='expect'/>"
		"<text x='%d' y='%d' class='legend'>"
		"expected</text><rect x='%d' y='%d' width='14' height='10' "
		"class='bar flag'/><text x='%d' y='%d' class='legend'>"
		"outside 99%% interval</text></svg>\n",
		10, h - 16, 28, h - 7, 110, h - 18, 110, h - 4, 118, h - 7,
		200, h - 16, 218, h - 7);
}

static void chart_hist(FILE *f, json_t *rep)
{
	json_t *counts = get(rep, "p_histogram", "counts", NULL);
	size_t nb = json_array_size(counts);
	double max = 0, bw;
	int h = 320, x0 = 60, x1 = CHART_W - PAD, y0 = PAD, y1 = h - PAD;

	for (size_t b = 0; b < nb; b++)
		if (num(json_array_get(counts, b)) > max)
			max = num(json_array_get(counts, b));
	max = nice_max(max);
	bw = nb ? (double)(x1 - x0) / (double)nb : 0;
	fprintf(f, "<h2>Histogram of the label p</h2>\n"
		"<svg id='chart-p-hist' viewBox='0 0 %d %d' width='%d' "
		"height='%d' xmlns='http://www.w3.org/2000/svg'>",
		CHART_W, h, CHART_W, h);
	for (int k = 0; k <= 4; k++) {
		double y = y1 - (y1 - y0) * k / 4.0;

		fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' "
			"class='grid'/><text x='%d' y='%.1f' class='name'>%g"
			"</text>", x0, y, x1, y, x0 - 6, y + 4, max * k / 4);
	}
	for (size_t b = 0; b < nb; b++) {
		double c = num(json_array_get(counts, b));
		double bh = (y1 - y0) * c / max;

		fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' "
			"height='%.1f' class='bar'><title>p in [%.2f, %.2f): "
			"%.0f</title></rect>", x0 + bw * (double)b + 1,
			y1 - bh, bw - 2, bh, (double)b / (double)nb,
			(double)(b + 1) / (double)nb, c);
	}
	for (int k = 0; k <= 10; k += 2)
		fprintf(f, "<text x='%.1f' y='%d' class='tick'>%.1f</text>",
			x0 + (x1 - x0) * k / 10.0, y1 + 16, k / 10.0);
	fputs("</svg>\n", f);
}

static void chart_bias(FILE *f, json_t *rep)
{
	json_t *rows = json_object_get(rep, "principles"), *r;
	double all = num(get(rep, "overall", "labels", "position_bias"));
	size_t i, n = 0;
	int h, x0 = LABEL_W, x1 = CHART_W - PAD;

	json_array_foreach(rows, i, r)
		if (num(get(r, "labels", "pairs", NULL)) > 0)
			n++;
	h = (int)n * ROW_H + 2 * PAD;
	fprintf(f, "<h2>Position bias per principle</h2>\n"
		"<p class='note'>Share of two-order pairs where the same slot "
		"won both times; dashed: all principles (%.1f%%).</p>\n"
		"<svg id='chart-position-bias' viewBox='0 0 %d %d' "
		"width='%d' height='%d' xmlns='http://www.w3.org/2000/svg'>",
		isnan(all) ? 0 : 100 * all, CHART_W, h, CHART_W, h);
	axis_ticks(f, 1.0, x0, x1, PAD / 2, h - PAD, true);
	n = 0;
	json_array_foreach(rows, i, r) {
		double b = num(get(r, "labels", "position_bias", NULL));
		double ba = num(get(r, "labels", "position_bias_a", NULL));
		int y = PAD / 2 + (int)n * ROW_H + 3;

		if (!(num(get(r, "labels", "pairs", NULL)) > 0))
			continue;
		n++;
		fprintf(f, "<text x='%d' y='%d' class='name'>", x0 - 6,
			y + BAR_H - 5);
		report_html_escape(f, json_string_value(json_object_get(r, "id")));
		fprintf(f, "</text><rect x='%d' y='%d' width='%.1f' "
			"height='%d' class='bar a'><title>slot A both: "
			"%.1f%%</title></rect><rect x='%.1f' y='%d' "
			"width='%.1f' height='%d' class='bar b'><title>slot B "
			"both: %.1f%%</title></rect>", x0, y,
			(x1 - x0) * ba, BAR_H, 100 * ba,
			x0 + (x1 - x0) * ba, y, (x1 - x0) * (b - ba), BAR_H,
			100 * (b - ba));
	}
	if (!isnan(all))
		fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' "
			"class='overall'/>", x0 + (x1 - x0) * all, PAD / 4,
			x0 + (x1 - x0) * all, h - PAD);
	fprintf(f, "<rect x='10' y='%d' width='14' height='10' class='bar "
		"a'/><text x='28' y='%d' class='legend'>"
		"slot A won both</text><rect x='150' y='%d' width='14' "
		"height='10' class='bar b'/><text x='168' y='%d' "
		"class='legend'>slot B won both</text>"
		"</svg>\n", h - 16, h - 7, h - 16, h - 7);
}

static void cellf(FILE *f, json_t *v, const char *fmt, double scale)
{
	if (json_is_number(v)) {
		fputs("<td>", f);
		fprintf(f, fmt, scale * json_number_value(v));
		fputs("</td>", f);
	} else if (json_is_string(v))
		fprintf(f, "<td class='flagged'>%s</td>",
			json_string_value(v));
	else
		fputs("<td>-</td>", f);
}

static void principle_table(FILE *f, json_t *rep)
{
	json_t *rows = json_object_get(rep, "principles"), *r;
	size_t i;

	fputs("<h2>Principles</h2>\n<table><tr><th>principle</th>"
	      "<th>tags</th><th>compare draws</th><th>expected</th>"
	      "<th>flag</th><th>critique rounds</th><th>expected</th>"
	      "<th>flag</th><th>mean p</th><th>decisiveness</th>"
	      "<th>near-tie</th><th>position bias</th>"
	      "<th>order disagreement</th><th>other mass</th>"
	      "<th>letter mass</th><th>prefers longer</th></tr>\n", f);
	json_array_foreach(rows, i, r) {
		json_t *tags = json_object_get(r, "tags"), *t;
		size_t k;

		fputs("<tr><td class='id'>", f);
		report_html_escape(f, json_string_value(json_object_get(r, "id")));
		fputs("</td><td>", f);
		json_array_foreach(tags, k, t) {
			if (k)
				fputs(", ", f);
			report_html_escape(f, json_string_value(t));
		}
		fputs("</td>", f);
		for (int s = 0; s < 2; s++) {
			json_t *c = get(r, "coverage", stage_names[s], NULL);

			cellf(f, json_object_get(c, "draws"), "%.0f", 1);
			cellf(f, json_object_get(c, "expected_draws"), "%.1f",
			      1);
			cellf(f, json_object_get(c, "flag"), "", 1);
		}
		cellf(f, get(r, "labels", "mean_p", NULL), "%.3f", 1);
		cellf(f, get(r, "labels", "decisiveness", NULL), "%.3f", 1);
		cellf(f, get(r, "labels", "near_tie_rate", NULL), "%.1f%%",
		      100);
		cellf(f, get(r, "labels", "position_bias", NULL), "%.1f%%",
		      100);
		cellf(f, get(r, "labels", "order_disagreement", NULL),
		      "%.1f%%", 100);
		cellf(f, get(r, "labels", "mean_other_mass", NULL), "%.3f",
		      1);
		cellf(f, get(r, "labels", "mean_letter_mass", NULL), "%.3f",
		      1);
		cellf(f, get(r, "labels", "prefers_longer", NULL), "%.1f%%",
		      100);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* The health counts as one table row under their names. */
static void health_table(FILE *f, json_t *rep)
{
	json_t *h = json_object_get(rep, "health"), *v;
	const char *k;

	fputs("<h2>Data health</h2>\n<table><tr>", f);
	json_object_foreach(h, k, v)
		if (json_is_integer(v))
			fprintf(f, "<th>%s</th>", k);
	fputs("</tr><tr>", f);
	json_object_foreach(h, k, v)
		if (json_is_integer(v))
			fprintf(f, "<td>%lld</td>",
				(long long)json_integer_value(v));
	fputs("</tr></table>\n", f);
}

/* One line per stage: draws, chi-square, never drawn, flagged. */
static void summary(FILE *f, json_t *rep)
{
	for (int s = 0; s < 2; s++) {
		json_t *st = get(rep, "coverage", stage_names[s], NULL);
		json_t *chi = json_object_get(st, "chi_square");

		if (!json_integer_value(json_object_get(st, "draws")))
			continue;
		fprintf(f, "<p>%s stage: %lld draws", stage_names[s],
			(long long)json_integer_value(json_object_get(st,
								 "draws")));
		if (json_is_object(chi))
			fprintf(f, "; chi-square %.3f with %lld degrees of "
				"freedom, p-value %.4g",
				num(json_object_get(chi, "statistic")),
				(long long)json_integer_value(
					json_object_get(chi, "dof")),
				num(json_object_get(chi, "p_value")));
		fprintf(f, "; never drawn: %zu; outside the 99%% interval: "
			"%zu.</p>\n",
			json_array_size(json_object_get(st, "never_drawn")),
			json_array_size(json_object_get(st, "flagged")));
	}
}

static const char css[] =
	"body{font:14px/1.4 sans-serif;margin:24px;color:#222;"
	"background:#fff}"
	"h1{font-size:22px}h2{font-size:17px;margin-top:28px}"
	"svg{display:block;max-width:100%;height:auto;"
	"border:1px solid #ddd;background:#fcfcfc}"
	".grid{stroke:#ddd;stroke-width:1}"
	".tick{font-size:11px;fill:#555;text-anchor:middle}"
	".name{font-size:12px;fill:#222;text-anchor:end}"
	".legend{font-size:11px;fill:#555}"
	".bar{fill:#4a78b5}.bar.flag{fill:#d0463c}"
	".bar.a{fill:#e08a2c}.bar.b{fill:#7b5ea7}"
	".expect{stroke:#111;stroke-width:3}"
	".overall{stroke:#111;stroke-width:2;stroke-dasharray:6 4}"
	"table{border-collapse:collapse;margin:8px 0}"
	"th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}"
	"td.id,th{text-align:left}td.flagged{color:#d0463c;"
	"font-weight:bold}.note{color:#555}";

int report_html_write(json_t *rep, const char *path, struct err *err)
{
	json_t *in = json_object_get(rep, "inputs"), *v;
	size_t i, n = json_array_size(in);
	const char **names = xcalloc(n + 1, sizeof(*names));
	struct wfile w;
	FILE *f;
	int rc;

	json_array_foreach(in, i, v)
		names[i] = json_string_value(v);
	rc = report_out_check(path, names, n, err);
	free(names);
	if (rc < 0 || !(f = wfile_open(&w, path, err)))
		return -1;
	fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head>"
		"<meta charset='utf-8'><title>caigen audit</title>"
		"<style>%s</style></head><body>\n<h1>caigen audit</h1>\n"
		"<p class='note'>", css);
	json_array_foreach(in, i, v) {
		if (i)
			fputs(", ", f);
		report_html_escape(f, json_string_value(v));
	}
	fputs("</p>\n", f);
	report_html_provenance(f, json_object_get(rep, "provenance"));
	summary(f, rep);
	for (int s = 0; s < 2; s++)
		if (json_integer_value(get(rep, "coverage", stage_names[s],
					   "draws")))
			chart_draws(f, rep, s);
	chart_hist(f, rep);
	chart_bias(f, rep);
	principle_table(f, rep);
	health_table(f, rep);
	fputs("</body></html>\n", f);
	return wfile_commit(&w, err);
}
