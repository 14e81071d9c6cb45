# pipeline_secrets: the API key reaches the server and appears in no output
# file, manifest, log or error message, on success and on failure.
. "$(dirname "$0")/../lib.sh"
CANARY=sk-canary-5f1e0c9a7b3d4e2f
start_fake --api-key "$CANARY" --log "$T/requests.log"
gen_prompts 20 "$T/in.jsonl"
OPENAI_API_KEY=$CANARY run_caigen "$T/out" "$T/in.jsonl" --jobs 4 \
	>"$T/stdout" 2>"$T/stderr"
eq secrets_exit $? 0
check secrets_key_was_sent grep -q "Bearer $CANARY" "$T/requests.log"
eq secrets_records "$(lines "$T/out/preferences.jsonl")" 20
# wrong key: the server refuses; the errors must not carry ours
stop_fake
start_fake --api-key some-other-key
OPENAI_API_KEY=$CANARY run_caigen "$T/out2" "$T/in.jsonl" --jobs 4 \
	--no-preflight >>"$T/stdout" 2>>"$T/stderr"
# (refusals in a row stop the run: exit 2, the reason on stderr)
eq secrets_wrong_key_exit $? 2
check secrets_wrong_key_reported grep -q "HTTP 401" "$T/stderr"
rm -f "$T/requests.log"
if grep -r -l "$CANARY" "$T" 2>/dev/null | grep -q .; then
	fail secrets_canary_absent "$(grep -r -l "$CANARY" "$T")"
else
	pass secrets_canary_absent
fi
