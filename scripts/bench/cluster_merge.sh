#!/bin/sh
# cluster_merge.sh - the issue's proof at full width, too slow for `make
# test` (which runs 100 shards of 2,000 prompts: tests/e2e/cluster_split.sh):
# PROMPTS prompts (100,000) labelled by one process against the fake model
# server, then split SHARDS ways (1,000), every shard run as its own task
# (2 at a time), merged, and compared byte for byte; rejects too.
#
#   make caigen obj/default/fakeserver && sh scripts/bench/cluster_merge.sh
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CAIGEN=${CAIGEN:-$ROOT/caigen}
FAKESERVER=${FAKESERVER:-$ROOT/obj/default/fakeserver}
N=${PROMPTS:-100000}
S=${SHARDS:-1000}
W=${BENCH_DIR:-/tmp/caigen-bench-merge}
cd "$ROOT" || exit 2
rm -rf "$W"
mkdir -p "$W" || exit 2
"$FAKESERVER" --port 0 --port-file "$W/port" >"$W/fake.log" 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null; [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"' \
	EXIT INT TERM
i=0
while [ ! -s "$W/port" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
URL=http://127.0.0.1:$(cat "$W/port")/v1
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) {
	if (i == 500) print "not json"
	printf "{\"id\":\"m%06d\",\"prompt\":\"Prompt %d: say why topic " \
	"%d matters.\"}\n", i, i, i % 97 } }' >"$W/in.jsonl"
now() { date +%s.%N; }
t0=$(now)
"$CAIGEN" run --prompts "$W/in.jsonl" --out "$W/one" --policy-url "$URL" \
	--judge-url "$URL" -q --seed 11 --no-preflight || exit 1
t1=$(now)
"$CAIGEN" split -q "$W/in.jsonl" -n "$S" -o "$W/split" || exit 1
seq 0 $((S - 1)) | xargs -P 2 -I K "$CAIGEN" run --prompts "$W/split" \
	--out "$W/sh" --policy-url "$URL" --judge-url "$URL" -q --seed 11 \
	--no-preflight --shard K/"$S" || exit 1
t2=$(now)
"$CAIGEN" merge -q "$W"/sh/preferences.shard-*.jsonl \
	-o "$W/sh/preferences.jsonl" --expect "$W/in.jsonl" || exit 1
"$CAIGEN" merge -q --no-manifest "$W"/sh/rejects.shard-*.jsonl \
	-o "$W/sh/rejects.jsonl" || exit 1
echo "one process: $(echo "$t1 - $t0" | bc) s; split + $S tasks:" \
	"$(echo "$t2 - $t1" | bc) s"
if cmp "$W/one/preferences.jsonl" "$W/sh/preferences.jsonl" &&
   cmp "$W/one/rejects.jsonl" "$W/sh/rejects.jsonl"; then
	echo "merged $S shards of $N prompts: identical to one process" \
		"($(wc -l <"$W/sh/preferences.jsonl") records," \
		"$(wc -c <"$W/sh/preferences.jsonl") bytes; rejects too)"
else
	echo "merged $S shards of $N prompts: DIFFERENT from one process"
	exit 1
fi
