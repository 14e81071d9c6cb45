# calibrate: a fake judge made 3 times too sure of itself labels pairs
# whose human labels were drawn from the true probabilities; caigen
# calibrate finds a temperature near 3, out-of-fold log loss and ECE fall
# (the whole 95 % interval of the change below 0), and a run with
# judge.calibration writes the same bytes as `calibrate apply` on the
# uncalibrated run's records. Files for another judge, CoT setting or
# calibration method are refused.
. "$(dirname "$0")/../lib.sh"
CON=$ROOT/constitution/harmless.yaml
start_fake --judge-overconfidence 3
# 1000 pairs; P(reply X preferred) = 1 / (1 + exp(-(LX - LY) / 50)), the
# fake judge's own rule before the overconfidence (Park-Miller draws, the
# same in every awk)
awk 'function u() { s = (s * 16807) % 2147483647; return s / 2147483647 }
BEGIN { s = 12345; for (i = 1; i <= 1000; i++) {
	la = 10 + int(u() * 200); lb = 10 + int(u() * 200);
	a = "Reply " i " one"; while (length(a) < la) a = a " x";
	b = "Reply " i " two"; while (length(b) < lb) b = b " y";
	pa = 1 / (1 + exp(-(length(a) - length(b)) / 50));
	if (u() < pa) { c = a; r = b } else { c = b; r = a }
	printf "{\"prompt\":\"Question %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\"}\n", i, c, r } }' >"$T/pairs.jsonl"
lab() { _o=$1; shift; "$CAIGEN" label --pairs "$T/pairs.jsonl" --out "$_o" \
	--judge-url "$FAKE_URL" -q --seed 3 --constitution "$CON" "$@"; }
lab "$T/o1"
eq calibrate_label_exit $? 0
"$CAIGEN" calibrate "$T/o1" --json --bootstrap 300 >"$T/cal.json"
eq calibrate_exit $? 0
C=$T/o1/calibration.json
check calibrate_stdout_is_file cmp -s "$T/cal.json" "$C"
eq calibrate_schema "$(jq -r .schema "$C")" caigen.calibration/1
eq calibrate_judge "$(jq -r '.judge | "\(.model) \(.method) \(.cot)"' "$C")" \
	"judge logprobs false"
eq calibrate_items "$(jq .items "$C")" 1000
T_FIT=$(jq .temperature "$C")
check calibrate_temperature_near_planted awk -v t="$T_FIT" \
	'BEGIN { exit !(t > 2.6 && t < 3.4) }'
check calibrate_bias_small awk -v b="$(jq .bias "$C")" \
	'BEGIN { exit !(b > -0.15 && b < 0.15) }'
for m in log_loss ece; do
	check "calibrate_${m}_falls" jq -e ".out_of_fold.$m |
		.after.value < .before.value and .change.ci95[1] < 0" "$C"
done
check calibrate_brier_not_worse jq -e \
	'.out_of_fold.brier | .after.value <= .before.value' "$C"
# the same seed gives the same file
"$CAIGEN" calibrate "$T/o1" --bootstrap 300 -o "$T/again.json" >"$T/text"
check calibrate_deterministic cmp -s "$C" "$T/again.json"
check calibrate_text grep -q "^temperature " "$T/text"
# a run with the calibration == the offline command on the raw run
printf 'judge:\n  calibration: %s\n' "$C" >"$T/cal.yaml"
lab "$T/o2" -c "$T/cal.yaml"
eq calibrate_run_exit $? 0
"$CAIGEN" calibrate apply "$C" "$T/o1/preferences.jsonl" "$T/applied.jsonl" \
	2>"$T/apply.err"
eq calibrate_apply_exit $? 0
check calibrate_apply_same_bytes_as_run cmp -s "$T/applied.jsonl" \
	"$T/o2/preferences.jsonl"
jq -c '[.id, .p, .chosen_index]' "$T/applied.jsonl" >"$T/l1"
jq -c '[.id, .p, .chosen_index]' "$T/o2/preferences.jsonl" >"$T/l2"
check calibrate_apply_same_labels cmp -s "$T/l1" "$T/l2"
# p_raw stays the judge's; p moves towards 1/2 (a temperature above 1,
# and a small bias: at most 0.02 past the raw label's distance)
jq -r .p_raw "$T/o1/preferences.jsonl" >"$T/r1"
jq -r .p_raw "$T/o2/preferences.jsonl" >"$T/r2"
check calibrate_raw_kept cmp -s "$T/r1" "$T/r2"
check calibrate_p_softer jq -se 'map(((.p - 0.5) | fabs) <= ((.p_raw - 0.5) | fabs) + 0.02) | all' \
	"$T/o2/preferences.jsonl"
check calibrate_record_names_it jq -se \
	'map(.calibration.temperature > 2.6 and .calibration.judge == "judge") | all' \
	"$T/o2/preferences.jsonl"
check calibrate_uncalibrated_has_no_key jq -se \
	'map(has("calibration") | not) | all' "$T/o1/preferences.jsonl"
# refusals: another judge, CoT, another calibration method, same file
printf 'judge:\n  calibration: %s\n  model: other\n' "$C" >"$T/other.yaml"
lab "$T/o3" -c "$T/other.yaml" 2>"$T/e1"
eq calibrate_other_judge_refused $? 2
check calibrate_other_judge_msg grep -q "fitted for judge 'judge', not 'other'" \
	"$T/e1"
check calibrate_other_judge_nothing_written test ! -e "$T/o3/preferences.jsonl"
printf 'judge:\n  calibration: %s\n  cot: true\n' "$C" >"$T/cot.yaml"
lab "$T/o4" -c "$T/cot.yaml" 2>"$T/e2"
eq calibrate_cot_refused $? 2
jq '.method = "isotonic"' "$C" >"$T/iso.json"
"$CAIGEN" calibrate apply "$T/iso.json" "$T/o1/preferences.jsonl" \
	"$T/x.jsonl" 2>"$T/e3"
eq calibrate_other_method_refused $? 2
check calibrate_other_method_msg grep -q "method 'isotonic' is not known" \
	"$T/e3"
check calibrate_refused_nothing_written test ! -e "$T/x.jsonl"
jq -c '.models.judge = "other"' "$T/o1/preferences.jsonl" >"$T/other.jsonl"
"$CAIGEN" calibrate apply "$C" "$T/other.jsonl" "$T/x.jsonl" 2>"$T/e4"
eq calibrate_apply_other_judge $? 2
check calibrate_apply_other_judge_line grep -q "other.jsonl:1: " "$T/e4"
"$CAIGEN" calibrate apply "$C" "$T/applied.jsonl" "$T/applied.jsonl" 2>/dev/null
eq calibrate_apply_in_place_refused $? 2
head -5 "$T/o1/preferences.jsonl" >"$T/few.jsonl"
"$CAIGEN" calibrate "$T/few.jsonl" 2>"$T/e5"
eq calibrate_too_few $? 2
printf '{"schema":"caigen.preference/1",\n' >"$T/bad.jsonl"
"$CAIGEN" calibrate "$T/bad.jsonl" 2>"$T/e6"
eq calibrate_bad_json $? 2
check calibrate_bad_json_line grep -q "bad.jsonl:1: invalid JSON" "$T/e6"
