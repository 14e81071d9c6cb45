# pipeline_endpoints: two fake servers behind policy.base_urls and
# judge.base_urls; one is killed mid-run, the run completes on the other,
# and once the dead one is back on its port it gets work again (its own
# request log). The output is the same bytes as with one server.
. "$(dirname "$0")/../lib.sh"
N=600
gen_prompts $N "$T/in.jsonl"
start_fake
run_caigen "$T/ref" "$T/in.jsonl" -q --seed 3 --jobs 4
stop_fake
start_fake --latency-ms 20 --log "$T/a.log"
A_PID=$FAKE_PID
A_PORT=$FAKE_PORT
start_fake --latency-ms 20 --log "$T/b.log"
B_PORT=$FAKE_PORT
cat >"$T/run.yaml" <<EOF
prompts: $T/in.jsonl
out: $T/out
seed: 3
policy:
  base_urls: [http://127.0.0.1:$A_PORT/v1, "http://127.0.0.1:$B_PORT/v1/"]
  concurrency: 4
  cooldown: 1
judge:
  base_urls: [http://127.0.0.1:$A_PORT/v1, http://127.0.0.1:$B_PORT/v1]
  concurrency: 4
  cooldown: 1
EOF
"$CAIGEN" check "$T/run.yaml" >/dev/null
eq endpoints_config_valid $? 0
# (--no-preflight: the probe's requests are not the pool's, and the
# servers' logs are compared with the pool's counts below)
"$CAIGEN" run -c "$T/run.yaml" --no-preflight >/dev/null 2>"$T/stderr" &
run=$!
PIDS="$PIDS $run"
i=0
count() { if [ -f "$1" ]; then lines "$1"; else echo 0; fi; }
while [ "$(count "$T/out/preferences.jsonl")" -lt 60 ] &&
	[ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
kill -9 "$A_PID"
wait "$A_PID" 2>/dev/null
at_kill=$(lines "$T/out/preferences.jsonl")
sleep 1.5
"$FAKESERVER" --port "$A_PORT" --latency-ms 20 --log "$T/a2.log" \
	>"$T/a2.out" 2>&1 &
PIDS="$PIDS $!"
wait "$run"
eq endpoints_run_exit $? 0
echo "endpoints: server A killed at $at_kill of $N records"
if [ "$at_kill" -lt "$N" ]; then
	pass endpoints_killed_mid_run
else
	fail endpoints_killed_mid_run "the run was over before the kill"
fi
eq endpoints_all_records "$(lines "$T/out/preferences.jsonl")" $N
check endpoints_same_bytes_as_one_server cmp "$T/ref/preferences.jsonl" \
	"$T/out/preferences.jsonl"
check endpoints_no_failures test ! -s "$T/out/failures.jsonl"
b_reqs=$(grep -c '"path":"/v1/chat/completions"' "$T/b.log")
a2_reqs=$(count "$T/a2.log")
echo "endpoints: B served $b_reqs requests, A after its restart $a2_reqs"
if [ "$a2_reqs" -gt 0 ]; then
	pass endpoints_restarted_server_gets_work
else
	fail endpoints_restarted_server_gets_work "no request in a2.log"
fi
M=$T/out/manifest.json
check endpoints_manifest_counts jq -e --arg a "http://127.0.0.1:$A_PORT/v1" '
	(.policy_endpoints | length) == 2 and (.judge_endpoints | length) == 2
	and ([.policy_endpoints[], .judge_endpoints[]
	      | select(.url == $a) | .cooldowns] | add) >= 1
	and ([.policy_endpoints[], .judge_endpoints[]
	      | select(.url == $a) | .failures] | add) >= 1' "$M"
check endpoints_summary_lines grep -q "policy server http://127.0.0.1:$A_PORT/v1: .* cool-downs" \
	"$T/stderr"
# the requests the pool counts are the ones the servers saw
sent_b=$(jq '[.policy_endpoints[], .judge_endpoints[] | select(.url |
	test(":'"$B_PORT"'/")) | .requests] | add' "$M")
eq endpoints_counts_match_server_log "$sent_b" "$b_reqs"
# a bad URL in the list is a configuration error
printf 'policy:\n  base_urls: [http://a/v1, ftp://b/v1]\n' >"$T/bad.yaml"
"$CAIGEN" check "$T/bad.yaml" 2>"$T/bad.err"
eq endpoints_bad_url_exit $? 2
check endpoints_bad_url_message grep -q "base_urls\[1\] must start with" \
	"$T/bad.err"
