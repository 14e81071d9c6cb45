# pipeline_exit_codes: the documented exit statuses, each produced for
# real: 0 done; 1 failures remain (a judge that refuses us), and a rerun
# retries them; 2 usage and configuration errors of every kind, including
# an output folder locked by a running job; 75 on SIGTERM or SIGINT, with
# whole records on disk and a rerun that finishes the job exactly once; a
# second signal quits at once, and an expired --grace quits too.
. "$(dirname "$0")/../lib.sh"
IN=$ROOT/datasets/sample/prompts.jsonl
n_in=$(lines "$IN")

# wait_lines FILE N: until FILE has N lines (at most ~10 s)
wait_lines() {
	_i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
# whole_lines FILE: every line is a complete JSON object
whole_lines() {
	[ ! -s "$1" ] || { [ "$(tail -c 1 "$1" | od -An -c | tr -d ' ')" = '\n' ] &&
		jq -e . "$1" >/dev/null; }
}

# ---- 0 ----
start_fake
good=$FAKE_URL
run_caigen "$T/ok" "$IN" -q --limit 10 >/dev/null 2>&1
eq exit_0_done $? 0

# ---- 1 ----
# (a refused key stops a run with 2 now: the failures here are pairs of
# identical answers, which fail their prompts)
start_fake --same-answers
same=$FAKE_URL
"$CAIGEN" run --prompts "$IN" --limit 10 --out "$T/fail" -q \
	--policy-url "$same" --judge-url "$good" >/dev/null 2>"$T/fail.err"
eq exit_1_failures $? 1
eq exit_1_failures_recorded "$(lines "$T/fail/failures.jsonl")" 10
"$CAIGEN" run --prompts "$IN" --limit 10 --out "$T/fail" -q \
	--policy-url "$good" --judge-url "$good" >/dev/null 2>&1
eq exit_1_then_0_after_retry $? 0
eq exit_1_retry_wrote_all "$(lines "$T/fail/preferences.jsonl")" 10

# ---- 2 ----
# expect2 NAME PATTERN caigen-args...: exit 2 and PATTERN on stderr
expect2() {
	_n=$1
	_pat=$2
	shift 2
	"$CAIGEN" "$@" >"$T/out2" 2>"$T/err2"
	_rc=$?
	if [ $_rc -ne 2 ]; then
		fail "$_n" "exit $_rc, want 2: $(head -c 200 "$T/err2")"
	elif ! grep -q -- "$_pat" "$T/err2"; then
		fail "$_n" "no '$_pat' in: $(head -c 200 "$T/err2")"
	else
		pass "$_n"
	fi
}
printf 'polcy:\n  model: x\n' >"$T/typo.yaml"
printf 'principles: [\n' >"$T/broken.yaml"
expect2 exit_2_no_command "usage:"
expect2 exit_2_unknown_command "unknown command" launch
expect2 exit_2_unknown_flag "usage: caigen run" run --frobnicate
expect2 exit_2_bad_jobs "jobs" run --jobs 0 --prompts "$IN"
expect2 exit_2_bad_seed "seed" run --seed -3 --prompts "$IN"
expect2 exit_2_stray_argument "unexpected argument" run extra
expect2 exit_2_unknown_key "did you mean 'policy'" run -c "$T/typo.yaml"
expect2 exit_2_missing_config "cannot open" run -c "$T/nope.yaml"
expect2 exit_2_missing_prompts "cannot open" run --prompts "$T/nope.jsonl" \
	--out "$T/o2" --policy-url "$good" --judge-url "$good"
expect2 exit_2_bad_url "base_url" run --policy-url ftp://x/v1 \
	--prompts "$IN" --out "$T/o2"
expect2 exit_2_bad_constitution "broken.yaml" run --prompts "$IN" \
	--out "$T/o2" --constitution "$T/broken.yaml" --policy-url "$good" \
	--judge-url "$good"
expect2 exit_2_check_invalid "broken.yaml" check "$T/broken.yaml"
expect2 exit_2_check_nothing "usage:" check
start_fake --api-key right-key
locked=$FAKE_URL
expect2 exit_2_preflight_refused_key "judge" run --prompts "$IN" \
	--out "$T/o2" --policy-url "$good" --judge-url "$locked"
check exit_2_sent_nothing test ! -e "$T/o2/preferences.jsonl"

# ---- 75, and 2 for a locked output ----
start_fake --latency-ms 150
slow=$FAKE_URL
"$CAIGEN" run --prompts "$IN" --out "$T/int" --jobs 2 -q \
	--policy-url "$slow" --judge-url "$slow" >/dev/null 2>"$T/int.err" &
pid=$!
wait_lines "$T/int/preferences.jsonl" 2
expect2 exit_2_output_locked "lock" run --prompts "$IN" --out "$T/int" \
	--policy-url "$slow" --judge-url "$slow" -q
kill -TERM $pid
wait $pid
eq exit_75_sigterm $? 75
done1=$(lines "$T/int/preferences.jsonl")
check exit_75_left_work test "$done1" -lt "$n_in"
check exit_75_whole_records whole_lines "$T/int/preferences.jsonl"
check exit_75_says_stopping grep -q "stopping" "$T/int.err"
# SIGINT is the same
"$CAIGEN" run --prompts "$IN" --out "$T/int" --jobs 2 -q \
	--policy-url "$slow" --judge-url "$slow" >/dev/null 2>&1 &
pid=$!
wait_lines "$T/int/preferences.jsonl" $((done1 + 2))
kill -INT $pid
wait $pid
eq exit_75_sigint $? 75
check exit_75_sigint_whole_records whole_lines "$T/int/preferences.jsonl"
# the same command finishes the job: each prompt exactly once
run_caigen "$T/int" "$IN" -q --jobs 8 >/dev/null 2>&1
eq exit_75_then_resume_0 $? 0
eq exit_75_resume_complete "$(jq -r .id "$T/int/preferences.jsonl" |
	sort -u | wc -l | tr -d ' '):$(lines "$T/int/preferences.jsonl")" \
	"$n_in:$n_in"

# a second signal leaves at once, without waiting for requests in flight
# (--no-preflight: the probe's real request would wait on this server
# too, and the signals must reach the run itself)
start_fake --latency-ms 20000
stuck=$FAKE_URL
"$CAIGEN" run --prompts "$IN" --out "$T/twice" --jobs 2 -q --no-preflight \
	--policy-url "$stuck" --judge-url "$stuck" >/dev/null 2>&1 &
pid=$!
sleep 0.5
kill -TERM $pid
sleep 0.2
kill -TERM $pid
wait $pid
eq exit_75_second_signal $? 75
# and the grace period ends a run whose requests do not come back
"$CAIGEN" run --prompts "$IN" --out "$T/grace" --jobs 2 -q --grace 1 \
	--no-preflight --policy-url "$stuck" --judge-url "$stuck" \
	>/dev/null 2>"$T/grace.err" &
pid=$!
sleep 0.5
kill -TERM $pid
wait $pid
eq exit_75_grace_over $? 75
check exit_75_grace_said grep -q "grace period" "$T/grace.err"

# ---- the other commands keep the same meanings ----
if "$CAIGEN" merge --help >/dev/null 2>&1; then
	head -n 10 "$IN" >"$T/first10.jsonl"
	"$CAIGEN" merge "$T/ok/preferences.jsonl" -o "$T/m0.jsonl" -q \
		--expect "$T/first10.jsonl" >/dev/null 2>&1
	eq exit_merge_complete_0 $? 0
	"$CAIGEN" merge "$T/ok/preferences.jsonl" -o "$T/m1.jsonl" -q \
		--expect "$IN" >/dev/null 2>&1
	eq exit_merge_missing_ids_1 $? 1
	expect2 exit_2_merge_no_inputs "usage" merge
fi
if "$CAIGEN" audit --help >/dev/null 2>&1; then
	"$CAIGEN" audit "$T/ok/preferences.jsonl" >/dev/null 2>&1
	eq exit_audit_0 $? 0
	expect2 exit_2_audit_missing_file "nope" audit "$T/nope.jsonl"
fi
if "$CAIGEN" import --help >/dev/null 2>&1; then
	expect2 exit_2_import_unknown_kind "" import klingon "$T/x.json"
fi
