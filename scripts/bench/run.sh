#!/bin/sh
# run.sh - the benchmark behind `make bench`. It starts nginx on loopback
# with a canned chat completion (two choices, text and A/B top_logprobs, so
# one reply serves as policy answer and as judge answer) on a port without
# delay and on a port that answers after 100 ms, measures the machine's
# request rate with wrk, then runs caigen against the same server and prints
# its rate, CPU cost, throughput against the ideal at 100 ms, peak RSS and
# time against input size. Everything it starts is stopped on exit.
#
#   CAIGEN=path/to/caigen sh scripts/bench/run.sh
#
# Sizes (environment): BENCH_PROMPTS (20000, the rate run), BENCH_SLOW
# (50000, the 100 ms run), BENCH_SIZES ("10000 100000 1000000", the
# memory/linearity runs), BENCH_SLOW_JOBS (1024), BENCH_WRK_SECONDS (10),
# BENCH_RATE_JOBS ("0 32": --jobs of the rate runs, 0 = the default).
# BENCH_QUICK=1 divides everything by about ten for a smoke run.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CAIGEN=${CAIGEN:-$ROOT/caigen}
N_RATE=${BENCH_PROMPTS:-20000}
N_SLOW=${BENCH_SLOW:-50000}
SIZES=${BENCH_SIZES:-10000 100000 1000000}
SLOW_JOBS=${BENCH_SLOW_JOBS:-1024}
WRK_S=${BENCH_WRK_SECONDS:-10}
RATE_JOBS=${BENCH_RATE_JOBS:-0 32}
DELAY=0.1
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N_RATE=2000 N_SLOW=5000 SIZES="1000 10000 100000" WRK_S=3
fi

sh "$ROOT/tests/deps.sh" nginx libnginx-mod-http-echo wrk time curl || exit 2
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -x "$CAIGEN" ] || { echo "bench: no caigen at '$CAIGEN'" >&2; exit 2; }
[ -f "$ECHO_SO" ] || { echo "bench: no '$ECHO_SO'" >&2; exit 2; }

T=$(mktemp -d /tmp/caigen-bench.XXXXXX)
NGINX_PID=""
cleanup() {
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

# ---- nginx ----------------------------------------------------------------
start_nginx() {
	PORT_FAST=$(free_port)
	PORT_SLOW=$(free_port)
	[ "$PORT_FAST" != "$PORT_SLOW" ] || PORT_SLOW=$((PORT_FAST + 1))
	BODY=$(cat "$HERE/completion.json")
	mkdir -p "$T/nginx/logs" "$T/nginx/tmp"
	cat >"$T/nginx/nginx.conf" <<EOF
load_module $ECHO_SO;
worker_processes 2;
worker_rlimit_nofile 65536;
error_log $T/nginx/logs/error.log warn;
pid $T/nginx/nginx.pid;
events { worker_connections 16384; }
http {
	access_log off;
	default_type application/json;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	client_body_buffer_size 1m;
	client_max_body_size 64m;
	client_body_temp_path $T/nginx/tmp/body;
	proxy_temp_path $T/nginx/tmp/proxy;
	fastcgi_temp_path $T/nginx/tmp/fastcgi;
	uwsgi_temp_path $T/nginx/tmp/uwsgi;
	scgi_temp_path $T/nginx/tmp/scgi;
	server {
		listen 127.0.0.1:$PORT_FAST backlog=4096;
		location / { return 200 '$BODY'; }
	}
	server {
		listen 127.0.0.1:$PORT_SLOW backlog=4096;
		location / {
			echo_read_request_body;
			echo_sleep $DELAY;
			echo '$BODY';
		}
	}
}
EOF
	nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -g 'daemon off;' \
		>"$T/nginx/logs/stdout" 2>&1 &
	NGINX_PID=$!
	for _p in $PORT_FAST $PORT_SLOW; do
		_i=0
		until curl -sf -o /dev/null -X POST -d '{}' \
			"http://127.0.0.1:$_p/v1/chat/completions"; do
			_i=$((_i + 1))
			if [ $_i -ge 100 ] || ! kill -0 "$NGINX_PID" 2>/dev/null
			then
				echo "bench: nginx did not start:" >&2
				cat "$T/nginx/logs/"* >&2
				exit 2
			fi
			sleep 0.05
		done
	done
	URL_FAST=http://127.0.0.1:$PORT_FAST/v1
	URL_SLOW=http://127.0.0.1:$PORT_SLOW/v1
}

# ---- helpers --------------------------------------------------------------

# gen N FILE: N distinct prompts of ordinary length
gen() {
	awk -v n="$1" 'BEGIN {
		split("a leaking tap|a slow laptop|a noisy neighbour|" \
		      "a late train|a burnt pie|a lost key|a stuck zip|" \
		      "a flat tyre", what, "|")
		for (i = 1; i <= n; i++)
			printf "{\"id\":\"b%07d\",\"prompt\":\"Question %d: " \
			       "what is a sensible, polite way to deal with " \
			       "%s, and what should I avoid doing so that " \
			       "it does not get worse?\"}\n", i, i,
			       what[i % 8 + 1] }' >"$2"
}

# fmt X DIGITS: a number with fixed decimals
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }
calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }

# run LABEL PROMPTS URL [flags...]: one caigen run into a fresh directory,
# under /usr/bin/time. Sets WALL USER SYS RSS_KB REQS PROMPTS_DONE RC.
run() {
	_label=$1 _in=$2 _url=$3
	shift 3
	_out=$T/out.$_label
	[ "${KEEP:-0}" = 1 ] || rm -rf "$_out"
	_t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$T/time.$_label" \
		"$CAIGEN" run --prompts "$_in" --out "$_out" \
		--policy-url "$_url" --judge-url "$_url" \
		--policy-model bench-policy --judge-model bench-judge \
		--constitution "$ROOT/constitution/harmless.yaml" "$@" \
		>"$T/log.$_label" 2>&1
	RC=$?
	_t1=$(date +%s.%N)
	WALL=$(calc "$_t1 - $_t0")
	read -r USER SYS RSS_KB <"$T/time.$_label"
	REQS=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $3 }
		END { print s + 0 }' "$T/log.$_label")
	PROMPTS_DONE=$(wc -l <"$_out/preferences.jsonl" | tr -d ' ')
	_retries=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
		s += $5 } END { print s + 0 }' "$T/log.$_label")
	[ "$_retries" = 0 ] ||
		echo "bench: note: $_retries retries in '$_label'" >&2
	if [ "$RC" != 0 ]; then
		echo "bench: caigen exited with $RC on '$_label':" >&2
		tail -n 5 "$T/log.$_label" >&2
	fi
}

# drop LABEL: remove the output of a run (KEEP=1 run ... reuses it)
drop() { rm -rf "$T/out.$1"; }

echo "bench: $(nproc) cores, $(uname -sr), $(nginx -v 2>&1), $("$CAIGEN" version 2>/dev/null | head -n 1)"
echo "bench: load before: $(cut -d' ' -f1-3 /proc/loadavg)"
start_nginx
echo "bench: nginx on $URL_FAST (no delay) and $URL_SLOW ($DELAY s delay)"

# ---- 1. the machine's request rate: wrk --------------------------------
# Measured before and after caigen's rate runs (the machine may be shared);
# caigen is compared with the mean of the two.
BENCH_BODY=$HERE/judge_request.json
export BENCH_BODY
wrk_once() {
	wrk -t2 -c64 -d"${WRK_S}s" -s "$HERE/post.lua" \
		"$URL_FAST/chat/completions" >"$T/wrk.txt" 2>&1
	_non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.txt")
	[ -z "$_non2xx" ] || echo "bench: wrk: $_non2xx non-2xx answers" >&2
	awk '/^Requests\/sec:/ { print $2 }' "$T/wrk.txt"
}
WRK1=$(wrk_once)
echo "wrk: $(fmt "$WRK1" 0) requests/s (-t2 -c64 ${WRK_S}s, POST of" \
	"$(wc -c <"$BENCH_BODY" | tr -d ' ') bytes)"

# ---- 2. caigen's request rate against the same server ------------------
# At the default concurrency (8 + 8 threads), then with --jobs 32 (64
# connections, as many as wrk's).
gen "$N_RATE" "$T/rate.jsonl"
RATE_LINES=""
for j in $RATE_JOBS; do
	if [ "$j" = 0 ]; then
		run rate "$T/rate.jsonl" "$URL_FAST"
		how="default concurrency"
	else
		run rate "$T/rate.jsonl" "$URL_FAST" --jobs "$j"
		how="--jobs $j"
	fi
	drop rate
	RPS=$(calc "$REQS / $WALL")
	RATIO=$(calc "$RPS / $WRK1")
	RATE_LINES="$RATE_LINES jobs$j=$RPS"
	echo "rate: $how: $PROMPTS_DONE prompts, $REQS requests in" \
		"$(fmt "$WALL" 2) s: $(fmt "$RPS" 0) requests/s," \
		"$(fmt "$(calc "$PROMPTS_DONE / $WALL")" 0) prompts/s," \
		"$(fmt "$(calc "($USER + $SYS) * 1000 / $REQS")" 3) CPU s per" \
		"1000 requests (user $USER s, sys $SYS s), peak RSS" \
		"$((RSS_KB / 1024)) MB"
	echo "rate: $how: ratio to the first wrk $(fmt "$RATIO" 3)"
	if [ "$j" = 0 ]; then
		RATE_RPS=$RPS
	fi
done

WRK2=$(wrk_once)
WRK_RPS=$(calc "($WRK1 + $WRK2) / 2")
echo "wrk: again after the rate runs: $(fmt "$WRK2" 0) requests/s; mean" \
	"$(fmt "$WRK_RPS" 0)"
for r in $RATE_LINES; do
	echo "rate: ${r%%=*}: ratio to the mean of wrk" \
		"$(fmt "$(calc "${r#*=} / $WRK_RPS")" 3) (target >= 0.20)"
done
RATE_RATIO=$(calc "$RATE_RPS / $WRK_RPS")

# ---- 3. throughput at 100 ms with many requests in flight ---------------
# Each policy thread makes one request per prompt (n=2), each judge thread
# two in a row (both orders), each taking DELAY. With P policy and J judge
# threads the pools deliver P/DELAY and J/(2*DELAY) prompts/s, and the last
# prompt still needs DELAY in the first pool and 2*DELAY in the second, so
# an ideal client (no CPU cost at all) needs
#     max(DELAY + N*2*DELAY/J, N*DELAY/P + 2*DELAY)  seconds
# for N prompts (3N requests). Two shapes: --jobs 1024 (P = J = 1024: the
# judge pool is the bottleneck, up to 2048 requests in flight) and exactly
# 1024 in flight with the pools balanced (P = 341, J = 683).
gen "$N_SLOW" "$T/slow.jsonl"
printf 'policy:\n  concurrency: 341\njudge:\n  concurrency: 683\n' \
	>"$T/balanced.yaml"
for shape in jobs balanced; do
	if [ $shape = jobs ]; then
		P=$SLOW_JOBS J=$SLOW_JOBS how="--jobs $SLOW_JOBS"
		run slow "$T/slow.jsonl" "$URL_SLOW" --jobs "$SLOW_JOBS"
	else
		P=341 J=683 how="341 + 683 threads"
		run slow "$T/slow.jsonl" "$URL_SLOW" -c "$T/balanced.yaml"
	fi
	drop slow
	IDEAL_T=$(calc "$DELAY + $N_SLOW * 2 * $DELAY / $J")
	IDEAL_T2=$(calc "$N_SLOW * $DELAY / $P + 2 * $DELAY")
	IDEAL_T=$(calc "$IDEAL_T > $IDEAL_T2 ? $IDEAL_T : $IDEAL_T2")
	RPS=$(calc "$REQS / $WALL")
	RATIO=$(calc "$IDEAL_T / $WALL")
	echo "slow: $how at $DELAY s: $PROMPTS_DONE prompts, $REQS" \
		"requests in $(fmt "$WALL" 2) s (ideal $(fmt "$IDEAL_T" 2) s):" \
		"$(fmt "$RPS" 0) requests/s of ideal" \
		"$(fmt "$(calc "3 * $N_SLOW / $IDEAL_T")" 0), CPU" \
		"$(fmt "$USER" 2)+$(fmt "$SYS" 2) s" \
		"($(fmt "$(calc "($USER + $SYS) * 1000000 / $REQS")" 0) us per" \
		"request), peak RSS $((RSS_KB / 1024)) MB"
	echo "slow: $how: achieved/ideal $(fmt "$RATIO" 3) (target >= 0.97)"
	if [ $shape = jobs ]; then
		SLOW_RATIO=$RATIO SLOW_RSS=$RSS_KB
	else
		BAL_RATIO=$RATIO BAL_RSS=$RSS_KB
	fi
done

# ---- 4. memory and time against input size ------------------------------
LIN=""
for n in $SIZES; do
	gen "$n" "$T/size.jsonl"
	run "size$n" "$T/size.jsonl" "$URL_FAST"
	echo "size: $n prompts in $(fmt "$WALL" 2) s" \
		"($(fmt "$(calc "$PROMPTS_DONE / $WALL")" 0) prompts/s," \
		"$(fmt "$(calc "$WALL * 1000000 / $n")" 1) us/prompt)," \
		"peak RSS $(fmt "$(calc "$RSS_KB / 1024")" 1) MB"
	LIN="$LIN $n:$WALL:$RSS_KB"
	LAST=$n
done
# resume over the largest output: every prompt is already done
KEEP=1 run "size$LAST" "$T/size.jsonl" "$URL_FAST"
echo "resume: $LAST records already written: scan and skip in" \
	"$(fmt "$WALL" 2) s, peak RSS $(fmt "$(calc "$RSS_KB / 1024")" 1) MB"
drop "size$LAST"
rm -f "$T/size.jsonl"

echo "summary: wrk $(fmt "$WRK1" 0) and $(fmt "$WRK2" 0) req/s; caigen $(fmt "$RATE_RPS" 0)" \
	"req/s = $(fmt "$RATE_RATIO" 3) of wrk (jobs0 = default" \
	"concurrency); 100 ms x $SLOW_JOBS:" \
	"$(fmt "$SLOW_RATIO" 3) of ideal, RSS $((SLOW_RSS / 1024)) MB;" \
	"1024 in flight: $(fmt "$BAL_RATIO" 3) of ideal, RSS" \
	"$((BAL_RSS / 1024)) MB;" \
	"sizes (n:s:KB)$LIN"
echo "bench: load after: $(cut -d' ' -f1-3 /proc/loadavg)"
