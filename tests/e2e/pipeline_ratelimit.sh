# pipeline_ratelimit: client-side limits. A requests_per_minute budget
# makes callers wait (counted in the manifest) and loses nothing; a server
# answering many 429s makes the judge's in-flight cap shrink (AIMD), and
# every prompt is still labelled once. No timing is asserted.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 110 "$T/in.jsonl"
# 600/min holds 100 requests: the last ten policy calls must wait
cat >"$T/rpm.yaml" <<EOF2
policy:
  requests_per_minute: 600
  n: 2
EOF2
run_caigen "$T/out" "$T/in.jsonl" -c "$T/rpm.yaml" --jobs 4 -q
eq ratelimit_rpm_exit $? 0
eq ratelimit_rpm_records "$(lines "$T/out/preferences.jsonl")" 110
check ratelimit_rpm_waited jq -e '.policy_http.limiter.waits > 0 and
	.policy_http.requests == 110 and .judge_http.limiter.waits == 0' \
	"$T/out/manifest.json"
jq -c '.policy_http.limiter' "$T/out/manifest.json"

stop_fake
start_fake --faults 429=0.3 --fault-seed 3
cat >"$T/aimd.yaml" <<EOF2
policy:
  max_attempts: 20
  backoff_base: 0.005
  backoff_max: 0.02
judge:
  max_attempts: 20
  backoff_base: 0.005
  backoff_max: 0.02
EOF2
gen_prompts 300 "$T/in2.jsonl"
run_caigen "$T/out2" "$T/in2.jsonl" -c "$T/aimd.yaml" --jobs 8 -q
eq ratelimit_aimd_exit $? 0
eq ratelimit_aimd_records "$(lines "$T/out2/preferences.jsonl")" 300
check ratelimit_aimd_cut jq -e '.judge_http.limiter.concurrency_cuts > 0 and
	.judge_http.limiter.concurrency_min < 8' "$T/out2/manifest.json"
jq -c '.judge_http.limiter' "$T/out2/manifest.json"
