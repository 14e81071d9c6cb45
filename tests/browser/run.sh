# run.sh - make test-browser: caigen review's page in a real headless
# Chromium. A short run against the fake server gives records (two of
# them with HTML in their answers); caigen review serves them; review.cjs
# (puppeteer-core) reviews them by keyboard, reloads mid-way, adds a
# second reviewer and takes a screenshot ($SHOT). Then reviews.jsonl is
# checked against what the page showed, and caigen eval against it.
# Ends with "N passed, N failed".
. "$(dirname "$0")/../lib.sh"
SHOT=${SHOT:-$ROOT/obj/browser/review.png}
LOG=$T/browser.log
{
start_fake
gen_prompts 6 "$T/p.jsonl"
printf '{"id":"inj1","prompt":"SAY: <script>window.__pwned=1</script> & <b>bold</b>"}\n' \
	>>"$T/p.jsonl"
printf '{"id":"inj2","prompt":"SAY: <img src=x onerror=\\"window.__pwned=1\\">"}\n' \
	>>"$T/p.jsonl"
run_caigen "$T/o" "$T/p.jsonl" -q --seed 4 \
	--constitution "$ROOT/constitution/harmless.yaml"
eq browser_run_exit $? 0
"$CAIGEN" review "$T/o" --seed 2 --constitution "$ROOT/constitution/harmless.yaml" \
	--url-file "$T/url" >"$T/review.out" 2>&1 &
REV=$!
PIDS="$PIDS $REV"
i=0
while [ ! -s "$T/url" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
node "$ROOT/tests/browser/review.cjs" "$(cat "$T/url")" "$T" "$SHOT"
eq browser_driver_exit $? 0
R=$T/o/reviews.jsonl
eq browser_reviews_lines "$(lines "$R")" 10
eq browser_reviews_by "$(jq -s -c 'group_by(.reviewer) | map([.[0].reviewer, length])' "$R")" \
	'[["second",2],["tester bats",8]]'
# each review's preferred reply is the text the page showed under the
# letter chosen (the page never saw the record's order)
jq -c -s 'map(select(.choice == "A" or .choice == "B"))' "$R" >"$T/ab.json"
jq -c -s 'map(select(.choice == "A" or .choice == "B"))' "$T/shown.jsonl" >"$T/sab.json"
jq -n -e --slurpfile recs "$T/o/preferences.jsonl" \
	--slurpfile rv "$T/ab.json" --slurpfile sh "$T/sab.json" '
	($recs | map({(.id): .responses}) | add) as $resp |
	[range(0; $rv[0] | length) as $k | $rv[0][$k] as $r | $sh[0][$k] as $s |
	 ($resp[$r.id][$r.preferred]) ==
	 (if $s.choice == "A" then $s.a else $s.b end)] | all and length > 4' \
	>/dev/null
eq browser_reviews_match_page $? 0
eq browser_choices "$(jq -r .choice "$R" | tr '\n' ' ')" \
	"A B tie skip A B A B A A "
check browser_screenshot test -s "$SHOT"
# the answers with HTML in them were shown as text
check browser_html_as_text grep -qF '<script>window.__pwned=1</script> & <b>bold</b>' \
	"$T/shown.jsonl"
kill "$REV"
wait "$REV"
eq browser_review_stops $? 0
"$CAIGEN" eval --out "$T/o" --json --seed 1 >"$T/ev.json"
eq browser_eval_exit $? 0
eq browser_eval_items "$(jq .counts.items "$T/ev.json")" 7
eq browser_eval_from_reviews "$(jq .reviews.references_from_reviews "$T/ev.json")" 7
eq browser_eval_reviewers "$(jq -c .reviews.reviewers "$T/ev.json")" '["second","tester bats"]'
eq browser_eval_pairs "$(jq .reviews.reviewer_pairs "$T/ev.json")" 2
} >"$LOG" 2>&1
cat "$LOG"
p=$(grep -c '^PASS ' "$LOG")
f=$(grep -c '^FAIL ' "$LOG")
echo "screenshot: $SHOT"
echo "$p passed, $f failed"
[ "$f" -eq 0 ] && [ "$p" -gt 0 ]
