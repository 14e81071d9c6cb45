# pipeline_adaptive: the default concurrency (auto, limiter.h) against a
# server that answers 429 beyond 6 requests at once, shared by policy and
# judge (one base URL, one in-flight budget): every prompt is labelled, none
# fails, the limiter cut its limit and ends near the server's 6, and the
# output is byte-identical to a run at --jobs 1. Counts only, no timing.
# (The first round trip overshoots and the server's own count lags its
# answers, so some calls meet a 429 or two; max_attempts 10 leaves room
# under a sanitizer's slowness.)
. "$(dirname "$0")/../lib.sh"
start_fake --max-inflight 6 --latency-ms 20
gen_prompts 150 "$T/in.jsonl"
cat >"$T/c.yaml" <<EOF2
policy:
  n: 2
  max_attempts: 10
  backoff_base: 0.1
  backoff_max: 1
judge:
  max_attempts: 10
  backoff_base: 0.1
  backoff_max: 1
EOF2
run_caigen "$T/auto" "$T/in.jsonl" -c "$T/c.yaml" -q
eq adaptive_exit $? 0
eq adaptive_records "$(lines "$T/auto/preferences.jsonl")" 150
check adaptive_none_failed jq -e '.counts.failed == 0' "$T/auto/manifest.json"
# one budget for the server: the limiter was cut, the places in flight at
# the end (summed over the loops) are near the server's 6, and few requests
# were refused
check adaptive_cut jq -e '.judge_http.limiter.concurrency_cuts > 0 and
	.judge_http.limiter.concurrency_end <= 12' "$T/auto/manifest.json"
check adaptive_few_refused jq -e '((.policy_http.retries."429" // 0) +
	(.judge_http.retries."429" // 0)) * 2 <
	(.policy_http.requests + .judge_http.requests)' "$T/auto/manifest.json"
jq -c '[.policy_http.requests, .policy_http.retries, .judge_http.requests,
	.judge_http.retries, .judge_http.limiter]' "$T/auto/manifest.json"
stop_fake
start_fake
run_caigen "$T/one" "$T/in.jsonl" -c "$T/c.yaml" --jobs 1 -q
eq adaptive_jobs1_exit $? 0
check adaptive_same_bytes cmp -s "$T/auto/preferences.jsonl" \
	"$T/one/preferences.jsonl"
