#!/bin/sh
# cluster.sh - what the tasks of a big job array cost at start, with and
# without `caigen split` (behind `make bench-cluster`; not part of make
# test). It writes PROMPTS prompts (1,000,000; about 112 bytes a line),
# splits them SHARDS ways (1,000), and gives every shard an output file
# that already holds all its records, so that each task does exactly what
# a task restarting after preemption or a requeue does, and no request:
# read its prompts, scan its output (resume), skip everything, write its
# manifest. (A first start reads the same prompts; it then also talks to
# the servers, which is not what is measured here.) Per task, taskstat
# records the bytes caigen read (rchar from /proc/self/io: what the shared
# file system would serve; read_bytes stays near 0 on a warm page cache),
# its peak RSS and its wall time.
#
#   split:    all SHARDS tasks from the split folder, 2 at a time (the
#             machine's cores); "all starts" is the measured wall time.
#   unsplit:  SAMPLE tasks (20, spread over the shards) on the unsplit
#             file, as before the split existed; "all starts" is their
#             mean wall time x SHARDS / 2. BASE=path/to/old/caigen measures
#             an older binary there too (today's design: every task keeps
#             every id, and counts the file's lines for progress).
#
#   CAIGEN=./caigen BASE=/tmp/caigen-main sh scripts/bench/cluster.sh
#
# Work files go to BENCH_DIR (/tmp/caigen-bench-cluster, about 600 MB),
# removed at the end unless BENCH_KEEP=1.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CAIGEN=${CAIGEN:-$ROOT/caigen}
BASE=${BASE:-}
N=${PROMPTS:-1000000}
S=${SHARDS:-1000}
SAMPLE=${SAMPLE:-20}
W=${BENCH_DIR:-/tmp/caigen-bench-cluster}
P=2
cd "$ROOT" || exit 2
rm -rf "$W"
mkdir -p "$W" || exit 2
[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT INT TERM
${CC:-cc} -O2 -o "$W/taskstat" "$HERE/taskstat.c" || exit 2

awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++)
	printf "{\"id\":\"p%07d\",\"prompt\":\"Prompt %d: explain in a few " \
	"plain sentences how topic %d works and why it matters.\"}\n",
	i, i, i % 9973 }' >"$W/prompts.jsonl"
bytes=$(wc -c <"$W/prompts.jsonl" | tr -d ' ')
echo "prompts: $N lines, $bytes bytes; $S shards; share $((bytes / S)) bytes"

"$W/taskstat" "$W/split.stat" "$CAIGEN" split -q "$W/prompts.jsonl" \
	-n "$S" -o "$W/split" || exit 1
# every shard done: one small record per prompt, in caigen's shape
mkdir -p "$W/out"
awk -v out="$W/out" 'FNR == 1 { if (f) close(f); k = FILENAME
	sub(/.*prompts\./, "", k); sub(/\.split$/, "", k)
	f = out "/preferences." k ".jsonl"; printf "" >f }
	/^[0-9]+ / { id = $2; sub(/^\{"id":"/, "", id); sub(/".*/, "", id)
	printf "{\"schema\":\"caigen.preference/1\",\"id\":\"%s\"," \
	"\"index\":%s}\n", id, $1 >f }' "$W"/split/prompts.shard-*.split

task() {	# task STATFILE CAIGEN PROMPTS K
	"$W/taskstat" "$1" "$2" run --prompts "$3" --out "$W/out" -q \
		--no-preflight --shard "$4/$S" --policy-url http://127.0.0.1:9/v1 \
		--judge-url http://127.0.0.1:9/v1 || echo "task $4 exited $?" >&2
}
now() { date +%s.%N; }

t0=$(now)
seq 0 $((S - 1)) | xargs -P $P -I K "$W/taskstat" "$W/split.tasks" \
	"$CAIGEN" run --prompts "$W/split" --out "$W/out" -q --no-preflight \
	--shard K/"$S" --policy-url http://127.0.0.1:9/v1 \
	--judge-url http://127.0.0.1:9/v1
t1=$(now)
split_all=$(echo "$t1 - $t0" | bc)

for i in $(seq 0 $((SAMPLE - 1))); do
	k=$((i * S / SAMPLE))
	task "$W/unsplit.tasks" "$CAIGEN" "$W/prompts.jsonl" "$k"
	[ -z "$BASE" ] || task "$W/base.tasks" "$BASE" "$W/prompts.jsonl" "$k"
done

# summary: median and largest of each column
summary() {	# summary NAME FILE ALL_STARTS_SECONDS
	sort -n -k1 "$2" | awk -v name="$1" -v share=$((bytes / S)) \
		-v all="$3" -v p=$P -v s="$S" '
		{ rc[NR] = $1; rb += $2; rss[NR] = $3; w[NR] = $4; tw += $4
		  if ($5 != 0) bad++ }
		END { n = NR; asort_num(rss); asort_num(w)
		  if (all == "") all = tw / n * s / p
		  printf "%-9s %5d tasks  read/task %9.0f B (%5.2fx share, " \
		    "max %9.0f)  disk %d B  peak RSS %6.1f MiB (max %6.1f)  " \
		    "wall/task %6.3f s  all %d starts %8.1f s%s\n", name, n,
		    rc[int((n + 1) / 2)], rc[int((n + 1) / 2)] / share, rc[n],
		    rb, rss[int((n + 1) / 2)] / 1024, rss[n] / 1024,
		    w[int((n + 1) / 2)], s, all,
		    bad ? "  (" bad " tasks failed)" : "" }
		function asort_num(a,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					t = a[j]; a[j] = a[j - 1]; a[j - 1] = t } }'
}
echo "split (one pass): $(awk '{ printf "read %d B, peak RSS %.1f MiB, " \
	"wall %.2f s", $1, $3 / 1024, $4 }' "$W/split.stat")"
summary split "$W/split.tasks" "$split_all"
summary unsplit "$W/unsplit.tasks" ""
[ -z "$BASE" ] || summary base "$W/base.tasks" ""
