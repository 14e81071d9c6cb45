# batch_create_once: a batch create is a paid order, made once. A provider
# slow to answer the create (longer than stall_timeout, and long enough
# for curl's speed check to see it: about 7 s at stall_timeout 1) is
# waited for, not sent the create again; a create whose answer is lost
# (the connection closes after the batch was made) is looked up by its
# tag before any retry, and that batch is used. One batch per batch role
# in the fake's log, each custom_id sent once, the live run's records,
# exit 0.
. "$(dirname "$0")/../lib.sh"
# mk FILE POLICY-EXECUTOR JUDGE-EXECUTOR: stall_timeout 1 s on both
mk() {
	printf 'batch_poll: 0.05\npolicy:\n  executor: %s\n  max_tokens: 64\n'\
'  stall_timeout: 1\n  max_attempts: 3\n  backoff_base: 0.05\n'\
'judge:\n  executor: %s\n  stall_timeout: 1\n  max_attempts: 3\n'\
'  backoff_base: 0.05\n' "$2" "$3" >"$1"
}
batches() { jq -r 'select(.batch) | .batch' "$1" | sort -u | wc -l | tr -d ' '; }
unique_cids() {
	n=$(grep -c '"custom_id"' "$1")
	u=$(grep '"custom_id"' "$1" | jq -r .custom_id | sort -u | wc -l | tr -d ' ')
	[ "$n" -gt 0 ] && [ "$n" = "$u" ]
}
gen_prompts 12 "$T/in.jsonl"
start_fake
mk "$T/live.yaml" live live
run_caigen "$T/live" "$T/in.jsonl" -c "$T/live.yaml" --policy-model pol \
	--judge-model jud --no-preflight -q
eq live_exit $? 0
stop_fake

# NAME FAKE-FLAGS JUDGE-EXECUTOR BATCHES: one run, then its checks
once() {
	_c=$1 _f=$2
	start_fake --log "$T/$_c.log" --batch-seconds 0.2 $_f
	mk "$T/$_c.yaml" batch "$3"
	run_caigen "$T/$_c" "$T/in.jsonl" -c "$T/$_c.yaml" --policy-model pol \
		--judge-model jud --no-preflight -q 2>"$T/$_c.err"
	eq "${_c}_exit" $? 0
	eq "${_c}_batches_made" "$(batches "$T/$_c.log")" "$4"
	check "${_c}_sent_once" unique_cids "$T/$_c.log"
	check "${_c}_records" cmp "$T/live/preferences.jsonl" \
		"$T/$_c/preferences.jsonl"
	stop_fake
}
# the policy batch's create is answered 9 s late (the judge is live)
once slow "--batch-create-ms 9000" live 1
# the first create's answer is lost: the batch it made is found and used
once lost "--batch-create-drop 1" batch 2
