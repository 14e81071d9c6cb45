# hostile_places: wrong places and crafted files get exit 2 and a sentence
# naming what was expected: status on /etc or an empty folder, a FIFO
# named like a lock or a manifest (no hang), card on a manifest that is
# an array, counts that overflow, and outputs of two shard counts in one
# folder (a run refuses to add the second set; status and card refuse to
# count both).
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 8 "$T/in.jsonl"
"$CAIGEN" status /etc >"$T/s1" 2>&1
eq places_status_etc $? 2
check places_status_etc_msg grep -q "holds no output of caigen" "$T/s1"
mkdir "$T/empty"
"$CAIGEN" status "$T/empty" >/dev/null 2>&1
eq places_status_empty $? 2
run_caigen "$T/o" "$T/in.jsonl" -q 2>/dev/null
eq places_run $? 0
mkfifo "$T/o/.lock.shard-00001-of-00001" 2>/dev/null
rm -f "$T/o/.lock"; mkfifo "$T/o/.lock"
timeout 20 "$CAIGEN" status "$T/o" >"$T/s2" 2>&1
eq places_status_fifo_lock $? 0
check places_status_fifo_lock_rows grep -q "^0/1 .* 8 " "$T/s2"
rm -f "$T/o/.lock" "$T/o/.lock.shard-00001-of-00001"
cp "$T/o/manifest.json" "$T/manifest.keep"
rm "$T/o/manifest.json"; mkfifo "$T/o/manifest.json"
timeout 20 "$CAIGEN" status "$T/o" >"$T/s3" 2>&1
eq places_status_fifo_manifest $? 2
check places_status_fifo_manifest_msg grep -q "manifest.json' is not a regular file" "$T/s3"
timeout 20 "$CAIGEN" card "$T/o" >"$T/c0" 2>&1
eq places_card_fifo_manifest $? 2
rm "$T/o/manifest.json"
echo '[1,2]' >"$T/o/manifest.json"
"$CAIGEN" card "$T/o" >"$T/c1" 2>&1
eq places_card_array_manifest $? 2
check places_card_array_manifest_msg grep -q "manifest.json' is not the manifest.json caigen writes: a JSON object was expected, it holds an array" "$T/c1"
# counts that overflow a sum
sed 's/"written": [0-9]*/"written": 9223372036854775807/; s/"skipped_done": [0-9]*/"skipped_done": 9223372036854775807/' \
	"$T/manifest.keep" >"$T/o/manifest.json"
"$CAIGEN" status "$T/o" >"$T/s4" 2>&1
eq places_status_overflow $? 2
check places_status_overflow_msg grep -q "manifest.json': counts.skipped_done (9223372036854775807) is not a count" "$T/s4"
jq '.counts.written = -5' "$T/manifest.keep" >"$T/o/manifest.json"
"$CAIGEN" status "$T/o" >/dev/null 2>&1
eq places_status_negative $? 2
cp "$T/manifest.keep" "$T/o/manifest.json"
"$CAIGEN" status "$T/o" >/dev/null 2>&1
eq places_status_ok $? 0
# two shard counts into one folder
run_caigen "$T/sh" "$T/in.jsonl" -q --shard 0/2 2>/dev/null
run_caigen "$T/sh" "$T/in.jsonl" -q --shard 1/2 2>/dev/null
eq places_shards_2 $? 0
cp -r "$T/sh" "$T/sh.keep"
run_caigen "$T/sh" "$T/in.jsonl" -q --shard 0/3 2>"$T/r3"
eq places_shard_mix_refused $? 2
check places_shard_mix_msg grep -q "holds the files of a job of 2 shards" "$T/r3"
check places_shard_mix_nothing test ! -s "$T/sh/preferences.shard-00000-of-00003.jsonl"
run_caigen "$T/sh" "$T/in.jsonl" -q --shard 1/2 2>/dev/null
eq places_shard_same_n_ok $? 0
"$CAIGEN" status "$T/sh" >/dev/null 2>&1
eq places_status_one_set $? 0
# a folder that already mixes them (made by hand): status and card refuse
cp "$T/sh.keep/preferences.shard-00000-of-00002.jsonl" "$T/sh/preferences.shard-00000-of-00003.jsonl"
"$CAIGEN" status "$T/sh" >"$T/s5" 2>&1
eq places_status_mixed $? 2
check places_status_mixed_msg grep -q "jobs of 2 and 3 shards" "$T/s5"
"$CAIGEN" card "$T/sh" >"$T/c2" 2>&1
eq places_card_mixed $? 2
check places_card_mixed_msg grep -q "jobs of 2 and 3 shards" "$T/c2"
check places_card_mixed_no_card test ! -e "$T/sh/README.md"
