# pipeline_failures: with the policy server down, every prompt goes to
# failures.jsonl with a reason, the exit status is 1, and the next run
# (server up) does them all.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 30 "$T/in.jsonl"
cat >"$T/run.yaml" <<EOF2
policy:
  max_attempts: 2
  connect_timeout: 2
EOF2
# a port with nothing listening: take one from a server we then stop
start_fake
dead=$FAKE_URL
stop_fake
start_fake
"$CAIGEN" run -c "$T/run.yaml" --prompts "$T/in.jsonl" --out "$T/out" \
	--policy-url "$dead" --judge-url "$FAKE_URL" --jobs 4 --no-preflight \
	>"$T/stdout" 2>"$T/stderr"
eq failures_exit_1 $? 1
F=$T/out/failures.jsonl
eq failures_count "$(lines "$F")" 30
check failures_reason jq -e -s 'all(.stage == "sample" and
	(.reason | test("cannot reach")))' "$F"
eq failures_no_records "$(lines "$T/out/preferences.jsonl")" 0
check failures_summary grep -q "30 lines read: 0 written, 0 already done, 30 failed" "$T/stderr"
"$CAIGEN" run -c "$T/run.yaml" --prompts "$T/in.jsonl" --out "$T/out" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" --jobs 4 -q
eq failures_retried_exit $? 0
eq failures_retried_all "$(lines "$T/out/preferences.jsonl")" 30
