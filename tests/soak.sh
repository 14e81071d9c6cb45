#!/bin/sh
# soak.sh KILLS [PROMPTS] - a long job against the faulty fake server,
# killed with SIGKILL at random instants KILLS times over repeated
# restarts, then run to the end: every prompt exactly once, no partial
# line, nothing else in the file. `make soak` runs 200 kills; `make test`
# runs 10 (tests/e2e/pipeline_soak.sh). Prints PASS/FAIL lines.
. "$(dirname "$0")/lib.sh"
KILLS=${1:-200}
N=${2:-$((KILLS * 150 + 1000))}
start_fake --latency-ms 5 --fault-seed 11 --stall-ms 600 \
	--faults 429=0.02,429h=0.01,500=0.01,503=0.01,529=0.01,stall=0.005,reset=0.005,truncate=0.005,badjson=0.005,errbody=0.005,nologprobs=0.005
gen_prompts "$N" "$T/in.jsonl"
cat >"$T/run.yaml" <<EOF2
policy:
  max_attempts: 12
  backoff_base: 0.01
  backoff_max: 0.05
  timeout: 0.4
judge:
  max_attempts: 12
  backoff_base: 0.01
  backoff_max: 0.05
  timeout: 0.4
EOF2
P=$T/out/preferences.jsonl
# random delays in [0.05, 0.65) s, from awk seeded by the pid and time
delays=$(awk -v n="$KILLS" -v s="$$$(date +%N)" 'BEGIN { srand(s % 2147483647);
	for (i = 0; i < n; i++) printf "%.3f\n", 0.05 + rand() * 0.6 }')
kills=0
for d in $delays; do
	run_caigen_bg "$T/out" "$T/in.jsonl" -c "$T/run.yaml" -q --jobs 8 \
		--no-preflight >/dev/null 2>&1
	pid=$!
	sleep "$d"
	kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
	wait "$pid" 2>/dev/null
	# a finished job cannot be killed any more: stop early
	[ "$(lines "$P" 2>/dev/null || echo 0)" -ge "$N" ] && break
done
before=$(lines "$P")
runs=0
rc=1
while [ $runs -lt 3 ] && [ $rc -ne 0 ]; do
	run_caigen "$T/out" "$T/in.jsonl" -c "$T/run.yaml" -q --jobs 8 \
		2>>"$T/stderr"
	rc=$?
	runs=$((runs + 1))
done
echo "soak: $kills kills (of $KILLS), $before of $N records before the final run(s), $runs final run(s)"
eq soak_kills "$kills" "$KILLS"
eq soak_final_exit "$rc" 0
eq soak_count "$(lines "$P")" "$N"
eq soak_distinct "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" "$N"
jq -r .id "$T/in.jsonl" | sort >"$T/ids_in"
jq -r .id "$P" | sort >"$T/ids_out"
check soak_same_ids cmp -s "$T/ids_in" "$T/ids_out"
check soak_every_line_json jq -e . "$P"
eq soak_ends_with_newline "$(tail -c 1 "$P" | od -An -c | tr -d ' ')" '\n'
check soak_schema jq -e -s 'all(.schema == "caigen.preference/1")' "$P"
