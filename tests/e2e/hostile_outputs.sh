# hostile_outputs: a report never replaces what it reads, and no file
# caigen writes whole goes through a planted link: `audit --html` and
# `eval --html` on an input or a record file are refused (exit 2, the
# file unchanged, nothing sent), and card, merge and the run's manifest
# write next to a planted NAME.tmp symlink without touching its target.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 6 "$T/in.jsonl"
run_caigen "$T/o" "$T/in.jsonl" -q 2>"$T/run.err"
eq out_run $? 0
cp "$T/o/preferences.jsonl" "$T/keep.jsonl"
# audit: the report on its own input, or on a record file
"$CAIGEN" audit "$T/o/preferences.jsonl" --html "$T/o/preferences.jsonl" \
	>/dev/null 2>"$T/a1"
eq out_audit_html_on_input $? 2
check out_audit_html_on_input_kept cmp -s "$T/o/preferences.jsonl" "$T/keep.jsonl"
check out_audit_html_on_input_msg grep -q "both an input and the report" "$T/a1"
"$CAIGEN" audit "$T/o/preferences.jsonl" --html "$T/o/failures.jsonl" \
	>/dev/null 2>"$T/a2"
eq out_audit_html_on_record $? 2
check out_audit_html_on_record_msg grep -q "looks like a data or settings file" "$T/a2"
"$CAIGEN" audit "$T/o/preferences.jsonl" --html "$T/o/manifest.json" \
	>/dev/null 2>&1
eq out_audit_html_on_manifest $? 2
"$CAIGEN" audit "$T/o/preferences.jsonl" --html "$T/r.html" >/dev/null 2>&1
eq out_audit_html_ok $? 0
# eval: refused before any request (a closed port: preflight would fail
# with its own message if it got that far)
printf '{"prompt":"q","chosen":"a","rejected":"b"}\n' >"$T/pairs.txt"
cp "$T/pairs.txt" "$T/pairs.keep"
"$CAIGEN" eval --pairs "$T/pairs.txt" --out "$T/o" --judge-url \
	http://127.0.0.1:9/v1 --html "$T/o/preferences.jsonl" 2>"$T/e1"
eq out_eval_html_on_record $? 2
check out_eval_html_on_record_kept cmp -s "$T/o/preferences.jsonl" "$T/keep.jsonl"
check out_eval_html_on_record_msg grep -q "looks like a data or settings file" "$T/e1"
"$CAIGEN" eval --pairs "$T/pairs.txt" --out "$T/o" --judge-url \
	http://127.0.0.1:9/v1 --html "$T/pairs.txt" 2>"$T/e2"
eq out_eval_html_on_pairs $? 2
check out_eval_html_on_pairs_kept cmp -s "$T/pairs.txt" "$T/pairs.keep"
check out_eval_html_on_pairs_msg grep -q "both an input and the report" "$T/e2"
# planted symlinks: the target outside OUT stays as it was
echo precious >"$T/victim"
ln -s "$T/victim" "$T/o/README.md.tmp"
"$CAIGEN" card "$T/o" >/dev/null 2>"$T/c.err"
eq out_card_symlink_exit $? 0
eq out_card_symlink_victim "$(cat "$T/victim")" precious
check out_card_symlink_card grep -q "written by caigen card" "$T/o/README.md"
check out_card_symlink_left test -L "$T/o/README.md.tmp"
ln -s "$T/victim" "$T/m.jsonl.tmp"
ln -s "$T/victim" "$T/manifest.json.tmp"
"$CAIGEN" merge -q "$T/o/preferences.jsonl" -o "$T/m.jsonl" 2>"$T/m.err"
eq out_merge_symlink_exit $? 0
eq out_merge_symlink_victim "$(cat "$T/victim")" precious
check out_merge_symlink_out cmp -s "$T/m.jsonl" "$T/keep.jsonl"
check out_merge_symlink_manifest grep -q '"merge"' "$T/manifest.json"
ln -s "$T/victim" "$T/o/manifest.json.tmp"
echo '{"id":"extra","prompt":"one more"}' >>"$T/in.jsonl"
run_caigen "$T/o" "$T/in.jsonl" -q 2>>"$T/run.err"
eq out_run_symlink_exit $? 0
eq out_run_symlink_victim "$(cat "$T/victim")" precious
check out_run_symlink_manifest grep -q '"written": 1' "$T/o/manifest.json"
