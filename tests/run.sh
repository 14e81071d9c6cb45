#!/bin/sh
# run.sh [PATTERN] - run the unit test binaries ($UNIT_BINS) and the
# end-to-end scripts (tests/e2e/*.sh), count their PASS/FAIL lines, and end
# with "N passed, N failed". A program that dies without reporting counts as
# a failure. Exit status 0 only if nothing failed.
cd "$(dirname "$0")/.." || exit 2
pat=${1:-}
# a sanitizer report must fail the test that caused it, even when the
# test keeps the program's stderr in a file. Thread leaks are not
# reported: a second signal or the end of --grace leaves with _exit(75)
# on purpose, without joining the workers.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1 exitcode=66 report_thread_leaks=0}
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1 detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1 print_stacktrace=1}
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
