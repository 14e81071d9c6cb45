# readme_walkthrough: a newcomer who follows only README.md. First the
# quickstart demo (tests/demo.sh, what `make demo` runs) in a copy of the
# tree; then the "Pointing caigen at your own server" walk-through: the
# prompts file, the run config and the commands are taken from README.md
# between the <!-- walkthrough-... --> markers, the README's server URL is
# replaced by our fake server's, and each command must succeed in a fresh
# folder with the outputs the README promises.
. "$(dirname "$0")/../lib.sh"
R=$ROOT/README.md

# block NAME: the fenced block between <!-- NAME --> and <!-- /NAME -->
block() {
	awk -v m="$1" '
		$0 == "<!-- " m " -->" { on = 1; next }
		$0 == "<!-- /" m " -->" { on = 0 }
		on && /^```/ { fence = !fence; next }
		on && fence { print }' "$R"
}

# ---- the demo, in a copy of the tree (it rewrites datasets/out) ----
mkdir -p "$T/tree/tests" "$T/tree/datasets"
cp "$ROOT/tests/demo.sh" "$ROOT/tests/lib.sh" "$T/tree/tests/"
cp -r "$ROOT/constitution" "$T/tree/"
cp -r "$ROOT/datasets/sample" "$T/tree/datasets/"
sh "$T/tree/tests/demo.sh" "$CAIGEN" "$FAKESERVER" >"$T/demo.out" 2>&1
eq walkthrough_demo_exit $? 0
eq walkthrough_demo_records "$(lines "$T/tree/datasets/out/preferences.jsonl")" \
	"$(lines "$ROOT/datasets/sample/prompts.jsonl")"
check walkthrough_readme_names_demo grep -q '^make demo' "$R"

# ---- the walk-through ----
block walkthrough-prompts >"$T/prompts.txt"
block walkthrough-config >"$T/config.txt"
block walkthrough-commands >"$T/commands.txt"
check walkthrough_has_prompts test -s "$T/prompts.txt"
check walkthrough_has_config test -s "$T/config.txt"
check walkthrough_has_commands test -s "$T/commands.txt"
# the README's URL, as the reader would change it to their own server's
url=$(sed -n 's/^ *base_url: *\(http[^ ]*\).*/\1/p' "$T/config.txt" | head -n 1)
check walkthrough_config_names_url test -n "$url"
start_fake
W=$T/newcomer
mkdir -p "$W"
cp -r "$ROOT/constitution" "$W/"
# the file names the README tells the reader to write
pfile=$(sed -n 's/^prompts: *\([^ #]*\).*/\1/p' "$T/config.txt")
out=$(sed -n 's/^out: *\([^ #]*\).*/\1/p' "$T/config.txt")
check walkthrough_config_names_files test -n "$pfile" -a -n "$out"
cp "$T/prompts.txt" "$W/$pfile"
# the config file name, from the commands' "-c FILE"
cfgname=$(grep -o -- '-c [^ ]*' "$T/commands.txt" | head -n 1 | cut -d' ' -f2)
check walkthrough_commands_name_config test -n "$cfgname"
sed "s#$url#$FAKE_URL#g" "$T/config.txt" >"$W/${cfgname:-run.yaml}"
check walkthrough_prompts_are_jsonl jq -e . "$W/$pfile"
n=0
while IFS= read -r cmd; do
	case "$cmd" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# ./caigen is the program the build made; ours is $CAIGEN
	c=$(printf '%s\n' "$cmd" | sed "s#^\./caigen #\"\$CAIGEN\" #; s#^caigen #\"\$CAIGEN\" #")
	(cd "$W" && eval "$c") >"$T/cmd.$n.out" 2>&1
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "walkthrough_command_$n"
	else
		fail "walkthrough_command_$n" "'$cmd' exited $rc: $(tail -n 2 "$T/cmd.$n.out" | tr '\n' ' ')"
	fi
done <"$T/commands.txt"
check walkthrough_ran_commands test $n -ge 2
P=$W/$out/preferences.jsonl
eq walkthrough_one_record_per_prompt "$(lines "$P" 2>/dev/null || echo 0)" \
	"$(grep -c . "$W/$pfile")"
check walkthrough_records_for_trl jq -e -s 'length > 0 and all(
	(.prompt != null) and (.chosen != null) and (.rejected != null)
	and (.margin >= 0))' "$P"
check walkthrough_manifest test -s "$W/$out/manifest.json"
eq walkthrough_no_failures "$(lines "$W/$out/failures.jsonl" 2>/dev/null || echo 0)" 0
# "Run the same command again and it does nothing"
last=$(grep -v '^ *$' "$T/commands.txt" | tail -n 1 |
	sed "s#^\./caigen #\"\$CAIGEN\" #; s#^caigen #\"\$CAIGEN\" #")
(cd "$W" && eval "$last") >"$T/again.out" 2>&1
eq walkthrough_rerun_exit $? 0
eq walkthrough_rerun_adds_nothing "$(lines "$P")" "$(grep -c . "$W/$pfile")"
check walkthrough_rerun_says_resuming grep -q "already" "$T/again.out"
