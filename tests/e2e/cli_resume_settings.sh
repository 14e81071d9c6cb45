# cli_resume_settings: OUT remembers the settings that made its records;
# a rerun whose settings would change records is refused before anything
# is sent (the fake server sees no request), every difference listed,
# unless --allow-changed-settings; operational changes (concurrency,
# limit) resume as before; an eval with another judge into an OUT made by
# judge A is refused; an OUT of an older caigen (manifest only) is
# compared with its manifest.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/fake.log"
gen_prompts 6 "$T/in.jsonl"
head -3 "$T/in.jsonl" >"$T/in3.jsonl"
run_caigen "$T/o" "$T/in3.jsonl" -q --judge-model judge-a 2>/dev/null
eq settings_first_exit $? 0
check settings_file_written test -s "$T/o/settings.json"
eq settings_file_judge "$(jq -r .settings.judge.model "$T/o/settings.json")" judge-a
# an operational change: resumes, takes the new prompts
run_caigen "$T/o" "$T/in.jsonl" -q --judge-model judge-a -j 3 2>"$T/e1"
eq settings_operational_resumes $? 0
eq settings_operational_records "$(lines "$T/o/preferences.jsonl")" 6
# another judge and seed: refused, both listed, nothing sent
gen_prompts 8 "$T/in8.jsonl"
before=$(wc -l <"$T/fake.log")
run_caigen "$T/o" "$T/in8.jsonl" -q --judge-model judge-b --seed 7 2>"$T/e2"
eq settings_changed_refused $? 2
check settings_lists_judge grep -q 'judge.model: OUT has "judge-a", this run "judge-b"' "$T/e2"
check settings_lists_seed grep -q 'seed: OUT has 1, this run 7' "$T/e2"
check settings_says_how grep -q -- "--allow-changed-settings" "$T/e2"
eq settings_refused_sent_nothing "$(wc -l <"$T/fake.log")" "$before"
eq settings_refused_records_kept "$(lines "$T/o/preferences.jsonl")" 6
# a changed constitution and temperature are differences too
run_caigen "$T/o" "$T/in8.jsonl" -q --judge-model judge-a \
	--constitution udhr 2>"$T/e3"
eq settings_constitution_refused $? 2
check settings_lists_constitution grep -q 'constitutions: OUT has \["harmless@sha256' "$T/e3"
printf 'policy:\n  temperature: 0.3\n' >"$T/t.yaml"
run_caigen "$T/o" "$T/in8.jsonl" -q --judge-model judge-a -c "$T/t.yaml" 2>"$T/e4"
eq settings_temperature_refused $? 2
check settings_lists_temperature grep -q 'policy.temperature: OUT has 1.0, this run 0.3' "$T/e4"
# --dry-run plans anyway and says the run would be refused
run_caigen "$T/o" "$T/in8.jsonl" --judge-model judge-b --dry-run >/dev/null 2>"$T/e5"
eq settings_dry_run_exit $? 0
check settings_dry_run_says grep -q "note: the run would be refused" "$T/e5"
check settings_dry_run_lists grep -q 'judge.model: OUT has "judge-a", this run "judge-b"' "$T/e5"
# a server that moved (another port) serves the same model: resumes
stop_fake
start_fake --log "$T/fake.log"
run_caigen "$T/o" "$T/in.jsonl" -q --judge-model judge-a 2>"$T/e5b"
eq settings_moved_server_resumes $? 0
# asked for: adds the records, with a warning
run_caigen "$T/o" "$T/in8.jsonl" --judge-model judge-b \
	--allow-changed-settings --limit 0 2>"$T/e6" >/dev/null
eq settings_allowed_exit $? 0
check settings_allowed_warns grep -q "holds records made with other settings" "$T/e6"
eq settings_allowed_records "$(lines "$T/o/preferences.jsonl")" 8
eq settings_allowed_now_b "$(jq -r .settings.judge.model "$T/o/settings.json")" judge-b
# eval with another judge into an OUT labelled by judge A
D=$ROOT/tests/data/pairs
"$CAIGEN" eval --pairs "$D/trl.jsonl" --out "$T/ev" --judge-url "$FAKE_URL" \
	--judge-model judge-a -q >/dev/null 2>&1
eq settings_eval_a_exit $? 0
cp "$T/ev/eval.json" "$T/eval-a.json"
"$CAIGEN" eval --pairs "$D/trl.jsonl" --out "$T/ev" --judge-url "$FAKE_URL" \
	--judge-model judge-b -q >/dev/null 2>"$T/e7"
eq settings_eval_b_refused $? 2
check settings_eval_b_lists grep -q 'judge.model: OUT has "judge-a", this run "judge-b"' "$T/e7"
check settings_eval_report_kept cmp -s "$T/ev/eval.json" "$T/eval-a.json"
# a label run into an OUT of `run` records: the policy is not the same
"$CAIGEN" label --pairs "$D/trl.jsonl" --out "$T/o" --judge-url "$FAKE_URL" \
	--judge-model judge-b -q >/dev/null 2>"$T/e8"
eq settings_label_into_run_refused $? 2
check settings_label_lists_policy grep -q 'policy.model: OUT has "policy", this run "input"' "$T/e8"
# an OUT of an older caigen: no settings.json, its manifest compared
rm "$T/o/settings.json"
run_caigen "$T/o" "$T/in8.jsonl" -q --judge-model judge-c 2>"$T/e9"
eq settings_old_out_refused $? 2
check settings_old_out_lists grep -q 'judge.model: OUT has "judge-b", this run "judge-c"' "$T/e9"
# shards keep their own file
run_caigen "$T/s" "$T/in.jsonl" -q --shard 1/2 2>/dev/null
check settings_shard_file test -s "$T/s/settings.shard-00001-of-00002.json"
# prompt_field and prompt_format at their defaults are settings too: a
# rerun that sets either over mixed input (strings and message lists,
# written as lists by default) is refused, nothing sent
printf '{"id":"m1","prompt":"Say something kind."}\n{"id":"m2","messages":[{"role":"user","content":"Say something true."}]}\n' >"$T/mixed.jsonl"
run_caigen "$T/f" "$T/mixed.jsonl" -q 2>/dev/null
eq settings_format_first_exit $? 0
printf 'prompt_format: standard\n' >"$T/std.yaml"
before=$(wc -l <"$T/fake.log")
run_caigen "$T/f" "$T/mixed.jsonl" -q -c "$T/std.yaml" 2>"$T/e10"
eq settings_format_refused $? 2
check settings_lists_format grep -q 'prompt_format: OUT has "auto", this run "standard"' "$T/e10"
jq '{id, question: (.prompt // .messages)}' -c "$T/mixed.jsonl" >"$T/q.jsonl"
run_caigen "$T/f" "$T/q.jsonl" -q --prompt-field question 2>"$T/e11"
eq settings_field_refused $? 2
check settings_lists_field grep -q 'prompt_field: OUT has "prompt", this run "question"' "$T/e11"
eq settings_format_sent_nothing "$(wc -l <"$T/fake.log")" "$before"
