# live_fd_limit: more places in flight than the open-file limit leaves
# room for. Each request in flight holds a connection, a descriptor; past
# the limit connections failed, prompts with them, and the manifest could
# not be written. Now the loops keep the places in flight within the limit
# (less a reserve) and say so once, when it happens: every prompt is labelled, none fails,
# and the output is byte-identical to a run within the limit. Counts only.
. "$(dirname "$0")/../lib.sh"
start_fake --latency-ms 100
gen_prompts 240 "$T/in.jsonl"
# a subshell: the limit (soft and hard) applies to caigen only; 240 places
# in flight against a limit of 200 descriptors
(
	ulimit -n 200 || exit 3
	run_caigen "$T/cap" "$T/in.jsonl" --jobs 120 >"$T/cap.err" 2>&1
)
eq fdlimit_exit $? 0
eq fdlimit_records "$(lines "$T/cap/preferences.jsonl" 2>/dev/null)" 240
check fdlimit_none_failed jq -e '.counts.failed == 0' "$T/cap/manifest.json"
check fdlimit_said grep -q "ulimit -n" "$T/cap.err"
eq fdlimit_said_once "$(grep -c "ulimit -n" "$T/cap.err")" 1
run_caigen "$T/one" "$T/in.jsonl" --jobs 32 2>"$T/one.err"
eq fdlimit_other_exit $? 0
check fdlimit_same_bytes cmp -s "$T/cap/preferences.jsonl" \
	"$T/one/preferences.jsonl"
# within the limit: nothing said
check fdlimit_quiet_within sh -c "! grep -q ulimit $T/one.err"
