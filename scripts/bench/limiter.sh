#!/bin/sh
# limiter.sh - the adaptive-concurrency benchmark behind `make bench` (after
# run.sh) and `make bench-limiter`. It starts nginx on loopback with the
# canned chat completion on five ports:
#
#   fast   no delay
#   slow   100 ms (echo_sleep)
#   huge   1 s
#   rate   100 ms, 429 beyond LIMITER_RATE requests/s (limit_req, burst of
#          a tenth of a second's worth, nodelay)
#   conn   100 ms, 429 beyond LIMITER_CONN requests at once (limit_conn)
#
# and runs caigen on each at its default settings (concurrency: auto) and at
# --jobs 8, 32, 128, 512, 2048, each run on the same prompts and stopped
# (SIGTERM, then its grace) after BENCH_LIMITER_SECONDS: prompts written per
# second of the run, requests refused with a 429, prompts failed. The
# default is compared with the best fixed setting on the same server. Then
# 10,000 in flight at 1 s: one budget of 10,000 shared by policy and judge
# (`concurrency: [1, 5000]` each: one limiter, its ceiling the sum; the
# issue's ideal assumes it), the same started at 5,000 (`[5000, 5000]`
# each) and --jobs 5000 (5,000 fixed for each): time
# against the ideal, failures, retries, peak RSS, SYNs dropped at nginx's
# listen queue, the load. The default runs write the limiter's trace
# (CAIGEN_LIMITER_TRACE); the traces of the rate, conn and huge servers
# become SVG plots (trace_svg.awk) next to the table.
#
# Environment: CAIGEN (./caigen), BENCH_LIMITER_SECONDS (30; quick 12),
# BENCH_LIMITER_HUGE_SECONDS (60; quick 25: the 1 s server needs longer to
# ramp), BENCH_LIMITER_JOBS ("8 32 128 512 2048"), BENCH_LIMITER_SERVERS
# ("fast slow huge rate conn"), LIMITER_RATE (400), LIMITER_CONN (64),
# BENCH_FLIGHT_PROMPTS (50000; quick 20000), BENCH_LIMITER_FLIGHT_SHAPES
# ("shared floor jobs"; "floor": the shared budget with a floor of half,
# `concurrency: [5000, 5000]` each), BENCH_RESULTS_LIMITER
# (obj/bench/limiter.md; the SVGs beside it). BENCH_QUICK=1: the short
# timings. Everything it starts is stopped on exit.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CAIGEN=$(abs "${CAIGEN:-$ROOT/caigen}")
QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then
	SECS=${BENCH_LIMITER_SECONDS:-12}
	HUGE_SECS=${BENCH_LIMITER_HUGE_SECONDS:-25}
	FLIGHT_N=${BENCH_FLIGHT_PROMPTS:-20000}
else
	SECS=${BENCH_LIMITER_SECONDS:-30}
	HUGE_SECS=${BENCH_LIMITER_HUGE_SECONDS:-60}
	FLIGHT_N=${BENCH_FLIGHT_PROMPTS:-50000}
fi
if [ "$QUICK" = 1 ]; then
	JOBS=${BENCH_LIMITER_JOBS:-8 32 128 2048}	# 512 left out for time
else
	JOBS=${BENCH_LIMITER_JOBS:-8 32 128 512 2048}
fi
SERVERS=${BENCH_LIMITER_SERVERS:-fast slow huge rate conn}
# the real llama.cpp server with 4 slots, when given
LLAMA=0
if [ -n "${LLAMA_SERVER:-}" ]; then
	if [ ! -x "$LLAMA_SERVER" ] || [ ! -r "${LLAMA_MODEL:-}" ]; then
		echo "bench: LLAMA_SERVER '$LLAMA_SERVER' must be an executable and LLAMA_MODEL '${LLAMA_MODEL:-}' a readable GGUF file" >&2
		exit 2
	fi
	LLAMA=1
	case " $SERVERS " in *" llama "*) ;; *) SERVERS="$SERVERS llama" ;; esac
fi
RATE=${LIMITER_RATE:-400}
CONN=${LIMITER_CONN:-64}
RESULTS=$(abs "${BENCH_RESULTS_LIMITER:-$ROOT/obj/bench/limiter.md}")
OUTDIR=$(dirname "$RESULTS")
PY=/usr/bin/python3

sh "$ROOT/tests/deps.sh" nginx libnginx-mod-http-echo time curl || exit 2
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || { echo "bench: no '$ECHO_SO'" >&2; exit 2; }
[ -x "$CAIGEN" ] || { echo "bench: no caigen at '$CAIGEN'" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$OUTDIR"

T=$(mktemp -d /tmp/caigen-limiter.XXXXXX)
LLAMA_PID=""
cleanup() {
	nginx_stop
	if [ -n "$LLAMA_PID" ]; then
		kill "$LLAMA_PID" 2>/dev/null
		wait "$LLAMA_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }

# ---- nginx (nginx.sh) ------------------------------------------------------
BENCH_DIR=$HERE
. "$HERE/nginx.sh"
nginx_start "$T/nginx" fast slow huge rate conn

# ---- llama.cpp's server: 4 slots (-np 4), 2 threads -------------------------
# Its policy answers are cut at 8 tokens and kept so (the tiny model would
# run to the 512 of the default, and a cut answer is asked again by
# default), and its runs last as long as the 1 s server's: the same
# settings for every run on it.
if [ "$LLAMA" = 1 ]; then
	PORT_llama=$(nginx_free_port)
	"$LLAMA_SERVER" -m "$LLAMA_MODEL" --host 127.0.0.1 \
		--port "$PORT_llama" -c 8192 -np 4 -t 2 \
		>"$T/llama.log" 2>&1 &
	LLAMA_PID=$!
	_i=0
	until [ "$(curl -s -o /dev/null -w '%{http_code}' \
		"http://127.0.0.1:$PORT_llama/health")" = 200 ]; do
		_i=$((_i + 1))
		if [ $_i -ge 600 ] || ! kill -0 "$LLAMA_PID" 2>/dev/null; then
			echo "bench: llama-server did not start:" >&2
			tail -n 20 "$T/llama.log" >&2
			exit 2
		fi
		sleep 0.1
	done
	printf 'policy:\n  max_tokens: 8\n  truncated: keep\n' \
		>"$T/llama.yaml"
fi

gen() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"l%07d\",\"prompt\":\"Question %d: what is " \
		       "a sensible, polite way to deal with a leaking tap, " \
		       "and what should I avoid doing so that it does not " \
		       "get worse?\"}\n", i, i }' >"$2"
}

# timed LABEL URL SECONDS PROMPTS [flags...]: caigen for at most SECONDS,
# then SIGTERM (its grace lets the calls on the wire finish). Sets PPS
# (prompts written a second of the whole run), R429, FAILED, RSS_KB, WALL,
# RETRIES, CPU (user+sys s).
timed() {
	_lb=$1 _url=$2 _s=$3 _in=$4
	shift 4
	rm -rf "$T/out.$_lb"
	_t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$T/time.$_lb" \
		timeout --foreground -s TERM -k 60 "$_s" \
		"$CAIGEN" run --prompts "$_in" --out "$T/out.$_lb" \
		--policy-url "$_url" --judge-url "$_url" \
		--policy-model bench-policy --judge-model bench-judge \
		--constitution "$ROOT/constitution/harmless.yaml" "$@" \
		>"$T/log.$_lb" 2>&1
	_t1=$(date +%s.%N)
	WALL=$(calc "$_t1 - $_t0")
	read -r _u _sy RSS_KB <<EOF
$(tail -n 1 "$T/time.$_lb")
EOF
	CPU=$(calc "$_u + $_sy")
	_done=0
	[ -f "$T/out.$_lb/preferences.jsonl" ] &&
		_done=$(wc -l <"$T/out.$_lb/preferences.jsonl" | tr -d ' ')
	DONE=$_done
	PPS=$(calc "$_done / $WALL")
	# "caigen: judge: N requests, M retries 429=K 5xx=L"
	R429=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
		for (i = 1; i <= NF; i++) if ($i ~ /^429=/) {
			x = $i; sub(/^429=/, "", x); s += x } }
		END { print s + 0 }' "$T/log.$_lb")
	REQS=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $3 }
		END { print s + 0 }' "$T/log.$_lb")
	FAILED=$(awk '/^caigen: [0-9]+ lines read/ {
		for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) print $i }' \
		"$T/log.$_lb" | tail -n 1)
	FAILED=${FAILED:-0}
	RETRIES=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
		s += $5 } END { print s + 0 }' "$T/log.$_lb")
	rm -rf "$T/out.$_lb"
}

TABLE=$T/table.md
{
	echo "| server | default: prompts/s (429s, failed) | best fixed: --jobs, prompts/s | default / best (>= 0.9) | 429s of requests, default (<= 2 %) | load at start | met |"
	echo "|---|---|---|---|---|---|---|"
} >"$TABLE"
DETAIL=$T/detail.md
{
	echo "| server | setting | prompts/s | requests | 429s | failed | peak RSS MB |"
	echo "|---|---|---|---|---|---|---|"
} >"$DETAIL"

echo "bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%F %T UTC')"
echo "bench: limiter runs of ${SECS} s (1 s server: ${HUGE_SECS} s);" \
	"nginx: $NGINX_BACKLOG_SAID"
gen 200000 "$T/prompts.jsonl"
for s in $SERVERS; do
	eval "_url=http://127.0.0.1:\$PORT_$s/v1"
	_secs=$SECS
	[ "$s" = huge ] || [ "$s" = llama ] && _secs=$HUGE_SECS
	set --
	[ "$s" = llama ] && set -- -c "$T/llama.yaml"
	best=0 bestj=-
	_load=$(cut -d' ' -f1 /proc/loadavg)
	for j in default $JOBS; do
		if [ "$j" = default ]; then
			CAIGEN_LIMITER_TRACE=$T/trace.$s \
				timed "$s.$j" "$_url" "$_secs" \
				"$T/prompts.jsonl" "$@"
		else
			timed "$s.$j" "$_url" "$_secs" "$T/prompts.jsonl" \
				"$@" --jobs "$j"
		fi
		echo "limiter: $s: $j: $DONE prompts in $(fmt "$WALL" 1) s:" \
			"$(fmt "$PPS" 1) prompts/s, $REQS requests, $R429 429s," \
			"$FAILED failed, peak RSS $(fmt "$(calc "$RSS_KB / 1024")" 1) MB"
		echo "| $s | $j | $(fmt "$PPS" 1) | $REQS | $R429 | $FAILED | $(fmt "$(calc "$RSS_KB / 1024")" 1) |" >>"$DETAIL"
		if [ "$j" = default ]; then
			dpps=$PPS d429=$R429 dreq=$REQS dfail=$FAILED
		elif awk "BEGIN { exit !($PPS > $best) }"; then
			best=$PPS bestj=$j
		fi
	done
	ratio=$(calc "$best > 0 ? $dpps / $best : 0")
	frac=$(calc "$dreq > 0 ? $d429 / $dreq : 0")
	met=$(awk "BEGIN { print ($ratio >= 0.9 && $frac <= 0.02 && \"$dfail\" == \"0\") ? \"yes\" : \"no\" }")
	case $s in
	fast) _what="nginx 0 ms" ;;
	slow) _what="nginx 100 ms" ;;
	huge) _what="nginx 1 s" ;;
	rate) _what="100 ms, 429 beyond $RATE/s (limit_req)" ;;
	conn) _what="100 ms, 429 beyond $CONN at once (limit_conn)" ;;
	llama) _what="llama.cpp server, 4 slots" ;;
	*) _what=$s ;;
	esac
	echo "| $_what | $(fmt "$dpps" 1) ($d429, $dfail) | $bestj, $(fmt "$best" 1) | $(fmt "$ratio" 2) | $(fmt "$(calc "$frac * 100")" 2) % | $_load | $met |" >>"$TABLE"
	if [ -s "$T/trace.$s" ]; then
		cp "$T/trace.$s" "$OUTDIR/limiter-trace-$s.txt"
		awk -v title="caigen default (concurrency: auto) against the $s server" \
			-f "$HERE/trace_svg.awk" "$T/trace.$s" \
			>"$OUTDIR/limiter-trace-$s.svg"
	fi
done

# ---- 10,000 in flight at 1 s ------------------------------------------------
gen "$FLIGHT_N" "$T/flight.jsonl"
PORT=$PORT_huge
printf 'policy:\n  concurrency: [1, 5000]\njudge:\n  concurrency: [1, 5000]\n' \
	>"$T/shared.yaml"
printf 'policy:\n  concurrency: [5000, 5000]\njudge:\n  concurrency: [5000, 5000]\n' \
	>"$T/floor.yaml"
# a prompt: one policy request and two judge requests: 3N requests at
# 10,000 a second, plus one round trip (one budget shared by both); with
# 5,000 places each the judge's 2N requests bound it: 2N / 5,000 + 1
ideal=$(calc "3 * $FLIGHT_N / 10000 + 1")
FLIGHT_ROWS=""
for shape in ${BENCH_LIMITER_FLIGHT_SHAPES:-shared floor jobs}; do
	case $shape in
	shared) set -- -c "$T/shared.yaml"
		how="shared budget, \`concurrency: [1, 5000]\` each" ;;
	floor) set -- -c "$T/floor.yaml"
		how="shared budget, \`concurrency: [5000, 5000]\` each" ;;
	jobs) set -- --jobs 5000; how="--jobs 5000" ;;
	*) echo "bench: unknown flight shape '$shape'" >&2; exit 2 ;;
	esac
	_lo0=$(nginx_listen_overflows)
	_ld=$(cut -d' ' -f1-3 /proc/loadavg)
	timed "flight.$shape" "http://127.0.0.1:$PORT/v1" 3600 \
		"$T/flight.jsonl" "$@"
	_lo=$(($(nginx_listen_overflows) - _lo0))
	fr=$(calc "$ideal / $WALL")
	own=""
	[ "$shape" = jobs ] && own="; its own ideal $(fmt "$(calc "2 * $FLIGHT_N / 5000 + 1")" 2) s"
	echo "limiter: 10,000 in flight at 1 s, $how: $DONE of $FLIGHT_N" \
		"prompts in $(fmt "$WALL" 2) s (ideal $(fmt "$ideal" 2) s$own):" \
		"$(fmt "$fr" 3) of ideal, $FAILED failed, $RETRIES retries, peak" \
		"RSS $(fmt "$(calc "$RSS_KB / 1024")" 1) MB, CPU $(fmt "$CPU" 2) s," \
		"SYNs dropped at the listen queue $_lo, load $_ld"
	FLIGHT_ROWS="$FLIGHT_ROWS| 1 s, 10,000 in flight: $how, $FLIGHT_N prompts | $(fmt "$WALL" 2) s (ideal $(fmt "$ideal" 2) s$own) | $(fmt "$fr" 3) of ideal | $FAILED failed, $RETRIES retries | $(fmt "$(calc "$RSS_KB / 1024")" 1) MB peak RSS | $(fmt "$(calc "$DONE > 0 ? $CPU * 1000000 / (3 * $DONE) : 0")" 0) µs | $_lo | $_ld |
"
done

{
	echo "Limiter bench, $(date -u '+%F %T UTC'), $(nproc) cores, load after: $(cut -d' ' -f1-3 /proc/loadavg); runs of ${SECS} s (1 s server ${HUGE_SECS} s); rate server: $RATE requests/s, conn server: $CONN at once."
	echo
	cat "$TABLE"
	echo
	echo "| run | time | throughput | failures | memory | CPU a request | SYNs dropped (listen queue) | load at start |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s' "$FLIGHT_ROWS"
	echo
	cat "$DETAIL"
} >"$RESULTS"
echo
cat "$RESULTS"
echo
echo "bench: table in $RESULTS; traces in $OUTDIR/limiter-trace-*.svg"
