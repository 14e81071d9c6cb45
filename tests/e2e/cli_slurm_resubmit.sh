# cli_slurm_resubmit: one task of a finished array submitted again
# (sbatch --array=3, which Slurm reports as a one-task array: ID 3, COUNT
# 1, MIN = MAX = 3) does shard 3 of the job, its size from the split
# folder or CAIGEN_SHARD_COUNT; without either it is refused, not run
# over every prompt.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 40 "$T/in.jsonl"
"$CAIGEN" split "$T/in.jsonl" -n 4 -o "$T/sp" >/dev/null 2>&1
# the whole array, task by task, as Slurm numbers them
for k in 0 1 2 3; do
	SLURM_ARRAY_TASK_ID=$k SLURM_ARRAY_TASK_COUNT=4 SLURM_ARRAY_TASK_MIN=0 \
	SLURM_ARRAY_TASK_MAX=3 run_caigen "$T/full" "$T/sp" -q 2>/dev/null
done
# task 3 again, alone, into a fresh folder: the split folder gives N
one() {	# one OUT PROMPTS [env...]
	_o=$1 _p=$2
	shift 2
	env SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=1 SLURM_ARRAY_TASK_MIN=3 \
		SLURM_ARRAY_TASK_MAX=3 "$@" "$CAIGEN" run --prompts "$_p" \
		--out "$_o" --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -q
}
one "$T/re" "$T/sp" 2>"$T/e1"
eq resubmit_split_exit $? 0
F=preferences.shard-00003-of-00004.jsonl
check resubmit_split_same_shard cmp -s "$T/full/$F" "$T/re/$F"
check resubmit_split_no_other test ! -e "$T/re/preferences.jsonl"
# the unsplit file and CAIGEN_SHARD_COUNT
one "$T/re2" "$T/in.jsonl" CAIGEN_SHARD_COUNT=4 2>"$T/e2"
eq resubmit_count_exit $? 0
check resubmit_count_same_shard cmp -s "$T/full/$F" "$T/re2/$F"
# neither: refused with the way out, nothing written
one "$T/re3" "$T/in.jsonl" 2>"$T/e3"
eq resubmit_unknown_size_exit $? 2
check resubmit_unknown_size_says grep -q "one-task array.*CAIGEN_SHARD_COUNT" "$T/e3"
check resubmit_unknown_size_nothing test ! -e "$T/re3/preferences.jsonl"
# a task id beyond the job
env SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_COUNT=1 CAIGEN_SHARD_COUNT=4 \
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/re4" -q \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" 2>"$T/e4"
eq resubmit_outside_exit $? 2
# a one-task array at 0 is still a plain run
env SLURM_ARRAY_TASK_ID=0 SLURM_ARRAY_TASK_COUNT=1 "$CAIGEN" run \
	--prompts "$T/in.jsonl" --out "$T/re5" -q \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" 2>/dev/null
eq resubmit_single_task_exit $? 0
eq resubmit_single_task_all "$(lines "$T/re5/preferences.jsonl")" 40
