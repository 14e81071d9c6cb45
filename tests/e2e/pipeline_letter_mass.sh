# pipeline_letter_mass: the letter-mass guard (judge.min_letter_mass). The
# fake judge puts 0.99 of its probability on the letters (other_mass
# 0.01), so a minimum of 0.995 marks every judgment by logprobs and the
# default of 0.5 none. Marked judgments carry low_letter_mass: true, the
# manifest's guards count them, the run warns once when more than 20 % of
# at least 20 judgments are marked, and the audit reports the mean letter
# mass and the judge's preference for the longer reply. The records and
# the manifest validate against the schemas.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 30 "$T/in.jsonl"
printf 'judge:\n  min_letter_mass: 0.995\n' >"$T/high.yaml"

# ---- every judgment marked: flagged, counted, one warning ----
run_caigen "$T/low" "$T/in.jsonl" -c "$T/high.yaml" --jobs 4 \
	>"$T/low.out" 2>"$T/low.err"
eq mass_run_exit $? 0
eq mass_records "$(lines "$T/low/preferences.jsonl")" 30
eq mass_every_judgment_marked "$(jq -s '[.[].judgments[] |
	select(.low_letter_mass == true)] | length' "$T/low/preferences.jsonl")" 60
eq mass_guard_counts "$(jq -c '[.guards.low_letter_mass,
	.guards.logprobs_judgments]' "$T/low/manifest.json")" "[60,60]"
eq mass_warned_once "$(grep -c 'judge answers put less than 0.995 of the probability' \
	"$T/low.err")" 1
check mass_warning_causes grep -q 'wrong chat template.*base model.*too small' \
	"$T/low.err"
check mass_summary_line grep -q \
	'caigen: guards: .*60 of 60 judgments low in letter mass' "$T/low.err"
eq mass_config_in_manifest "$(jq '.config.judge.min_letter_mass' \
	"$T/low/manifest.json")" 0.995

# ---- the default: nothing marked, no warning, the field absent ----
run_caigen "$T/ok" "$T/in.jsonl" --jobs 4 >"$T/ok.out" 2>"$T/ok.err"
eq mass_default_exit $? 0
eq mass_default_unmarked "$(grep -c low_letter_mass "$T/ok/preferences.jsonl")" 0
eq mass_default_counts "$(jq -c '[.guards.low_letter_mass,
	.guards.logprobs_judgments]' "$T/ok/manifest.json")" "[0,60]"
eq mass_default_no_warning "$(grep -c 'judge answers put less' "$T/ok.err")" 0
# apart from the flag, the records are the same bytes
eq mass_flag_only_difference "$(sed 's/,"low_letter_mass":true//g' \
	"$T/low/preferences.jsonl" | cmp - "$T/ok/preferences.jsonl" &&
	echo same)" same

# ---- under 20 judgments: marked and counted, but no warning yet ----
gen_prompts 5 "$T/few.jsonl"
run_caigen "$T/few" "$T/few.jsonl" -c "$T/high.yaml" >/dev/null 2>"$T/few.err"
eq mass_few_exit $? 0
eq mass_few_counted "$(jq '.guards.low_letter_mass' "$T/few/manifest.json")" 10
eq mass_few_no_warning "$(grep -c 'judge answers put less' "$T/few.err")" 0

# ---- a bad value is a config error ----
printf 'judge:\n  min_letter_mass: 1.5\n' >"$T/bad.yaml"
"$CAIGEN" check "$T/bad.yaml" >/dev/null 2>"$T/bad.err"
eq mass_bad_value_exit $? 2
check mass_bad_value_named grep -q 'min_letter_mass' "$T/bad.err"

# ---- the audit: letter mass and length preference per principle ----
"$CAIGEN" audit "$T/low/preferences.jsonl" --json --html "$T/a.html" \
	>"$T/a.json"
eq mass_audit_exit $? 0
eq mass_audit_counts "$(jq -c '.overall.labels | [.letter_mass_n,
	.low_letter_mass]' "$T/a.json")" "[60,60]"
check mass_audit_mean jq -e '.overall.labels.mean_letter_mass - 0.99 |
	fabs < 1e-9' "$T/a.json"
# the fake judge prefers the longer reply: every pair whose lengths are
# more than 30 characters apart goes to the longer one
check mass_audit_longer jq -e '.overall.labels.length_pairs > 0 and
	.overall.labels.prefers_longer == 1' "$T/a.json"
eq mass_audit_principles_have_it "$(jq '[.principles[] |
	select(.labels.n > 0 and .labels.mean_letter_mass == null)] | length' \
	"$T/a.json")" 0
"$CAIGEN" audit "$T/low/preferences.jsonl" >"$T/a.txt"
check mass_audit_text_columns grep -q '  letters  *longer' "$T/a.txt"
check mass_audit_text_count grep -q 'low_letter_mass: 60 of 60' "$T/a.txt"
check mass_audit_html_columns grep -q '<th>letter mass</th><th>prefers longer</th>' \
	"$T/a.html"

# ---- schemas: the flag and the counters validate; a false flag does not ----
if sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null; then
	jq -c '.judgments[0].low_letter_mass = false' \
		"$T/low/preferences.jsonl" | head -1 >"$T/false.jsonl"
	python3 - "$ROOT/schemas" "$T" <<'EOF'
import json, sys
import jsonschema
S, T = sys.argv[1], sys.argv[2]
def v(name):
    s = json.load(open("%s/%s.schema.json" % (S, name)))
    return jsonschema.Draft202012Validator(s)
def errs(val, docs):
    return [e.message for d in docs for e in val.iter_errors(d)]
pref, man, aud = v("preference"), v("manifest"), v("audit")
recs = [json.loads(l) for l in open(T + "/low/preferences.jsonl")]
for name, e in [("mass_schema_records", errs(pref, recs)),
                ("mass_schema_manifest",
                 errs(man, [json.load(open(T + "/low/manifest.json"))])),
                ("mass_schema_audit",
                 errs(aud, [json.load(open(T + "/a.json"))]))]:
    print("FAIL %s: %s" % (name, e[:2]) if e else "PASS " + name)
bad = [json.loads(l) for l in open(T + "/false.jsonl")]
print("PASS mass_schema_refuses_false" if errs(pref, bad)
      else "FAIL mass_schema_refuses_false: accepted")
EOF
else
	fail mass_schema_deps "python3-jsonschema could not be installed"
fi
