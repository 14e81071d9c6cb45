# pipeline_cot: chain-of-thought judging. Every label lies in the clamp
# [0.4, 0.6]; each judgment keeps its rationale and its unclamped p_a; the
# record keeps p_raw, the unclamped combination; the clamp can be set or
# turned off.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/requests.log"
gen_prompts 20 "$T/p.jsonl"
printf 'judge:\n  cot: true\n  cot_max_tokens: 64\n' >"$T/cot.yaml"
# (--no-preflight: the requests counted below are the run's own)
run_caigen "$T/out" "$T/p.jsonl" -q -c "$T/cot.yaml" --no-preflight \
	>"$T/so" 2>"$T/se"
eq cot_exit $? 0
P=$T/out/preferences.jsonl
eq cot_records "$(lines "$P")" 20
eq cot_labels_in_clamp "$(jq -c 'select(.p < 0.4 or .p > 0.6) | .id' "$P")" ""
eq cot_clamp_recorded "$(jq -c .clamp "$P" | sort -u)" "[0.4,0.6]"
# the fake judge's rule gives labels far from 0.5 for most pairs: the clamp
# did bite, and p_raw kept the value it replaced
check cot_clamp_bites [ "$(jq -c 'select(.p_raw < 0.4 or .p_raw > 0.6)' "$P" |
	wc -l)" -gt 5 ]
bad=$(jq -c 'select(
	((.p_raw - ((.judgments[0].p_a + 1 - .judgments[1].p_a) / 2)) | fabs)
	  > 1e-7
	or ((.p - ([0.4, ([0.6, .p_raw] | min)] | max)) | fabs) > 1e-7
	or ((.p >= 0.5) != (.chosen_index == 0))
	or (.judgments | map(.rationale | type) | unique) != ["string"]
	or (.judgments[0].rationale | test("^Reply A has [0-9]+ bytes") | not)
	or (.judgments | map(.method) | unique) != ["logprobs"])
	| .id' "$P")
eq cot_raw_and_rationale_stored "$bad" ""
# two calls per order: the rationale (greedy, bounded, no logprobs), then
# the letter with the rationale as the assistant's turn
# 20 policy requests (n=2), then 2 orders x 2 calls
eq cot_requests "$(grep -c chat/completions "$T/requests.log")" $((20 * 5))
eq cot_letter_requests "$(jq -c 'select((.body | objects | .logprobs) == true)' \
	"$T/requests.log" | wc -l | tr -d ' ')" 40
bad=$(jq -c 'select(.path == "/v1/chat/completions" and
	(.body.messages[1].content // "" | contains("<<<reply A")))
	| select(if .body.logprobs then
		((.body.messages | length) != 4
		 or .body.messages[2].role != "assistant"
		 or (.body.messages[2].content | startswith("Reply A has") | not))
	  else (.body.temperature != 0 or .body.max_tokens != 64
		or (.body.messages[1].content | contains("step by step") | not))
	  end) | .body.messages | length' "$T/requests.log" | head -3)
eq cot_request_shapes "$bad" ""

# an explicit clamp, and none
printf 'judge:\n  cot: true\n  clamp: [0.2, 0.8]\n' >"$T/c2.yaml"
run_caigen "$T/out2" "$T/p.jsonl" -q -c "$T/c2.yaml" >/dev/null 2>&1
eq clamp_custom "$(jq -c 'select(.p < 0.2 or .p > 0.8) | .id' \
	"$T/out2/preferences.jsonl")" ""
eq clamp_custom_recorded "$(jq -c .clamp "$T/out2/preferences.jsonl" |
	sort -u)" "[0.2,0.8]"
printf 'judge:\n  cot: true\n  clamp: off\n' >"$T/c3.yaml"
run_caigen "$T/out3" "$T/p.jsonl" -q -c "$T/c3.yaml" >/dev/null 2>&1
eq clamp_off "$(jq -c 'select(.p != .p_raw or .clamp != null) | .id' \
	"$T/out3/preferences.jsonl")" ""
# without CoT the default is no clamp
run_caigen "$T/out4" "$T/p.jsonl" -q >/dev/null 2>&1
eq clamp_default_without_cot "$(jq -c 'select(.p != .p_raw or .clamp != null
	or .judgments[0].rationale != null) | .id' "$T/out4/preferences.jsonl")" ""
printf 'judge:\n  clamp: [0.7, 0.3]\n' >"$T/bad.yaml"
"$CAIGEN" check "$T/bad.yaml" >/dev/null 2>"$T/bad.err"
eq clamp_bad_rejected $? 2
check clamp_bad_message grep -q "bad.yaml:2:10: 'clamp' low bound 0.7 is above" \
	"$T/bad.err"
