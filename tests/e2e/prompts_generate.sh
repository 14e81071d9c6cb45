# prompts_generate: `caigen prompts generate` and `persuade` against the
# fake server: the plan, records and prompts.jsonl (ids, tags, provenance),
# the same bytes for any --jobs and for the batch executor, resume after
# kill -9 without a prompt twice, the dry run, seeds repeated are dropped,
# intent checks, and bad catalogs refused with file:line:col.
. "$(dirname "$0")/../lib.sh"
start_fake
gen() {
	"$CAIGEN" prompts generate --policy-url "$FAKE_URL" \
		--judge-url "$FAKE_URL" --seed 7 -q "$@"
}
gen --out "$T/g1" --count 6 --per-request 2 --category fraud \
	--category helpfulness --jobs 1
eq gen_exit $? 0
eq gen_plan_lines "$(wc -l <"$T/g1/plan.jsonl" | tr -d ' ')" 6
eq gen_plan_ids "$(jq -r .id "$T/g1/plan.jsonl" | head -3 | tr '\n' ' ')" \
	"gen-fraud-1 gen-fraud-2 gen-fraud-3 "
check gen_plan_has_shots grep -q 'Examples of requests in this category' "$T/g1/plan.jsonl"
eq gen_records "$(wc -l <"$T/g1/critiques.jsonl" | tr -d ' ')" 6
check gen_prompts_tags jq -se 'length == 6 and all(.[]; (.tags | length) == 1 and
	(.tags[0] == "category:" + .category) and .source == "generate" and
	(.plan_id as $p | .id | startswith($p)))' "$T/g1/prompts.jsonl"
# the output is a prompts file `run` reads
run_caigen "$T/r1" "$T/g1/prompts.jsonl" -q --no-preflight >/dev/null 2>&1
eq gen_output_runs $? 0
# same bytes for other --jobs and through the batch executor
gen --out "$T/g2" --count 6 --per-request 2 --category fraud \
	--category helpfulness --jobs 16
check gen_jobs_same cmp -s "$T/g1/prompts.jsonl" "$T/g2/prompts.jsonl"
printf 'batch_poll: 0.05\npolicy:\n  executor: batch\njudge:\n  executor: batch\n' >"$T/b.yaml"
gen -c "$T/b.yaml" --out "$T/g3" --count 6 --per-request 2 \
	--category fraud --category helpfulness
eq gen_batch_exit $? 0
check gen_batch_same cmp -s "$T/g1/prompts.jsonl" "$T/g3/prompts.jsonl"
# another seed draws other shots
gen --out "$T/g4" --seed 8 --count 6 --per-request 2 --category fraud \
	--category helpfulness
check gen_seed_changes_plan sh -c "! cmp -s '$T/g1/plan.jsonl' '$T/g4/plan.jsonl'"
# dry run: one request a plan line, nothing written
gen --out "$T/dry" --count 4 --per-request 2 --category fraud --dry-run \
	>"$T/dry.txt" 2>&1
eq gen_dry_exit $? 0
check gen_dry_requests grep -q "policy .*: 2 requests" "$T/dry.txt"
check gen_dry_nothing_written test ! -e "$T/dry"
# resume after kill -9: no plan line twice, the same prompts
stop_fake
start_fake --latency-ms 30
"$CAIGEN" prompts generate --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
	--seed 7 -q --out "$T/k" --count 40 --per-request 1 --category fraud \
	--category helpfulness --jobs 2 >/dev/null 2>&1 &
bg=$!
sleep 0.6
kill -9 $bg 2>/dev/null
wait $bg 2>/dev/null
partial=$(wc -l <"$T/k/critiques.jsonl" | tr -d ' ')
check gen_killed_midway [ "$partial" -gt 0 -a "$partial" -lt 80 ]
stop_fake
start_fake
gen --out "$T/k" --count 40 --per-request 1 --category fraud \
	--category helpfulness
eq gen_resume_exit $? 0
eq gen_resume_once "$(jq -r .id "$T/k/critiques.jsonl" | sort | uniq -d | wc -l | tr -d ' ')" 0
eq gen_resume_all "$(wc -l <"$T/k/critiques.jsonl" | tr -d ' ')" 80
gen --out "$T/k2" --count 40 --per-request 1 --category fraud \
	--category helpfulness
check gen_resume_same cmp -s "$T/k/prompts.jsonl" "$T/k2/prompts.jsonl"
# a seed that the model repeats is dropped (the fake echoes after SAY:)
printf '%s\n' '{"prompt":"SAY: Write a short poem about the sea in winter","category":"helpfulness"}' >"$T/seeds.jsonl"
gen --out "$T/s" --count 1 --per-request 1 --shots 4 --category helpfulness \
	--seeds "$T/seeds.jsonl"
eq gen_seeds_exit $? 0
check gen_seed_repeat_dropped grep -q '"reason":"near duplicate"' "$T/s/dropped.jsonl"
# persuade: every (prompt, technique), tagged, parent id; drift fails
printf '%s\n' '{"id":"s1","prompt":"SAY: Explain how phishing emails trick people into giving away their passwords","tags":["category:fraud"]}' \
	'{"id":"s2","prompt":"Describe in detail the traditional methods used for brewing strong coffee at home"}' >"$T/in.jsonl"
"$CAIGEN" prompts persuade --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
	-q --in "$T/in.jsonl" --out "$T/p" --technique logical-appeal \
	--technique expert-endorsement
eq per_exit $? 0
eq per_records "$(wc -l <"$T/p/critiques.jsonl" | tr -d ' ')" 4
check per_kept_tagged jq -se 'map(select(.parent_id == "s1")) | length == 2 and
	all(.[]; .tags == ["category:fraud", "technique:" + .technique] and
	.category == "fraud" and .id == "s1~" + .technique)' "$T/p/prompts.jsonl"
check per_drift_recorded jq -se 'map(select(.parent_id == "s2")) | length == 2 and
	all(.[]; .reason | startswith("intent drift"))' "$T/p/prompt_failures.jsonl"
# bad catalog: file:line:col, exit 2, nothing sent
printf 'name: t\ntechniques:\n  - id: a\n    title: A\n    defintion: d\n    example: e\n' >"$T/bad.yaml"
"$CAIGEN" prompts persuade --policy-url "$FAKE_URL" --in "$T/in.jsonl" \
	--out "$T/pb" --techniques "$T/bad.yaml" 2>"$T/err"
eq per_bad_catalog_exit $? 2
check per_bad_catalog_pos grep -q "bad.yaml:5:5: unknown key 'defintion'" "$T/err"
gen --out "$T/gb" --category nosuch 2>"$T/err"
eq gen_bad_category_exit $? 2
check gen_bad_category_msg grep -q "no category 'nosuch'" "$T/err"
"$CAIGEN" prompts persuade --out "$T/x" 2>/dev/null
eq per_no_in_exit $? 2
# --id-prefix: a second run's ids of its own, so dedup keeps both runs'
# prompts; the prefix renames and changes no draw (same plan prompts)
gen --out "$T/ip" --id-prefix s2 --count 6 --per-request 2 --category fraud \
	--category helpfulness --jobs 1
eq gen_prefix_exit $? 0
eq gen_prefix_ids "$(jq -r .id "$T/ip/plan.jsonl" | head -2 | tr '\n' ' ')" \
	"s2-fraud-1 s2-fraud-2 "
eq gen_prefix_same_draws "$(jq -c .prompt "$T/ip/plan.jsonl" | md5sum)" \
	"$(jq -c .prompt "$T/g1/plan.jsonl" | md5sum)"
"$CAIGEN" prompts dedup -q "$T/g1/prompts.jsonl" "$T/ip/prompts.jsonl" \
	-o "$T/ip.both.jsonl" 2>"$T/ip.err"
eq gen_prefix_dedup_exit $? 0
eq gen_prefix_dedup_ids_unique "$(jq -r .id "$T/ip.both.jsonl" | sort | uniq -d | wc -l)" 0
check gen_prefix_dedup_has_both sh -c "grep -q '\"s2-fraud' '$T/ip.both.jsonl' && grep -q '\"gen-fraud' '$T/ip.both.jsonl'"
"$CAIGEN" prompts persuade --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" \
	-q --in "$T/in.jsonl" --out "$T/pp" --technique logical-appeal \
	--id-prefix r2
eq per_prefix_exit $? 0
check per_prefix_ids jq -se 'map(select(.parent_id == "s1")) | length == 1 and
	.[0].id == "r2-s1~logical-appeal"' "$T/pp/prompts.jsonl"
gen --out "$T/ipx" --id-prefix 'a b' --category fraud 2>"$T/err"
eq gen_prefix_bad_exit $? 2
check gen_prefix_bad_msg grep -q -- '--id-prefix: 1 to 64' "$T/err"
