# eval_schema: the eval report validates against schemas/eval.schema.json
# and label's records against schemas/preference.schema.json (a real
# draft 2020-12 validator); a broken report is refused.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail eval_schema_deps "python3-jsonschema could not be installed"
	exit 1
}
start_fake
cat "$ROOT"/tests/data/pairs/trl.jsonl "$ROOT"/tests/data/pairs/hh.jsonl \
	"$ROOT"/tests/data/pairs/mtbench.jsonl >"$T/in.jsonl"
printf 'judge:\n  cot: true\n' >"$T/cot.yaml"
"$CAIGEN" eval -c "$T/cot.yaml" --pairs "$T/in.jsonl" --out "$T/o" \
	--judge-url "$FAKE_URL" -q >/dev/null
eq eval_schema_exit $? 0
jq '.overall.agreement_hard.value = 2' "$T/o/eval.json" >"$T/broken.json"
jq 'del(.overall.position)' "$T/o/eval.json" >"$T/broken2.json"
cat >"$T/v.py" <<'PY'
import json, sys
import jsonschema
def check(name, schema, path, want):
    v = jsonschema.Draft202012Validator(json.load(open(schema)))
    jsonschema.Draft202012Validator.check_schema(v.schema)
    text = open(path).read()
    docs = [json.loads(l) for l in text.splitlines() if l.strip()] \
        if path.endswith(".jsonl") else [json.loads(text)]
    errs = [e.message[:200] for d in docs for e in v.iter_errors(d)]
    ok = (not errs) if want == "valid" else bool(errs)
    print(("PASS %s" % name) if ok and docs else
          ("FAIL %s: %s" % (name, errs[:2] or "accepted")))
S = sys.argv[1]
T = sys.argv[2]
check("eval_schema_report", S + "/eval.schema.json", T + "/o/eval.json", "valid")
check("eval_schema_records", S + "/preference.schema.json",
      T + "/o/preferences.jsonl", "valid")
check("eval_schema_refuses_value", S + "/eval.schema.json",
      T + "/broken.json", "invalid")
check("eval_schema_refuses_missing", S + "/eval.schema.json",
      T + "/broken2.json", "invalid")
PY
python3 "$T/v.py" "$ROOT/schemas" "$T"
# CoT clamps p to [0.4, 0.6] by default: the report grades p_raw too
check eval_schema_raw_block jq -e '.overall.raw.brier != null' "$T/o/eval.json"
