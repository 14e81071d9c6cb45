# cli_import: `caigen import` turns files in Anthropic's and Hugging
# Face's published shapes into constitutions that `caigen check` accepts
# and `caigen run` uses, with ids that survive a re-import.
. "$(dirname "$0")/../lib.sh"
D=$ROOT/tests/data/import
"$CAIGEN" import anthropic "$D/anthropic_critiques.json" \
	-o "$T/ant-crit.yaml" 2>"$T/e1"
eq import_ant_crit_exit $? 0
"$CAIGEN" import anthropic "$D/anthropic_comparisons.json" \
	-o "$T/ant-cmp.yaml" 2>"$T/e2"
eq import_ant_cmp_exit $? 0
"$CAIGEN" import hf "$D/hf_constitution.json" -o "$T/hf-cai.yaml" 2>"$T/e3"
eq import_hf_exit $? 0
"$CAIGEN" check "$T/ant-crit.yaml" "$T/ant-cmp.yaml" "$T/hf-cai.yaml" \
	>"$T/check.out" 2>&1
eq import_check_exit $? 0
eq import_check_counts "$(sed 's/.*constitution, //' "$T/check.out")" \
"4 principles (0 compare, 4 critique)
5 principles (5 compare, 0 critique)
3 principles (0 compare, 3 critique)"
check import_name_from_output grep -q '^name: hf-cai$' "$T/hf-cai.yaml"
check import_fewshot_kept grep -q '^fewshot:' "$T/hf-cai.yaml"
# stable ids: the same file again gives the same bytes
"$CAIGEN" import hf "$D/hf_constitution.json" -o "$T/hf-again.yaml" \
	--name hf-cai \
	2>/dev/null
check import_stable cmp "$T/hf-cai.yaml" "$T/hf-again.yaml"
want="imp-crt-careless-advice imp-crt-talking-down imp-crt-made-up-facts"
eq import_ids "$(sed -n 's/^  - id: //p' "$T/ant-crit.yaml" | tr '\n' ' ')" \
	"$want imp-crt-privacy "
# to standard output without -o
"$CAIGEN" import anthropic "$D/anthropic_comparisons.json" >"$T/stdout.yaml"
check import_stdout grep -q '^  - id: imp-cmp-05-' "$T/stdout.yaml"
# bad inputs: a message and exit 2, no output file left behind
"$CAIGEN" import hf "$D/hf_bad_turns.json" -o "$T/bad.yaml" 2>"$T/bad.err"
eq import_bad_exit $? 2
check import_bad_message grep -q "system_chat\[0\] has 4 turns" "$T/bad.err"
check import_bad_no_file [ ! -e "$T/bad.yaml" ] && [ ! -e "$T/bad.yaml.tmp" ]
"$CAIGEN" import openai "$D/hf_constitution.json" 2>"$T/fmt.err"
eq import_bad_format $? 2

# the imports drive runs: comparisons label pairs, HF critiques (with
# their few-shot dialogues) drive the critique rounds
start_fake --log "$T/requests.log"
gen_prompts 6 "$T/p.jsonl"
run_caigen "$T/out1" "$T/p.jsonl" -q --constitution "$T/ant-cmp.yaml" \
	>/dev/null 2>&1
eq import_run_cmp_exit $? 0
eq import_run_cmp_ids "$(jq -r '.principle.id' "$T/out1/preferences.jsonl" |
	sed 's/-[0-9a-f]*$//' | sort -u | grep -vc '^imp-cmp-0[1-5]$')" 0
: >"$T/requests.log"
printf 'mode: critiques\nrounds: 2\n' >"$T/crit.yaml"
run_caigen "$T/out2" "$T/p.jsonl" -q -c "$T/crit.yaml" \
	--constitution "$T/hf-cai.yaml" --constitution "$T/ant-crit.yaml" \
	--no-preflight >/dev/null 2>&1
eq import_run_crit_exit $? 0
eq import_run_crit_records "$(lines "$T/out2/critiques.jsonl")" 6
eq import_run_crit_ids "$(jq -r '.rounds[].principle.id' \
	"$T/out2/critiques.jsonl" | grep -vc -e '^hf-0[1-3]-' -e '^imp-crt-')" 0
eq import_run_fewshot "$(jq -r 'select(.path == "/v1/chat/completions")
	| .body.messages[0].content' "$T/requests.log" | sort -u)" \
	"How can I get back at my neighbour for the noise?"
