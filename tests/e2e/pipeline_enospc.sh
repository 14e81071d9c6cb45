# pipeline_enospc: the output disk fills up mid-run (a 96 KiB tmpfs):
# caigen stops with one clear error naming the file, exits 1, and leaves
# only whole records; with space again, the same command completes with
# every prompt exactly once. Needs root and mount(8) (skipped otherwise,
# with a note and no PASS/FAIL line).
. "$(dirname "$0")/../lib.sh"
M=$T/mnt
mkdir -p "$M"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=96k caigen-enospc "$M" \
	2>/dev/null; then
	echo "note: pipeline_enospc skipped: cannot mount a tmpfs here"
	exit 0
fi
trap 'umount "$M" 2>/dev/null; cleanup' EXIT INT TERM
N=300
start_fake
gen_prompts $N "$T/in.jsonl"
P=$M/out/preferences.jsonl
run_caigen "$M/out" "$T/in.jsonl" --jobs 4 -q >"$T/stdout" 2>"$T/stderr"
eq enospc_exit $? 1
cat "$T/stderr"
check enospc_message grep -q "No space left on device" "$T/stderr"
check enospc_names_file grep -q "$M/out/" "$T/stderr"
n=$(lines "$P")
if [ "$n" -gt 0 ] && [ "$n" -lt $N ]; then pass enospc_partial; else
	fail enospc_partial "$n records"; fi
check enospc_whole_lines jq -e . "$P"
eq enospc_ends_with_newline "$(tail -c 1 "$P" | od -An -c | tr -d ' ')" '\n'
eq enospc_distinct "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" "$n"
# more space: the same command finishes the job
mount -o remount,size=16m "$M"
run_caigen "$M/out" "$T/in.jsonl" --jobs 4 -q 2>"$T/stderr2"
eq enospc_rerun_exit $? 0
eq enospc_rerun_count "$(lines "$P")" $N
eq enospc_rerun_distinct "$(jq -r .id "$P" | sort -u | wc -l | tr -d ' ')" $N
check enospc_rerun_manifest jq -e ".counts.records_total == $N" \
	"$M/out/manifest.json"
