# cli_help: `caigen --help` lists every command; each command's --help
# exits 0 with "usage: caigen CMD" and names every long option in that
# command's getopt table (read from the source, so a flag added without a
# help line fails here); the tables are sorted (one list per command);
# help fits 80 columns; bad flags and commands exit 2 with a usage.
. "$(dirname "$0")/../lib.sh"
"$CAIGEN" --help >"$T/top" 2>&1
eq help_top_exit $? 0
check help_top_usage grep -q '^usage: caigen <command>' "$T/top"
"$CAIGEN" >/dev/null 2>"$T/none"
eq help_no_command_exit $? 2
check help_no_command_usage grep -q '^usage: caigen' "$T/none"
"$CAIGEN" frobnicate >/dev/null 2>"$T/unknown"
eq help_unknown_command_exit $? 2
check help_unknown_command_named grep -q "unknown command 'frobnicate'" \
	"$T/unknown"

# the commands are the indented lines under "commands:"
cmds=$(awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }
	on && /^$/ { on = 0 }' "$T/top")
for want in run check version; do
	case " $(echo $cmds) " in
	*" $want "*) pass "help_lists_$want" ;;
	*) fail "help_lists_$want" "not in: $(echo $cmds)" ;;
	esac
done
for c in $cmds; do
	"$CAIGEN" "$c" --help >"$T/h.$c" 2>"$T/e.$c"
	eq "help_${c}_exit" $? 0
	check "help_${c}_usage" grep -q "^usage: caigen $c" "$T/h.$c"
	eq "help_${c}_quiet_stderr" "$(cat "$T/e.$c")" ""
	"$CAIGEN" help "$c" >"$T/hh.$c" 2>&1
	check "help_${c}_help_command" cmp -s "$T/h.$c" "$T/hh.$c"
	eq "help_${c}_80_columns" "$(awk 'length > 80' "$T/h.$c")" ""
done

# getopt tables in the source: "FUNCTION OPTION" per line, in table order
awk '
	/^(static )?int [a-z_]+\(/ {
		fn = $0; sub(/^(static )?int /, "", fn); sub(/\(.*/, "", fn)
	}
	/struct option [a-z_]*\[\] *= *\{/ { on = 1; next }
	on && /\};/ { on = 0; next }
	on && /\{ *"[a-z0-9-]+"/ {
		o = $0; sub(/^[^"]*"/, "", o); sub(/".*/, "", o)
		print fn, o
	}' "$ROOT"/src/*.c >"$T/opts"
check help_found_option_tables test -s "$T/opts"
for fn in $(cut -d' ' -f1 "$T/opts" | uniq); do
	# the command whose name the function carries (cmd_run: run)
	cmd=""
	for c in $cmds; do
		case "$fn" in *"$c"*) cmd=$c ;; esac
	done
	if [ -z "$cmd" ]; then
		fail "help_table_$fn" "no command named in function '$fn'"
		continue
	fi
	grep "^$fn " "$T/opts" | cut -d' ' -f2 >"$T/o.$fn"
	LC_ALL=C sort -c "$T/o.$fn" 2>/dev/null
	eq "help_${cmd}_table_sorted" $? 0
	missing=""
	for o in $(cat "$T/o.$fn"); do
		grep -q -- "--$o\\b" "$T/h.$cmd" || missing="$missing --$o"
	done
	eq "help_${cmd}_names_every_flag" "$missing" ""
done

"$CAIGEN" run --no-such-flag >/dev/null 2>"$T/bad"
eq help_run_bad_flag_exit $? 2
check help_run_bad_flag_usage grep -q '^usage: caigen run' "$T/bad"
"$CAIGEN" run -c /nonexistent/run.yaml --help >"$T/h2" 2>&1
eq help_run_help_beats_bad_config $? 0
"$CAIGEN" check >/dev/null 2>"$T/ck"
eq help_check_no_files_exit $? 2
"$CAIGEN" version extra >/dev/null 2>&1
eq help_version_extra_exit $? 2
eq help_version_prints "$("$CAIGEN" version | cut -d' ' -f1)" caigen
