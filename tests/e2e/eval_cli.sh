# eval_cli: usage errors of label and eval (exit 2, nothing sent), help.
. "$(dirname "$0")/../lib.sh"
printf '{"prompt":"q","chosen":"a","rejected":"b"}\n' >"$T/in.jsonl"
"$CAIGEN" label --out "$T/o" --judge-url http://127.0.0.1:9/v1 2>"$T/e1"
eq cli_label_needs_pairs $? 2
check cli_label_needs_pairs_msg grep -q "label needs --pairs FILE" "$T/e1"
"$CAIGEN" eval --pairs "$T/in.jsonl" --format nope 2>"$T/e2"
eq cli_eval_bad_format $? 2
check cli_eval_bad_format_msg grep -q "unknown --format 'nope'" "$T/e2"
"$CAIGEN" run --pairs "$T/in.jsonl" 2>"$T/e3"
eq cli_run_no_pairs $? 2
check cli_run_no_pairs_msg grep -q "not an option of 'caigen run'" "$T/e3"
"$CAIGEN" label --pairs "$T/in.jsonl" --json 2>"$T/e4"
eq cli_label_no_json $? 2
# (issue 21: label and eval have a dry run; it sends and writes nothing)
"$CAIGEN" label --pairs "$T/in.jsonl" --out "$T/o5" --dry-run >"$T/o5.txt" 2>"$T/e5"
eq cli_label_dry_run $? 0
check cli_label_dry_run_plan grep -q "^plan: 1 pairs to do" "$T/o5.txt"
check cli_label_dry_run_nothing_written test ! -e "$T/o5"
printf 'mode: critiques\n' >"$T/c.yaml"
"$CAIGEN" label -c "$T/c.yaml" --pairs "$T/in.jsonl" 2>"$T/e6"
eq cli_label_mode $? 2
check cli_label_mode_msg grep -q "mode must be preferences" "$T/e6"
# the judge endpoint is probed (closed port: exit 2, no output folder)
"$CAIGEN" label --pairs "$T/in.jsonl" --out "$T/o" \
	--judge-url http://127.0.0.1:9/v1 2>"$T/e7"
eq cli_label_probe $? 2
check cli_label_probe_nothing_written test ! -e "$T/o/preferences.jsonl"
check cli_label_probe_names_judge grep -q "^caigen: judge endpoint .*judge.base_url" \
	"$T/e7"
"$CAIGEN" label --pairs "$T/missing.jsonl" --out "$T/o" --no-preflight \
	--judge-url http://127.0.0.1:9/v1 2>"$T/e8"
eq cli_label_missing_file $? 2
check cli_label_missing_file_msg grep -q "cannot open '$T/missing.jsonl'" \
	"$T/e8"
"$CAIGEN" eval --help >"$T/h"
eq cli_eval_help $? 0
check cli_eval_help_html grep -q -- "--html FILE" "$T/h"
check cli_help_lists "$CAIGEN" --help
"$CAIGEN" --help | grep -q "^  label " && "$CAIGEN" --help | grep -q "^  eval "
eq cli_help_lists_label_eval $? 0
