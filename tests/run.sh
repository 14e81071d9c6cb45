#!/bin/sh
# run.sh [PATTERN] - run the unit test binaries ($UNIT_BINS) and the
# end-to-end scripts (tests/e2e/*.sh), count their PASS/FAIL lines, and end
# with "N passed, N failed". A program that dies without reporting counts as
# a failure. Exit status 0 only if nothing failed.
cd "$(dirname "$0")/.." || exit 2
pat=${1:-}
pass=0
fail=0
log=$(mktemp)
run_one() {
	name=$1; shift
	"$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name (exit $rc, no test reported a failure)"
		f=1
	fi
	pass=$((pass + p))
	fail=$((fail + f))
}
for b in $UNIT_BINS; do
	n=$(basename "$b")
	case "$n" in *"$pat"*) ;; *) continue ;; esac
	echo "== $n"
	run_one "$n" "$b"
done
for s in tests/e2e/*.sh; do
	[ -e "$s" ] || continue
	n=$(basename "$s" .sh)
	case "$n" in *"$pat"*) ;; *) continue ;; esac
	echo "== $n"
	run_one "$n" sh "$s"
done
rm -f "$log"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
