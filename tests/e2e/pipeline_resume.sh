# pipeline_resume: kill -9 at random instants during a 2,000-prompt run
# against a server with latency, then run again until done: every prompt
# exactly once, no partial line, nothing else in the file.
. "$(dirname "$0")/../lib.sh"
start_fake --latency-ms 15
gen_prompts 2000 "$T/in.jsonl"
P=$T/out/preferences.jsonl
kills=0
for delay in 1.3 0.7 1.1; do
	run_caigen_bg "$T/out" "$T/in.jsonl" -q --jobs 8 >/dev/null 2>&1
	pid=$!
	sleep "$delay"
	if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
	wait "$pid" 2>/dev/null
done
before=$(lines "$P")
# a torn write, as a crash mid-line would leave it
printf '{"schema":"caigen.preference/1","id":"q0' >>"$P"
run_caigen "$T/out" "$T/in.jsonl" --jobs 8 2>"$T/stderr"
eq resume_exit $? 0
echo "resume: $kills kills, $before records before the last run"
if [ "$kills" -ge 1 ] && [ "$before" -gt 0 ] && [ "$before" -lt 2000 ]; then
	pass resume_was_interrupted
else
	fail resume_was_interrupted "kills=$kills before=$before"
fi
eq resume_count "$(lines "$P")" 2000
eq resume_distinct "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" 2000
check resume_every_line_json jq -e . "$P"
eq resume_ends_with_newline "$(tail -c 1 "$P" | od -An -c | tr -d ' ')" '\n'
check resume_repair_reported grep -q "partial last line" "$T/stderr"
check resume_manifest jq -e '.counts.records_total == 2000' \
	"$T/out/manifest.json"
# two runs on one output folder at once would duplicate work: refused
start_fake --latency-ms 200
run_caigen_bg "$T/out3" "$T/in.jsonl" -q --jobs 2 >/dev/null 2>&1
bg=$!
sleep 0.5
run_caigen "$T/out3" "$T/in.jsonl" -q 2>"$T/stderr3"
eq resume_second_run_refused $? 2
check resume_lock_message grep -q "in use by another caigen run" "$T/stderr3"
kill -9 $bg 2>/dev/null
wait $bg 2>/dev/null || true
