# cli_prompt_format: input mixing `prompt` strings and `messages` lists
# gives records whose `prompt` is one type (a list whenever any prompt is
# a list), for a file, its shards and its split; prompt_format:
# standard writes strings (a longer conversation is rejected, naming the
# setting); stdin takes the first prompt's format; ids stay the same.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 6 "$T/s.jsonl"
{ cat "$T/s.jsonl"
  printf '%s\n' '{"id":"m1","messages":[{"role":"user","content":"Hello there?"}]}'
  printf '%s\n' '{"id":"m2","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Why?"}]}'
} >"$T/mix.jsonl"
run_caigen "$T/a" "$T/mix.jsonl" -q 2>/dev/null
eq format_mixed_exit $? 0
eq format_mixed_one_type "$(jq -r '.prompt | type' "$T/a/preferences.jsonl" | sort -u)" array
eq format_mixed_chosen_type "$(jq -r '.chosen | type' "$T/a/preferences.jsonl" | sort -u)" array
eq format_mixed_records "$(lines "$T/a/preferences.jsonl")" 8
# the ids do not change with the format
run_caigen "$T/s0" "$T/s.jsonl" -q 2>/dev/null
eq format_ids_kept "$(jq -r .id "$T/a/preferences.jsonl" | head -6 | tr '\n' ' ')" \
	"$(jq -r .id "$T/s0/preferences.jsonl" | tr '\n' ' ')"
# strings only: unchanged (strings)
eq format_strings_stay "$(jq -r '.prompt | type' "$T/s0/preferences.jsonl" | sort -u)" string
# shards and a split decide alike: merged == one process
for k in 0 1; do
	run_caigen "$T/sh" "$T/mix.jsonl" -q --shard $k/2 2>/dev/null
done
"$CAIGEN" merge "$T"/sh/preferences.shard-*.jsonl -o "$T/sh.jsonl" >/dev/null 2>&1
check format_shards_same cmp -s "$T/a/preferences.jsonl" "$T/sh.jsonl"
"$CAIGEN" split "$T/mix.jsonl" -n 2 -o "$T/sp" >/dev/null 2>&1
eq format_split_records "$(jq .conversational "$T/sp/split.json")" true
for k in 0 1; do
	run_caigen "$T/spo" "$T/sp" -q --shard $k/2 2>/dev/null
done
"$CAIGEN" merge "$T"/spo/preferences.shard-*.jsonl -o "$T/spo.jsonl" >/dev/null 2>&1
check format_split_same cmp -s "$T/a/preferences.jsonl" "$T/spo.jsonl"
# prompt_format: standard
printf 'prompt_format: standard\n' >"$T/std.yaml"
run_caigen "$T/b" "$T/mix.jsonl" -q -c "$T/std.yaml" 2>/dev/null
eq format_standard_exit $? 0
eq format_standard_type "$(jq -r '.prompt | type' "$T/b/preferences.jsonl" | sort -u)" string
eq format_standard_records "$(lines "$T/b/preferences.jsonl")" 7
check format_standard_reject_names grep -q "prompt_format" "$T/b/rejects.jsonl"
printf 'prompt_format: sometimes\n' >"$T/bad.yaml"
run_caigen "$T/c" "$T/mix.jsonl" -q -c "$T/bad.yaml" 2>"$T/e"
eq format_bad_value_exit $? 2
# stdin: the first prompt decides
run_caigen "$T/d" - -q <"$T/mix.jsonl" 2>/dev/null
eq format_stdin_type "$(jq -r '.prompt | type' "$T/d/preferences.jsonl" | sort -u)" string
eq format_stdin_records "$(lines "$T/d/preferences.jsonl")" 7
