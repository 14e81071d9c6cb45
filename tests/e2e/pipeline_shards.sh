# pipeline_shards: a run split into 4 shards (--shard K/N and the Slurm
# array variables), then `caigen merge`, gives the bytes of one process;
# merge copes with unsorted shards, duplicates and missing ids.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 400 "$T/in.jsonl"
# bad lines go to rejects: shard 0 alone records them
echo 'not json' >>"$T/in.jsonl"
echo '{"id":"q00007","prompt":"a second q00007"}' >>"$T/in.jsonl"
run_caigen "$T/one" "$T/in.jsonl" -q --seed 7
pids=""
for k in 0 1 2 3; do
	run_caigen "$T/sh" "$T/in.jsonl" -q --seed 7 --shard "$k/4" &
	pids="$pids $!"
done
for p in $pids; do wait "$p"; done	# not the fake server
S=$T/sh/preferences.shard
total=0
for k in 0 1 2 3; do
	n=$(lines "$S-0000$k-of-00004.jsonl")
	total=$((total + n))
	[ "$n" -gt 50 ] || fail shards_balanced "shard $k has $n records"
done
eq shards_every_prompt_once "$total" 400
eq shards_disjoint "$(cat "$S"-*.jsonl | jq -r .id | sort -u | wc -l |
	tr -d ' ')" 400
eq shards_rejects_in_shard0 "$(lines "$T/sh/rejects.shard-00000-of-00004.jsonl")" 2
eq shards_no_rejects_elsewhere "$(cat "$T"/sh/rejects.shard-0000[123]-of-00004.jsonl | wc -l | tr -d ' ')" 0
check shards_manifest_shard jq -e '.shard == {"k": 2, "n": 4} and
	.counts.other_shard > 0' "$T/sh/manifest.shard-00002-of-00004.json"
check shards_lock_per_shard test -e "$T/sh/.lock.shard-00003-of-00004"

# merge == one process, byte for byte
"$CAIGEN" merge "$S"-*.jsonl -o "$T/sh/preferences.jsonl" \
	--expect "$T/in.jsonl" 2>"$T/merge.err"
eq merge_exit $? 0
check merge_equals_single_process cmp "$T/one/preferences.jsonl" \
	"$T/sh/preferences.jsonl"
check merge_reports_complete grep -q "every one of the 400 prompts" \
	"$T/merge.err"
check merge_manifest_sums jq -e '.counts.written == 400 and
	.counts.rejected == 2 and .counts.lines == 402 and
	.merge.records == 400 and .merge.duplicates_dropped == 0 and
	.merge.missing == 0 and (.merge.shards | length) == 4 and
	(.counts | has("other_shard") | not)' "$T/sh/manifest.json"

# each shard resumes on its own: nothing left to do
run_caigen "$T/sh" "$T/in.jsonl" --seed 7 --shard 1/4 2>"$T/resume.err"
eq shard_resume_exit $? 0
check shard_resume_skips grep -q "resuming: $(lines "$S-00001-of-00004.jsonl") records" "$T/resume.err"
check shard_resume_summary grep -q "shard 1/4:" "$T/resume.err"

# a shard written out of order (a resumed run fills gaps at the end) and
# a shard named twice: same bytes, duplicates counted
mkdir -p "$T/mix"
f1=$S-00001-of-00004.jsonl
tail -n +11 "$f1" >"$T/mix/preferences.shard-00001-of-00004.jsonl"
head -n 10 "$f1" >>"$T/mix/preferences.shard-00001-of-00004.jsonl"
"$CAIGEN" merge -q "$S-00000-of-00004.jsonl" "$T/mix/preferences.shard-00001-of-00004.jsonl" \
	"$S-00002-of-00004.jsonl" "$S-00003-of-00004.jsonl" \
	"$S-00002-of-00004.jsonl" -o "$T/mix/merged.jsonl"
eq merge_unsorted_exit $? 0
check merge_unsorted_equal cmp "$T/one/preferences.jsonl" "$T/mix/merged.jsonl"
check merge_duplicates_counted jq -e ".merge.duplicates_dropped == \
	$(lines "$S-00002-of-00004.jsonl")" "$T/mix/manifest.json"

# a shard missing: --expect lists ids and exits 1
"$CAIGEN" merge "$S-00000-of-00004.jsonl" "$S-00001-of-00004.jsonl" \
	-o "$T/mix/part.jsonl" --expect "$T/in.jsonl" --no-manifest \
	2>"$T/missing.err"
eq merge_missing_exit $? 1
want=$(cat "$S-00002-of-00004.jsonl" "$S-00003-of-00004.jsonl" | wc -l |
	tr -d ' ')
check merge_missing_count grep -q "^caigen: $want of the 400 prompts" \
	"$T/missing.err"
eq merge_missing_listed "$(grep -c '^caigen: missing: id' "$T/missing.err")" 20
check merge_missing_id_right sh -c "id=\$(grep -m1 '^caigen: missing' \
	'$T/missing.err' | sed \"s/.*id '\\([^']*\\)'.*/\\1/\"); \
	grep -q \"\\\"id\\\":\\\"\$id\\\"\" '$S-00002-of-00004.jsonl' \
	'$S-00003-of-00004.jsonl'"
"$CAIGEN" merge "$S-00000-of-00004.jsonl" -o "$S-00000-of-00004.jsonl" \
	2>/dev/null
eq merge_refuses_in_place $? 2

# the shard from Slurm's array variables; a flag beats them
SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=3 SLURM_ARRAY_TASK_MAX=6 \
	run_caigen "$T/env" "$T/in.jsonl" -q --seed 7 --limit 40
E=$T/env/preferences.shard-00002-of-00004.jsonl
n=$(lines "$E" 2>/dev/null || echo 0)
[ "$n" -gt 0 ] || fail shard_from_slurm_min_max "no records in $E"
head -n "$n" "$S-00002-of-00004.jsonl" >"$T/env.want"
check shard_from_slurm_min_max cmp "$T/env.want" "$E"
SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=4 \
	run_caigen "$T/env2" "$T/in.jsonl" -q --seed 7 --shard 3/4
check shard_flag_beats_env test -s "$T/env2/preferences.shard-00003-of-00004.jsonl"
if [ -e "$T/env2/preferences.shard-00001-of-00004.jsonl" ]; then
	fail shard_flag_beats_env_only "the environment's shard was written"
else
	pass shard_flag_beats_env_only
fi
run_caigen "$T/bad" "$T/in.jsonl" -q --shard 4/4 2>"$T/bad.err"
eq shard_bad_flag_exit $? 2
check shard_bad_flag_message grep -q "0 <= K < N" "$T/bad.err"
