#!/bin/sh
# run.sh SECONDS FUZZER... - run each libFuzzer binary for SECONDS, one at a
# time (the machine is shared), on a working corpus under the binary's
# directory seeded from tests/fuzz/corpus/NAME, and print one line per
# target: "fuzz NAME: N execs in S s, K corpus files, no finding" or the
# crash file. Exit 1 if any target found something.
secs=${1:-60}
shift
here=$(cd "$(dirname "$0")" && pwd)
bad=0
for bin in "$@"; do
	name=$(basename "$bin")
	work=$(dirname "$bin")/corpus-$name
	arts=$(dirname "$bin")/crashes-$name
	mkdir -p "$work" "$arts"
	[ -d "$here/corpus/$name" ] && cp -n "$here/corpus/$name"/* "$work"/ 2>/dev/null
	log=$(dirname "$bin")/$name.log
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=8192 -print_final_stats=1 \
		-artifact_prefix="$arts/" "$work" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	files=$(ls "$work" | wc -l | tr -d ' ')
	if [ "$rc" -eq 0 ]; then
		echo "fuzz $name: ${execs:-?} execs in $secs s, $files corpus files, no finding"
	else
		bad=1
		echo "fuzz $name: FINDING (exit $rc), see $log and $arts"
		grep -m 3 'ERROR\|SUMMARY\|Test unit written' "$log"
	fi
done
exit $bad
