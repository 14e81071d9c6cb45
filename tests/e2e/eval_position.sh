# eval_position: a dataset whose chosen reply is always stored first gives
# a judge that always picks slot A no credit: the pair is shown in a
# seeded random order and, by default, in both orders.
. "$(dirname "$0")/../lib.sh"
# the judge's logit for slot A gets +20: it answers "A" whatever it sees
start_fake --judge-bias-a 20
# 200 pairs of equal-length replies, chosen always first
awk 'BEGIN { for (i = 1; i <= 200; i++)
	printf "{\"id\":\"e%03d\",\"prompt\":\"Question %d?\",\"chosen\":\"Good answer %03d.\",\"rejected\":\"Poor answer %03d.\"}\n", i, i, i, i }' >"$T/in.jsonl"
"$CAIGEN" eval --pairs "$T/in.jsonl" --out "$T/o" --judge-url "$FAKE_URL" \
	-q --json >/dev/null
eq pos_exit $? 0
R=$T/o/eval.json
# both orders: slot A wins twice on every pair, p is 1/2 (to the letters'
# printed precision), so the soft agreement is 1/2 and no better
eq pos_first_slot_all "$(jq .overall.position.first "$R")" 200
check pos_binomial_significant jq -e '.overall.position.binomial_p < 1e-50' "$R"
eq pos_same_position "$(jq .overall.position.same_position "$R")" 1
check pos_soft_is_chance jq -e '(.overall.agreement_soft.value - 0.5) | fabs
	< 1e-6' "$R"
# one order only: the judge's verdict follows the slot, and the slot of
# the chosen reply is a seeded coin per id: agreement near chance, nowhere
# near the 1.0 a fixed chosen-in-A layout would give
printf 'judge:\n  both_orders: false\n' >"$T/one.yaml"
"$CAIGEN" eval -c "$T/one.yaml" --pairs "$T/in.jsonl" --out "$T/one" \
	--judge-url "$FAKE_URL" -q --json >/dev/null
eq pos_one_order_exit $? 0
check pos_one_order_no_credit jq -e '.overall.agreement_hard.value > 0.3 and
	.overall.agreement_hard.value < 0.7' "$T/one/eval.json"
eq pos_one_order_unparsed "$(jq .overall.position.unparsed \
	"$T/one/eval.json")" 200
# the chosen reply sits in both positions of responses[]
check pos_chosen_both_positions sh -c "jq .reference.preferred \
	'$T/one/preferences.jsonl' | sort -u | tr '\n' ' ' | grep -qx '0 1 '"
