# pipeline_backends: the same prompts and replies judged through the chat,
# completions (legacy and llama.cpp-style logprobs) and Anthropic routes of
# the fake server, and by a judge that refuses logprobs. Each judgment
# records its method; chat and completions labels agree to 1e-9.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/main.log"
MAIN=$FAKE_URL
gen_prompts 16 "$T/p.jsonl"
# judge_with NAME JUDGE_URL YAML...: policy on the main server, judge there
judge_with() {
	_name=$1
	_url=$2
	shift 2
	printf '%s\n' "$@" >"$T/$_name.yaml"
	# (--no-preflight: the requests counted below are the runs' own)
	"$CAIGEN" run --prompts "$T/p.jsonl" --out "$T/$_name" -q --seed 9 \
		--policy-url "$MAIN" --judge-url "$_url" -c "$T/$_name.yaml" \
		--no-preflight >"$T/$_name.out" 2>"$T/$_name.err"
}
judge_with chat "$MAIN" 'judge:' '  api: chat'
eq chat_exit $? 0
judge_with cmpl "$MAIN" 'judge:' '  api: completions'
eq cmpl_exit $? 0
start_fake --completions-chat-logprobs
judge_with cmplc "$FAKE_URL" 'judge:' '  api: completions'
eq cmpl_chatstyle_exit $? 0
for r in chat cmpl cmplc; do
	eq "${r}_records" "$(lines "$T/$r/preferences.jsonl")" 16
	eq "${r}_method" "$(jq -r '.judgments[].method' "$T/$r/preferences.jsonl" |
		sort -u)" logprobs
done
# the same pairs, labelled alike to 1e-9 on every route
for r in cmpl cmplc; do
	bad=$(jq -s -c '(.[0:16] | map({key: .id, value: .}) | from_entries)
		as $c | .[16:][] | . as $x | $c[.id] as $y
		| select($x.responses != $y.responses
		  or (($x.p - $y.p) | fabs) > 1e-9
		  or (($x.judgments[0].p_a - $y.judgments[0].p_a) | fabs) > 1e-9
		  or (($x.judgments[1].p_a - $y.judgments[1].p_a) | fabs) > 1e-9
		  or (($x.judgments[0].other_mass - $y.judgments[0].other_mass)
		      | fabs) > 1e-9) | .id' \
		"$T/chat/preferences.jsonl" "$T/$r/preferences.jsonl")
	eq "${r}_agrees_with_chat" "$bad" ""
done
# the completions request: a raw prompt ending before the letter, an
# integer logprobs of at most 5
bad=$(jq -c 'select(.path == "/v1/completions") | select(
	(.body.prompt | endswith("The answer is: (") | not)
	or .body.logprobs != 5 or .body.messages != null) | .path' \
	"$T/main.log" | head -2)
eq cmpl_request_shape "$bad" ""
eq cmpl_requests "$(grep -c '"path":"/v1/completions"' "$T/main.log")" 32

# Anthropic: key in x-api-key, version header, system on top, the
# assistant turn prefilled with "(" so the letter comes next
start_fake --api-key sk-test-ant --log "$T/ant.log"
export OPENAI_API_KEY=sk-test-ant ANTHROPIC_API_KEY=sk-test-ant
judge_with ant "$FAKE_URL" 'judge:' '  api: anthropic'
eq ant_exit $? 0
eq ant_method "$(jq -r '.judgments[].method' "$T/ant/preferences.jsonl" |
	sort -u)" text
# hard labels that follow the same rule as the soft ones
bad=$(jq -s -c '(.[0:16] | map({key: .id, value: .}) | from_entries)
	as $c | .[16:][] | . as $x | $c[.id] as $y
	| select(($x.judgments[0].p_a == 1) != ($y.judgments[0].p_a >= 0.5)
	  or ($x.judgments[1].p_a == 1) != ($y.judgments[1].p_a >= 0.5)
	  or ($x.judgments | map(.lp_a) | unique) != [null]) | .id' \
	"$T/chat/preferences.jsonl" "$T/ant/preferences.jsonl")
eq ant_hard_labels "$bad" ""
bad=$(jq -c 'select(.path == "/v1/messages") | select(
	.headers["x-api-key"] != "sk-test-ant"
	or .headers["anthropic-version"] != "2023-06-01"
	or .headers.authorization != null
	or (.body.system | type) != "string"
	or (.body.messages | map(.role) | index("system")) != null
	or .body.messages[-1] != {role: "assistant", content: "("}
	or (.body.max_tokens | type) != "number"
	or .body.n != null or .body.logprobs != null) | .path' "$T/ant.log" |
	head -2)
eq ant_request_shape "$bad" ""
eq ant_requests "$(grep -c '"path":"/v1/messages"' "$T/ant.log")" 32
grep -q sk-test-ant "$T/ant/preferences.jsonl" "$T/ant/manifest.json"
eq ant_key_not_in_output $? 1
# votes: k sampled letters per order
judge_with antv "$FAKE_URL" 'judge:' '  api: anthropic' '  votes: 3'
eq antv_exit $? 0
bad=$(jq -c '.judgments[] | select(.method != "votes" or .votes.k != 3
	or (.votes.A + .votes.B) != 3
	or ((.p_a - .votes.A / 3) | fabs) > 1e-7)' "$T/antv/preferences.jsonl")
eq antv_votes "$bad" ""
eq antv_records "$(lines "$T/antv/preferences.jsonl")" 16
# Anthropic as the policy too: no n, two calls per prompt
printf 'policy:\n  api: anthropic\n' >"$T/antp.yaml"
run_caigen "$T/antp" "$T/p.jsonl" -q --limit 4 -c "$T/antp.yaml" \
	>/dev/null 2>"$T/antp.err"
eq antp_exit $? 0
eq antp_records "$(lines "$T/antp/preferences.jsonl")" 4
unset OPENAI_API_KEY ANTHROPIC_API_KEY

# a reasoning model that refuses logprobs: one warning, no failures, the
# letter read from the text (or by votes when configured)
start_fake --refuse-logprobs --log "$T/refuse.log"
judge_with refuse "$FAKE_URL" 'judge:' '  api: chat'
eq refuse_exit $? 0
eq refuse_records "$(lines "$T/refuse/preferences.jsonl")" 16
eq refuse_failures "$(lines "$T/refuse/failures.jsonl")" 0
eq refuse_method "$(jq -r '.judgments[].method' "$T/refuse/preferences.jsonl" |
	sort -u)" text
eq refuse_one_warning "$(grep -c 'refuses logprobs' "$T/refuse.err")" 1
# after the flag is up no request asks for logprobs any more: at most one
# refused request per judge thread that was already on its way
lp_requests() { jq -c 'select((.body | objects | .logprobs) == true)' \
	"$T/refuse.log" | wc -l | tr -d ' '; }
check refuse_detected_once [ "$(lp_requests)" -le 8 ]
before=$(lp_requests)
judge_with refusev "$FAKE_URL" 'judge:' '  votes: 4' '  concurrency: 1'
eq refusev_exit $? 0
eq refusev_method "$(jq -r '.judgments[].method' \
	"$T/refusev/preferences.jsonl" | sort -u)" votes
eq refusev_one_refusal "$(lp_requests)" $((before + 1))
check manifest_has_api jq -e '.config.judge.api == "chat"
	and .config.judge.votes == 4' "$T/refusev/manifest.json"
