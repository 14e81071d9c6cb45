# rank_requests: the judge requests a ranked prompt makes, counted in the
# fake server's log, against the formula of rank.h and the dry run's
# prediction, for each `pairs` setting (k = 5 answers):
#   requests per prompt = pairs(k) * orders * calls per judgment
#   pairs: all k(k-1)/2, adjacent k-1, random:m min(m, k(k-1)/2);
#   orders 2 (judge.both_orders) or 1; calls 1, or 2 with judge.cot.
. "$(dirname "$0")/../lib.sh"
gen_prompts 6 "$T/in.jsonl"
n=6
k=5
# NAME PAIRS EXTRA-YAML WANT-PER-PROMPT
try() {
	_name=$1
	printf 'responses: %d\npairs: %s\n%b' "$k" "$2" "$3" >"$T/$_name.yaml"
	start_fake --log "$T/$_name.log"
	run_caigen "$T/$_name" "$T/in.jsonl" -q --config "$T/$_name.yaml" \
		--jobs 4
	eq "rank_requests_${_name}_exit" $? 0
	eq "rank_requests_${_name}_no_duplicates" "$(jq -s \
		'map(.duplicates | length) | add' \
		"$T/$_name/preferences.jsonl")" 0
	_got=$(jq -s '[.[] | select(.path | test("chat")) |
		select(.body.messages | tostring | test("<<<reply A \\["))] |
		length' "$T/$_name.log")
	eq "rank_requests_${_name}_formula" "$_got" $(($4 * n))
	"$CAIGEN" run --config "$T/$_name.yaml" --prompts "$T/in.jsonl" \
		--out "$T/$_name.dry" --dry-run >"$T/$_name.plan" 2>&1
	_per=$(sed -n 's/.*: \([0-9]*\) judge requests per prompt.*/\1/p' \
		"$T/$_name.plan")
	eq "rank_requests_${_name}_dryrun_per_prompt" "$_per" "$4"
	_tot=$(sed -n "s/^  judge .*: \([0-9]*\) requests.*/\1/p" \
		"$T/$_name.plan")
	eq "rank_requests_${_name}_dryrun_total" "$_tot" "$_got"
	stop_fake
}
try all all '' 20
try adjacent adjacent '' 8
try random3 random:3 '' 6
try random50 random:50 '' 20
try cot adjacent 'judge:\n  cot: true\n' 16
try oneorder all 'judge:\n  both_orders: false\n' 10

# the setting is checked
printf 'responses: 5\npairs: random:0\n' >"$T/bad.yaml"
"$CAIGEN" check "$T/bad.yaml" >/dev/null 2>"$T/bad.err"
eq rank_pairs_bad_exit $? 2
check rank_pairs_bad_message grep -q "pairs must be all, adjacent or random:m" \
	"$T/bad.err"
printf 'responses: 17\n' >"$T/bad2.yaml"
"$CAIGEN" check "$T/bad2.yaml" >/dev/null 2>"$T/bad2.err"
eq rank_responses_bad_exit $? 2
