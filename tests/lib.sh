# lib.sh - sourced by tests/e2e/*.sh and tests/demo.sh: temp dir, the fake
# model server, PASS/FAIL lines. Every process started here is stopped on
# exit.
set -u
ROOT=$(cd "$(dirname "$0")/../.." 2>/dev/null && pwd)
[ -f "$ROOT/Makefile" ] || ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAIGEN=${CAIGEN:-$ROOT/caigen}
FAKESERVER=${FAKESERVER:-$ROOT/obj/default/fakeserver}
T=$(mktemp -d /tmp/caigen-test.XXXXXX)
PIDS=""

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
# check NAME COMMAND...: PASS if the command succeeds
check() {
	_n=$1
	shift
	if "$@" >/dev/null; then pass "$_n"; else fail "$_n" "$*"; fi
}
# eq NAME GOT WANT
eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# start_fake [fakeserver options]: sets FAKE_PID, FAKE_PORT, FAKE_URL
start_fake() {
	_nfake=$((${_nfake:-0} + 1))
	_pf=$T/port.$_nfake
	"$FAKESERVER" --port 0 --port-file "$_pf" "$@" >"$T/fake.log" 2>&1 &
	FAKE_PID=$!
	PIDS="$PIDS $FAKE_PID"
	_i=0
	while [ ! -s "$_pf" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	FAKE_PORT=$(cat "$_pf" 2>/dev/null)
	FAKE_URL=http://127.0.0.1:$FAKE_PORT/v1
	[ -n "$FAKE_PORT" ] || { echo "FAIL start_fake: no port"; exit 1; }
}

stop_fake() {
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}

# gen_prompts N FILE: N distinct JSONL prompts
gen_prompts() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++)
		printf "{\"id\":\"q%05d\",\"prompt\":\"Question number %d: how would you explain topic %d to a friend?\"}\n", i, i, i * 7 % 13 }' >"$2"
}

# run_caigen OUTDIR PROMPTS [flags...]: against the fake server, quiet
run_caigen() {
	_out=$1
	_in=$2
	shift 2
	"$CAIGEN" run --prompts "$_in" --out "$_out" --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" "$@"
}

# run_caigen_bg: the same in the background; $! is caigen itself
run_caigen_bg() {
	_out=$1
	_in=$2
	shift 2
	"$CAIGEN" run --prompts "$_in" --out "$_out" --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" "$@" &
}

lines() { wc -l <"$1" | tr -d ' '; }

# free_port: a TCP port free on 127.0.0.1 now (for a server the test starts)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# tls_self_signed CERT KEY: a self-signed certificate for 127.0.0.1 (its own
# CA, so caigen trusts it as ca_file), valid two days; fails without openssl
tls_self_signed() {
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$2" -out "$1" \
		-days 2 -subj /CN=127.0.0.1 \
		-addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
}
