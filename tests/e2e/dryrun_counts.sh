# dryrun_counts: the dry run plans as many requests as the run then
# sends, for every API of the policy and the judge (chat with n, chat
# with n: 1, completions, Anthropic, which has no n), responses 2 to 4,
# judge votes, one or both orders, chain of thought, panels of mixed
# APIs and the critique modes; and `label` and `eval` (their dry runs
# plan the judge requests on the real replies, resume and shards too).
# The fake server logs every request it gets; the dry run's total must
# equal it.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/log.jsonl"
export ANTHROPIC_API_KEY=sk-ant-dryrun-counts OPENAI_API_KEY=sk-dryrun-counts
gen_prompts 6 "$T/in.jsonl"
CON=$ROOT/constitution/harmless.yaml

# case NAME YAML-LINES...: the dry run's total against the requests sent
case_() {
	_n=$1
	shift
	printf '%s\n' "$@" >"$T/$_n.yaml"
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/$_n" --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" -c "$T/$_n.yaml" --constitution "$CON" \
		--dry-run --dry-run-count 0 >"$T/$_n.dry" 2>&1 ||
		{ fail "dryrun_count_$_n" "dry run: $(tail -n 3 "$T/$_n.dry")"; return; }
	: >"$T/log.jsonl"
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/$_n" --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" -c "$T/$_n.yaml" --constitution "$CON" \
		-q --no-preflight >"$T/$_n.out" 2>&1 ||
		{ fail "dryrun_count_$_n" "run: $(tail -n 3 "$T/$_n.out")"; return; }
	_plan=$(sed -n 's/^  total: \([0-9]*\) requests.*/\1/p' "$T/$_n.dry")
	_sent=$(jq -r 'select(.method == "POST") | .path' "$T/log.jsonl" | wc -l |
		tr -d ' ')
	eq "dryrun_count_$_n" "$_plan" "$_sent"
}

case_ chat_n2 'responses: 2'
case_ chat_n1 'policy: {n: 1}'
case_ chat_k4 'responses: 4'
case_ chat_k4_n1 'responses: 4' 'policy: {n: 1}'
case_ completions_k3 'responses: 3' 'policy: {api: completions}' \
	'judge: {api: completions}'
case_ anthropic_k2 'policy: {api: anthropic}'
case_ anthropic_k4 'responses: 4' 'policy: {api: anthropic}'
case_ anthropic_judge_votes 'policy: {api: anthropic}' \
	'judge: {api: anthropic, votes: 3}'
case_ anthropic_judge_one_order 'judge: {api: anthropic, votes: 2, both_orders: false}'
case_ cot 'judge: {cot: true}'
case_ cot_one_order_k3 'responses: 3' 'judge: {cot: true, both_orders: false}'
U=$FAKE_URL
case_ panel_mixed 'responses: 3' 'panel: median' 'judge:' \
	'  - {model: judge-a}' \
	"  - {model: judge-b, api: anthropic, votes: 3, base_url: '$U'}" \
	"  - {model: judge-c, api: completions, base_url: '$U'}"
case_ panel_k2_anthropic_policy 'policy: {api: anthropic}' 'panel: majority' \
	'judge:' '  - {model: judge-a}' \
	"  - {model: judge-b, both_orders: false, base_url: '$U'}"
case_ critiques 'mode: critiques'
case_ both_rounds2 'mode: both' 'rounds: 2' 'policy: {api: anthropic}'

# the bug this guards: an Anthropic policy with responses: 4 is one call
# per answer, 4 per prompt, and so the tokens asked for
check dryrun_anthropic_k4_policy grep -Eq "^  policy .*: 24 requests, about [0-9]+ input \+ 12288 output" "$T/anthropic_k4.dry"
check dryrun_anthropic_k4_no_n_note sh -c "! grep -q 'if the server cannot return' '$T/anthropic_k4.dry'"

# label and eval: the dry run of the pairs, with the real replies
D=$ROOT/tests/data/pairs
cat "$D/trl.jsonl" "$D/hh.jsonl" "$D/ultrafeedback.jsonl" "$D/bad.jsonl" \
	>"$T/pairs.jsonl"
# lcase NAME COMMAND YAML-LINES...: label or eval, dry run against the run
lcase() {
	_n=$1
	_cmd=$2
	shift 2
	printf '%s\n' "$@" >"$T/$_n.yaml"
	"$CAIGEN" "$_cmd" --pairs "$T/pairs.jsonl" --out "$T/$_n" \
		--judge-url "$FAKE_URL" -c "$T/$_n.yaml" --constitution "$CON" \
		$LFLAGS --dry-run >"$T/$_n.dry" 2>&1 ||
		{ fail "dryrun_count_$_n" "dry run: $(tail -n 3 "$T/$_n.dry")"; return; }
	: >"$T/log.jsonl"
	"$CAIGEN" "$_cmd" --pairs "$T/pairs.jsonl" --out "$T/$_n" \
		--judge-url "$FAKE_URL" -c "$T/$_n.yaml" --constitution "$CON" \
		$LFLAGS -q --no-preflight >"$T/$_n.out" 2>&1 ||
		{ fail "dryrun_count_$_n" "run: $(tail -n 3 "$T/$_n.out")"; return; }
	_plan=$(sed -n 's/^  total: \([0-9]*\) requests.*/\1/p' "$T/$_n.dry")
	_sent=$(jq -r 'select(.method == "POST") | .path' "$T/log.jsonl" | wc -l |
		tr -d ' ')
	eq "dryrun_count_$_n" "$_plan" "$_sent"
}
LFLAGS=
lcase label label 'seed: 5'
lcase eval eval 'judge: {cot: true, both_orders: false}'
lcase label_anthropic label 'judge: {api: anthropic, votes: 3}'
lcase label_panel label 'panel: mean' 'judge:' '  - {model: judge-a}' \
	"  - {model: judge-b, api: completions, base_url: '$U'}"
LFLAGS='--shard 1/2'
lcase label_shard label 'seed: 5'
# a resumed label plans only what is left
LFLAGS='--limit 4'
lcase label_first4 label 'seed: 6'
LFLAGS=
cp "$T/label_first4.yaml" "$T/label_rest.yaml"
mv "$T/label_first4" "$T/label_rest"
lcase label_rest label 'seed: 6'
check dryrun_label_says_pairs grep -q "^plan: 10 pairs to do (0 already done" "$T/label.dry"
check dryrun_label_no_policy_row sh -c "! grep -q '^  policy' '$T/label.dry'"
check dryrun_label_rest_skips_done grep -q "^plan: 6 pairs to do (4 already done" "$T/label_rest.dry"
"$CAIGEN" label --pairs "$T/pairs.jsonl" --out "$T/never" --judge-url "$FAKE_URL" \
	--constitution "$CON" --dry-run >/dev/null 2>&1
eq dryrun_label_exit $? 0
check dryrun_label_no_output test ! -e "$T/never"
