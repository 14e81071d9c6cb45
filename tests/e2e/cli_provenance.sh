# cli_provenance: eval.json names what made it: the judge model, the
# input file, the time and caigen's version.
. "$(dirname "$0")/../lib.sh"
start_fake
D=$ROOT/tests/data/pairs
"$CAIGEN" eval --pairs "$D/trl.jsonl" --out "$T/ev" --judge-url "$FAKE_URL" \
	--judge-model judge-x -q >/dev/null 2>&1
eq provenance_eval_exit $? 0
eq provenance_judge "$(jq -r '.provenance.judge_models | join(",")' "$T/ev/eval.json")" judge-x
eq provenance_input "$(jq -r .provenance.input "$T/ev/eval.json")" "$D/trl.jsonl"
check provenance_time jq -e '.provenance.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")' "$T/ev/eval.json"
check provenance_version jq -e '.provenance.caigen_version | length > 0' "$T/ev/eval.json"
