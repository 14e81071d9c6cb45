# merge_sets: what `caigen merge` refuses and what it checks: an
# incomplete shard set (unless --allow-partial), shard files of two counts,
# a failed --expect (no output left), --expect on a split folder, the
# parts of binarize all-pairs under --expect, a run's manifest.json in the
# way of the merged one, and manifests whose numbers overflow.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 60 "$T/in.jsonl"
for k in 0 1 2 3; do
	run_caigen "$T/sh" "$T/in.jsonl" -q --seed 3 --shard "$k/4" || exit 1
done
S=$T/sh/preferences.shard

# 3 of the 4 shards: refused, nothing written; --allow-partial merges them
"$CAIGEN" merge -q "$S"-0000[012]-of-00004.jsonl -o "$T/m3.jsonl" \
	2>"$T/m3.err"
eq merge_partial_refused $? 2
check merge_partial_names_missing grep -q "3 of the 4 shard files of 'preferences' given (missing shard 3)" "$T/m3.err"
check merge_partial_no_output test ! -e "$T/m3.jsonl"
"$CAIGEN" merge -q --allow-partial "$S"-0000[012]-of-00004.jsonl \
	-o "$T/m3.jsonl" 2>"$T/m3a.err"
eq merge_allow_partial $? 0
eq merge_allow_partial_records "$(lines "$T/m3.jsonl")" \
	"$(cat "$S"-0000[012]-of-00004.jsonl | wc -l | tr -d ' ')"
# logs: only shard 0 has rejects, tasks without failures may have none
"$CAIGEN" merge -q --no-manifest "$T/sh/rejects.shard-00000-of-00004.jsonl" \
	-o "$T/rej.jsonl"
eq merge_logs_need_no_set $? 0

# a failed --expect leaves no output file (exit 1, the ids listed)
"$CAIGEN" merge -q --allow-partial "$S"-0000[012]-of-00004.jsonl \
	-o "$T/mx.jsonl" --expect "$T/in.jsonl" 2>"$T/mx.err"
eq merge_expect_missing_exit $? 1
check merge_expect_missing_no_output test ! -e "$T/mx.jsonl"
check merge_expect_missing_said grep -q "'$T/mx.jsonl' not written" "$T/mx.err"
# with --expect an incomplete set is said, and --expect decides
"$CAIGEN" merge -q "$S"-0000[012]-of-00004.jsonl -o "$T/my.jsonl" \
	--expect "$T/in.jsonl" 2>"$T/my.err"
eq merge_expect_decides $? 1
check merge_expect_names_shard grep -q "missing shard 3" "$T/my.err"

# --expect takes the split folder of the prompts
"$CAIGEN" split "$T/in.jsonl" -n 3 -o "$T/split" -q 2>/dev/null ||
	"$CAIGEN" split "$T/in.jsonl" -n 3 -o "$T/split"
"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/all.jsonl" --expect "$T/split" \
	2>"$T/split.err"
eq merge_expect_split_dir $? 0
eq merge_expect_split_dir_records "$(lines "$T/all.jsonl")" 60
head -n 59 "$T/in.jsonl" >"$T/in59.jsonl"
echo '{"id":"not-run","prompt":"a prompt no shard ran"}' >>"$T/in59.jsonl"
"$CAIGEN" split "$T/in59.jsonl" -n 2 -o "$T/split59" -q 2>/dev/null ||
	"$CAIGEN" split "$T/in59.jsonl" -n 2 -o "$T/split59" >/dev/null 2>&1
"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/all59.jsonl" --expect "$T/split59" \
	2>"$T/split59.err"
eq merge_expect_split_dir_missing $? 1
check merge_expect_split_dir_names_id grep -q "id 'not-run'" "$T/split59.err"
mkdir -p "$T/notsplit"
"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/ns.jsonl" --expect "$T/notsplit" \
	2>"$T/ns.err"
eq merge_expect_folder_not_split $? 2

# shard files of two counts: refused with the reason
run_caigen "$T/sh3" "$T/in.jsonl" -q --seed 3 --shard 0/3 || exit 1
"$CAIGEN" merge -q --allow-partial "$S"-00000-of-00004.jsonl \
	"$T"/sh3/preferences.shard-00000-of-00003.jsonl -o "$T/mixed.jsonl" \
	2>"$T/mixed.err"
eq merge_mixed_n_refused $? 2
check merge_mixed_n_reason grep -q "is shard 0 of 4 but .* is of 3: the files come from runs of different shard counts" "$T/mixed.err"
check merge_mixed_n_no_output test ! -e "$T/mixed.jsonl"

# binarize all-pairs: --expect counts a prompt's parts as its one id
printf 'responses: 3\nbinarize: all-pairs\n' >"$T/ap.yaml"
run_caigen "$T/one" "$T/in.jsonl" -q --seed 3 --config "$T/ap.yaml" || exit 1
for k in 0 1; do
	run_caigen "$T/ap" "$T/in.jsonl" -q --seed 3 --config "$T/ap.yaml" \
		--shard "$k/2" || exit 1
done
"$CAIGEN" merge -q "$T"/ap/preferences.shard-*.jsonl \
	-o "$T/ap/preferences.jsonl" --expect "$T/in.jsonl" 2>"$T/ap.err"
eq merge_allpairs_expect $? 0
check merge_allpairs_equals_one cmp -s "$T/one/preferences.jsonl" \
	"$T/ap/preferences.jsonl"

# a run's manifest.json beside OUT is never replaced by the merged one
cp "$T/one/manifest.json" "$T/one.manifest"
"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/one/merged.jsonl" 2>"$T/mf.err"
eq merge_keeps_run_manifest_exit $? 2
check merge_keeps_run_manifest cmp -s "$T/one.manifest" "$T/one/manifest.json"
check merge_keeps_run_manifest_said grep -q "not written by a merge" "$T/mf.err"
check merge_keeps_run_manifest_no_output test ! -e "$T/one/merged.jsonl"
# a merge's own manifest is replaced by the next merge
mkdir -p "$T/m"
"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/m/preferences.jsonl" &&
	"$CAIGEN" merge -q "$S"-*.jsonl -o "$T/m/preferences.jsonl"
eq merge_replaces_merge_manifest $? 0

# counters that overflow: refused with the manifest's name, nothing written
mkdir -p "$T/ov"
for k in 0 1 2 3; do
	cp "$S-0000$k-of-00004.jsonl" "$T/ov/"
	# (sed: jq 1.6 would turn the number into a double)
	sed 's/"written": [0-9]*/"written": 9223372036854775807/' \
		"$T/sh/manifest.shard-0000$k-of-00004.json" \
		>"$T/ov/manifest.shard-0000$k-of-00004.json"
done
"$CAIGEN" merge -q "$T"/ov/preferences.shard-*.jsonl \
	-o "$T/ov/preferences.jsonl" 2>"$T/ov.err"
eq merge_overflow_refused $? 2
check merge_overflow_names_file grep -q "manifest.shard-00001-of-00004.json': the numbers under 'written' overflow" "$T/ov.err"
check merge_overflow_no_output test ! -e "$T/ov/preferences.jsonl"
check merge_overflow_no_manifest test ! -e "$T/ov/manifest.json"
