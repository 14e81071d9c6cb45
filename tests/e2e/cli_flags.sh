# cli_flags: --mode, --rounds, --responses and --constitution (a short
# name) do what the same YAML keys do, byte for byte; bad values exit 2.
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 4 "$T/in.jsonl"
# --mode critiques --rounds 2 == mode: critiques, rounds: 2
run_caigen "$T/a" "$T/in.jsonl" -q --mode critiques --rounds 2 2>"$T/e1"
eq flag_mode_exit $? 0
check flag_mode_critiques test -s "$T/a/critiques.jsonl"
check flag_mode_no_preferences test ! -e "$T/a/preferences.jsonl"
eq flag_rounds_two "$(jq '.rounds | length' "$T/a/critiques.jsonl" | sort -u)" 2
printf 'mode: critiques\nrounds: 2\n' >"$T/c.yaml"
run_caigen "$T/b" "$T/in.jsonl" -q -c "$T/c.yaml" 2>/dev/null
check flag_mode_rounds_same_as_yaml cmp -s "$T/a/critiques.jsonl" \
	"$T/b/critiques.jsonl"
run_caigen "$T/c" "$T/in.jsonl" -q --mode both 2>/dev/null
eq flag_mode_both_exit $? 0
check flag_mode_both_files test -s "$T/c/critiques.jsonl" -a \
	-s "$T/c/preferences.jsonl"
# --responses 3 == responses: 3
run_caigen "$T/d" "$T/in.jsonl" -q --responses 3 2>/dev/null
eq flag_responses_exit $? 0
eq flag_responses_three "$(jq '.responses | length' "$T/d/preferences.jsonl" | sort -u)" 3
printf 'responses: 3\n' >"$T/r.yaml"
run_caigen "$T/e" "$T/in.jsonl" -q -c "$T/r.yaml" 2>/dev/null
check flag_responses_same_as_yaml cmp -s "$T/d/preferences.jsonl" \
	"$T/e/preferences.jsonl"
# --constitution by short name == the file's path
run_caigen "$T/f" "$T/in.jsonl" -q --constitution udhr 2>/dev/null
eq flag_constitution_short_exit $? 0
run_caigen "$T/g" "$T/in.jsonl" -q \
	--constitution "$ROOT/constitution/udhr.yaml" 2>/dev/null
check flag_constitution_short_same cmp -s "$T/f/preferences.jsonl" \
	"$T/g/preferences.jsonl"
# bad values: exit 2, one line naming the flag
for bad in "--mode sometimes" "--rounds 0" "--responses 1" "--responses 17"; do
	# shellcheck disable=SC2086
	run_caigen "$T/x" "$T/in.jsonl" -q $bad 2>"$T/eb"
	eq "flag_bad_$(echo "$bad" | tr -d ' -')" $? 2
done
check flag_bad_names_mode grep -q -- "--responses" "$T/eb"
