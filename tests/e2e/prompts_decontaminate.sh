# prompts_decontaminate: prompts sharing a 13-word run with an evaluation
# set (pairs in eval's formats, or plain prompts) are removed or tagged,
# with the matching item and the overlap; bad input is refused.
. "$(dirname "$0")/../lib.sh"
cat >"$T/ev.jsonl" <<'EOF2'
{"id":"ev1","prompt":"What is the best way to keep a sourdough starter alive while travelling for two weeks in summer?","chosen":"Feed it, then refrigerate it.","rejected":"Throw it away."}
{"id":"ev2","prompt":"Too short to count","chosen":"a","rejected":"b"}
EOF2
printf '%s\n' '{"chosen":"\n\nHuman: Could you explain in simple words why the ocean tides rise and fall twice each day near the coast?\n\nAssistant: The moon.","rejected":"\n\nHuman: Could you explain in simple words why the ocean tides rise and fall twice each day near the coast?\n\nAssistant: No."}' >"$T/hh.jsonl"
printf 'Please list three reasons the sky looks blue at noon and red at dusk\n' >"$T/ev.txt"
cat >"$T/in.jsonl" <<'EOF2'
{"id":"p1","prompt":"Hi! What is the best way to keep a sourdough starter alive while travelling for two weeks in summer? Thanks.","tags":["x"]}
{"id":"p2","prompt":"Tell me how to keep a sourdough starter alive."}
{"id":"p3","prompt":"So: please list three reasons the sky looks blue at noon and red at dusk, ok?"}
{"id":"p4","prompt":"could you explain in simple words why the ocean tides rise and fall twice each day near the coast"}
EOF2
"$CAIGEN" prompts decontaminate --against "$T/ev.jsonl" --against "$T/ev.txt" \
	--against "$T/hh.jsonl" "$T/in.jsonl" -o "$T/out.jsonl" \
	--report "$T/rep.jsonl" 2>"$T/err"
eq decon_exit $? 0
eq decon_kept "$(jq -r .id "$T/out.jsonl" | tr '\n' ' ')" "p2 "
eq decon_report_items "$(jq -r '[.id, .contamination.id] | join(":")' "$T/rep.jsonl" | sed 's/:h[0-9a-f]*$/:h/; s/:p[0-9a-f]*$/:p/' | tr '\n' ' ')" \
	"p1:ev1 p3:h p4:p "
eq decon_report_files "$(jq -r '.contamination.file | split("/") | last' "$T/rep.jsonl" | tr '\n' ' ')" \
	"ev.jsonl ev.txt hh.jsonl "
check decon_overlap jq -se '.[0].contamination | .shared_runs == 6 and .share == 0.75 and (.match | startswith("What is the best way"))' "$T/rep.jsonl"
check decon_short_item_skipped grep -q "1 items under 8 words skipped" "$T/err"
# --tag keeps every prompt, tags the flagged ones, keeps their other tags
"$CAIGEN" prompts decontaminate -q --tag --against "$T/ev.jsonl" \
	"$T/in.jsonl" >"$T/tagged.jsonl"
eq decon_tag_count "$(wc -l <"$T/tagged.jsonl" | tr -d ' ')" 4
eq decon_tag_tags "$(jq -c 'select(.id=="p1") | .tags' "$T/tagged.jsonl")" '["x","contaminated"]'
check decon_tag_untouched grep -qx '{"id":"p2","prompt":"Tell me how to keep a sourdough starter alive."}' "$T/tagged.jsonl"
# a shorter run length finds more
"$CAIGEN" prompts decontaminate -q --ngram 3 --against "$T/ev.jsonl" \
	"$T/in.jsonl" >"$T/o3"
eq decon_ngram "$(jq -r .id "$T/o3" | tr '\n' ' ')" "p3 p4 "
# bad evaluation line: file:line, exit 2, nothing written
printf '{"chosen":"a"}\n' >"$T/bad.jsonl"
"$CAIGEN" prompts decontaminate --against "$T/bad.jsonl" "$T/in.jsonl" \
	-o "$T/bad.out" 2>"$T/err"
eq decon_bad_exit $? 2
check decon_bad_position grep -q "bad.jsonl:1:" "$T/err"
check decon_bad_no_output test ! -e "$T/bad.out"
"$CAIGEN" prompts decontaminate "$T/in.jsonl" 2>/dev/null
eq decon_no_against $? 2
