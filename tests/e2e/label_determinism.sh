# label_determinism: same seed and pairs give the same bytes whatever
# --jobs, shards merged equal one process, a stopped run resumes to the
# same bytes, and the order each pair is shown in is seeded per id.
. "$(dirname "$0")/../lib.sh"
start_fake
# 300 pairs, TRL and hh-rlhf lines alternating; the chosen reply is
# stored first in every line
awk 'BEGIN { for (i = 1; i <= 300; i++) {
	s = "Short answer " i "."; l = s;
	for (k = 0; k < 1 + i % 4; k++) l = l " With more detail, part " k ".";
	if (i % 2)
		printf "{\"prompt\":\"Question %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\"}\n", i, l, s;
	else
		printf "{\"chosen\":\"\\n\\nHuman: Question %d?\\n\\nAssistant: %s\",\"rejected\":\"\\n\\nHuman: Question %d?\\n\\nAssistant: %s\"}\n", i, s, i, l } }' >"$T/in.jsonl"
lab() { _o=$1; shift; "$CAIGEN" label --pairs "$T/in.jsonl" --out "$_o" \
	--judge-url "$FAKE_URL" -q --seed 5 "$@"; }
lab "$T/j1" --jobs 1
eq label_det_jobs1_exit $? 0
lab "$T/j16" --jobs 16
eq label_det_jobs16_exit $? 0
eq label_det_count "$(lines "$T/j16/preferences.jsonl")" 300
check label_det_jobs1_equals_jobs16 cmp -s "$T/j1/preferences.jsonl" \
	"$T/j16/preferences.jsonl"
eq label_det_input_order "$(jq .index "$T/j16/preferences.jsonl" |
	sort -n -c && echo sorted)" sorted
# the stored-first (chosen) reply lands in either position
first=$(jq 'select(.reference.preferred == 0)' -c "$T/j1/preferences.jsonl" |
	wc -l | tr -d ' ')
if [ "$first" -gt 100 ] && [ "$first" -lt 200 ]; then
	pass label_det_swap_mixed
else
	fail label_det_swap_mixed "chosen first in $first of 300"
fi
lab "$T/s6" --seed 6
if cmp -s "$T/j1/preferences.jsonl" "$T/s6/preferences.jsonl"; then
	fail label_det_seed_matters "seed 6 gave seed 5's bytes"
else
	pass label_det_seed_matters
fi
# shards: 0/2 and 1/2 merged equal the single process
lab "$T/sh" --shard 0/2
lab "$T/sh" --shard 1/2
"$CAIGEN" merge "$T"/sh/preferences.shard-0000[01]-of-00002.jsonl \
	-o "$T/merged.jsonl" 2>"$T/merge.err" || cat "$T/merge.err" >&2
eq label_det_merge_count "$(lines "$T/merged.jsonl")" 300
check label_det_shards_equal cmp -s "$T/merged.jsonl" \
	"$T/j1/preferences.jsonl"
# resume: 120 lines, then the rest
lab "$T/r" --limit 120
eq label_det_partial "$(lines "$T/r/preferences.jsonl")" 120
lab "$T/r"
eq label_det_resume_exit $? 0
check label_det_resume_equal cmp -s "$T/r/preferences.jsonl" \
	"$T/j1/preferences.jsonl"
# resume after a kill -9 mid-run: slow judge, then the same command
start_fake --latency-ms 20
"$CAIGEN" label --pairs "$T/in.jsonl" --out "$T/k" --judge-url "$FAKE_URL" \
	-q --seed 5 --jobs 4 &
pid=$!
i=0
got() { [ -f "$T/k/preferences.jsonl" ] && lines "$T/k/preferences.jsonl" ||
	echo 0; }
while [ "$(got)" -lt 20 ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
n=$(got)
if [ "$n" -lt 300 ]; then pass label_det_killed_midway; else
	fail label_det_killed_midway "all $n written before the kill"; fi
lab "$T/k" --jobs 4
eq label_det_after_kill_exit $? 0
check label_det_after_kill_equal cmp -s "$T/k/preferences.jsonl" \
	"$T/j1/preferences.jsonl"
