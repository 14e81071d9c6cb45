# card_dataset: `caigen card OUT` writes OUT/README.md, a Hugging Face
# dataset card, from the folder's files: a run (priced, with a canary key
# the server requires), an eval over a small pairs file, a sharded job
# without a manifest.json, and mode both. The YAML header parses and
# points at the files present; counts, hashes and cost match the
# manifest; eval numbers match eval.json; the key and the server's address
# appear nowhere; a second run replaces the card; a README.md caigen did
# not write is kept unless --force.
. "$(dirname "$0")/../lib.sh"
CANARY=sk-canary-card-5e4d3c2b1a0f9e8d7c6b
export OPENAI_API_KEY=$CANARY
start_fake --api-key "$CANARY"
gen_prompts 40 "$T/in.jsonl"
cat >"$T/run.yaml" <<EOF
policy:
  model: m-policy
judge:
  model: m-judge
prices:
  m-policy: {input: 0.5, output: 1.5}
  m-judge: {input: 2.0, output: 8.0}
EOF
run_caigen "$T/out" "$T/in.jsonl" -c "$T/run.yaml" --jobs 4 >/dev/null 2>&1
eq card_run_exit $? 0
"$CAIGEN" card "$T/out" >"$T/card.out" 2>"$T/card.err"
eq card_exit $? 0
C=$T/out/README.md
check card_written test -s "$C"
check card_no_tmp_left test ! -e "$T/out/README.md.tmp"

# the YAML header: between the first two "---" lines; parsed by PyYAML
# when it is there, else checked line by line
header() { awk 'NR == 1 && $0 == "---" { on = 1; next }
	on && $0 == "---" { exit } on { print }' "$1"; }
header "$C" >"$T/h.yaml"
if python3 -c 'import yaml' 2>/dev/null; then
	python3 - "$T/h.yaml" >"$T/h.json" <<'EOF' 2>"$T/h.err"
import json, sys, yaml
print(json.dumps(yaml.safe_load(open(sys.argv[1]))))
EOF
	eq card_yaml_parses $? 0
	eq card_yaml_configs "$(jq -c '[.configs[] | [.config_name,
		.data_files[0].split, .data_files[0].path]]' "$T/h.json")" \
		'[["preferences","train","preferences.jsonl"]]'
	eq card_yaml_license_empty "$(jq -c '.license' "$T/h.json")" null
	check card_yaml_tags jq -e '.tags | index("constitutional-ai") and
		index("preference")' "$T/h.json"
	eq card_yaml_size "$(jq -r '.size_categories[0]' "$T/h.json")" 'n<1K'
else
	check card_yaml_configs grep -q '^    path: "preferences.jsonl"$' "$T/h.yaml"
	check card_yaml_license_empty grep -q '^license:$' "$T/h.yaml"
fi
check card_license_comment grep -q '^# license: fill this in yourself' "$T/h.yaml"

# counts: the file's records, and the manifest's counts as they are
M=$T/out/manifest.json
eq card_file_count "$(grep -c '^| `preferences.jsonl` | 40 |$' "$C")" 1
for k in records_total written failed rejected lines; do
	eq "card_count_$k" "$(sed -n "s/^- $k: //p" "$C")" "$(jq ".counts.$k" "$M")"
done
eq card_constitution_hash "$(grep -o 'harmless@sha256:[0-9a-f]*' "$C" | head -1)" \
	"$(jq -r '.constitutions[0]' "$M")"
check card_models grep -q '^- judge: `m-judge`$' "$C"
check card_setting grep -q '^- `judge.min_letter_mass`: 0.5$' "$C"
eq card_cost "$(sed -n 's/^| all | [0-9]* | [0-9]* | \([0-9.]*\) |$/\1/p' "$C")" \
	"$(jq -r '.cost_usd' "$M" | awk '{ printf "%.4f", $1 }')"
check card_audit grep -q '^- records: 40 (40 preference, 0 critique)' "$C"
check card_audit_table grep -q '^| principle | tags | compare draws' "$C"
eq card_no_eval_section "$(grep -c '## Judge evaluation' "$C")" 0
# no key, no address, no key variable
eq card_no_canary "$(grep -c -- "$CANARY" "$C" "$T/card.out" "$T/card.err" |
	awk -F: '{ s += $2 } END { print s }')" 0
eq card_no_address "$(grep -c "127.0.0.1\|$FAKE_PORT\|OPENAI_API_KEY\|api_key" "$C")" 0

# a second run replaces the card, whole
echo "stale line" >>"$C"
"$CAIGEN" card "$T/out" >/dev/null 2>&1
eq card_rerun_exit $? 0
eq card_rerun_replaced "$(grep -c 'stale line' "$C")" 0
check card_rerun_marker grep -q '^<!-- written by caigen card' "$C"

# a README.md someone else wrote is kept, unless --force
printf '# my own notes\n' >"$T/out/README.md"
"$CAIGEN" card "$T/out" >/dev/null 2>"$T/foreign.err"
eq card_foreign_exit $? 2
eq card_foreign_kept "$(cat "$T/out/README.md")" "# my own notes"
check card_foreign_message grep -q 'not written by caigen card.*--force' \
	"$T/foreign.err"
"$CAIGEN" card "$T/out" --force >/dev/null 2>&1
eq card_force_exit $? 0
check card_force_replaced grep -q '^<!-- written by caigen card' "$T/out/README.md"

# ---- eval: agreement and calibration from eval.json ----
"$CAIGEN" eval --pairs "$ROOT/tests/data/pairs/trl.jsonl" --out "$T/ev" \
	--judge-url "$FAKE_URL" >/dev/null 2>&1
eq card_eval_exit $? 0
"$CAIGEN" card "$T/ev" >/dev/null 2>&1
eq card_eval_card_exit $? 0
E=$T/ev/README.md
check card_eval_section grep -q '^## Judge evaluation' "$E"
eq card_eval_hard "$(sed -n 's/^- agreement, hard (argmax of p): \([0-9.]*\) %.*/\1/p' "$E")" \
	"$(jq -r '.overall.agreement_hard.value * 100' "$T/ev/eval.json" |
	   awk '{ printf "%.1f", $1 }')"
eq card_eval_brier "$(sed -n 's/^- calibration: Brier \([0-9.]*\),.*/\1/p' "$E")" \
	"$(jq -r '.overall.brier' "$T/ev/eval.json" | awk '{ printf "%.4f", $1 }')"
eq card_eval_ece "$(sed -n 's/.*, ECE \([0-9.]*\),.*/\1/p' "$E")" \
	"$(jq -r '.overall.ece' "$T/ev/eval.json" | awk '{ printf "%.4f", $1 }')"
eq card_eval_reliability_rows "$(grep -c '^| 0\.[0-9]* | [01]\.[0-9]* |' "$E")" \
	"$(jq '.reliability | length' "$T/ev/eval.json")"
eq card_eval_no_canary "$(grep -c -- "$CANARY" "$E")" 0

# ---- shards without a manifest.json: every shard file in configs ----
for k in 0 1; do
	run_caigen "$T/sh" "$T/in.jsonl" --shard "$k/2" >/dev/null 2>&1
done
"$CAIGEN" card "$T/sh" >/dev/null 2>&1
eq card_shards_exit $? 0
header "$T/sh/README.md" >"$T/sh.yaml"
eq card_shards_listed "$(grep -c '^    - "preferences.shard-0000[01]-of-00002.jsonl"$' \
	"$T/sh.yaml")" 2
eq card_shards_total "$(sed -n 's/^| preferences, all shards | \([0-9]*\) |$/\1/p' \
	"$T/sh/README.md")" 40
check card_shards_no_manifest grep -q 'no `manifest.json`' "$T/sh/README.md"

# ---- mode both: preferences and critiques, two configs ----
gen_prompts 6 "$T/six.jsonl"
printf 'mode: both\n' >"$T/both.yaml"
run_caigen "$T/both" "$T/six.jsonl" -c "$T/both.yaml" >/dev/null 2>&1
eq card_both_run_exit $? 0
"$CAIGEN" card "$T/both" >/dev/null 2>&1
eq card_both_exit $? 0
eq card_both_configs "$(header "$T/both/README.md" |
	sed -n 's/^- config_name: //p' | tr '\n' ' ')" "preferences critiques "
check card_both_critiques_count grep -q '^| `critiques.jsonl` | 6 |$' \
	"$T/both/README.md"

# ---- nothing to describe: exit 2 ----
mkdir "$T/empty"
"$CAIGEN" card "$T/empty" >/dev/null 2>"$T/empty.err"
eq card_empty_exit $? 2
check card_empty_message grep -q 'has no preferences.jsonl' "$T/empty.err"
check card_empty_no_card test ! -e "$T/empty/README.md"
"$CAIGEN" card >/dev/null 2>&1
eq card_no_folder_exit $? 2
