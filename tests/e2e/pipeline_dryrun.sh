# pipeline_dryrun: `caigen run --dry-run` on the demo config prints the
# first requests (key redacted) and the plan, and sends nothing: the fake
# server's request log stays empty, strace sees no connect(2) to an
# AF_INET/AF_INET6 address, and no output file appears. The printed
# requests are the real ones: the policy body equals what the server
# receives in a real run, header for header; the judge body differs only
# in the placeholder answers. Counts follow the settings, resume and the
# price table.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" strace >/dev/null || {
	fail dryrun_deps "strace could not be installed"
	exit 1
}
IN=$ROOT/datasets/sample/prompts.jsonl
n_in=$(lines "$IN")
start_fake --log "$T/requests.jsonl"
export OPENAI_API_KEY=sk-dryrun-secret-7731
DEMO=$ROOT/datasets/sample/demo.yaml

# dry NAME OUTFILE caigen-run-args...: run the dry run, PASS on exit 0
dry() {
	_n=$1
	_o=$2
	shift 2
	"$CAIGEN" run --dry-run "$@" >"$_o" 2>"$_o.err"
	eq "$_n" $? 0
}
# (LeakSanitizer cannot run under ptrace: leaks are checked by the runs
# below, which are not traced)
(cd "$ROOT" && ASAN_OPTIONS=detect_leaks=0 \
	strace -f -qq -e trace=connect,openat -o "$T/strace.txt" \
	"$CAIGEN" run -c "$DEMO" --dry-run --out "$T/out" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" >"$T/dry.txt" \
	2>"$T/dry.err")
eq dryrun_exit $? 0
eq dryrun_no_inet_connect "$(grep -E 'AF_INET6?[,}]' "$T/strace.txt" | head -3)" ""
# strace did trace it: the prompts file was opened
check dryrun_strace_traced grep -q 'prompts.jsonl' "$T/strace.txt"
eq dryrun_server_got_nothing "$(cat "$T/requests.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0
check dryrun_wrote_nothing test ! -e "$T/out"
check dryrun_says_nothing_sent grep -q "nothing was sent" "$T/dry.txt"
eq dryrun_shows_3_by_default "$(grep -c '^POST ' "$T/dry.txt")" 3
check dryrun_url grep -qx "POST $FAKE_URL/chat/completions" "$T/dry.txt"
check dryrun_key_redacted grep -qx 'Authorization: Bearer \*\*\*' "$T/dry.txt"
eq dryrun_key_absent "$(grep -c "$OPENAI_API_KEY" "$T/dry.txt" "$T/dry.err" |
	awk -F: '{ s += $2 } END { print s }')" 0
check dryrun_content_type grep -qx 'Content-Type: application/json' "$T/dry.txt"
# the bodies: the lines starting with "{"
grep '^{' "$T/dry.txt" >"$T/bodies.jsonl"
check dryrun_bodies_are_json jq -e . "$T/bodies.jsonl"
check dryrun_policy_body jq -e -s '.[0] | .model == "fake-policy" and .n == 2
	and .max_tokens == 256 and (.seed | type) == "number"
	and .messages[0].role == "user"' "$T/bodies.jsonl"
check dryrun_judge_placeholders jq -e -s '.[1] | .model == "fake-judge"
	and .logprobs == true and .top_logprobs == 20
	and (.messages[-1].content | contains("<answer 1>")
	     and contains("<answer 2>"))' "$T/bodies.jsonl"
check dryrun_says_placeholders grep -q 'placeholders' "$T/dry.txt"
check dryrun_plan_prompts grep -q "plan: $n_in prompts to do" "$T/dry.txt"
check dryrun_plan_policy grep -Eq "^  policy .*: $n_in requests" "$T/dry.txt"
check dryrun_plan_judge grep -Eq "^  judge .*: $((2 * n_in)) requests" "$T/dry.txt"
check dryrun_plan_tokens grep -Eq "about [0-9]+ input \+ [0-9]+ output tokens" "$T/dry.txt"
check dryrun_cost_unknown_without_prices grep -q "cost unknown" "$T/dry.txt"

# the same prompt for real: the server receives what the dry run showed
(cd "$ROOT" && "$CAIGEN" run -c "$DEMO" --limit 1 --jobs 1 -q \
	--no-preflight --out "$T/real" --policy-url "$FAKE_URL" \
	--judge-url "$FAKE_URL" >/dev/null 2>&1)
eq dryrun_real_run_exit $? 0
jq -c 'select(.path == "/v1/chat/completions")' "$T/requests.jsonl" \
	>"$T/real.jsonl"
eq dryrun_real_policy_body_identical \
	"$(jq -S -c -s '.[0].body' "$T/real.jsonl")" \
	"$(jq -S -c -s '.[0]' "$T/bodies.jsonl")"
# the judge: every field but the answers in the fenced blocks
strip='del(.messages[-1].content)'
eq dryrun_real_judge_body_same_fields \
	"$(jq -S -c -s ".[1].body | $strip" "$T/real.jsonl")" \
	"$(jq -S -c -s ".[1] | $strip" "$T/bodies.jsonl")"
eq dryrun_real_auth_header \
	"$(jq -r -s '.[0].headers.authorization' "$T/real.jsonl" |
	   sed 's/Bearer .*/Bearer ***/')" "Bearer ***"
eq dryrun_real_user_agent \
	"$(jq -r -s '.[0].headers["user-agent"]' "$T/real.jsonl")" \
	"$(sed -n 's/^User-Agent: //p' "$T/dry.txt" | head -n 1)"

# --dry-run-count; resume; one order; n: 1; critiques; prices
dry dryrun_count_exit "$T/c5.txt" --prompts "$IN" --out "$T/real" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" --dry-run-count 5
eq dryrun_count_5 "$(grep -c '^POST ' "$T/c5.txt")" 5
check dryrun_resume_counts grep -q \
	"plan: $((n_in - 1)) prompts to do (1 already done" "$T/c5.txt"
dry dryrun_count0_exit "$T/c0.txt" --prompts "$IN" --out "$T/x" \
	--dry-run-count 0
eq dryrun_count_0 "$(grep -c '^POST ' "$T/c0.txt")" 0
cat >"$T/one.yaml" <<EOF
policy:
  n: 1
judge:
  both_orders: false
EOF
dry dryrun_one_order_exit "$T/one.txt" -c "$T/one.yaml" --prompts "$IN" \
	--out "$T/x" --limit 10
check dryrun_n1_two_policy_calls grep -Eq "^  policy .*: 20 requests" "$T/one.txt"
check dryrun_one_order_judge grep -Eq "^  judge .*: 10 requests" "$T/one.txt"
cat >"$T/crit.yaml" <<EOF
mode: critiques
rounds: 2
EOF
dry dryrun_critiques_exit "$T/crit.txt" -c "$T/crit.yaml" --prompts "$IN" \
	--out "$T/x" --limit 10 --dry-run-count 5
check dryrun_critiques_policy_calls grep -Eq "^  policy .*: 50 requests" "$T/crit.txt"
check dryrun_critiques_no_judge grep -Eq "^  judge .*: 0 requests" "$T/crit.txt"
check dryrun_critiques_chain_placeholder grep -q '<reply>' "$T/crit.txt"
printf 'judge:\n  cot: true\n' >"$T/cot.yaml"
dry dryrun_cot_exit "$T/cot.txt" -c "$T/cot.yaml" --prompts "$IN" \
	--out "$T/x" --limit 5
check dryrun_cot_two_calls_per_judgment grep -Eq "^  judge .*: 20 requests" \
	"$T/cot.txt"
check dryrun_cot_reasoning_placeholder grep -q '<reasoning>' "$T/cot.txt"
cat >"$T/priced.yaml" <<EOF
policy:
  model: m-policy
judge:
  model: m-judge
prices:
  m-policy: {input: 1.0, output: 2.0}
  m-judge: {input: 3.0, output: 4.0}
EOF
dry dryrun_priced_exit "$T/priced.txt" -c "$T/priced.yaml" --prompts "$IN" \
	--out "$T/x"
# the printed cost is the token estimates times the prices
want=$(awk '/^  policy / { for (i = 1; i <= NF; i++) {
		if ($i == "input") pi = $(i - 1); if ($i == "output") po = $(i - 1) } }
	/^  judge / { for (i = 1; i <= NF; i++) {
		if ($i == "input") ji = $(i - 1); if ($i == "output") jo = $(i - 1) } }
	END { printf "%.2f", (pi * 1 + po * 2 + ji * 3 + jo * 4) / 1e6 }' \
	"$T/priced.txt")
got=$(sed -n 's/.*estimated cost \$\([0-9.]*\).*/\1/p' "$T/priced.txt")
eq dryrun_cost_from_prices "$(printf '%.2f' "${got:-0}")" "$want"
check dryrun_cost_positive test "$want" != 0.00

# a bad setting is still an error: the dry run validates everything
printf 'judge:\n  top_logprobs: 99\n' >"$T/bad.yaml"
"$CAIGEN" run --dry-run -c "$T/bad.yaml" --prompts "$IN" >/dev/null 2>&1
eq dryrun_bad_config_exit_2 $? 2
"$CAIGEN" run --dry-run --prompts "$T/missing.jsonl" >/dev/null 2>&1
eq dryrun_missing_prompts_exit_2 $? 2
eq dryrun_server_still_untouched_by_dry_runs \
	"$(jq -c 'select(.path == "/v1/chat/completions")' "$T/requests.jsonl" |
	   wc -l | tr -d ' ')" "$(lines "$T/real.jsonl")"

# a shard plans exactly the prompts its real run does
if "$CAIGEN" run --help | grep -q -- --shard; then
	dry dryrun_shard_exit "$T/shard.txt" --prompts "$IN" --out "$T/sh" \
		--shard 1/3
	"$CAIGEN" run --prompts "$IN" --out "$T/sh" --shard 1/3 -q \
		--no-preflight --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
		>/dev/null 2>&1
	eq dryrun_shard_real_exit $? 0
	n_shard=$(cat "$T"/sh/preferences.shard-*.jsonl | wc -l | tr -d ' ')
	check dryrun_shard_plans_its_prompts grep -q \
		"plan: $n_shard prompts to do (0 already done" "$T/shard.txt"
	check dryrun_shard_others grep -q "$((n_in - n_shard)) in other shards" \
		"$T/shard.txt"
	dry dryrun_shard_resumed_exit "$T/shard2.txt" --prompts "$IN" \
		--out "$T/sh" --shard 1/3
	check dryrun_shard_resumed_nothing_left grep -q \
		"plan: 0 prompts to do ($n_shard already done" "$T/shard2.txt"
fi
