# audit_coverage: `caigen audit` on synthetic datasets with known counts.
# The chi-square statistic and p-value are recomputed here in awk by a
# different method: with 7 principles the test has 6 degrees of freedom,
# and for an even dof 2k the tail has the closed form
#   P(X >= x) = exp(-x/2) * sum_{i<k} (x/2)^i / i!
# (no series or continued fraction as in src/stats.c).
. "$(dirname "$0")/../lib.sh"
GEN=$ROOT/tests/audit/gen.sh
C=$T/seven.yaml
{
	echo "name: seven"
	echo "version: 1"
	echo "principles:"
	for i in 1 2 3 4 5 6 7; do
		w=1
		[ $i = 7 ] && w=2
		echo "  - id: p$i"
		echo "    tags: [t$((i % 2)), all]"
		echo "    weight: $w"
		echo "    compare: \"Which reply follows rule $i better?\""
		echo "    critique: \"Point out what is wrong under p$i.\""
		echo "    revise: \"Rewrite the reply to follow rule $i.\""
	done
} >"$C"

# chi_awk "ID:COUNT..." WEIGHTS...: "statistic p_value" for dof 6
chi_awk() {
	echo "$1" | awk -v w="$2" '{
		nw = split(w, wt, " "); tw = 0; n = 0
		for (i = 1; i <= nw; i++) tw += wt[i]
		for (i = 1; i <= NF; i++) { split($i, f, ":"); o[i] = f[2]; n += f[2] }
		x = 0
		for (i = 1; i <= NF; i++) { e = n * wt[i] / tw; x += (o[i] - e)^2 / e }
		h = x / 2; s = 0; t = 1
		for (i = 0; i < 3; i++) { s += t; t *= h / (i + 1) }
		printf "%.12f %.15f\n", x, exp(-h) * s }'
}
# near NAME GOT WANT EPS
near() {
	if awk -v a="$2" -v b="$3" -v e="$4" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= e) }'
	then pass "$1"; else fail "$1" "got $2, want $3 (within $4)"; fi
}

# 1. close to the weights
FIT="p1:95 p2:110 p3:102 p4:88 p5:105 p6:99 p7:201"
mkdir -p "$T/fit"
sh "$GEN" $(echo "$FIT" | sed 's/:\([0-9]*\)/:\1:t,all/g') >"$T/fit/preferences.jsonl"
"$CAIGEN" audit --json --constitution "$C" "$T/fit/preferences.jsonl" >"$T/fit.json"
eq coverage_exit $? 0
set -- $(chi_awk "$FIT" "1 1 1 1 1 1 2")
near coverage_chi2_statistic "$(jq .coverage.compare.chi_square.statistic "$T/fit.json")" "$1" 1e-6
near coverage_chi2_p_value "$(jq .coverage.compare.chi_square.p_value "$T/fit.json")" "$2" 1e-6
eq coverage_chi2_dof "$(jq .coverage.compare.chi_square.dof "$T/fit.json")" 6
eq coverage_draws "$(jq '[.principles[] | .coverage.compare.draws] | join(" ")' -r "$T/fit.json")" "95 110 102 88 105 99 201"
near coverage_expected_share "$(jq '.principles[6].coverage.compare.expected_share' "$T/fit.json")" 0.25 1e-12
eq coverage_fit_nothing_flagged "$(jq -c .coverage.compare.flagged "$T/fit.json")" '[]'
eq coverage_fit_never_drawn "$(jq -c .coverage.compare.never_drawn "$T/fit.json")" '[]'

# 2. p1 drawn three times too often, p4 never
SKEW="p1:375 p2:125 p3:125 p4:0 p5:125 p6:125 p7:250"
mkdir -p "$T/skew"
sh "$GEN" $SKEW >"$T/skew/preferences.jsonl"
"$CAIGEN" audit --json --constitution "$C" "$T/skew/preferences.jsonl" >"$T/skew.json"
set -- $(chi_awk "$SKEW" "1 1 1 1 1 1 2")
near coverage_skew_chi2_statistic "$(jq .coverage.compare.chi_square.statistic "$T/skew.json")" "$1" 1e-6
near coverage_skew_chi2_p_value "$(jq .coverage.compare.chi_square.p_value "$T/skew.json")" "$2" 1e-6
eq coverage_3x_flagged_high "$(jq -r '.principles[] | select(.id == "p1") | .coverage.compare.flag' "$T/skew.json")" high
eq coverage_only_p1_high "$(jq -r '[.principles[] | select(.coverage.compare.flag == "high") | .id] | join(",")' "$T/skew.json")" p1
eq coverage_never_drawn "$(jq -c .coverage.compare.never_drawn "$T/skew.json")" '["p4"]'
# the interval is a binomial 99 % one: 375 of 1125 known draws at 1/8
eq coverage_interval_contains_mean "$(jq '.principles[1].coverage.compare | .interval99[0] <= .expected_draws and .expected_draws <= .interval99[1]' "$T/skew.json")" true
"$CAIGEN" audit --constitution "$C" "$T/skew/preferences.jsonl" >"$T/skew.txt"
check coverage_text_flag grep -Eq '^  p1 +375 .* high$' "$T/skew.txt"
check coverage_text_never grep -q 'never drawn: p4' "$T/skew.txt"

# 3. without a constitution: counts only, no expectations
"$CAIGEN" audit --json "$T/skew/preferences.jsonl" >"$T/nocon.json"
eq coverage_no_constitution "$(jq -c '[.coverage.compare.chi_square, .principles[0].coverage.compare.expected_share, (.principles | length)]' "$T/nocon.json")" '[null,null,6]'

# 4. tags and models
eq coverage_tag_rows "$(jq -c '[.tags[] | [.tag, .coverage.compare.draws, .principles]]' "$T/fit.json")" '[["all",800,7],["t0",297,3],["t1",503,4]]'
near coverage_tag_expected "$(jq '.tags[] | select(.tag == "t0") | .coverage.compare.expected_share' "$T/fit.json")" 0.375 1e-12
eq coverage_model_row "$(jq -c '[.models[] | [.model, .coverage.compare.draws]]' "$T/fit.json")" '[["gen-judge",800]]'
