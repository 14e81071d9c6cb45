# pipeline_signals: SIGTERM mid-run stops intake, lets requests in flight
# finish, writes the manifest and exits 75; the rerun completes with
# nothing lost or doubled. When requests outlast the grace period they
# are dropped near its end and the run still exits 75 with consistent
# files. A second signal exits at once, files still consistent. Times are
# printed, not asserted.
. "$(dirname "$0")/../lib.sh"
N=400
gen_prompts $N "$T/in.jsonl"
P=$T/out/preferences.jsonl

# consistent NAME FILE: every line JSON, ends with a newline
consistent() {
	if [ ! -s "$2" ] || { jq -e . "$2" >/dev/null 2>&1 &&
	   [ "$(tail -c 1 "$2" | od -An -c | tr -d ' ')" = '\n' ]; }; then
		pass "$1"
	else
		fail "$1" "$2 has a partial or broken line"
	fi
}
# exactly_once NAME FILE
exactly_once() {
	eq "$1_count" "$(lines "$2")" $N
	eq "$1_distinct" "$(jq -r .id "$2" | sort -u | wc -l | tr -d ' ')" $N
}

# 1. SIGTERM, in-flight requests finish within the grace
start_fake --latency-ms 40
run_caigen_bg "$T/out" "$T/in.jsonl" --jobs 4 --grace 30 \
	>/dev/null 2>"$T/stderr1"
pid=$!
sleep 1
t0=$(date +%s.%N)
kill -TERM $pid
wait $pid; rc=$?
echo "signals: SIGTERM to exit took $(echo "$(date +%s.%N) - $t0" | bc) s (grace 30)"
eq signals_term_exit "$rc" 75
check signals_term_message grep -q "stopping: finishing requests" "$T/stderr1"
if grep -q "grace period" "$T/stderr1"; then
	fail signals_term_clean "the grace ran out: $(cat "$T/stderr1")"
else
	pass signals_term_clean
fi
before=$(lines "$P")
if [ "$before" -gt 0 ] && [ "$before" -lt $N ]; then
	pass signals_term_midway
else
	fail signals_term_midway "$before records"
fi
check signals_term_manifest jq -e '.counts.interrupted + .counts.not_read > 0
	and .counts.records_total == '"$before" "$T/out/manifest.json"
consistent signals_term_consistent "$P"
run_caigen "$T/out" "$T/in.jsonl" --jobs 4 -q
eq signals_term_rerun_exit $? 0
exactly_once signals_term_rerun "$P"

# 2. the grace runs out: requests on the wire (5 s each) are dropped
stop_fake
start_fake --latency-ms 5000
run_caigen_bg "$T/out2" "$T/in.jsonl" --jobs 2 --grace 4 \
	>/dev/null 2>"$T/stderr2"
pid=$!
sleep 1
t0=$(date +%s.%N)
kill -TERM $pid
wait $pid; rc=$?
echo "signals: grace 4 s, exit after $(echo "$(date +%s.%N) - $t0" | bc) s"
eq signals_grace_exit "$rc" 75
check signals_grace_dropped grep -q "dropping requests in flight" "$T/stderr2"
check signals_grace_manifest test -s "$T/out2/manifest.json"
eq signals_grace_no_failures "$(cat "$T/out2/failures.jsonl" 2>/dev/null | wc -l | tr -d ' ')" 0

# 3. a second signal: out at once; the files stay usable
stop_fake
start_fake --latency-ms 3000
run_caigen_bg "$T/out3" "$T/in.jsonl" --jobs 8 --grace 30 \
	>/dev/null 2>"$T/stderr3"
pid=$!
sleep 1
kill -TERM $pid
sleep 0.2
t0=$(date +%s.%N)
kill -TERM $pid
wait $pid; rc=$?
echo "signals: second SIGTERM to exit took $(echo "$(date +%s.%N) - $t0" | bc) s"
eq signals_second_exit "$rc" 75
if grep -q "lines read" "$T/stderr3"; then
	fail signals_second_at_once "it waited for the requests in flight"
else
	pass signals_second_at_once
fi
consistent signals_second_consistent "$T/out3/preferences.jsonl"
stop_fake
start_fake
run_caigen "$T/out3" "$T/in.jsonl" --jobs 4 -q
eq signals_second_rerun_exit $? 0
exactly_once signals_second_rerun "$T/out3/preferences.jsonl"

# 4. SIGTERM while the start-up probe waits on a server that takes the
# connection and never answers: a stop with its grace (exit 75), not a
# kill by the signal (143); the rerun against a live server completes
sh "$ROOT/tests/deps.sh" python3 >/dev/null 2>&1
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1], "w").write(str(s.getsockname()[1])); time.sleep(60)' \
	"$T/mute.port" &
mute=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$T/mute.port" ] && break; sleep 0.2; done
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/out4" \
	--policy-url "http://127.0.0.1:$(cat "$T/mute.port")/v1" \
	--judge-url "http://127.0.0.1:$(cat "$T/mute.port")/v1" \
	--constitution "$ROOT/constitution/harmless.yaml" -q 2>"$T/stderr4" &
pid=$!
sleep 1
kill -TERM $pid
wait $pid; rc=$?
kill $mute 2>/dev/null
eq signals_startup_exit "$rc" 75
consistent signals_startup_consistent "$T/out4/preferences.jsonl"
run_caigen "$T/out4" "$T/in.jsonl" --jobs 4 -q
eq signals_startup_rerun_exit $? 0
exactly_once signals_startup_rerun "$T/out4/preferences.jsonl"
