# rank_panel: a panel of three judges (judge as a list). Two follow the
# fake server's documented rule with --judge-prefer-shorter; the third,
# on a server of its own, gets --judge-bias-a 8 as well: it is built to
# favour slot A. The combined labels (mean, median, majority) must keep
# the two members' decisions, every member's judgments must be in the
# record, the audit must show the third member's position bias and the
# members' agreement, the biased member's server must get exactly its
# share of the requests, the dry run must price each member, and eval
# must score each member against the human labels.
. "$(dirname "$0")/../lib.sh"
start_fake --judge-prefer-shorter --log "$T/biased.log" --judge-bias-a 8
BIASED=$FAKE_URL
start_fake --judge-prefer-shorter
gen_prompts 12 "$T/in.jsonl"
panel() {	# FILE RULE
	printf 'responses: 4\npanel: %s\njudge:\n' "$2" >"$1"
	printf '  - model: judge-a\n  - model: judge-b\n' >>"$1"
	printf '    base_url: %s\n' "$FAKE_URL" >>"$1"
	printf '  - model: judge-slot-a\n    base_url: %s\n' "$BIASED" >>"$1"
}
panel "$T/mean.yaml" mean
run_caigen "$T/j1" "$T/in.jsonl" -q --config "$T/mean.yaml" --jobs 1
eq panel_jobs1_exit $? 0
run_caigen "$T/j16" "$T/in.jsonl" -q --config "$T/mean.yaml" --jobs 16
eq panel_jobs16_exit $? 0
R=$T/j16/preferences.jsonl
eq panel_records "$(lines "$R")" 12
check panel_jobs1_equals_jobs16 cmp -s "$T/j1/preferences.jsonl" "$R"
# a member with one place in flight (fewer than the event loops would be
# otherwise): the same bytes, no stall
{ printf 'loops: 2\n'; cat "$T/mean.yaml"
  printf '    concurrency: 1\n'; } >"$T/c1.yaml"
run_caigen "$T/c1" "$T/in.jsonl" -q --config "$T/c1.yaml"
eq panel_member_concurrency_1_exit $? 0
check panel_member_concurrency_1_same cmp -s "$T/c1/preferences.jsonl" "$R"
eq panel_models "$(jq -c .models.panel "$R" | sort -u)" \
	'["judge-a","judge-b","judge-slot-a"]'
eq panel_every_member_judged "$(jq -r '
	if all(.comparisons[]; [.panel[].member] == [0, 1, 2] and
	       all(.panel[]; (.judgments | length) == 2))
	then "ok" else .id end' "$R" | sort -u)" ok
# the built-in bias: the third member puts slot A first in every order
eq panel_member_favours_slot_a "$(jq -r '
	[.comparisons[].panel[2].judgments[].p_a > 0.5] | all' "$R" |
	sort -u)" true
eq panel_others_do_not "$(jq -r '
	[.comparisons[].panel[0].judgments[].p_a > 0.5] | any' "$R" |
	sort -u)" true
# the combined label is the rule's, and on the side of members 0 and 1
side='def side: if . > 0.5 then 1 elif . < 0.5 then -1 else 0 end;'
check_rule() {	# NAME FILE JQ-EXPR-OF-[p]
	eq "panel_${1}_rule" "$(jq -r "[.comparisons[] | ([.panel[].p] |
		$3) - .p | fabs] | max | if . < 1e-7 then \"ok\" else . end" \
		"$2" | sort -u)" ok
	eq "panel_${1}_keeps_decisions" "$(jq -r "$side
		[.comparisons[] | select((.panel[0].p | side) ==
		 (.panel[1].p | side)) | (.p | side) == (.panel[0].p | side)]
		| all" "$2" | sort -u)" true
	eq "panel_${1}_chosen_shortest" "$(jq -r '[.responses[] | length]
		as $L | (.chosen | length) == ($L | min) and
		(.rejected | length) == ($L | max)' "$2" | sort -u)" true
}
check_rule mean "$R" 'add / length'
panel "$T/median.yaml" median
run_caigen "$T/med" "$T/in.jsonl" -q --config "$T/median.yaml" --jobs 4
check_rule median "$T/med/preferences.jsonl" 'sort | .[1]'
panel "$T/majority.yaml" majority
run_caigen "$T/maj" "$T/in.jsonl" -q --config "$T/majority.yaml" --jobs 4
check_rule majority "$T/maj/preferences.jsonl" \
	'map(if . > 0.5 then 1 elif . == 0.5 then 0.5 else 0 end) | add / 3'

# the biased member's own server got its share of the judging: 6 pairs,
# 2 orders, 12 prompts, in each of the 5 runs above; and, before each
# run, the start-up probe of that member (GET /models, one small POST)
eq panel_member_endpoint_requests "$(jq -s 'map(select(.path |
	test("chat")) | select(.body.messages | tostring |
	test("<<<reply A \\["))) | length' "$T/biased.log")" \
	$((12 * 6 * 2 * 5))
eq panel_member_endpoint_probed "$(jq -s 'map(select(.method == "GET" and
	(.path | test("models")))) | length' "$T/biased.log")" 5

# the audit: position bias per member, agreement between them
"$CAIGEN" audit --json "$R" >"$T/audit.json"
eq panel_audit_exit $? 0
eq panel_audit_biased_member "$(jq '.models[] |
	select(.model == "judge-slot-a") | .labels.position_bias_a' \
	"$T/audit.json")" 1
eq panel_audit_sound_member "$(jq '.models[] | select(.model ==
	"judge-a") | .labels.position_bias' "$T/audit.json")" 0
eq panel_audit_agreement "$(jq -c '[.panel.comparisons,
	(.panel.members | length), (.panel.pairs | length),
	(.panel.pairs[] | select(.model_a == "judge-a" and
	 .model_b == "judge-b") | .agreement)]' "$T/audit.json")" \
	'[72,3,3,1]'
"$CAIGEN" audit "$R" >"$T/audit.txt"
check panel_audit_text grep -q "judge panel: 72 comparisons" "$T/audit.txt"

# the dry run: one row per member with its requests and cost
panel "$T/priced.yaml" mean
cat >>"$T/priced.yaml" <<EOF
prices:
  policy: {input: 1, output: 2}
  judge-a: {input: 1, output: 1}
  judge-b: {input: 2, output: 2}
  judge-slot-a: {input: 3, output: 3}
EOF
"$CAIGEN" run --config "$T/priced.yaml" --prompts "$T/in.jsonl" \
	--out "$T/dry" --dry-run --dry-run-count 0 >"$T/plan" 2>&1
eq panel_dryrun_exit $? 0
eq panel_dryrun_rows "$(grep -cE "^  judge[12]? .*: 144 requests, .*\\\$[0-9]" \
	"$T/plan")" 3
check panel_dryrun_per_prompt grep -q "3 judges: 36 judge requests per prompt" \
	"$T/plan"
# member 2's cost is 3 times member 0's (same requests, 3x the price)
eq panel_dryrun_member_prices "$(awk '/^  judge /{a=$NF} /^  judge2 /{c=$NF}
	END { gsub(/\$/, "", a); gsub(/\$/, "", c);
	      print (c / a > 2.9 && c / a < 3.1) ? "ok" : a " " c }' \
	"$T/plan")" ok

# eval with the panel: each member against the human labels. Humans chose
# the longer reply in 7 of 10 pairs; the members prefer the shorter.
awk 'BEGIN { for (i = 1; i <= 40; i++) {
	s = "Short answer " i "."; l = s;
	for (k = 0; k < 2 + i % 3; k++) l = l " With more detail, part " k ".";
	c = (i % 10 < 7) ? l : s; r = (i % 10 < 7) ? s : l;
	printf "{\"prompt\":\"Question %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\"}\n", i, c, r } }' \
	>"$T/pairs.jsonl"
panel "$T/eval.yaml" median
"$CAIGEN" eval --pairs "$T/pairs.jsonl" --out "$T/ev" --config "$T/eval.yaml" \
	--judge-url "$FAKE_URL" -q --json >"$T/ev.json"
eq panel_eval_exit $? 0
eq panel_eval_members "$(jq -c '[.panel.members[] | [.model,
	.agreement_hard]]' "$T/ev.json")" \
	'[["judge-a",0.3],["judge-b",0.3],["judge-slot-a",0.3]]'
eq panel_eval_overall "$(jq .overall.agreement_hard.value "$T/ev.json")" 0.3

# the reports and records validate against their schemas
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail panel_schema_deps "python3-jsonschema could not be installed"
	exit 1
}
python3 - "$ROOT/schemas" "$R" "$T/audit.json" "$T/ev.json" \
	"$T/ev/preferences.jsonl" <<'PY'
import json, sys
import jsonschema
S = sys.argv[1]
def check(name, schema, path, lines):
    v = jsonschema.Draft202012Validator(json.load(open(S + "/" + schema)))
    text = open(path).read()
    docs = [json.loads(l) for l in text.splitlines() if l.strip()] \
        if lines else [json.loads(text)]
    e = [x.message[:160] for d in docs for x in v.iter_errors(d)]
    ok = docs and not e
    print("PASS %s" % name if ok else "FAIL %s: %s" % (name, e[:2]))
check("panel_schema_records", "preference-2.schema.json", sys.argv[2], 1)
check("panel_schema_audit", "audit.schema.json", sys.argv[3], 0)
check("panel_schema_eval", "eval.schema.json", sys.argv[4], 0)
check("panel_schema_eval_records", "preference-2.schema.json",
      sys.argv[5], 1)
PY
