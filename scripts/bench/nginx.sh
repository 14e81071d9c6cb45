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

NGINX_PID=""

nginx_free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
		awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }'
}

# nginx_server NAME: the server block of one port
nginx_server() {
	eval "_np=\$PORT_$1"
	printf '\tserver {\n\t\tlisten 127.0.0.1:%s backlog=4096;\n' "$_np"
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
events { worker_connections 32768; }
http {
	access_log off;
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
