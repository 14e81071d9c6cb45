# pipeline_canary: a canary API key never reaches the outputs, manifest,
# stdout/stderr or failure reasons, even when the server copies the
# request headers (Authorization included) into its error bodies, on 4xx,
# 5xx and 200-with-error answers, and in preflight messages.
. "$(dirname "$0")/../lib.sh"
CANARY=sk-canary-echo-0d9c8b7a6f5e4d3c2b1a
export OPENAI_API_KEY=$CANARY
gen_prompts 60 "$T/in.jsonl"
cat >"$T/once.yaml" <<EOF
policy:
  max_attempts: 1
judge:
  max_attempts: 1
EOF
# errors with echoed headers, no retries: many land in failures.jsonl
start_fake --api-key "$CANARY" --echo-headers-on-error \
	--faults 500=0.1,503=0.1,429=0.1,errbody=0.1
run_caigen "$T/out" "$T/in.jsonl" -c "$T/once.yaml" --jobs 4 \
	>"$T/stdout" 2>"$T/stderr"
eq canary_exit $? 1
check canary_failures_seen test -s "$T/out/failures.jsonl"
check canary_echo_redacted grep -q 'Bearer \[redacted\]' "$T/out/failures.jsonl"
# the next run (a healthy server, still echoing) finishes the job
stop_fake
start_fake --api-key "$CANARY" --echo-headers-on-error
run_caigen "$T/out" "$T/in.jsonl" --jobs 4 >>"$T/stdout" 2>>"$T/stderr"
eq canary_rerun_exit $? 0
eq canary_records "$(lines "$T/out/preferences.jsonl")" 60
# a refused key: the server echoes ours back in the 401
stop_fake
start_fake --api-key another-key-entirely --echo-headers-on-error
run_caigen "$T/out2" "$T/in.jsonl" >>"$T/stdout" 2>>"$T/stderr"
eq canary_preflight_exit $? 2
check canary_preflight_redacted grep -q 'Bearer \[redacted\]' "$T/stderr"
run_caigen "$T/out3" "$T/in.jsonl" --no-preflight -c "$T/once.yaml" \
	>>"$T/stdout" 2>>"$T/stderr"
# (refusals in a row stop the run: exit 2, the reason on stderr)
eq canary_401_exit $? 2
check canary_401_redacted grep -q 'refused (HTTP 401.*redacted' "$T/stderr"
if grep -r -l -- "$CANARY" "$T" 2>/dev/null | grep -q .; then
	fail canary_absent "$(grep -r -l -- "$CANARY" "$T")"
else
	pass canary_absent
fi
