# live_keep: paid policy answers are kept (OUT/live/answers.jsonl, keep.h).
# A live run stopped by SIGTERM, by kill -9 or by --max-cost and then
# resumed sends no policy request twice that it got an answer to: the
# interrupted run and its resume together send as many policy requests
# as one run that is never stopped (SIGTERM, --max-cost), and at most the
# requests then in flight again (kill -9); the records are the same
# lines. A prompt that failed asks again on its retry.
. "$(dirname "$0")/../lib.sh"
# two fakes: the policy's requests counted apart from the judge's
start_fake --log "$T/pol.log" --latency-ms 30
POL=$FAKE_URL
start_fake
JUD=$FAKE_URL
gen_prompts 200 "$T/in.jsonl"
printf 'prices:\n  pol: {input: 1000, output: 1000}\n  jud: {input: 1000, output: 1000}\npolicy: {concurrency: 8, max_tokens: 64}\njudge: {concurrency: 8}\n' \
	>"$T/c.yaml"
go() {	# OUT [flags]
	_o=$1
	shift
	"$CAIGEN" run --prompts "$T/in.jsonl" --out "$_o" --policy-url "$POL" \
		--judge-url "$JUD" --policy-model pol --judge-model jud \
		-c "$T/c.yaml" -q --no-preflight "$@"
}
go_exec() {	# OUT: go, as this process (for a signal)
	exec "$CAIGEN" run --prompts "$T/in.jsonl" --out "$1" \
		--policy-url "$POL" --judge-url "$JUD" --policy-model pol \
		--judge-model jud -c "$T/c.yaml" -q --no-preflight
}
same() {	# A B: the same records (a resume appends what it finishes)
	sort "$1" >"$T/s1" && sort "$2" >"$T/s2" && cmp "$T/s1" "$T/s2"
}
posts() { grep -c '"method":"POST"' "$T/pol.log"; }
# wait_records OUT N: until OUT holds N records (10 s at most)
wait_records() {
	_i=0
	while [ "$(cat "$1/preferences.jsonl" 2>/dev/null | wc -l)" -lt "$2" ] &&
		[ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}

go "$T/one"
eq keep_one_exit $? 0
one=$(posts)
check keep_journal_made test -s "$T/one/live/answers.jsonl"

# SIGTERM, then resume
: >"$T/pol.log"
( go_exec "$T/t" ) &
pid=$!
wait_records "$T/t" 40
kill -TERM $pid
wait $pid
eq keep_term_exit $? 75
n=$(lines "$T/t/preferences.jsonl")
check keep_term_stopped_early [ "$n" -lt 200 ]
go "$T/t"
eq keep_term_resume_exit $? 0
eq keep_term_requests "$(posts)" "$one"
check keep_term_identical same "$T/one/preferences.jsonl" "$T/t/preferences.jsonl"
echo "keep: SIGTERM after $n records: $(posts) policy requests in all, $one in one run"

# kill -9, then resume: only what was on the wire is asked again
: >"$T/pol.log"
( go_exec "$T/k" ) &
pid=$!
wait_records "$T/k" 40
kill -9 $pid
wait $pid 2>/dev/null
go "$T/k"
eq keep_kill_resume_exit $? 0
extra=$(($(posts) - one))
check keep_kill_requests [ "$extra" -ge 0 -a "$extra" -le 8 ]
check keep_kill_identical same "$T/one/preferences.jsonl" "$T/k/preferences.jsonl"
echo "keep: kill -9: $extra policy requests asked again (8 in flight at most)"

# --max-cost, then resume with a higher cap
: >"$T/pol.log"
go "$T/m" --max-cost 60 2>/dev/null
eq keep_cap_exit $? 75
go "$T/m" --max-cost 100000
eq keep_cap_resume_exit $? 0
eq keep_cap_requests "$(posts)" "$one"
check keep_cap_identical same "$T/one/preferences.jsonl" "$T/m/preferences.jsonl"
