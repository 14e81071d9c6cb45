# hostile_url_password: a password in a base URL (http://user:secret@host)
# is masked wherever a URL is shown or stored: manifest.json, the reasons
# in failures.jsonl, the preflight line on stderr, --dry-run's requests.
. "$(dirname "$0")/../lib.sh"
SECRET=sk-urlpass-7c1d9e2b4a
start_fake
gen_prompts 4 "$T/in.jsonl"
GOOD="http://user:$SECRET@127.0.0.1:$FAKE_PORT/v1"
BAD="http://user:$SECRET@127.0.0.1:9/v1"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/o1" --policy-url "$GOOD" \
	--judge-url "$GOOD" -q >"$T/s1" 2>&1
eq urlpass_run_ok $? 0
check urlpass_manifest_masked grep -q 'http://\*\*\*@127.0.0.1' "$T/o1/manifest.json"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/o2" --policy-url "$BAD" \
	--judge-url "$BAD" --no-preflight -q >"$T/s2" 2>&1
eq urlpass_failures_exit $? 1
check urlpass_failures_masked grep -q 'http://\*\*\*@127.0.0.1:9' "$T/o2/failures.jsonl"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/o3" --policy-url "$BAD" \
	--judge-url "$BAD" >"$T/s3" 2>&1
eq urlpass_preflight_exit $? 2
check urlpass_preflight_masked grep -q 'endpoint http://\*\*\*@127.0.0.1:9' "$T/s3"
"$CAIGEN" run --prompts "$T/in.jsonl" --out "$T/o4" --policy-url "$BAD" \
	--judge-url "$BAD" --dry-run >"$T/s4" 2>&1
check urlpass_dry_run_masked grep -q 'POST http://\*\*\*@127.0.0.1:9' "$T/s4"
if grep -r -l -- "$SECRET" "$T" 2>/dev/null | grep -q .; then
	fail urlpass_secret_absent "$(grep -r -l -- "$SECRET" "$T")"
else
	pass urlpass_secret_absent
fi
