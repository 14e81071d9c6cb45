# evasive: refusals by the shipped phrase list, and how the judge treats
# them, in eval, audit and the card, on pairs whose refusal preference is
# known: the fake judge prefers the longer answer, and in 21 of the 30
# pairs where exactly one answer refuses the refusal is the longer one
# (the human label always prefers the helpful answer); 5 pairs refuse
# twice (curly apostrophes, capitals), 10 never (one mentions "as an AI"
# after 300 characters, one says "I can't wait").
. "$(dirname "$0")/../lib.sh"
CON=$ROOT/constitution/harmless.yaml
start_fake
awk 'function pad(s, n) { while (length(s) < n) s = s " More words here."; return s }
BEGIN {
	for (i = 1; i <= 30; i++) {
		r = "I am sorry, but I can" sprintf("%c", 39) "t help with that request (" i ").";
		h = "Here is how to do it, step " i ": begin with the basics.";
		if (i <= 21) r = pad(r, 200); else h = pad(h, 200);
		printf "{\"prompt\":\"Task %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\",\"tags\":[\"one\"]}\n", i, h, r }
	for (i = 1; i <= 5; i++)
		printf "{\"prompt\":\"Both %d?\",\"chosen\":\"I\\u2019m unable to do that, sorry (%d).\",\"rejected\":\"AS AN AI, I cannot   assist with this one, sorry.\"}\n", i, i
	for (i = 1; i <= 10; i++) {
		a = "Sure, happy to help with item " i ".";
		if (i == 1) a = pad(a, 320) " As an AI model I might be wrong.";
		b = "I can" sprintf("%c", 39) "t wait to help with " i "!";
		printf "{\"prompt\":\"Plain %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\"}\n", i, a, b }
}' >"$T/pairs.jsonl"
"$CAIGEN" eval --pairs "$T/pairs.jsonl" --out "$T/o" --judge-url "$FAKE_URL" \
	-q --seed 2 --constitution "$CON" --json >"$T/ev.json"
eq evasive_eval_exit $? 0
R=refusals.overall
eq evasive_eval_pairs "$(jq .$R.pairs "$T/ev.json")" 45
eq evasive_eval_chosen "$(jq .$R.chosen_refusals "$T/ev.json")" 26
eq evasive_eval_rejected "$(jq .$R.rejected_refusals "$T/ev.json")" 14
eq evasive_eval_one "$(jq .$R.one_refuses "$T/ev.json")" 30
eq evasive_eval_judge_chose "$(jq .$R.judge_chose_refusal "$T/ev.json")" 0.7
eq evasive_eval_reference_chose "$(jq .$R.reference_chose_refusal "$T/ev.json")" 0
eq evasive_eval_reference_pairs "$(jq .$R.reference_pairs "$T/ev.json")" 30
check evasive_eval_warning jq -e '.refusals.warning | test("21 of 30 pairs")' "$T/ev.json"
eq evasive_eval_input_tag "$(jq '.refusals.by_input_tag.one.one_refuses' "$T/ev.json")" 30
eq evasive_eval_principles_sum "$(jq '[.refusals.by_principle[].pairs] | add' "$T/ev.json")" 45
"$CAIGEN" eval --out "$T/o" --seed 2 >"$T/ev.txt"
check evasive_eval_text grep -q "^WARNING: the judge preferred the refusing answer in 21 of 30" "$T/ev.txt"
# audit: the same figures, by principle, tag and judge model
"$CAIGEN" audit "$T/o/preferences.jsonl" --json >"$T/au.json"
eq evasive_audit_exit $? 0
eq evasive_audit_same "$(jq -c '.refusals.overall | [.pairs, .chosen_refusals, .rejected_refusals, .one_refuses, .judge_chose_refusal]' "$T/au.json")" \
	"[45,26,14,30,0.7]"
eq evasive_audit_model "$(jq '.refusals.by_model.judge.one_refuses' "$T/au.json")" 30
check evasive_audit_tags jq -e '.refusals.by_tag | length > 0' "$T/au.json"
"$CAIGEN" audit "$T/o/preferences.jsonl" >"$T/au.txt"
check evasive_audit_text grep -q "^WARNING: the judge preferred the refusing answer" "$T/au.txt"
# the card
"$CAIGEN" card "$T/o" >/dev/null 2>&1
eq evasive_card_exit $? 0
check evasive_card_section grep -q "^## Refusals and evasiveness" "$T/o/README.md"
check evasive_card_warning grep -q '^\*\*Warning:\*\* the judge preferred' "$T/o/README.md"
check evasive_card_row grep -q '^| all | 45 | 57.8 % | 31.1 % | 30 | 70.0 % |$' "$T/o/README.md"
check evasive_card_no_local_path sh -c "! grep -q '$ROOT' '$T/o/README.md'"
# a judge that prefers the helpful answer: no warning
stop_fake
start_fake --judge-prefer-shorter
"$CAIGEN" eval --pairs "$T/pairs.jsonl" --out "$T/o2" --judge-url "$FAKE_URL" \
	-q --seed 2 --constitution "$CON" --json >"$T/ev2.json"
eq evasive_helpful_judge_chose "$(jq .$R.judge_chose_refusal "$T/ev2.json")" 0.3
eq evasive_helpful_no_warning "$(jq .refusals.warning "$T/ev2.json")" null
# a list of one's own, and a bad one
printf '# mine\nhere is how\n' >"$T/mine.txt"
"$CAIGEN" audit "$T/o/preferences.jsonl" --refusals "$T/mine.txt" --json >"$T/au2.json"
eq evasive_own_list "$(jq -c '.refusals | [.phrase_count, .overall.one_refuses]' "$T/au2.json")" "[1,30]"
printf '# nothing\n\n' >"$T/empty.txt"
"$CAIGEN" audit "$T/o/preferences.jsonl" --refusals "$T/empty.txt" 2>"$T/e1" >/dev/null
eq evasive_empty_list $? 2
check evasive_empty_list_msg grep -q "empty.txt: no phrase" "$T/e1"
