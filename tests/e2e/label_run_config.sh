# label_run_config: `caigen label -c run.yaml` and `caigen eval -c run.yaml`
# take the user's own run config as it is: its mode (both: preferences and
# critiques) says what a run makes, and label and eval judge pairs, so a
# config in mode both gives the records a config in mode preferences
# gives, byte for byte; a config (or --mode) for critiques only is still
# refused, with nothing written.
. "$(dirname "$0")/../lib.sh"
start_fake
P=$ROOT/tests/data/pairs/trl.jsonl
cat >"$T/both.yaml" <<YAML
mode: both
rounds: 2
policy:
  model: m-policy
judge:
  model: m-judge
YAML
sed 's/^mode: both$/mode: preferences/' "$T/both.yaml" >"$T/pref.yaml"
for k in label eval; do
	"$CAIGEN" $k -c "$T/both.yaml" --pairs "$P" --out "$T/$k.both" \
		--judge-url "$FAKE_URL" -q >"$T/$k.out" 2>"$T/$k.err"
	eq "runcfg_${k}_both_exit" $? 0
	"$CAIGEN" $k -c "$T/pref.yaml" --pairs "$P" --out "$T/$k.pref" \
		--judge-url "$FAKE_URL" -q >/dev/null 2>&1
	eq "runcfg_${k}_pref_exit" $? 0
	eq "runcfg_${k}_records" "$(lines "$T/$k.both/preferences.jsonl")" \
		"$(grep -c . "$P")"
	check "runcfg_${k}_same_records" cmp -s "$T/$k.both/preferences.jsonl" \
		"$T/$k.pref/preferences.jsonl"
	check "runcfg_${k}_no_critiques" test ! -e "$T/$k.both/critiques.jsonl"
	eq "runcfg_${k}_judge" "$(jq -r .models.judge "$T/$k.both/preferences.jsonl" |
		sort -u)" m-judge
done
# the same config resumes its own folder (the settings agree)
"$CAIGEN" label -c "$T/both.yaml" --pairs "$P" --out "$T/label.both" \
	--judge-url "$FAKE_URL" -q >/dev/null 2>"$T/resume.err"
eq runcfg_label_resume_exit $? 0
# a dry run with it plans the pairs
"$CAIGEN" label -c "$T/both.yaml" --pairs "$P" --out "$T/dry" --dry-run \
	>"$T/dry.out" 2>&1
eq runcfg_label_dry_exit $? 0
check runcfg_label_dry_plan grep -q "^plan: $(grep -c . "$P") pairs to do" "$T/dry.out"
# critiques only: not for pairs, said before anything is written
printf 'mode: critiques\n' >"$T/crit.yaml"
"$CAIGEN" eval -c "$T/crit.yaml" --pairs "$P" --out "$T/crit" \
	--judge-url "$FAKE_URL" -q 2>"$T/crit.err"
eq runcfg_critiques_refused $? 2
check runcfg_critiques_msg grep -q "eval judges pairs: mode must be preferences or both, not critiques" "$T/crit.err"
check runcfg_critiques_nothing test ! -e "$T/crit"
"$CAIGEN" label --mode critiques --pairs "$P" --out "$T/crit2" \
	--judge-url "$FAKE_URL" -q 2>/dev/null
eq runcfg_flag_critiques_refused $? 2
