# pipeline_faults: 5,000 prompts against a fake server that spoils 20 % of
# its answers (429 with and without wait hints, 500/503/529, stalls past
# the client's timeout, connection resets, cut bodies, bad JSON, a 200
# with an error body, judge answers without logprobs). One run labels
# every prompt exactly once, and the summary and manifest count the
# retries by cause. Kept fast: no latency, short backoff, short timeout.
. "$(dirname "$0")/../lib.sh"
N=5000
MIX=429=0.04,429h=0.03,500=0.03,503=0.02,529=0.02,stall=0.01,reset=0.01,truncate=0.01,badjson=0.01,errbody=0.01,nologprobs=0.01
start_fake --faults "$MIX" --fault-seed 7 --stall-ms 700
gen_prompts $N "$T/in.jsonl"
cat >"$T/run.yaml" <<EOF
policy:
  max_attempts: 12
  backoff_base: 0.01
  backoff_max: 0.05
  timeout: 0.3
judge:
  max_attempts: 12
  backoff_base: 0.01
  backoff_max: 0.05
  timeout: 0.3
EOF
t0=$(date +%s)
run_caigen "$T/out" "$T/in.jsonl" -c "$T/run.yaml" --jobs 24 \
	>"$T/stdout" 2>"$T/stderr"
rc=$?
echo "faults: $N prompts in $(($(date +%s) - t0)) s"
grep '^caigen: \(policy\|judge\):' "$T/stderr"
eq faults_exit "$rc" 0
P=$T/out/preferences.jsonl
eq faults_records "$(lines "$P")" $N
eq faults_distinct "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" $N
jq -r .id "$T/in.jsonl" | sort >"$T/ids_in"
jq -r .id "$P" | sort >"$T/ids_out"
check faults_all_inputs cmp -s "$T/ids_in" "$T/ids_out"
eq faults_no_failures "$(cat "$T/out/failures.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0
check faults_every_line_json jq -e . "$P"
check faults_in_order jq -e -s '[.[].index] == ([.[].index] | sort)' "$P"
# the summary names each cause that happened
for cause in 429 5xx connect timeout bad-body; do
	check "faults_summary_$cause" grep -q "caigen: judge: .* $cause=[1-9]" \
		"$T/stderr"
done
check faults_manifest_causes jq -e '[.policy_http.retries, .judge_http.retries]
	| all(.["429"] > 0 and .["5xx"] > 0 and .connect > 0 and
	      .timeout > 0 and .["bad-body"] > 0)' "$T/out/manifest.json"
check faults_manifest_total jq -e '.counts.records_total == '$N \
	"$T/out/manifest.json"

# never retried: 400, 401, 403, 404 and insufficient_quota fail at once,
# each after exactly one request
stop_fake
start_fake --api-key some-other-key --log "$T/requests.log"
gen_prompts 3 "$T/three.jsonl"
run_caigen "$T/out401" "$T/three.jsonl" -c "$T/run.yaml" --jobs 1 \
	--no-preflight -q 2>/dev/null
# (three refusals in a row stop the run: exit 2, nothing marked failed)
eq faults_401_exit $? 2
eq faults_401_one_attempt_each "$(grep -c chat/completions "$T/requests.log")" 3
check faults_401_reason test ! -s "$T/out401/failures.jsonl"
