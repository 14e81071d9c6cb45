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

# commands BLOCK: the block's commands, one a line (a line ending in a
# backslash joined with the next), comments and blank lines left out
commands() {
	block "$1" | awk '{ if (sub(/\\$/, "")) { acc = acc $0; next }
		print acc $0; acc = "" }' | grep -v '^ *#' | grep -v '^ *$'
}
# run_block BLOCK [DIR]: each command of the block in DIR (default $W), as the README writes
# it with ./caigen and caigen meaning our program and the README's server
# URL our fake's; PASS/FAIL BLOCK_command_N per command
run_block() {
	_n=0
	commands "$1" >"$T/$1.txt"
	while IFS= read -r cmd; do
		_n=$((_n + 1))
		c=$(printf '%s\n' "$cmd" | sed "s#^\./caigen #\"\$CAIGEN\" #;
			s#^caigen #\"\$CAIGEN\" #; s#http://127.0.0.1:8000/v1#$FAKE_URL#g")
		case "$cmd" in sbatch\ --array=0-*)
			# no Slurm here: the array's tasks, one after the other,
			# as --shard K/N (make test-slurm runs the template)
			hi=$(printf '%s\n' "$cmd" | sed -n 's/^sbatch --array=0-\([0-9]*\).*/\1/p')
			c="for k in \$(seq 0 $hi); do \"\$CAIGEN\" run -q -c run.yaml --shard \$k/$((hi + 1)) || exit 1; done"
		esac
		(cd "${2:-$W}" && eval "$c") >"$T/$1.$_n.out" 2>&1
		_rc=$?
		if [ $_rc -eq 0 ]; then
			pass "$1_command_$_n"
		else
			fail "$1_command_$_n" "'$cmd' exited $_rc: $(tail -n 2 "$T/$1.$_n.out" | tr '\n' ' ')"
		fi
	done <"$T/$1.txt"
	check "$1_has_commands" test $_n -ge 2
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


# ---- a config from `caigen config --example`, in the demo's copy of the
# tree (its defaults name the sample prompts and the constitutions)
run_block recipe-config "$T/tree"
check recipe_config_written grep -q '^policy:' "$T/tree/run.yaml"

# ---- auditing the first run and its dataset card
run_block recipe-audit
check recipe_audit_html test -s "$W/audit.html"
check recipe_card_written grep -q '^<!-- written by caigen card' "$W/$out/README.md"

# ---- the recipes per job, in the walk-through's folder and config ----
# harmlessness data from red-team prompts
run_block recipe-redteam
nclean=$(grep -c . "$W/clean.jsonl" 2>/dev/null || echo 0)
check recipe_redteam_prompts test "$nclean" -ge 10
eq recipe_redteam_preferences "$(lines "$W/out/redteam/preferences.jsonl" 2>/dev/null || echo 0)" "$nclean"
eq recipe_redteam_critiques "$(lines "$W/out/redteam/critiques.jsonl" 2>/dev/null || echo 0)" "$nclean"
grep -q 'technique:' "$T/recipe-redteam.6.out"
eq recipe_redteam_audit_by_technique $? 0

# relabel an existing DPO set: 40 TRL pairs, the chosen reply the longer
i=0
: >"$W/dpo.jsonl"
while [ $i -lt 40 ]; do
	printf '{"id":"d%d","prompt":"Question %d: how should I store flour?","chosen":"In an airtight jar in a cool dry cupboard, away from sunlight, for up to a year.","rejected":"Anywhere."}\n' $i $i >>"$W/dpo.jsonl"
	i=$((i + 1))
done
run_block recipe-relabel
R1=$W/out/relabel/preferences.jsonl
eq recipe_relabel_records "$(lines "$R1" 2>/dev/null || echo 0)" 40
check recipe_relabel_references jq -e -s 'length == 40 and all(.reference.preferred != null)' "$R1"
check recipe_relabel_agreed test -s "$W/agreed.jsonl"

# grade a judge against human labels: 60 pairs, a third of them
# preferring the shorter reply (the fake judge prefers the longer)
i=0
: >"$W/human-labels.jsonl"
while [ $i -lt 60 ]; do
	if [ $((i % 3)) -eq 0 ]; then c=No. r="Yes, and here is a long explanation of why."
	else c="Yes, and here is a long explanation of why." r=No.; fi
	printf '{"id":"h%d","prompt":"Is claim %d true?","chosen":"%s","rejected":"%s"}\n' $i $i "$c" "$r" >>"$W/human-labels.jsonl"
	i=$((i + 1))
done
run_block recipe-grade
check recipe_grade_eval_json jq -e '.provenance != null' "$W/out/eval/eval.json"
check recipe_grade_html test -s "$W/eval.html"
check recipe_grade_calibration test -s "$W/out/eval/calibration.json"
# `caigen review` serves a page for a browser: tests/e2e/review_server.sh
# and make test-browser (tests/browser/) run it, not this walk-through
check recipe_review_tested_elsewhere test -f "$ROOT/tests/e2e/review_server.sh"

# a cluster run: split, the array's tasks, status, merge; the merge is
# what the one-process first run wrote, byte for byte
run_block recipe-cluster
check recipe_cluster_status_total grep -q '^all ' "$T/recipe-cluster.4.out"
check recipe_cluster_merged cmp -s "$W/out/cluster/preferences.jsonl" "$W/$out/preferences.jsonl"
# the Slurm template itself needs a real Slurm: make test-slurm
# (tests/slurm/) runs it, requeue included
check recipe_cluster_slurm_tested_elsewhere test -d "$ROOT/tests/slurm"

# the batch recipe needs a provider's batch API and polls every 30 s; the
# fake server's batch routes are exercised by tests/e2e/batch_mode.sh,
# batch_resume.sh, batch_mixed.sh and batch_wire.sh
check recipe_batch_present sh -c "awk '/<!-- recipe-batch -->/,/<!-- \/recipe-batch -->/' '$R' | grep -q 'executor: batch'"
for t in batch_mode batch_resume batch_mixed batch_wire; do
	check "recipe_batch_tested_by_$t" test -f "$ROOT/tests/e2e/$t.sh"
done

# ---- installed use: make install under a temporary HOME, then the
# README's first run from an empty folder with a short constitution name
H=$T/home
E=$T/empty
mkdir -p "$H" "$E"
block walkthrough-install >"$T/install.txt"
check install_block_present grep -q '^make install' "$T/install.txt"
O=$(dirname "$CAIGEN")
sed -e "s#^make install#make -s -C \"$ROOT\" O=\"$O\" DESTDIR= install#" \
	-e "s#http://127.0.0.1:8000/v1#$FAKE_URL#g" "$T/install.txt" >"$T/install.sh"
(cd "$E" && HOME=$H sh -e "$T/install.sh") >"$T/install.out" 2>&1
rc=$?
eq install_walkthrough_exit $rc 0
[ $rc -eq 0 ] || tail -n 5 "$T/install.out"
check install_walkthrough_installed test -x "$H/.local/bin/caigen"
check install_walkthrough_share test -f "$H/.local/share/caigen/constitution/harmless.yaml"
F=$(find "$E" -name preferences.jsonl | head -n 1)
check install_walkthrough_records test -n "$F" -a -s "${F:-/nonexistent}"
check install_walkthrough_no_local_constitution test -z "$(find "$E" -name 'harmless.yaml')"

# ---- troubleshooting names every failure kind of src/reason.c ----
awk '/^## Troubleshooting/ { on = 1; next } on && /^## / { exit } on' "$R" >"$T/trouble.md"
sed -n 's/^[	 ]*\[REASON_[A-Z_]*\] = { "\([a-z_]*\)".*/\1/p' "$ROOT/src/reason.c" >"$T/kinds.txt"
check troubleshooting_kinds_found test "$(grep -c . "$T/kinds.txt")" -ge 10
while IFS= read -r k; do
	check "troubleshooting_names_$k" grep -q "^| \`$k\` |" "$T/trouble.md"
done <"$T/kinds.txt"

# ---- the exit-status section says what exit 2 means after requests ----
awk '/^## Exit status/ { on = 1; next } on && /^## / { exit } on' "$R" >"$T/exit.md"
check exit_status_refusal_stop grep -q 'refusal stop' "$T/exit.md"
check exit_status_codes sh -c "grep -q '^| 0 |' '$T/exit.md' && grep -q '^| 1 |' '$T/exit.md' && grep -q '^| 2 |' '$T/exit.md' && grep -q '^| 75 |' '$T/exit.md'"

# ---- each server recipe: its YAML, with the walk-through's prompts and
# every URL pointed at the fake server (which speaks the chat, completions
# and Anthropic APIs and takes any key), passes `check` and runs
# (the https recipe's private CA is the tests' own: check reads it)
for s in vllm llamacpp ollama tgi openai anthropic https; do
	block "server-$s" >"$T/server-$s.txt"
	check "server_${s}_block" test -s "$T/server-$s.txt"
	{
		printf 'prompts: my-prompts.jsonl\nout: out/server-%s\nseed: 1\n' "$s"
		# a judge-only recipe goes with the walk-through's policy
		grep -q '^policy:' "$T/server-$s.txt" ||
			printf 'policy: {base_url: %s, model: my-model}\n' "$FAKE_URL"
		sed -E "s#https?://[^ ,}]*#$FAKE_URL#g;
			s#^( *)api: anthropic(.*)#\1api: anthropic\2\n\1base_url: $FAKE_URL#;
			s#^( *ca_file:) [^ ]*#\1 $ROOT/tests/data/config/ca.pem#" \
			"$T/server-$s.txt"
	} >"$W/server-$s.yaml"
	(cd "$W" && OPENAI_API_KEY=sk-walkthrough ANTHROPIC_API_KEY=sk-walkthrough \
		"$CAIGEN" check "server-$s.yaml" &&
		OPENAI_API_KEY=sk-walkthrough ANTHROPIC_API_KEY=sk-walkthrough \
		"$CAIGEN" run -q -c "server-$s.yaml") >"$T/server-$s.out" 2>&1
	rc=$?
	eq "server_${s}_runs" $rc 0
	[ $rc -eq 0 ] || sed -n 1,5p "$T/server-$s.out"
	eq "server_${s}_records" "$(lines "$W/out/server-$s/preferences.jsonl" 2>/dev/null || echo 0)" \
		"$(grep -c . "$W/$pfile")"
done

# ---- every file the README and docs/ link to exists ----
missing=
for f in "$R" "$ROOT"/docs/*.md; do
	d=$(dirname "$f")
	for l in $(grep -o '](\([^)# ]*\)[)#]' "$f" | sed 's/^](//; s/[)#]$//' | grep -v '^http' | sort -u); do
		[ -e "$d/$l" ] || missing="$missing $(basename "$f"):$l"
	done
done
eq readme_links_resolve "${missing:-none}" none
