# prompts_dedup: `caigen prompts dedup` keeps the first of each cluster,
# copies kept lines unchanged, reports every removed prompt with its kept
# one, is deterministic, and refuses bad input with file:line.
. "$(dirname "$0")/../lib.sh"
cat >"$T/in.jsonl" <<'EOF2'
{"id":"a","prompt":"How would I plan a quiet weekend trip to the mountains with my family?","tags":["x"]}
{"id":"b","prompt":"how would i plan a QUIET weekend trip to the mountains, with my family"}
{"id":"c","prompt":"Write a short poem about rain falling on an old tin roof at night."}
{"id":"d","prompt":"How would I plan a quiet weekend trip to the mountains with my whole family?"}
{"id":"e","messages":[{"role":"user","content":"Write a short poem about rain falling on an old tin roof at night!"}]}
{"id":"f","prompt":"Explain how a bicycle gear system works to a ten year old."}
EOF2
"$CAIGEN" prompts dedup "$T/in.jsonl" -o "$T/out.jsonl" \
	--report "$T/rep.jsonl" --clusters "$T/cl.jsonl" 2>"$T/err"
eq dedup_exit $? 0
eq dedup_kept "$(jq -r .id "$T/out.jsonl" | tr '\n' ' ')" "a c f "
check dedup_lines_verbatim grep -qx '{"id":"a","prompt":"How would I plan a quiet weekend trip to the mountains with my family?","tags":\["x"\]}' "$T/out.jsonl"
eq dedup_report "$(jq -r '[.id,.kind,.kept_id,.kept_line]|join(",")' "$T/rep.jsonl" | tr '\n' ' ')" \
	"b,exact,a,1 d,near,a,1 e,exact,c,3 "
check dedup_jaccard_near jq -se '.[] | select(.id=="d") | .jaccard >= 0.7 and .jaccard < 1' "$T/rep.jsonl"
eq dedup_clusters "$(jq -c '[.kept_id,.size,[.removed[].id]]' "$T/cl.jsonl" | tr '\n' ' ')" \
	'["a",3,["b","d"]] ["c",2,["e"]] '
check dedup_summary grep -q "6 prompts read, 3 kept, 2 exact and 1 near" "$T/err"
# a stricter threshold keeps d; exact-only too
"$CAIGEN" prompts dedup -q --threshold 0.99 "$T/in.jsonl" >"$T/o2"
eq dedup_threshold "$(jq -r .id "$T/o2" | tr '\n' ' ')" "a c d f "
"$CAIGEN" prompts dedup -q --exact "$T/in.jsonl" >"$T/o3"
eq dedup_exact_only "$(jq -r .id "$T/o3" | tr '\n' ' ')" "a c d f "
# deterministic, and the same through stdin
"$CAIGEN" prompts dedup -q - <"$T/in.jsonl" >"$T/o4"
check dedup_stdin_same cmp -s "$T/o4" "$T/out.jsonl"
# text files; a reference file is compared with but not written
printf 'Write a short poem about rain falling on an old tin roof at night\nsomething new entirely here\n' >"$T/in.txt"
"$CAIGEN" prompts dedup -q --reference "$T/in.jsonl" "$T/in.txt" >"$T/o5"
eq dedup_reference "$(cat "$T/o5")" "something new entirely here"
# bad input: file:line, exit 2, no output file
printf '{"id":"a","prompt":"one"}\n{"id":"b","prompt":\n' >"$T/bad.jsonl"
"$CAIGEN" prompts dedup "$T/bad.jsonl" -o "$T/bad.out" 2>"$T/err"
eq dedup_bad_exit $? 2
check dedup_bad_position grep -q "bad.jsonl:2: invalid JSON" "$T/err"
check dedup_bad_no_output test ! -e "$T/bad.out" -a ! -e "$T/bad.out.tmp"
"$CAIGEN" prompts dedup --bands 64 "$T/in.jsonl" 2>"$T/err" >/dev/null
eq dedup_bad_params $? 2
check dedup_bad_params_msg grep -q "more than --perms" "$T/err"
# two inputs holding one id for different prompts (two generate runs
# number their prompts alike): the output would hold the id twice and a
# run would reject the second, so it is bad input, nothing written
printf '{"id":"g-1","prompt":"How are clouds formed over the sea?"}\n' >"$T/id1.jsonl"
printf '{"id":"g-1","prompt":"Why do cats purr when they are happy?"}\n' >"$T/id2.jsonl"
"$CAIGEN" prompts dedup -q "$T/id1.jsonl" "$T/id2.jsonl" -o "$T/id.out" 2>"$T/err"
eq dedup_dup_id_exit $? 2
check dedup_dup_id_position grep -q "id2.jsonl:1: duplicate id 'g-1'" "$T/err"
check dedup_dup_id_no_output test ! -e "$T/id.out" -a ! -e "$T/id.out.tmp"
# the same id on an exact duplicate is removed with it; a reference's
# ids are never written
"$CAIGEN" prompts dedup -q "$T/id1.jsonl" "$T/id1.jsonl" -o "$T/id.out" 2>"$T/err"
eq dedup_dup_id_of_removed $? 0
"$CAIGEN" prompts dedup -q --reference "$T/id1.jsonl" "$T/id2.jsonl" -o "$T/id.out" 2>"$T/err"
eq dedup_dup_id_of_reference $? 0
"$CAIGEN" prompts nonsense 2>/dev/null
eq prompts_unknown_sub $? 2
# the shipped category and technique files pass `caigen check`; a broken
# one is refused with file:line:col
check catalog_check_shipped "$CAIGEN" check "$ROOT/prompts/categories.yaml" \
	"$ROOT/prompts/techniques.yaml"
printf 'name: t\ntechniques:\n  - id: a\n    title: A\n    defintion: d\n    example: e\n' >"$T/bad.yaml"
"$CAIGEN" check "$T/bad.yaml" >/dev/null 2>"$T/err"
eq catalog_check_bad_exit $? 2
check catalog_check_bad_position grep -q "bad.yaml:5:5: unknown key 'defintion'" "$T/err"
