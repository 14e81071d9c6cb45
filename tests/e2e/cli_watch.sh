# cli_watch: what a user watches. The progress line names its fields,
# honours --limit, counts a resume's earlier prompts in its total, says
# so when the total is unknown (stdin), says "cost unknown" in words and
# shows no ETA once done. The summary lists failures by kind with the fix
# and where to look; its token lines add up; label leaves out the policy;
# a panel's members get request lines of their own. `status --split`
# shows every shard's `left` before any task has run.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 30 "$T/p.jsonl"
# the progress lines of a stderr file
prog() { grep '^progress: ' "$1"; }
last() { grep '^progress: ' "$1" | tail -n 1; }

# -- --limit, resume, labels, no ETA at the end ------------------------
run_caigen "$T/o1" "$T/p.jsonl" --limit 10 >/dev/null 2>"$T/e1"
eq watch_limit_exit $? 0
check watch_limit_total grep -q '^progress: prompts 10/10 (100.0%)' "$T/e1"
check watch_fields_named grep -Eq '^progress: prompts [0-9]+/[0-9]+ \([0-9.]+%\), finished in [0-9]+s: written [0-9]+, failed [0-9]+, rejected [0-9]+; [0-9.]+ prompts/s; tokens [0-9.]+k? in, [0-9.]+k? out$' "$T/e1"
eq watch_no_eta_when_done "$(last "$T/e1" | grep -ci 'eta')" 0
run_caigen "$T/o1" "$T/p.jsonl" >/dev/null 2>"$T/e2"
eq watch_resume_exit $? 0
check watch_resume_total grep -q \
	'^progress: prompts 30/30 (100.0%, 10 done before), finished in .*: written 20,' \
	"$T/e2"

# -- slow runs: lines while it runs ------------------------------------
stop_fake
start_fake --latency-ms 100
run_caigen "$T/o3" "$T/p.jsonl" --limit 6 --jobs 1 --progress-interval 1 \
	>/dev/null 2>"$T/e3"
eq watch_slow_exit $? 0
check watch_running_lines test "$(prog "$T/e3" | wc -l)" -ge 2
check watch_running_lines_have_eta sh -c "grep '^progress: ' '$T/e3' |
	head -n -1 | grep -q '/6 (.*), ETA [0-9]'"
check watch_running_limit_total sh -c "! grep '^progress: ' '$T/e3' |
	grep -v 'prompts [0-9]*/6 '"
eq watch_slow_no_eta_when_done "$(last "$T/e3" | grep -ci 'eta')" 0
# stdin: no total until the end, and it says why
"$CAIGEN" run --prompts - --out "$T/o4" --policy-url "$FAKE_URL" \
	--judge-url "$FAKE_URL" --jobs 1 --progress-interval 1 \
	<"$T/p.jsonl" >/dev/null 2>"$T/e4" &
p4=$!
sleep 3.5
kill -TERM $p4
wait $p4
check watch_stdin_lines test "$(prog "$T/e4" | wc -l)" -ge 2
check watch_stdin_total_unknown sh -c "grep '^progress: ' '$T/e4' | head -n 1 |
	grep -q '^progress: prompts [0-9]* (total unknown: the input is not a file): '"
eq watch_stdin_no_made_up_total "$(prog "$T/e4" | grep -c '/0 ')" 0
eq watch_stdin_no_eta "$(prog "$T/e4" | grep -ci 'eta')" 0
stop_fake

# -- cost unknown in words ---------------------------------------------
start_fake
printf 'prices:\n  policy: {input: 1, output: 2}\n' >"$T/price.yaml"
run_caigen "$T/o5" "$T/p.jsonl" --limit 4 -c "$T/price.yaml" \
	>/dev/null 2>"$T/e5"
check watch_cost_unknown_words grep -Eq \
	'^progress: .*; cost \$[0-9.]+ \+ unknown for judge \(no price\)' "$T/e5"
eq watch_cost_no_question_mark "$(prog "$T/e5" | grep -c '\$?')" 0

# -- failures by kind, with the fix ------------------------------------
printf 'policy: {max_tokens: 8, truncated: fail}\n' >"$T/cut.yaml"
run_caigen "$T/o6" "$T/p.jsonl" --limit 5 -c "$T/cut.yaml" \
	>/dev/null 2>"$T/e6"
eq watch_cut_exit $? 1
check watch_cut_reason grep -q \
	"^caigen: failed 5: answers cut at max_tokens: raise policy.max_tokens, or keep cut answers with policy.truncated: keep" \
	"$T/e6"
check watch_failures_where grep -q "reason is in '$T/o6/failures.jsonl'" \
	"$T/e6"
stop_fake
start_fake --same-answers
printf 'policy: {identical: fail}\n' >"$T/same.yaml"
run_caigen "$T/o7" "$T/p.jsonl" --limit 4 -c "$T/same.yaml" \
	>/dev/null 2>"$T/e7"
check watch_identical_reason grep -q \
	"^caigen: failed 4: the two answers were identical: raise policy.temperature" \
	"$T/e7"
stop_fake
start_fake

# -- tokens add up, per role and per panel member ----------------------
printf 'responses: 3\njudge:\n  - model: j0\n  - {model: j1, base_url: "%s"}\n' \
	"$FAKE_URL" >"$T/panel.yaml"
run_caigen "$T/o8" "$T/p.jsonl" --limit 6 -c "$T/panel.yaml" \
	>/dev/null 2>"$T/e8"
eq watch_panel_exit $? 0
sum_roles() {	# FILE: "IN OUT" summed over the "tokens by role" line
	grep '^caigen: tokens by role:' "$1" | sed 's/^caigen: tokens by role://' |
		tr ';' '\n' | awk '{ i += $2; o += $4 } END { print i + 0, o + 0 }'
}
total() {
	sed -n 's/.*; tokens: \([0-9]*\) in, \([0-9]*\) out.*/\1 \2/p' "$1"
}
check watch_tokens_total_line test -n "$(total "$T/e8")"
eq watch_tokens_add_up "$(sum_roles "$T/e8")" "$(total "$T/e8")"
eq watch_tokens_as_manifest "$(total "$T/e8")" "$(jq -r \
	'[([.usage_by_model[].prompt_tokens] | add),
	  ([.usage_by_model[].completion_tokens] | add)] | "\(.[0]) \(.[1])"' \
	"$T/o8/manifest.json")"
check watch_tokens_member_row grep -Eq \
	'^caigen: tokens by role: policy [0-9]+ in, [0-9]+ out; judge [0-9]+ in, [0-9]+ out; judge\[1\] [1-9][0-9]* in' \
	"$T/e8"
# the request lines: one per member, summing to every judge request
j0=$(sed -n 's/^caigen: judge: \([0-9]*\) requests.*/\1/p' "$T/e8")
j1=$(sed -n "s/^caigen: judge\\[1\\]: \\([0-9]*\\) requests.*('j1')\$/\\1/p" "$T/e8")
eq watch_member_requests "$j0 $j1" "$(jq -r '.judge_http.requests / 2 |
	"\(.) \(.)"' "$T/o8/manifest.json")"
# label: no policy line anywhere in its summary
jq -c '{prompt: .prompt, chosen: .responses[0], rejected: .responses[1]}' \
	"$T/o1/preferences.jsonl" >"$T/pairs.jsonl"
"$CAIGEN" label --pairs "$T/pairs.jsonl" --out "$T/l1" \
	--judge-url "$FAKE_URL" >/dev/null 2>"$T/e9"
eq watch_label_exit $? 0
eq watch_label_no_policy "$(grep '^caigen: ' "$T/e9" | grep -c "policy")" 0
check watch_label_judge_line grep -q '^caigen: judge: 60 requests' "$T/e9"
check watch_label_progress_pairs grep -q '^progress: pairs 30/30 ' "$T/e9"

# -- status before any task has run ------------------------------------
"$CAIGEN" split "$T/p.jsonl" -n 3 -o "$T/split" 2>/dev/null
"$CAIGEN" status "$T/none" --split "$T/split" --json >"$T/s1.json"
eq watch_status_split_exit $? 0
check watch_status_split_json test -s "$T/s1.json"
check watch_status_left_from_split jq -e --slurpfile s "$T/split/split.json" '
	.totals.left == 30 and .totals.shards == 3 and
	[.shards[].left] == [$s[0].shards[].prompts] and
	all(.shards[]; .state == "pending")' "$T/s1.json"
# one task ran: the others still show their share
"$CAIGEN" run --prompts "$T/split" --out "$T/sp" --policy-url "$FAKE_URL" \
	--judge-url "$FAKE_URL" -q --shard 1/3 >/dev/null 2>&1
eq watch_status_task_exit $? 0
"$CAIGEN" status "$T/sp" --split "$T/split" --json >"$T/s2.json"
check watch_status_left_after_one_json test -s "$T/s2.json"
check watch_status_left_after_one jq -e --slurpfile s "$T/split/split.json" '
	.shards[1].left == 0 and .shards[1].state == "done" and
	.totals.left == 30 - $s[0].shards[1].prompts' "$T/s2.json"
"$CAIGEN" status "$T/sp" --split "$T/p.jsonl" >/dev/null 2>"$T/s3.err"
eq watch_status_split_not_a_split $? 2

# -- on a terminal: redrawn in place, never wider than the terminal ----
script -qec "stty cols 70; '$CAIGEN' run --prompts '$T/p.jsonl' --out '$T/tty' \
	--policy-url '$FAKE_URL' --judge-url '$FAKE_URL' --limit 8" /dev/null \
	>"$T/tty.out" 2>&1
check watch_tty_drawn grep -q '\[#*  *\] prompts\|\[#*\] prompts' "$T/tty.out"
eq watch_tty_fits "$(tr '\r' '\n' <"$T/tty.out" | grep '\] prompts' |
	sed "s/$(printf '\033')\\[K//g" | awk 'length > 69' | wc -l | tr -d ' ')" 0
check watch_tty_ends_finished sh -c "tr '\\r' '\\n' <'$T/tty.out' |
	grep 'prompts 8/8 (100.0%), finished in'"
