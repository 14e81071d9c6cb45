# pipeline_max_cost: --max-cost stops a live run within one request's cost
# of the cap (exit 75, the spending said), the next run with a higher cap
# goes on and every prompt ends up exactly once; a cap with a model that
# has no price is refused before anything is sent.
. "$(dirname "$0")/../lib.sh"
start_fake --log "$T/req.log"
gen_prompts 200 "$T/in.jsonl"
# $1000 per million tokens both ways: a prompt costs about $1 here
cat >"$T/prices.yaml" <<EOF2
prices:
  pol: {input: 1000, output: 1000}
  jud: {input: 1000, output: 1000}
policy:
  max_tokens: 64
EOF2
CAP=20
run_caigen "$T/out" "$T/in.jsonl" -c "$T/prices.yaml" --policy-model pol \
	--judge-model jud --jobs 4 --max-cost $CAP -q >"$T/o1" 2>"$T/e1"
eq max_cost_exit $? 75
cat "$T/e1" | grep -i 'cap' | head -3
check max_cost_said grep -q 'spending cap of \$20.0000 reached' "$T/e1"
n1=$(lines "$T/out/preferences.jsonl")
check max_cost_stopped_early [ "$n1" -gt 0 -a "$n1" -lt 200 ]
# what the replies cost, from the manifest, never past the cap
check max_cost_manifest jq -e '.max_cost.reached == true and
	.max_cost.cap_usd == 20 and .max_cost.spent_usd <= 20 and
	.max_cost.spent_usd > 0 and .cost_usd <= 20' "$T/out/manifest.json"
check max_cost_no_failures [ ! -s "$T/out/failures.jsonl" ]
# a higher cap: the run goes on from where it stopped
run_caigen "$T/out" "$T/in.jsonl" -c "$T/prices.yaml" --policy-model pol \
	--judge-model jud --jobs 4 --max-cost 100000 -q >/dev/null 2>&1
eq max_cost_resume_exit $? 0
eq max_cost_exactly_once "$(jq -r .id "$T/out/preferences.jsonl" |
	sort -u | wc -l | tr -d ' '):$(lines "$T/out/preferences.jsonl")" \
	"200:200"
# a cap it cannot check: no price for the judge model, nothing sent
before=$(lines "$T/req.log")
run_caigen "$T/out2" "$T/in.jsonl" -c "$T/prices.yaml" --policy-model pol \
	--judge-model other --max-cost 5 --no-preflight -q >/dev/null \
	2>"$T/e3"
eq max_cost_unpriced_exit $? 2
check max_cost_unpriced_says grep -q "model 'other' (judge) has no row in 'prices'" "$T/e3"
eq max_cost_unpriced_nothing_sent "$(lines "$T/req.log")" "$before"
