#!/bin/sh
# run.sh LIST - run the combinations of the test matrix (LIST: allpairs's
# output, one combination a line) against the fake server and check the
# invariants of each. Lines `PASS matrix_CID_CHECK` / `FAIL ...`; a check
# that fails on a combination tests/matrix/known lists prints `XFAIL ...
# (known: DEFECT)` instead (not counted), one that passes there prints
# `XPASS` (the list is out of date). Environment: CAIGEN, FAKESERVER,
# MATRIX_PROMPTS (prompts a run, 8), MATRIX_ONLY (run only combinations
# whose number is in this list, e.g. "3 7"), MATRIX_DEEP (1: every check
# on every combination; else kill -9/resume and shards on combinations
# 1, 4, 7, ..., as `make test` does), MATRIX_JOBS (combinations run at
# once, 3: most of a run is waiting).
#
# A combination (see params) becomes a config: policy model pol, judges
# ja, jb, jc (a panel's members in order: mean = chat + anthropic, median =
# anthropic + chat + chat, majority = completions + chat + anthropic, each
# with the combination's cot, votes and both_orders); server is a fake
# server flag (no-n: --no-n, no-logprobs: --refuse-logprobs,
# same-answers: --same-answers; limit: --max-inflight 4, and every
# endpoint max_attempts 20, see cfg()); http is every endpoint's `http`
# in run B and the runs after it (run A is `http: auto` straight to the
# fake server, so jobs compares the wires too): auto and 1.1 straight to
# the fake server (http://, HTTP/1.1), 2 through an nginx in front of it
# (front()) over TLS with HTTP/2, its self-signed CA as each endpoint's
# ca_file (h2c, `http: 2` on http://, is refused by this machine's
# libcurl 7.88, and nginx is the only h2 server at hand).
# Checks of an accepted combination:
#   check, dryrun   `caigen check` and `--dry-run` accept it (exit 0)
#   exit            run (--jobs 1) exits 0, or 1 when every prompt is
#                   meant to fail (same-answers in mode preferences:
#                   "identical responses"); no other failure reason
#   once            every prompt once in records (each part once with
#                   binarize all-pairs) or failures, never in both
#   distinct        no record compares two answers equal after trimming
#   schema          every record, failure, reject and manifest valid
#                   (schemas/; answers.jsonl, the resume cache, has none)
#   sent            requests answered, per model (the fake server's log:
#                   live POSTs and batch lines, probes and the requests
#                   the server refuses by design left out), equal the
#                   dry run's plan; not with same-answers in mode
#                   preferences (resamples) or with votes after a
#                   logprob refusal (the plan cannot know either)
#   usage           each model that answered requests has tokens in the
#                   manifest's usage_by_model (a panel: each member)
#   jobs            run B (--jobs 16 or conc, over the combination's
#                   http) gives the bytes of run A (the ids in
#                   order where the server is not deterministic: an
#                   Anthropic policy or Anthropic votes draw from a
#                   counter, as the real API is not reproducible)
#   live            with a batch executor: all-live gives the same bytes
#   resume          kill -9 mid-run, then the same command: each prompt
#                   once, and the bytes of one run where deterministic
#   shards          --shard 0/2 and 1/2 merged (merge --expect) equal
#                   one process
#   label, eval     `caigen label` and `caigen eval` read every record
#                   of the run (one labelled record per input record),
#                   given the run's own config (mode both too)
#   http2           (http 2) nginx saw every request of run B on HTTP/2
#   format          every record's prompt a string (prompt_format
#                   standard, or auto over strings only) or a message
#                   list (conversational, or auto over any message list)
#   export          `caigen batch export` writes requests (exit 75) when
#                   every endpoint used has api: chat, else exit 2 with
#                   runrules' reason; it sends nothing either way
#   rerun_*         (records in OUT) the same OUT again with another seed
#                   or prompt_format: exit 2, nothing sent, OUT unchanged;
#                   deep: with --allow-changed-settings it goes on (exit
#                   as run A)
#   calib_*         (calib on) the file made (calib_made); every record
#                   keeps p_raw; a label of the file's method is
#                   calibrated and names the fit; deep: `calibrate apply`
#                   of the file to an uncalibrated run's records gives run
#                   A's bytes
#   cost            (a cap) max_cost.spent_usd equals cost_usd
# and, over all combinations, rule_N: every rule of src/runrules.c was
# met (its message in some refused run's or export's error output).
# A refused combination (refusals): check, dry run and run exit 2 with the
# rule's message, and the fake server saw no request at all.
. "$(dirname "$0")/../lib.sh"
LIST=$1
M=$ROOT/tests/matrix
NP=${MATRIX_PROMPTS:-8}
DEEP=${MATRIX_DEEP:-0}
ONLY=${MATRIX_ONLY:-}
gen_prompts "$NP" "$T/in.jsonl"
# http=2: nginx and a self-signed certificate for 127.0.0.1, made once
if grep -q ' http=2' "$LIST"; then
	sh "$ROOT/tests/deps.sh" nginx openssl >/dev/null 2>&1 &&
	tls_self_signed "$T/tls.pem" "$T/tls.key" ||
		{ fail matrix_http2_setup "nginx or openssl missing"; exit 1; }
fi
# the same prompts (same ids) mixed (even numbers as message lists),
# mixed and gzipped, mixed under the key "question"
jq -c 'if (.id | ltrimstr("q") | tonumber) % 2 == 0 then
	{id, messages: [{role: "user", content: .prompt}]} else . end' \
	"$T/in.jsonl" >"$T/in.mixed.jsonl"
gzip -c "$T/in.mixed.jsonl" >"$T/in.gz.jsonl.gz"
jq -c '{id, question: (.prompt // .messages)}' "$T/in.mixed.jsonl" \
	>"$T/in.field.jsonl"
# pairs with reference labels for calibration: P(first reply preferred)
# from the fake judge's own length rule (as tests/e2e/calibrate.sh)
awk 'function u() { s = (s * 16807) % 2147483647; return s / 2147483647 }
BEGIN { s = 777; for (i = 1; i <= 40; i++) {
	la = 10 + int(u() * 200); lb = 10 + int(u() * 200);
	a = "Reply " i " one"; while (length(a) < la) a = a " x";
	b = "Reply " i " two"; while (length(b) < lb) b = b " y";
	pa = 1 / (1 + exp(-(length(a) - length(b)) / 50));
	if (u() < pa) { c = a; r = b } else { c = b; r = a }
	printf "{\"prompt\":\"Question %d?\",\"chosen\":\"%s\",\"rejected\":\"%s\"}\n", i, c, r } }' >"$T/cpairs.jsonl"
: >"$T/schema.tsv"
nxfail=0
nxpass=0
xfails=""

# holds TERM: the current combination satisfies NAME=A|B or NAME!=A|B
holds() {
	case $1 in
	all) return 0 ;;
	*!=*) _k=${1%%!=*} _vs=${1#*!=} _neg=1 ;;
	*) _k=${1%%=*} _vs=${1#*=} _neg=0 ;;
	esac
	eval "_v=\$m_$_k"
	_in=0
	_old=$IFS
	IFS='|'
	for _a in $_vs; do [ "$_a" = "$_v" ] && _in=1; done
	IFS=$_old
	[ $_in -ne $_neg ]
}
# known_load: KN, the lines of tests/matrix/known (TERM... : CHECKS :
# DEFECT) that hold for the current combination, as "CHECKS<TAB>DEFECT"
known_load() {
	KN=""
	while IFS= read -r _l; do
		case $_l in '#'* | '') continue ;; esac
		_terms=${_l%% : *}
		_rest=${_l#* : }
		_ok=1
		for _t in $_terms; do holds "$_t" || { _ok=0; break; }; done
		[ $_ok = 1 ] && KN="$KN${_rest%% : *}	${_rest#* : }
"
	done <"$M/known"
}
# known CHECK: _kd, the defects (joined by "; ") KN lists for CHECK
known() {
	_kd=""
	while IFS='	' read -r _checks _def; do
		[ -n "$_checks" ] || continue
		_old=$IFS
		IFS='|'
		for _c in $_checks; do
			# shellcheck disable=SC2254
			case $1 in $_c) _kd="${_kd:+$_kd; }$_def"; break ;; esac
		done
		IFS=$_old
	done <<EOF_KN
$KN
EOF_KN
	[ -n "$_kd" ]
}
# res CHECK OK DETAIL: OK 0 passed
res() {
	_name=matrix_${cid}_$1
	[ "$2" = 0 ] || set -- "$1" "$2" "$(printf '%s' "${3:-}" | tr '\n' ' ')"
	if known "$1"; then
		_d=$_kd
		if [ "$2" = 0 ]; then
			echo "XPASS $_name (listed in tests/matrix/known: $_d)"
			nxpass=$((nxpass + 1))
		else
			echo "XFAIL $_name: $3 (known: $_d)"
			nxfail=$((nxfail + 1))
			case $xfails in *"$_d"*) ;; *) xfails="$xfails
  $_d" ;; esac
		fi
	elif [ "$2" = 0 ]; then
		pass "$_name"
	else
		fail "$_name" "$3"
	fi
}
req() { _n=$1; shift; if "$@" >/dev/null 2>&1; then res "$_n" 0; else res "$_n" 1 "$*"; fi; }
# after CHECK COMMAND...: a comparison with run A, which must have run
after() {
	if [ "$arc" -gt 1 ]; then
		res "$1" 1 "nothing to compare: the --jobs 1 run exited $arc"
	else
		req "$@"
	fi
}
same() { if [ "$2" = "$3" ]; then res "$1" 0; else res "$1" 1 "got '$2', want '$3'"; fi; }

# member I: the API of judge member I (0-based) of the combination
member() {
	case $m_judge in
	chat | completions | anthropic) [ "$1" = 0 ] && echo "$m_judge" ;;
	mean) set -- "$1" chat anthropic ;;
	median) set -- "$1" anthropic chat chat ;;
	majority) set -- "$1" completions chat anthropic ;;
	esac
	case $m_judge in mean | median | majority)
		_i=$1
		shift
		[ "$_i" -lt $# ] && shift "$_i" && echo "$1" ;;
	esac
}
# cfg FILE URL POLICY-EXECUTOR JUDGE-EXECUTOR: the combination's config
# (CFG_FIELD=0: without prompt_field, which run B gives as a flag;
# CFG_CALIB=0: without judge.calibration)
cfg() {
	_cot=false
	[ "$m_cot" = on ] && _cot=true
	_conc=""
	case $m_conc in
	auto) _conc=", concurrency: auto" ;;
	range) _conc=", concurrency: [2, 12]" ;;
	esac
	# against the server that answers 429 beyond 4 in flight (no hint),
	# a run at a fixed concurrency above that (--jobs 16 in run B and the
	# live run, --jobs 2 and 4 in kill -9/resume and shards; the AIMD of
	# a fixed concurrency keeps a place per endpoint and event loop, 8
	# for a panel of 3 on 2 cores) can have one call meet 429 five times
	# in a row while the calls admitted after it take every place it
	# frees: its prompt fails, rate_limited, as the README documents
	# ("raise max_attempts"). 20 attempts back off longer than any run
	# here lasts (the deepest seen: 6), so the checks see the retries and
	# not that race: at 5, 3-wise c91's kill -9/resume ended with exit 1
	# about 1 run in 4, run B's --jobs 16 1 in 20 (notes/fix.md)
	_att=""
	[ "$m_server" = limit ] && _att=", max_attempts: 20"
	_att="$_att, http: ${CFG_HTTP:-$m_http}"
	[ "${CFG_HTTP:-$m_http}" = 2 ] && _att="$_att, ca_file: \"$T/tls.pem\""
	_cal=""
	[ "$m_calib" = on ] && [ "${CFG_CALIB:-1}" = 1 ] &&
		_cal=", calibration: \"$D/calib.json\""
	{
		printf 'seed: 1\nbatch_poll: 0.02\nconstitutions: [%s]\n' \
			"$ROOT/constitution/harmless.yaml"
		[ "$m_input" = field ] && [ "${CFG_FIELD:-1}" = 1 ] &&
			printf 'prompt_field: question\n'
		printf 'prompt_format: %s\n' "$m_format"
		case $m_cap in
		priced) printf 'max_cost: 100\nprices: {pol: {input: 1, output: 2}, ja: {input: 3, output: 4}, jb: {input: 1, output: 1}, jc: {input: 2, output: 5}}\n' ;;
		unpriced) printf 'max_cost: 100\nprices: {pol: {input: 1, output: 2}}\n' ;;
		esac
		printf 'mode: %s\nrounds: %s\nresponses: %s\npairs: %s\n' \
			"$m_mode" "$m_rounds" "$m_responses" "$m_pairs"
		printf 'binarize: %s\n' "$m_binarize"
		printf 'policy: {api: %s, base_url: "%s", model: pol, ' \
			"$m_policy_api" "$2"
		printf 'executor: %s, max_tokens: 128, n: %s%s%s}\n' "$3" \
			"$m_n" "$_conc" "$_att"
		case $m_judge in mean | median | majority)
			printf 'panel: %s\n' "$m_judge" ;;
		esac
		printf 'judge:\n'
		_i=0
		for _j in ja jb jc; do
			_api=$(member $_i)
			[ -n "$_api" ] || break
			printf '  - {api: %s, base_url: "%s", model: %s, ' \
				"$_api" "$2" "$_j"
			printf 'executor: %s, cot: %s, votes: %s, ' "$4" \
				"$_cot" "$m_votes"
			printf 'both_orders: %s%s%s%s}\n' "$m_both_orders" \
				"$_conc" "$_att" "$_cal"
			_i=$((_i + 1))
		done
	} >"$1"
}
# start a fake server for this combination: FAKE_URL, log $1
fake() {
	_log=$1
	shift
	case $m_server in
	plain) start_fake --log "$_log" "$@" ;;
	no-n) start_fake --log "$_log" --no-n "$@" ;;
	no-logprobs) start_fake --log "$_log" --refuse-logprobs "$@" ;;
	same-answers) start_fake --log "$_log" --same-answers "$@" ;;
	limit) start_fake --log "$_log" --max-inflight 4 --latency-ms 15 "$@" ;;
	esac
	DIRECT_URL=$FAKE_URL
	[ "$m_http" = 2 ] && front
	return 0
}
# front: an nginx serving HTTP/2 over TLS on a port of its own in front of
# the fake server just started, which it reaches on HTTP/1.1; FAKE_URL
# becomes its https URL (stop_fake stops both). The fake server writes
# the URLs it hands out (an Anthropic batch's results_url) as
# http://HOST: nginx passes its own host on and makes them https://,
# as a server behind TLS would (caigen sends its key to no other scheme)
FRONT_PID=""
front() {
	_ng=$T/ng.$FAKE_PORT
	_fp=$(free_port)
	mkdir -p "$_ng/tmp"
	cat >"$_ng/nginx.conf" <<EOF_NG
worker_processes 1;
error_log $_ng/error.log warn;
pid $_ng/nginx.pid;
events { worker_connections 4096; }
http {
	log_format proto '\$server_protocol';
	access_log $_ng/access.log proto;
	keepalive_requests 100000;
	client_max_body_size 64m;
	client_body_buffer_size 1m;
	client_body_temp_path $_ng/tmp/body;
	proxy_temp_path $_ng/tmp/proxy;
	fastcgi_temp_path $_ng/tmp/fastcgi;
	uwsgi_temp_path $_ng/tmp/uwsgi;
	scgi_temp_path $_ng/tmp/scgi;
	upstream fake { server 127.0.0.1:$FAKE_PORT; keepalive 256; }
	server {
		listen 127.0.0.1:$_fp ssl http2;
		ssl_certificate $T/tls.pem;
		ssl_certificate_key $T/tls.key;
		location / {
			proxy_pass http://fake;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_set_header Host \$http_host;
			proxy_set_header Accept-Encoding "";
			proxy_read_timeout 120s;
			sub_filter_types application/json;
			sub_filter_once off;
			sub_filter "http://127.0.0.1:$_fp/" "https://127.0.0.1:$_fp/";
		}
	}
}
EOF_NG
	nginx -p "$_ng" -c "$_ng/nginx.conf" -g 'daemon off;' \
		>"$_ng/stdout" 2>&1 &
	FRONT_PID=$!
	PIDS="$PIDS $FRONT_PID"
	FAKE_URL=https://127.0.0.1:$_fp/v1
	_i=0
	until curl -s -o /dev/null --cacert "$T/tls.pem" "$FAKE_URL/models"; do
		_i=$((_i + 1))
		[ $_i -lt 100 ] || { echo "front: nginx did not start: $(cat "$_ng/error.log" "$_ng/stdout")"; return 1; }
		sleep 0.05
	done
	: >"$_ng/access.log"
	FRONT_DIR=$_ng
}
stop_fake() {
	if [ -n "$FRONT_PID" ]; then
		kill "$FRONT_PID" 2>/dev/null
		wait "$FRONT_PID" 2>/dev/null
		FRONT_PID=""
	fi
	kill "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}
# sent LOG FROM-LINE: "model count" lines, requests the server answered
# after line FROM-LINE of LOG (probes and refusals by design left out)
sent() {
	tail -n +"$(($2 + 1))" "$1" | jq -r --arg srv "$m_server" '
	  if .custom_id then
	    (.custom_id | capture("^(?<r>[a-z]+[0-9]*)-").r) as $r |
	    {"p": "pol", "j": "ja", "j1": "jb", "j2": "jc"}[$r] // $r
	  elif .method == "POST" and (.path | test("/(chat/)?completions$|/messages$"))
	  then .body as $b |
	    if (($b.messages // []) | length) == 1 and
	       $b.messages[0].content == "ping" or $b.prompt == "User: ping\n\nAssistant:"
	    then empty
	    elif $srv == "no-n" and (.path | test("chat")) and
	       ($b.n // 1) > 1 then empty
	    elif $srv == "no-logprobs" and ($b.logprobs // false) != false
	    then empty
	    else $b.model end
	  else empty end' | sort | uniq -c | awk '{print $2, $1}'
}
# planned PLAN: "model count" lines from a dry run's plan, as the server
# will answer them: a server without n takes the plan's count of single
# requests; a batch holds the requests the server refuses by design too
# (a batch line has no body to tell them by): with no n, the policy's
# n > 1 requests, then the singles; with no logprobs, a chat or
# completions judge's logprobs requests (with CoT: the verdicts, half of
# them), then as many by text
planned() {
	_alt=0
	[ "$m_server" = no-n ] && [ "$m_n" = auto ] &&
		[ "$m_policy_api" = chat ] && _alt=1
	sed -n "s/^  [a-z0-9]* *http[^ ]* model '\([^']*\)'[^:]*: \([0-9]*\) [a-z ]*requests\( (\([0-9]*\) if the server cannot[^)]*)\)\{0,1\},.*/\1 \2 \4/p" "$1" |
	while read -r _m _a _b; do
		if [ $_alt = 1 ] && [ -n "$_b" ]; then
			if [ "$_m" = pol ] && [ "$m_policy_exec" = batch ]; then
				_a=$((_a + _b))
			else
				_a=$_b
			fi
		fi
		case $_m in ja) _i=0 ;; jb) _i=1 ;; jc) _i=2 ;; *) _i=x ;; esac
		if [ "$_i" != x ] && [ "$m_server" = no-logprobs ] &&
		   [ "$m_judge_exec" = batch ] &&
		   [ "$(member "$_i")" != anthropic ]; then
			# with CoT half the requests are rationales, asked
			# without logprobs
			if [ "$m_cot" = on ]; then
				_a=$((_a + _a / 2))
			else
				_a=$((_a * 2))
			fi
		fi
		[ "$_a" -gt 0 ] && echo "$_m $_a"
	done | sort
}
# outputs DIR: the record files a run in DIR writes, for its mode
outputs() {
	case $m_mode in
	preferences) echo "$1/preferences.jsonl" ;;
	critiques) echo "$1/critiques.jsonl" ;;
	both) echo "$1/critiques.jsonl $1/preferences.jsonl" ;;
	esac
}
# once DIR [resumed]: every prompt once in each record file or in
# failures. A resumed run retries and logs again the prompts that failed
# before (failures.jsonl is a log): then every prompt once in the records
# or, if not there, in failures at least once.
once() {
	for _f in $(outputs "$1"); do
		[ -f "$_f" ] || touch "$_f"
		jq -r '.id' "$T/in.jsonl" | sort >"$1.want"
		# a prompt's parts: 0..parts-1 each once
		jq -rs 'group_by(.id)[] | select((map(.part // 0) | sort) !=
		  [range(0; .[0].parts // 1)]) | .[0].id' "$_f" \
			>"$1.badparts"
		[ -s "$1.badparts" ] && return 1
		{ jq -r .id "$_f" | sort -u; [ -f "$1/failures.jsonl" ] &&
			jq -r .id "$1/failures.jsonl"; } | sort >"$1.got"
		if [ "${2:-}" = resumed ]; then
			sort -u "$1.got" >"$1.got.u"
			mv "$1.got.u" "$1.got"
		fi
		cmp -s "$1.got" "$1.want" || return 1
	done
}
distinct() {
	[ -f "$1/preferences.jsonl" ] || return 0
	jq -e -s 'def t: gsub("^\\s+|\\s+$"; "");
	  all(.[]; (.chosen | tostring | t) != (.rejected | tostring | t) and
	    (if .comparisons then .responses as $r | all(.comparisons[];
	      ($r[.pair[0]] | t) != ($r[.pair[1]] | t)) else true end))' \
		"$1/preferences.jsonl"
}
# equal A B [resumed]: the record files of two runs agree (bytes, or ids
# in order when the combination is not deterministic; failures of a
# resumed run B by their ids)
equal() {
	for _f in $(outputs "$1") "$1/failures.jsonl"; do
		_g=$2/${_f##*/}
		[ -f "$_f" ] || touch "$_f"
		[ -f "$_g" ] || touch "$_g"
		if [ "${3:-}" = resumed ] && [ "${_f##*/}" = failures.jsonl ]
		then
			[ "$(jq -r .id "$_f" | sort -u)" = \
			  "$(jq -r .id "$_g" | sort -u)" ] || return 1
		elif [ "$det" = 1 ]; then
			cmp -s "$_f" "$_g" || return 1
		else
			[ "$(jq -r '[.id, .part] | @text' "$_f")" = \
			  "$(jq -r '[.id, .part] | @text' "$_g")" ] || return 1
		fi
	done
}
run() { # OUT CONFIG [flags]: run caigen, exit status in $rc
	_o=$1 _c=$2
	shift 2
	"$CAIGEN" run -c "$_c" --prompts "$IN" --out "$_o" -q "$@" \
		>"$_o.out" 2>"$_o.err"
	rc=$?
}
# lines LOG: the request log's length
loglen() { wc -l <"$1" | tr -d ' '; }
# calib_make: $D/calib.json, fitted by `caigen calibrate` to the
# combination's judge (live, on a fake server of its own) labelling
# $T/cpairs.jsonl
calib_make() {
	fake "$D/cal.log"
	CFG_CALIB=0 cfg "$D/cal.yaml" "$FAKE_URL" live live
	sed -i -e "s/^mode: .*/mode: preferences/" -e "s/^responses: .*/responses: 2/" \
		-e '/^max_cost:/d' -e '/^prompt_field:/d' "$D/cal.yaml"
	# --jobs 1: the fake server draws Anthropic votes from a counter, in
	# the order requests come; at any other concurrency the file differs
	# run to run and an unlucky draw of 40 pairs fits no positive slope in
	# a fold (3-wise c16, anthropic votes 3: once in two 3-wise runs
	# at load 4-16)
	"$CAIGEN" label -c "$D/cal.yaml" --pairs "$T/cpairs.jsonl" \
		--out "$D/cal" -q --no-preflight --jobs 1 >"$D/cal.out" 2>&1 &&
	"$CAIGEN" calibrate "$D/cal" --folds 2 --bootstrap 20 \
		-o "$D/calib.json" >>"$D/cal.out" 2>&1
	_rc=$?
	stop_fake
	return $_rc
}
# export_want: the exit `caigen batch export` owes this combination
export_want() {
	[ "$m_policy_api" = chat ] || { echo 2; return; }
	if [ "$m_mode" != critiques ]; then
		for _i in 0 1 2; do
			_a=$(member $_i)
			[ -z "$_a" ] || [ "$_a" = chat ] || { echo 2; return; }
		done
	fi
	echo 75
}

combo() {
	D=$T/$cid
	mkdir -p "$D"
	IN=$T/in.$m_input.jsonl
	[ "$m_input" = gz ] && IN=$T/in.gz.jsonl.gz
	[ "$m_input" = text ] && IN=$T/in.jsonl
	if [ "$m_calib" = on ] && [ -z "$(member 1)" ] &&
	   [ "$m_responses" = 2 ]; then
		calib_make
		res calib_made $? "$(tail -1 "$D/cal.out")"
	fi
	fake "$D/req.log" --batch-seconds 0.05
	# run A's config (check, dry run, rerun, export, label and eval
	# read it too): http: auto, straight to the fake server
	CFG_HTTP=auto cfg "$D/run.yaml" "$DIRECT_URL" "$m_policy_exec" \
		"$m_judge_exec"
	if [ "$expect" != ok ]; then
		_tag=${expect#refuse:}
		_msg=$(sed -n "s/.* : $_tag : //p" "$M/refusals")
		"$CAIGEN" check "$D/run.yaml" >"$D/check.out" 2>&1
		same refused_check "$?" 2
		"$CAIGEN" run -c "$D/run.yaml" --prompts "$IN" \
			--out "$D/dry" --dry-run >"$D/dry.out" 2>&1
		same refused_dryrun "$?" 2
		run "$D/a" "$D/run.yaml"
		same refused_run "$rc" 2
		req refused_message grep -qF "$_msg" "$D/a.err"
		same refused_nothing_sent "$(wc -l <"$D/req.log" | tr -d ' ')" 0
		req refused_no_records sh -c "! cat $D/a/*.jsonl 2>/dev/null | grep -q ."
		stop_fake
		return
	fi
	det=1
	[ "$m_policy_api" = anthropic ] && [ "$m_server" != same-answers ] && det=0
	for _i in 0 1 2; do
		[ "$(member $_i)" = anthropic ] && [ "$m_votes" != 0 ] && det=0
	done
	fails_all=0
	[ "$m_server" = same-answers ] && [ "$m_mode" = preferences ] &&
		fails_all=1
	"$CAIGEN" check "$D/run.yaml" >"$D/check.out" 2>&1
	res check $? "$(tail -1 "$D/check.out")"
	"$CAIGEN" run -c "$D/run.yaml" --prompts "$IN" \
		--out "$D/dry" --dry-run >"$D/dry.out" 2>&1
	drc=$?
	res dryrun $drc "$(tail -1 "$D/dry.out")"
	# one process, --jobs 1 (the start-up probe on)
	run "$D/a" "$D/run.yaml" --jobs 1
	arc=$rc
	if [ $fails_all = 1 ]; then
		same exit "$rc:$(jq -r .reason "$D/a/failures.jsonl" 2>/dev/null |
			sort -u)" "1:identical responses"
	else
		same exit "$rc:$(cat "$D/a/failures.jsonl" 2>/dev/null |
			head -c 200)" "0:"
	fi
	req once once "$D/a"
	req distinct distinct "$D/a"
	for _f in "$D/a/preferences.jsonl" "$D/a/critiques.jsonl" \
	    "$D/a/failures.jsonl" "$D/a/rejects.jsonl" "$D/a/manifest.json"; do
		[ -s "$_f" ] && printf 'matrix_%s_schema_%s\t%s\n' "$cid" \
			"$(basename "$_f" | tr . _)" "$_f" >>"$T/schema.tsv"
	done
	if [ $fails_all = 0 ] && { [ "$m_server" != no-logprobs ] ||
	   [ "$m_votes" = 0 ]; }; then
		planned "$D/dry.out" >"$D/planned"
		sent "$D/req.log" 0 >"$D/sent"
		[ $drc = 0 ] || echo "the dry run exited $drc" >"$D/planned"
		same sent "$(tr '\n' ' ' <"$D/sent")" \
			"$(tr '\n' ' ' <"$D/planned")"
	fi
	# usage: every model that answered a request has its tokens in the
	# manifest, a panel's members each their own
	if [ "$arc" -le 1 ]; then
		sent "$D/req.log" 0 >"$D/sent.u"
		_miss=""
		while read -r _m _c; do
			jq -e --arg m "$_m" '.usage_by_model[$m].prompt_tokens > 0' \
				"$D/a/manifest.json" >/dev/null 2>&1 ||
				_miss="$_miss $_m"
		done <"$D/sent.u"
		same usage "${_miss:-none}" none
	fi
	# every record's prompt in the dataset's one format
	_want=string
	case $m_format:$m_input in
	conversational:* | auto:mixed | auto:gz | auto:field)
		_want=array ;;
	esac
	if [ "$arc" -le 1 ]; then
		_got=$(for _f in $(outputs "$D/a"); do
			[ -f "$_f" ] && jq -r '.prompt | type' "$_f"; done | sort -u)
		same format "$_got" "$([ $fails_all = 1 ] || echo $_want)"
	fi
	# the same OUT with another record setting: refused before anything
	# is sent, OUT untouched
	if [ "$arc" -le 1 ] && cat $(outputs "$D/a") 2>/dev/null | grep -q .
	then
		cp -r "$D/a" "$D/rr"
		if [ $((n % 2)) = 0 ]; then
			sed 's/^seed: 1$/seed: 2/' "$D/run.yaml" >"$D/rr.yaml"
		else
			_f2=standard
			[ "$m_format" = standard ] && _f2=conversational
			sed "s/^prompt_format: .*/prompt_format: $_f2/" \
				"$D/run.yaml" >"$D/rr.yaml"
		fi
		_l0=$(loglen "$D/req.log")
		run "$D/rr" "$D/rr.yaml" --jobs 1
		same rerun_refused "$rc" 2
		req rerun_message grep -q "holds records made with other settings" \
			"$D/rr.err"
		same rerun_nothing_sent "$(loglen "$D/req.log")" "$_l0"
		req rerun_out_unchanged diff -r "$D/a" "$D/rr"
		if [ "$DEEP" = 1 ]; then
			run "$D/rr" "$D/rr.yaml" --jobs 1 --allow-changed-settings
			same rerun_allowed "$rc" "$fails_all"
		fi
	fi
	# batch export: the OpenAI batch shape for chat endpoints only, and
	# nothing sent
	_l0=$(loglen "$D/req.log")
	"$CAIGEN" batch export -c "$D/run.yaml" --prompts "$IN" --out "$D/x" \
		-q >"$D/x.out" 2>"$D/x.err"
	same export "$?" "$(export_want)"
	same export_nothing_sent "$(loglen "$D/req.log")" "$_l0"
	# run B: --jobs 16, or the config's concurrency (auto, [2, 12]); a
	# prompt_field as the flag; the combination's http (2: through
	# nginx, whose log then holds run B's requests only)
	_jb="--jobs 16"
	[ "$m_conc" = fixed ] || _jb=""
	if [ "$m_input" = field ]; then
		CFG_FIELD=0 cfg "$D/b.yaml" "$FAKE_URL" "$m_policy_exec" \
			"$m_judge_exec"
		# shellcheck disable=SC2086
		run "$D/b" "$D/b.yaml" $_jb --no-preflight --prompt-field question
	else
		cfg "$D/b.yaml" "$FAKE_URL" "$m_policy_exec" "$m_judge_exec"
		# shellcheck disable=SC2086
		run "$D/b" "$D/b.yaml" $_jb --no-preflight
	fi
	after jobs equal "$D/a" "$D/b"
	# http: 2 went over HTTP/2, every request
	[ "$m_http" = 2 ] && same http2 "$(sort -u "$FRONT_DIR/access.log" |
		tr '\n' ' ')" "HTTP/2.0 "
	# calibration: p_raw kept; labels of the file's method say so; deep:
	# the offline command on an uncalibrated run's records gives run
	# A's bytes
	if [ "$m_calib" = on ] && [ -s "$D/a/preferences.jsonl" ] &&
	   [ "$DEEP" = 1 ]; then
		CFG_CALIB=0 cfg "$D/u.yaml" "$FAKE_URL" "$m_policy_exec" \
			"$m_judge_exec"
		run "$D/u" "$D/u.yaml" --jobs 16 --no-preflight
		"$CAIGEN" calibrate apply "$D/calib.json" \
			"$D/u/preferences.jsonl" "$D/u.applied" >"$D/u.apply" 2>&1
		_rc=$?
		if [ $_rc = 0 ] && [ "$det" = 1 ]; then
			req calib_apply_equals_run cmp "$D/u.applied" \
				"$D/a/preferences.jsonl"
		else
			same calib_apply "$_rc" 0
		fi
	fi
	if [ "$m_calib" = on ] && [ -s "$D/a/preferences.jsonl" ]; then
		req calib_raw_kept jq -se 'all(has("p_raw"))' "$D/a/preferences.jsonl"
		_meth=$(jq -r .judge.method "$D/calib.json")
		# a record is calibrated when its judgments are of the file's
		# method, and then names the file's fit
		req calib_labels jq -se --arg m "$_meth" --slurpfile c \
			"$D/calib.json" 'all(.[]; has("calibration") ==
		    ([.judgments[].method] | unique == [$m]) and
		    (.calibration == null or ((.calibration.temperature -
		     $c[0].temperature) | fabs) < 1e-6 * $c[0].temperature)) and
		  any(.[]; has("calibration"))' \
			"$D/a/preferences.jsonl"
	fi
	# a cap: what it counted is what the summary says
	if [ "$m_cap" != none ] && [ "$arc" -le 1 ]; then
		req cost jq -e '.max_cost.cap_usd == 100 and
		  .max_cost.spent_usd == .cost_usd' "$D/a/manifest.json"
	fi
	# live against batch
	if [ "$m_policy_exec" = batch ] || [ "$m_judge_exec" = batch ]; then
		cfg "$D/live.yaml" "$FAKE_URL" live live
		run "$D/l" "$D/live.yaml" --jobs 16 --no-preflight
		after live equal "$D/a" "$D/l"
	fi
	# label and eval read every preference record
	if [ -s "$D/a/preferences.jsonl" ]; then
		_n=$(lines "$D/a/preferences.jsonl")
		# label and eval judge pairs: the run's own config as it is (mode
		# both included)
		cp "$D/run.yaml" "$D/label.yaml"
		"$CAIGEN" label -c "$D/label.yaml" --pairs "$D/a/preferences.jsonl" \
			--out "$D/lab" -q --no-preflight >"$D/lab.out" 2>&1
		_rc=$?
		same label "$_rc:$(cat "$D/lab/preferences.jsonl" 2>/dev/null |
			wc -l | tr -d ' '):$(cat "$D/lab/rejects.jsonl" \
			2>/dev/null | head -1 | head -c 160)" "0:$_n:"
		"$CAIGEN" eval -c "$D/label.yaml" --pairs "$D/a/preferences.jsonl" \
			--out "$D/ev" -q --no-preflight --bootstrap 20 --json \
			>"$D/ev.out" 2>"$D/ev.err"
		_rc=$?
		if [ "$_rc:$(cat "$D/ev/preferences.jsonl" 2>/dev/null | wc -l |
		    tr -d ' ')" = "0:$_n" ]; then
			res eval 0
		else
			res eval 1 "exit $_rc, $(lines "$D/ev/preferences.jsonl" 2>/dev/null) of $_n records: $(tail -1 "$D/ev.err" | head -c 160)"
		fi
		for _f in "$D/lab/preferences.jsonl" "$D/lab/manifest.json" \
		    "$D/ev/eval.json" "$D/ev/manifest.json"; do
			[ -s "$_f" ] && printf 'matrix_%s_schema_%s\t%s\n' \
				"$cid" "$(echo "${_f#"$D"/}" | tr ./ __)" "$_f" \
				>>"$T/schema.tsv"
		done
	fi
	stop_fake
	[ "$DEEP" = 1 ] || [ $((n % 3)) = 1 ] || return 0
	# kill -9 mid-run against a slow server, then the same command
	fake "$D/slow.log" --latency-ms 40 --batch-seconds 0.6
	cfg "$D/slow.yaml" "$FAKE_URL" "$m_policy_exec" "$m_judge_exec"
	"$CAIGEN" run -c "$D/slow.yaml" --prompts "$IN" --out "$D/k" \
		-q --jobs 2 --no-preflight >/dev/null 2>&1 &
	_pid=$!
	sleep 0.4
	kill -9 $_pid 2>/dev/null
	wait $_pid 2>/dev/null
	run "$D/k" "$D/slow.yaml" --jobs 4 --no-preflight
	same resume_exit "$rc" "$fails_all"
	req resume_once once "$D/k" resumed
	after resume equal "$D/a" "$D/k" resumed
	stop_fake
	# shards merged against one process
	fake "$D/sh.log" --batch-seconds 0.05
	cfg "$D/sh.yaml" "$FAKE_URL" "$m_policy_exec" "$m_judge_exec"
	run "$D/sh" "$D/sh.yaml" --shard 0/2 --jobs 4 --no-preflight
	run "$D/sh" "$D/sh.yaml" --shard 1/2 --jobs 4 --no-preflight
	_bad=""
	for _f in $(outputs "$D/sh") "$D/sh/failures.jsonl"; do
		_b=${_f%.jsonl}
		_x=0
		[ "${_f##*/}" != failures.jsonl ] && [ $fails_all = 1 ] && _x=1
		ls "$_b".shard-*.jsonl >/dev/null 2>&1 || continue
		if [ "${_f##*/}" = failures.jsonl ]; then
			"$CAIGEN" merge "$_b".shard-*.jsonl -o "$_f" -q \
				--no-manifest >"$D/merge.out" 2>&1
		else
			"$CAIGEN" merge "$_b".shard-*.jsonl -o "$_f" -q \
				--expect "$T/in.jsonl" >"$D/merge.out" 2>&1
		fi
		_rc=$?
		# failures hold no id unless every prompt fails
		[ "$_rc" = "$_x" ] ||
			_bad="$_bad ${_f##*/}: merge exit $_rc $(head -c 120 "$D/merge.out")"
	done
	stop_fake
	[ "$arc" -gt 1 ] && _bad="nothing to compare: the --jobs 1 run exited $arc"
	if [ -z "$_bad" ] && equal "$D/a" "$D/sh"; then
		res shards 0
	else
		res shards 1 "${_bad:-merged records differ from one process}"
	fi
}

# worker W: the combinations whose number is W modulo JOBS, each one's
# lines into $T/out.CID (the workers' fake servers stop with them)
worker() {
	_nfake=$(($1 * 1000))
	PIDS=""
	trap 'for p in $PIDS; do kill "$p" 2>/dev/null; done' EXIT
	n=0
	while read -r expect rest; do
		n=$((n + 1))
		[ $(((n - 1) % JOBS)) = "$1" ] || continue
		case $expect in '#'* | '') continue ;; esac
		if [ -n "$ONLY" ]; then
			case " $ONLY " in *" $n "*) ;; *) continue ;; esac
		fi
		cid=$(printf 'c%02d' "$n")
		for kv in $rest; do
			eval "m_${kv%%=*}='${kv#*=}'"
		done
		{
			echo "== $cid $expect $rest"
			known_load
			_t0=$(date +%s.%N)
			combo
			awk -v a="$_t0" -v b="$(date +%s.%N)" -v c="$cid" \
				'BEGIN { printf "-- %s %.1f s\n", c, b - a }'
		} >"$T/out.$cid" 2>&1
	done <"$LIST"
}
JOBS=${MATRIX_JOBS:-3}
_w=0
_wp=""
while [ $_w -lt "$JOBS" ]; do
	worker $_w &
	_wp="$_wp $!"
	_w=$((_w + 1))
done
for _p in $_wp; do wait "$_p"; done
: >"$T/all.out"
n=$(grep -c . "$LIST")
nok=$(grep -c '^ok' "$LIST")
_i=0
while [ $_i -lt "$n" ]; do
	_i=$((_i + 1))
	_f=$T/out.$(printf 'c%02d' $_i)
	[ -f "$_f" ] && cat "$_f" && cat "$_f" >>"$T/all.out"
done
# every rule of src/runrules.c met somewhere: the longest piece of its
# message between format directives in some refused run's or export's
# error output
_r=0
sed -n 's/.*err_set(err, "\([^"]*\)".*/\1/p' "$ROOT/src/runrules.c" |
while IFS= read -r _m; do
	_r=$((_r + 1))
	_p=$(printf '%s\n' "$_m" | sed 's/%[-.0-9]*[a-z]/\n/g' |
		awk '{ if (length($0) > length(b)) b = $0 } END { print b }')
	if cat "$T"/c*/a.err "$T"/c*/x.err 2>/dev/null | grep -qF "$_p"; then
		pass "matrix_rule_$_r"
	else
		fail "matrix_rule_$_r" "no combination met the rule '$_p' (src/runrules.c)"
	fi
done | tee -a "$T/all.out"
if [ -s "$T/schema.tsv" ]; then
	sh "$ROOT/tests/deps.sh" python3-jsonschema >/dev/null 2>&1 ||
		fail matrix_schema_deps "python3-jsonschema could not be installed"
	python3 "$M/validate.py" "$ROOT/schemas" "$T/schema.tsv" \
		>"$T/schema.out" 2>&1
	while IFS= read -r line; do
		case $line in
		PASS* | FAIL*)
			_n=${line#* }
			_n=${_n%%:*}
			cid=${_n#matrix_}
			cid=${cid%%_*}
			# the combination's values again, for known()
			_k=${cid#c}
			_k=${_k#0}
			rest=$(sed -n "${_k}p" "$LIST")
			for kv in ${rest#* }; do
				eval "m_${kv%%=*}='${kv#*=}'"
			done
			known_load
			case $line in
			PASS*) res "${_n#matrix_"$cid"_}" 0 ;;
			*) res "${_n#matrix_"$cid"_}" 1 "${line#*: }" ;;
			esac ;;
		*) echo "$line" ;;
		esac
	done <"$T/schema.out" >"$T/schema.res"
	cat "$T/schema.res"
	cat "$T/schema.res" >>"$T/all.out"
fi
echo "matrix: $n combinations ($nok accepted), $(grep -c '^XFAIL ' "$T/all.out") expected failures, $(grep -c '^XPASS ' "$T/all.out") unexpected passes"
if grep -q '^XFAIL ' "$T/all.out"; then
	echo "matrix: known defects that failed here:"
	sed -n 's/^XFAIL .*(known: \(.*\))$/  \1/p' "$T/all.out" | sort -u
fi
[ -n "${MATRIX_KEEP:-}" ] && cp -r "$T" "$MATRIX_KEEP"
exit 0
