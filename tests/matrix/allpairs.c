/*
 * allpairs.c - the combinations of the test matrix: every t-tuple (t = 2,
 * pairwise, or 3) of values of different parameters held by at least one
 * combination, picked by a deterministic greedy algorithm.
 *
 * allpairs PARAMS REFUSALS [T]
 *
 *   PARAMS    lines NAME VALUE...; '#' starts a comment line.
 *   REFUSALS  lines TERM... : TAG : TEXT. A rule holds for a combination
 *             when every term does: NAME=V1|V2 (the value is one of them)
 *             or NAME!=V1|V2 (none of them).
 *
 * Output, one combination a line, in the order made:
 *   "ok NAME=VALUE ..." (no rule holds) or "refuse:TAG NAME=VALUE ..."
 *   (exactly rule TAG holds).
 *
 * The accepted combinations come first. A tuple counts as feasible when
 * some complete combination holding it is accepted (searched by
 * backtracking); until every feasible tuple is covered, a row is built
 * from each of the first SEEDS uncovered tuples in order: the seed's
 * values fixed, then each other parameter in order gets the value that
 * covers the most uncovered tuples with the values already set (the
 * lowest on a tie) among those that leave the row completable; the row
 * covering the most wins (the earliest on a tie). Then the refusals: one
 * row per rule (its terms at their first allowed values, the rest the
 * first values with which no other rule holds), and one per pair of
 * values that no accepted combination holds and no refusal row holds
 * yet. Same files, same output: nothing is random.
 */
#define _POSIX_C_SOURCE 200809L	/* strdup, strtok_r: the tests' fallback build is plain -std=c11 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXP	32	/* parameters */
#define MAXV	16	/* values of one parameter */
#define MAXR	64	/* rules */
#define SEEDS	64	/* uncovered tuples tried as seeds per row */

static int np, nv[MAXP];
static char *pname[MAXP], *vname[MAXP][MAXV];

struct term {
	int p;
	unsigned mask;	/* the values for which the term holds */
};
static struct {
	struct term t[MAXP];
	int nt;
	char *tag;
} rule[MAXR];
static int nr;

static void die(const char *f, int line, const char *what)
{
	fprintf(stderr, "%s:%d: %s\n", f, line, what);
	exit(2);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static void read_params(const char *f)
{
	FILE *fp = fopen(f, "r");
	char buf[1024];
	int line = 0;

	if (!fp)
		die(f, 0, "cannot open");
	while (fgets(buf, sizeof(buf), fp)) {
		char *s = trim(buf), *tok;

		line++;
		if (!*s || *s == '#')
			continue;
		if (np == MAXP)
			die(f, line, "too many parameters");
		pname[np] = strdup(strtok(s, " \t"));
		while ((tok = strtok(NULL, " \t"))) {
			if (nv[np] == MAXV)
				die(f, line, "too many values");
			vname[np][nv[np]++] = strdup(tok);
		}
		if (nv[np] < 1)
			die(f, line, "a parameter needs values");
		np++;
	}
	fclose(fp);
}

static int find_param(const char *s)
{
	for (int p = 0; p < np; p++)
		if (!strcmp(pname[p], s))
			return p;
	return -1;
}

static void read_rules(const char *f)
{
	FILE *fp = fopen(f, "r");
	char buf[1024];
	int line = 0;

	if (!fp)
		die(f, 0, "cannot open");
	while (fgets(buf, sizeof(buf), fp)) {
		char *s = trim(buf), *c1, *c2, *tok, *save = NULL;

		line++;
		if (!*s || *s == '#')
			continue;
		if (nr == MAXR)
			die(f, line, "too many rules");
		c1 = strstr(s, " : ");
		c2 = c1 ? strstr(c1 + 3, " : ") : NULL;
		if (!c2)
			die(f, line, "want TERM... : TAG : TEXT");
		*c1 = *c2 = '\0';
		rule[nr].tag = strdup(trim(c1 + 3));
		for (tok = strtok_r(s, " \t", &save); tok;
		     tok = strtok_r(NULL, " \t", &save)) {
			char *eq = strchr(tok, '='), *v, *vs = NULL;
			int neg = eq > tok && eq[-1] == '!', p;
			struct term *t = &rule[nr].t[rule[nr].nt++];

			if (!eq)
				die(f, line, "a term is NAME=V or NAME!=V");
			eq[neg ? -1 : 0] = '\0';
			if ((p = find_param(tok)) < 0)
				die(f, line, "unknown parameter");
			t->p = p;
			t->mask = 0;
			for (v = strtok_r(eq + 1, "|", &vs); v;
			     v = strtok_r(NULL, "|", &vs)) {
				int k = 0;

				while (k < nv[p] && strcmp(vname[p][k], v))
					k++;
				if (k == nv[p])
					die(f, line, "unknown value");
				t->mask |= 1u << k;
			}
			if (neg)
				t->mask = ~t->mask & ((1u << nv[p]) - 1);
		}
		nr++;
	}
	fclose(fp);
}

/* rule r: 1 holds, 0 cannot hold, -1 not known yet (row[p] < 0: unset) */
static int rule_state(int r, const int *row)
{
	int unknown = 0;

	for (int i = 0; i < rule[r].nt; i++) {
		int v = row[rule[r].t[i].p];

		if (v < 0)
			unknown = 1;
		else if (!(rule[r].t[i].mask >> v & 1))
			return 0;
	}
	return unknown ? -1 : 1;
}

/* some rule outside `allowed` (a bit per rule) holds already */
static int forbidden(const int *row, unsigned long long allowed)
{
	for (int r = 0; r < nr; r++)
		if (!(allowed >> r & 1) && rule_state(r, row) == 1)
			return 1;
	return 0;
}

/* Complete row (unset params from the first) so that no rule outside
 * `allowed` holds; 1 done (row filled), 0 impossible (row unchanged). */
static int complete(int *row, unsigned long long allowed)
{
	int p = 0;

	while (p < np && row[p] >= 0)
		p++;
	if (p == np)
		return !forbidden(row, allowed);
	if (forbidden(row, allowed))
		return 0;
	for (int v = 0; v < nv[p]; v++) {
		row[p] = v;
		if (complete(row, allowed))
			return 1;
	}
	row[p] = -1;
	return 0;
}

static int feasible(const int *row, unsigned long long allowed)
{
	int tmp[MAXP];

	memcpy(tmp, row, sizeof(tmp));
	return complete(tmp, allowed);
}

/* Tuples: t parameters p[0] < p[1] (< p[2]) and a value of each. */
static int T;
static int ntup;
static int (*tp)[3], (*tv)[3];
static char *covered;	/* 0 uncovered, 1 covered, 2 infeasible */

static void add_tuple(const int *ps, const int *vs)
{
	static int cap;

	if (ntup == cap) {
		cap = cap ? 2 * cap : 1024;
		tp = realloc(tp, cap * sizeof(*tp));
		tv = realloc(tv, cap * sizeof(*tv));
	}
	memcpy(tp[ntup], ps, 3 * sizeof(int));
	memcpy(tv[ntup], vs, 3 * sizeof(int));
	ntup++;
}

static void tuples(void)
{
	for (int a = 0; a < np; a++)
		for (int b = a + 1; b < np; b++) {
			if (T == 2) {
				for (int x = 0; x < nv[a]; x++)
					for (int y = 0; y < nv[b]; y++)
						add_tuple((int[3]){ a, b, -1 },
							  (int[3]){ x, y, -1 });
				continue;
			}
			for (int c = b + 1; c < np; c++)
				for (int x = 0; x < nv[a]; x++)
					for (int y = 0; y < nv[b]; y++)
						for (int z = 0; z < nv[c]; z++)
							add_tuple((int[3]){ a, b, c },
								  (int[3]){ x, y, z });
		}
	covered = calloc(ntup, 1);
}

static int holds(int i, const int *row)
{
	for (int k = 0; k < T; k++)
		if (row[tp[i][k]] != tv[i][k])
			return 0;
	return 1;
}

static void set_tuple(int i, int *row)
{
	for (int k = 0; k < T; k++)
		row[tp[i][k]] = tv[i][k];
}

static int gain(const int *row)
{
	int g = 0;

	for (int i = 0; i < ntup; i++)
		if (!covered[i] && holds(i, row))
			g++;
	return g;
}

/* Uncovered tuples that p = v would complete, given the values set. */
static int gain_of(int *row, int p, int v)
{
	int g = 0;

	row[p] = v;
	for (int i = 0; i < ntup; i++) {
		int has = 0, ok = 1;

		if (covered[i])
			continue;
		for (int k = 0; k < T && ok; k++) {
			if (tp[i][k] == p)
				has = 1;
			if (row[tp[i][k]] != tv[i][k])
				ok = 0;
		}
		if (has && ok)
			g++;
	}
	row[p] = -1;
	return g;
}

static void build(int seed, int *row)
{
	for (int p = 0; p < np; p++)
		row[p] = -1;
	set_tuple(seed, row);
	for (int p = 0; p < np; p++) {
		int best = -1, bg = -1;

		if (row[p] >= 0)
			continue;
		for (int v = 0; v < nv[p]; v++) {
			int g = gain_of(row, p, v);

			if (g <= bg)
				continue;
			row[p] = v;
			if (feasible(row, 0)) {
				best = v;
				bg = g;
			}
			row[p] = -1;
		}
		row[p] = best;	/* the seed is feasible: some v is */
	}
}

static void print_row(const char *what, const int *row)
{
	printf("%s", what);
	for (int p = 0; p < np; p++)
		printf(" %s=%s", pname[p], vname[p][row[p]]);
	printf("\n");
}

int main(int argc, char **argv)
{
	int row[MAXP], best[MAXP], left = 0;

	if (argc < 3 || argc > 4 || (argc == 4 && strcmp(argv[3], "2") &&
				     strcmp(argv[3], "3"))) {
		fprintf(stderr, "usage: allpairs PARAMS REFUSALS [2|3]\n");
		return 2;
	}
	T = argc == 4 ? atoi(argv[3]) : 2;
	read_params(argv[1]);
	read_rules(argv[2]);
	if (np < T)
		die(argv[1], 0, "fewer parameters than the strength");
	tuples();
	for (int i = 0; i < ntup; i++) {
		for (int p = 0; p < np; p++)
			row[p] = -1;
		set_tuple(i, row);
		if (feasible(row, 0))
			left++;
		else
			covered[i] = 2;
	}
	while (left > 0) {
		int bg = -1, tried = 0;

		for (int i = 0; i < ntup && tried < SEEDS; i++) {
			int g;

			if (covered[i])
				continue;
			tried++;
			build(i, row);
			g = gain(row);
			if (g > bg) {
				bg = g;
				memcpy(best, row, sizeof(best));
			}
		}
		for (int i = 0; i < ntup; i++)
			if (!covered[i] && holds(i, best)) {
				covered[i] = 1;
				left--;
			}
		print_row("ok", best);
	}
	/* refusals: one row per rule, then the pairs no row holds yet (pairs
	 * whatever the strength: a refused pair is a rule at work) */
	if (T != 2) {
		T = 2;
		ntup = 0;
		free(covered);
		tuples();
	}
	for (int i = 0; i < ntup; i++) {
		for (int p = 0; p < np; p++)
			row[p] = -1;
		set_tuple(i, row);
		if (!feasible(row, 0))
			covered[i] = 2;
	}
	int nref = 0, (*refs)[MAXP] = malloc((nr + ntup) * sizeof(*refs));

	for (int r = 0; r < nr; r++) {
		char what[256];

		for (int p = 0; p < np; p++)
			row[p] = -1;
		for (int i = 0; i < rule[r].nt; i++) {
			int v = 0;

			while (!(rule[r].t[i].mask >> v & 1))
				v++;
			row[rule[r].t[i].p] = v;
		}
		if (!complete(row, 1ull << r))
			die(argv[2], r + 1, "no combination holds this rule "
			    "alone");
		snprintf(what, sizeof(what), "refuse:%s", rule[r].tag);
		print_row(what, row);
		memcpy(refs[nref++], row, sizeof(row));
	}
	for (int i = 0; i < ntup; i++) {
		int done = 0, r;

		if (covered[i] != 2)
			continue;
		for (int k = 0; k < nref && !done; k++)
			done = holds(i, refs[k]);
		if (done)
			continue;
		for (r = 0; r < nr; r++) {
			for (int p = 0; p < np; p++)
				row[p] = -1;
			set_tuple(i, row);
			if (complete(row, 1ull << r) &&
			    rule_state(r, row) == 1)
				break;
		}
		if (r == nr)
			die(argv[2], 0, "a pair no single rule refuses");
		printf("refuse:%s", rule[r].tag);
		for (int p = 0; p < np; p++)
			printf(" %s=%s", pname[p], vname[p][row[p]]);
		printf("\n");
		memcpy(refs[nref++], row, sizeof(row));
	}
	free(refs);
	return 0;
}
