# eval_agreement: on generated pairs whose labels are known and the fake
# judge (the longer reply wins), the report's agreement, Brier, log loss
# and ECE equal an independent computation from the records to 1e-9, the
# hard agreement is the share of pairs whose human chose the longer
# reply, and the bootstrap interval is the same for the same seed.
. "$(dirname "$0")/../lib.sh"
start_fake
# 200 pairs: the chosen reply is the longer one in 7 of every 10; every
# pair differs by more than 30 characters
awk 'BEGIN { for (i = 1; i <= 200; i++) {
	s = "Short answer " i "."; l = s;
	for (k = 0; k < 2 + i % 3; k++) l = l " With more detail, part " k ".";
	c = (i % 10 < 7) ? l : s; r = (i % 10 < 7) ? s : l;
	if (i % 2)
		printf "{\"prompt\":\"Question %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\",\"subset\":\"odd\"}\n", i, c, r;
	else
		printf "{\"chosen\":\"\\n\\nHuman: Question %d?\\n\\nAssistant: %s\",\"rejected\":\"\\n\\nHuman: Question %d?\\n\\nAssistant: %s\"}\n", i, c, i, r } }' >"$T/in.jsonl"
ev() { _o=$1; shift; "$CAIGEN" eval --pairs "$T/in.jsonl" --out "$_o" \
	--judge-url "$FAKE_URL" -q --seed 3 "$@"; }
ev "$T/o" --json --html "$T/r.html" >"$T/rep.json"
eq eval_exit $? 0
check eval_json_stdout_is_file cmp -s "$T/rep.json" "$T/o/eval.json"
R=$T/o/eval.json
eq eval_schema "$(jq -r .schema "$R")" caigen.eval/1
eq eval_items "$(jq .counts.items "$R")" 200
eq eval_scored "$(jq .counts.scored "$R")" 200
# the judge always prefers the longer reply: hard agreement = 140 / 200
eq eval_hard_is_longer_share "$(jq .overall.agreement_hard.value "$R")" 0.7
eq eval_judge_longer "$(jq .overall.length.judge_longer "$R")" 1
eq eval_reference_longer "$(jq .overall.length.reference_longer "$R")" 0.7
eq eval_longer_baseline "$(jq .overall.length.longer_baseline "$R")" 0.7
eq eval_position_consistent "$(jq .overall.position.consistent "$R")" 200
# independent computation from the records
jq -r '[.p, (if .reference.preferred == 0 then 1 else 0 end)] | @tsv' \
	"$T/o/preferences.jsonl" >"$T/py.tsv"
awk -v eps=1e-6 '
function clip(p) { return p < eps ? eps : p > 1 - eps ? 1 - eps : p }
function bin(q,  m) { for (m = 9; m > 0; m--) if (q >= m / 10) return m;
	return 0 }
function add(q, t,  m) { m = bin(q); sp[m] += q; sy[m] += t; c[m]++ }
{ p = $1; y = $2; n++;
  h += (p == 0.5) ? 0.5 : ((p > 0.5) == (y == 1)) ? 1 : 0;
  s += (y == 1) ? p : 1 - p;
  b += (p - y) ^ 2;
  l -= y * log(clip(p)) + (1 - y) * log(1 - clip(p));
  add(p, y); add(1 - p, 1 - y) }
END { for (m = 0; m < 10; m++) if (c[m]) {
	g = sy[m] / c[m] - sp[m] / c[m]; if (g < 0) g = -g;
	e += c[m] / (2 * n) * g }
  printf "%.17g\t%.17g\t%.17g\t%.17g\t%.17g\n", h / n, s / n, b / n, l / n, e }' \
	"$T/py.tsv" >"$T/mine.tsv"
jq -r '[.overall.agreement_hard.value, .overall.agreement_soft.value,
	.overall.brier, .overall.log_loss, .overall.ece] | @tsv' "$R" \
	>"$T/theirs.tsv"
i=0
for name in hard soft brier log_loss ece; do
	i=$((i + 1))
	a=$(cut -f$i "$T/mine.tsv")
	b=$(cut -f$i "$T/theirs.tsv")
	if awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d;
		exit !(d <= 1e-9) }'; then
		pass "eval_independent_$name"
	else
		fail "eval_independent_$name" "report $b, independent $a"
	fi
done
# the bootstrap interval: inside [0, 1] around the value, and the same
# bytes for the same seed from another output folder
check eval_ci_brackets jq -e '.overall.agreement_hard as $a |
	$a.ci_low <= $a.value and $a.value <= $a.ci_high and
	$a.ci_low > 0.5 and $a.ci_high < 0.9' "$R"
ev "$T/o2" --json >/dev/null
eq eval_ci_reproducible "$(jq -c '.overall.agreement_hard,
	.overall.agreement_soft' "$T/o2/eval.json")" \
	"$(jq -c '.overall.agreement_hard, .overall.agreement_soft' "$R")"
ev "$T/o3" --json --bootstrap 500 --seed 4 >/dev/null
if [ "$(jq -c .overall.agreement_soft "$T/o3/eval.json")" != \
	"$(jq -c .overall.agreement_soft "$R")" ]; then
	pass eval_ci_seed_matters
else
	fail eval_ci_seed_matters "seed 4 gave seed 3's interval"
fi
# groups: input tags and methods
eq eval_input_tag "$(jq '.by_input_tag.odd.n' "$R")" 100
eq eval_method "$(jq '.by_method.logprobs.n' "$R")" 200
check eval_principles jq -e '.by_principle | length > 1' "$R"
# the text report and the HTML page
ev "$T/o" >"$T/rep.txt"
eq eval_rerun_exit $? 0
check eval_text_agreement grep -q "agreement (hard): 0.7000" "$T/rep.txt"
check eval_text_reliability grep -q "^reliability:" "$T/rep.txt"
check eval_html_reliability grep -q "id='chart-reliability'" "$T/r.html"
check eval_html_principles grep -q "id='chart-principles'" "$T/r.html"
check eval_html_no_script sh -c "! grep -qi '<script' '$T/r.html'"
# time and price per 1000 pairs: time known, price unknown without prices
check eval_time_known jq -e '.cost.seconds_per_1000 > 0' "$T/o2/eval.json"
eq eval_price_unknown "$(jq .cost.price_per_1000 "$R")" null
cat >"$T/prices.yaml" <<EOF2
prices:
  judge: {input: 1.0, output: 2.0}
EOF2
ev "$T/o4" -c "$T/prices.yaml" --json >/dev/null
tok=$(jq -s 'map(.usage.prompt_tokens * 1 + .usage.completion_tokens * 2)
	| add / 1e6 / 200 * 1000' "$T/o4/preferences.jsonl")
check eval_price_per_1000 jq -e --argjson t "$tok" \
	'(.cost.price_per_1000 - $t) | fabs < 1e-9' "$T/o4/eval.json"
