# label_basic: caigen label over the pair fixtures of every format, with
# no policy server at all; the fake judge's rule (the longer reply wins,
# p = 1 / (1 + exp(-(L0 - L1) / 50))) fixes every label.
. "$(dirname "$0")/../lib.sh"
start_fake
D=$ROOT/tests/data/pairs
cat "$D/trl.jsonl" "$D/hh.jsonl" "$D/ultrafeedback.jsonl" "$D/hhh.jsonl" \
	"$D/mtbench.jsonl" "$D/bad.jsonl" >"$T/in.jsonl"
# the policy URL is a closed port: label must neither probe nor call it
"$CAIGEN" label --pairs "$T/in.jsonl" --out "$T/o" --judge-url "$FAKE_URL" \
	--policy-url http://127.0.0.1:9/v1 -q 2>"$T/err"
eq label_exit $? 0
# 5 trl + 2 hh + 2 uf + 1 hhh + 2 mt-bench + 1 good line of bad.jsonl
eq label_records "$(lines "$T/o/preferences.jsonl")" 13
# mt-bench turn 2 and nine bad lines
eq label_rejects "$(lines "$T/o/rejects.jsonl")" 10
eq label_reject_reason "$(jq -r 'select(.line == 15) | .reason' \
	"$T/o/rejects.jsonl")" "identical replies"
eq label_policy_is_input "$(jq -r .models.policy "$T/o/preferences.jsonl" |
	sort -u)" input
eq label_schema "$(jq -r .schema "$T/o/preferences.jsonl" | sort -u)" \
	caigen.preference/1
eq label_both_orders "$(jq '.judgments | length' "$T/o/preferences.jsonl" |
	sort -u)" 2
# every pair here has a label; the ultrafeedback score tie and the
# mt-bench "tie (bothbad)" are ties
eq label_reference_all "$(jq 'select(.reference) | .id' \
	"$T/o/preferences.jsonl" | wc -l | tr -d ' ')" 13
eq label_reference_ties "$(jq 'select(.reference.preferred == null) | .id' \
	"$T/o/preferences.jsonl" | wc -l | tr -d ' ')" 2
eq label_formats "$(jq -r .reference.format "$T/o/preferences.jsonl" |
	sort -u | tr '\n' ' ')" "hh-rlhf hhh mt-bench trl ultrafeedback "
# the judge rule, checked on every record (replies' byte lengths)
bad=$(jq -r '[.p, (.responses[0] | utf8bytelength),
	(.responses[1] | utf8bytelength)] | @tsv' "$T/o/preferences.jsonl" |
	awk '{ e = 1 / (1 + exp(-($2 - $3) / 50)); d = $1 - e;
	       if (d < 0) d = -d; if (d > 1e-6) n++ } END { print n + 0 }')
eq label_p_follows_judge_rule "$bad" 0
# the reference names the reply the input preferred, wherever it sits:
# hhh's correct reply and the hh-rlhf chosen ones are known texts
eq label_reference_hhh "$(jq -r 'select(.reference.format == "hhh") |
	.responses[.reference.preferred]' "$T/o/preferences.jsonl")" \
	"I would rather help you study for it; here is a plan."
eq label_reference_mt "$(jq -r 'select(.reference.format == "mt-bench" and
	.reference.preferred != null) | .responses[.reference.preferred]' \
	"$T/o/preferences.jsonl" | cut -c1-20)" "Steam curls from the"
eq label_input_tags "$(jq -c 'select(.id == "42") | .reference.tags' \
	"$T/o/preferences.jsonl")" '["geo"]'
# a second run finds everything done
"$CAIGEN" label --pairs "$T/in.jsonl" --out "$T/o" --judge-url "$FAKE_URL" \
	2>"$T/err2"
eq label_rerun_exit $? 0
eq label_rerun_records "$(lines "$T/o/preferences.jsonl")" 13
check label_rerun_nothing_new grep -q "0 written, 13 already done" "$T/err2"
