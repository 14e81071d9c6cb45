# label_inputs: what label and eval read and write beyond the fixtures:
# the output of a ranked run (binarize all-pairs: every part a pair of its
# own), caigen.preference/2 records as input (their reference kept),
# values of the wrong type refused with file:line (chosen_index 1.5,
# reference.preferred 1.5, UltraFeedback scores as text, a judgment's p_a
# of 7), a corrupt records file is exit 2, eval's text table cuts names
# between characters, and the manifests of label, eval, their shards and
# their merge validate against schemas/manifest.schema.json.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail label_inputs_deps "python3-jsonschema could not be installed"
	exit 1
}
start_fake
CON=$ROOT/constitution/harmless.yaml
gen_prompts 8 "$T/in.jsonl"
lab() { "$CAIGEN" label --judge-url "$FAKE_URL" --constitution "$CON" -q "$@"; }
ev() { "$CAIGEN" eval --judge-url "$FAKE_URL" --constitution "$CON" -q "$@"; }

# a ranked run's all-pairs output: 3 parts a prompt, each labelled
printf 'responses: 3\nbinarize: all-pairs\n' >"$T/ap.yaml"
run_caigen "$T/ap" "$T/in.jsonl" -q -c "$T/ap.yaml" --constitution "$CON" || exit 1
eq label_allpairs_input "$(lines "$T/ap/preferences.jsonl")" 24
lab --pairs "$T/ap/preferences.jsonl" --out "$T/apl" 2>"$T/apl.err"
eq label_allpairs_exit $? 0
eq label_allpairs_every_part "$(lines "$T/apl/preferences.jsonl")" 24
eq label_allpairs_no_rejects "$(cat "$T/apl/rejects.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0
eq label_allpairs_part_ids "$(jq -r .id "$T/apl/preferences.jsonl" | sort -u |
	grep -c '^q0000[1-8]#[012]$')" 24
# the input's chosen is the reference: the text the reference prefers
eq label_allpairs_reference "$(jq -s -r '(.[0:24] | map({key: "\(.id)#\(.part)",
	value: .chosen}) | from_entries) as $c | .[24:][] |
	select(.responses[.reference.preferred] != $c[.id]) | .id' \
	"$T/ap/preferences.jsonl" "$T/apl/preferences.jsonl")" ""
ev --pairs "$T/ap/preferences.jsonl" --out "$T/ape" >/dev/null 2>"$T/ape.err"
eq eval_allpairs_exit $? 0
eq eval_allpairs_items "$(jq .counts.items "$T/ape/eval.json")" 24

# caigen.preference/2 input (a panel's label records): read as caigen,
# its reference kept
printf 'panel: mean\njudge:\n  - {model: judge-a}\n  - {model: judge-b, base_url: "%s"}\n' \
	"$FAKE_URL" >"$T/panel.yaml"
cat "$ROOT/tests/data/pairs/trl.jsonl" >"$T/trl.jsonl"
lab --pairs "$T/trl.jsonl" --out "$T/pan" -c "$T/panel.yaml" || exit 1
eq label_v2_input_schema "$(jq -r .schema "$T/pan/preferences.jsonl" | sort -u)" \
	caigen.preference/2
lab --pairs "$T/pan/preferences.jsonl" --out "$T/pan2" 2>"$T/pan2.err"
eq label_v2_exit $? 0
eq label_v2_format "$(jq -r .reference.format "$T/pan2/preferences.jsonl" |
	sort -u)" caigen
eq label_v2_reference_kept "$(jq -s -r '(.[0:5] | map({key: .id,
	value: .responses[.reference.preferred]}) | from_entries) as $w |
	.[5:][] | select(.responses[.reference.preferred] != $w[.id]) | .id' \
	"$T/pan/preferences.jsonl" "$T/pan2/preferences.jsonl")" ""

# wrong types: rejected with their reason, not taken as unlabelled
R='"responses": ["Yes.", "No."], "prompt": "Is it?"'
{
	echo "{\"schema\": \"caigen.preference/1\", \"id\": \"ci15\", $R, \"chosen_index\": 1.5}"
	echo "{\"schema\": \"caigen.preference/1\", \"id\": \"ci7\", $R, \"chosen_index\": 7}"
	echo "{\"schema\": \"caigen.preference/1\", \"id\": \"rp15\", $R, \"reference\": {\"preferred\": 1.5}}"
	echo "{\"schema\": \"caigen.preference/1\", \"id\": \"ok\", $R, \"chosen_index\": 1}"
	echo "{\"schema\": \"caigen.preference/1\", \"id\": \"none\", $R, \"chosen_index\": null}"
	echo '{"prompt_id": "x", "chosen": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}], "rejected": [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Go."}], "score_chosen": "high", "score_rejected": 2}'
} >"$T/bad.jsonl"
lab --pairs "$T/bad.jsonl" --out "$T/bad" 2>"$T/bad.err"
eq label_bad_types_records "$(jq -r .id "$T/bad/preferences.jsonl" | sort | tr '\n' ' ')" "none ok "
eq label_bad_chosen_index_float "$(jq -r 'select(.line == 1) | .reason' "$T/bad/rejects.jsonl")" \
	"'chosen_index' must be an integer index of 'responses'"
eq label_bad_chosen_index_7 "$(jq -r 'select(.line == 2) | .reason' "$T/bad/rejects.jsonl")" \
	"'chosen_index' must be 0 or 1"
eq label_bad_preferred_float "$(jq -r 'select(.line == 3) | .reason' "$T/bad/rejects.jsonl")" \
	"'reference.preferred' must be an integer index of 'responses' or null"
eq label_bad_uf_score "$(jq -r 'select(.line == 6) | .reason' "$T/bad/rejects.jsonl")" \
	"'score_chosen' must be a number"

# eval's records: a p_a of 7 and a corrupt line are bad input, exit 2
D=$ROOT/tests/data/pairs
cat "$D/trl.jsonl" "$D/hh.jsonl" >"$T/ref.jsonl"
ev --pairs "$T/ref.jsonl" --out "$T/e1" >/dev/null || exit 1
cp -r "$T/e1" "$T/e2"
{ head -n 1 "$T/e1/preferences.jsonl" | jq -c '.judgments[0].p_a = 7'
  tail -n +2 "$T/e1/preferences.jsonl"; } >"$T/e2/preferences.jsonl"
ev --pairs "$T/ref.jsonl" --out "$T/e2" >/dev/null 2>"$T/e2.err"
eq eval_p_a_7_exit $? 2
check eval_p_a_7_said grep -q "preferences.jsonl:1: 'judgments\[0\].p_a' must be a number in \[0, 1\]" "$T/e2.err"
cp -r "$T/e1" "$T/e3"
echo '{"schema": "caigen.preference/1", "id": "x", "broken' >>"$T/e3/preferences.jsonl"
ev --pairs "$T/ref.jsonl" --out "$T/e3" >/dev/null 2>"$T/e3.err"
eq eval_corrupt_records_exit $? 2

# a long name with a two-byte character across the column's edge
tag=$(printf 'abcdefghijklmnopqrstuvwxyz0\303\251\303\251 and more')
jq -c --arg t "$tag" '. + {tags: [$t]}' "$D/trl.jsonl" >"$T/tag.jsonl"
ev --pairs "$T/tag.jsonl" --out "$T/e4" >"$T/e4.txt" 2>/dev/null
eq eval_tag_exit $? 0
check eval_text_is_utf8 python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$T/e4.txt"
check eval_text_cut_between_chars grep -q "abcdefghijklmnopqrstuvwxyz0$(printf '\303\251') " "$T/e4.txt"

# every command's manifest against the schema
lab --pairs "$T/ref.jsonl" --out "$T/sh" --shard 0/2 || exit 1
lab --pairs "$T/ref.jsonl" --out "$T/sh" --shard 1/2 || exit 1
"$CAIGEN" merge -q "$T"/sh/preferences.shard-*.jsonl -o "$T/sh/preferences.jsonl" ||
	fail label_merge "exit $?"
python3 - "$ROOT/schemas/manifest.schema.json" \
	label="$T/apl/manifest.json" eval="$T/e1/manifest.json" \
	label_panel="$T/pan/manifest.json" run="$T/ap/manifest.json" \
	label_shard="$T/sh/manifest.shard-00001-of-00002.json" \
	label_merged="$T/sh/manifest.json" <<'EOF'
import json, sys
import jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
v = jsonschema.Draft202012Validator(s)
for arg in sys.argv[2:]:
    name, path = arg.split("=", 1)
    try:
        errs = ["%s at /%s" % (e.message[:120], "/".join(map(str, e.absolute_path)))
                for e in v.iter_errors(json.load(open(path)))]
    except Exception as e:
        errs = [str(e)[:200]]
    print(("FAIL manifest_schema_%s: %s" % (name, "; ".join(errs[:2])))
          if errs else "PASS manifest_schema_%s" % name)
EOF
