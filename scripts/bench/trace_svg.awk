# trace_svg.awk - the limiter's trace (limiter.h: one line a window: seconds
# since the start, limit, most in flight, answers/s, mean latency ms, floor
# latency ms, drops) as an SVG of three panels over time: the limit and the
# calls in flight, the throughput, the latency (mean and floor) with the
# windows that saw drops marked in red. Usage: awk -v title=TEXT -f trace_svg.awk TRACE > out.svg
BEGIN { n = 0 }
NF >= 7 {
	n++
	t[n] = $1; lim[n] = $2; fl[n] = $3; tp[n] = $4
	lat[n] = $5; flo[n] = $6; dr[n] = $7
}
function max(a, b) { return a > b ? a : b }
function panel(y0, h, label, unit, maxv, k,    i, x, y, s, path, col) {
	printf "<rect x='60' y='%d' width='760' height='%d' fill='none' stroke='#999'/>\n", y0, h
	printf "<text x='10' y='%d' font-size='12'>%s</text>\n", y0 + 14, label
	printf "<text x='10' y='%d' font-size='11' fill='#555'>%s</text>\n", y0 + 30, unit
	printf "<text x='56' y='%d' font-size='10' text-anchor='end'>%g</text>\n", y0 + 10, maxv
	printf "<text x='56' y='%d' font-size='10' text-anchor='end'>0</text>\n", y0 + h
}
function line(y0, h, maxv, arr, col, dash,    i, x, y, path) {
	path = ""
	for (i = 1; i <= n; i++) {
		x = 60 + 760 * (tmax > 0 ? t[i] / tmax : 0)
		y = y0 + h - h * (maxv > 0 ? arr[i] / maxv : 0)
		path = path (i == 1 ? "M" : " L") sprintf("%.1f,%.1f", x, y)
	}
	printf "<path d='%s' fill='none' stroke='%s' stroke-width='1.5'%s/>\n", path, col, dash
}
END {
	if (n == 0) {
		print "<svg xmlns='http://www.w3.org/2000/svg' width='840' height='60'><text x='10' y='30'>no trace</text></svg>"
		exit
	}
	tmax = 0; ml = 0; mt = 0; mlat = 0
	for (i = 1; i <= n; i++) {
		tmax = max(tmax, t[i]); ml = max(ml, max(lim[i], fl[i]))
		mt = max(mt, tp[i]); mlat = max(mlat, lat[i])
	}
	# a window of a few answers can report a spike of throughput: scale to
	# the 95th percentile so the plot stays readable
	m = 0
	for (i = 1; i <= n; i++) s[++m] = tp[i]
	for (i = 2; i <= m; i++) { v = s[i]; j = i - 1
		while (j >= 1 && s[j] > v) { s[j + 1] = s[j]; j-- } s[j + 1] = v }
	mt = s[int(0.95 * m) > 0 ? int(0.95 * m) : m] * 1.1
	for (i = 1; i <= n; i++) if (tp[i] > mt) tp[i] = mt
	printf "<svg xmlns='http://www.w3.org/2000/svg' width='840' height='520' font-family='sans-serif'>\n"
	printf "<rect width='840' height='520' fill='white'/>\n"
	printf "<text x='420' y='20' font-size='14' text-anchor='middle'>%s</text>\n", title
	panel(40, 130, "limit", "blue: limit, grey: most in flight", ml)
	line(40, 130, ml, fl, "#999", " stroke-dasharray='3,2'")
	line(40, 130, ml, lim, "#1f5fbf", "")
	panel(190, 130, "throughput", "answers/s", sprintf("%.0f", mt))
	line(190, 130, mt, tp, "#2a8f2a", "")
	panel(340, 130, "latency", "ms: mean, floor (dashed)", mlat)
	line(340, 130, mlat, flo, "#999", " stroke-dasharray='3,2'")
	line(340, 130, mlat, lat, "#b36b00", "")
	for (i = 1; i <= n; i++) if (dr[i] > 0) {
		x = 60 + 760 * (tmax > 0 ? t[i] / tmax : 0)
		printf "<line x1='%.1f' y1='40' x2='%.1f' y2='470' stroke='#d22' stroke-opacity='0.35'/>\n", x, x
	}
	printf "<text x='60' y='490' font-size='11'>0 s</text>\n"
	printf "<text x='820' y='490' font-size='11' text-anchor='end'>%.1f s</text>\n", tmax
	printf "<text x='440' y='510' font-size='11' text-anchor='middle'>time; red lines: windows with 429/5xx/time-outs (a cut)</text>\n"
	printf "</svg>\n"
}
