# audit_records: critique records, Hugging Face recipe records matched to
# principles by their critique text, and data health (duplicates, failures
# and rejects from the sibling files).
. "$(dirname "$0")/../lib.sh"
GEN=$ROOT/tests/audit/gen.sh
C=$T/three.yaml
cat >"$C" <<'YAML'
name: three
version: 1
principles:
  - id: p1
    tags: [harm]
    weight: 2
    critique: "Point out what is wrong under p1."
    revise: "Rewrite it for p1."
  - id: p2
    tags: [honesty]
    critique: "Point out what is wrong under p2."
    revise: "Rewrite it for p2."
  - id: p3
    critique: "Point out what is wrong under p3."
    revise: "Rewrite it for p3."
YAML

# critique records: 3 rounds each, lengths 40 -> 50 -> 60 -> 70
mkdir -p "$T/crit"
sh "$GEN" -k crit -r 3 p1:4:harm p2:2:honesty >"$T/crit/critiques.jsonl"
"$CAIGEN" audit --json --constitution "$C" "$T/crit/critiques.jsonl" >"$T/crit.json"
eq crit_exit $? 0
eq crit_counts "$(jq -c '.overall.critiques | [.records, .rounds, .mean_rounds, .mean_len_before, .mean_len_after, .mean_len_initial, .mean_len_final]' "$T/crit.json")" '[6,18,3,50,60,40,70]'
eq crit_per_principle "$(jq -c '[.principles[] | [.id, .coverage.critique.draws]]' "$T/crit.json")" '[["p1",12],["p2",6],["p3",0]]'
eq crit_never_drawn "$(jq -c .coverage.critique.never_drawn "$T/crit.json")" '["p3"]'
eq crit_dof "$(jq .coverage.critique.chi_square.dof "$T/crit.json")" 2
eq crit_tag "$(jq -c '[.tags[] | [.tag, .coverage.critique.draws]]' "$T/crit.json")" '[["harm",12],["honesty",6]]'

# Hugging Face recipe records: principle found by its critique text
mkdir -p "$T/hf"
sh "$GEN" -k hf p1:10 p2:5 nowhere:3 >"$T/hf/train.jsonl"
"$CAIGEN" audit --json --constitution "$C" "$T/hf/train.jsonl" >"$T/hf.json"
eq hf_matched "$(jq -c '[.principles[] | select(.known) | [.id, .coverage.critique.draws]]' "$T/hf.json")" '[["p1",10],["p2",5],["p3",0]]'
eq hf_unmatched "$(jq -c '[.health.hf, .health.unmatched_texts, ([.principles[] | select(.known | not) | .text][0])]' "$T/hf.json")" '[18,3,"Point out what is wrong under nowhere."]'
eq hf_lengths "$(jq -c '.overall.critiques | [.mean_len_before, .mean_len_after]' "$T/hf.json")" '[30,50]'
eq hf_known_draws "$(jq .coverage.critique.known_draws "$T/hf.json")" 15

# health: the same file twice gives duplicates; sibling files are counted
mkdir -p "$T/run"
sh "$GEN" a:5 b:5 >"$T/run/preferences.jsonl"
printf '%s\n' '{"id":"g000000003","index":2,"stage":"judge","reason":"x"}' \
	'{"id":"gone-1","index":20,"stage":"sample","reason":"x"}' \
	'{"id":"gone-2","index":21,"stage":"sample","reason":"x"}' >"$T/run/failures.jsonl"
printf '%s\n' '{"line":4,"reason":"no prompt"}' >"$T/run/rejects.jsonl"
printf '%s\n' '{"line":9,"reason":"no prompt"}' >"$T/run/rejects.shard-1-of-2.jsonl"
printf '%s\n' 'not json at all' '{"schema":"caigen.other/1"}' >"$T/run/extra.jsonl"
"$CAIGEN" audit --json "$T/run/preferences.jsonl" "$T/run/preferences.jsonl" "$T/run/extra.jsonl" >"$T/run.json"
eq health_counts "$(jq -c '.health | [.records, .preference, .duplicate_ids, .invalid_lines, .unrecognized]' "$T/run.json")" '[22,20,10,1,1]'
eq health_siblings "$(jq -c '.health | [.failures, .failures_unresolved, .rejects, (.sibling_files | length)]' "$T/run.json")" '[3,2,2,3]'
"$CAIGEN" audit "$T/run/preferences.jsonl" >"$T/run.txt"
check health_text grep -q 'failures 3 (2 unresolved), rejects 2' "$T/run.txt"
# a glob over the folder: failures and rejects files are counted, not read
"$CAIGEN" audit --json "$T/run/"*.jsonl >"$T/glob.json"
eq health_glob "$(jq -c '[.health.records, .health.failures, .health.rejects, (.inputs | length)]' "$T/glob.json")" '[12,3,2,2]'

# usage errors exit 2
"$CAIGEN" audit >/dev/null 2>&1
eq usage_no_files $? 2
"$CAIGEN" audit "$T/nothing-here.jsonl" 2>"$T/err" >/dev/null
eq usage_missing_file $? 2
check usage_missing_message grep -q "cannot open '$T/nothing-here.jsonl'" "$T/err"
"$CAIGEN" audit --constitution "$T/nothing.yaml" "$T/run/preferences.jsonl" >/dev/null 2>&1
eq usage_bad_constitution $? 2
