#!/bin/sh
# test.sh - `make test-matrix`: the pairwise set with every check on every
# combination, then the 3-wise set (every triple of values) with the
# checks of `make test`. Ends with "N passed, N failed, N expected
# failures"; exit 0 when nothing failed. Environment: CAIGEN, FAKESERVER,
# ALLPAIRS; MATRIX_STRENGTHS (default "2 3").
cd "$(dirname "$0")/../.." || exit 2
M=tests/matrix
log=$(mktemp)
trap 'rm -f "$log" "$log.list"' EXIT
pass=0 fail=0 xfail=0
for t in ${MATRIX_STRENGTHS:-2 3}; do
	"$ALLPAIRS" $M/params $M/refusals "$t" >"$log.list" || exit 2
	echo "== matrix, strength $t: $(grep -c . "$log.list") combinations"
	start=$(date +%s)
	deep=0
	[ "$t" = 2 ] && deep=1
	if sh $M/coverage.sh $M/params $M/refusals "$log.list"; then
		echo "PASS matrix_t${t}_coverage"
	else
		echo "FAIL matrix_t${t}_coverage"
	fi >"$log" 2>&1
	MATRIX_DEEP=$deep sh $M/run.sh "$log.list" >>"$log" 2>&1
	cat "$log"
	pass=$((pass + $(grep -c '^PASS ' "$log")))
	fail=$((fail + $(grep -c '^FAIL ' "$log")))
	xfail=$((xfail + $(grep -c '^XFAIL ' "$log")))
	echo "== matrix, strength $t: $(($(date +%s) - start)) s"
done
echo "$pass passed, $fail failed, $xfail expected failures"
[ "$fail" -eq 0 ]
