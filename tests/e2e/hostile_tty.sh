# hostile_tty: strings from data (ids, tags, principle ids, model names)
# holding terminal escapes (OSC "ESC ] 0 ; title BEL", CSI "ESC [ 2 J")
# reach the terminal escaped: audit's and eval's text reports, split's
# and merge's messages, an error message quoting a line.
. "$(dirname "$0")/../lib.sh"
ESC=$(printf '\033')
BEL=$(printf '\007')
# raw control bytes in a file: ESC, BEL or a C1 CSI (U+009B)
raw() { LC_ALL=C grep -q "$(printf '[\033\007]')\|$(printf '\302\233')" "$1"; }
start_fake
gen_prompts 4 "$T/in.jsonl"
run_caigen "$T/o" "$T/in.jsonl" -q 2>"$T/run.err"
eq tty_run $? 0
jq -c '.principle.id = "p\u001b]0;pwned\u0007" |
	.principle.tags = ["t\u001b[2J", "c1\u009b31m"] | .id = ("x\u001b[31m" + .id)' \
	"$T/o/preferences.jsonl" >"$T/evil.jsonl"
"$CAIGEN" audit "$T/evil.jsonl" >"$T/audit.txt" 2>&1
eq tty_audit_exit $? 0
check tty_audit_shows_id grep -q 'p\\x1b\]0;pwned\\x07' "$T/audit.txt"
check tty_audit_no_raw sh -c "! $(command -v grep) -q \"\$(printf '[\033\007]')\" '$T/audit.txt'"
# merge: the duplicate id is quoted
jq -c '.index += 1' "$T/evil.jsonl" >"$T/evil2.jsonl"
"$CAIGEN" merge "$T/evil.jsonl" "$T/evil2.jsonl" -o "$T/m.jsonl" --no-manifest \
	>"$T/merge.txt" 2>&1
check tty_merge_quotes_id grep -q "duplicate id 'x\\\\x1b\[31mq" "$T/merge.txt"
# split: a duplicate id in the prompts
printf '{"id":"d\\u001b]0;t\\u0007","prompt":"a"}\n{"id":"d\\u001b]0;t\\u0007","prompt":"b"}\n{"id":"e","prompt":"c"}\n' >"$T/dup.jsonl"
"$CAIGEN" split "$T/dup.jsonl" -n 2 -o "$T/split" >"$T/split.txt" 2>&1
check tty_split_quotes_id grep -q "duplicate id 'd\\\\x1b\]0;t\\\\x07'" "$T/split.txt"
# eval: an input tag, a principle id and its tags in the text report
printf '{"prompt":"q1","chosen":"a longer answer than the other one, by far","rejected":"no","subset":"s\\u001b[2J"}\n{"prompt":"q2","chosen":"x","rejected":"yy","subset":"s\\u001b[2J"}\n' >"$T/pairs.jsonl"
"$CAIGEN" eval --pairs "$T/pairs.jsonl" --out "$T/e" --judge-url "$FAKE_URL" \
	-q >"$T/eval.txt" 2>&1
eq tty_eval_exit $? 0
check tty_eval_shows_tag grep -q 's\\x1b\[2J' "$T/eval.txt"
# an error message quoting a value of a file (err_set escapes them all)
printf 'name: x\nversion: 1\nprinciples:\n  - id: "a\\e]0;pwned\\a"\n    compare: "q?"\n' >"$T/c.yaml"
"$CAIGEN" audit --constitution "$T/c.yaml" "$T/evil.jsonl" >"$T/err.txt" 2>&1
eq tty_error_exit $? 2
check tty_error_quotes_id grep -q "got 'a\\\\x1b\]0;pwned\\\\x07'" "$T/err.txt"
for f in audit merge split eval err; do
	if raw "$T/$f.txt"; then fail "tty_${f}_no_raw_escape" "raw control bytes in $f output"
	else pass "tty_${f}_no_raw_escape"; fi
done
