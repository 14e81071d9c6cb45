# batch_live_switch: a role switched from `executor: batch` to live leaves
# the batches it created with the provider, where they run and are
# billed. A run is stopped while its policy batch runs; the same OUT with
# the policy live: before its work the run names the batch still open
# (its id, its file, the cancel URL) and how to use it instead
# (executor: batch), and leaves it alone (a status GET only). Cancelled
# with the URL printed, the batch ends: a live run says nothing more.
. "$(dirname "$0")/../lib.sh"
start_fake --batch-seconds 30 --log "$T/req.log"
gen_prompts 4 "$T/in.jsonl"
cfg() { # FILE EXECUTOR: the policy's executor; the judge live
	printf 'batch_poll: 0.05\npolicy: {executor: %s}\n' "$2" >"$1"
}
cfg "$T/batch.yaml" batch
cfg "$T/live.yaml" live
J=$T/out/batch/journal.jsonl

run_caigen_bg "$T/out" "$T/in.jsonl" -c "$T/batch.yaml" -q --no-preflight
pid=$!
_i=0
until grep -q '"created"' "$J" 2>/dev/null || [ $_i -ge 200 ]; do
	sleep 0.05
	_i=$((_i + 1))
done
kill -TERM $pid
wait $pid
eq switch_stopped_exit $? 75
ID=$(jq -r 'select(.op == "created") | .id' "$J" | head -1)
check switch_batch_created [ -n "$ID" ]

# the policy live: the running batch is said first, with its id, file,
# cancel URL and how to use it; the run sends its own requests
n0=$(lines "$T/req.log")
run_caigen "$T/out" "$T/in.jsonl" -c "$T/live.yaml" -q --no-preflight \
	2>"$T/live.err"
eq switch_live_exit $? 0
check switch_live_said_first sh -c "head -1 '$T/live.err' |
	grep -q \"lists 1 batch still open with the provider\""
check switch_live_names_id grep -qF "policy: batch $ID (file policy-000001.jsonl)" \
	"$T/live.err"
check switch_live_cancel_url grep -qF "cancel: POST $FAKE_URL/batches/$ID/cancel" \
	"$T/live.err"
check switch_live_how_to_use grep -q "run again with that role's executor: batch" \
	"$T/live.err"
# the batch was looked at (GET), not cancelled, fetched or added to
eq switch_live_batch_only_looked_at "$(tail -n +"$((n0 + 1))" "$T/req.log" |
	jq -r 'select(.path | test("/batches|/files")) | "\(.method) \(.path)"' |
	sort -u | tr '\n' ' ')" "GET /v1/batches/$ID "
eq switch_live_records "$(lines "$T/out/preferences.jsonl")" 4
check switch_live_journal_kept sh -c "! grep -q '\"fetched\"' '$J'"

# cancelled with the URL printed: once it has ended, nothing is said
curl -s -o /dev/null -X POST "$FAKE_URL/batches/$ID/cancel"
_i=0
until curl -s "$FAKE_URL/batches/$ID" | jq -e '.status == "cancelled"' \
	>/dev/null || [ $_i -ge 200 ]; do
	sleep 0.1
	_i=$((_i + 1))
done
run_caigen "$T/out" "$T/in.jsonl" -c "$T/live.yaml" -q --no-preflight \
	2>"$T/live2.err"
eq switch_live2_exit $? 0
check switch_live2_silent sh -c "! grep -q 'still open' '$T/live2.err'"
