/* progress.c - progress bar on a TTY, periodic lines otherwise. */
#include "progress.h"
#include "util.h"

#include <math.h>
#include <unistd.h>

void progress_init(struct progress *p, size_t total, double interval,
		   bool quiet)
{
	p->out = stderr;
	p->tty = isatty(STDERR_FILENO);
	p->quiet = quiet;
	p->interval = interval > 0 ? interval : 5;
	p->start = p->last = now_sec();
	p->total = total;
	p->drawn = false;
	p->cost = -1;
}

/* " $0.1234", " $?" or "" (no price table): the cost so far. */
static void fmt_cost(char *b, size_t n, double usd)
{
	if (isnan(usd))
		snprintf(b, n, " $?");
	else if (usd >= 0)
		snprintf(b, n, " $%.4f", usd);
	else
		b[0] = '\0';
}

static void fmt_eta(char *b, size_t n, double s)
{
	long t = s < 0 || s > 1e8 ? -1 : (long)(s + 0.5);

	if (t < 0)
		snprintf(b, n, "?");
	else if (t >= 3600)
		snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

void progress_update(struct progress *p, size_t done, size_t failed,
		     size_t rejected, bool force)
{
	double t = now_sec(), el = t - p->start;
	double rate = el > 0 ? (double)done / el : 0;
	size_t finished = done + failed;
	char eta[32], cost[40];

	if (p->quiet || (!force && t - p->last < (p->tty ? 0.2 :
						 p->interval)))
		return;
	p->last = t;
	fmt_cost(cost, sizeof(cost), p->cost);
	fmt_eta(eta, sizeof(eta), rate > 0 && p->total > finished ?
		(double)(p->total - finished) / rate : -1);
	if (p->tty) {
		int width = 24, fill = p->total ?
			(int)((double)finished / (double)p->total * width) : 0;

		fill = fill > width ? width : fill;
		fprintf(p->out, "\r[%.*s%*s] %zu/%zu %.1f/s ETA %s "
			"failed %zu rejected %zu%s\033[K",
			fill, "########################", width - fill, "",
			finished, p->total, rate, eta, failed, rejected, cost);
		p->drawn = true;
	} else {
		fprintf(p->out, "progress: %zu/%zu done %zu failed %zu "
			"rejected %zu rate %.1f/s eta %s%s\n", finished,
			p->total, done, failed, rejected, rate, eta, cost);
	}
	fflush(p->out);
}

void progress_finish(struct progress *p)
{
	if (p->drawn)
		fputc('\n', p->out);
	p->drawn = false;
}
