#!/bin/sh
# flight.sh - many requests in flight against the 1 s server: the issue's
# "1 s latency, 10,000 in flight" target measured on its own, for each
# shape asked for, with what it took. It starts the bench nginx
# (nginx.sh: 1 s, its accept queue raised) and, for each shape in
# BENCH_FLIGHT_SHAPES, runs caigen on the same BENCH_FLIGHT_PROMPTS prompts:
#
#   shared   one in-flight budget of FLIGHT for the run, shared by policy
#            and judge: `concurrency: [1, FLIGHT/2]` for each (auto, one
#            limiter for the server: its ceiling the sum, FLIGHT); the
#            limiter's slow start climbs from 16
#   floor    the same budget, started at half of it: `concurrency:
#            [FLIGHT/2, FLIGHT/2]` for each (floor FLIGHT/2, ceiling FLIGHT)
#   jobs     --jobs FLIGHT/2: fixed, FLIGHT/2 places for each endpoint (the
#            judge has twice the policy's requests, so it bounds the run)
#
# and prints one line a run: wall time against the ideal (3N requests at
# FLIGHT a second plus one round trip: one shared budget; for "jobs" its
# own ideal too, the judge's 2N requests on FLIGHT/2 places), peak RSS,
# user+sys CPU a request, prompts failed, retries, the limiter's highest
# limit, SYNs the listen queue dropped (ListenOverflows), the load average.
# Then the rows as markdown (also to BENCH_RESULTS_FLIGHT).
#
# Environment: CAIGEN (./caigen), BENCH_FLIGHT (10000),
# BENCH_FLIGHT_PROMPTS (20000), BENCH_FLIGHT_SHAPES ("shared floor jobs"),
# BENCH_FLIGHT_REPEAT (1: runs of each shape, by turns),
# BENCH_RESULTS_FLIGHT (obj/bench/flight.md), BENCH_FLIGHT_KEEP (a folder:
# the logs and limiter traces are copied there). Run: sh scripts/bench/flight.sh.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CAIGEN=$(abs "${CAIGEN:-$ROOT/caigen}")
FLIGHT=${BENCH_FLIGHT:-10000}
N=${BENCH_FLIGHT_PROMPTS:-20000}
SHAPES=${BENCH_FLIGHT_SHAPES:-shared floor jobs}
REPEAT=${BENCH_FLIGHT_REPEAT:-1}
RESULTS=$(abs "${BENCH_RESULTS_FLIGHT:-$ROOT/obj/bench/flight.md}")
KEEPDIR=${BENCH_FLIGHT_KEEP:-}
PY=/usr/bin/python3

sh "$ROOT/tests/deps.sh" nginx libnginx-mod-http-echo time curl || exit 2
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || { echo "bench: no '$ECHO_SO'" >&2; exit 2; }
[ -x "$CAIGEN" ] || { echo "bench: no caigen at '$CAIGEN'" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null

T=$(mktemp -d /tmp/caigen-flight.XXXXXX)
cleanup() {
	nginx_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

BENCH_DIR=$HERE
. "$HERE/nginx.sh"
nginx_start "$T/nginx" huge
URL=http://127.0.0.1:$PORT_huge/v1
echo "bench: $(nproc) cores, load $(load), $(date -u '+%F %T UTC'); nginx" \
	"1 s on $URL; $NGINX_BACKLOG_SAID"

awk -v n="$N" 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"f%07d\",\"prompt\":\"Question %d: what is a " \
	       "sensible, polite way to deal with a leaking tap, and what " \
	       "should I avoid doing so that it does not get worse?\"}\n",
	       i, i }' >"$T/prompts.jsonl"

half=$((FLIGHT / 2))
printf 'policy:\n  concurrency: [1, %d]\njudge:\n  concurrency: [1, %d]\n' \
	"$half" "$half" >"$T/shared.yaml"
printf 'policy:\n  concurrency: [%d, %d]\njudge:\n  concurrency: [%d, %d]\n' \
	"$half" "$half" "$half" "$half" >"$T/floor.yaml"

TABLE=$T/table.md
{
	echo "| shape | time (ideal) | of ideal (>= 0.97) | failed, retries | peak RSS | CPU a request | highest limit | listen overflows | load at start |"
	echo "|---|---|---|---|---|---|---|---|---|"
} >"$TABLE"

ideal=$(calc "3 * $N / $FLIGHT + 1")
ideal_jobs=$(calc "2 * $N / $half + 1")
k=0
while [ "$k" -lt "$REPEAT" ]; do
	k=$((k + 1))
	for s in $SHAPES; do
		case $s in
		shared) set -- -c "$T/shared.yaml"; how="concurrency: [1, $half] each" ;;
		floor) set -- -c "$T/floor.yaml"; how="concurrency: [$half, $half] each" ;;
		jobs) set -- --jobs "$half"; how="--jobs $half" ;;
		*) echo "bench: unknown shape '$s'" >&2; exit 2 ;;
		esac
		rm -rf "$T/out"
		lo0=$(nginx_listen_overflows)
		ld=$(load)
		t0=$(date +%s.%N)
		CAIGEN_LIMITER_TRACE=$T/trace /usr/bin/time -f '%U %S %M' \
			-o "$T/time" timeout -k 10 1800 \
			"$CAIGEN" run --prompts "$T/prompts.jsonl" \
			--out "$T/out" --policy-url "$URL" --judge-url "$URL" \
			--policy-model bench-policy --judge-model bench-judge \
			--constitution "$ROOT/constitution/harmless.yaml" "$@" \
			>"$T/log" 2>&1
		rc=$?
		t1=$(date +%s.%N)
		lo1=$(nginx_listen_overflows)
		wall=$(calc "$t1 - $t0")
		read -r u sy rss <<EOF
$(tail -n 1 "$T/time")
EOF
		reqs=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $3 }
			END { print s + 0 }' "$T/log")
		retries=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
			s += $5 } END { print s + 0 }' "$T/log")
		failed=$(awk '/^caigen: [0-9]+ lines read/ {
			for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/)
				print $i }' "$T/log" | tail -n 1)
		failed=${failed:-?}
		done_=0
		[ -f "$T/out/preferences.jsonl" ] &&
			done_=$(wc -l <"$T/out/preferences.jsonl" | tr -d ' ')
		top=-
		[ -s "$T/trace" ] && top=$(awk '$2 > m { m = $2 } END { print m + 0 }' "$T/trace")
		[ "$s" = jobs ] && top=$FLIGHT
		cpu=$(calc "$reqs > 0 ? ($u + $sy) * 1000000 / $reqs : 0")
		fr=$(calc "$ideal / $wall")
		extra=""
		[ "$s" = jobs ] && extra=" (its own ideal $(fmt "$ideal_jobs" 2) s: $(fmt "$(calc "$ideal_jobs / $wall")" 3))"
		[ "$rc" = 0 ] || { echo "bench: caigen exited with $rc ($s):" >&2
			tail -n 5 "$T/log" >&2; }
		echo "flight: $how: $done_ of $N prompts, $reqs requests in" \
			"$(fmt "$wall" 2) s (ideal $(fmt "$ideal" 2) s):" \
			"$(fmt "$fr" 3) of ideal$extra; peak RSS" \
			"$(fmt "$(calc "$rss / 1024")" 1) MB; CPU $u+$sy s" \
			"($(fmt "$cpu" 0) us a request); $failed failed," \
			"$retries retries; highest limit $top; listen" \
			"overflows $((lo1 - lo0)); load $ld -> $(load)"
		echo "| $how | $(fmt "$wall" 2) s ($(fmt "$ideal" 2) s) | $(fmt "$fr" 3)$extra | $failed, $retries | $(fmt "$(calc "$rss / 1024")" 1) MB | $(fmt "$cpu" 0) µs | $top | $((lo1 - lo0)) | $ld |" >>"$TABLE"
		if [ -n "$KEEPDIR" ]; then
			mkdir -p "$KEEPDIR"
			cp "$T/log" "$KEEPDIR/log.$s.$k"
			[ -s "$T/trace" ] && cp "$T/trace" "$KEEPDIR/trace.$s.$k"
		fi
		rm -f "$T/trace"
	done
done
rm -rf "$T/out"
mkdir -p "$(dirname "$RESULTS")"
{
	echo "Flight bench, $(date -u '+%F %T UTC'), $(nproc) cores, load after: $(load); 1 s server, $N prompts (3 requests each), $FLIGHT in flight; $NGINX_BACKLOG_SAID."
	echo
	cat "$TABLE"
} >"$RESULTS"
echo
cat "$RESULTS"
