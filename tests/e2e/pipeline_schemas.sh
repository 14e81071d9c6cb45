# pipeline_schemas: every file a demo-sized run writes validates against
# the JSON Schemas in schemas/ with a real validator (python3-jsonschema,
# draft 2020-12): preference records, failures, rejects, the manifest, and
# critique records (from a critiques run when that mode works, else from a
# fixture written here). The schemas themselves are checked against the
# metaschema, and broken records must be refused, so the check can fail.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail schemas_deps "python3-jsonschema could not be installed"
	exit 1
}
S=$ROOT/schemas

# validate SCHEMA FILE...: one line per invalid record, then "checked N".
# .jsonl files hold one record a line, anything else one document.
cat >"$T/validate.py" <<'EOF'
import json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
n = 0
for path in sys.argv[2:]:
    text = open(path, encoding="utf-8").read()
    if path.endswith(".jsonl"):
        docs = [json.loads(l) for l in text.splitlines() if l.strip()]
    else:
        docs = [json.loads(text)]
    for i, d in enumerate(docs):
        n += 1
        for e in v.iter_errors(d):
            print("%s:%d: %s at /%s" % (path, i + 1, e.message[:160],
                  "/".join(str(p) for p in e.absolute_path)))
print("checked %d" % n)
EOF
# valid NAME SCHEMA FILE: PASS if every record validates (and there is one)
valid() {
	_out=$(python3 "$T/validate.py" "$S/$2.schema.json" "$3" 2>&1)
	case "$_out" in
	"checked 0") fail "$1" "no records in $3" ;;
	"checked "*) pass "$1" ;;
	*) fail "$1" "$(echo "$_out" | head -3 | tr '\n' ' ')" ;;
	esac
}
# invalid NAME SCHEMA JSON: PASS if the validator refuses the record
invalid() {
	printf '%s\n' "$3" >"$T/bad.jsonl"
	_out=$(python3 "$T/validate.py" "$S/$2.schema.json" "$T/bad.jsonl" 2>&1)
	case "$_out" in
	"checked 1") fail "$1" "accepted: $3" ;;
	*"checked 1") pass "$1" ;;
	*) fail "$1" "$_out" ;;
	esac
}

for s in preference critique failure reject manifest audit; do
	if [ ! -f "$S/$s.schema.json" ]; then
		fail "schemas_${s}_present" "no $S/$s.schema.json"
		continue
	fi
	check "schemas_${s}_metaschema" python3 -c '
import json, sys, jsonschema
jsonschema.Draft202012Validator.check_schema(json.load(open(sys.argv[1])))
' "$S/$s.schema.json"
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
# the same prompts against a judge that wants a key we do not send (no
# preflight, which would stop the run before it starts)
start_fake --api-key right-key
locked=$FAKE_URL
"$CAIGEN" run --prompts "$ROOT/datasets/sample/prompts.jsonl" --limit 6 \
	--out "$T/fail" --policy-url "$good" --judge-url "$locked" -q \
	--no-preflight \
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
	"$(echo "$rec" | jq -c '.chosen = [{"role":"assistant","content":"x"}]')"
invalid schemas_refuses_negative_seed preference \
	"$(echo "$rec" | jq -c '.seed = -1')"
invalid schemas_refuses_key_in_manifest manifest \
	"$(jq -c '.config.policy.api_key = "sk-x"' "$T/out/manifest.json")"
invalid schemas_refuses_reject_line_0 reject \
	'{"schema":"caigen.reject/1","line":0,"index":0,"reason":"x"}'
# the optional fields other judging methods write are allowed
printf '%s\n' "$(echo "$rec" | jq -c '
	.judgments[0] = {"order": "AB", "p_a": 0.75, "method": "votes",
			  "rationale": "because"} | .p_raw = 0.9')" >"$T/votes.jsonl"
valid schemas_allows_votes_judgment preference "$T/votes.jsonl"

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
