# rank_records: responses: 4 against a judge whose rule is documented
# (fakeserver --judge-prefer-shorter: d = (LB - LA) / 50, so it prefers
# the shorter answer). Every record's chosen must be the shortest answer
# and rejected the longest, the bytes the same for --jobs 1 and 16, for a
# resumed run and for 2 shards merged; the records validate against
# caigen.preference/2; binarize best-random and all-pairs keep the
# ranking's order; k = 2 still writes caigen.preference/1.
. "$(dirname "$0")/../lib.sh"
start_fake --judge-prefer-shorter
gen_prompts 40 "$T/in.jsonl"
printf 'responses: 4\npairs: all\n' >"$T/k4.yaml"
run_caigen "$T/j1" "$T/in.jsonl" -q --config "$T/k4.yaml" --jobs 1
eq rank_jobs1_exit $? 0
run_caigen "$T/j16" "$T/in.jsonl" -q --config "$T/k4.yaml" --jobs 16
eq rank_jobs16_exit $? 0
R=$T/j16/preferences.jsonl
eq rank_one_record_per_prompt "$(lines "$R")" 40
check rank_jobs1_equals_jobs16 cmp -s "$T/j1/preferences.jsonl" "$R"

# the shortest and the longest, by the distinct answers' byte lengths
# (jq's length counts code points; the fake answers are ASCII)
eq rank_chosen_is_shortest "$(jq -r '
	[.responses[] | length] as $L
	| if (.chosen | length) == ($L | min) then "ok" else .id end' "$R" |
	sort -u)" ok
eq rank_rejected_is_longest "$(jq -r '
	[.responses[] | length] as $L
	| if (.rejected | length) == ($L | max) then "ok" else .id end' "$R" |
	sort -u)" ok
eq rank_indices_match "$(jq -r '
	if .responses[.chosen_index] == .chosen and
	   .responses[.rejected_index] == .rejected then "ok" else .id end' \
	"$R" | sort -u)" ok
eq rank_schema_tag "$(jq -r .schema "$R" | sort -u)" caigen.preference/2
eq rank_ranking_sorted "$(jq -r '
	if ([.ranking[].score] | . == (sort | reverse)) and
	   (.ranking | length) == 4 - (.duplicates | length) and
	   .ranking[0].index == .chosen_index and
	   .ranking[-1].index == .rejected_index then "ok" else .id end' "$R" |
	sort -u)" ok
# the ranking follows the answers' lengths (shorter is better)
eq rank_follows_lengths "$(jq -r '
	[.ranking[].index as $i | .responses[$i] | length] as $L
	| if $L == ($L | sort) then "ok" else .id end' "$R" | sort -u)" ok
eq rank_every_pair_judged "$(jq -r '
	if (.comparisons | length) == 6 and
	   all(.comparisons[]; (.judgments | length) == 2) then "ok"
	else .id end' "$R" | sort -u)" ok
# a comparison's label is the judge rule's: p = P(first better) =
# sigmoid((L_second - L_first) / 50) in both orders, so the mean too
eq rank_labels_follow_rule "$(jq -r '
	. as $r | [.comparisons[] |
	  ((($r.responses[.pair[1]] | length) - ($r.responses[.pair[0]] |
	   length)) / 50) as $d | (1 / (1 + ((-$d) | exp))) - .p |
	  if . < 0 then -. else . end] | max
	| if . < 1e-4 then "ok" else "off by \(.)" end' "$R" | sort -u)" ok

# resume: half, then the rest, gives the same bytes
run_caigen "$T/res" "$T/in.jsonl" -q --config "$T/k4.yaml" --limit 17
run_caigen "$T/res" "$T/in.jsonl" -q --config "$T/k4.yaml" 2>/dev/null
check rank_resume_equals_one_run cmp -s "$T/res/preferences.jsonl" "$R"

# two shards merged give the same bytes
run_caigen "$T/sh" "$T/in.jsonl" -q --config "$T/k4.yaml" --shard 0/2
run_caigen "$T/sh" "$T/in.jsonl" -q --config "$T/k4.yaml" --shard 1/2
"$CAIGEN" merge -q "$T"/sh/preferences.shard-*.jsonl \
	-o "$T/sh/preferences.jsonl" --expect "$T/in.jsonl"
eq rank_merge_exit $? 0
check rank_merge_equals_one_run cmp -s "$T/sh/preferences.jsonl" "$R"

# binarize all-pairs: k(k-1)/2 records per prompt, each chosen ranked
# above its rejected; resume and merge keep every part
printf 'responses: 4\nbinarize: all-pairs\n' >"$T/ap.yaml"
run_caigen "$T/ap" "$T/in.jsonl" -q --config "$T/ap.yaml" --limit 10
eq rank_allpairs_count "$(lines "$T/ap/preferences.jsonl")" \
	"$(jq -s '[.[] | select(.part == 0) | (.ranking | length) as $n |
	  $n * ($n - 1) / 2] | add' "$T/ap/preferences.jsonl")"
eq rank_allpairs_order "$(jq -r '
	. as $r | [.ranking[].index] as $o
	| ($o | map(. == $r.chosen_index) | index(true)) as $c
	| ($o | map(. == $r.rejected_index) | index(true)) as $j
	| if $c < $j and
	     .parts == (.ranking | length) * ((.ranking | length) - 1) / 2
	  then "ok" else .id end' "$T/ap/preferences.jsonl" | sort -u)" ok
"$CAIGEN" merge -q "$T/ap/preferences.jsonl" -o "$T/ap/merged.jsonl" \
	--no-manifest
check rank_allpairs_merge_keeps_parts cmp -s "$T/ap/preferences.jsonl" \
	"$T/ap/merged.jsonl"
run_caigen "$T/ap" "$T/in.jsonl" -q --config "$T/ap.yaml" --limit 10 \
	2>/dev/null
eq rank_allpairs_resume_adds_nothing "$(jq -s 'map(select(.part == 0)) |
	length' "$T/ap/preferences.jsonl")" 10

# binarize best-random: chosen is the best, rejected one of the others
printf 'responses: 4\nbinarize: best-random\n' >"$T/br.yaml"
run_caigen "$T/br" "$T/in.jsonl" -q --config "$T/br.yaml" --limit 20
eq rank_bestrandom_best "$(jq -r '
	if .ranking[0].index == .chosen_index and
	   .rejected_index != .chosen_index then "ok" else .id end' \
	"$T/br/preferences.jsonl" | sort -u)" ok
if [ "$(jq -r '.rejected_index == .ranking[-1].index' \
	"$T/br/preferences.jsonl" | sort -u | tr '\n' ' ')" = "false true " ]
then
	pass rank_bestrandom_varies
else
	fail rank_bestrandom_varies "rejected is always or never the worst"
fi

# two answers and one judge: caigen.preference/1 as before, no new field
printf 'responses: 2\n' >"$T/k2.yaml"
run_caigen "$T/k2" "$T/in.jsonl" -q --config "$T/k2.yaml" --limit 5
eq rank_k2_keeps_schema_1 "$(jq -r '[.schema, has("ranking"),
	has("comparisons")] | @tsv' "$T/k2/preferences.jsonl" | sort -u)" \
	"$(printf 'caigen.preference/1\tfalse\tfalse')"

# identical answers are collapsed before pairing: a policy whose answers
# are all the same, kept by policy.identical: keep, is judged as one pair
start_fake --same-answers --judge-prefer-shorter
printf 'responses: 4\npolicy:\n  identical: keep\n' >"$T/same.yaml"
run_caigen "$T/same" "$T/in.jsonl" -q --config "$T/same.yaml" --limit 3
eq rank_identical_collapsed "$(jq -r '[(.duplicates | length),
	(.comparisons | length)] | @tsv' "$T/same/preferences.jsonl" |
	sort -u)" "$(printf '2\t1')"

# the records validate against the schema (and a broken one does not)
sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null || {
	fail rank_schema_deps "python3-jsonschema could not be installed"
	exit 1
}
head -n 1 "$R" | jq -c '.ranking = [] ' >"$T/bad1.jsonl"
head -n 1 "$R" | jq -c '.comparisons[0] += {"panel": []}' >"$T/bad2.jsonl"
python3 - "$ROOT/schemas/preference-2.schema.json" "$R" \
	"$T/ap/preferences.jsonl" "$T/same/preferences.jsonl" \
	"$T/bad1.jsonl" "$T/bad2.jsonl" <<'EOF'
import json, sys
import jsonschema
s = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(s)
v = jsonschema.Draft202012Validator(s)
def errs(path):
    return [e.message[:160] for l in open(path) if l.strip()
            for e in v.iter_errors(json.loads(l))]
for name, path in (("k4", sys.argv[2]), ("allpairs", sys.argv[3]),
                   ("collapsed", sys.argv[4])):
    e = errs(path)
    print("FAIL rank_schema_%s: %s" % (name, e[:2]) if e else
          "PASS rank_schema_%s" % name)
for name, path in (("short_ranking", sys.argv[5]),
                   ("panel_and_judgments", sys.argv[6])):
    print("PASS rank_schema_refuses_%s" % name if errs(path) else
          "FAIL rank_schema_refuses_%s: accepted" % name)
EOF
