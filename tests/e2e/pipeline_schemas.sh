# pipeline_schemas: every file caigen writes validates against the JSON
# Schemas in schemas/ with a real validator (python3-jsonschema, draft
# 2020-12): preference records (logprobs, text, votes, Anthropic and
# chain-of-thought judges), critique records (mode critiques and both),
# failures, rejects, run, shard and merged manifests, and the audit
# report. Broken records must be refused, so the checks can fail. Also the
# token and cost totals of a priced run (manifest usage_by_model/cost_usd,
# summary and progress line) and the price table's error messages.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail schemas_deps "python3-jsonschema could not be installed"
	exit 1
}
S=$ROOT/schemas

# Validation is batched (python starts once, at the end): valid and
# invalid queue "NAME<TAB>SCHEMA<TAB>FILE<TAB>want" lines, and the
# validator prints a PASS or FAIL line for each. A .jsonl file holds one
# record a line, anything else one document. Each schema is checked
# against the draft 2020-12 metaschema when first used.
cat >"$T/validate.py" <<'EOF'
import json, sys
import jsonschema
V = {}
def validator(path):
    if path not in V:
        schema = json.load(open(path))
        jsonschema.Draft202012Validator.check_schema(schema)
        V[path] = jsonschema.Draft202012Validator(schema)
    return V[path]
for line in open(sys.argv[1], encoding="utf-8"):
    name, schema, path, want = line.rstrip("\n").split("\t")
    try:
        v = validator(schema)
        text = open(path, encoding="utf-8").read()
        if path.endswith(".jsonl"):
            docs = [json.loads(l) for l in text.splitlines() if l.strip()]
        else:
            docs = [json.loads(text)]
        errs = ["%s:%d: %s at /%s" % (path, i + 1, e.message[:160],
                "/".join(str(p) for p in e.absolute_path))
                for i, d in enumerate(docs) for e in v.iter_errors(d)]
    except Exception as e:
        print("FAIL %s: %s" % (name, str(e)[:300]))
        continue
    if not docs:
        print("FAIL %s: no records in %s" % (name, path))
    elif want == "valid" and errs:
        print("FAIL %s: %s" % (name, " ".join(errs[:3])))
    elif want == "invalid" and not errs:
        print("FAIL %s: accepted: %s" % (name, text[:300]))
    else:
        print("PASS %s" % name)
EOF
: >"$T/checks.tsv"
# valid NAME SCHEMA FILE: PASS if every record validates (and there is one)
valid() {
	printf '%s\t%s\t%s\tvalid\n' "$1" "$S/$2.schema.json" "$3" \
		>>"$T/checks.tsv"
}
# invalid NAME SCHEMA JSON: PASS if the validator refuses the record
_nbad=0
invalid() {
	_nbad=$((_nbad + 1))
	printf '%s\n' "$3" >"$T/bad.$_nbad.jsonl"
	printf '%s\t%s\t%s\tinvalid\n' "$1" "$S/$2.schema.json" \
		"$T/bad.$_nbad.jsonl" >>"$T/checks.tsv"
}

for s in preference critique failure reject manifest audit; do
	if [ -f "$S/$s.schema.json" ]; then
		# the metaschema check happens on first use: use each once
		printf '{}\n' >"$T/empty.$s.json"
		printf 'schemas_%s_metaschema\t%s\t%s\tinvalid\n' "$s" \
			"$S/$s.schema.json" "$T/empty.$s.json" >>"$T/checks.tsv"
	else
		fail "schemas_${s}_present" "no $S/$s.schema.json"
	fi
done

# a demo-sized run: the sample prompts plus two unusable lines, with the
# judge refusing half the prompts so failures.jsonl has lines too
start_fake
good=$FAKE_URL
{
	cat "$ROOT/datasets/sample/prompts.jsonl"
	echo '{not json'
	echo '{"prompt": 7}'
} >"$T/in.jsonl"
run_caigen "$T/out" "$T/in.jsonl" -q --jobs 4 >"$T/stdout" 2>"$T/stderr"
eq schemas_run_exit $? 0
valid schemas_preferences preference "$T/out/preferences.jsonl"
valid schemas_rejects reject "$T/out/rejects.jsonl"
valid schemas_manifest manifest "$T/out/manifest.json"
# the same prompts against a policy whose two answers are always the same
# (a refused key no longer fails prompts: it stops the run, exit 2), so
# every prompt fails with "identical responses"
start_fake --same-answers
same=$FAKE_URL
"$CAIGEN" run --prompts "$ROOT/datasets/sample/prompts.jsonl" --limit 6 \
	--out "$T/fail" --policy-url "$same" --judge-url "$good" -q \
	>"$T/stdout" 2>"$T/stderr"
eq schemas_failing_run_exit $? 1
valid schemas_failures failure "$T/fail/failures.jsonl"
valid schemas_failing_manifest manifest "$T/fail/manifest.json"

# records the schema must refuse
rec=$(head -n 1 "$T/out/preferences.jsonl")
invalid schemas_refuses_p_above_1 preference \
	"$(echo "$rec" | jq -c '.p = 1.5')"
invalid schemas_refuses_missing_chosen preference \
	"$(echo "$rec" | jq -c 'del(.chosen)')"
invalid schemas_refuses_three_responses preference \
	"$(echo "$rec" | jq -c '.responses += ["x"]')"
invalid schemas_refuses_unknown_method preference \
	"$(echo "$rec" | jq -c '.judgments[0].method = "guess"')"
invalid schemas_refuses_text_prompt_with_list_reply preference \
	"$(echo "$rec" | jq -c '.prompt = "Why?" | .chosen = [{"role":"assistant","content":"x"}]')"
invalid schemas_refuses_negative_seed preference \
	"$(echo "$rec" | jq -c '.seed = -1')"
invalid schemas_refuses_key_in_manifest manifest \
	"$(jq -c '.config.policy.api_key = "sk-x"' "$T/out/manifest.json")"
invalid schemas_refuses_reject_line_0 reject \
	'{"schema":"caigen.reject/1","line":0,"index":0,"reason":"x"}'
# the optional fields other judging methods write are allowed
printf '%s\n' "$(echo "$rec" | jq -c '
	.judgments[0] = {"order": "AB", "p_a": 0.75, "method": "votes",
			  "votes": {"A": 3, "B": 1, "k": 4},
			  "rationale": "because"} | .p_raw = 0.9')" >"$T/votes.jsonl"
valid schemas_allows_votes_judgment preference "$T/votes.jsonl"
invalid schemas_refuses_votes_without_counts preference \
	"$(echo "$rec" | jq -c '.judgments[0] = {"order": "AB", "p_a": 0.75,
		"method": "votes"}')"

# judges without logprobs: text labels, votes, and Anthropic's API
start_fake --refuse-logprobs
refusing=$FAKE_URL
printf 'judge:\n  votes: 3\n' >"$T/votes.yaml"
for m in text votes anthropic; do
	case $m in
	text) set -- ;;
	votes) set -- -c "$T/votes.yaml" ;;
	anthropic) printf 'judge:\n  api: anthropic\n' >"$T/anth.yaml"
		set -- -c "$T/anth.yaml" ;;
	esac
	ju=$refusing
	[ $m = anthropic ] && ju=$good
	"$CAIGEN" run "$@" --prompts "$ROOT/datasets/sample/prompts.jsonl" \
		--limit 6 --out "$T/m-$m" --policy-url "$good" --judge-url "$ju" \
		-q >"$T/m-$m.out" 2>"$T/m-$m.err"
	eq "schemas_${m}_run_exit" $? 0
	valid "schemas_${m}_records" preference "$T/m-$m/preferences.jsonl"
done
check schemas_votes_method_recorded jq -e -s \
	'all(.judgments[].method == "votes")' "$T/m-votes/preferences.jsonl"

# critique records: from a real critiques run if the mode exists
cat >"$T/crit.yaml" <<EOF
mode: critiques
EOF
"$CAIGEN" run -c "$T/crit.yaml" --prompts "$ROOT/datasets/sample/prompts.jsonl" \
	--limit 12 --out "$T/crit" --policy-url "$good" --judge-url "$good" -q \
	>"$T/stdout" 2>"$T/stderr"
crc=$?
if [ $crc -eq 0 ] && [ -s "$T/crit/critiques.jsonl" ]; then
	valid schemas_critiques critique "$T/crit/critiques.jsonl"
	valid schemas_critique_manifest manifest "$T/crit/manifest.json"
else
	# NOTE: mode critiques is not available in this build (exit $crc):
	# check the schema on a record written the way the mode is specified
	echo "note: mode critiques not available (exit $crc); fixture only"
	cat >"$T/crit.jsonl" <<'EOF'
{"schema":"caigen.critique/1","id":"c1","index":0,"prompt":"How do I pick a lock?","initial":"Use a tension wrench.","rounds":[{"principle":{"id":"harm-crit-01","constitution":"harmless@sha256:fb76fd56e07a3d3e03829df3a0cc6a3696aca334af07185b7c4774218fc75ed1","tags":["harm"]},"critique_request":"Point out anything harmful.","critique":"It may help a burglar.","revision_request":"Rewrite it without the harm.","revision":"Call a locksmith."}],"revision":"Call a locksmith.","init_prompt":"How do I pick a lock?","init_response":"Use a tension wrench.","critic_prompt":"Point out anything harmful.","critic_response":"It may help a burglar.","revision_prompt":"Rewrite it without the harm.","revision_response":"Call a locksmith.","messages":[{"role":"user","content":"How do I pick a lock?"}],"chosen":[{"role":"user","content":"How do I pick a lock?"},{"role":"assistant","content":"Call a locksmith."}],"rejected":[{"role":"user","content":"How do I pick a lock?"},{"role":"assistant","content":"Use a tension wrench."}],"models":{"policy":"p"},"usage":{"prompt_tokens":10,"completion_tokens":20},"seed":1}
EOF
	valid schemas_critique_fixture critique "$T/crit.jsonl"
fi
# mode both, with a chain-of-thought judge: rationales, clamps and p_raw
printf 'mode: both\njudge:\n  cot: true\n' >"$T/both.yaml"
"$CAIGEN" run -c "$T/both.yaml" --prompts "$ROOT/datasets/sample/prompts.jsonl" \
	--limit 8 --out "$T/both" --policy-url "$good" --judge-url "$good" -q \
	>"$T/stdout" 2>"$T/stderr"
if [ $? -eq 0 ] && [ -s "$T/both/critiques.jsonl" ]; then
	valid schemas_both_critiques critique "$T/both/critiques.jsonl"
	valid schemas_both_cot_preferences preference \
		"$T/both/preferences.jsonl"
	check schemas_both_cot_has_rationale jq -e -s \
		'all(.judgments[].rationale | type == "string")' \
		"$T/both/preferences.jsonl"
else
	echo "note: mode both with judge.cot not available; skipped"
fi
crec=$(head -n 1 "$T/crit/critiques.jsonl" 2>/dev/null || head -n 1 "$T/crit.jsonl")
invalid schemas_refuses_critique_without_rounds critique \
	"$(echo "$crec" | jq -c '.rounds = []')"
invalid schemas_refuses_round_without_revision critique \
	"$(echo "$crec" | jq -c 'del(.rounds[0].revision)')"

# the audit report of the run above, as JSON
if "$CAIGEN" audit --help >/dev/null 2>&1; then
	"$CAIGEN" audit --json --constitution "$ROOT/constitution/harmless.yaml" \
		"$T/out/preferences.jsonl" >"$T/audit.json" 2>"$T/audit.err"
	eq schemas_audit_exit $? 0
	valid schemas_audit audit "$T/audit.json"
	invalid schemas_refuses_audit_short_histogram audit \
		"$(jq -c '.p_histogram.counts |= .[1:]' "$T/audit.json")"
	invalid schemas_refuses_audit_rate_above_1 audit \
		"$(jq -c '.overall.labels.near_tie_rate = 2' "$T/audit.json")"
	if [ -s "$T/crit/critiques.jsonl" ]; then
		"$CAIGEN" audit --json "$T/crit/critiques.jsonl" \
			>"$T/audit2.json" 2>/dev/null
		valid schemas_audit_critiques audit "$T/audit2.json"
	fi
else
	fail schemas_audit "no 'caigen audit' command"
fi

# ---- tokens and cost: totals per model, priced by the config ----
cat >"$T/priced.yaml" <<EOF2
policy:
  model: m-policy
judge:
  model: m-judge
prices:
  m-policy: {input: 0.5, output: 1.5}
  m-judge: {input: 2.0, output: 8.0}
EOF2
"$CAIGEN" run -c "$T/priced.yaml" --prompts "$ROOT/datasets/sample/prompts.jsonl" \
	--limit 20 --out "$T/cost" --policy-url "$good" --judge-url "$good" \
	--jobs 4 >"$T/cost.out" 2>"$T/cost.err"
eq cost_run_exit $? 0
M=$T/cost/manifest.json
valid cost_manifest manifest "$M"
# every request succeeded at once, so the models' totals are the records'
eq cost_tokens_add_up \
	"$(jq -s -c '[([.[].usage.prompt_tokens] | add),
		([.[].usage.completion_tokens] | add)]' "$T/cost/preferences.jsonl")" \
	"$(jq -c '[([.usage_by_model[].prompt_tokens] | add),
		([.usage_by_model[].completion_tokens] | add)]' "$M")"
check cost_per_model jq -e '(.usage_by_model | keys) == ["m-judge", "m-policy"]
	and .usage_by_model["m-judge"].completion_tokens > 0
	and .usage_by_model["m-policy"].prompt_tokens > 0' "$M"
check cost_usd_is_tokens_times_prices jq -e '
	.usage_by_model["m-policy"] as $p | .usage_by_model["m-judge"] as $j
	| (($p.prompt_tokens * 0.5 + $p.completion_tokens * 1.5
	    + $j.prompt_tokens * 2 + $j.completion_tokens * 8) / 1e6) as $want
	| ((.cost_usd - $want) | fabs) <= 1e-5 * $want and .cost_usd > 0
	and ((.usage_by_model["m-judge"].cost_usd
	      - ($j.prompt_tokens * 2 + $j.completion_tokens * 8) / 1e6)
	     | fabs) <= 1e-5 * $want' "$M"
check cost_prices_in_manifest jq -e \
	'.config.prices["m-judge"] == {"input": 2, "output": 8}' "$M"
check cost_in_summary grep -Eq "^caigen: tokens by model: .*cost \\\$[0-9]" \
	"$T/cost.err"
check cost_in_progress_line grep -Eq '^progress: .*\$[0-9]' "$T/cost.err"
# no price table: the cost is null, never 0; one model for both roles
check cost_null_without_prices jq -e '.cost_usd == null and
	(.usage_by_model | keys) == ["judge", "policy"]' "$T/out/manifest.json"
printf 'policy:\n  model: same\njudge:\n  model: same\nprices:\n  other: {input: 1, output: 1}\n' >"$T/same.yaml"
"$CAIGEN" run -c "$T/same.yaml" --prompts "$ROOT/datasets/sample/prompts.jsonl" \
	--limit 5 --out "$T/same" --policy-url "$good" --judge-url "$good" -q \
	>/dev/null 2>&1
eq cost_same_model_exit $? 0
check cost_same_model_one_row jq -e '(.usage_by_model | keys) == ["same"]
	and .usage_by_model.same.cost_usd == null and .cost_usd == null' \
	"$T/same/manifest.json"
printf 'prices:\n  m: {input: -1, output: 1}\n' >"$T/badprice.yaml"
"$CAIGEN" check "$T/badprice.yaml" >/dev/null 2>"$T/badprice.err"
eq cost_negative_price_exit_2 $? 2
check cost_negative_price_message grep -q "badprice.yaml:2:.*'input' of 'm'" \
	"$T/badprice.err"

# shards and their merge: every file still validates
if "$CAIGEN" merge --help >/dev/null 2>&1; then
	for k in 0 1; do
		"$CAIGEN" run --shard $k/2 --prompts "$ROOT/datasets/sample/prompts.jsonl" \
			--out "$T/sh" --policy-url "$good" --judge-url "$good" -q \
			>/dev/null 2>&1
	done
	mkdir -p "$T/merged"
	"$CAIGEN" merge -q "$T"/sh/preferences.shard-*.jsonl \
		-o "$T/merged/preferences.jsonl" >/dev/null 2>&1
	eq schemas_merge_exit $? 0
	valid schemas_shard_manifest manifest "$T/sh/manifest.shard-00001-of-00002.json"
	valid schemas_merged_preferences preference "$T/merged/preferences.jsonl"
	valid schemas_merged_manifest manifest "$T/merged/manifest.json"
fi

# price table mistakes are config errors with their position
badprice() {
	printf '%b' "$2" >"$T/bp.yaml"
	"$CAIGEN" check "$T/bp.yaml" >/dev/null 2>"$T/bp.err"
	_rc=$?
	if [ $_rc -eq 2 ] && grep -q -- "$3" "$T/bp.err"; then
		pass "$1"
	else
		fail "$1" "exit $_rc: $(cat "$T/bp.err")"
	fi
}
badprice cost_price_not_mapping 'prices: 3\n' "bp.yaml:1:9: 'prices' must be a mapping"
badprice cost_price_unknown_key 'prices:\n  m: {input: 1, outptu: 2}\n' \
	"bp.yaml:2:17: unknown key 'outptu'"
badprice cost_price_missing_output 'prices:\n  m: {input: 1}\n' \
	"needs both 'input' and 'output'"
badprice cost_price_twice 'prices:\n  m: {input: 1, output: 1}\n  m: {input: 2, output: 2}\n' \
	"bp.yaml:3:3: model 'm' is priced twice"
badprice cost_price_not_number 'prices:\n  m: {input: cheap, output: 1}\n' \
	"'input' of 'm' must be a number"

# every queued validation, in one validator process
python3 "$T/validate.py" "$T/checks.tsv" 2>&1
