# batch_mode: `executor: batch` against the fake server's OpenAI Batch and
# Anthropic Message Batches routes. The records are the ones a live run
# with the same seed writes, byte for byte: 10,000 prompts, and with CoT,
# critique rounds (mode both), an Anthropic judge, waves and split
# batches; every custom_id is sent once; the cost uses the batch prices;
# `caigen batch export`/`import` through an offline runner (vllm
# run-batch's shape) gives the same records too.
. "$(dirname "$0")/../lib.sh"
RUNBATCH=${RUNBATCH:-$ROOT/obj/default/runbatch}
start_fake --log "$T/req.log" --batch-seconds 0.2
# mk FILE EXECUTOR [TOP] [POLICY] [JUDGE]: a config; the extra keys of
# each section as one string with \n between lines
mk() {
	printf 'batch_poll: 0.05\nprices:\n  pol: {input: 2, output: 8}\n'\
'  jud: {input: 4, output: 16, batch_output: 4}\n%b\npolicy:\n'\
'  executor: %s\n  max_tokens: 64\n%b\njudge:\n  executor: %s\n%b\n' \
		"${3:-}" "$2" "${4:-}" "$2" "${5:-}" >"$1"
}
mk "$T/batch.yaml" batch
mk "$T/live.yaml" live
# submitted custom_ids, each once? (the fake logs every batch line)
unique_cids() {
	n=$(grep -c '"custom_id"' "$T/req.log")
	u=$(grep '"custom_id"' "$T/req.log" | jq -r .custom_id | sort -u | wc -l | tr -d ' ')
	[ "$n" -gt 0 ] && [ "$n" = "$u" ]
}
pair() {	# NAME PROMPTS [TOP] [POLICY] [JUDGE]: live and batch runs
	_name=$1 _in=$2
	shift 2
	mk "$T/$_name.live.yaml" live "$@"
	mk "$T/$_name.batch.yaml" batch "$@"
	run_caigen "$T/$_name.live" "$_in" -c "$T/$_name.live.yaml" \
		--policy-model pol --judge-model jud -q --no-preflight
	eq "${_name}_live_exit" $? 0
	run_caigen "$T/$_name.batch" "$_in" -c "$T/$_name.batch.yaml" \
		--policy-model pol --judge-model jud --no-preflight \
		>"$T/$_name.out" 2>"$T/$_name.err"
	eq "${_name}_batch_exit" $? 0
}

gen_prompts 10000 "$T/in10k.jsonl"
pair p10k "$T/in10k.jsonl"
check p10k_identical cmp "$T/p10k.live/preferences.jsonl" \
	"$T/p10k.batch/preferences.jsonl"
eq p10k_records "$(lines "$T/p10k.batch/preferences.jsonl")" 10000
# one wave: a policy batch, then a judge batch of both orders
eq p10k_batches "$(jq -r 'select(.op == "created") | .role' \
	"$T/p10k.batch/batch/journal.jsonl" | tr '\n' ' ')" "policy judge "
eq p10k_sent "$(grep -c '"custom_id":"p-' "$T/req.log"):$(grep -c \
	'"custom_id":"j-' "$T/req.log")" "10000:20000"
check p10k_unique_ids unique_cids
check p10k_progress grep -q 'completed, 20000 of 20000 done' "$T/p10k.err"
# the same tokens at the batch price: policy half, judge input half and
# output a quarter (batch_output given)
# (the manifest prints 6 significant digits: compare to 1e-4)
check p10k_batch_price jq -e --slurpfile l "$T/p10k.live/manifest.json" '
	def near(a; b): ((a - b) | fabs) <= 1e-4 * (b | fabs);
	.usage_by_model as $b | $l[0].usage_by_model as $v |
	$b.pol.prompt_tokens == $v.pol.prompt_tokens and
	$b.jud.completion_tokens == $v.jud.completion_tokens and
	near($b.pol.cost_usd * 2; $v.pol.cost_usd) and
	near($b.jud.cost_usd; ($b.jud.prompt_tokens * 2 +
			       $b.jud.completion_tokens * 4) / 1e6)' \
	"$T/p10k.batch/manifest.json"

# CoT, critiques and waves on 1,500 prompts (BATCH_N=10000 for the full
# size: about a minute more)
N=${BATCH_N:-1500}
gen_prompts $N "$T/in.jsonl"
run_caigen "$T/base.live" "$T/in.jsonl" -c "$T/live.yaml" \
	--policy-model pol --judge-model jud -q --no-preflight
: >"$T/req.log"
pair cot "$T/in.jsonl" '' '' '  cot: true\n  cot_max_tokens: 48'
check cot_identical cmp "$T/cot.live/preferences.jsonl" \
	"$T/cot.batch/preferences.jsonl"
check cot_has_rationales jq -e 'select(.judgments[0].rationale | length > 0)' \
	"$T/cot.batch/preferences.jsonl"
# rationales, then letters: two judge phases
eq cot_phases "$(jq -r 'select(.op == "created") | .role' \
	"$T/cot.batch/batch/journal.jsonl" | tr '\n' ' ')" "policy judge judge "
check cot_unique_ids unique_cids

: >"$T/req.log"
pair both "$T/in.jsonl" 'mode: both\nrounds: 2'
check both_identical_critiques cmp "$T/both.live/critiques.jsonl" \
	"$T/both.batch/critiques.jsonl"
check both_identical_preferences cmp "$T/both.live/preferences.jsonl" \
	"$T/both.batch/preferences.jsonl"
eq both_records "$(lines "$T/both.batch/critiques.jsonl")" $N
check both_unique_ids unique_cids

# an Anthropic judge through Message Batches (text method, no logprobs)
gen_prompts 300 "$T/in300.jsonl"
: >"$T/req.log"
for k in live batch; do
	mk "$T/ant.$k.yaml" $k '' '' "  api: anthropic\n  base_url: $FAKE_URL"
done
run_caigen "$T/ant.live" "$T/in300.jsonl" -c "$T/ant.live.yaml" \
	--policy-model pol --judge-model jud -q --no-preflight
"$CAIGEN" run --prompts "$T/in300.jsonl" --out "$T/ant.batch" \
	--policy-url "$FAKE_URL" -c "$T/ant.batch.yaml" --policy-model pol \
	--judge-model jud -q --no-preflight
eq ant_exit $? 0
check ant_identical cmp "$T/ant.live/preferences.jsonl" \
	"$T/ant.batch/preferences.jsonl"
eq ant_method "$(jq -r '.judgments[].method' "$T/ant.batch/preferences.jsonl" | sort -u)" text
eq ant_message_batches "$(grep -c '"path":"/v1/messages/batches"' "$T/req.log")" 1
check ant_unique_ids unique_cids

# k = 3 answers ranked by a two-judge panel: each member's requests go
# in batches of their own (files judge-*, judge1-*; ids j-, j1-)
: >"$T/req.log"
for k in live batch; do
	printf 'batch_poll: 0.05\nresponses: 3\npolicy: {executor: %s, max_tokens: 64}\njudge:\n  - {executor: %s, model: j0}\n  - {executor: %s, model: j1, base_url: "%s"}\n' \
		$k $k $k "$FAKE_URL" >"$T/panel.$k.yaml"
	run_caigen "$T/panel.$k" "$T/in300.jsonl" -c "$T/panel.$k.yaml" -q \
		--no-preflight
	eq "panel_${k}_exit" $? 0
done
check panel_identical cmp "$T/panel.live/preferences.jsonl" \
	"$T/panel.batch/preferences.jsonl"
check panel_records jq -e 'select(.schema == "caigen.preference/2" and
	(.ranking | length) == 3)' "$T/panel.batch/preferences.jsonl"
eq panel_member_ids "$(grep -c '"custom_id":"j1-' "$T/req.log")" \
	"$(grep -c '"custom_id":"j-' "$T/req.log")"
check panel_unique_ids unique_cids

# waves of 400 prompts and batches of at most 250 requests
: >"$T/req.log"
mk "$T/wave.yaml" batch 'batch_prompts: 400' '  batch_max_requests: 250'
run_caigen "$T/wave" "$T/in.jsonl" -c "$T/wave.yaml" --policy-model pol \
	--judge-model jud -q --no-preflight
eq wave_exit $? 0
check wave_identical cmp "$T/base.live/preferences.jsonl" \
	"$T/wave/preferences.jsonl"
# waves of 400 (1,500 prompts: 400, 400, 400, 300); a wave's 400 policy
# requests in two batches (250 + 150), the last wave's r in ceil(r/250)
r=$((N % 400))
eq wave_policy_batches "$(jq -r 'select(.op == "created" and .role == "policy")' \
	"$T/wave/batch/journal.jsonl" | grep -c policy)" \
	$((N / 400 * 2 + (r + 249) / 250))
check wave_unique_ids unique_cids

# export / import through an offline runner
: >"$T/req.log"
"$CAIGEN" batch export --prompts "$T/in300.jsonl" --out "$T/exp" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -c "$T/live.yaml" \
	--policy-model pol --judge-model jud -q 2>"$T/exp.err"
rc=$?
eq export_exit $rc 75
check export_says grep -q "300 policy requests to answer" "$T/exp.err"
eq export_sent_nothing "$(grep -c '"path"' "$T/req.log")" 0
round=0
while [ $rc = 75 ] && [ $round -lt 5 ]; do
	round=$((round + 1))
	rm -f "$T"/res-*.jsonl
	for r in policy judge; do
		f=$T/exp/batch/$r.export.jsonl
		[ -s "$f" ] && "$RUNBATCH" --server "http://127.0.0.1:$FAKE_PORT" \
			-i "$f" -o "$T/res-$r.jsonl"
	done
	"$CAIGEN" batch import --prompts "$T/in300.jsonl" --out "$T/exp" \
		--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
		-c "$T/live.yaml" --policy-model pol --judge-model jud -q \
		"$T"/res-*.jsonl 2>"$T/imp.err"
	rc=$?
done
eq import_done "$rc:$round" "0:2"
run_caigen "$T/exp.live" "$T/in300.jsonl" -c "$T/live.yaml" \
	--policy-model pol --judge-model jud -q --no-preflight
check import_identical_live cmp "$T/exp.live/preferences.jsonl" \
	"$T/exp/preferences.jsonl"
# a result line that names no request: file:line, nothing added
printf '%s\n' '{"custom_id":"p-00","response":{"status_code":200,"body":{}},"error":null}' \
	'{"response":null}' >"$T/bad.jsonl"
before=$(cat "$T"/exp/batch/*.results.jsonl | wc -l)
"$CAIGEN" batch import --prompts "$T/in300.jsonl" --out "$T/exp" \
	-c "$T/live.yaml" -q "$T/bad.jsonl" 2>"$T/bad.err"
eq import_bad_exit $? 2
check import_bad_says grep -q "bad.jsonl:2: " "$T/bad.err"
eq import_bad_nothing_added "$(cat "$T"/exp/batch/*.results.jsonl | wc -l)" "$before"
