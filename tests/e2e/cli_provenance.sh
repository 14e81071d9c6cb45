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

# the page of the same report names the same facts
"$CAIGEN" eval --pairs "$D/trl.jsonl" --out "$T/ev2" --judge-url "$FAKE_URL" \
	--judge-model judge-x -q --html "$T/ev.html" >/dev/null 2>&1
eq provenance_eval_html_exit $? 0
prow() {	# prow FILE ROW: the cell of that row of table#provenance
	sed -n "/<table id='provenance'>/,/<\/table>/p" "$1" |
		sed -n "s|^<tr><td>$2</td><td class='id'>\(.*\)</td></tr>\$|\1|p"
}
eq provenance_eval_html_judge "$(prow "$T/ev.html" 'judge model(s)')" judge-x
eq provenance_eval_html_input "$(prow "$T/ev.html" input)" "$D/trl.jsonl"
eq provenance_eval_html_time "$(prow "$T/ev.html" 'time (UTC)')" \
	"$(jq -r .provenance.time "$T/ev2/eval.json")"
eq provenance_eval_html_version "$(prow "$T/ev.html" 'caigen version')" \
	"$(jq -r .provenance.caigen_version "$T/ev2/eval.json")"
eq provenance_version_is_binary "$(jq -r .provenance.caigen_version "$T/ev2/eval.json")" \
	"$("$CAIGEN" version | awk '{ print $NF }')"

# a report on a folder's records names the judge that made them, not the
# default of a command line that names none, and the file it read
"$CAIGEN" eval --out "$T/ev" --json -q >"$T/re.json" 2>/dev/null
eq provenance_rereport_judge "$(jq -r '.provenance.judge_models | join(",")' "$T/re.json")" judge-x
eq provenance_rereport_input "$(jq -r .provenance.input "$T/re.json")" \
	"$T/ev/preferences.jsonl"

# the audit: JSON and page; a panel's members are judges too; SOURCE_DATE_EPOCH
# fixes the time, so two reports are the same bytes
jq -c '.models.judge = "j<b>1</b>" | .schema = "caigen.preference/2" |
	.models.panel = ["j<b>1</b>", "m2"] |
	.comparisons = [{"pair": [0, 1], "p": .p, "judgments": .judgments,
		"panel": [{"member": 0, "model": "j<b>1</b>", "p": .p},
			  {"member": 1, "model": "m2", "p": .p},
			  {"member": 2, "model": "m3", "p": .p}]}]' \
	"$T/ev/preferences.jsonl" >"$T/panel.jsonl"
SOURCE_DATE_EPOCH=1700000000 "$CAIGEN" audit "$T/ev/preferences.jsonl" \
	"$T/panel.jsonl" --json --html "$T/au.html" >"$T/au.json" 2>"$T/au.err"
eq provenance_audit_exit $? 0
eq provenance_audit_judges "$(jq -c .provenance.judge_models "$T/au.json")" \
	'["judge-x","j<b>1</b>","m2","m3"]'
eq provenance_audit_inputs "$(jq -c .provenance.inputs "$T/au.json")" \
	"[\"$T/ev/preferences.jsonl\",\"$T/panel.jsonl\"]"
eq provenance_audit_time "$(jq -r .provenance.time "$T/au.json")" 2023-11-14T22:13:20Z
check provenance_audit_version jq -e '.provenance.caigen_version | length > 0' "$T/au.json"
eq provenance_audit_html_judges "$(prow "$T/au.html" 'judge model(s)')" \
	'judge-x, j&lt;b&gt;1&lt;/b&gt;, m2, m3'
eq provenance_audit_html_input "$(prow "$T/au.html" input)" \
	"$T/ev/preferences.jsonl, $T/panel.jsonl"
eq provenance_audit_html_time "$(prow "$T/au.html" 'time (UTC)')" 2023-11-14T22:13:20Z
check provenance_audit_html_no_tag sh -c "! grep -q '<b>1' '$T/au.html'"
SOURCE_DATE_EPOCH=1700000000 "$CAIGEN" audit "$T/ev/preferences.jsonl" \
	"$T/panel.jsonl" --json >"$T/au2.json" 2>/dev/null
check provenance_audit_reproducible cmp -s "$T/au.json" "$T/au2.json"

# the card: the records' judges, the inputs by their last name only (no
# local folder), the newest input file's time (not the clock: an
# unchanged folder gives the same card) and both versions
touch -d '2024-01-02 03:04:05 UTC' "$T/ev"/*.json*
"$CAIGEN" card "$T/ev" >/dev/null 2>&1
eq provenance_card_exit $? 0
C=$T/ev/README.md
sed -n '/^## Provenance$/,/^## /p' "$C" >"$T/cp"
check provenance_card_judge grep -q '^- judge models (as the records name them): `judge-x`$' "$T/cp"
check provenance_card_input grep -q '^- input: the data files above, made from `trl.jsonl` (the run.s input); `eval.json` from `preferences.jsonl`$' "$T/cp"
check provenance_card_time grep -q '^- time: 2024-01-02T03:04:05Z ' "$T/cp"
check provenance_card_versions grep -q "^- caigen version: card written by .*; data made by " "$T/cp"
check provenance_card_no_folder sh -c "! grep -qF '$T' '$C'"
cp "$C" "$T/card1"
"$CAIGEN" card "$T/ev" >/dev/null 2>&1
check provenance_card_reproducible cmp -s "$C" "$T/card1"
# a judge model named with markup stays a code span
jq -c '.models.judge = "<img src=x>`|"' "$T/ev/preferences.jsonl" >"$T/p" &&
	mv "$T/p" "$T/ev/preferences.jsonl"
"$CAIGEN" card "$T/ev" >/dev/null 2>&1
check provenance_card_judge_code grep -qF -- '- judge models (as the records name them): ``<img src=x>`|``' "$C"
