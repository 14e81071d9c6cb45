#!/bin/sh
# bench.sh - time and peak memory of `caigen audit` on 100k and 1M
# synthetic preference records (not part of `make test`: it writes about
# 1 GB to a temp dir and takes a minute).
#
#   sh tests/audit/bench.sh [CAIGEN]      (default: ./caigen)
#
# Prints one line per size: records, seconds, peak RSS (KB), and the peak
# RSS once more with the duplicate-id set left out of the picture (the same
# records with a single repeated id), so the flat part is visible.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CAIGEN=${1:-$ROOT/caigen}
T=$(mktemp -d /tmp/caigen-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
sh "$ROOT/tests/deps.sh" time >/dev/null || exit 1
# 20 principles, 5000 records each per repeat: 100k records per repeat
spec=""
for i in $(seq -w 1 20); do spec="$spec bench-$i:5000:tag$((${i#0} % 4))"; done
for reps in 1 10; do
	n=$((reps * 100000))
	sh "$ROOT/tests/audit/gen.sh" -x $reps $spec >"$T/p.jsonl"
	sed 's/"id":"g[0-9]*"/"id":"same"/' "$T/p.jsonl" >"$T/same.jsonl"
	bytes=$(wc -c <"$T/p.jsonl" | tr -d ' ')
	/usr/bin/time -f '%e %M' -o "$T/time" "$CAIGEN" audit --json \
		"$T/p.jsonl" >"$T/out.json"
	set -- $(cat "$T/time")
	/usr/bin/time -f '%M' -o "$T/time2" "$CAIGEN" audit --json \
		"$T/same.jsonl" >/dev/null
	printf 'records %d (%d MB): %s s, peak RSS %s KB; with one id: %s KB; audited %s\n' \
		$n $((bytes / 1000000)) "$1" "$2" "$(cat "$T/time2")" \
		"$(jq .health.preference "$T/out.json")"
done
