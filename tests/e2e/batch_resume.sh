# batch_resume: batch mode under failure. kill -9 in each phase, then a
# resume: no custom_id is sent twice (the fake server logs each one) and
# every prompt is written once, as the live run writes it. An expired
# batch keeps its finished half and only the rest goes out again; failed
# and junk result lines are retried; a batch that fails validation fails
# its prompts with the provider's line and reason; a stop signal leaves
# the batch with the provider for the next run; --max-cost stops a batch
# run within one batch of the cap.
. "$(dirname "$0")/../lib.sh"
mk() {	# FILE EXECUTOR [TOP] [POLICY]
	printf 'batch_poll: 0.05\nprices:\n  pol: {input: 1000, output: 1000}\n'\
'  jud: {input: 1000, output: 1000}\n%b\npolicy:\n  executor: %s\n'\
'  max_tokens: 64\n%b\njudge:\n  executor: %s\n' \
		"${3:-}" "$2" "${4:-}" "$2" >"$1"
}
mk "$T/batch.yaml" batch
mk "$T/live.yaml" live
run() {	# OUT [flags]: a batch run on in.jsonl against the current fake
	_o=$1
	shift
	run_caigen "$_o" "$T/in.jsonl" -c "$T/batch.yaml" --policy-model pol \
		--judge-model jud --no-preflight -q "$@"
}
unique_cids() {
	n=$(grep -c '"custom_id"' "$1")
	u=$(grep '"custom_id"' "$1" | jq -r .custom_id | sort -u | wc -l | tr -d ' ')
	[ "$n" -gt 0 ] && [ "$n" = "$u" ]
}
# wait_journal OUT ROLE: until a batch of ROLE is created (10 s at most)
wait_journal() {
	_i=0
	while ! grep -q "\"created\",\"role\":\"$2\"" \
		"$1/batch/journal.jsonl" 2>/dev/null && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

gen_prompts 400 "$T/in.jsonl"
start_fake
run_caigen "$T/live" "$T/in.jsonl" -c "$T/live.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
eq live_exit $? 0
stop_fake

# kill -9 while the policy batch runs, then while the judge batch runs
start_fake --log "$T/k.log" --batch-seconds 1.5
run_caigen_bg "$T/k" "$T/in.jsonl" -c "$T/batch.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
pid=$!
wait_journal "$T/k" policy
kill -9 $pid
wait $pid 2>/dev/null
eq kill_policy_phase "$(lines "$T/k/preferences.jsonl")" 0
run_caigen_bg "$T/k" "$T/in.jsonl" -c "$T/batch.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
pid=$!
wait_journal "$T/k" judge
kill -9 $pid
wait $pid 2>/dev/null
run "$T/k" 2>"$T/k.err"
eq kill_resume_exit $? 0
check kill_identical cmp "$T/live/preferences.jsonl" "$T/k/preferences.jsonl"
check kill_unique_ids unique_cids "$T/k.log"
eq kill_sent_once "$(grep -c '"custom_id":"p-' "$T/k.log"):$(grep -c \
	'"custom_id":"j-' "$T/k.log")" "400:800"
# the resumed runs polled the batches the killed ones made
eq kill_batches "$(jq -r 'select(.op == "created") | .role' \
	"$T/k/batch/journal.jsonl" | tr '\n' ' ')" "policy judge "
stop_fake

# the first batch expires with half its requests done
start_fake --log "$T/e.log" --batch-seconds 0.2 --batch-expire 1
run "$T/e" 2>"$T/e.err"
eq expire_exit $? 0
check expire_identical cmp "$T/live/preferences.jsonl" "$T/e/preferences.jsonl"
check expire_unique_ids unique_cids "$T/e.log"
# 400 policy requests, the 200 expired ones again as attempt 1
eq expire_resent "$(grep -c '"custom_id":"p-[0-9a-f]*"' "$T/e.log"):$(grep \
	-c '"custom_id":"p-[0-9a-f]*-1"' "$T/e.log")" "400:200"
check expire_status jq -se 'map(select(.op == "fetched" and .status == "expired")) | length == 1' \
	"$T/e/batch/journal.jsonl"
stop_fake

# failed lines (a 500 for one request in 7) and a junk line per batch
start_fake --log "$T/f.log" --batch-seconds 0.1 --batch-fail-every 7 \
	--batch-junk
run "$T/f"
eq fail_exit $? 0
check fail_identical cmp "$T/live/preferences.jsonl" "$T/f/preferences.jsonl"
check fail_unique_ids unique_cids "$T/f.log"
check fail_retried grep -q '"custom_id":"[pj]-[0-9a-f]*-1"' "$T/f.log"
stop_fake

# validation: the provider takes 100 requests a batch; caigen sends 400
start_fake --batch-seconds 0.1 --batch-max-requests 100
run "$T/v" 2>"$T/v.err"
eq invalid_exit $? 1
eq invalid_failed "$(lines "$T/v/failures.jsonl")" 400
check invalid_names_reason jq -e 'select(.reason | test("failed validation.*too_many_tasks.*400 requests"))' \
	"$T/v/failures.jsonl"
# told the limit, caigen splits the batch and the run goes through
mk "$T/split.yaml" batch '' '  batch_max_requests: 100'
printf '  batch_max_requests: 100\n' >>"$T/split.yaml"
run_caigen "$T/v" "$T/in.jsonl" -c "$T/split.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
eq invalid_split_exit $? 0
check invalid_split_identical cmp "$T/live/preferences.jsonl" \
	"$T/v/preferences.jsonl"
stop_fake

# a stop signal: the batch stays with the provider; the next run polls it
start_fake --log "$T/s.log" --batch-seconds 2
run_caigen_bg "$T/s" "$T/in.jsonl" -c "$T/batch.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
pid=$!
wait_journal "$T/s" policy
t0=$(date +%s)
kill -TERM $pid
wait $pid
eq signal_exit $? 75
check signal_quick [ $(($(date +%s) - t0)) -le 2 ]
run "$T/s" 2>"$T/s.err"
eq signal_resume_exit $? 0
check signal_identical cmp "$T/live/preferences.jsonl" "$T/s/preferences.jsonl"
check signal_unique_ids unique_cids "$T/s.log"
stop_fake

# the spending cap: about $1 a prompt at these prices
start_fake --log "$T/c.log" --batch-seconds 0.1
mk "$T/cap.yaml" batch 'batch_prompts: 100'
run_caigen "$T/c" "$T/in.jsonl" -c "$T/cap.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q --max-cost 150 2>"$T/c.err"
eq cap_exit $? 75
check cap_said grep -q 'spending cap of \$150.0000 reached' "$T/c.err"
check cap_within jq -e '.max_cost.reached and .max_cost.spent_usd <= 150 and
	.max_cost.spent_usd > 0' "$T/c/manifest.json"
n=$(lines "$T/c/preferences.jsonl")
check cap_stopped_early [ "$n" -gt 0 -a "$n" -lt 400 ]
run_caigen "$T/c" "$T/in.jsonl" -c "$T/cap.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q --max-cost 100000
eq cap_resume_exit $? 0
check cap_identical cmp "$T/live/preferences.jsonl" "$T/c/preferences.jsonl"
check cap_unique_ids unique_cids "$T/c.log"

# the dry run prices batch requests at the batch price: half, here
for k in live batch; do
	"$CAIGEN" run -c "$T/$k.yaml" --prompts "$T/in.jsonl" --out "$T/dry" \
		--policy-model pol --judge-model jud --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" --dry-run >"$T/dry.$k" 2>&1
	eq "dry_${k}_exit" $? 0
done
check dry_says_batch grep -q "'pol': 400 batch requests" "$T/dry.batch"
live=$(sed -n 's/.*estimated cost \$\([0-9.]*\).*/\1/p' "$T/dry.live")
half=$(sed -n 's/.*estimated cost \$\([0-9.]*\).*/\1/p' "$T/dry.batch")
check dry_batch_half awk -v l="$live" -v h="$half" \
	'BEGIN { exit !(l > 0 && (h * 2 - l) ^ 2 < 1e-6) }'

# a batch policy with a live judge runs: tests/e2e/batch_mixed.sh
