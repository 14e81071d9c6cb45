#!/bin/sh
# h2.sh - caigen over HTTP/2 against a 1 s server: requests in flight, the
# connections they take, memory and CPU, next to HTTP/1.1.
#
# One nginx on loopback (the echo module, as nginx.sh; its own config here:
# TLS for HTTP/2, a self-signed CA made for the run and given as ca_file)
# answers every POST after 1 s with the bench's canned completion, on two
# ports: TLS (ALPN offers HTTP/2) and plain HTTP/1.1. h2c is not measured:
# libcurl before 8.0.0 cannot reuse an h2c connection (http.h). Runs:
#
#   many  H2_MANY_JOBS (50000: 100,000 in flight, policy and judge) over
#         HTTP/2, H2_MANY_PROMPTS prompts (100000)
#   h2    --jobs 5000 (10,000 in flight) over HTTP/2, H2_PROMPTS (20000)
#   h1s   the same over HTTP/1.1 with TLS (the same encryption as h2)
#   h1    the same over plain HTTP/1.1
#
# Each row: prompts done and failed, wall time against the ideal (the
# requests over the places in flight a second, plus a round trip; the
# judge has twice the policy's requests, so the ideal is the judge's),
# peak RSS, CPU (user + system) a request, the connections nginx accepted
# (its access log's $connection), the most requests nginx had at once
# (from each one's end, $msec, less its $request_time) and the retries
# by cause (caigen's summary). The open-file limit is raised
# to the hard one for caigen and nginx; with HTTP/1.1 caigen holds its
# places within it (live.c), so 100,000 are not tried on HTTP/1.1.
#
# usage: scripts/bench/h2.sh [CAIGEN]; table to H2_RESULTS
# (obj/bench/h2.md). Loopback only; runs for a few minutes.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CAIGEN=${1:-$ROOT/caigen}
RESULTS=${H2_RESULTS:-$ROOT/obj/bench/h2.md}
MANY_JOBS=${H2_MANY_JOBS:-50000}
MANY_N=${H2_MANY_PROMPTS:-100000}
JOBS=${H2_JOBS:-5000}
N=${H2_PROMPTS:-20000}
PY=/usr/bin/python3

sh "$ROOT/tests/deps.sh" nginx libnginx-mod-http-echo openssl time curl ||
	exit 2
ECHO_SO=/usr/lib/nginx/modules/ngx_http_echo_module.so
[ -f "$ECHO_SO" ] || { echo "h2: no '$ECHO_SO'" >&2; exit 2; }
[ -x "$CAIGEN" ] || { echo "h2: no caigen at '$CAIGEN'" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null
mkdir -p "$(dirname "$RESULTS")"
T=$(mktemp -d /tmp/caigen-h2.XXXXXX)
NGINX_PID=""
cleanup() {
	[ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null &&
		wait "$NGINX_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

calc() { awk "BEGIN { printf \"%.6g\", ($1) }"; }
fmt() { awk -v x="$1" -v d="$2" 'BEGIN { printf "%.*f", d, x }'; }
port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# ---- nginx -----------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" \
	-out "$T/ca.pem" -days 2 -subj /CN=127.0.0.1 \
	-addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
	{ echo "h2: openssl req failed" >&2; exit 2; }
P2=$(port)
P1=$(port)
BODY=$(cat "$HERE/completion.json")
mkdir -p "$T/ng/logs" "$T/ng/tmp"
cat >"$T/ng/nginx.conf" <<EOF
load_module $ECHO_SO;
worker_processes 2;
worker_rlimit_nofile 65536;
error_log $T/ng/logs/error.log error;
pid $T/ng/nginx.pid;
events { worker_connections 32768; }
http {
	log_format conn '\$connection \$server_port \$msec \$request_time';
	access_log $T/ng/logs/access.log conn buffer=256k;
	default_type application/json;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	http2_max_concurrent_streams 128;
	client_body_buffer_size 1m;
	client_max_body_size 64m;
	client_body_temp_path $T/ng/tmp/body;
	proxy_temp_path $T/ng/tmp/proxy;
	fastcgi_temp_path $T/ng/tmp/fastcgi;
	uwsgi_temp_path $T/ng/tmp/uwsgi;
	scgi_temp_path $T/ng/tmp/scgi;
	server {
		listen 127.0.0.1:$P2 ssl http2 backlog=4096;
		listen 127.0.0.1:$P1 backlog=4096;
		ssl_certificate $T/ca.pem;
		ssl_certificate_key $T/key.pem;
		location / {
			echo_read_request_body;
			echo_sleep 1.0;
			echo '$BODY';
		}
	}
}
EOF
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' \
	>"$T/ng/logs/stdout" 2>&1 &
NGINX_PID=$!
_i=0
until curl -sf -o /dev/null -X POST -d '{}' \
	"http://127.0.0.1:$P1/v1/chat/completions"; do
	_i=$((_i + 1))
	if [ $_i -ge 100 ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
		echo "h2: nginx did not start:" >&2
		cat "$T/ng/logs/"* >&2
		exit 2
	fi
	sleep 0.1
done

gen() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"h%07d\",\"prompt\":\"Question %d: how would you explain topic %d?\"}\n", i, i, i % 97 }' >"$2"
}

# run LABEL PORT HTTP JOBS PROMPTS: one run; appends its row
run() {
	_lb=$1 _port=$2 _http=$3 _jobs=$4 _n=$5
	_scheme=http
	[ "$_port" = "$P2" ] && _scheme=https
	{
		for r in policy judge; do
			echo "$r:"
			echo "  base_url: $_scheme://127.0.0.1:$_port/v1"
			echo "  http: $_http"
			echo "  ca_file: $T/ca.pem"
			echo "  timeout: 120"
		done
	} >"$T/$_lb.yaml"
	gen "$_n" "$T/in.$_lb.jsonl"
	: >"$T/ng/logs/access.log"
	kill -USR1 "$NGINX_PID" 2>/dev/null	# reopen the log
	sleep 0.5
	_load=$(cut -d' ' -f1 /proc/loadavg)
	_t0=$(date +%s.%N)
	/usr/bin/time -f '%M %U %S' -o "$T/time.$_lb" \
		nice -n 10 "$CAIGEN" run -c "$T/$_lb.yaml" \
		--prompts "$T/in.$_lb.jsonl" --out "$T/out.$_lb" \
		--policy-model bench-policy --judge-model bench-judge \
		--constitution "$ROOT/constitution/harmless.yaml" \
		--jobs "$_jobs" >"$T/log.$_lb" 2>&1
	_t1=$(date +%s.%N)
	sleep 1	# the log's buffer
	kill -USR1 "$NGINX_PID" 2>/dev/null
	sleep 0.5
	_wall=$(calc "$_t1 - $_t0")
	set -- $(tail -n 1 "$T/time.$_lb")
	_rss=$1 _cpu=$(calc "$2 + $3")
	_done=$(wc -l <"$T/out.$_lb/preferences.jsonl" 2>/dev/null || echo 0)
	_done=$(echo $_done)
	_failed=$(jq '.counts.failed' "$T/out.$_lb/manifest.json" 2>/dev/null)
	_reqs=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $3 }
		END { print s + 0 }' "$T/log.$_lb")
	_retries=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ { s += $5 }
		END { print s + 0 }' "$T/log.$_lb")
	_conns=$(awk -v p="$_port" '$2 == p { c[$1] = 1 } END { n = 0;
		for (k in c) n++; print n }' "$T/ng/logs/access.log")
	_peak=$(awk -v p="$_port" '$2 == p { printf "%.3f 1\n%.3f -1\n",
		$3 - $4, $3 }' "$T/ng/logs/access.log" | sort -k1,1n -k2,2n |
		awk '{ c += $2; if (c > m) m = c } END { print m + 0 }')
	_causes=$(awk '/^caigen: (policy|judge): [0-9]+ requests/ {
		for (i = 7; i <= NF; i++) printf " %s", $i }' "$T/log.$_lb")
	# the judge's 2 requests a prompt on its JOBS places, a second each
	_ideal=$(calc "2 * $_n / $_jobs + 1")
	_proto=HTTP/1.1
	[ "$_scheme" = https ] && _proto="HTTP/1.1 (TLS)"
	[ "$_http" = 2 ] && _proto="HTTP/2 (TLS)"
	echo "| $_proto, --jobs $_jobs ($(($_jobs * 2)) in flight) | $_done of $_n | ${_failed:-?} | $(fmt "$_wall" 1) s (ideal $(fmt "$_ideal" 1) s, $(fmt "$(calc "$_ideal / $_wall")" 2)) | $(fmt "$(calc "$_rss / 1024")" 0) MB | $(fmt "$(calc "$_cpu * 1e6 / ($_reqs > 0 ? $_reqs : 1)")" 0) us ($(fmt "$_cpu" 1) s, $_reqs requests) | $_retries${_causes:+ (}${_causes# }${_causes:+)} | $_conns | $_peak | $_load |" >>"$T/table.md"
	echo "h2: $_lb done: $(tail -n 1 "$T/table.md")" >&2
	grep '^caigen: warning' "$T/log.$_lb" >&2
	rm -rf "$T/out.$_lb" "$T/in.$_lb.jsonl"
}

{
	echo "| wire, concurrency | prompts | failed | wall (ideal, ratio) | peak RSS | CPU a request | retries | connections | most at once | load |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
} >"$T/table.md"
run h2 "$P2" 2 "$JOBS" "$N"
run h1s "$P2" 1.1 "$JOBS" "$N"
run h1 "$P1" 1.1 "$JOBS" "$N"
run many "$P2" 2 "$MANY_JOBS" "$MANY_N"
{
	echo "## caigen over HTTP/2 and HTTP/1.1 against a 1 s server ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, open-file limit $(ulimit -n))"
	echo
	cat "$T/table.md"
} >"$RESULTS"
cat "$RESULTS"
