# pipeline_n_fallback: a server that refuses n=2 (older llama.cpp) gets two
# calls per prompt instead, with a warning, and the output is complete.
. "$(dirname "$0")/../lib.sh"
start_fake --no-n --log "$T/requests.log"
gen_prompts 25 "$T/in.jsonl"
run_caigen "$T/out" "$T/in.jsonl" --jobs 4 >"$T/stdout" 2>"$T/stderr"
eq fallback_exit $? 0
eq fallback_records "$(lines "$T/out/preferences.jsonl")" 25
check fallback_warned grep -q "two calls per prompt" "$T/stderr"
eq fallback_two_answers_differ "$(jq -c 'select(.responses[0] == .responses[1]) | .id' \
	"$T/out/preferences.jsonl" | wc -l | tr -d ' ')" 0
# same output with --jobs 1 (the switch is deterministic per prompt)
run_caigen "$T/out1" "$T/in.jsonl" --jobs 1 -q
check fallback_deterministic cmp -s "$T/out/preferences.jsonl" \
	"$T/out1/preferences.jsonl"
