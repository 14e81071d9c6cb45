# cli_check: `caigen check` accepts the shipped constitutions and the demo
# config, and points at file:line:col for broken ones.
. "$(dirname "$0")/../lib.sh"
for f in "$ROOT"/constitution/*.yaml "$ROOT/datasets/sample/demo.yaml"; do
	check "check_ok_$(basename "$f" .yaml)" "$CAIGEN" check "$f" >/dev/null
done
cat >"$T/bad.yaml" <<'EOF2'
name: broken
principles:
  - id: one
    compare: "Pick the kinder reply."
    wieght: 2
EOF2
"$CAIGEN" check "$T/bad.yaml" 2>"$T/err" >/dev/null
eq check_bad_exit $? 2
check check_bad_position grep -q "bad.yaml:5:5: unknown key 'wieght'.*did you mean 'weight'" "$T/err"
printf 'policy:\n  temprature: 0.7\n' >"$T/run.yaml"
"$CAIGEN" check "$T/run.yaml" 2>"$T/err" >/dev/null
eq check_config_exit $? 2
check check_config_suggests grep -q "run.yaml:2:3: .*'temprature'.*'temperature'" "$T/err"
"$CAIGEN" run --jobs 0 2>"$T/err" >/dev/null
eq run_bad_flag_exit $? 2
"$CAIGEN" nonsense 2>/dev/null
eq unknown_command_exit $? 2
