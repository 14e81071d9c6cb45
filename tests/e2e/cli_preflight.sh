# cli_preflight: before any work, each endpoint is probed once; a wrong
# URL, a server that is down or a refused key is ONE line on stderr that
# says what to fix, exit 2, and no output files. The time each refusal
# took is printed (no timing assertion).
. "$(dirname "$0")/../lib.sh"
CANARY=sk-canary-preflight-8e1d2c3b4a59
gen_prompts 5 "$T/in.jsonl"
start_fake --api-key right-key --echo-headers-on-error
GOOD=$FAKE_URL
export OPENAI_API_KEY=right-key

# pf NAME EXPECT-PATTERN caigen-args...: exit 2, one line, the pattern
pf() {
	_name=$1
	_pat=$2
	shift 2
	_t0=$(date +%s.%N)
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/out_$_name" "$@" \
		>"$T/stdout_$_name" 2>"$T/stderr_$_name"
	_rc=$?
	_t1=$(date +%s.%N)
	echo "preflight $_name: exit $_rc in $(echo "$_t1 - $_t0" | bc) s:" \
		"$(cat "$T/stderr_$_name")"
	eq "preflight_${_name}_exit" "$_rc" 2
	eq "preflight_${_name}_one_line" "$(lines "$T/stderr_$_name")" 1
	check "preflight_${_name}_message" grep -q -- "$_pat" "$T/stderr_$_name"
	if [ -e "$T/out_$_name/preferences.jsonl" ]; then
		fail "preflight_${_name}_no_work" "output was written"
	else
		pass "preflight_${_name}_no_work"
	fi
}
command -v bc >/dev/null || sh "$(dirname "$0")/../deps.sh" bc >/dev/null

pf refused "judge endpoint http://127.0.0.1:9/v1: cannot connect (connection refused): is the server running and is judge.base_url right?" \
	--policy-url "$GOOD" --judge-url http://127.0.0.1:9/v1
OPENAI_API_KEY=$CANARY pf bad_key "policy and judge endpoint $GOOD: HTTP 401 (Incorrect API key.*): check the key in \$OPENAI_API_KEY (policy.api_key_env)" \
	--policy-url "$GOOD" --judge-url "$GOOD"
check preflight_bad_key_redacted grep -q "redacted" "$T/stderr_bad_key"
env -u OPENAI_API_KEY "$CAIGEN" run --prompts "$T/in.jsonl" \
	--out "$T/out_nokey" --policy-url "$GOOD" --judge-url "$GOOD" \
	2>"$T/stderr_nokey"
eq preflight_no_key_exit $? 2
check preflight_no_key_message grep -q \
	"HTTP 401.*the server wants a key: set \$OPENAI_API_KEY" "$T/stderr_nokey"
pf wrong_path "HTTP 404.*is policy.base_url right (it usually ends in /v1)" \
	--policy-url "${GOOD%/v1}/api" --judge-url "$GOOD"
pf bad_host "cannot resolve the host name: is policy.base_url right?" \
	--policy-url http://no-such-host.invalid/v1 --judge-url "$GOOD"

# with the right key the same command runs
run_caigen "$T/out_ok" "$T/in.jsonl" -q
eq preflight_ok_exit $? 0
# --no-preflight: the run starts, and the refusals in a row stop it
# (exit 2, one line, no prompt marked failed)
OPENAI_API_KEY=$CANARY run_caigen "$T/out_np" "$T/in.jsonl" -q \
	--no-preflight 2>"$T/stderr_np"
eq preflight_skipped_exit $? 2
eq preflight_skipped_failures "$(cat "$T/out_np/failures.jsonl" \
	2>/dev/null | wc -l | tr -d ' ')" 0
# a server without /v1/models: a one-token request decides instead
stop_fake
start_fake --no-models --log "$T/requests.log"
run_caigen "$T/out_nm" "$T/in.jsonl" -q
eq preflight_no_models_exit $? 0
eq preflight_no_models_probe "$(jq -r 'select(.method == "POST") | .body.max_tokens // .body.max_completion_tokens' "$T/requests.log" | head -1)" 1
stop_fake
start_fake --no-models
run_caigen "$T/out_nm2" "$T/in.jsonl" -q --policy-url "${FAKE_URL%/v1}"
eq preflight_no_models_bad_path_exit $? 2
if grep -r -l -- "$CANARY" "$T" 2>/dev/null | grep -q .; then
	fail preflight_canary_absent "$(grep -r -l -- "$CANARY" "$T")"
else
	pass preflight_canary_absent
fi
