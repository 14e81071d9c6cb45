# cli_bad_input: every kind of bad input the real binary meets gets a
# message that names the file, the line and what is wrong, and loses
# nothing else: bad prompt lines go to rejects.jsonl while every good line
# around them is labelled; bad YAML stops the run before any work with
# file:line:col and the fix.
. "$(dirname "$0")/../lib.sh"
start_fake
B=$T/bad.jsonl
# line: content (the good lines hold "good-N" ids)
{
	printf '{"id":"good-1","prompt":"first good line"}\n'
	printf '{"id":"x1","prompt":"cut off\n'                   # 2 invalid JSON
	printf '{"id":"x2","prompt":42}\n'                         # 3 wrong type
	printf '{"id":"x3","text":"no prompt field"}\n'            # 4 missing field
	printf '{"id":"x4","prompt":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' a)" # 5 too long
	printf '{"id":"x5","prompt":"bad \377 byte"}\n'            # 6 invalid UTF-8
	printf '{"id":"x6","prompt":"nul \000 byte"}\n'            # 7 NUL byte
	printf '{"id":"good-2","prompt":"windows line end"}\r\n'   # 8 CRLF: fine
	printf '{"id":"good-1","prompt":"same id again"}\n'        # 9 duplicate id
	printf '[1,2,3]\n'                                         # 10 not an object
	printf '{"id":"x8","messages":[{"role":"user","content":7}]}\n' # 11
	printf '\n'                                                # 12 blank
	printf '{"id":"good-3","prompt":"last good line"}'         # 13 no final LF
} >"$B"
cat >"$T/limit.yaml" <<EOF
max_line_bytes: 2048
EOF
run_caigen "$T/out" "$B" -c "$T/limit.yaml" >"$T/stdout" 2>"$T/stderr"
eq bad_input_exit $? 0
R=$T/out/rejects.jsonl
P=$T/out/preferences.jsonl
reason() { jq -r "select(.line == $1) | .reason" "$R"; }
has() { # has NAME LINE PATTERN
	if reason "$2" | grep -q -- "$3"; then pass "$1"; else
		fail "$1" "line $2: '$(reason "$2")' lacks '$3'"; fi
}
has bad_input_invalid_json 2 "invalid JSON"
has bad_input_wrong_type 3 "'prompt' must be a string"
has bad_input_missing_field 4 "missing 'prompt' or 'messages'"
has bad_input_too_long 5 "longer than the limit of 2048 bytes"
has bad_input_utf8 6 "invalid UTF-8"
has bad_input_nul 7 "NUL byte"
has bad_input_duplicate 9 "duplicate id 'good-1'"
has bad_input_not_object 10 "not a JSON object"
has bad_input_message_type 11 "messages\[0\]"
eq bad_input_reject_count "$(lines "$R")" 9
eq bad_input_good_labelled "$(jq -r .id "$P" | sort | tr '\n' ' ')" \
	"good-1 good-2 good-3 "
eq bad_input_crlf_text "$(jq -r 'select(.id == "good-2") | .prompt' "$P")" \
	"windows line end"
eq bad_input_first_kept "$(jq -r 'select(.id == "good-1") | .prompt' "$P")" \
	"first good line"
check bad_input_summary grep -q "9 rejected" "$T/stderr"

# a BOM at the start of the file is not part of the first line
printf '\357\273\277{"id":"bom-1","prompt":"after a BOM"}\n{"id":"bom-2","prompt":"two"}\n' \
	>"$T/bom.jsonl"
run_caigen "$T/out_bom" "$T/bom.jsonl" -q 2>"$T/stderr_bom"
eq bad_input_bom_exit $? 0
eq bad_input_bom_ids "$(jq -r .id "$T/out_bom/preferences.jsonl" | tr '\n' ' ')" \
	"bom-1 bom-2 "

# an empty prompts file: nothing to do, said plainly, not an error
: >"$T/empty.jsonl"
run_caigen "$T/out_empty" "$T/empty.jsonl" 2>"$T/stderr_empty"
eq bad_input_empty_exit $? 0
check bad_input_empty_summary grep -q "0 lines read" "$T/stderr_empty"

# a missing prompts file: exit 2, names the file
run_caigen "$T/out_missing" "$T/nope.jsonl" 2>"$T/stderr_missing"
eq bad_input_missing_file_exit $? 2
check bad_input_missing_file_msg grep -q "cannot open '$T/nope.jsonl'" \
	"$T/stderr_missing"

# YAML: each error is one line "file:line:col: what", exit 2, no work done
yaml_case() { # yaml_case NAME FILE-TEXT PATTERN [flag for the file]
	_name=$1
	printf '%s\n' "$2" >"$T/$_name.yaml"
	run_caigen "$T/out_$_name" "$T/good.jsonl" ${4:--c} "$T/$_name.yaml" \
		>/dev/null 2>"$T/stderr_$_name"
	_rc=$?
	if [ "$_rc" = 2 ] && grep -q -- "$3" "$T/stderr_$_name" &&
	   [ ! -e "$T/out_$_name/preferences.jsonl" ]; then
		pass "bad_input_$_name"
	else
		fail "bad_input_$_name" "exit $_rc: $(cat "$T/stderr_$_name")"
	fi
}
printf '{"id":"g","prompt":"fine"}\n' >"$T/good.jsonl"
yaml_case config_syntax 'seed: 1
policy:
  model: m
 timeout: 3' "$T/config_syntax.yaml:[0-9]*:[0-9]*: "
yaml_case config_unknown_key 'policy:
  temprature: 0.5' "unknown key 'temprature'.*did you mean 'temperature'"
yaml_case config_wrong_type 'policy:
  concurrency: many' "config_wrong_type.yaml:2:[0-9]*: .*concurrency"
yaml_case config_stall_range 'judge:
  stall_timeout: 0.2' "stall_timeout"
yaml_case constitution_syntax 'name: x
principles:
  - id: a
    compare: [unclosed' "constitution_syntax.yaml:[0-9]*:[0-9]*: " --constitution
yaml_case constitution_unknown_key 'name: x
principles:
  - id: a
    compair: "Which is kinder?"' "unknown key 'compair'" --constitution
yaml_case constitution_wrong_type 'name: x
principles:
  - id: a
    weight: heavy
    compare: "Which is kinder?"' "constitution_wrong_type.yaml:4:[0-9]*: .*weight" \
	--constitution
yaml_case constitution_placeholder 'name: x
principles:
  - id: a
    compare: "Which is kinder?"
templates:
  compare: "{conversation} {principle} {a} and nothing else"' \
	"missing placeholder '{b}'" --constitution
