#!/bin/sh
# run.sh - the benchmark behind `make bench`. It starts nginx on loopback
# (nginx.sh: a canned chat completion) on three ports: no delay, 100 ms and
# 1 s. Then, in one run:
#
#   1. wrk on the no-delay port: the rate this machine serves at all;
#   2. the Python asyncio + aiohttp script a user would write
#      (script_baseline.py, 64 prompts at a time) on the same prompts;
#   3. caigen at its default concurrency on those prompts: requests/s next to
#      wrk's, prompts/s next to the script's, CPU per request;
#   4. 100 ms latency with 1,024 requests in flight (341 policy + 683 judge,
#      and --jobs 512): throughput against the ideal;
#   5. 1 s latency with 10,000 in flight: throughput against the ideal,
#      failed prompts, retries, peak RSS; as the issue asks, one budget of
#      10,000 shared by policy and judge (`concurrency: [1, 5000]` each:
#      one limiter for the server, its ceiling the sum; it starts at 16),
#      the same with a floor of half (`[5000, 5000]` each: it starts at
#      5,000; no config fixes a shared budget), and for comparison --jobs
#      5000 (5,000 fixed for each: the judge, with twice the requests,
#      bounds it);
#   6. 10k / 100k / 1M prompts at the default concurrency: time and peak RSS,
#      then a resume over the largest output.
#
# Every caigen measurement is made for each binary under test, one after the
# other, so "before" and "after" share the machine's state:
#
#   CAIGEN=path/to/new/caigen CAIGEN_BEFORE=path/to/old/caigen sh run.sh
#
# It prints progress lines, then a markdown table (also written to
# $BENCH_RESULTS, default obj/bench/results.md) that the README can take.
# Everything it starts is stopped on exit.
#
# Environment: CAIGEN (./caigen), CAIGEN_BEFORE (none), BENCH_LABEL (the
# column of CAIGEN: "after" with CAIGEN_BEFORE, else "caigen"),
# BENCH_BEFORE_LABEL ("before"), BENCH_PROMPTS (20000: the rate runs and the
# script), BENCH_SLOW (50000 prompts at 100 ms), BENCH_SLOW_SHAPES
# ("balanced jobs"), BENCH_HUGE (50000 prompts at 1 s), BENCH_HUGE_FLIGHT
# (10000), BENCH_HUGE_SHAPES ("shared floor jobs"; "floor": the shared budget
# with a floor of half, `concurrency: [5000, 5000]` each), BENCH_SIZES ("10000 100000 1000000"), BENCH_WRK_SECONDS (10),
# BENCH_SCRIPT_CONCURRENCY (64), BENCH_RUN_TIMEOUT (1800 s a caigen run),
# BENCH_RESULTS. BENCH_QUICK=1: a smoke run of well under a minute a binary.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CAIGEN=$(abs "${CAIGEN:-$ROOT/caigen}")
CAIGEN_BEFORE=${CAIGEN_BEFORE:-}
N_RATE=${BENCH_PROMPTS:-20000}
N_SLOW=${BENCH_SLOW:-50000}
SLOW_SHAPES=${BENCH_SLOW_SHAPES:-balanced jobs}
N_HUGE=${BENCH_HUGE:-50000}
HUGE_SHAPES=${BENCH_HUGE_SHAPES:-shared floor jobs}
HUGE_FLIGHT=${BENCH_HUGE_FLIGHT:-10000}
SIZES=${BENCH_SIZES:-10000 100000 1000000}
WRK_S=${BENCH_WRK_SECONDS:-10}
SCRIPT_C=${BENCH_SCRIPT_CONCURRENCY:-64}
RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-1800}
RESULTS=$(abs "${BENCH_RESULTS:-$ROOT/obj/bench/results.md}")
SLOW_FLIGHT=1024
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N_RATE=${BENCH_PROMPTS:-2000} N_SLOW=${BENCH_SLOW:-3000}
	N_HUGE=${BENCH_HUGE:-6000} SIZES=${BENCH_SIZES:-1000 10000}
	WRK_S=${BENCH_WRK_SECONDS:-2}
fi
PY=/usr/bin/python3

sh "$ROOT/tests/deps.sh" nginx libnginx-mod-http-echo wrk time curl || exit 2
# the script's packages: Debian's, for Debian's python (not a pyenv one)
HAVE_SCRIPT=1
sh "$ROOT/tests/deps.sh" python3-aiohttp python3-yaml &&
	"$PY" -c 'import aiohttp' 2>/dev/null || HAVE_SCRIPT=0
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || { echo "bench: no '$ECHO_SO'" >&2; exit 2; }

# the binaries under test: index i, path BIN_i, column name NAME_i
if [ -n "$CAIGEN_BEFORE" ]; then
	BIN_1=$(abs "$CAIGEN_BEFORE") NAME_1=${BENCH_BEFORE_LABEL:-before}
	BIN_2=$CAIGEN NAME_2=${BENCH_LABEL:-after}
	IDX="1 2"
else
	BIN_1=$CAIGEN NAME_1=${BENCH_LABEL:-caigen}
	IDX=1
fi
for i in $IDX; do
	eval "_b=\$BIN_$i"
	[ -x "$_b" ] || { echo "bench: no caigen at '$_b'" >&2; exit 2; }
done

# 10,000 connections need as many descriptors (and nginx as many again)
ulimit -n "$(ulimit -Hn)" 2>/dev/null

T=$(mktemp -d /tmp/caigen-bench.XXXXXX)
cleanup() {
	nginx_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- small helpers --------------------------------------------------------
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }
# thousands separators: 12345.6 -> 12,346
num() {
	awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); o = "";
		while (length(s) > 3) { o = "," substr(s, length(s) - 2) o;
			s = substr(s, 1, length(s) - 3) } print s o }'
}
calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
yesno() { awk "BEGIN { print (($1) ? \"yes\" : \"no\") }"; }
mb() { fmt "$(calc "$1 / 1024")" 1; }   # KiB -> MiB, one decimal
load() { cut -d' ' -f1-3 /proc/loadavg; }


# ---- nginx (nginx.sh) ------------------------------------------------------
BENCH_DIR=$HERE
. "$HERE/nginx.sh"
start_nginx() {
	nginx_start "$T/nginx" fast slow huge
	URL_FAST=http://127.0.0.1:$PORT_fast/v1
	URL_SLOW=http://127.0.0.1:$PORT_slow/v1
	URL_HUGE=http://127.0.0.1:$PORT_huge/v1
}

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

# run I LABEL PROMPTS URL [flags...]: one run of binary I into a fresh
# directory, under /usr/bin/time. Sets WALL USER SYS RSS_KB REQS RETRIES
# PROMPTS_DONE FAILED RC.
run() {
	eval "_bin=\$BIN_$1"
	_label=$1.$2 _in=$3 _url=$4
	shift 4
	_out=$T/out.$_label
	[ "${KEEP:-0}" = 1 ] || rm -rf "$_out"
	_t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$T/time.$_label" \
		timeout -k 10 "$RUN_TIMEOUT" \
		"$_bin" run --prompts "$_in" --out "$_out" \
		--policy-url "$_url" --judge-url "$_url" \
		--policy-model bench-policy --judge-model bench-judge \
		--constitution "$ROOT/constitution/harmless.yaml" "$@" \
		>"$T/log.$_label" 2>&1
	RC=$?
	_t1=$(date +%s.%N)
	WALL=$(calc "$_t1 - $_t0")
	# /usr/bin/time adds a "Command exited with non-zero status" line
	read -r USER SYS RSS_KB <<EOF
$(tail -n 1 "$T/time.$_label")
EOF
	REQS=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $3 }
		END { print s + 0 }' "$T/log.$_label")
	RETRIES=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
		s += $5 } END { print s + 0 }' "$T/log.$_label")
	FAILED=$(awk '/^caigen: [0-9]+ lines read/ {
		for (i = 1; i < NF; i++) if ($(i + 1) ~ /^failed/) print $i }' \
		"$T/log.$_label" | tail -n 1)
	FAILED=${FAILED:-?}
	PROMPTS_DONE=0
	[ -f "$_out/preferences.jsonl" ] &&
		PROMPTS_DONE=$(wc -l <"$_out/preferences.jsonl" | tr -d ' ')
	[ "$RETRIES" = 0 ] ||
		echo "bench: note: $RETRIES retries in '$_label'" >&2
	if [ "$RC" != 0 ]; then
		echo "bench: caigen exited with $RC on '$_label':" >&2
		tail -n 5 "$T/log.$_label" >&2
	fi
}

# drop I LABEL: remove the output of a run (KEEP=1 run ... reuses it)
drop() { rm -rf "$T/out.$1.$2"; }

# ideal N DELAY P J: seconds an ideal client (no cost of its own) needs for
# N prompts with P policy and J judge requests in flight: a prompt holds a
# policy slot for DELAY (n=2: one request) and judge slots for 2 x DELAY
# (both orders), so the busier pool needs max(N*D/P, 2*N*D/J), plus one
# DELAY to fill the pipeline. With the pools in proportion (J = 2P) this is
# requests x latency / requests in flight + DELAY. J = 0: P places shared
# by both (one budget): 3*N*D/P + DELAY, the issue's ideal.
ideal() {
	if [ "$4" = 0 ]; then
		calc "3 * $1 * $2 / $3 + $2"
		return
	fi
	calc "($1 * $2 / $3 > 2 * $1 * $2 / $4 ? $1 * $2 / $3 : 2 * $1 * $2 / $4) + $2"
}

# the markdown table, built as the sections run
TABLE=$T/table.md
# row TEXT TARGET VAR [METVAR]: one line; the cells are $VAR_i, the last
# column the $METVAR_i joined by " / "
row() {
	_l="| $1 | $2 |" _m=""
	for i in $IDX; do
		eval "_c=\${$3_$i:--}"
		_l="$_l $_c |"
		if [ -n "${4:-}" ]; then
			eval "_x=\${$4_$i:--}"
			_m="${_m:+$_m / }$_x"
		fi
	done
	echo "$_l $_m |" >>"$TABLE"
}
# same TEXT VALUE: a reference row, one measurement shared by the columns
same() {
	_l="| $1 | |"
	for i in $IDX; do
		if [ "$i" = 1 ]; then _l="$_l $2 |"; else _l="$_l (same) |"; fi
	done
	echo "$_l |" >>"$TABLE"
}
# set VAR I VALUE
set_() { eval "$1_$2=\$3"; }

echo "bench: $(nproc) cores, $(uname -sr), $(nginx -v 2>&1), $(date -u '+%F %T UTC')"
for i in $IDX; do
	eval "echo \"bench: \$NAME_$i = \$BIN_$i (\$(\"\$BIN_$i\" version 2>/dev/null | head -n 1))\""
done
LOAD_BEFORE=$(load)
echo "bench: load before: $LOAD_BEFORE"
start_nginx
echo "bench: nginx on $URL_FAST (no delay), $URL_SLOW (0.1 s), $URL_HUGE (1 s);" \
	"$NGINX_BACKLOG_SAID"

# ---- 1. the machine's request rate: wrk ----------------------------------
# Before and after caigen's rate runs (the machine may be shared); caigen is
# compared with the mean of the two.
BENCH_BODY=$HERE/judge_request.json
export BENCH_BODY
wrk_once() {
	wrk -t2 -c64 -d"${WRK_S}s" -s "$HERE/post.lua" \
		"$URL_FAST/chat/completions" >"$T/wrk.txt" 2>&1
	_non2xx=$(awk '/Non-2xx/ { print $NF }' "$T/wrk.txt")
	[ -z "$_non2xx" ] || echo "bench: wrk: $_non2xx non-2xx answers" >&2
	_r=$(awk '/^Requests\/sec:/ { print $2 }' "$T/wrk.txt")
	echo "${_r:-0}"
}
WRK1=$(wrk_once)
echo "wrk: $(num "$WRK1") requests/s (-t2 -c64 ${WRK_S}s, POST of" \
	"$(wc -c <"$BENCH_BODY" | tr -d ' ') bytes)"

# ---- 2. the script a user would write ------------------------------------
gen "$N_RATE" "$T/rate.jsonl"
SCRIPT_PPS=0
if [ "$HAVE_SCRIPT" = 1 ]; then
	_t0=$(date +%s.%N)
	/usr/bin/time -f '%U %S %M' -o "$T/time.script" \
		timeout -k 10 "$RUN_TIMEOUT" "$PY" "$HERE/script_baseline.py" \
		--prompts "$T/rate.jsonl" --url "$URL_FAST" \
		--out "$T/script.jsonl" --concurrency "$SCRIPT_C" \
		--constitution "$ROOT/constitution/harmless.yaml" \
		2>"$T/log.script"
	_rc=$?
	_t1=$(date +%s.%N)
	_wall=$(calc "$_t1 - $_t0")
	read -r _u _s _rss <<EOF
$(tail -n 1 "$T/time.script")
EOF
	_done=$(wc -l <"$T/script.jsonl" | tr -d ' ')
	_reqs=$(awk '/^script: / { print $4 }' "$T/log.script")
	_reqs=${_reqs:-0}
	[ "$_rc" = 0 ] || { echo "bench: the script exited with $_rc:" >&2
		tail -n 5 "$T/log.script" >&2; }
	SCRIPT_PPS=$(calc "$_done / $_wall")
	SCRIPT_RPS=$(calc "$_reqs / $_wall")
	SCRIPT_CPU=$(calc "$_reqs > 0 ? ($_u + $_s) * 1000000 / $_reqs : 0")
	echo "script: $_done prompts, $_reqs requests in $(fmt "$_wall" 2) s:" \
		"$(num "$SCRIPT_PPS") prompts/s, $(num "$SCRIPT_RPS")" \
		"requests/s, $(fmt "$SCRIPT_CPU" 0) us of CPU a request" \
		"(concurrency $SCRIPT_C), peak RSS $(mb "$_rss") MB"
	rm -f "$T/script.jsonl"
else
	echo "bench: no python3-aiohttp for $PY: the script is left out" >&2
fi

# ---- 3. caigen's rate against the same server ----------------------------
for i in $IDX; do
	run "$i" rate "$T/rate.jsonl" "$URL_FAST"
	drop "$i" rate
	_rps=$(calc "$REQS / $WALL")
	_pps=$(calc "$PROMPTS_DONE / $WALL")
	_cpu=$(calc "$REQS > 0 ? ($USER + $SYS) * 1000000 / $REQS : 0")
	set_ RPS "$i" "$_rps"
	set_ PPS "$i" "$_pps"
	set_ CPU "$i" "$_cpu"
	set_ RATE_RSS "$i" "$RSS_KB"
	[ "$PROMPTS_DONE" != 0 ] || set_ RATEBAD "$i" "no output (rc $RC)"
	eval "_n=\$NAME_$i"
	echo "rate: $_n: $PROMPTS_DONE prompts, $REQS requests in" \
		"$(fmt "$WALL" 2) s: $(num "$_rps") requests/s," \
		"$(num "$_pps") prompts/s, $(fmt "$_cpu" 1) us of CPU a" \
		"request (user $USER s, sys $SYS s), peak RSS $(mb "$RSS_KB") MB"
done
WRK2=$(wrk_once)
WRK_RPS=$(calc "($WRK1 + $WRK2) / 2")
echo "wrk: again after the rate runs: $(num "$WRK2") requests/s; mean" \
	"$(num "$WRK_RPS")"

# ---- 4, 5. throughput against the ideal at 100 ms and 1 s -----------------
# latency LABEL N PROMPTS URL DELAY SHAPE FLIGHT: for each binary, one run
# with FLIGHT requests in flight, shape "balanced" (a third policy, two
# thirds judge: both pools busy), "jobs" (--jobs FLIGHT/2), "shared" (one
# budget of FLIGHT for both: `concurrency: [1, FLIGHT/2]` each, auto; the
# limiter starts at 16) or "floor" (the same, `[FLIGHT/2, FLIGHT/2]` each:
# it starts at FLIGHT/2). Sets the cells <LABEL>RPS_i, <LABEL>FR_i,
# <LABEL>MET_i, <LABEL>CR_i, <LABEL>FAIL_i, <LABEL>HOW_i.
latency() {
	_lb=$1 _n=$2 _file=$3 _url=$4 _d=$5 _shape=$6 _fl=$7
	printf 'policy:\n  concurrency: %s\njudge:\n  concurrency: %s\n' \
		$((_fl / 3)) $((_fl - _fl / 3)) >"$T/balanced.yaml"
	printf 'policy:\n  concurrency: [1, %s]\njudge:\n  concurrency: [1, %s]\n' \
		$((_fl / 2)) $((_fl - _fl / 2)) >"$T/shared.yaml"
	printf 'policy:\n  concurrency: [%s, %s]\njudge:\n  concurrency: [%s, %s]\n' \
		$((_fl / 2)) $((_fl / 2)) $((_fl - _fl / 2)) \
		$((_fl - _fl / 2)) >"$T/floor.yaml"
	for i in $IDX; do
		eval "_nm=\$NAME_$i"
		if [ "$_shape" = shared ] || [ "$_shape" = floor ]; then
			_p=$_fl _j=0
			if [ "$_shape" = shared ]; then
				_how="shared: [1, $((_fl / 2))] each"
			else
				_how="shared: [$((_fl / 2)), $((_fl / 2))] each"
			fi
			_lo0=$(nginx_listen_overflows) _ld=$(load)
			run "$i" "$_lb" "$_file" "$_url" -c "$T/$_shape.yaml"
		elif [ "$_shape" = balanced ]; then
			_p=$((_fl / 3)) _j=$((_fl - _fl / 3))
			_how="$_p + $_j"
			_lo0=$(nginx_listen_overflows) _ld=$(load)
			run "$i" "$_lb" "$_file" "$_url" -c "$T/balanced.yaml"
		else
			_p=$((_fl / 2)) _j=$((_fl / 2))
			_how="--jobs $_p"
			_lo0=$(nginx_listen_overflows) _ld=$(load)
			run "$i" "$_lb" "$_file" "$_url" --jobs "$_p"
			# an older binary caps --jobs (4096): take its most
			if [ "$RC" = 2 ] && [ "$PROMPTS_DONE" = 0 ] &&
			   grep -q -- '--jobs' "$T/log.$i.$_lb"; then
				_p=4096 _j=4096
				_how="--jobs 4096, its maximum: 8,192 in flight"
				echo "bench: $_nm: --jobs $((_fl / 2)) refused;" \
					"--jobs 4096" >&2
				run "$i" "$_lb" "$_file" "$_url" --jobs 4096
			fi
		fi
		drop "$i" "$_lb"
		_it=$(ideal "$_n" "$_d" "$_p" "$_j")
		_rps=$(calc "$REQS / $WALL")
		_irps=$(calc "3 * $_n / $_it")
		_fr=$(calc "$_it / $WALL")
		_cpu=$(calc "$REQS > 0 ? ($USER + $SYS) * 1000000 / $REQS : 0")
		set_ "${_lb}RPS" "$i" "$(num "$_rps") ($(num "$_irps"))"
		set_ "${_lb}FR" "$i" "$(fmt "$_fr" 3)"
		set_ "${_lb}MET" "$i" "$(yesno "$_fr >= 0.97 && $PROMPTS_DONE == $_n")"
		set_ "${_lb}CR" "$i" "$(fmt "$_cpu" 0) µs, $(mb "$RSS_KB") MB"
		set_ "${_lb}RSS" "$i" "$RSS_KB"
		set_ "${_lb}FAIL" "$i" "$FAILED, $RETRIES"
		set_ "${_lb}FMET" "$i" "$(yesno "\"$FAILED\" == \"0\" && $PROMPTS_DONE == $_n")"
		set_ "${_lb}HOW" "$i" "$_how"
		if [ "$PROMPTS_DONE" = 0 ]; then
			for _k in RPS FR CR FAIL; do
				set_ "${_lb}$_k" "$i" "no output (rc $RC)"
			done
			set_ "${_lb}MET" "$i" no
			set_ "${_lb}FMET" "$i" no
			set_ "${_lb}RSS" "$i" 999999999
		fi
		echo "latency: $_nm: $_d s, $_how: $PROMPTS_DONE of $_n" \
			"prompts, $REQS requests in $(fmt "$WALL" 2) s (ideal" \
			"$(fmt "$_it" 2) s): $(num "$_rps") requests/s of ideal" \
			"$(num "$_irps"): $(fmt "$_fr" 3) of ideal; CPU" \
			"$(fmt "$USER" 2)+$(fmt "$SYS" 2) s ($(fmt "$_cpu" 0) us a" \
			"request), peak RSS $(mb "$RSS_KB") MB, $FAILED failed," \
			"$RETRIES retries; SYNs dropped at the listen queue" \
			"$(($(nginx_listen_overflows) - _lo0)); load $_ld"
	done
}
gen "$N_SLOW" "$T/slow.jsonl"
for s in $SLOW_SHAPES; do
	latency "slow$s" "$N_SLOW" "$T/slow.jsonl" "$URL_SLOW" 0.1 "$s" \
		"$SLOW_FLIGHT"
done
rm -f "$T/slow.jsonl"
gen "$N_HUGE" "$T/huge.jsonl"
for s in $HUGE_SHAPES; do
	latency "huge$s" "$N_HUGE" "$T/huge.jsonl" "$URL_HUGE" 1.0 "$s" \
		"$HUGE_FLIGHT"
done
rm -f "$T/huge.jsonl"

# ---- 6. memory and time against input size --------------------------------
for n in $SIZES; do
	gen "$n" "$T/size.jsonl"
	for i in $IDX; do
		eval "_nm=\$NAME_$i"
		run "$i" "size$n" "$T/size.jsonl" "$URL_FAST"
		_us=$(calc "$WALL * 1000000 / $n")
		set_ "SIZE${n}" "$i" "$(fmt "$WALL" 2) s ($(fmt "$_us" 0)), $(mb "$RSS_KB") MB"
		set_ "SIZEMET${n}" "$i" "$(yesno "$RSS_KB <= 32768 && $PROMPTS_DONE == $n")"
		set_ "SIZEUS${n}" "$i" "$_us"
		if [ "$PROMPTS_DONE" = 0 ]; then
			set_ "SIZE${n}" "$i" "no output (rc $RC)"
			set_ "SIZEUS${n}" "$i" 0
		fi
		echo "size: $_nm: $PROMPTS_DONE of $n prompts in" \
			"$(fmt "$WALL" 2) s ($(num "$(calc "$PROMPTS_DONE / $WALL")")" \
			"prompts/s, $(fmt "$_us" 1) us a prompt), peak RSS" \
			"$(mb "$RSS_KB") MB"
		if [ "$n" = "${SIZES##* }" ]; then
			# resume over the largest output: all already done
			_had=$PROMPTS_DONE
			KEEP=1 run "$i" "size$n" "$T/size.jsonl" "$URL_FAST"
			set_ RESUME "$i" "$(fmt "$WALL" 2) s, $(mb "$RSS_KB") MB"
			[ "$_had" != 0 ] || set_ RESUME "$i" "nothing to resume"
			echo "resume: $_nm: $_had records already written: scan" \
				"and skip in $(fmt "$WALL" 2) s, peak RSS" \
				"$(mb "$RSS_KB") MB"
		fi
		drop "$i" "size$n"
	done
	rm -f "$T/size.jsonl"
done
LOAD_AFTER=$(load)
echo "bench: load after: $LOAD_AFTER"

# ---- the table ------------------------------------------------------------
_h="| measurement | target |" _s="|---|---|"
for i in $IDX; do
	eval "_h=\"\$_h \$NAME_$i |\""
	_s="$_s---|"
done
{
	echo "$_h met |"
	echo "$_s---|"
} >"$TABLE"
same "wrk \`-t2 -c64\`: requests/s (before, after caigen's rate runs)" \
	"$(num "$WRK1"), $(num "$WRK2")"
if [ "$HAVE_SCRIPT" = 1 ]; then
	same "Python asyncio + aiohttp script, $SCRIPT_C at a time: prompts/s (requests/s); CPU a request" \
		"$(num "$SCRIPT_PPS") ($(num "$SCRIPT_RPS")); $(fmt "$SCRIPT_CPU" 0) µs"
fi
for i in $IDX; do
	eval "_rps=\$RPS_$i _pps=\$PPS_$i _cpu=\$CPU_$i _rss=\$RATE_RSS_$i"
	set_ C_RATE "$i" "$(num "$_rps") ($(num "$_pps"))"
	set_ C_PR "$i" "$(fmt "$(calc "$SCRIPT_PPS > 0 ? $_pps / $SCRIPT_PPS : 0")" 2)"
	set_ M_PR "$i" "$(yesno "$SCRIPT_PPS > 0 && $_pps >= 10 * $SCRIPT_PPS")"
	set_ C_WR "$i" "$(fmt "$(calc "$_rps / $WRK_RPS")" 3)"
	set_ M_WR "$i" "$(yesno "$_rps >= 0.4 * $WRK_RPS")"
	_c="$(fmt "$_cpu" 0) µs"
	_m=-
	if [ "$i" != 1 ]; then
		[ -n "${RATEBAD_1:-}" ] ||
			_c="$_c ($(fmt "$(calc "$CPU_1 > 0 ? $_cpu / $CPU_1 : 0")" 2) of $NAME_1)"
		_m=$(yesno "$_cpu > 0 && $_cpu * 3 <= $CPU_1")
	fi
	set_ C_CPU "$i" "$_c; $(mb "$_rss") MB"
	set_ M_CPU "$i" "$_m"
	eval "_bad=\${RATEBAD_$i:-}"
	if [ -n "$_bad" ]; then
		for _k in C_RATE C_PR C_WR C_CPU; do set_ $_k "$i" "$_bad"; done
		for _k in M_PR M_WR M_CPU; do set_ $_k "$i" no; done
	fi
done
row "caigen, default concurrency, $(num "$N_RATE") prompts: requests/s (prompts/s)" "" C_RATE
row "... prompts/s ÷ the script's" ">= 10" C_PR M_PR
row "... requests/s ÷ mean of wrk" ">= 0.4" C_WR M_WR
row "... CPU a request (user+sys ÷ requests); peak RSS" "<= 1/3 of before" C_CPU M_CPU
for s in $SLOW_SHAPES; do
	eval "_how=\$slow${s}HOW_1"
	row "100 ms, 1,024 in flight ($_how), $(num "$N_SLOW") prompts: requests/s (ideal)" "" "slow${s}RPS"
	row "... achieved ÷ ideal" ">= 0.97" "slow${s}FR" "slow${s}MET"
	row "... CPU a request; peak RSS" "" "slow${s}CR"
done
for s in $HUGE_SHAPES; do
	_how=""
	for i in $IDX; do
		eval "_h=\$huge${s}HOW_$i"
		case $_how in *"$_h"*) ;; *) _how="${_how:+$_how / }$_h" ;; esac
	done
	row "1 s, $(num "$HUGE_FLIGHT") in flight ($_how), $(num "$N_HUGE") prompts: requests/s (ideal)" "" "huge${s}RPS"
	row "... achieved ÷ ideal" ">= 0.97" "huge${s}FR" "huge${s}MET"
	row "... prompts failed, retries" "0" "huge${s}FAIL" "huge${s}FMET"
	for i in $IDX; do
		eval "_r=\$huge${s}RSS_$i"
		set_ "huge${s}RMET" "$i" "$(yesno "$_r <= 65536")"
	done
	row "... CPU a request; peak RSS" "<= 64 MB" "huge${s}CR" "huge${s}RMET"
done
for n in $SIZES; do
	if [ "$n" != "${SIZES%% *}" ] && [ "$n" != "${SIZES##* }" ]; then
		row "$(num "$n") prompts: time (µs a prompt); peak RSS" "" "SIZE$n"
	else
		row "$(num "$n") prompts: time (µs a prompt); peak RSS" "<= 32 MB" "SIZE$n" "SIZEMET$n"
	fi
done
_lo=${SIZES##* } _mid=$(echo "$SIZES" | awk '{ print $(NF - 1) }')
if [ "$_lo" != "$_mid" ]; then
	for i in $IDX; do
		eval "_a=\$SIZEUS${_mid}_$i _b=\$SIZEUS${_lo}_$i"
		set_ LIN "$i" "$(fmt "$_a" 0) → $(fmt "$_b" 0) µs ($(fmt "$(calc "$_a > 0 ? $_b / $_a : 0")" 2))"
		set_ LINMET "$i" "$(yesno "$_a > 0 && $_b > 0 && $_b <= 1.15 * $_a")"
	done
	row "time against prompts: µs a prompt, $(num "$_mid") → $(num "$_lo")" "linear (<= 1.15)" LIN LINMET
fi
row "resume over the $(num "$_lo") records: time; peak RSS" "" RESUME

mkdir -p "$(dirname "$RESULTS")"
{
	echo "caigen bench, $(date -u '+%F %H:%M UTC'), $(nproc) cores," \
		"load $LOAD_BEFORE at the start, $LOAD_AFTER at the end$(
		[ "${BENCH_QUICK:-0}" = 1 ] && echo ' (BENCH_QUICK=1: smoke sizes)')"
	for i in $IDX; do
		eval "echo \"\$NAME_$i: \$BIN_$i (\$(\"\$BIN_$i\" version 2>/dev/null | head -n 1))\""
	done
	echo
	cat "$TABLE"
	echo
	echo "MB are MiB (peak RSS from /usr/bin/time). Ideal: a client with no" \
		"cost of its own, max(N·d/P, 2·N·d/J) + d seconds for N prompts" \
		"with P policy and J judge requests in flight at latency d;" \
		"3·N·d/F + d with one budget of F shared by both. The" \
		"met column is for each caigen column in turn. $NGINX_BACKLOG_SAID."
} >"$RESULTS"
echo
cat "$RESULTS"
echo
echo "bench: table in $RESULTS"
