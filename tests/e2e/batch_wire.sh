# batch_wire: the batch client (batchapi.h, driven by tests/batchctl)
# against the fake server's OpenAI Batch and Anthropic Message Batches
# routes: a batch's statuses move, its results name every request once,
# in a shuffled order, with the very bytes the live route answers; failed,
# expired, cancelled and junk lines read as retryable; validation
# failures name the line or the reason; find by tag; a wrong key is
# refused without showing up anywhere.
. "$(dirname "$0")/../lib.sh"
BATCHCTL=${BATCHCTL:-$ROOT/obj/default/batchctl}
KEY=sk-batch-canary-3c1d9e77a0b4
export KEY
N=24

# reqs API N FILE: "custom_id body" lines for the API's live route
reqs() {
	awk -v api="$1" -v n="$2" 'BEGIN { for (i = 1; i <= n; i++) {
		if (api == "anthropic")
			printf "r%02d {\"model\":\"claude-fake\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"Batch question %d?\"}]}\n", i, i
		else
			printf "c%02d {\"model\":\"fake-model\",\"messages\":[{\"role\":\"user\",\"content\":\"Batch question %d?\"}],\"max_tokens\":16,\"seed\":%d}\n", i, i, i
	} }' >"$3"
}

bc() { "$BATCHCTL" --api "$API" --url "$FAKE_URL" --key-env KEY "$@"; }

# live REQ-FILE: "custom_id answer" for each "custom_id body" line, the
# answer being the live route's to that body (one curl for them all)
live() {
	_sep=
	while read -r cid body; do
		printf '%s' "$body" >"$T/live.$cid"
		echo "$_sep"
		_sep=next
		if [ "$API" = anthropic ]; then
			echo "url = \"$FAKE_URL/messages\""
			echo "header = \"x-api-key: $KEY\""
			echo 'header = "anthropic-version: 2023-06-01"'
		else
			echo "url = \"$FAKE_URL/chat/completions\""
			echo "header = \"Authorization: Bearer $KEY\""
		fi
		echo 'header = "content-type: application/json"'
		echo "data-binary = \"@$T/live.$cid\""
		echo "write-out = \"\\n\""
	done <"$1" >"$T/live.cfg"
	cut -d' ' -f1 "$1" >"$T/live.ids"
	curl -s -K "$T/live.cfg" | paste -d' ' "$T/live.ids" -
	rm -f "$T"/live.*
}

# submit NAME N [TAG]: lines, create; sets ID (and $T/NAME.*)
submit() {
	reqs "$API" "$2" "$T/$1.req"
	bc lines <"$T/$1.req" >"$T/$1.jsonl"
	bc create "$T/$1.jsonl" "$2" "${3:-t-$1}" >"$T/$1.create" \
		2>>"$T/stderr"
	ID=$(jq -r .id "$T/$1.create")
}

# harvest NAME: wait, fetch, parse into $T/NAME.parsed
harvest() {
	bc wait "$ID" >"$T/$1.wait" 2>>"$T/stderr"
	bc fetch "$ID" "$T/$1.results" >"$T/$1.fetch" 2>>"$T/stderr"
	"$BATCHCTL" --api "$API" parse "$T/$1.results" >"$T/$1.parsed"
}

# the parsed results: custom_ids each exactly once, all N of them
once() {
	eq "$1_each_once" "$(jq -r .custom_id "$T/$1.parsed" | sort -u |
		wc -l | tr -d ' '):$(lines "$T/$1.parsed")" "$2:$2"
}

for API in chat anthropic; do
	P=$API
	# (slow enough for a loaded machine to see every status)
	start_fake --api-key "$KEY" --log "$T/$P.log" --echo-headers-on-error \
		--batch-seconds 1
	: >"$T/stderr"

	# --- a plain batch: statuses move, every answer is the live one
	submit "$P-a" $N
	eq "${P}_create_running" "$(jq -r .phase "$T/$P-a.create")" running
	harvest "$P-a"
	if [ $API = chat ]; then
		eq "${P}_statuses_move" "$(jq -r .status "$T/$P-a.create" \
			"$T/$P-a.wait" | grep -v finalizing | uniq | tr '\n' ' ')" \
			"validating in_progress completed "
	else
		eq "${P}_statuses_move" "$(jq -r .status "$T/$P-a.wait" |
			tr '\n' ' ')" "in_progress ended "
	fi
	eq "${P}_counts" "$(tail -1 "$T/$P-a.wait" | jq -r \
		'"\(.phase) \(.total) \(.completed) \(.failed)"')" \
		"ended $N $N 0"
	once "$P-a" $N
	eq "${P}_all_ok" "$(jq -r 'select(.ok) | .custom_id' \
		"$T/$P-a.parsed" | wc -l | tr -d ' ')" $N
	jq -r '"\(.custom_id) \(.body)"' "$T/$P-a.parsed" | sort >"$T/$P-a.got"
	live "$T/$P-a.req" | sort >"$T/$P-a.want"
	check "${P}_bodies_are_live" cmp "$T/$P-a.got" "$T/$P-a.want"
	check "${P}_shuffled" [ "$(jq -r .custom_id "$T/$P-a.parsed" |
		tr '\n' ' ')" != "$(cut -d' ' -f1 "$T/$P-a.req" | tr '\n' ' ')" ]
	eq "${P}_logged_once" "$(jq -r --arg b "$ID" \
		'select(.batch == $b) | .custom_id' "$T/$P.log" | sort -u |
		wc -l | tr -d ' '):$(grep -c "\"batch\":\"$ID\"" "$T/$P.log")" \
		"$N:$N"

	# --- cancel half way: what had finished, the rest cancelled
	stop_fake
	start_fake --api-key "$KEY" --batch-seconds 2.5
	submit "$P-c" $N
	sleep 0.8
	eq "${P}_cancelling" "$(bc cancel "$ID" 2>>"$T/stderr" |
		jq -r .status)" \
		"$([ $API = chat ] && echo cancelling || echo canceling)"
	harvest "$P-c"
	eq "${P}_cancel_end" "$(tail -1 "$T/$P-c.wait" | jq -r .status)" \
		"$([ $API = chat ] && echo cancelled || echo ended)"
	once "$P-c" $N
	ok=$(jq -r 'select(.ok) | .custom_id' "$T/$P-c.parsed" | wc -l)
	check "${P}_cancel_partial" [ "$ok" -gt 0 -a "$ok" -lt $N ]
	eq "${P}_cancelled_retry" "$(jq -r 'select(.ok | not) |
		"\(.retry) \(.error | split(":")[0])"' "$T/$P-c.parsed" |
		sort -u)" "true $([ $API = chat ] && echo batch_cancelled ||
		echo canceled)"

	# --- faults: fail-every, the first batch expires, junk
	stop_fake
	start_fake --api-key "$KEY" --batch-expire 1 --batch-fail-every 5 \
		--batch-junk
	submit "$P-e" $N
	harvest "$P-e"
	eq "${P}_expired_status" "$(tail -1 "$T/$P-e.wait" | jq -r .status)" \
		"$([ $API = chat ] && echo expired || echo ended)"
	once "$P-e" $N
	# odd 1-based numbers are the even input positions: those ran
	eq "${P}_expired_odd_ran" "$(jq -r 'select(.error |
		test("expired")) | .custom_id' "$T/$P-e.parsed" |
		sed 's/^.//' | awk '$1 % 2 == 1' | wc -l | tr -d ' ')" 0
	eq "${P}_expired_half" "$(jq -r 'select(.error | test("expired")) |
		.retry' "$T/$P-e.parsed" | sort | uniq -c | tr -s ' ')" \
		" $((N / 2)) true"
	submit "$P-f" $N
	harvest "$P-f"
	once "$P-f" $N
	nf=$(jq -r 'select(.status == 500) | .retry' "$T/$P-f.parsed" |
		sort -u)
	eq "${P}_fail_every_retry" "$nf" true
	if [ $API = chat ]; then
		eq "${P}_fail_every_shape" "$(jq -r 'select(.status == 500) |
			.error | split(":")[0]' "$T/$P-f.parsed" | sort -u)" \
			server_error
		# the junk line is the last request's only line
		eq "${P}_junk" "$(jq -c 'select(.custom_id == "c24") |
			[.ok, .status, .retry]' "$T/$P-f.parsed")" \
			"[false,0,true]"
	else
		eq "${P}_fail_every_shape" "$(jq -r 'select(.status == 500) |
			.error | split(":")[0]' "$T/$P-f.parsed" | sort -u)" \
			api_error
	fi
	check "${P}_fail_every_some" [ "$(jq -r 'select(.status == 500)' \
		"$T/$P-f.parsed" | grep -c custom_id)" -gt 0 ]
	check "${P}_no_stderr" [ ! -s "$T/stderr" ]
	stop_fake
done

# --- OpenAI validation: the batch fails at its first poll, naming lines
API=chat
start_fake --api-key "$KEY" --batch-max-requests 6
vcase() {	# NAME WANT-IN-WHY: lines from $T/v.jsonl
	bc create "$T/v.jsonl" "$(lines "$T/v.jsonl")" v >"$T/v.create" \
		2>"$T/v.err"
	eq "chat_validate_$1_created" "$(jq -r .status "$T/v.create")" \
		validating
	bc poll "$(jq -r .id "$T/v.create")" >"$T/v.poll"
	eq "chat_validate_$1_failed" "$(jq -r .phase "$T/v.poll")" failed
	check "chat_validate_$1_why" grep -q "$2" "$T/v.poll"
}
reqs chat 3 "$T/v.req"
bc lines <"$T/v.req" >"$T/good.jsonl"
{ sed -n 1p "$T/good.jsonl"; echo '{"custom_id": "c02", "method":'
	sed -n 3p "$T/good.jsonl"; } >"$T/v.jsonl"
vcase json "line 2: invalid_json_line"
{ cat "$T/good.jsonl"; sed -n 2p "$T/good.jsonl"; } >"$T/v.jsonl"
vcase duplicate "line 4: duplicate_custom_id"
{ sed -n 1,2p "$T/good.jsonl"; sed -n 3p "$T/good.jsonl" |
	sed 's#/v1/chat/completions#/v1/embeddings#'; } >"$T/v.jsonl"
vcase url "line 3: url_mismatch"
{ sed -n 1p "$T/good.jsonl"; sed -n 2p "$T/good.jsonl" |
	sed 's/fake-model/other-model/'; } >"$T/v.jsonl"
vcase model "line 2: model_mismatch"
reqs chat 7 "$T/v7.req"
bc lines <"$T/v7.req" >"$T/v.jsonl"
vcase too_many "too_many_tasks"
# empty_file: the client refuses an empty file, so by hand
: >"$T/empty.jsonl"
fid=$(curl -s "$FAKE_URL/files" -H "Authorization: Bearer $KEY" \
	-F purpose=batch -F "file=@$T/empty.jsonl" | jq -r .id)
bid=$(curl -s "$FAKE_URL/batches" -H "Authorization: Bearer $KEY" -d \
	"{\"input_file_id\":\"$fid\",\"endpoint\":\"/v1/chat/completions\",\"completion_window\":\"24h\"}" |
	jq -r .id)
eq chat_validate_empty "$(bc poll "$bid" | jq -r '"\(.phase) \(.why)"' |
	cut -d: -f1)" "failed empty_file"
check chat_upload_needs_jsonl sh -c "curl -s '$FAKE_URL/files' \
	-H 'Authorization: Bearer $KEY' -F purpose=batch \
	-F 'file=@$T/good.jsonl;filename=x.json' |
	grep -q 'Must be .jsonl'"

# --- find by tag, over more than one page of the list
submit find-a 1 tag-first
first=$ID
bc create "$T/find-a.jsonl" 1 "tag-many" 100 >/dev/null
submit find-b 1 tag-last
eq chat_find_last "$(bc find tag-last | jq -r .id)" "$ID"
eq chat_find_page2 "$(bc find tag-first | jq -r .id)" "$first"
eq chat_find_none "$(bc find tag-none | jq -r .found)" false
API=anthropic
eq anthropic_find_none "$(bc find tag-last | jq -r .found)" false

# --- Anthropic validation: 400 and 413 at create, naming the reason
reqs anthropic 3 "$T/a.req"
bc lines <"$T/a.req" >"$T/a.jsonl"
sed '2s/"r02"/"r 02"/' "$T/a.jsonl" >"$T/a-bad.jsonl"
bc create "$T/a-bad.jsonl" 3 x >/dev/null 2>"$T/a.err"
eq anthropic_bad_id_exit $? 1
check anthropic_bad_id_says grep -q "400: requests.1.custom_id" "$T/a.err"
{ cat "$T/a.jsonl"; sed -n 1p "$T/a.jsonl"; } >"$T/a-dup.jsonl"
bc create "$T/a-dup.jsonl" 4 x >/dev/null 2>"$T/a.err"
check anthropic_dup_says grep -q "400: requests.3.custom_id: 'r01' is used more than once" "$T/a.err"
reqs anthropic 7 "$T/a7.req"
bc lines <"$T/a7.req" >"$T/a7.jsonl"
bc create "$T/a7.jsonl" 7 x >/dev/null 2>"$T/a.err"
check anthropic_too_many_says grep -q "400: requests: at most 6" "$T/a.err"
stop_fake
start_fake --api-key "$KEY" --batch-max-bytes 300
bc create "$T/a.jsonl" 3 x >/dev/null 2>"$T/a.err"
check anthropic_413_says grep -q "413: Request exceeds.*(the body was [0-9]* bytes)" "$T/a.err"

# --- a wrong key: refused, and the key is nowhere in what we print
stop_fake
start_fake --api-key other-key --echo-headers-on-error
for API in chat anthropic; do
	KEY=sk-batch-canary-3c1d9e77a0b4 bc create "$T/a.jsonl" 3 x \
		>"$T/wk-$API.out" 2>"$T/wk-$API.err"
	eq "${API}_wrong_key_exit" $? 1
	check "${API}_wrong_key_401" grep -q ": 401: " "$T/wk-$API.err"
	bc poll batch_x >>"$T/wk-$API.out" 2>>"$T/wk-$API.err"
done
rm -f "$T"/*.log "$T"/*.req "$T"/*.jsonl
if grep -r -l "$KEY" "$T" 2>/dev/null | grep -q .; then
	fail batch_key_absent "$(grep -r -l "$KEY" "$T")"
else
	pass batch_key_absent
fi
