#!/bin/sh
# demo.sh CAIGEN FAKESERVER - start the bundled fake model server on
# loopback, run caigen on the sample prompts into datasets/out/, print the
# summary and one record, stop the server.
CAIGEN=$1
FAKESERVER=$2
. "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 2
rm -rf datasets/out
start_fake --latency-ms 20
echo "demo: fake model server on $FAKE_URL (a test double, not a model)"
"$CAIGEN" run -c datasets/sample/demo.yaml --policy-url "$FAKE_URL" \
	--judge-url "$FAKE_URL"
rc=$?
echo "demo: caigen exited with $rc; outputs in datasets/out/:"
ls -l datasets/out/
echo "demo: first record:"
head -n 1 datasets/out/preferences.jsonl | cut -c 1-600
echo
exit $rc
