# cli_install: `make install PREFIX=...` puts the program, the man page,
# the constitutions, the schemas and the Slurm template (when the source
# tree has it) where they belong; DESTDIR stages; the installed program runs
# and checks an installed constitution; caigen.1 renders without a warning
# and documents every command, every `run` flag and every YAML key.
. "$(dirname "$0")/../lib.sh"
sh "$ROOT/tests/deps.sh" groff-base man-db >/dev/null || {
	fail install_deps "groff-base/man-db could not be installed"
	exit 1
}
O=$(dirname "$CAIGEN")
P=$T/p
make -s -C "$ROOT" O="$O" install PREFIX="$P" DESTDIR= >"$T/make.out" 2>&1
eq install_exit $? 0
check install_bin test -x "$P/bin/caigen"
eq install_bin_runs "$("$P/bin/caigen" version | cut -d' ' -f1)" caigen
check install_man test -f "$P/share/man/man1/caigen.1"
for c in "$ROOT"/constitution/*.yaml; do
	n=$(basename "$c")
	check "install_constitution_$n" cmp -s "$c" \
		"$P/share/caigen/constitution/$n"
done
"$P/bin/caigen" check "$P/share/caigen/constitution/harmless.yaml" \
	>"$T/check.out" 2>&1
eq install_constitution_checks $? 0
for s in "$ROOT"/schemas/*.schema.json; do
	n=$(basename "$s")
	check "install_schema_$n" cmp -s "$s" "$P/share/caigen/schemas/$n"
done
if [ -f "$ROOT/scripts/slurm/caigen-array.sbatch" ]; then
	check install_sbatch cmp -s "$ROOT/scripts/slurm/caigen-array.sbatch" \
		"$P/share/caigen/slurm/caigen-array.sbatch"
else
	echo "note: no scripts/slurm/caigen-array.sbatch in the tree yet"
fi
# DESTDIR stages under a root without touching PREFIX itself
make -s -C "$ROOT" O="$O" install PREFIX=/opt/caigen-test \
	DESTDIR="$T/stage" >"$T/make2.out" 2>&1
eq install_destdir_exit $? 0
check install_destdir_bin test -x "$T/stage/opt/caigen-test/bin/caigen"
check install_destdir_not_real test ! -e /opt/caigen-test

# the man page renders cleanly, with man(1) and with groff's warnings on
M=$P/share/man/man1/caigen.1
groff -man -Tutf8 -ww -z "$M" >"$T/groff.err" 2>&1
eq install_man_groff_clean "$(cat "$T/groff.err")" ""
MANWIDTH=80 man --warnings -l "$M" >"$T/man.txt" 2>"$T/man.err"
eq install_man_renders $? 0
eq install_man_no_warnings "$(cat "$T/man.err")" ""
for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS CONFIGURATION FILES \
	ENVIRONMENT "EXIT STATUS" EXAMPLES; do
	check "install_man_section_$(echo "$sec" | tr ' ' _)" \
		grep -q "^$sec\$" "$T/man.txt"
done
for code in 0 1 2 75; do
	check "install_man_exit_$code" grep -Eq "^ +$code( |\$)" "$T/man.txt"
done

# every command `caigen --help` lists is in the man page
missing=""
for c in $("$CAIGEN" --help | awk '/^commands:/ { on = 1; next }
		on && /^  [a-z]/ { print $1 }'); do
	grep -Eq "^ +$c( |\$)" "$T/man.txt" || missing="$missing $c"
done
eq install_man_every_command "$missing" ""
# every long flag of `caigen run`, from its --help
missing=""
for f in $("$CAIGEN" run --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	grep -q -- "$f" "$T/man.txt" || missing="$missing $f"
done
eq install_man_every_run_flag "$missing" ""
# every YAML key in config.c's tables ("name", KT_... rows and K_ macros),
# except the flag-only switches, has its own entry "key: default"
keys=$(grep -v KF_FLAG_ONLY "$ROOT/src/config.c" |
	grep -oE '(K_[A-Z]+\(|\.name = )"[a-z_]+"' | grep -oE '"[a-z_]+"' |
	tr -d '"' | sort -u)
missing=""
for k in $keys; do
	grep -Eq "^ +$k:" "$T/man.txt" || missing="$missing $k"
done
check install_man_found_keys test -n "$keys"
eq install_man_every_yaml_key "$missing" ""

# Installed use, from an empty folder far from the source tree: the
# default constitution and short names come from PREFIX/share/caigen
# (compiled in by `make install`), CAIGEN_DATA_DIR overrides.
E=$T/empty
mkdir -p "$E"
gen_prompts 3 "$T/in.jsonl"
start_fake
(cd "$E" && "$P/bin/caigen" run --prompts "$T/in.jsonl" --out "$T/o1" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -q) 2>"$T/i1.err"
eq installed_run_default_constitution $? 0
eq installed_run_records "$(lines "$T/o1/preferences.jsonl" 2>/dev/null)" 3
(cd "$E" && "$P/bin/caigen" run --prompts "$T/in.jsonl" --out "$T/o2" \
	--policy-url "$FAKE_URL" --judge-url "$FAKE_URL" -q \
	--constitution udhr) 2>"$T/i2.err"
eq installed_run_short_name $? 0
check installed_run_short_name_used grep -q '"udhr@sha256' "$T/o2/manifest.json"
(cd "$E" && "$P/bin/caigen" check harmless helpful-honest.yaml) \
	>"$T/i3.out" 2>&1
eq installed_check_short_names $? 0
# a copy of the tree moved elsewhere finds its share folder next to bin/
cp -r "$P" "$T/moved"
rm -rf "$P/share/caigen/constitution"
(cd "$E" && "$T/moved/bin/caigen" check harmless) >"$T/i4.out" 2>&1
eq installed_moved_tree $? 0
(cd "$E" && "$P/bin/caigen" check harmless) >"$T/i5.out" 2>&1
eq installed_missing_short_name_exit $? 2
check installed_missing_short_name_says grep -q "no constitution 'harmless' (looked in" "$T/i5.out"
mkdir -p "$T/data/constitution"
cp "$ROOT/constitution/udhr.yaml" "$T/data/constitution/mine.yaml"
(cd "$E" && CAIGEN_DATA_DIR=$T/data "$P/bin/caigen" check mine) \
	>"$T/i6.out" 2>&1
eq installed_data_dir_env $? 0
# the Slurm template as installed: one task of a two-task array, caigen
# from PATH, run.yaml in the submit folder, no constitution path given
printf 'prompts: %s\nout: %s\npolicy: {base_url: "%s"}\njudge: {base_url: "%s"}\n' \
	"$T/in.jsonl" "$T/o3" "$FAKE_URL" "$FAKE_URL" >"$E/run.yaml"
(cd "$E" && CAIGEN=caigen PATH=$T/moved/bin:$PATH SLURM_ARRAY_TASK_ID=1 \
	SLURM_ARRAY_TASK_COUNT=2 SLURM_ARRAY_TASK_MIN=0 \
	SLURM_ARRAY_TASK_MAX=1 SLURM_ARRAY_JOB_ID=7 \
	bash "$T/moved/share/caigen/slurm/caigen-array.sbatch" -q) \
	>"$T/i7.out" 2>&1 || { cat "$T/i7.out"; false; }
eq installed_sbatch_exit $? 0
check installed_sbatch_shard test -s "$T/o3/preferences.shard-00001-of-00002.jsonl"
check installed_k8s_template test -s "$T/moved/share/caigen/k8s/caigen-indexed-job.yaml"
check installed_aws_notes test -s "$T/moved/share/caigen/aws/README.md"
# the Kubernetes Indexed Job's environment, as its args run it
(cd "$E" && JOB_COMPLETION_INDEX=0 CAIGEN_SHARD_COUNT=2 \
	"$T/moved/bin/caigen" run -c "$E/run.yaml" --grace 90 -q) \
	>"$T/i8.out" 2>&1
eq installed_k8s_exit $? 0
check installed_k8s_shard test -s "$T/o3/preferences.shard-00000-of-00002.jsonl"
