# pipeline_records: the sample prompts end to end against the fake server;
# every record is complete and its label is what the fake judge's
# documented rule gives: p = sigmoid((bytes(r0) - bytes(r1)) / 50).
. "$(dirname "$0")/../lib.sh"
start_fake
run_caigen "$T/out" "$ROOT/datasets/sample/prompts.jsonl" -q --seed 3 \
	>"$T/stdout" 2>"$T/stderr"
eq records_exit $? 0
P=$T/out/preferences.jsonl
n_in=$(lines "$ROOT/datasets/sample/prompts.jsonl")
eq records_one_per_prompt "$(lines "$P")" "$n_in"
eq records_distinct_ids "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" "$n_in"
ids=$(sed -n 's/^ *- id: *//p' "$ROOT/constitution/harmless.yaml" | tr -d '"' |
	jq -R . | jq -s -c .)
bad=$(jq -c --argjson ids "$ids" 'select(
	(.prompt == null) or (.chosen == null) or (.rejected == null)
	or (.p < 0) or (.p > 1)
	or ((.principle.id as $i | $ids | index($i)) == null)
	or ((.judgments | map(.order)) != ["AB", "BA"])
	or (.schema != "caigen.preference/1")
	or (.responses[.chosen_index] != (if (.chosen | type) == "string"
		then .chosen else .chosen[0].content end))
	or ((.p >= 0.5) != (.chosen_index == 0))
	or (.margin - ((.p - 0.5) | fabs) | fabs) > 1e-7
	) | .id' "$P" | head -5)
eq records_fields_complete "$bad" ""
# the fake judge's rule, recomputed here independently
bad=$(jq -c '
	def sig(x): 1 / (1 + ((-x) | exp));
	((.responses[0] | utf8bytelength) - (.responses[1] | utf8bytelength))
	  as $d
	| select(((.p - sig($d / 50)) | fabs) > 1e-6
	   or ((.judgments[0].p_a - sig($d / 50)) | fabs) > 1e-6
	   or ((.judgments[1].p_a - sig(-$d / 50)) | fabs) > 1e-6
	   or ((.judgments[0].other_mass - 0.01) | fabs) > 1e-6)
	| [.id, .p, $d]' "$P" | head -5)
eq records_label_matches_judge_rule "$bad" ""
# conversational prompts stay conversational for TRL
eq records_messages_prompts "$(jq -c 'select((.prompt | type) == "array")
	| [(.chosen | type), .chosen[0].role]' "$P" | sort -u)" '["array","assistant"]'
check records_manifest jq -e '.counts.written == '"$n_in"' and
	(.constitutions[0] | test("^harmless@sha256:[0-9a-f]{64}$"))' \
	"$T/out/manifest.json"
eq records_no_failures "$(lines "$T/out/failures.jsonl")" 0
