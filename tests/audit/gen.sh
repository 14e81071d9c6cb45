#!/bin/sh
# gen.sh - synthetic datasets for `caigen audit` tests and benchmarks.
#
# gen.sh [-k pref|crit|hf] [-r ROUNDS] [-x REPEAT] SPEC...
#
# SPEC is ID:COUNT[:TAG,TAG...]: COUNT records drawn under principle ID, so
# every principle's count is known exactly. The whole list is emitted
# REPEAT times (default 1; for benchmarks), with ids that stay distinct.
#   pref  caigen.preference/1 records. Labels come from a Park-Miller
#         generator (seeded by the record number), so they vary but are
#         reproducible with any awk: p_a(AB) = u, p_a(BA) = v,
#         p = (u + 1 - v) / 2, other_mass 0.01, method "logprobs".
#   crit  caigen.critique/1 records with ROUNDS rounds (default 2): round
#         j uses the spec principle of the record, initial answer 40
#         bytes, round j's revision 40 + 10 * (j + 1) bytes.
#   hf    Hugging Face recipe records: critic_prompt is "Point out what
#         is wrong under ID." (give the constitution that critique text),
#         init_response 30 bytes, revision_response 50 bytes.
# Writes JSONL to stdout. Plain POSIX awk: CI has no python.
kind=pref
rounds=2
repeat=1
while getopts k:r:x: o; do
	case $o in
	k) kind=$OPTARG ;;
	r) rounds=$OPTARG ;;
	x) repeat=$OPTARG ;;
	*) echo "usage: gen.sh [-k pref|crit|hf] [-r R] [-x N] ID:COUNT..." >&2
	   exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { echo "gen.sh: no ID:COUNT given" >&2; exit 2; }
awk -v kind="$kind" -v rounds="$rounds" -v repeat="$repeat" -v spec="$*" '
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function str(c, n,   s) { s = ""; while (length(s) < n) s = s c; return s }
function tags_json(t,   a, n, i, s) {
	n = split(t, a, ","); s = ""
	for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") "\"" a[i] "\""
	return "[" s "]"
}
BEGIN {
	n = split(spec, specs, " ")
	rec = 0
	for (x = 0; x < repeat; x++)
	for (i = 1; i <= n; i++) {
		m = split(specs[i], f, ":")
		id = f[1]; cnt = f[2]; tags = tags_json(m >= 3 ? f[3] : "")
		for (c = 0; c < cnt; c++) {
			rec++
			seed = rec * 7919 % 2147483646 + 1
			rnd(); u = rnd(); v = rnd()
			if (kind == "pref") {
				p = (u + 1 - v) / 2
				first = (p >= 0.5); mg = first ? p - 0.5 : 0.5 - p
				ch = first ? "first answer" : "second answer"
				rj = first ? "second answer" : "first answer"
				printf "{\"schema\":\"caigen.preference/1\",\"id\":\"g%09d\",\"index\":%d,\"prompt\":\"Synthetic prompt %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\",\"margin\":%.6f,\"responses\":[\"first answer\",\"second answer\"],\"chosen_index\":%d,\"p\":%.6f,\"principle\":{\"id\":\"%s\",\"constitution\":\"synthetic@sha256:0\",\"tags\":%s},\"judgments\":[{\"order\":\"AB\",\"p_a\":%.6f,\"lp_a\":%.4f,\"lp_b\":%.4f,\"other_mass\":0.01,\"position\":0,\"method\":\"logprobs\",\"rationale\":null},{\"order\":\"BA\",\"p_a\":%.6f,\"lp_a\":%.4f,\"lp_b\":%.4f,\"other_mass\":0.01,\"position\":0,\"method\":\"logprobs\",\"rationale\":null}],\"models\":{\"policy\":\"gen-policy\",\"judge\":\"gen-judge\"},\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":20},\"seed\":1}\n", \
					rec, rec - 1, rec, ch, rj, mg, 1 - first, p, id, tags, \
					u, log(u), log(1 - u), v, log(v), log(1 - v)
			} else if (kind == "crit") {
				s = ""
				for (j = 0; j < rounds; j++)
					s = s (j ? "," : "") sprintf("{\"principle\":{\"id\":\"%s\",\"constitution\":\"synthetic@sha256:0\",\"tags\":%s},\"critique_request\":\"Critique it.\",\"critique\":\"It could be better.\",\"revision_request\":\"Revise it.\",\"revision\":\"%s\"}", id, tags, str("r", 40 + 10 * (j + 1)))
				printf "{\"schema\":\"caigen.critique/1\",\"id\":\"c%09d\",\"index\":%d,\"prompt\":\"Synthetic prompt %d?\",\"initial\":\"%s\",\"rounds\":[%s],\"revision\":\"%s\",\"models\":{\"policy\":\"gen-policy\"}}\n", \
					rec, rec - 1, rec, str("i", 40), s, str("r", 40 + 10 * rounds)
			} else {
				printf "{\"init_prompt\":\"Synthetic prompt %d?\",\"init_response\":\"%s\",\"critic_prompt\":\"Point out what is wrong under %s.\",\"critic_response\":\"Something.\",\"revision_prompt\":\"Fix it.\",\"revision_response\":\"%s\",\"prompt\":\"Synthetic prompt %d?\",\"messages\":[],\"chosen\":[],\"rejected\":[]}\n", \
					rec, str("i", 30), id, str("r", 50), rec
			}
		}
	}
}'
