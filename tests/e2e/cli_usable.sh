# cli_usable: a run that reads lines but has nothing usable exits 2 with
# one sentence (the most common reason, the keys seen, the rejects file,
# what to try), on the first run and on a resume; --prompt-field and
# prompt_field name the key; gzip-compressed input (file or stdin) gives
# the same records as the plain file; label with no usable pair exits 2.
. "$(dirname "$0")/../lib.sh"
start_fake
awk 'BEGIN { for (i = 1; i <= 6; i++)
	printf "{\"question\":\"How would you explain topic %d?\",\"answer\":\"x\"}\n", i }' \
	>"$T/q.jsonl"
run_caigen "$T/o1" "$T/q.jsonl" -q 2>"$T/e1"
eq usable_none_exit $? 2
eq usable_none_sentence "$(cat "$T/e1")" "caigen: 0 usable prompts: 6 lines rejected, all for \"missing 'prompt' or 'messages'\" (6; keys seen: question, answer); see $T/o1/rejects.jsonl; try --prompt-field question"
run_caigen "$T/o1" "$T/q.jsonl" -q 2>"$T/e2"
eq usable_none_resume_exit $? 2
check usable_none_resume_says grep -q "0 usable prompts: 6 lines" "$T/e2"
# a mix of reasons: the most common is named, with its count
printf '{"prompt": 1}\nnot json\n{bad\n' >"$T/mix.jsonl"
run_caigen "$T/o2" "$T/mix.jsonl" -q 2>"$T/e3"
eq usable_mix_exit $? 2
check usable_mix_most grep -q 'most for "invalid JSON" (2)' "$T/e3"
# the key named: every line is a prompt
run_caigen "$T/o3" "$T/q.jsonl" -q --prompt-field question 2>"$T/e4"
eq prompt_field_flag_exit $? 0
eq prompt_field_flag_records "$(lines "$T/o3/preferences.jsonl")" 6
eq prompt_field_text "$(jq -r .prompt "$T/o3/preferences.jsonl" | head -1)" \
	"How would you explain topic 1?"
printf 'prompt_field: question\n' >"$T/pf.yaml"
run_caigen "$T/o4" "$T/q.jsonl" -q -c "$T/pf.yaml" 2>"$T/e5"
eq prompt_field_yaml_exit $? 0
check prompt_field_same_records cmp -s "$T/o3/preferences.jsonl" \
	"$T/o4/preferences.jsonl"
eq prompt_field_in_manifest "$(jq -r .config.prompt_field "$T/o4/manifest.json")" question
# gzip: the same records as the plain file, from a file and from stdin
gen_prompts 20 "$T/p.jsonl"
gzip -c "$T/p.jsonl" >"$T/p.jsonl.gz"
run_caigen "$T/g0" "$T/p.jsonl" -q 2>/dev/null
run_caigen "$T/g1" "$T/p.jsonl.gz" -q 2>"$T/e6"
eq gzip_file_exit $? 0
check gzip_file_same cmp -s "$T/g0/preferences.jsonl" "$T/g1/preferences.jsonl"
run_caigen "$T/g2" - -q <"$T/p.jsonl.gz" 2>"$T/e7"
eq gzip_stdin_exit $? 0
check gzip_stdin_same cmp -s "$T/g0/preferences.jsonl" "$T/g2/preferences.jsonl"
# two concatenated members read as one stream
head -10 "$T/p.jsonl" | gzip -c >"$T/two.gz"
tail -n +11 "$T/p.jsonl" | gzip -c >>"$T/two.gz"
run_caigen "$T/g3" "$T/two.gz" -q 2>/dev/null
check gzip_members_same cmp -s "$T/g0/preferences.jsonl" "$T/g3/preferences.jsonl"
# the progress total counts the inflated lines
run_caigen "$T/g4" "$T/p.jsonl.gz" --limit 0 2>"$T/e8" >/dev/null
check gzip_progress_total grep -q "/20" "$T/e8"
# a file cut short is an error, not a quiet end
head -c 100 "$T/p.jsonl.gz" >"$T/cut.gz"
run_caigen "$T/g5" "$T/cut.gz" -q 2>"$T/e9"
check gzip_cut_not_ok test "$?" != 0
check gzip_cut_says grep -q "gzip stream is cut short" "$T/e9"
# label: pairs with nothing usable
printf '{"foo": 1}\n{"bar": 2}\n' >"$T/pairs.jsonl"
"$CAIGEN" label --pairs "$T/pairs.jsonl" --out "$T/l1" \
	--judge-url "$FAKE_URL" -q 2>"$T/e10"
eq usable_label_exit $? 2
check usable_label_says grep -q "0 usable pairs: 2 lines rejected" "$T/e10"
