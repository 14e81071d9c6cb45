# http2_nginx: HTTP/2 through a real nginx (TLS with ALPN, a self-signed
# CA given as ca_file) in front of the fake model server, against the same
# nginx on HTTP/1.1. With HTTP/2 the requests in flight share a few
# connections (libcurl 7.88 opened one per request past the first
# connection's 100 streams; the loops now cap the connections a server
# gets, live.c); the output is byte-identical to the HTTP/1.1 run and to
# --jobs 1. nginx's access log says how many connections it accepted, on
# which protocol, and (from each request's end and duration) how many
# requests it had at once. Also: without ca_file the self-signed server
# is refused; `http: 2` on an http:// URL (h2c) is refused by a libcurl
# that cannot reuse h2c connections, else carries the run too.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" nginx openssl || exit 1
start_fake --latency-ms 300
FAKE_P=$FAKE_PORT
N=400
gen_prompts $N "$T/in.jsonl"

tls_self_signed "$T/ca.pem" "$T/key.pem" ||
	{ fail http2_cert "openssl req"; exit 1; }

P_TLS=$(free_port)
P_H1=$(free_port)
P_H2C=$(free_port)
mkdir -p "$T/ng/logs" "$T/ng/tmp"
cat >"$T/ng/nginx.conf" <<EOF
worker_processes 1;
error_log $T/ng/logs/error.log warn;
pid $T/ng/nginx.pid;
events { worker_connections 8192; }
http {
	log_format conn '\$connection \$connection_requests \$server_protocol \$server_port \$status \$msec \$request_time';
	access_log $T/ng/logs/access.log conn;
	keepalive_requests 100000;
	client_body_buffer_size 1m;
	client_body_temp_path $T/ng/tmp/body;
	proxy_temp_path $T/ng/tmp/proxy;
	fastcgi_temp_path $T/ng/tmp/fastcgi;
	uwsgi_temp_path $T/ng/tmp/uwsgi;
	scgi_temp_path $T/ng/tmp/scgi;
	upstream fake { server 127.0.0.1:$FAKE_P; keepalive 1024; }
	server {
		listen 127.0.0.1:$P_TLS ssl http2;
		listen 127.0.0.1:$P_H1;
		listen 127.0.0.1:$P_H2C http2;
		ssl_certificate $T/ca.pem;
		ssl_certificate_key $T/key.pem;
		location / {
			proxy_pass http://fake;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_read_timeout 60s;
		}
	}
}
EOF
nginx -p "$T/ng" -c "$T/ng/nginx.conf" -g 'daemon off;' \
	>"$T/ng/logs/stdout" 2>&1 &
PIDS="$PIDS $!"
_i=0
until curl -sf -o /dev/null "http://127.0.0.1:$P_H1/health"; do
	_i=$((_i + 1))
	[ $_i -lt 100 ] || { fail http2_nginx_start "$(cat "$T/ng/logs/"*)"; exit 1; }
	sleep 0.05
done

# cfg FILE URL HTTP [CA]: a run config for both roles
cfg() {
	{
		for r in policy judge; do
			echo "$r:"
			echo "  base_url: $2"
			echo "  http: $3"
			[ -n "${4:-}" ] && echo "  ca_file: $4"
		done
	} >"$1"
}
LOG=$T/ng/logs/access.log
# stats PORT: "connections requests peak protocols" of the log's lines on
# PORT; peak: the most requests nginx had at once (start = end - time)
stats() {
	awk -v p="$1" '$4 == p {
		conn[$1] = 1; n++; proto[$3] = 1
		ev[++k] = sprintf("%.3f 1", $6 - $7); ev[++k] = sprintf("%.3f -1", $6)
	} END {
		c = 0; for (x in conn) c++
		s = ""; for (x in proto) s = s x
		for (i = 1; i <= k; i++) print "E", ev[i]
		print "S", c, n + 0, s
	}' "$LOG" | sort -k2,2n -k3,3n | awk '
		$1 == "E" { cur += $3; if (cur > peak) peak = cur }
		$1 == "S" { c = $2; n = $3; s = $4 }
		END { print c, n, peak + 0, s }'
}

# HTTP/2 over TLS, the self-signed CA as ca_file; hundreds in flight
cfg "$T/h2.yaml" "https://127.0.0.1:$P_TLS/v1" 2 "$T/ca.pem"
: >"$LOG"
"$CAIGEN" run -c "$T/h2.yaml" --prompts "$T/in.jsonl" --out "$T/h2" \
	--jobs 300 2>"$T/h2.err"
eq http2_tls_exit $? 0
eq http2_tls_records "$(lines "$T/h2/preferences.jsonl" 2>/dev/null)" $N
check http2_tls_none_failed jq -e '.counts.failed == 0' "$T/h2/manifest.json"
set -- $(stats "$P_TLS")
echo "# HTTP/2 over TLS: $1 connections, $2 requests, $3 at once, $4"
eq http2_tls_protocol "$4" "HTTP/2.0"
check http2_tls_all_requests [ "$2" -ge $((3 * N)) ]
check http2_tls_many_at_once [ "$3" -ge 200 ]
# 600 places (300 policy + 300 judge) on a loop or two: at 100 streams a
# connection, a handful each (one per request would be hundreds)
check http2_tls_few_connections [ "$1" -le 24 ]

# the same on HTTP/1.1: a connection per request in flight
cfg "$T/h1.yaml" "http://127.0.0.1:$P_H1/v1" 1.1
: >"$LOG"
"$CAIGEN" run -c "$T/h1.yaml" --prompts "$T/in.jsonl" --out "$T/h1" \
	--jobs 300 2>"$T/h1.err"
eq http2_h1_exit $? 0
set -- $(stats "$P_H1")
echo "# HTTP/1.1: $1 connections, $2 requests, $3 at once, $4"
eq http2_h1_protocol "$4" "HTTP/1.1"
check http2_h1_many_connections [ "$1" -ge 200 ]
check http2_same_bytes_as_h1 cmp -s "$T/h2/preferences.jsonl" \
	"$T/h1/preferences.jsonl"

# --jobs 1 over HTTP/2: the same bytes again (40 prompts, to be quick)
head -40 "$T/in.jsonl" >"$T/in40.jsonl"
"$CAIGEN" run -c "$T/h2.yaml" --prompts "$T/in40.jsonl" --out "$T/one" \
	--jobs 1 2>"$T/one.err"
eq http2_jobs1_exit $? 0
check http2_same_bytes_as_jobs1 cmp -s "$T/one/preferences.jsonl" \
	"$(head -40 "$T/h2/preferences.jsonl" >"$T/h2_40.jsonl"; echo "$T/h2_40.jsonl")"

# auto on https is HTTP/2 when offered, as http: 2
cfg "$T/auto.yaml" "https://127.0.0.1:$P_TLS/v1" auto "$T/ca.pem"
: >"$LOG"
"$CAIGEN" run -c "$T/auto.yaml" --prompts "$T/in40.jsonl" --out "$T/auto" \
	--jobs 40 2>"$T/auto.err"
eq http2_auto_exit $? 0
set -- $(stats "$P_TLS")
eq http2_auto_protocol "$4" "HTTP/2.0"
check http2_auto_same_bytes cmp -s "$T/auto/preferences.jsonl" \
	"$T/h2_40.jsonl"

# without ca_file the self-signed server is refused at the probe
cfg "$T/noca.yaml" "https://127.0.0.1:$P_TLS/v1" 2
"$CAIGEN" run -c "$T/noca.yaml" --prompts "$T/in40.jsonl" --out "$T/noca" \
	--jobs 4 >/dev/null 2>"$T/noca.err"
check http2_noca_refused [ $? -ne 0 ]
check http2_noca_says_cert grep -q "certificate" "$T/noca.err"
check http2_noca_says_ca_file grep -q "judge.ca_file\\|policy.ca_file" "$T/noca.err"

# h2c: refused by a libcurl before 8.0.0 (its h2c connections fail their
# second request), else the same bytes over nginx's h2c port
cfg "$T/h2c.yaml" "http://127.0.0.1:$P_H2C/v1" 2
VERNUM=$(curl-config --vernum 2>/dev/null || echo 000000)
if [ "$VERNUM" \< 080000 ]; then
	"$CAIGEN" check "$T/h2c.yaml" >/dev/null 2>"$T/h2c.err"
	eq http2_h2c_refused_exit $? 2
	check http2_h2c_refused_says grep -q "curl issue 10634" "$T/h2c.err"
else
	"$CAIGEN" run -c "$T/h2c.yaml" --prompts "$T/in40.jsonl" \
		--out "$T/h2c" --jobs 40 2>"$T/h2c.err"
	eq http2_h2c_exit $? 0
	check http2_h2c_same_bytes cmp -s "$T/h2c/preferences.jsonl" \
		"$T/h2_40.jsonl"
fi
