# batch_mixed: live and batch endpoints in one run, and independent draws
# in batch mode whatever the API sends. A live policy with a batch judge,
# the reverse, and a panel whose members go out different ways write the
# records of an all-live run, byte for byte, each role's requests going
# its own way; `check` and the dry run accept what `run` runs. With an
# Anthropic policy (no seed in the body) every sample, answer k and
# resample is a request of its own in batch mode, and a batch API error
# leaves the prompts for the next run instead of failing them.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/req.log" --batch-seconds 0.1
gen_prompts 30 "$T/in.jsonl"
# cfg FILE POLICY_EXECUTOR JUDGE [TOP]
cfg() {
	printf 'batch_poll: 0.05\n%b\npolicy: {executor: %s, max_tokens: 64}\njudge: %s\n' \
		"${4:-}" "$2" "$3" >"$1"
}
posts() {	# PATH: requests the fake got on it
	grep -c "\"path\":\"$1\"" "$T/req.log"
}
lines() { wc -l <"$1" | tr -d ' '; }

for n in live:live live:batch batch:live; do
	p=${n%:*} j=${n#*:}
	cfg "$T/$p-$j.yaml" "$p" "{executor: $j}"
	: >"$T/req.log"
	run_caigen "$T/$p-$j" "$T/in.jsonl" -c "$T/$p-$j.yaml" -q \
		--no-preflight
	eq "mixed_${p}_${j}_exit" $? 0
	eq "mixed_${p}_${j}_records" "$(lines "$T/$p-$j/preferences.jsonl")" 30
	# the batch role's requests went in batch files, the live one's not
	if [ "$p" = live ] && [ "$j" = batch ]; then
		eq mixed_live_policy_posts "$(posts /v1/chat/completions)" 30
		eq mixed_batch_judge_ids "$(grep -c '"custom_id":"p-' "$T/req.log")" 0
		check mixed_batch_judge_batched grep -q '"custom_id":"j-' "$T/req.log"
	fi
	if [ "$p" = batch ]; then
		eq mixed_batch_policy_ids "$(grep -c '"custom_id":"p-' "$T/req.log")" 30
		eq mixed_live_judge_ids "$(grep -c '"custom_id":"j-' "$T/req.log")" 0
	fi
	"$CAIGEN" check "$T/$p-$j.yaml" >/dev/null 2>"$T/check.err"
	eq "mixed_${p}_${j}_check" $? 0
	"$CAIGEN" run -c "$T/$p-$j.yaml" --prompts "$T/in.jsonl" --out "$T/dry" \
		--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" --dry-run \
		>/dev/null 2>&1
	eq "mixed_${p}_${j}_dry_run" $? 0
done
check mixed_live_batch_identical cmp "$T/live-live/preferences.jsonl" \
	"$T/live-batch/preferences.jsonl"
check mixed_batch_live_identical cmp "$T/live-live/preferences.jsonl" \
	"$T/batch-live/preferences.jsonl"

# a panel of three ranking k = 3 answers: member 1 in batches, the others
# live (and the policy live)
for k in live mixed; do
	m1=live
	[ $k = mixed ] && m1=batch
	printf 'batch_poll: 0.05\nresponses: 3\npolicy: {executor: live, max_tokens: 64}\njudge:\n  - {executor: live, model: j0}\n  - {executor: %s, model: j1, base_url: "%s"}\n  - {executor: live, model: j2, base_url: "%s"}\n' \
		$m1 "$FAKE_URL" "$FAKE_URL" >"$T/panel.$k.yaml"
	: >"$T/req.log"
	run_caigen "$T/panel.$k" "$T/in.jsonl" -c "$T/panel.$k.yaml" -q \
		--no-preflight
	eq "mixed_panel_${k}_exit" $? 0
done
check mixed_panel_identical cmp "$T/panel.live/preferences.jsonl" \
	"$T/panel.mixed/preferences.jsonl"
check mixed_panel_member_batched grep -q '"custom_id":"j1-' "$T/req.log"
# usage and cost per member: each model its row; j1 has no price: null
printf 'prices:\n  pol: {input: 1, output: 1}\n  j0: {input: 2, output: 2}\n  j2: {input: 3, output: 3}\n' \
	>"$T/prices.yaml"
cat "$T/panel.live.yaml" >>"$T/prices.yaml"
run_caigen "$T/panel.priced" "$T/in.jsonl" -c "$T/prices.yaml" -q \
	--no-preflight --policy-model pol 2>/dev/null
eq panel_priced_exit $? 0
check panel_usage_per_member jq -e '.usage_by_model as $u |
	($u | keys) == ["j0", "j1", "j2", "pol"] and
	([$u.j0, $u.j1, $u.j2][] | .completion_tokens > 0) and
	$u.j1.cost_usd == null and $u.j0.cost_usd > 0 and $u.j2.cost_usd > 0
	and .cost_usd == null' "$T/panel.priced/manifest.json"
# with every model priced, the cap's spending is the summary's cost
printf 'prices:\n  pol: {input: 1, output: 1}\n  j0: {input: 2, output: 2}\n  j1: {input: 5, output: 5}\n  j2: {input: 3, output: 3}\n' \
	>"$T/prices2.yaml"
cat "$T/panel.live.yaml" >>"$T/prices2.yaml"
run_caigen "$T/panel.capped" "$T/in.jsonl" -c "$T/prices2.yaml" -q \
	--no-preflight --policy-model pol --max-cost 1000 2>/dev/null
eq panel_capped_exit $? 0
check panel_spent_is_cost jq -e '.cost_usd > 0 and
	((.max_cost.spent_usd - .cost_usd) / .cost_usd | . * . < 1e-10)' \
	"$T/panel.capped/manifest.json"
check panel_cost_sums_members jq -e '([.usage_by_model[].cost_usd] | add)
	as $s | (($s - .cost_usd) / $s | . * . < 1e-10) and
	.usage_by_model.j1.cost_usd > .usage_by_model.j0.cost_usd' \
	"$T/panel.capped/manifest.json"
eq mixed_panel_others_live "$(grep -c '"custom_id":"j-\|"custom_id":"j2-' "$T/req.log")" 0
stop_fake

# Anthropic policy in batch mode: no seed in the body, yet the two
# samples (and, with responses 3, the three answers) are three requests
start_fake --log "$T/ant.log" --batch-seconds 0.1
for k in 2 3; do
	printf 'batch_poll: 0.05\nresponses: %s\npolicy: {executor: batch, api: anthropic, base_url: "%s", max_tokens: 64}\njudge: {executor: batch}\n' \
		$k "$FAKE_URL" >"$T/ant$k.yaml"
	: >"$T/ant.log"
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/ant$k" \
		--judge-url "$FAKE_URL" -c "$T/ant$k.yaml" -q --no-preflight \
		2>"$T/ant$k.err"
	eq "draws_anthropic_${k}_exit" $? 0
	eq "draws_anthropic_${k}_records" "$(lines "$T/ant$k/preferences.jsonl")" 30
	eq "draws_anthropic_${k}_failures" \
		"$(cat "$T/ant$k/failures.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0
	eq "draws_anthropic_${k}_requests" \
		"$(grep -o '"custom_id":"p-[0-9a-f]*' "$T/ant.log" | sort -u | wc -l | tr -d ' ')" \
		$((30 * k))
	check "draws_anthropic_${k}_differ" jq -e \
		'(.responses // [.chosen, .rejected]) | length == (unique | length)' \
		"$T/ant$k/preferences.jsonl"
done
# resume: a second run answers every call from the results kept
: >"$T/ant.log"
rm "$T/ant2/preferences.jsonl"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/ant2" --judge-url "$FAKE_URL" \
	-c "$T/ant2.yaml" -q --no-preflight
eq draws_resume_exit $? 0
eq draws_resume_records "$(lines "$T/ant2/preferences.jsonl")" 30
eq draws_resume_nothing_sent "$(grep -c '"method":"POST"' "$T/ant.log")" 0
stop_fake

# one set of rules for run, check and the dry run, before any request: a
# completions judge in batch mode is refused where it is used, and
# accepted in mode critiques, which never calls the judge
start_fake --log "$T/rule.log"
for m in preferences critiques; do
	printf 'mode: %s\npolicy: {max_tokens: 64}\njudge: {executor: batch, api: completions}\n' \
		$m >"$T/rule.$m.yaml"
	: >"$T/rule.log"
	"$CAIGEN" check "$T/rule.$m.yaml" >/dev/null 2>"$T/rule.$m.check"
	echo $? >"$T/rule.$m.rc"
	"$CAIGEN" run -c "$T/rule.$m.yaml" --prompts "$T/in.jsonl" \
		--out "$T/rule.dry.$m" --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" --dry-run >/dev/null 2>&1
	echo $? >>"$T/rule.$m.rc"
	run_caigen "$T/rule.$m" "$T/in.jsonl" -c "$T/rule.$m.yaml" -q \
		--no-preflight 2>"$T/rule.$m.err"
	echo $? >>"$T/rule.$m.rc"
	grep -c '"method":"POST"' "$T/rule.log" >"$T/rule.$m.posts"
done
eq rule_used_refused "$(tr '\n' ' ' <"$T/rule.preferences.rc")" "2 2 2 "
check rule_says grep -q "judge.*completions" "$T/rule.preferences.check"
eq rule_unused_accepted "$(tr '\n' ' ' <"$T/rule.critiques.rc")" "0 0 0 "
eq rule_nothing_sent_when_refused "$(cat "$T/rule.preferences.posts")" 0
# with the start-up probe: the refusal comes before any probe
: >"$T/rule.log"
run_caigen "$T/rule.probe" "$T/in.jsonl" -c "$T/rule.preferences.yaml" -q \
	2>"$T/rule.probe.err"
eq rule_refused_before_probe_exit $? 2
eq rule_refused_before_probe "$(grep -c '"path"' "$T/rule.log")" 0
# mode critiques does not probe the judge it never calls (here: down)
"$CAIGEN" run -c "$T/rule.critiques.yaml" --prompts "$T/in.jsonl" \
	--out "$T/rule.crit" --policy-url "$FAKE_URL" \
	--judge-url http://127.0.0.1:1/v1 -q 2>"$T/rule.crit.err"
eq critiques_judge_not_probed $? 0
stop_fake

# an error of the batch API (nothing listens) leaves the prompts for the
# next run: none failed, all interrupted, exit 2; the next run does them
printf 'batch_poll: 0.05\npolicy: {executor: batch, max_tokens: 64}\njudge: {executor: batch}\n' \
	>"$T/down.yaml"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/down" -c "$T/down.yaml" -q \
	--no-preflight --policy-url http://127.0.0.1:1/v1 \
	--judge-url http://127.0.0.1:1/v1 2>"$T/down.err"
eq api_error_exit $? 2
eq api_error_no_failures "$(cat "$T/down/failures.jsonl" | wc -l | tr -d ' ')" 0
eq api_error_counts "$(jq -c '[.counts.failed, .counts.interrupted]' "$T/down/manifest.json")" "[0,30]"
check api_error_says grep -q "left for the next run" "$T/down.err"
start_fake --batch-seconds 0.1
run_caigen "$T/down" "$T/in.jsonl" -c "$T/down.yaml" -q --no-preflight
eq api_error_next_run_exit $? 0
eq api_error_next_run_records "$(lines "$T/down/preferences.jsonl")" 30

# batch export writes the OpenAI shape only: an Anthropic endpoint is
# refused up front, before any file is written
printf 'policy: {api: anthropic, base_url: "%s", max_tokens: 64}\n' \
	"$FAKE_URL" >"$T/exp.yaml"
"$CAIGEN" batch export --prompts "$T/in.jsonl" --out "$T/exp" -c "$T/exp.yaml" \
	--judge-url "$FAKE_URL" -q --no-preflight 2>"$T/exp.err"
eq export_anthropic_exit $? 2
check export_anthropic_says grep -q "policy.api: anthropic: batch export writes the OpenAI batch format" "$T/exp.err"
check export_anthropic_nothing_written test ! -e "$T/exp/batch/policy.export.jsonl"
check export_help_says sh -c "'$CAIGEN' batch --help | grep -q 'anthropic and completions'"
stop_fake

# a password in a base URL stays out of the live executor's messages
start_fake --api-key other
u=$(printf '%s' "$FAKE_URL" | sed 's|http://|http://u:sk-pw@|')
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/pw" --policy-url "$u" \
	--judge-url "$u" -q --no-preflight 2>"$T/pw.err"
eq url_password_exit $? 2
check url_password_masked_stderr sh -c "! grep -q sk-pw '$T/pw.err'"
check url_password_said grep -q "requests in a row refused" "$T/pw.err"
stop_fake
