# cluster_split: `caigen split` into 100 shards, 100 tasks each reading
# only its own file, then `caigen merge`, gives the bytes of one process
# (records and rejects); a repeated id is reported with both lines; a
# task's stats follow the source file; `caigen status` per shard.
. "$(dirname "$0")/../lib.sh"
start_fake
N=100
gen_prompts 2000 "$T/in.jsonl"
{
	echo 'not json'
	echo
	echo '{"id":"q00042","prompt":"the id of line 42 again"}'
	printf '{"prompt":"a last line without its newline"}'
} >>"$T/in.jsonl"
run_caigen "$T/one" "$T/in.jsonl" -q --seed 3 --no-preflight

"$CAIGEN" split "$T/in.jsonl" -n $N -o "$T/split" 2>"$T/split.err"
eq split_exit $? 0
eq split_files "$(ls "$T/split" | grep -c '^prompts\.shard-[0-9]*-of-00100\.split$')" $N
check split_reports_both_lines grep -q \
	"line 2003: duplicate id 'q00042', first at line 42" "$T/split.err"
check split_index jq -e '.n == 100 and .lines == 2004 and .blank == 1 and
	.prompts == 2001 and .rejects == 2 and .duplicate_ids == 1 and
	.duplicates_shown[0] == {"id": "q00042", "lines": [42, 2003]} and
	([.shards[].prompts] | add) == 2001 and .shards[0].rejects == 2 and
	([.shards[1:][].rejects] | add) == 0' "$T/split/split.json"
# shard K of the split is what --shard K/N takes from the file: same ids
run_caigen "$T/uns" "$T/in.jsonl" -q --seed 3 --no-preflight --shard 17/$N
jq -r .id "$T/uns/preferences.shard-00017-of-00100.jsonl" | sort >"$T/ids.unsplit"
sed -n 's/^[0-9]* {"id":"\(q[0-9]*\)".*/\1/p' \
	"$T/split/prompts.shard-00017-of-00100.split" | sort >"$T/ids.split"
check split_same_rule_as_shard cmp "$T/ids.unsplit" "$T/ids.split"
[ -s "$T/ids.split" ] || fail split_same_rule_nonempty "no ids"
# status of an unsplit run: the shard's size from its manifest
"$CAIGEN" status --json "$T/uns" >"$T/uns.json"
check status_unsplit_size_from_manifest jq -e '.shards[17] |
	.left == 0 and .state == "done" and .done > 0' "$T/uns.json"
check status_unsplit_others_missing jq -e '.shards[16].state == "missing"
	and .totals.shards == 100' "$T/uns.json"
"$CAIGEN" split "$T/in.jsonl" -n $N -o "$T/split" 2>"$T/again.err"
eq split_refuses_existing $? 2
check split_refuses_message grep -q "already holds a split" "$T/again.err"

# 100 tasks, 4 at a time, each from its own file
# ({} as the placeholder: a K could be part of the temporary folder name)
seq 0 $((N - 1)) | xargs -P 4 -I {} "$CAIGEN" run --prompts "$T/split" \
	--out "$T/sh" --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -q \
	--seed 3 --no-preflight --shard {}/$N 2>"$T/tasks.err"
eq split_tasks_exit $? 0
[ ! -s "$T/tasks.err" ] || fail split_tasks_quiet "$(head -c 300 "$T/tasks.err")"
"$CAIGEN" merge "$T"/sh/preferences.shard-*.jsonl -o "$T/sh/preferences.jsonl" \
	--expect "$T/in.jsonl" 2>"$T/merge.err"
eq split_merge_exit $? 0
check split_merge_equals_one_process cmp "$T/one/preferences.jsonl" \
	"$T/sh/preferences.jsonl"
"$CAIGEN" merge -q --no-manifest "$T"/sh/rejects.shard-*.jsonl \
	-o "$T/sh/rejects.jsonl"
check split_rejects_equal_one_process cmp "$T/one/rejects.jsonl" \
	"$T/sh/rejects.jsonl"
check split_manifest_counts_as_one sh -c "jq -S '.counts | del(.other_shard)' \
	'$T/one/manifest.json' >'$T/c1' && jq -S .counts '$T/sh/manifest.json' \
	>'$T/c2' && cmp '$T/c1' '$T/c2'"
check split_task_read_its_share jq -e '.counts.other_shard == 0 and
	.counts.lines == 2004' "$T/sh/manifest.shard-00042-of-00100.json"

# status: every shard done, from the files; the merged file is not a shard
"$CAIGEN" status "$T/sh" --json >"$T/status.json"
eq status_exit $? 0
check status_all_done jq -e '.totals == {"shards": 100, "done": 2001,
	"failed": 0, "left": 0, "running": 0, "finished": 100} and
	(.shards | length) == 100 and .shards[7].k == 7 and
	.shards[7].n == 100 and (.shards[7].last_write | test("Z$"))' \
	"$T/status.json"
"$CAIGEN" status "$T/sh" >"$T/status.txt"
check status_text grep -q '^all  *2001  *0  *0  *100 of 100 shards done, 0 running' \
	"$T/status.txt"

# a shard whose records lost their tail: it shows what is left
S5=$T/sh/preferences.shard-00005-of-00100.jsonl
n5=$(lines "$S5")
head -n $((n5 - 3)) "$S5" >"$T/s5" && cat "$T/s5" >"$S5"
echo '{"id":"q99999","index":5,"stage":"judge","reason":"HTTP 500"}' \
	>>"$T/sh/failures.shard-00005-of-00100.jsonl"
"$CAIGEN" status "$T/sh" --json >"$T/status2.json"
check status_shard_left jq -e --argjson d $((n5 - 3)) '.shards[5] |
	.done == $d and .left == 2 and .failed == 1 and .state == "stopped"' \
	"$T/status2.json"
# a shard never run: missing, left unknown
rm -f "$T"/sh/*.shard-00009-of-00100.*
"$CAIGEN" status "$T/sh" --json >"$T/status3.json"
check status_missing_shard jq -e '.shards[9] | .state == "missing" and
	.done == 0 and .left == null and .last_write == null' "$T/status3.json"

# a run in progress holds its shard's lock: status says so
start_fake --latency-ms 300
run_caigen_bg "$T/sh" "$T/split" -q --seed 3 --no-preflight --shard 9/$N \
	--jobs 1 2>"$T/bg.err"
bgpid=$!
i=0
while [ ! -e "$T/sh/.lock.shard-00009-of-00100" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.2
"$CAIGEN" status "$T/sh" --json >"$T/status4.json"
check status_lock_held jq -e '.shards[9] | .locked and .state == "running"' \
	"$T/status4.json"
check status_other_lock_free jq -e '.shards[8].locked | not' "$T/status4.json"
kill -TERM $bgpid
wait $bgpid
eq split_task_interrupted $? 75
"$CAIGEN" status "$T/sh" --json >"$T/status5.json"
check status_lock_released jq -e '.shards[9] | (.locked | not) and
	.state == "stopped" and .left > 0' "$T/status5.json"

# a split of another size, or none, is refused with a clear message
run_caigen "$T/bad" "$T/split" -q --shard 1/7 2>"$T/bad.err"
eq split_wrong_n_exit $? 2
check split_wrong_n_message grep -q "split into 100 shards but this task is shard 1 of 7" "$T/bad.err"
run_caigen "$T/bad" "$T/split" -q 2>"$T/bad2.err"
eq split_unsharded_exit $? 2
check split_unsharded_message grep -q "run 100 tasks" "$T/bad2.err"

# the same id from two different input lines in two shards (the prompts
# changed between the tasks' runs): merge names both lines and both files
mkdir -p "$T/conf"
A=$T/conf/preferences.shard-00003-of-00100.jsonl
B=$T/conf/preferences.shard-00004-of-00100.jsonl
cp "$T/sh/preferences.shard-00003-of-00100.jsonl" "$A"
cp "$T/sh/preferences.shard-00004-of-00100.jsonl" "$B"
id=$(head -n 1 "$A" | jq -r .id)
ix=$(head -n 1 "$A" | jq -r .index)
head -n 1 "$A" | jq -c '.index = 1999' >>"$B"
"$CAIGEN" merge --no-manifest --allow-partial "$A" "$B" -o "$T/conf/merged.jsonl" \
	2>"$T/conf.err"
eq merge_conflict_exit $? 0
check merge_conflict_both_lines grep -q "duplicate id '$id': line $((ix + 1)) in '$A' and line 2000 in '$B'" "$T/conf.err"
eq merge_conflict_kept_first "$(grep -c "\"id\":\"$id\"" "$T/conf/merged.jsonl")" 1
# the same record named twice is no conflict
"$CAIGEN" merge --no-manifest --allow-partial "$A" "$A" -o "$T/conf/twice.jsonl" 2>"$T/twice.err"
if grep -q "duplicate id" "$T/twice.err"; then
	fail merge_same_record_quiet "$(cat "$T/twice.err")"
else
	pass merge_same_record_quiet
fi
