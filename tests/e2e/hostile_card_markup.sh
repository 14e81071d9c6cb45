# hostile_card_markup: strings from data (the manifest's version, model
# names, constitution names, count, model and guard keys; principle ids
# and tags of the records) reach the dataset card as text: the card is
# rendered by a real Markdown renderer (cmark-gfm, GFM tables, raw HTML
# let through) and its HTML holds no tag, image or link of the data's,
# a backtick in a model name stays inside its code span, and a '<' in a
# code span is shown as '<' (not as "&lt;").
. "$(dirname "$0")/../lib.sh"
command -v cmark-gfm >/dev/null || { fail card_markup_renderer "cmark-gfm missing (make test-deps)"; exit 1; }
start_fake
gen_prompts 5 "$T/in.jsonl"
run_caigen "$T/o" "$T/in.jsonl" -q 2>"$T/run.err"
eq card_markup_run $? 0
IMG='<img src=x onerror=alert(1)>'
PIX='![p](http://tracker.invalid/pixel.png)'
jq -c --arg img "$IMG" --arg pix "$PIX" '.principle.id = ("p" + $img) |
	.principle.tags = [$pix, "<script>alert(2)</script>", "[l](http://x.invalid)"]' \
	"$T/o/preferences.jsonl" >"$T/p" && mv "$T/p" "$T/o/preferences.jsonl"
jq --arg img "$IMG" --arg pix "$PIX" '.version = ($img + $pix) |
	.config.policy.model = "m`<b>x</b>`" |
	.config.judge.model = "``j<i>|</i>" |
	.constitutions = [$pix, "c`` `<u>"] |
	.counts[$img] = 3 | .usage_by_model[$pix] = .usage_by_model.judge |
	.usage_by_model["a|<s>b</s>"] = .usage_by_model.judge |
	.guards["<em>g</em>" + $pix] = 1' \
	"$T/o/manifest.json" >"$T/m" && mv "$T/m" "$T/o/manifest.json"
"$CAIGEN" card "$T/o" >/dev/null 2>"$T/card.err"
eq card_markup_exit $? 0
# the body after the YAML front matter, rendered
awk 'n >= 2 { print } /^---$/ { n++ }' "$T/o/README.md" >"$T/body.md"
cmark-gfm --unsafe -e table -e autolink -e strikethrough "$T/body.md" >"$T/card.html"
check card_markup_rendered grep -q '<table>' "$T/card.html"
# every tag in the page is one the card's own layout uses
grep -o '<[a-zA-Z/!][^>]*>' "$T/card.html" | sed 's/[ >].*//' | sort -u >"$T/tags"
bad=$(grep -v -x -e '<h1' -e '</h1' -e '<h2' -e '</h2' -e '<p' -e '</p' \
	-e '<ul' -e '</ul' -e '<li' -e '</li' -e '<code' -e '</code' \
	-e '<pre' -e '</pre' -e '<table' -e '</table' -e '<thead' \
	-e '</thead' -e '<tbody' -e '</tbody' -e '<tr' -e '</tr' -e '<th' \
	-e '</th' -e '<td' -e '</td' -e '<!--' "$T/tags" | tr '\n' ' ')
eq card_markup_only_layout_tags "$bad" ""
check card_markup_no_img sh -c "! grep -qi '<img\|<script\|<a \|<del\|<s>\|<em>' '$T/card.html'"
# the data is there, as text
check card_markup_version_text grep -qF '&lt;img src=x onerror=alert(1)&gt;![p](http://tracker.invalid/pixel.png)' "$T/card.html"
check card_markup_model_code grep -qF '<code>m`&lt;b&gt;x&lt;/b&gt;`</code>' "$T/card.html"
check card_markup_judge_code grep -qF '<code>``j&lt;i&gt;|&lt;/i&gt;</code>' "$T/card.html"
check card_markup_constitution_code grep -qF '<code>c`` `&lt;u&gt;</code>' "$T/card.html"
check card_markup_table_pipe grep -qF '<code>a|&lt;s&gt;b&lt;/s&gt;</code>' "$T/card.html"
check card_markup_tag_text grep -qF '&lt;script&gt;alert(2)&lt;/script&gt;' "$T/card.html"
check card_markup_principle_text grep -qF 'p&lt;img src=x onerror=alert(1)&gt;' "$T/card.html"
