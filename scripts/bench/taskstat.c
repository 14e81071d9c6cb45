/*
 * taskstat.c - run one command and append what it cost to a file:
 *   taskstat OUT COMMAND [ARGS...]
 * appends "rchar read_bytes maxrss_kib wall_seconds exit\n" to OUT, where
 * rchar and read_bytes are the command's own read counters from
 * /proc/self/io (a reaped child's I/O is added to its parent's, so the
 * difference before and after the wait is the child's alone), and the
 * peak RSS comes from wait4's rusage. For scripts/bench/cluster.sh.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void io(unsigned long long *rchar, unsigned long long *rbytes)
{
	FILE *f = fopen("/proc/self/io", "r");
	char key[64];
	unsigned long long v;

	*rchar = *rbytes = 0;
	while (f && fscanf(f, "%63[^:]: %llu\n", key, &v) == 2) {
		if (!strcmp(key, "rchar"))
			*rchar = v;
		else if (!strcmp(key, "read_bytes"))
			*rbytes = v;
	}
	if (f)
		fclose(f);
}

int main(int argc, char **argv)
{
	unsigned long long c0, b0, c1, b1;
	struct timespec t0, t1;
	struct rusage ru;
	FILE *out;
	pid_t pid;
	int st;

	if (argc < 3) {
		fprintf(stderr, "usage: taskstat OUT COMMAND [ARGS...]\n");
		return 2;
	}
	io(&c0, &b0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	io(&c1, &b1);
	out = fopen(argv[1], "a");
	if (!out)
		return 2;
	fprintf(out, "%llu %llu %ld %.3f %d\n", c1 - c0, b1 - b0,
		ru.ru_maxrss, (double)(t1.tv_sec - t0.tv_sec) +
		(double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
		WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	fclose(out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
