# pipeline_rejects: malformed lines go to rejects.jsonl with their line
# numbers, every other prompt is labelled, the counts add up, and a rerun
# does not record the rejects twice.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 40 "$T/good.jsonl"
awk 'NR == 3 { print "{\"prompt\": 42}" }
     NR == 10 { print "{not json" }
     NR == 17 { print "{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}" }
     NR == 25 { print "[1, 2]" }
     NR == 31 { print "{\"id\": \"q00001\", \"prompt\": \"duplicate id\"}" }
     { print }' "$T/good.jsonl" >"$T/in.jsonl"
run_caigen "$T/out" "$T/in.jsonl" --jobs 4 >"$T/stdout" 2>"$T/stderr"
eq rejects_exit $? 0
R=$T/out/rejects.jsonl
eq rejects_count "$(lines "$R")" 5
eq rejects_lines "$(jq -c .line "$R" | tr '\n' ' ')" "3 11 19 28 35 "
check rejects_reasons jq -e -s '
	(.[0].reason | test("prompt.*string")) and
	(.[1].reason | test("invalid JSON")) and
	(.[2].reason | test("last message")) and
	(.[3].reason | test("not a JSON object")) and
	(.[4].reason | test("duplicate id"))' "$R"
eq rejects_others_labelled "$(lines "$T/out/preferences.jsonl")" 40
check rejects_summary_adds_up grep -q \
	"45 lines read: 40 written, 0 already done, 0 failed, 5 rejected" \
	"$T/stderr"
run_caigen "$T/out" "$T/in.jsonl" --jobs 4 >"$T/stdout" 2>"$T/stderr2"
eq rejects_rerun_exit $? 0
eq rejects_not_duplicated "$(lines "$R")" 5
check rejects_rerun_summary grep -q \
	"45 lines read: 0 written, 40 already done, 0 failed, 0 rejected (+5 recorded before)" \
	"$T/stderr2"
