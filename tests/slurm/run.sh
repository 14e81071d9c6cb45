#!/bin/sh
# tests/slurm/run.sh - caigen as a real Slurm job array (make test-slurm).
#
# Starts a one-node Slurm (scripts/slurm/start-local-slurm.sh, as root),
# a fake model server with latency, and submits
# scripts/slurm/caigen-array.sbatch as a 4-task array over 2,000 prompts.
# Task 1 gets SIGTERM mid-run (scancel --batch, as a time limit or a
# preemption would send it); it must exit 75, requeue itself and finish
# on its second run. Then the shards are merged with --expect and compared
# byte for byte with one process's output of the same input and seed.
# Then a plainly cancelled task must stop gracefully and stay cancelled.
# Last, scripts/slurm/vllm-run-batch.sbatch runs with a stand-in for vllm
# (tests/runbatch.c against the fake server).
# Every daemon started here is stopped at the end. Prints PASS/FAIL lines;
# exits non-zero if anything failed. Takes about a minute (a requeued job
# waits cred_expire = 10 s before it runs again).
. "$(dirname "$0")/../lib.sh"
SLURM=$ROOT/scripts/slurm
STATE=/run/caigen-local-slurm
failed=0
fail() { echo "FAIL $1: $2"; failed=1; }
started_slurm=0
finish() {
	if [ "$started_slurm" = 1 ]; then
		pids=$(cat "$STATE"/* 2>/dev/null | cut -d' ' -f1)
		bash "$SLURM/stop-local-slurm.sh" >"$T/stop.log" 2>&1
		left=""
		for p in $pids; do
			if kill -0 "$p" 2>/dev/null; then left="$left $p"; fi
		done
		if [ -z "$left" ]; then
			pass slurm_daemons_stopped
		else
			fail slurm_daemons_stopped "still running:$left"
		fi
	fi
	cleanup
}
trap 'finish; exit $failed' EXIT
trap 'exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
	fail slurm_root "the Slurm test must run as root (it starts daemons)"
	exit 1
fi
t0=$(date +%s)
started_slurm=1
if ! bash "$SLURM/start-local-slurm.sh" >"$T/start.log" 2>&1; then
	cat "$T/start.log"
	fail slurm_start "start-local-slurm.sh failed"
	exit 1
fi
pass slurm_start
echo "slurm: cluster up in $(($(date +%s) - t0)) s"

N=2000
gen_prompts $N "$T/in.jsonl"
start_fake
REF_URL=$FAKE_URL
start_fake --latency-ms 25
cat >"$T/run.yaml" <<EOF
prompts: $T/in.jsonl
out: $T/out
seed: 11
constitutions: [$ROOT/constitution/harmless.yaml]
policy:
  base_url: $FAKE_URL
  concurrency: 4
judge:
  base_url: $FAKE_URL
  concurrency: 4
EOF
# the reference: one process, same input and seed, a server without latency
"$CAIGEN" run -c "$T/run.yaml" --out "$T/ref" --policy-url "$REF_URL" \
	--judge-url "$REF_URL" -q
eq slurm_reference_run $? 0

mkdir -p "$T/logs"
job=$(sbatch --parsable --array=0-3 -J caigen-test -D "$T" \
	-o "$T/logs/task-%a.log" \
	--export=ALL,CAIGEN="$CAIGEN",CAIGEN_CONFIG="$T/run.yaml",CAIGEN_GRACE=20 \
	"$ROOT/scripts/slurm/caigen-array.sbatch")
if [ -z "$job" ]; then
	fail slurm_submit "sbatch failed"
	exit 1
fi
pass slurm_submit
echo "slurm: array job $job submitted"
S1=$T/out/preferences.shard-00001-of-00004.jsonl
count() { if [ -f "$1" ]; then lines "$1"; else echo 0; fi; }
i=0
while [ "$(count "$S1")" -lt 40 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
before=$(count "$S1")
if [ "$before" -lt 40 ]; then
	fail slurm_task1_started "task 1 wrote $before records in 60 s"
	cat "$T"/logs/*.log
	exit 1
fi
# scancel retries while a job is changing state ("try again later"), and
# such a retry could hit the requeued run too: give it a few seconds only
timeout 4 scancel --batch --signal=TERM "${job}_1"
echo "slurm: sent SIGTERM to task 1 at $before records"
# all tasks done, the requeued one included
i=0
while [ -n "$(squeue -h -j "$job" 2>/dev/null)" ] && [ $i -lt 1800 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; then
	pass slurm_array_finished
else
	fail slurm_array_finished "still queued after 180 s: $(squeue -h -j "$job")"
fi
echo "slurm: array done $(($(date +%s) - t0)) s after the start"
grep -v "^caigen: [0-9]* done" "$T/logs/task-1.log" | sed "s/^/  task 1: /"
L1=$T/logs/task-1.log
check slurm_task1_exit_75 grep -q "caigen exited with 75" "$L1"
check slurm_task1_requeued grep -q "requeueing job" "$L1"
check slurm_task1_second_run grep -q "run 2," "$L1"
eq slurm_task1_resumed "$(grep -c "resuming: [1-9]" "$L1")" 1
for k in 0 1 2 3; do
	eq "slurm_task${k}_done" "$(tail -n 1 "$T/logs/task-$k.log" |
		sed 's/ at .*//')" "caigen-array: caigen exited with 0"
done
if [ "$before" -gt 0 ] && [ "$before" -lt "$(count "$S1")" ]; then
	pass slurm_task1_interrupted_mid_run
else
	fail slurm_task1_interrupted_mid_run "$before of $(count "$S1")"
fi

"$CAIGEN" merge "$T"/out/preferences.shard-*-of-00004.jsonl \
	-o "$T/out/preferences.jsonl" --expect "$T/in.jsonl" 2>"$T/merge.err"
eq slurm_merge_exit $? 0
cat "$T/merge.err"
check slurm_merged_equals_single_process cmp "$T/ref/preferences.jsonl" \
	"$T/out/preferences.jsonl"
eq slurm_no_duplicates "$(cat "$T"/out/preferences.shard-*.jsonl |
	jq -r .id | sort | uniq -d | wc -l | tr -d ' ')" 0
eq slurm_every_prompt "$(jq -r .id "$T/out/preferences.jsonl" | sort -u |
	wc -l | tr -d ' ')" $N
check slurm_merged_manifest jq -e ".counts.records_total == $N and
	.merge.duplicates_dropped == 0 and .merge.missing == 0" \
	"$T/out/manifest.json"

# a plain scancel signals every process of the job, caigen included: it
# finishes its requests (no second signal from the script), exits 75, and
# the cancelled task is not requeued
job2=$(sbatch --parsable --array=0-0 -J caigen-cancel -D "$T" \
	-o "$T/logs/cancel.log" \
	--export=ALL,CAIGEN="$CAIGEN",CAIGEN_CONFIG="$T/run.yaml",CAIGEN_GRACE=20 \
	"$ROOT/scripts/slurm/caigen-array.sbatch" --out "$T/out2")
C=$T/out2/preferences.jsonl
i=0
while [ "$(count "$C")" -lt 20 ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
timeout 4 scancel "$job2"
i=0
while [ -n "$(squeue -h -j "$job2" 2>/dev/null)" ] && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
sed 's/^/  cancelled task: /' "$T/logs/cancel.log" | grep -v "progress:"
check slurm_cancel_exit_75 grep -q "caigen exited with 75" "$T/logs/cancel.log"
eq slurm_cancel_graceful "$(grep -c "signal again" "$T/logs/cancel.log")" 1
check slurm_cancel_not_requeued grep -q "not requeueing" "$T/logs/cancel.log"
eq slurm_cancel_one_run "$(grep -c "caigen-array: task" "$T/logs/cancel.log")" 1
# the vllm run-batch recipe, with a stand-in for vllm that answers the
# exported requests through the fake server (tests/runbatch.c): export,
# run-batch, import until done; the records equal a live run's
mkdir -p "$T/bin"
cat >"$T/bin/vllm" <<EOF
#!/bin/sh
# vllm run-batch -i IN -o OUT --model M --served-model-name N
while [ \$# -gt 0 ]; do
	case "\$1" in -i) i=\$2; shift ;; -o) o=\$2; shift ;; esac
	shift
done
echo "vllm stand-in: \$i -> \$o"
exec "$RUNBATCH" --server "http://127.0.0.1:$FAKE_PORT" -i "\$i" -o "\$o"
EOF
chmod +x "$T/bin/vllm"
head -300 "$T/in.jsonl" >"$T/in300.jsonl"
"$CAIGEN" run -c "$T/run.yaml" --prompts "$T/in300.jsonl" --out "$T/vref" \
	--no-preflight -q
job3=$(sbatch --parsable -J caigen-vllm -D "$T" -o "$T/logs/vllm.log" \
	--gres=none --mem=1G --cpus-per-task=1 --time=10 \
	--export=ALL,CAIGEN="$CAIGEN",VLLM="$T/bin/vllm",CAIGEN_CONFIG="$T/run.yaml",CAIGEN_OUT="$T/vout",POLICY_WEIGHTS=/models/p \
	"$ROOT/scripts/slurm/vllm-run-batch.sbatch" --prompts "$T/in300.jsonl")
i=0
while [ -n "$(squeue -h -j "$job3" 2>/dev/null)" ] && [ $i -lt 1200 ]; do
	sleep 0.1
	i=$((i + 1))
done
sed 's/^/  vllm job: /' "$T/logs/vllm.log"
check slurm_vllm_recipe_done grep -q "caigen exited with 0 after 2 rounds" \
	"$T/logs/vllm.log"
check slurm_vllm_recipe_identical cmp "$T/vref/preferences.jsonl" \
	"$T/vout/preferences.jsonl"
echo "slurm: total $(($(date +%s) - t0)) s"
