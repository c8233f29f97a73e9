// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include "format.h"
#include "report_html.h"

#define CHART_W 540
#define CHART_H 220
#define PAD_L 52
#define PAD_R 12
#define PAD_T 28
#define PAD_B 40

void html_text(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A round axis maximum >= v: 1, 2, 5 x 10^k. */
static uint64_t nice_max(uint64_t v)
{
	uint64_t m = 1;

	while (m < v) {
		if (m * 2 >= v)
			return m * 2;
		if (m * 5 >= v)
			return m * 5;
		m *= 10;
	}
	return m;
}

static void svg_open(FILE *f, const char *title, const char *id)
{
	fprintf(f, "<svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		   "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		id, CHART_W, CHART_H, CHART_W, CHART_H);
	html_text(f, title);
	fputs("\">\n<title>", f);
	html_text(f, title);
	fprintf(f, "</title>\n<text x=\"%d\" y=\"18\" class=\"ct\">", PAD_L);
	html_text(f, title);
	fputs("</text>\n", f);
}

/* Y axis with 4 grid lines up to ymax, and the x axis line. */
static void svg_axes(FILE *f, uint64_t ymax)
{
	int plot_h = CHART_H - PAD_T - PAD_B, i;

	for (i = 0; i <= 4; i++) {
		double y = PAD_T + plot_h - plot_h * i / 4.0;

		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
			   "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%.4g</text>\n",
			PAD_L, CHART_W - PAD_R, y, y, PAD_L - 6, y + 4, (double)ymax * i / 4);
	}
	fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" class=\"axis\"/>\n", PAD_L,
		CHART_W - PAD_R, CHART_H - PAD_B, CHART_H - PAD_B);
}

/* Bars of a log2 histogram, from its first to its last non-empty slot. */
static void svg_hist(FILE *f, const struct hist *h, const char *title, const char *id,
		     const char *cls)
{
	unsigned int i, first = HIST_LOG2_SLOTS, last = 0, n, every;
	int plot_w = CHART_W - PAD_L - PAD_R, plot_h = CHART_H - PAD_T - PAD_B;
	uint64_t peak = 0, ymax, c;
	double bw;

	svg_open(f, title, id);
	for (i = 0; i < HIST_LOG2_SLOTS; i++) {
		c = hist_log2_count(h, i);
		if (!c)
			continue;
		first = i < first ? i : first;
		last = i;
		peak = c > peak ? c : peak;
	}
	if (!peak) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"empty\">no data</text>\n</svg>\n",
			CHART_W / 2, CHART_H / 2);
		return;
	}
	/* at least 8 bars wide, so one bucket does not fill the chart */
	while (last - first + 1 < 8 && last + 1 < HIST_LOG2_SLOTS)
		last++;
	n = last - first + 1;
	ymax = nice_max(peak);
	svg_axes(f, ymax);
	bw = (double)plot_w / n;
	every = n > 12 ? (n + 11) / 12 : 1;
	for (i = 0; i < n; i++) {
		unsigned int slot = first + i;
		uint64_t lo = slot ? 1ULL << slot : 0;
		double bh, x = PAD_L + bw * i;
		char lbl[24];

		c = hist_log2_count(h, slot);
		bh = (double)plot_h * (double)c / (double)ymax;
		format_duration_us(lbl, sizeof(lbl), lo);
		if (c)
			fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				   "<title>%s and up: %" PRIu64 "</title></rect>\n",
				cls, x + 1, PAD_T + plot_h - bh, bw > 3 ? bw - 2 : bw, bh, lbl, c);
		if (i % every == 0)
			fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\">%s</text>\n", x + bw / 2,
				CHART_H - PAD_B + 14, lbl);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"xt\">latency bucket (lower bound), count of connections</text>\n</svg>\n",
		CHART_W / 2, CHART_H - 6);
}

/* TIME_WAIT sockets alive over the run (area) and entries per bin (bars). */
static void svg_tw_timeline(FILE *f, const struct tw_timeline *t)
{
	int plot_w = CHART_W - PAD_L - PAD_R, plot_h = CHART_H - PAD_T - PAD_B;
	uint64_t peak = 0, ymax;
	unsigned int i, n = t->used ? t->used : 1;
	double bw = (double)plot_w / n, secs = (double)t->bin_ns * n / 1e9;

	svg_open(f, "TIME_WAIT sockets over the run (alive at once; bars: entries)", "tw-timeline");
	for (i = 0; i < t->used; i++) {
		peak = t->peak[i] > peak ? t->peak[i] : peak;
		peak = t->entered[i] > peak ? t->entered[i] : peak;
	}
	if (!peak) {
		fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"empty\">no TIME_WAIT entries</text>\n</svg>\n",
			CHART_W / 2, CHART_H / 2);
		return;
	}
	ymax = nice_max(peak);
	svg_axes(f, ymax);
	for (i = 0; i < t->used; i++) {
		double bh = (double)plot_h * (double)t->entered[i] / (double)ymax;

		if (t->entered[i])
			fprintf(f, "<rect class=\"twe\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
				PAD_L + bw * i, PAD_T + plot_h - bh, bw > 2 ? bw - 1 : bw, bh);
	}
	fprintf(f, "<path class=\"twl\" d=\"M%d %d", PAD_L, PAD_T + plot_h);
	for (i = 0; i < t->used; i++) {
		double y = PAD_T + plot_h - (double)plot_h * (double)t->peak[i] / (double)ymax;

		fprintf(f, " L%.1f %.1f L%.1f %.1f", PAD_L + bw * i, y, PAD_L + bw * (i + 1), y);
	}
	fprintf(f, " L%.1f %d Z\"/>\n", PAD_L + bw * t->used, PAD_T + plot_h);
	for (i = 0; i <= 4; i++) {
		char lbl[24];

		format_duration_us(lbl, sizeof(lbl), (uint64_t)(secs * 1e6 * i / 4));
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" class=\"xl\"%s>%s</text>\n",
			PAD_L + plot_w * i / 4.0, CHART_H - PAD_B + 14,
			i == 4 ? " style=\"text-anchor:end\"" : "", lbl);
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"xt\">time since start (bins of %" PRIu64 " ms)</text>\n</svg>\n",
		CHART_W / 2, CHART_H - 6, t->bin_ns / 1000000);
}

static const char css[] =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1d2330;max-width:1180px}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde}"
	"table{border-collapse:collapse;margin:4px 0}td,th{padding:3px 10px;border-bottom:1px solid #eef;text-align:left}"
	"th{background:#f4f5fa}td.n{text-align:right;font-variant-numeric:tabular-nums}"
	"code{background:#f4f5fa;padding:1px 4px;border-radius:3px}"
	".badge{display:inline-block;padding:2px 10px;border-radius:10px;color:#fff;font-weight:600}"
	".pass{background:#1a7f37}.fail{background:#cf222e}.ok{color:#1a7f37;font-weight:600}"
	".bad{color:#cf222e;font-weight:600}.charts{display:flex;flex-wrap:wrap;gap:16px}"
	".chart{border:1px solid #dde;border-radius:4px;background:#fff}"
	".ct{font-size:13px;font-weight:600;fill:#1d2330}.yl{font-size:10px;text-anchor:end;fill:#555}"
	".xl{font-size:10px;text-anchor:middle;fill:#555}.xt{font-size:11px;text-anchor:middle;fill:#555}"
	".grid{stroke:#eee}.axis{stroke:#888}.empty{font-size:13px;text-anchor:middle;fill:#999}"
	".hc{fill:#3b6fd4}.hs{fill:#d9822b}.tw{fill:#8250df}.twe{fill:#c9b6f0}"
	".twl{fill:#8250df;fill-opacity:.35;stroke:#8250df;stroke-width:1.5}"
	".bar{display:inline-block;height:9px;background:#3b6fd4;border-radius:2px}"
	".note{color:#666;font-size:12px}";

static void write_header(FILE *f, const struct run_report *r)
{
	unsigned int fails = report_failures(r);
	char when[40], dur[24];
	int i;

	format_utc_ms(when, sizeof(when), r->started_unix_ms);
	format_duration_us(dur, sizeof(dur), r->ri->duration_ms * 1000);
	fprintf(f, "<h1>synfin run report <span class=\"badge %s\" id=\"verdict\">%s</span></h1>\n",
		!strcmp(report_verdict(r), "pass") ? "pass" : "fail", report_verdict(r));
	fputs("<p><code>", f);
	for (i = 0; i < r->argc; i++) {
		if (i)
			fputc(' ', f);
		html_text(f, r->argv[i]);
	}
	fprintf(f, "</code></p>\n<p>started %s, observed %s; ", when, dur);
	if (r->term_signal > 0)
		fprintf(f, "the command was killed by signal %d", r->term_signal);
	else
		fprintf(f, "the command exited with %d", r->exit_code);
	fprintf(f, "; %u of %u assertions failed; synfin exit status %d", fails, r->nasserts,
		r->exit_status);
	if (r->leftovers)
		fprintf(f, "; %" PRIu64 " leftover processes killed", r->leftovers);
	fputs(".</p>\n", f);
	if (r->ri->lost)
		fprintf(f, "<p class=\"bad\">%" PRIu64 " events were lost (ring buffer full): the counts below are low.</p>\n",
			r->ri->lost);
}

static void write_assertions(FILE *f, const struct run_report *r)
{
	char m[32], t[32];
	unsigned int i;

	fputs("<h2>Assertions</h2>\n", f);
	if (!r->nasserts) {
		fputs("<p class=\"note\">none (add <code>--assert 'METRIC OP VALUE'</code>)</p>\n", f);
		return;
	}
	fputs("<table id=\"assertions\"><tr><th>result</th><th>assertion</th><th>measured</th><th>threshold</th></tr>\n", f);
	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];
		const struct assert_result *res = &r->results[i];

		run_metric_format(m, sizeof(m), a->metric, res->measured);
		run_metric_format(t, sizeof(t), a->metric, res->threshold);
		fprintf(f, "<tr><td class=\"%s\">%s</td><td><code>", res->passed ? "ok" : "bad",
			res->passed ? "ok" : "FAILED");
		html_text(f, a->text);
		fprintf(f, "</code></td><td class=\"n\">%s</td><td class=\"n\">%s</td></tr>\n", m, t);
	}
	fputs("</table>\n", f);
}

static void write_metrics(FILE *f, const struct run_report *r)
{
	char v[32], b[32], d[32];
	unsigned int i;

	fputs("<h2>Metrics</h2>\n<table id=\"metrics\"><tr><th>metric</th><th>value</th>", f);
	if (r->baseline)
		fputs("<th>baseline</th><th>change</th>", f);
	fputs("<th>meaning</th></tr>\n", f);
	for (i = 0; i < run_metric_count(); i++) {
		run_metric_format(v, sizeof(v), i, r->values->v[i]);
		fprintf(f, "<tr><td><code>%s</code></td><td class=\"n\">%s</td>", run_metric(i)->name, v);
		if (r->baseline && r->baseline_have[i]) {
			double base = r->baseline->v[i], delta = r->values->v[i] - base;

			run_metric_format(b, sizeof(b), i, base);
			if (base != 0)
				snprintf(d, sizeof(d), "%+.1f%%", delta / base * 100);
			else
				snprintf(d, sizeof(d), delta ? "new" : "=");
			fprintf(f, "<td class=\"n\">%s</td><td class=\"n\">%s</td>", b, d);
		} else if (r->baseline) {
			fputs("<td class=\"n\">-</td><td class=\"n\">-</td>", f);
		}
		fputs("<td class=\"note\">", f);
		html_text(f, run_metric(i)->help);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void write_endpoints(FILE *f, const struct run_report *r)
{
	unsigned int idx[HTML_TOP_ENDPOINTS], i, n;
	char label[ADDR_STR_LEN + 16], q[4][24];
	uint64_t top;

	fputs("<h2>Top remote endpoints by handshake latency (p99)</h2>\n", f);
	n = r->endpoints ? endpoints_top(r->endpoints, idx, HTML_TOP_ENDPOINTS) : 0;
	if (!n) {
		fputs("<p class=\"note\">no connections</p>\n", f);
		return;
	}
	top = hist_quantile(&r->endpoints->ep[idx[0]].hs, 0.99);
	fputs("<table id=\"endpoints\"><tr><th>side</th><th>endpoint</th><th>handshakes</th><th>failed</th>"
	      "<th>p50</th><th>p90</th><th>p99</th><th>max</th><th></th></tr>\n", f);
	for (i = 0; i < n; i++) {
		const struct endpoint *ep = &r->endpoints->ep[idx[i]];
		uint64_t p99 = hist_quantile(&ep->hs, 0.99);

		endpoint_label(label, sizeof(label), ep);
		format_duration_us(q[0], sizeof(q[0]), hist_quantile(&ep->hs, 0.5));
		format_duration_us(q[1], sizeof(q[1]), hist_quantile(&ep->hs, 0.9));
		format_duration_us(q[2], sizeof(q[2]), p99);
		format_duration_us(q[3], sizeof(q[3]), ep->hs.max_us);
		fprintf(f, "<tr><td>%s</td><td><code>", side_name(ep->side));
		html_text(f, label);
		fprintf(f, "</code></td><td class=\"n\">%" PRIu64 "</td><td class=\"n\">%" PRIu64
			   "</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td>"
			   "<td class=\"n\">%s</td><td><span class=\"bar\" style=\"width:%.0fpx\"></span></td></tr>\n",
			ep->hs.count, ep->failures, q[0], q[1], q[2], q[3],
			top ? 1 + 159.0 * (double)p99 / (double)top : 1);
	}
	fputs("</table>\n", f);
	if (r->endpoints->folded)
		fprintf(f, "<p class=\"note\">%" PRIu64 " connections to further endpoints are not listed (table full).</p>\n",
			r->endpoints->folded);
}

int report_html_write(FILE *f, const struct run_report *r)
{
	const struct summary *s = r->sum;
	struct hist tw_all;
	char title[192], q[3][24];
	unsigned int i;

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\">\n<title>synfin run: ", f);
	html_text(f, report_verdict(r));
	fprintf(f, "</title>\n<style>%s</style></head><body>\n", css);
	write_header(f, r);
	write_assertions(f, r);

	fputs("<h2>Handshake latency</h2>\n<div class=\"charts\">\n", f);
	for (i = 0; i < 2; i++) {
		const struct hist *h = &s->handshake[i];

		format_duration_us(q[0], sizeof(q[0]), hist_quantile(h, 0.5));
		format_duration_us(q[1], sizeof(q[1]), hist_quantile(h, 0.99));
		format_duration_us(q[2], sizeof(q[2]), h->max_us);
		snprintf(title, sizeof(title), "%s: %" PRIu64 " handshakes, p50 %s, p99 %s, max %s",
			 side_name(i), h->count, q[0], q[1], q[2]);
		svg_hist(f, h, title, i ? "hs-server" : "hs-client", i ? "hs" : "hc");
	}
	fputs("</div>\n<h2>TIME_WAIT</h2>\n", f);
	fprintf(f, "<p>%" PRIu64 " entries, at most %" PRIu64 " alive at once.</p>\n<div class=\"charts\">\n",
		s->tw_entries, s->tw_peak);
	if (r->tw)
		svg_tw_timeline(f, r->tw);
	memset(&tw_all, 0, sizeof(tw_all));
	for (i = 0; i < SYNFIN_TW_END_MAX; i++)
		hist_merge(&tw_all, &s->time_wait[i]);
	snprintf(title, sizeof(title), "TIME_WAIT durations, ended during the run: %" PRIu64,
		 tw_all.count);
	svg_hist(f, &tw_all, title, "tw-durations", "tw");
	fputs("</div>\n<p class=\"note\">A TIME_WAIT socket lasts 60 s and outlives the command; "
	      "durations cover only those reused or killed while synfin watched.</p>\n", f);
	write_endpoints(f, r);
	write_metrics(f, r);
	fputs("<p class=\"note\">Generated by synfin ", f);
	html_text(f, r->version);
	fputs(".</p>\n</body></html>\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
