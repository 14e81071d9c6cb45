#!/bin/sh
# dedup.sh - the benchmark behind `make bench-dedup`:
#
#   1. 20,000 prompts with planted near duplicates (dedup_planted, from
#      tests/unit/planted.h) and the exact answer (greedy, exact Jaccard):
#      recall and precision of `caigen prompts dedup` at its defaults;
#   2. the same file through scripts/bench/dedup_minhash.py (the Python
#      MinHash a user would write, standard library): time, and caigen's
#      speedup in wall and CPU time;
#   3. 1,000,000 prompts: wall time, CPU time and peak RSS (targets 60 s
#      and 512 MB).
#
# Environment: CAIGEN (./caigen), PLANTED (obj/default/dedup_planted),
# DEDUP_SMALL (20000), DEDUP_BIG (1000000), DEDUP_PYTHON (1; 0 leaves the
# script out), BENCH_RESULTS (obj/bench/dedup.md). The table goes to
# stdout and BENCH_RESULTS.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CAIGEN=${CAIGEN:-$ROOT/caigen}
PLANTED=${PLANTED:-$ROOT/obj/default/dedup_planted}
SMALL=${DEDUP_SMALL:-20000}
BIG=${DEDUP_BIG:-1000000}
RESULTS=${BENCH_RESULTS:-$ROOT/obj/bench/dedup.md}
W=$(mktemp -d /tmp/caigen-bench-dedup.XXXXXX)
trap 'rm -rf "$W"' EXIT INT TERM
mkdir -p "$(dirname "$RESULTS")"

# measure NAME CMD...: runs CMD under /usr/bin/time; sets WALL CPU RSS
measure() {
	_n=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$W/time.$_n" "$@" 2>"$W/err.$_n" \
		>/dev/null || { cat "$W/err.$_n" >&2; echo "bench: $_n failed" >&2;
		exit 1; }
	read WALL U S RSS <"$W/time.$_n"
	CPU=$(echo "$U $S" | awk '{ printf "%.2f", $1 + $2 }')
	RSS=$((RSS / 1024))
}

echo "bench: $SMALL planted prompts and their exact answer" >&2
"$PLANTED" "$SMALL" 1 "$W/small.jsonl" "$W/truth.txt" || exit 1
measure small "$CAIGEN" prompts dedup "$W/small.jsonl" -o "$W/kept.jsonl" \
	--report "$W/report.jsonl"
S_WALL=$WALL S_CPU=$CPU S_RSS=$RSS
jq -r .line "$W/report.jsonl" | sort >"$W/got.txt"
sort "$W/truth.txt" >"$W/want.txt"
TP=$(comm -12 "$W/got.txt" "$W/want.txt" | wc -l)
GOT=$(wc -l <"$W/got.txt")
WANT=$(wc -l <"$W/want.txt")
PREC=$(awk -v a="$TP" -v b="$GOT" 'BEGIN { printf "%.4f", b ? a / b : 1 }')
REC=$(awk -v a="$TP" -v b="$WANT" 'BEGIN { printf "%.4f", b ? a / b : 1 }')

PY_ROW=""
if [ "${DEDUP_PYTHON:-1}" = 1 ]; then
	echo "bench: the Python MinHash script on the same $SMALL" >&2
	measure python python3 "$HERE/dedup_minhash.py" "$W/small.jsonl" \
		"$W/py.jsonl"
	SPEED_W=$(awk -v a="$WALL" -v b="$S_WALL" 'BEGIN { printf "%.0f", a / b }')
	SPEED_C=$(awk -v a="$CPU" -v b="$S_CPU" 'BEGIN { printf "%.0f", a / b }')
	PY_ROW="| Python MinHash script, $SMALL prompts | $WALL s wall, $CPU s CPU, $RSS MB: caigen ${SPEED_W}x faster (wall), ${SPEED_C}x (CPU) |"
fi

echo "bench: $BIG prompts" >&2
"$PLANTED" "$BIG" 2 "$W/big.jsonl" || exit 1
measure big "$CAIGEN" prompts dedup "$W/big.jsonl" -o "$W/bigkept.jsonl" \
	--report "$W/bigreport.jsonl" --clusters "$W/clusters.jsonl"
SUMMARY=$(tail -n 1 "$W/err.big")

{
	echo "| dedup measurement | result | target |"
	echo "|---|---|---|"
	echo "| recall / precision vs exact Jaccard, $SMALL planted prompts ($WANT duplicates) | $REC / $PREC | >= 0.95 |"
	echo "| caigen, $SMALL prompts | $S_WALL s wall, $S_CPU s CPU, $S_RSS MB | |"
	[ -n "$PY_ROW" ] && echo "$PY_ROW >= 20x |"
	echo "| caigen, $BIG prompts | $WALL s wall, $CPU s CPU, $RSS MB peak RSS | <= 60 s, <= 512 MB |"
	echo
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
	echo "caigen: $SUMMARY"
} | tee "$RESULTS"
