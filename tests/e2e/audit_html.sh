# audit_html: `caigen audit --html` writes one self-contained page whose
# charts render. Headless Chromium (Debian's chromium, installed here: if it
# cannot be installed the test fails) takes a screenshot; tests/audit/
# pngstat.c decodes it and counts colours, so a blank or chart-less page
# fails: the bars' blue (#4a78b5) and the flagged principle's red
# (#d0463c) must both cover real areas.
. "$(dirname "$0")/../lib.sh"
if ! sh "$ROOT/tests/deps.sh" chromium zlib1g-dev >"$T/deps.log" 2>&1; then
	fail html_chromium_installed "$(cat "$T/deps.log")"
	exit 1
fi
command -v chromium >/dev/null || { fail html_chromium_installed "no chromium"; exit 1; }
GEN=$ROOT/tests/audit/gen.sh
C=$T/seven.yaml
{
	echo "name: seven"
	echo "version: 1"
	echo "principles:"
	for i in 1 2 3 4 5 6 7; do
		echo "  - id: rule-$i"
		echo "    tags: [t$((i % 3))]"
		echo "    compare: \"Which reply follows rule $i better?\""
		echo "    critique: \"Point out what is wrong under rule-$i.\""
		echo "    revise: \"Rewrite the reply to follow rule $i.\""
	done
} >"$C"
mkdir -p "$T/data"
sh "$GEN" rule-1:300 rule-2:100 rule-3:100 rule-4:90 rule-5:110 rule-6:100 \
	rule-7:0 >"$T/data/preferences.jsonl"
sh "$GEN" -k crit -r 2 rule-1:20 rule-2:25 rule-5:15 >"$T/data/critiques.jsonl"
"$CAIGEN" audit --constitution "$C" --html "$T/report.html" \
	"$T/data/preferences.jsonl" "$T/data/critiques.jsonl" >"$T/text.out"
eq html_exit $? 0
H=$T/report.html
for id in chart-draws-compare chart-draws-critique chart-p-hist chart-position-bias; do
	check "html_has_$id" grep -q "<svg id='$id'" "$H"
done
# bars inside each chart: one per principle of the constitution (rule-7,
# never drawn, has an empty one beside its expected mark), 20 bins
svg_of() { tr "\n" " " <"$H" | grep -o "<svg id='$1'.*" | sed "s|</svg>.*||"; }
eq html_draw_bars "$(svg_of chart-draws-compare | grep -o "<rect [^>]*class='bar[ a-z]*'><title>" | wc -l | tr -d ' ')" 7
eq html_hist_bars "$(svg_of chart-p-hist | grep -o "<title>p in" | wc -l | tr -d ' ')" 20
check html_flag_marked grep -q "class='bar flag'><title>rule-1: 300 draws" "$H"
# self-contained: no scripts, nothing fetched
eq html_no_script "$(grep -ci '<script' "$H")" 0
eq html_no_external "$(grep -Eo "(src|href)=['\"][^'\"]*" "$H" | wc -l | tr -d ' ')" 0

cc -std=c11 -O2 -o "$T/pngstat" "$ROOT/tests/audit/pngstat.c" -lz
eq html_pngstat_built $? 0
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update \
	--disable-sync --user-data-dir="$T/chrome" \
	--screenshot="$T/shot.png" --window-size=1200,1600 "file://$H" \
	>"$T/chrome.log" 2>&1
check html_screenshot_taken test -s "$T/shot.png"
[ -n "${AUDIT_SHOT:-}" ] && cp "$T/shot.png" "$AUDIT_SHOT"
size=$(wc -c <"$T/shot.png" | tr -d ' ')
check html_screenshot_not_tiny test "$size" -gt 30000
set -- $("$T/pngstat" "$T/shot.png" 4a78b5 d0463c)
eq html_screenshot_size "$1x$2" 1200x1600
check html_screenshot_many_colours test "${3:-0}" -gt 50
check html_screenshot_blue_bars test "${5:-0}" -gt 5000
check html_screenshot_red_flag test "${7:-0}" -gt 500
