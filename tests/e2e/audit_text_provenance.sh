# audit_text_provenance: the audit's text report names what made it, as
# its JSON and HTML do: the judge models the records name (a panel's
# members too, control characters escaped), the inputs, the time
# (SOURCE_DATE_EPOCH when set) and caigen's version.
. "$(dirname "$0")/../lib.sh"
GEN=$ROOT/tests/audit/gen.sh
sh "$GEN" -k pref p1:3 >"$T/a.jsonl"
jq -c '.models.judge = "j\u001b[31mx" | .models.panel = ["j\u001b[31mx", "m2"]' \
	"$T/a.jsonl" >"$T/b.jsonl"
SOURCE_DATE_EPOCH=1700000000 "$CAIGEN" audit "$T/a.jsonl" "$T/b.jsonl" \
	>"$T/au.txt" 2>"$T/au.err"
eq text_prov_exit $? 0
SOURCE_DATE_EPOCH=1700000000 "$CAIGEN" audit "$T/a.jsonl" "$T/b.jsonl" \
	--json >"$T/au.json" 2>/dev/null
sed -n '/^provenance$/,$p' "$T/au.txt" >"$T/prov"
row() { sed -n "s/^  $1: //p" "$T/prov"; }
eq text_prov_judges "$(row 'judge model(s)')" \
	"$(jq -r '.provenance.judge_models | map(gsub("\u001b"; "\\x1b")) | join(", ")' "$T/au.json")"
check text_prov_escaped sh -c "! grep -q \"$(printf '\033')\" '$T/au.txt'"
check text_prov_two_judges sh -c "[ \"\$(jq '.provenance.judge_models | length' '$T/au.json')\" -ge 2 ]"
eq text_prov_input "$(row input)" "$T/a.jsonl, $T/b.jsonl"
eq text_prov_time "$(row 'time (UTC)')" 2023-11-14T22:13:20Z
eq text_prov_version "$(row 'caigen version')" \
	"$("$CAIGEN" version | awk '{ print $NF }')"
# no judge named: said so
jq -c 'del(.models)' "$T/a.jsonl" >"$T/c.jsonl"
"$CAIGEN" audit "$T/c.jsonl" >"$T/c.txt" 2>/dev/null
check text_prov_none grep -q '^  judge model(s): none named in the records$' "$T/c.txt"
