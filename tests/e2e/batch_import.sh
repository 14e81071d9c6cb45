# batch_import: `caigen batch import` keeps only this run's answers. A
# results file of another run (another seed) is refused with file:line
# and nothing added; the same file imported twice adds nothing the second
# time; one custom_id with two different answers (in the file, or against
# the answer kept) is refused; the manifest of the run after an import
# counts the tokens and cost of what was imported.
. "$(dirname "$0")/../lib.sh"
RUNBATCH=${RUNBATCH:-$ROOT/obj/default/runbatch}
start_fake
gen_prompts 10 "$T/in.jsonl"
printf 'prices:\n  pol: {input: 1, output: 1}\n  jud: {input: 1, output: 1}\npolicy: {max_tokens: 64}\n' \
	>"$T/c.yaml"
cb() {	# COMMAND OUT [flags...]
	_c=$1 _o=$2
	shift 2
	"$CAIGEN" batch "$_c" --prompts "$T/in.jsonl" --out "$_o" \
		--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -c "$T/c.yaml" \
		--policy-model pol --judge-model jud -q "$@"
}
results() { cat "$T"/out/batch/*.results.jsonl 2>/dev/null | wc -l | tr -d ' '; }

cb export "$T/out" 2>/dev/null
eq import_export_exit $? 75
"$RUNBATCH" --server "http://127.0.0.1:$FAKE_PORT" \
	-i "$T/out/batch/policy.export.jsonl" -o "$T/ours.jsonl"
# the same requests of another run: seed 7
cb export "$T/other" --seed 7 2>/dev/null
"$RUNBATCH" --server "http://127.0.0.1:$FAKE_PORT" \
	-i "$T/other/batch/policy.export.jsonl" -o "$T/theirs.jsonl"

cb import "$T/out" "$T/theirs.jsonl" 2>"$T/theirs.err"
eq import_foreign_exit $? 2
check import_foreign_says grep -q "theirs.jsonl:1: custom_id 'p-[0-9a-f]*' is no request of this run" "$T/theirs.err"
eq import_foreign_nothing_added "$(results)" 0

# one id, two answers in one file
head -1 "$T/ours.jsonl" >"$T/dup.jsonl"
head -1 "$T/ours.jsonl" | jq -c '.response.body.choices[0].message.content = "something else"' \
	>>"$T/dup.jsonl"
cb import "$T/out" "$T/dup.jsonl" 2>"$T/dup.err"
eq import_conflict_exit $? 2
check import_conflict_says grep -q "dup.jsonl:2: custom_id 'p-.*' again with another answer" "$T/dup.err"
eq import_conflict_nothing_added "$(results)" 0

cb import "$T/out" "$T/ours.jsonl" 2>"$T/ours.err"
eq import_ours_exit $? 75
eq import_ours_added "$(results)" 10
check import_counts_usage jq -e '.usage_by_model.pol.completion_tokens > 0 and
	.usage_by_model.pol.cost_usd > 0' "$T/out/manifest.json"

# again: nothing added; against the kept answer: refused
cb import "$T/out" "$T/ours.jsonl" 2>"$T/again.err"
eq import_again_exit $? 75
eq import_again_nothing_added "$(results)" 10
tail -1 "$T/dup.jsonl" >"$T/other1.jsonl"
cb import "$T/out" "$T/other1.jsonl" 2>"$T/kept.err"
eq import_kept_conflict_exit $? 2
check import_kept_conflict_says grep -q "other1.jsonl:1: custom_id 'p-.*' has another answer kept" "$T/kept.err"
eq import_kept_conflict_nothing_added "$(results)" 10
stop_fake
