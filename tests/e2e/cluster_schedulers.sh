# cluster_schedulers: a task takes its shard from a Kubernetes Indexed Job
# (JOB_COMPLETION_INDEX + CAIGEN_SHARD_COUNT) or an AWS Batch array job
# (AWS_BATCH_JOB_ARRAY_INDEX / _SIZE) as it does from Slurm's variables,
# from the unsplit file or a split folder; --shard beats them all.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 300 "$T/in.jsonl"
"$CAIGEN" split -q "$T/in.jsonl" -n 6 -o "$T/split"
run_caigen "$T/ref" "$T/in.jsonl" -q --seed 5 --no-preflight --shard 4/6
REF=$T/ref/preferences.shard-00004-of-00006.jsonl
[ "$(lines "$REF")" -gt 10 ] || fail schedulers_reference "few records"

env -u SLURM_ARRAY_TASK_ID JOB_COMPLETION_INDEX=4 CAIGEN_SHARD_COUNT=6 \
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/k8s" -q --seed 5 \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL"
eq k8s_exit $? 0
check k8s_shard_from_index cmp "$REF" "$T/k8s/preferences.shard-00004-of-00006.jsonl"
env JOB_COMPLETION_INDEX=4 CAIGEN_SHARD_COUNT=6 \
	"$CAIGEN" run --prompts "$T/split" --out "$T/k8s-split" -q --seed 5 \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL"
eq k8s_split_exit $? 0
check k8s_split_same_records cmp "$REF" \
	"$T/k8s-split/preferences.shard-00004-of-00006.jsonl"
env JOB_COMPLETION_INDEX=4 \
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/k8s-bad" -q \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
	2>"$T/k8s.err"
eq k8s_no_count_exit $? 2
check k8s_no_count_message grep -q \
	"JOB_COMPLETION_INDEX is set but CAIGEN_SHARD_COUNT is not" "$T/k8s.err"
check k8s_no_count_nothing_written test ! -e "$T/k8s-bad"

env AWS_BATCH_JOB_ARRAY_INDEX=4 AWS_BATCH_JOB_ARRAY_SIZE=6 \
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/aws" -q --seed 5 \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL"
eq aws_exit $? 0
check aws_shard_from_index cmp "$REF" "$T/aws/preferences.shard-00004-of-00006.jsonl"
env AWS_BATCH_JOB_ARRAY_INDEX=6 AWS_BATCH_JOB_ARRAY_SIZE=6 \
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/aws-bad" -q \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
	2>"$T/aws.err"
eq aws_outside_exit $? 2
check aws_outside_message grep -q "AWS_BATCH_JOB_ARRAY_INDEX 6 is outside the job of 6 tasks" "$T/aws.err"

# Slurm with a split folder; and the flag over every variable
env SLURM_ARRAY_TASK_ID=4 SLURM_ARRAY_TASK_COUNT=6 \
	"$CAIGEN" run --prompts "$T/split" --out "$T/slurm" -q --seed 5 \
	--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL"
check slurm_split_same_records cmp "$REF" \
	"$T/slurm/preferences.shard-00004-of-00006.jsonl"
env JOB_COMPLETION_INDEX=1 CAIGEN_SHARD_COUNT=6 AWS_BATCH_JOB_ARRAY_INDEX=2 \
	AWS_BATCH_JOB_ARRAY_SIZE=6 "$CAIGEN" run --prompts "$T/split" \
	--out "$T/flag" -q --seed 5 --no-preflight --policy-url "$FAKE_URL" \
	--judge-url "$FAKE_URL" --shard 4/6
check flag_beats_schedulers cmp "$REF" "$T/flag/preferences.shard-00004-of-00006.jsonl"
eq flag_only_its_shard "$(ls "$T/flag" | grep -c '^preferences')" 1
