# audit_position_bias: the audit recovers a judge's built-in slot-A bias.
#
# Every prompt says "SAY:" + 24 bytes, so the fake policy answers that text
# repeated k = 1, 2 or 3 times (joined by "\n": 25k - 1 bytes), k uniform
# and independent per answer. The fake judge gives slot A the logit
#   d = (bytes(A) - bytes(B)) / 50 + X = 0.5 (kA - kB) + X.
# Slot A wins an order when d > 0. The same slot wins both orders exactly
# when |X| > 0.5 |k0 - k1|, so with P(k0 = k1) = 1/3, P(|k0 - k1| = 1) =
# 4/9, P(|k0 - k1| = 2) = 2/9 the expected position-bias share is
#   X = 0.25: 1/3     X = 0.75: 7/9     X = -0.75: 7/9, all of it slot B.
# The audit must land within 2 percentage points of that, and match
# exactly the share recomputed here from the records' answer lengths.
. "$(dirname "$0")/../lib.sh"
N=3000
awk -v n=$N 'BEGIN { for (i = 1; i <= n; i++)
	printf "{\"id\":\"pb%05d\",\"prompt\":\"Repeat after me. SAY:abcdefghijklmnopqrstuvwx\"}\n", i }' >"$T/prompts.jsonl"

# within NAME GOT WANT EPS
within() {
	if awk -v a="$2" -v b="$3" -v e="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= e) }'
	then pass "$1"; else fail "$1" "got $2, want $3 (within $4)"; fi
}

# The pairs with k0 = k1 are identical answers, which caigen resamples
# by default (policy.identical): keep them, the shares above count them.
printf 'policy:\n  identical: keep\n' >"$T/keep.yaml"

# one_bias NAME X WANT_SHARE WANT_SLOT(a|b)
one_bias() {
	start_fake --judge-bias-a "$2"
	run_caigen "$T/$1" "$T/prompts.jsonl" -q -c "$T/keep.yaml" \
		>"$T/$1.log" 2>&1
	eq "${1}_run" $? 0
	stop_fake
	"$CAIGEN" audit --json "$T/$1/preferences.jsonl" >"$T/$1.json"
	got=$(jq .overall.labels.position_bias "$T/$1.json")
	within "${1}_within_2pp" "$got" "$3" 0.02
	# the same rule applied to the lengths in the records
	from_len=$(jq -s --argjson x "$2" '
		map(((.responses[0] | utf8bytelength) -
		     (.responses[1] | utf8bytelength)) / 50 | fabs)
		| (map(select(. < ($x | fabs))) | length) / length' \
		"$T/$1/preferences.jsonl")
	within "${1}_matches_lengths" "$got" "$from_len" 1e-9
	eq "${1}_slot" "$(jq -r '.overall.labels | if .position_bias_a > 0
		then (if .position_bias_b > 0 then "both" else "a" end)
		else "b" end' "$T/$1.json")" "$4"
	eq "${1}_pairs" "$(jq .overall.labels.pairs "$T/$1.json")" $N
}

one_bias bias_025 0.25 0.3333333 a
one_bias bias_075 0.75 0.7777778 a
one_bias bias_m075 -0.75 0.7777778 b
# per principle the bias shows as well: every drawn principle's share is
# near the overall one (none below 60 % at X = 0.75)
eq bias_per_principle "$(jq '[.principles[] | select(.labels.pairs > 20)
	| .labels.position_bias | select(. < 0.6)] | length' "$T/bias_075.json")" 0
