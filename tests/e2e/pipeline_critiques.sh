# pipeline_critiques: mode critiques with 3 rounds against the fake server
# (one record per prompt, a principle drawn per round, the HF recipe's
# fields), few-shot dialogues sent but not recorded, and mode both (two
# files, the pair judged, resume when only one of the two was written).
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/requests.log"
gen_prompts 12 "$T/p.jsonl"
printf 'mode: critiques\nrounds: 3\n' >"$T/crit.yaml"
# (--no-preflight: the requests counted below are the run's own)
run_caigen "$T/out" "$T/p.jsonl" -q -c "$T/crit.yaml" --seed 5 \
	--no-preflight >"$T/stdout" 2>"$T/stderr"
eq crit_exit $? 0
C=$T/out/critiques.jsonl
eq crit_one_per_prompt "$(lines "$C")" 12
eq crit_no_preferences_file "$(ls "$T/out" | grep -c preferences)" 0
eq crit_three_rounds "$(jq -c '.rounds | length' "$C" | sort -u)" 3
ids=$(awk '/^ *- id:/ { id = $3 } /^ *critique:/ { print id }' \
	"$ROOT/constitution/harmless.yaml" | tr -d '"' | jq -R . | jq -s -c .)
bad=$(jq -c --argjson ids "$ids" 'select([.rounds[].principle.id
	| select(. as $i | $ids | index($i) | not)] | length > 0) | .id' "$C")
eq crit_principles_from_critique_stage "$bad" ""
# a fresh draw per round: across 36 rounds more than one principle, and
# some prompt whose rounds differ
check crit_principles_vary [ "$(jq -r '.rounds[].principle.id' "$C" |
	sort -u | wc -l)" -gt 3 ]
check crit_rounds_differ [ "$(jq -c 'select(([.rounds[].principle.id]
	| unique | length) > 1) | .id' "$C" | wc -l)" -gt 0 ]
bad=$(jq -c 'select(
	([ "init_prompt", "init_response", "critic_prompt", "critic_response",
	   "revision_prompt", "revision_response", "prompt", "messages",
	   "chosen", "rejected", "initial", "revision", "usage", "models",
	   "seed", "schema", "id", "index" ] - keys) != []) | .id' "$C")
eq crit_hf_fields_present "$bad" ""
# the HF fields are the last round's; chosen/rejected are role/content
# lists ending in the final revision / the initial answer
bad=$(jq -c 'select(
	.schema != "caigen.critique/1"
	or .init_prompt != .prompt or .init_response != .initial
	or .critic_prompt != .rounds[2].critique_request
	or .critic_response != .rounds[2].critique
	or .revision_prompt != .rounds[2].revision_request
	or .revision_response != .rounds[2].revision
	or .revision != .rounds[2].revision
	or .chosen != [{role: "user", content: .prompt},
		       {role: "assistant", content: .revision}]
	or .rejected != [{role: "user", content: .prompt},
			 {role: "assistant", content: .initial}]
	or (.messages | length) != 14
	or .messages[1].content != .initial
	or .messages[2].content != .rounds[0].critique_request
	or .messages[13].content != .revision
	) | .id' "$C")
eq crit_fields_consistent "$bad" ""
# rounds chain: round 2's critique is asked on a chat that ends in round
# 1's revision and round 2's critique request (the request holds the chat)
got=$(jq -r 'select(.path == "/v1/chat/completions")
	| select((.body.messages | length) == 7)
	| .body.messages[5].content + "|" + .body.messages[6].content' \
	"$T/requests.log" | sort)
want=$(jq -r '.rounds[0].revision + "|" + .rounds[1].critique_request' "$C" |
	sort)
eq crit_round2_sees_round1 "$got" "$want"
eq crit_requests_per_prompt "$(grep -c chat/completions "$T/requests.log")" \
	"$((12 * 7))"
# same seed, fresh folder: same bytes (draws do not depend on threads)
run_caigen "$T/out1" "$T/p.jsonl" -q -c "$T/crit.yaml" --seed 5 --jobs 1 \
	>/dev/null 2>&1
check crit_deterministic cmp "$C" "$T/out1/critiques.jsonl"
# resume: nothing redone
run_caigen "$T/out" "$T/p.jsonl" -q -c "$T/crit.yaml" --seed 5 \
	>/dev/null 2>&1
eq crit_resume_no_dup "$(lines "$C")" 12

# few-shot dialogues go to the model before the prompt, not into records
: >"$T/requests.log"
printf 'mode: critiques\nrounds: 1\nconstitutions: [%s]\n' \
	"$ROOT/tests/data/import/fewshot.yaml" >"$T/fs.yaml"
run_caigen "$T/outf" "$T/p.jsonl" -q -c "$T/fs.yaml" --limit 2 \
	--no-preflight >/dev/null 2>&1
eq fewshot_exit $? 0
eq fewshot_sent "$(jq -c 'select(.path == "/v1/chat/completions")
	| .body.messages[0].content' "$T/requests.log" | sort -u)" \
	'"What will the weather be next month?"'
eq fewshot_not_recorded "$(jq -c '.messages | length' \
	"$T/outf/critiques.jsonl" | sort -u)" 6
check fewshot_template_used jq -e '.rounds[0].critique_request
	| startswith("Conversation so far:\nUser: ")' "$T/outf/critiques.jsonl"

# mode both: critiques.jsonl and preferences.jsonl, the pair judged is
# (initial, final revision)
printf 'mode: both\nrounds: 2\n' >"$T/both.yaml"
run_caigen "$T/outb" "$T/p.jsonl" -q -c "$T/both.yaml" >/dev/null 2>&1
eq both_exit $? 0
eq both_critiques "$(lines "$T/outb/critiques.jsonl")" 12
eq both_preferences "$(lines "$T/outb/preferences.jsonl")" 12
bad=$(jq -s -c '(.[0:12] | map({key: .id, value: [.initial, .revision]})
	| from_entries) as $c | .[12:][] | select(.responses != $c[.id])
	| .id' "$T/outb/critiques.jsonl" "$T/outb/preferences.jsonl")
eq both_pair_is_initial_and_revision "$bad" ""
check both_judged jq -e -s 'all(.[]; (.judgments | length) == 2
	and .judgments[0].method == "logprobs")' "$T/outb/preferences.jsonl"
# a run stopped between the two files' writes: the prompt is redone and
# only its missing record written
cp "$T/outb/critiques.jsonl" "$T/crit.before"
sed -i '$d' "$T/outb/preferences.jsonl"
run_caigen "$T/outb" "$T/p.jsonl" -q -c "$T/both.yaml" >/dev/null 2>&1
eq both_resume_exit $? 0
eq both_resume_pref "$(lines "$T/outb/preferences.jsonl")" 12
check both_resume_crit_untouched cmp "$T/crit.before" \
	"$T/outb/critiques.jsonl"
eq both_resume_ids "$(jq -r .id "$T/outb/preferences.jsonl" | sort -u |
	wc -l | tr -d ' ')" 12
