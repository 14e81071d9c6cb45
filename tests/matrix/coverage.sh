#!/bin/sh
# coverage.sh PARAMS REFUSALS LIST - check allpairs's output on its own
# terms, independently of allpairs.c: every pair of values of two
# parameters is held by an accepted ("ok") row of LIST, or else by a
# refused one; no "ok" row is held by a refusal rule and every
# "refuse:TAG" row is held by rule TAG and by no other. Prints the pairs
# and rows at fault, one a line; exit 0 when there are none.
awk -v P="$1" -v R="$2" '
function holds(r, row,    i, t, k, v, neg, n, vs, j, in_) {
	for (i = 1; i <= nt[r]; i++) {
		t = term[r, i]
		neg = index(t, "!=") > 0
		k = neg ? substr(t, 1, index(t, "!=") - 1) : substr(t, 1, index(t, "=") - 1)
		vs = neg ? substr(t, index(t, "!=") + 2) : substr(t, index(t, "=") + 1)
		n = split(vs, alt, "|")
		in_ = 0
		for (j = 1; j <= n; j++)
			if (alt[j] == val[row, k])
				in_ = 1
		if (in_ == neg)
			return 0
	}
	return 1
}
BEGIN {
	while ((getline l < P) > 0) {
		if (l ~ /^#/ || l !~ /[^ \t]/)
			continue
		n = split(l, f, /[ \t]+/)
		np++
		pn[np] = f[1]
		nv[np] = n - 1
		for (i = 2; i <= n; i++)
			pv[np, i - 1] = f[i]
	}
	while ((getline l < R) > 0) {
		if (l ~ /^#/ || l !~ /[^ \t]/)
			continue
		nr++
		split(l, parts, / : /)
		tag[nr] = parts[2]
		nt[nr] = split(parts[1], tt, /[ \t]+/)
		for (i = 1; i <= nt[nr]; i++)
			term[nr, i] = tt[i]
	}
}
{
	rows++
	kind[rows] = $1
	for (i = 2; i <= NF; i++) {
		k = substr($i, 1, index($i, "=") - 1)
		val[rows, k] = substr($i, index($i, "=") + 1)
	}
	nh = 0
	who = ""
	for (r = 1; r <= nr; r++)
		if (holds(r, rows)) {
			nh++
			who = tag[r]
		}
	if ($1 == "ok" && nh > 0) {
		print "row " rows ": accepted, but rule " who " holds"
		bad++
	}
	if ($1 != "ok" && ($1 != "refuse:" who || nh != 1)) {
		print "row " rows ": " $1 ", but " nh " rules hold (" who ")"
		bad++
	}
	for (a = 1; a <= np; a++)
		for (b = a + 1; b <= np; b++) {
			key = a SUBSEP val[rows, pn[a]] SUBSEP b SUBSEP val[rows, pn[b]]
			if ($1 == "ok")
				okp[key] = 1
			else
				refp[key] = 1
		}
}
END {
	for (a = 1; a <= np; a++)
		for (b = a + 1; b <= np; b++)
			for (x = 1; x <= nv[a]; x++)
				for (y = 1; y <= nv[b]; y++) {
					key = a SUBSEP pv[a, x] SUBSEP b SUBSEP pv[b, y]
					pairs++
					if (key in okp)
						ok++
					else if (key in refp)
						ref++
					else {
						print "pair " pn[a] "=" pv[a, x] " " pn[b] "=" pv[b, y] ": in no row"
						bad++
					}
				}
	printf "coverage: %d parameters, %d pairs of values: %d in accepted rows, %d only in refused rows; %d rows\n", np, pairs, ok, ref, rows > "/dev/stderr"
	exit bad > 0
}' "$3"
