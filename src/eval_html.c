/*
 * eval_html.c - the judge evaluation report (eval.h) as one self-contained
 * HTML page: inline CSS and SVG, no scripts, no network. A reliability
 * diagram (mean p against observed frequency per bin, the diagonal for a
 * calibrated judge, dot area by count), per-principle agreement bars with
 * their bootstrap intervals, then the tables.
 */
#include "eval.h"
#include "report_html.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#define REL_SIZE	420	/* plot square, pixels */
#define REL_PAD		50
#define BAR_W		1000
#define LABEL_W		260
#define ROW_H		24

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
	"table{border-collapse:collapse;margin:1em 0}"
	"td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
	"td:first-child,th:first-child,td.id{text-align:left}"
	"svg{max-width:100%;height:auto;display:block;margin:1em 0}"
	".grid{stroke:#ddd}.diag{stroke:#888;stroke-dasharray:6 4}"
	".dot{fill:#3060c0;fill-opacity:.7}.curve{stroke:#3060c0;fill:none;"
	"stroke-width:2}.bar{fill:#3060c0}.ci{stroke:#111;stroke-width:2}"
	".base{stroke:#c03030;stroke-dasharray:6 4}"
	".tick,.lab{font-size:12px;fill:#333}.note{color:#666}";

static json_t *get(json_t *o, const char *a, const char *b)
{
	o = json_object_get(o, a);
	return b ? json_object_get(o, b) : o;
}

static double num(json_t *v)
{
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* A number as text, "–" when null; buf holds 32 bytes. */
static const char *fmtn(char *buf, double v, const char *fmt)
{
	if (isnan(v))
		return "&ndash;";
	snprintf(buf, 32, fmt, v);
	return buf;
}

/* A number cell: "–" when null. */
static void cell(FILE *f, double v, const char *fmt)
{
	fputs("<td>", f);
	if (isnan(v))
		fputs("&ndash;", f);
	else
		fprintf(f, fmt, v);
	fputs("</td>", f);
}

static void chart_reliability(FILE *f, json_t *rep)
{
	json_t *rows = json_object_get(rep, "reliability"), *r;
	int s = REL_SIZE, p = REL_PAD, w = s + 2 * p;
	double total = 0;
	bool first = true;
	size_t i;

	json_array_foreach(rows, i, r)
		total += num(json_object_get(r, "count"));
	fprintf(f, "<h2>Reliability diagram</h2><p class='note'>Each dot is a "
		"bin of predictions (both p and 1 - p of every pair with a "
		"non-tie reference, 10 equal bins): x the mean predicted "
		"probability, y how often that reply was the preferred one; "
		"area by count. On the dashed diagonal the judge is "
		"calibrated.</p>\n<svg id='chart-reliability' viewBox='0 0 %d "
		"%d' width='%d'>", w, w, w);
	for (int k = 0; k <= 10; k++) {
		double x = p + s * k / 10.0, y = p + s - s * k / 10.0;

		fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' "
			"class='grid'/><line x1='%d' y1='%.1f' x2='%d' "
			"y2='%.1f' class='grid'/>", x, p, x, p + s, p, y,
			p + s, y);
		if (k % 2 == 0)
			fprintf(f, "<text x='%.1f' y='%d' class='tick' "
				"text-anchor='middle'>%.1f</text><text x='%d' "
				"y='%.1f' class='tick' text-anchor='end'>%.1f"
				"</text>", x, p + s + 16, k / 10.0, p - 6,
				y + 4, k / 10.0);
	}
	fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' class='diag'/>",
		p, p + s, p + s, p);
	fputs("<path class='curve' d='", f);
	json_array_foreach(rows, i, r) {
		double x = p + s * num(json_object_get(r, "mean_p"));
		double y = p + s - s * num(json_object_get(r, "freq"));

		fprintf(f, "%s%.1f %.1f", first ? "M" : " L", x, y);
		first = false;
	}
	fputs("'/>", f);
	json_array_foreach(rows, i, r) {
		double n = num(json_object_get(r, "count"));
		double x = p + s * num(json_object_get(r, "mean_p"));
		double y = p + s - s * num(json_object_get(r, "freq"));

		fprintf(f, "<circle class='dot' cx='%.1f' cy='%.1f' r='%.1f'>"
			"<title>mean p %.3f, observed %.3f, %.0f</title>"
			"</circle>", x, y, 3 + 12 * sqrt(n / (total ? total :
							      1)), num(
			json_object_get(r, "mean_p")), num(json_object_get(r,
			"freq")), n);
	}
	fprintf(f, "<text x='%d' y='%d' class='lab' text-anchor='middle'>"
		"predicted probability</text><text x='14' y='%d' class='lab' "
		"transform='rotate(-90 14 %d)' text-anchor='middle'>observed "
		"frequency</text></svg>\n", p + s / 2, w - 8, p + s / 2,
		p + s / 2);
}

static void chart_principles(FILE *f, json_t *rep)
{
	json_t *by = json_object_get(rep, "by_principle"), *b;
	double base = num(get(get(rep, "overall", "length"),
			      "longer_baseline", NULL));
	size_t n = json_object_size(by), row = 0;
	int x0 = LABEL_W, x1 = BAR_W - 20, h = (int)n * ROW_H + 40;
	const char *k;

	fprintf(f, "<h2>Agreement per principle</h2><p class='note'>Hard "
		"agreement with the reference, with its 95%% bootstrap "
		"interval; the dashed line is the always-longer "
		"baseline.</p>\n<svg id='chart-principles' viewBox='0 0 %d %d' "
		"width='%d'>", BAR_W, h, BAR_W);
	for (int t = 0; t <= 4; t++) {
		double x = x0 + (x1 - x0) * t / 4.0;

		fprintf(f, "<line x1='%.1f' y1='0' x2='%.1f' y2='%d' "
			"class='grid'/><text x='%.1f' y='%d' class='tick' "
			"text-anchor='middle'>%d%%</text>", x, x, h - 24, x,
			h - 10, 25 * t);
	}
	json_object_foreach(by, k, b) {
		json_t *a = json_object_get(b, "agreement_hard");
		double v = num(json_object_get(a, "value"));
		double lo = num(json_object_get(a, "ci_low"));
		double hi = num(json_object_get(a, "ci_high"));
		int y = 8 + (int)row++ * ROW_H;

		fprintf(f, "<text x='%d' y='%d' class='lab' "
			"text-anchor='end'>", x0 - 8, y + 13);
		report_html_escape(f, k);
		fprintf(f, " (%.0f)</text>", num(json_object_get(b,
								 "scored")));
		if (isnan(v))
			continue;
		fprintf(f, "<rect class='bar' x='%d' y='%d' width='%.1f' "
			"height='16'><title>%.3f</title></rect>", x0, y,
			(x1 - x0) * v, v);
		if (!isnan(lo))
			fprintf(f, "<line class='ci' x1='%.1f' y1='%d' "
				"x2='%.1f' y2='%d'/>", x0 + (x1 - x0) * lo,
				y + 8, x0 + (x1 - x0) * hi, y + 8);
	}
	if (!isnan(base))
		fprintf(f, "<line class='base' x1='%.1f' y1='0' x2='%.1f' "
			"y2='%d'/>", x0 + (x1 - x0) * base,
			x0 + (x1 - x0) * base, h - 24);
	fputs("</svg>\n", f);
}

static void group_table(FILE *f, json_t *rep, const char *key,
			const char *title)
{
	json_t *by = json_object_get(rep, key), *b;
	char nb[2][32];
	const char *k;

	if (!json_object_size(by))
		return;
	fprintf(f, "<h2>%s</h2><table><tr><th>name</th><th>pairs</th>"
		"<th>scored</th><th>hard</th><th>95%% CI</th><th>soft</th>"
		"<th>Brier</th><th>log loss</th><th>ECE</th><th>first-slot"
		"</th><th>second-slot</th><th>prefers longer</th>"
		"<th>reference longer</th></tr>\n", title);
	json_object_foreach(by, k, b) {
		json_t *a = json_object_get(b, "agreement_hard");

		fputs("<tr><td>", f);
		report_html_escape(f, k);
		fputs("</td>", f);
		cell(f, num(json_object_get(b, "n")), "%.0f");
		cell(f, num(json_object_get(b, "scored")), "%.0f");
		cell(f, num(json_object_get(a, "value")), "%.3f");
		fprintf(f, "<td>[%s, %s]</td>", fmtn(nb[0],
			num(json_object_get(a, "ci_low")), "%.3f"),
			fmtn(nb[1], num(json_object_get(a, "ci_high")),
			     "%.3f"));
		cell(f, num(get(b, "agreement_soft", "value")), "%.3f");
		cell(f, num(json_object_get(b, "brier")), "%.4f");
		cell(f, num(json_object_get(b, "log_loss")), "%.4f");
		cell(f, num(json_object_get(b, "ece")), "%.4f");
		cell(f, num(get(b, "position", "first")), "%.0f");
		cell(f, num(get(b, "position", "second")), "%.0f");
		cell(f, num(get(b, "length", "judge_longer")), "%.3f");
		cell(f, num(get(b, "length", "reference_longer")), "%.3f");
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void summary(FILE *f, json_t *rep)
{
	json_t *o = json_object_get(rep, "overall"), *rows, *r;
	json_t *pos = json_object_get(o, "position");
	json_t *len = json_object_get(o, "length");
	char nb[3][32];
	size_t i;

	fprintf(f, "<table id='summary'><tr><th>measure</th><th>value</th>"
		"</tr>\n<tr><td>pairs (scored, reference ties, without "
		"reference)</td><td>%.0f (%.0f, %.0f, %.0f)</td></tr>\n",
		num(get(rep, "counts", "items")),
		num(get(rep, "counts", "scored")),
		num(get(rep, "counts", "reference_ties")),
		num(get(rep, "counts", "no_reference")));
	fprintf(f, "<tr><td>agreement, hard (95%% CI)</td><td>%.4f [%.4f, "
		"%.4f]</td></tr>\n<tr><td>agreement, soft (95%% CI)</td><td>"
		"%.4f [%.4f, %.4f]</td></tr>\n",
		num(get(o, "agreement_hard", "value")),
		num(get(o, "agreement_hard", "ci_low")),
		num(get(o, "agreement_hard", "ci_high")),
		num(get(o, "agreement_soft", "value")),
		num(get(o, "agreement_soft", "ci_low")),
		num(get(o, "agreement_soft", "ci_high")));
	fprintf(f, "<tr><td>Brier / log loss / ECE / MCE</td><td>%.4f / %.4f "
		"/ %.4f / %.4f</td></tr>\n", num(json_object_get(o, "brier")),
		num(json_object_get(o, "log_loss")),
		num(json_object_get(o, "ece")), num(json_object_get(o, "mce")));
	fprintf(f, "<tr><td>position: consistent / first-slot / second-slot "
		"/ mixed / unparsed (binomial p)</td><td>%.0f / %.0f / %.0f / "
		"%.0f / %.0f (%s)</td></tr>\n",
		num(json_object_get(pos, "consistent")),
		num(json_object_get(pos, "first")),
		num(json_object_get(pos, "second")),
		num(json_object_get(pos, "mixed")),
		num(json_object_get(pos, "unparsed")),
		fmtn(nb[0], num(json_object_get(pos, "binomial_p")), "%.4g"));
	fprintf(f, "<tr><td>prefers the longer reply: judge / reference (%.0f "
		"pairs); always-longer agreement</td><td>%s / %s; %s"
		"</td></tr>\n", num(json_object_get(len, "n")),
		fmtn(nb[0], num(json_object_get(len, "judge_longer")), "%.3f"),
		fmtn(nb[1], num(json_object_get(len, "reference_longer")),
		     "%.3f"),
		fmtn(nb[2], num(json_object_get(len, "longer_baseline")),
		     "%.3f"));
	fprintf(f, "<tr><td>price / seconds per 1000 pairs</td><td>%s / "
		"%s s</td></tr>\n</table>\n",
		fmtn(nb[0], num(get(rep, "cost", "price_per_1000")), "$%.4f"),
		fmtn(nb[1], num(get(rep, "cost", "seconds_per_1000")), "%.1f"));
	rows = json_object_get(rep, "reliability");
	fputs("<h2>Reliability table</h2><table id='reliability'><tr><th>bin"
	      "</th><th>mean p</th><th>observed</th><th>count</th></tr>\n",
	      f);
	json_array_foreach(rows, i, r)
		fprintf(f, "<tr><td>[%.1f, %.1f)</td><td>%.4f</td><td>%.4f"
			"</td><td>%.0f</td></tr>\n",
			num(json_object_get(r, "lo")),
			num(json_object_get(r, "hi")),
			num(json_object_get(r, "mean_p")),
			num(json_object_get(r, "freq")),
			num(json_object_get(r, "count")));
	fputs("</table>\n", f);
}

int eval_html_write(json_t *rep, const char *path, struct err *err)
{
	struct wfile w;
	FILE *f;

	if (report_out_check(path, NULL, 0, err) < 0 ||
	    !(f = wfile_open(&w, path, err)))
		return -1;
	fprintf(f, "<!DOCTYPE html>\n<html lang='en'><head><meta "
		"charset='utf-8'><title>caigen eval</title><style>%s</style>"
		"</head><body>\n<h1>caigen eval: the judge against the "
		"reference labels</h1>\n<p class='note'>bootstrap: %.0f "
		"resamples over prompts, seed %.0f; ECE: 10 equal-width bins, "
		"left-closed, symmetric</p>\n", css,
		num(json_object_get(rep, "bootstrap")),
		num(json_object_get(rep, "seed")));
	report_html_provenance(f, json_object_get(rep, "provenance"));
	summary(f, rep);
	chart_reliability(f, rep);
	chart_principles(f, rep);
	group_table(f, rep, "by_principle", "Per principle");
	group_table(f, rep, "by_tag", "Per principle tag");
	group_table(f, rep, "by_input_tag", "Per input tag");
	group_table(f, rep, "by_method", "Per judge method");
	fputs("</body></html>\n", f);
	return wfile_commit(&w, err);
}
