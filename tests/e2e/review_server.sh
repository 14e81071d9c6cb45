# review_server: caigen review over HTTP (curl; tests/browser drives the
# page itself): loopback only, a token on every request, record text
# escaped, the judge's label never sent, each choice in reviews.jsonl at
# once, resume after kill -9 (a cut last line dropped), and caigen eval on
# a run's output graded against the reviews, with agreement between
# reviewers; caigen calibrate reads the reviews as references.
. "$(dirname "$0")/../lib.sh"
CON=$ROOT/constitution/harmless.yaml
start_fake
gen_prompts 28 "$T/p.jsonl"
printf '{"id":"inj1","prompt":"SAY: <script>alert(1)</script> & <b>x</b>"}\n' \
	>>"$T/p.jsonl"
printf '{"id":"inj2","prompt":"SAY: <img src=x onerror=alert(2)>"}\n' \
	>>"$T/p.jsonl"
run_caigen "$T/o" "$T/p.jsonl" -q --seed 5 --constitution "$CON"
eq review_run_exit $? 0
start_review() {
	rm -f "$T/url"
	"$CAIGEN" review "$T/o" --constitution "$CON" --seed 9 "$@" \
		--url-file "$T/url" >"$T/review.out" 2>"$T/review.err" &
	REV_PID=$!
	PIDS="$PIDS $REV_PID"
	_i=0
	while [ ! -s "$T/url" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
	URL=$(cat "$T/url")
	BASE=${URL%%/\?*}
	TOK=${URL##*token=}
}
start_review
check review_url_loopback_token expr "$URL" : \
	'http://127\.0\.0\.1:[0-9]*/?token=[0-9a-f]\{32\}$'
check review_url_printed grep -qF "$URL" "$T/review.out"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
eq review_no_token_403 "$(code "$BASE/")" 403
eq review_bad_token_403 "$(code "$BASE/?token=0123456789abcdef0123456789abcdef")" 403
eq review_api_no_token_403 "$(code "$BASE/api/items")" 403
eq review_page_200 "$(code "$BASE/?token=$TOK")" 200
eq review_header_token_200 "$(code -H "X-Review-Token: $TOK" "$BASE/api/items")" 200
eq review_unknown_404 "$(code "$BASE/nope?token=$TOK")" 404
curl -s "$BASE/api/items?token=$TOK&reviewer=ann" >"$T/items.json"
eq review_all_records "$(jq '.items | length' "$T/items.json")" 30
# the judge's label never reaches the browser
eq review_item_keys "$(jq -c '[.items[] | keys] | unique' "$T/items.json")" \
	'[["a","b","done","principle","prompt"]]'
check review_no_raw_script_tag sh -c "! grep -q '<script>\|<img' '$T/items.json'"
check review_escaped_script grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;' \
	"$T/items.json"
check review_escaped_img grep -q '&lt;img src=x onerror=alert(2)&gt;' "$T/items.json"
check review_principle_text jq -e '.items[0].principle | test(": ")' "$T/items.json"
# bad posts change nothing
post() { curl -s -o /dev/null -w '%{http_code}' -X POST \
	"$BASE/api/review?token=$TOK&index=$1&choice=$2&reviewer=$3"; }
eq review_bad_choice "$(post 0 maybe ann)" 400
eq review_bad_index "$(post 30 A ann)" 400
eq review_no_name "$(post 0 A '')" 400
check review_bad_posts_write_nothing test ! -s "$T/o/reviews.jsonl"
# ann: A B tie skip then A for the rest of the first 8; bob: A A B
i=0
for c in A B tie skip A A A A; do
	post $i $c ann >/dev/null
	i=$((i + 1))
done
for c in A A B; do post $((i - 8)) $c bob >/dev/null; i=$((i + 1)); done
eq review_lines_at_once "$(lines "$T/o/reviews.jsonl")" 11
check review_lines_valid jq -e -s \
	'map(.schema == "caigen.review/1" and (.time | type) == "number") | all' \
	"$T/o/reviews.jsonl"
# A maps back to the record's reply through "swapped"
check review_preferred_follows_swap jq -e -s \
	'map(select(.choice == "A") | .preferred == (if .swapped then 1 else 0 end)) | all' \
	"$T/o/reviews.jsonl"
eq review_progress_ann "$(curl -s "$BASE/api/items?token=$TOK&reviewer=ann" |
	jq '[.items[] | select(.done)] | length')" 8
# kill -9, a half-written line, a new server: nothing acknowledged lost
kill -9 "$REV_PID"
wait "$REV_PID" 2>/dev/null
printf '{"schema":"caigen.review/1","id":"cut' >>"$T/o/reviews.jsonl"
start_review
eq review_resume_ann "$(curl -s "$BASE/api/items?token=$TOK&reviewer=ann" |
	jq -c '[.items[0:9][] | .done]')" '["A","B","tie","skip","A","A","A","A",null]'
eq review_resume_bob "$(curl -s "$BASE/api/items?token=$TOK&reviewer=bob" |
	jq '[.items[] | select(.done)] | length')" 3
post 8 B ann >/dev/null
check review_cut_line_dropped jq -e -s 'length == 12' "$T/o/reviews.jsonl"
kill "$REV_PID"
wait "$REV_PID"
eq review_sigterm_exit $? 0
# a sample: seeded, the same records in the same order
"$CAIGEN" review "$T/o" --sample 5 --seed 9 --port 0 --host 300.1.1.1 \
	2>"$T/e1" >/dev/null
eq review_bad_host $? 2
start_review --sample 5
curl -s "$BASE/api/items?token=$TOK" | jq -c '[.items[].prompt]' >"$T/s1"
kill "$REV_PID"; wait "$REV_PID"
start_review --sample 5
curl -s "$BASE/api/items?token=$TOK" | jq -c '[.items[].prompt]' >"$T/s2"
kill "$REV_PID"; wait "$REV_PID"
eq review_sample_size "$(jq length "$T/s1")" 5
check review_sample_seeded cmp -s "$T/s1" "$T/s2"
# eval on the run's own output: the reviews are the references
"$CAIGEN" eval --out "$T/o" --json --seed 5 >"$T/ev.json"
eq review_eval_exit $? 0
eq review_eval_items "$(jq .counts.items "$T/ev.json")" 8
eq review_eval_from_reviews "$(jq .reviews.references_from_reviews "$T/ev.json")" 8
eq review_eval_multi "$(jq .reviews.multi_reviewed "$T/ev.json")" 3
eq review_eval_reviewers "$(jq -c .reviews.reviewers "$T/ev.json")" '["ann","bob"]'
# ann and bob agree on the first record only: 1 of 3 pairs
check review_eval_agreement jq -e '.reviews.agreement * 3 | . > 0.999 and . < 1.001' \
	"$T/ev.json"
# the hard agreement, computed from the files another way
jq -s -r 'group_by(.id)[] | [.[] | select(.choice != "skip")] |
	group_by(.reviewer) | map(last) | select(length > 0) |
	{id: .[0].id, m: (map(if .preferred == 0 then 1 elif .preferred == 1 then 0 else 0.5 end) | add / length)} |
	"\(.id)\t\(.m)"' "$T/o/reviews.jsonl" | sort >"$T/maj.tsv"
jq -r '"\(.id)\t\(.p)"' "$T/o/preferences.jsonl" | sort >"$T/p.tsv"
WANT=$(join -t "$(printf '\t')" "$T/maj.tsv" "$T/p.tsv" | awk -F'\t' '
	$2 != 0.5 { y = $2 > 0.5 ? 1 : 0; n++;
		h += ($3 == 0.5) ? 0.5 : (($3 > 0.5) == (y == 1)) }
	END { printf "%.6f", h / n }')
eq review_eval_hard_agreement "$(jq '.overall.agreement_hard.value * 1e6 | round / 1e6' "$T/ev.json" |
	awk '{ printf "%.6f", $1 }')" "$WANT"
"$CAIGEN" eval --out "$T/o" --seed 5 >"$T/ev.txt"
check review_eval_text grep -q "^reviews: 11 by 2 reviewer" "$T/ev.txt"
# calibrate takes reviews as references: carl prefers the judge's choice
# in 3 records of 4
mkdir "$T/c"
cp "$T/o/preferences.jsonl" "$T/c/"
jq -c '{schema: "caigen.review/1", id, reviewer: "carl", choice: "A",
	preferred: (if .index % 4 == 0 then 1 - .chosen_index else .chosen_index end),
	swapped: false}' "$T/c/preferences.jsonl" >"$T/c/reviews.jsonl"
"$CAIGEN" calibrate "$T/c" --folds 2 --bootstrap 50 --json >"$T/cal.json"
eq review_calibrate_exit $? 0
eq review_calibrate_items "$(jq .items "$T/cal.json")" 30
printf '{"schema":"caigen.review/1","id":"x","reviewer":"carl","choice":"C"}\n' \
	>>"$T/c/reviews.jsonl"
"$CAIGEN" calibrate "$T/c" 2>"$T/e2"
eq review_calibrate_bad_review $? 2
check review_calibrate_bad_review_line grep -q "reviews.jsonl:31: " "$T/e2"
