/* progress.c - the progress line: a bar on a TTY, periodic lines otherwise. */
#include "progress.h"
#include "ranking.h"
#include "util.h"

#include <math.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void progress_init(struct progress *p, const char *unit, size_t total,
		   bool approx, size_t limit, size_t before, double interval,
		   bool quiet)
{
	memset(p, 0, sizeof(*p));
	p->out = stderr;
	p->tty = isatty(STDERR_FILENO);
	p->quiet = quiet;
	p->interval = interval > 0 ? interval : 5;
	p->start = p->last = now_sec();
	p->unit = unit ? unit : "prompts";
	p->total = total;
	p->approx = approx && total;
	p->limit = limit;
	p->before = total && before > total ? total : before;
	p->cost = -1;
}

bool progress_due(const struct progress *p)
{
	return !p->quiet &&
	       now_sec() - p->last >= (p->tty ? 0.2 : p->interval);
}

void progress_usage(struct progress *p, const struct config *cfg,
		    const struct chat_usage u[ROLE_COUNT])
{
	int roles = ROLE_JUDGE + 1 + (int)cfg->nmembers;
	size_t len = 0;
	double usd = 0;

	p->tok_in = p->tok_out = 0;
	p->unpriced[0] = '\0';
	for (int r = 0; r < roles && r < ROLE_COUNT; r++) {
		double in, out;

		p->tok_in += u[r].prompt_tokens;
		p->tok_out += u[r].completion_tokens;
		if (!u[r].prompt_tokens && !u[r].completion_tokens)
			continue;
		if (config_rates(cfg, ranking_role_endpoint(cfg, r), &in,
				 &out)) {
			usd += (double)u[r].prompt_tokens * in +
			       (double)u[r].completion_tokens * out;
			continue;
		}
		if (len < sizeof(p->unpriced)) {
			char name[16];

			if (r <= ROLE_JUDGE)
				snprintf(name, sizeof(name), "%s", r ?
					 "judge" : "policy");
			else
				snprintf(name, sizeof(name), "judge[%d]",
					 r - ROLE_JUDGE);
			len += (size_t)snprintf(p->unpriced + len,
						sizeof(p->unpriced) - len,
						"%s%s", len ? ", " : "",
						name);
		}
	}
	p->cost = cfg->nprices ? usd : -1;
}

/* 1234567 -> "1,234,567" */
static void fmt_count(char *b, size_t n, size_t v)
{
	char d[32];
	int len = snprintf(d, sizeof(d), "%zu", v), o = 0;

	for (int i = 0; i < len && (size_t)o + 2 < n; i++) {
		if (i && (len - i) % 3 == 0)
			b[o++] = ',';
		b[o++] = d[i];
	}
	b[o] = '\0';
}

/* 950, 12.3k, 4.5M, 6.7G */
static void fmt_tokens(char *b, size_t n, long long v)
{
	if (v < 1000)
		snprintf(b, n, "%lld", v);
	else if (v < 1000000)
		snprintf(b, n, "%.1fk", (double)v / 1e3);
	else if (v < 1000000000)
		snprintf(b, n, "%.1fM", (double)v / 1e6);
	else
		snprintf(b, n, "%.1fG", (double)v / 1e9);
}

/* 42s, 23m10s, 5h02m, 3d04h */
static void fmt_dur(char *b, size_t n, double s)
{
	long t = (long)(s + 0.5);

	if (t < 60)
		snprintf(b, n, "%lds", t);
	else if (t < 3600)
		snprintf(b, n, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(b, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
	else
		snprintf(b, n, "%ldd%02ldh", t / 86400, t / 3600 % 24);
}

void progress_format(const struct progress *p, char *b, size_t n,
		     size_t written, size_t failed, size_t rejected,
		     double elapsed, bool done)
{
	size_t ran = written + failed;
	size_t finished = p->before + ran + rejected;
	double rate = elapsed > 0 ? (double)ran / elapsed : 0;
	char c1[32], c2[32], c3[32], c4[32], c5[32], t1[24], t2[24], d[32];
	size_t o = 0;

#define PUT(...) do { if (o < n) o += (size_t)snprintf(b + o, n - o, \
						       __VA_ARGS__); } while (0)
	fmt_count(c1, sizeof(c1), finished);
	if (p->total) {
		size_t total = p->total > finished ? p->total : finished;

		fmt_count(c2, sizeof(c2), total);
		PUT("%s %s/%s%s (%.1f%%", p->unit, c1, p->approx && !done ?
		    "~" : "", c2, 100.0 * (double)finished / (double)total);
	} else if (p->limit) {
		fmt_count(c2, sizeof(c2), p->limit);
		PUT("%s %s of at most %s (--limit; total unknown", p->unit, c1,
		    c2);
	} else {
		PUT("%s %s (total unknown: the input is not a file", p->unit,
		    c1);
	}
	if (p->before) {
		fmt_count(c5, sizeof(c5), p->before);
		PUT(", %s done before", c5);
	}
	PUT(")");
	/* when it ends first: a narrow terminal cuts the line's tail */
	if (done) {
		fmt_dur(d, sizeof(d), elapsed);
		PUT(", finished in %s", d);
	} else if (p->total) {
		size_t total = p->total > finished ? p->total : finished;

		if (rate > 0) {
			fmt_dur(d, sizeof(d), (double)(total - finished) /
				rate);
			PUT(", ETA %s", d);
		} else {
			PUT(", ETA unknown yet");
		}
	}
	fmt_count(c3, sizeof(c3), written);
	fmt_count(c4, sizeof(c4), failed);
	fmt_count(c5, sizeof(c5), rejected);
	PUT(": written %s, failed %s, rejected %s; %.1f %s/s", c3, c4, c5,
	    rate, p->unit);
	fmt_tokens(t1, sizeof(t1), p->tok_in);
	fmt_tokens(t2, sizeof(t2), p->tok_out);
	PUT("; tokens %s in, %s out", t1, t2);
	if (p->cost >= 0 && p->unpriced[0] && p->cost == 0)
		PUT("; cost unknown (no price for %s)", p->unpriced);
	else if (p->cost >= 0 && p->unpriced[0])
		PUT("; cost $%.4f + unknown for %s (no price)", p->cost,
		    p->unpriced);
	else if (p->cost >= 0)
		PUT("; cost $%.4f", p->cost);
#undef PUT
}

static void draw(struct progress *p, size_t written, size_t failed,
		 size_t rejected, bool done)
{
	char body[512];
	double el = now_sec() - p->start;

	progress_format(p, body, sizeof(body), written, failed, rejected, el,
			done);
	if (p->tty) {
		size_t finished = p->before + written + failed + rejected;
		int width = 20, fill = p->total ?
			(int)((double)finished / (double)p->total * width) : 0;

		struct winsize ws;
		int cols = ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 &&
			   ws.ws_col > 0 ? ws.ws_col : 80;
		int room = cols - width - 4;	/* "[" bar "] " and a spare
						 * column: no wrap */

		fill = fill > width ? width : fill;
		fprintf(p->out, "\r[%.*s%*s] %.*s\033[K", fill,
			"####################", width - fill, "",
			room > 0 ? room : 0, body);
		p->drawn = true;
	} else {
		fprintf(p->out, "progress: %s\n", body);
	}
	fflush(p->out);
}

void progress_update(struct progress *p, size_t written, size_t failed,
		     size_t rejected, bool force)
{
	if (p->quiet || (!force && !progress_due(p)))
		return;
	p->last = now_sec();
	draw(p, written, failed, rejected, false);
}

void progress_finish(struct progress *p, size_t total, size_t before,
		     size_t written, size_t failed, size_t rejected)
{
	p->total = total;
	p->approx = false;
	p->before = before;
	if (!p->quiet)
		draw(p, written, failed, rejected, true);
	if (p->drawn)
		fputc('\n', p->out);
	p->drawn = false;
}
