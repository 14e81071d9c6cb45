# cli_config_example: `caigen config --example` is a run config `caigen
# check` accepts as printed (from the source tree) and a run takes; it
# names every key the man page has; caigen.1's CONFIGURATION section is
# what `caigen config --man` prints (`make man` rewrites it) and renders
# without a warning; `caigen config` without a choice is a usage error.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" groff-base man-db >/dev/null || {
	fail config_deps "groff-base/man-db could not be installed"
	exit 1
}

"$CAIGEN" config --example >"$T/ex.yaml" 2>"$T/ex.err"
eq config_example_exit $? 0
eq config_example_quiet "$(cat "$T/ex.err")" ""
(cd "$ROOT" && "$CAIGEN" check "$T/ex.yaml") >"$T/check.out" 2>&1
eq config_example_checks $? 0
check config_example_check_ok grep -q ': ok: run config' "$T/check.out"

# the keys it sets, one per line: top-level ones and "section.key"
awk '/^[a-z_]+:/ { sub(/:.*/, ""); sec = $0; print; next }
	/^  [a-z_]+:/ { sub(/^ */, ""); sub(/:.*/, ""); print sec "." $0 }' \
	"$T/ex.yaml" >"$T/keys"
n=$(wc -l <"$T/keys")
check config_example_many_keys test "$n" -ge 79
eq config_example_keys_once "$(sort "$T/keys" | uniq -d)" ""
echo "# $n keys in the example"
# every key in config.c's tables (as cli_install finds them) is set
missing=""
for k in $(grep -v KF_FLAG_ONLY "$ROOT/src/config.c" |
	grep -oE '(K_[A-Z]+\(|\.name = )"[a-z_]+"' | grep -oE '"[a-z_]+"' |
	tr -d '"' | sort -u); do
	grep -Eq "(^|\\.)$k\$" "$T/keys" || missing="$missing $k"
done
eq config_example_every_table_key "$missing" ""

# a run takes it as it is, the URLs given by flags
start_fake
gen_prompts 3 "$T/in.jsonl"
(cd "$ROOT" && "$CAIGEN" run -c "$T/ex.yaml" --prompts "$T/in.jsonl" \
	--out "$T/o" --policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -q) \
	>"$T/run.out" 2>&1
eq config_example_runs $? 0
eq config_example_run_records "$(lines "$T/o/preferences.jsonl" 2>/dev/null)" 3

# a key set away from its default is still checked as usual
sed 's/^  max_attempts: 5$/  max_attempts: 0/' "$T/ex.yaml" >"$T/bad.yaml"
(cd "$ROOT" && "$CAIGEN" check "$T/bad.yaml") >/dev/null 2>"$T/bad.err"
eq config_example_edit_checked $? 2
check config_example_edit_says grep -q "max_attempts' must be between 1 and 100" "$T/bad.err"

# caigen.1 holds exactly what --man prints, between its marker lines
"$CAIGEN" config --man >"$T/man.roff"
eq config_man_exit $? 0
awk '/caigen-keys-begin/ { on = 1 } on { print } /caigen-keys-end/ { on = 0 }' \
	"$ROOT/caigen.1" >"$T/man.in"
check config_man_markers test -s "$T/man.in"
if cmp -s "$T/man.roff" "$T/man.in"; then
	pass config_man_in_sync
else
	fail config_man_in_sync "caigen.1 differs from 'caigen config --man': run 'make man'"
fi
groff -man -Tutf8 -ww -z "$ROOT/caigen.1" >"$T/groff.err" 2>&1
eq config_man_groff_clean "$(cat "$T/groff.err")" ""
MANWIDTH=80 man --warnings -l "$ROOT/caigen.1" >"$T/man.txt" 2>"$T/man.err"
eq config_man_renders $? 0
eq config_man_no_warnings "$(cat "$T/man.err")" ""
missing=""
for k in $(sed 's/.*\.//' "$T/keys" | sort -u); do
	grep -Eq "^ +$k: ?" "$T/man.txt" || missing="$missing $k"
done
eq config_man_every_example_key "$missing" ""
check config_man_shows_default grep -Eq '^ +timeout: 120/60$' "$T/man.txt"

# usage
"$CAIGEN" config >/dev/null 2>"$T/u1"
eq config_no_choice_exit $? 2
check config_no_choice_usage grep -q '^usage: caigen config' "$T/u1"
"$CAIGEN" config --example --man >/dev/null 2>&1
eq config_both_exit $? 2
"$CAIGEN" config --example extra >/dev/null 2>&1
eq config_extra_arg_exit $? 2
