# cli_check_run: `caigen check RUN.yaml` checks what `run -c RUN.yaml`
# needs (prompts that open and hold a usable prompt, constitutions that
# load with principles for the mode, a whole split folder); every config
# it refuses, run refuses too (exit 2, nothing sent), and the good ones
# are "ok".
. "$(dirname "$0")/../lib.sh"
start_fake
gen_prompts 5 "$T/p.jsonl"
cfg() {	# cfg NAME LINES...: a run config against the fake server
	_f=$T/$1.yaml
	shift
	printf 'out: %s\npolicy: {base_url: "%s"}\njudge: {base_url: "%s"}\n' \
		"$T/out-$(basename "$_f" .yaml)" "$FAKE_URL" "$FAKE_URL" >"$_f"
	for l in "$@"; do printf '%s\n' "$l" >>"$_f"; done
}
# refused: check says why, and run agrees
refused() {	# refused NAME PATTERN
	"$CAIGEN" check "$T/$1.yaml" >"$T/$1.out" 2>"$T/$1.err"
	eq "check_refuses_$1" $? 2
	check "check_says_$1" grep -q -- "$2" "$T/$1.err"
	check "check_no_ok_$1" test ! -s "$T/$1.out"
	"$CAIGEN" run -c "$T/$1.yaml" -q >/dev/null 2>"$T/$1.run"
	eq "run_refuses_$1" $? 2
}
cfg no_prompts "prompts: $T/nope.jsonl"
refused no_prompts "cannot open '$T/nope.jsonl'"
cfg no_constitution "prompts: $T/p.jsonl" "constitutions: [$T/nope.yaml]"
refused no_constitution "nope.yaml"
cfg bad_short_name "prompts: $T/p.jsonl" "constitutions: [harmlesss]"
refused bad_short_name "no constitution 'harmlesss'"
# a constitution with compare principles only, in critiques mode
cat >"$T/cmp.yaml" <<'EOF2'
name: cmp-only
principles:
  - id: one
    compare: "Which reply is kinder?"
EOF2
cfg no_critique "prompts: $T/p.jsonl" "constitutions: [$T/cmp.yaml]" \
	"mode: critiques"
refused no_critique "critique"
# every line rejected: the key is named in the hint
printf '{"question":"a?"}\n{"question":"b?"}\n' >"$T/q.jsonl"
cfg unusable "prompts: $T/q.jsonl"
refused unusable "0 usable prompts in 2 lines read.*prompt_field"
mkdir -p "$T/notsplit"
cfg not_split "prompts: $T/notsplit"
refused not_split "not a whole split"
# accepted: ok, with what was found
ok() {	# ok NAME PATTERN
	"$CAIGEN" check "$T/$1.yaml" >"$T/$1.out" 2>"$T/$1.err"
	eq "check_ok_$1" $? 0
	check "check_ok_says_$1" grep -q -- "$2" "$T/$1.out"
}
cfg good "prompts: $T/p.jsonl" "constitutions: [udhr]"
ok good "ok: run config (prompts: 5 usable, 0 rejected"
cfg field "prompts: $T/q.jsonl" "prompt_field: question"
ok field "2 usable"
gzip -c "$T/p.jsonl" >"$T/p.jsonl.gz"
cfg gz "prompts: $T/p.jsonl.gz"
ok gz "5 usable"
"$CAIGEN" split "$T/p.jsonl" -n 2 -o "$T/sp" >/dev/null 2>&1
cfg split "prompts: $T/sp"
ok split "a split for 2 tasks"
# an empty file: run does nothing (exit 0), and check says so
printf '\n\n' >"$T/blank.jsonl"
cfg empty "prompts: $T/blank.jsonl"
ok empty "none: the file is empty"
"$CAIGEN" run -c "$T/good.yaml" -q 2>/dev/null
eq check_ok_run_ok $? 0
