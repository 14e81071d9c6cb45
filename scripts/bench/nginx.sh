# nginx.sh - the benchmarks' nginx, sourced by run.sh and limiter.sh (not
# run on its own). One nginx on loopback answers every POST with the canned
# chat completion (completion.json: two choices, text and A/B top_logprobs,
# so one reply serves as policy answer and as judge answer), on one port for
# each server asked for:
#
#   fast   no delay
#   slow   100 ms (echo_sleep after reading the body)
#   huge   1 s
#   rate   100 ms, 429 beyond LIMITER_RATE requests/s (default 400; limit_req,
#          a burst of a tenth of a second's worth, nodelay)
#   conn   100 ms, 429 beyond LIMITER_CONN requests at once (default 64;
#          limit_conn)
#
# nginx_start DIR SERVER...: writes DIR/nginx.conf, starts nginx and waits
# until every port answers (exit 2 with its logs if it does not); sets
# PORT_<server> (PORT_fast, ...) and NGINX_PID. nginx_stop: stops it (for
# the caller's EXIT trap). Needs BENCH_DIR (this folder), ECHO_SO (the echo
# module) and PY (a python3 for free ports; awk's random port without it).
#
# The accept queue: thousands of connections opened at once (10,000 in
# flight is 10,000 connections, opened in half a second) overflow a listen
# queue of 4,096; the kernel drops the SYNs past it and the client sends
# them again after 1, 3, 7 s (ListenOverflows in /proc/net/netstat), so a
# run at 1 s took seconds more and requests timed out. nginx_start raises
# net.core.somaxconn (the cap on any listen backlog, per network
# namespace) to NGINX_BACKLOG (65535) when it can (root, writable; it is
# left raised: a larger cap costs nothing), gives every port that backlog
# and multi_accept, and says what it got in NGINX_BACKLOG_SAID (for the
# bench output). nginx_listen_overflows: the kernel's count so far.
# NGINX_LOG=FILE: one line a request, "end time (s, ms) and seconds
# taken", for looking at what the server saw (off by default).

NGINX_PID=""
NGINX_BACKLOG=${NGINX_BACKLOG:-65535}
NGINX_BACKLOG_SAID=""

nginx_listen_overflows() {
	awk '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1 }
		else for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows")
			print $i }' /proc/net/netstat 2>/dev/null | head -n 1
}

# nginx_somaxconn: raise the cap when root can; sets NGINX_BACKLOG_SAID
nginx_somaxconn() {
	_f=/proc/sys/net/core/somaxconn
	_have=$(cat "$_f" 2>/dev/null || echo 0)
	if [ "$_have" -ge "$NGINX_BACKLOG" ]; then
		NGINX_BACKLOG_SAID="listen backlog $NGINX_BACKLOG (somaxconn $_have)"
	elif [ -w "$_f" ] && echo "$NGINX_BACKLOG" >"$_f" 2>/dev/null &&
	     [ "$(cat "$_f")" -ge "$NGINX_BACKLOG" ]; then
		NGINX_BACKLOG_SAID="listen backlog $NGINX_BACKLOG (somaxconn raised from $_have)"
	else
		NGINX_BACKLOG_SAID="listen backlog capped at somaxconn $_have (not writable here: connections past it wait for SYNs sent again)"
		echo "bench: net.core.somaxconn is $_have and cannot be raised" \
			"to $NGINX_BACKLOG here: a burst of more connections than" \
			"that loses SYNs (resent after 1, 3, 7 s)" >&2
	fi
}

# A free port below the kernel's range of ephemeral ports
# (net.ipv4.ip_local_port_range, 32768-60999 here): a port the kernel gave
# for the asking was free when asked and then, while a run held thousands
# of client connections, taken by one of them before nginx bound it.
nginx_free_port() {
	"$PY" -c '
import random, socket
lo = 32768
try:
    lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except Exception:
    pass
top = max(lo, 2048)
for _ in range(200):
    p = random.randrange(1024, top)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break
else:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
' 2>/dev/null ||
		awk 'BEGIN { srand(); print 10000 + int(rand() * 20000) }'
}

# nginx_server NAME: the server block of one port
nginx_server() {
	eval "_np=\$PORT_$1"
	printf '\tserver {\n\t\tlisten 127.0.0.1:%s backlog=%s;\n' "$_np" \
		"$NGINX_BACKLOG"
	printf '\t\tlocation / {\n'
	case $1 in
	fast)	printf "\t\t\treturn 200 '%s';\n" "$_NGINX_BODY" ;;
	*)
		case $1 in
		rate) printf '\t\t\tlimit_req zone=rq burst=%s nodelay;\n' \
			$((${LIMITER_RATE:-400} / 10)) ;;
		conn) printf '\t\t\tlimit_conn cn %s;\n' "${LIMITER_CONN:-64}" ;;
		esac
		_nd=0.1
		[ "$1" = huge ] && _nd=1.0
		printf '\t\t\techo_read_request_body;\n\t\t\techo_sleep %s;\n' \
			"$_nd"
		printf "\t\t\techo '%s';\n" "$_NGINX_BODY"
		;;
	esac
	printf '\t\t}\n\t}\n'
}

nginx_start() {
	_nd_dir=$1
	shift
	_NGINX_BODY=$(cat "$BENCH_DIR/completion.json")
	nginx_somaxconn
	mkdir -p "$_nd_dir/logs" "$_nd_dir/tmp"
	_used=" "
	for _s in "$@"; do
		_p=$(nginx_free_port)
		while case $_used in *" $_p "*) true ;; *) false ;; esac; do
			_p=$((_p + 1))
		done
		_used="$_used$_p "
		eval "PORT_$_s=\$_p"
	done
	{
		cat <<EOF
load_module $ECHO_SO;
worker_processes 2;
worker_rlimit_nofile 65536;
error_log $_nd_dir/logs/error.log error;
pid $_nd_dir/nginx.pid;
events { worker_connections 32768; multi_accept on; }
http {
	log_format t '\$msec \$request_time \$connection_requests';
	access_log ${NGINX_LOG:-off}${NGINX_LOG:+ t buffer=1m};
	default_type application/json;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	client_body_buffer_size 1m;
	client_max_body_size 64m;
	client_body_temp_path $_nd_dir/tmp/body;
	proxy_temp_path $_nd_dir/tmp/proxy;
	fastcgi_temp_path $_nd_dir/tmp/fastcgi;
	uwsgi_temp_path $_nd_dir/tmp/uwsgi;
	scgi_temp_path $_nd_dir/tmp/scgi;
	limit_req_zone \$server_port zone=rq:1m rate=${LIMITER_RATE:-400}r/s;
	limit_conn_zone \$server_port zone=cn:1m;
	limit_req_status 429;
	limit_conn_status 429;
EOF
		for _s in "$@"; do
			nginx_server "$_s"
		done
		echo "}"
	} >"$_nd_dir/nginx.conf"
	nginx -p "$_nd_dir" -c "$_nd_dir/nginx.conf" -g 'daemon off;' \
		>"$_nd_dir/logs/stdout" 2>&1 &
	NGINX_PID=$!
	for _s in "$@"; do
		eval "_p=\$PORT_$_s"
		_i=0
		until curl -sf -o /dev/null -X POST -d '{}' \
			"http://127.0.0.1:$_p/v1/chat/completions"; do
			_i=$((_i + 1))
			if [ $_i -ge 100 ] || ! kill -0 "$NGINX_PID" 2>/dev/null
			then
				echo "bench: nginx did not start:" >&2
				cat "$_nd_dir/logs/"* >&2
				exit 2
			fi
			sleep 0.05
		done
	done
}

nginx_stop() {
	if [ -n "$NGINX_PID" ]; then
		kill "$NGINX_PID" 2>/dev/null
		wait "$NGINX_PID" 2>/dev/null
		NGINX_PID=""
	fi
}
