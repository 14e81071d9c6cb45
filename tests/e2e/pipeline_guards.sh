# pipeline_guards: what real servers do that our other tests' server does
# not (issue 11), with the fake server's switches: a key refused on POST
# only, a key revoked mid-run, identical answers, answers and rationales
# cut by max_tokens, judge replies without the logprobs asked for.
. "$(dirname "$0")/../lib.sh"
gen_prompts 12 "$T/in.jsonl"
# posts LOG [MODEL]: the POSTs in a fake server log (for one model)
posts() {
	jq -r 'select(.method == "POST") | .body.model' "$1" |
		grep -c "^${2:-}" | tr -d ' '
}

# -- a key that /v1/models does not check (llama-server --api-key) ------
start_fake --api-key right-key --key-post-only --log "$T/pf.log"
OPENAI_API_KEY=wrong-key run_caigen "$T/out_pf" "$T/in.jsonl" \
	>"$T/so_pf" 2>"$T/se_pf"
eq guards_post_probe_exit $? 2
eq guards_post_probe_one_line "$(lines "$T/se_pf")" 1
check guards_post_probe_names_fix grep -q \
	"HTTP 401.*check the key in \$OPENAI_API_KEY (policy.api_key_env)" \
	"$T/se_pf"
eq guards_post_probe_policy_posts "$(posts "$T/pf.log" policy)" 1
check guards_post_probe_judge_posts [ "$(posts "$T/pf.log" judge)" -le 1 ]
eq guards_post_probe_tokens "$(jq -s '[.[] | select(.method == "POST")
	| .body.max_tokens] | unique' -c "$T/pf.log")" "[1]"
check guards_post_probe_no_output test ! -e "$T/out_pf/preferences.jsonl"
OPENAI_API_KEY=right-key run_caigen "$T/out_pf2" "$T/in.jsonl" -q \
	2>/dev/null
eq guards_post_probe_right_key_exit $? 0
eq guards_post_probe_right_key_records \
	"$(lines "$T/out_pf2/preferences.jsonl")" 12
stop_fake

# -- a key revoked during the run: stop, exit 2, nothing marked failed --
gen_prompts 60 "$T/many.jsonl"
start_fake --refuse-after 12 --log "$T/rv.log"
run_caigen "$T/out_rv" "$T/many.jsonl" --jobs 2 -q >/dev/null \
	2>"$T/se_rv"
eq guards_refused_exit $? 2
cat "$T/se_rv"
eq guards_refused_one_line "$(grep -c 'requests in a row refused' \
	"$T/se_rv")" 1
check guards_refused_line_names_endpoint grep -q \
	"endpoint http://127.0.0.1:$FAKE_PORT/v1: 3 requests in a row refused (HTTP 401.*): the server wants a key" \
	"$T/se_rv"
eq guards_refused_no_failures \
	"$(cat "$T/out_rv/failures.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0
done_rv=$(cat "$T/out_rv/preferences.jsonl" 2>/dev/null | wc -l |
	tr -d ' ')
check guards_refused_stopped_early [ "$done_rv" -lt 60 ]
check guards_refused_manifest jq -e '.counts.refused == 1' \
	"$T/out_rv/manifest.json"
# at most a handful of refused requests, not one per prompt
check guards_refused_few_requests [ "$(posts "$T/rv.log")" -le 30 ]
stop_fake
start_fake
run_caigen "$T/out_rv" "$T/many.jsonl" --jobs 2 -q >/dev/null 2>&1
eq guards_refused_rerun_exit $? 0
eq guards_refused_rerun_once "$(jq -r .id "$T/out_rv/preferences.jsonl" |
	sort -u | wc -l | tr -d ' ') $(lines "$T/out_rv/preferences.jsonl")" \
	"60 60"
# jobs 1: the refusal is confirmed by the next two requests, then stop
stop_fake
start_fake --refuse-after 0 --log "$T/rv1.log"
run_caigen "$T/out_rv1" "$T/in.jsonl" --jobs 1 --no-preflight -q \
	>/dev/null 2>"$T/se_rv1"
eq guards_refused_jobs1_exit $? 2
eq guards_refused_jobs1_requests "$(posts "$T/rv1.log")" 3
check guards_refused_jobs1_no_failures test ! -s "$T/out_rv1/failures.jsonl"
stop_fake

# -- identical answers -------------------------------------------------
start_fake --same-answers --log "$T/id.log"
run_caigen "$T/out_id" "$T/in.jsonl" >/dev/null 2>"$T/se_id"
eq guards_identical_exit $? 1
eq guards_identical_failures "$(jq -r .reason "$T/out_id/failures.jsonl" |
	sort -u)" "identical responses"
eq guards_identical_all_failed "$(lines "$T/out_id/failures.jsonl")" 12
check guards_identical_counted jq -e '.guards.identical_resamples == 24
	and .guards.identical_failed == 12' "$T/out_id/manifest.json"
check guards_identical_summary grep -q \
	"identical pairs: 24 resampled, 12 failed" "$T/se_id"
# each resample is one request with a seed of its own
eq guards_identical_requests "$(posts "$T/id.log" policy)" $((1 + 12 * 3))
eq guards_identical_seeds "$(jq -r 'select(.method == "POST" and
	.body.model == "policy" and (.body.n // 1) == 1 and .body.seed)
	| .body.seed' \
	"$T/id.log" | sort -u | wc -l | tr -d ' ')" 24
cat >"$T/keep.yaml" <<EOF2
policy: {identical: keep}
EOF2
run_caigen "$T/out_idk" "$T/in.jsonl" -q -c "$T/keep.yaml" >/dev/null 2>&1
eq guards_identical_keep_exit $? 0
check guards_identical_keep_counted jq -e '.guards.identical_kept == 12' \
	"$T/out_idk/manifest.json"
stop_fake
# answers that are sometimes identical: resampled until they differ
start_fake
awk 'BEGIN { for (i = 1; i <= 40; i++)
	printf "{\"id\":\"s%02d\",\"prompt\":\"SAY: word %d\"}\n", i, i }' \
	>"$T/say.jsonl"
run_caigen "$T/out_say" "$T/say.jsonl" -q >/dev/null 2>&1
rc=$?
check guards_identical_resampled jq -e '.guards.identical_resamples > 0' \
	"$T/out_say/manifest.json"
eq guards_identical_none_written "$(jq -r 'select((.responses[0] |
	gsub("^\\s+|\\s+$"; "")) == (.responses[1] | gsub("^\\s+|\\s+$"; "")))
	| .id' "$T/out_say/preferences.jsonl")" ""
eq guards_identical_every_prompt_once "$(cat "$T/out_say/preferences.jsonl" \
	"$T/out_say/failures.jsonl" 2>/dev/null | jq -r .id | sort -u |
	wc -l | tr -d ' ') $rc" "40 $([ -s "$T/out_say/failures.jsonl" ] &&
	echo 1 || echo 0)"

# -- cut answers -------------------------------------------------------
cat >"$T/cut.yaml" <<EOF2
policy: {max_tokens: 8}
EOF2
run_caigen "$T/out_cut" "$T/in.jsonl" -q -c "$T/cut.yaml" >/dev/null \
	2>&1
eq guards_cut_every_prompt_once "$(cat "$T/out_cut/preferences.jsonl" \
	"$T/out_cut/failures.jsonl" 2>/dev/null | jq -r .id | sort -u |
	wc -l | tr -d ' ')" 12
check guards_cut_finish_reasons_kept jq -e -s 'all(.finish_reasons |
	length == 2 and all(. == "stop"))' "$T/out_cut/preferences.jsonl"
eq guards_cut_failure_reason "$(jq -r .reason "$T/out_cut/failures.jsonl" |
	sort -u)" truncated
check guards_cut_counted jq -e --argjson f \
	"$(lines "$T/out_cut/failures.jsonl")" '.guards.truncated_failed == $f
	and .guards.truncated_retries >= $f' "$T/out_cut/manifest.json"
cat >"$T/cutk.yaml" <<EOF2
policy: {max_tokens: 8, truncated: keep}
EOF2
run_caigen "$T/out_cutk" "$T/in.jsonl" -q -c "$T/cutk.yaml" >/dev/null \
	2>&1
eq guards_cut_keep_exit $? 0
check guards_cut_keep_marked jq -e -s 'any(.finish_reasons | index("length"))' \
	"$T/out_cutk/preferences.jsonl"
check guards_cut_keep_counted jq -e '.guards.truncated_kept > 0 and
	.guards.truncated_retries == 0' "$T/out_cutk/manifest.json"
cat >"$T/cutf.yaml" <<EOF2
policy: {max_tokens: 8, truncated: fail}
EOF2
run_caigen "$T/out_cutf" "$T/in.jsonl" -q -c "$T/cutf.yaml" >/dev/null \
	2>&1
check guards_cut_fail_no_retry jq -e '.guards.truncated_retries == 0 and
	.guards.truncated_failed > 0' "$T/out_cutf/manifest.json"
# critique chains: a cut critique or revision is handled the same way
cat >"$T/cutc.yaml" <<EOF2
mode: critiques
policy: {max_tokens: 8}
EOF2
run_caigen "$T/out_cutc" "$T/in.jsonl" -q -c "$T/cutc.yaml" >/dev/null \
	2>&1
eq guards_cut_critique_reason "$(jq -r '.stage + " " + .reason' \
	"$T/out_cutc/failures.jsonl" | sort -u)" "critique truncated"
cat >"$T/cutck.yaml" <<EOF2
mode: critiques
policy: {max_tokens: 8, truncated: keep}
EOF2
run_caigen "$T/out_cutck" "$T/in.jsonl" -q -c "$T/cutck.yaml" >/dev/null \
	2>&1
check guards_cut_critique_finish jq -e -s 'all(has("initial_finish") and
	(.rounds | all(has("critique_finish") and has("revision_finish"))))
	and any(.initial_finish == "length")' "$T/out_cutck/critiques.jsonl"
# a cut rationale is marked in its judgment
cat >"$T/cot.yaml" <<EOF2
judge: {cot: true, cot_max_tokens: 5}
EOF2
run_caigen "$T/out_cot" "$T/in.jsonl" -q -c "$T/cot.yaml" --limit 3 \
	>/dev/null 2>&1
check guards_cut_rationale_marked jq -e -s 'all(.judgments[] |
	.rationale_truncated == true)' "$T/out_cot/preferences.jsonl"
check guards_cut_rationale_counted jq -e '.guards.rationale_cut == 6' \
	"$T/out_cot/manifest.json"
stop_fake

# -- a judge 200 without logprobs: one warning, then text ---------------
start_fake --faults nologprobs=1
run_caigen "$T/out_nl" "$T/in.jsonl" --jobs 3 >/dev/null 2>"$T/se_nl"
eq guards_nologprobs_exit $? 0
eq guards_nologprobs_records "$(lines "$T/out_nl/preferences.jsonl")" 12
eq guards_nologprobs_one_warning "$(grep -c 'without the logprobs' \
	"$T/se_nl")" 1
eq guards_nologprobs_method "$(jq -r '.judgments[].method' \
	"$T/out_nl/preferences.jsonl" | sort -u)" text
check guards_nologprobs_counted jq -e \
	'.guards.nologprobs_fallbacks >= 1 and .judge_http.retries["bad-body"]
	== 0' "$T/out_nl/manifest.json"
