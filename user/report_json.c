// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "render_prom.h"
#include "report_json.h"

/* ---------------------------------------------------------------- the JSON document */

static void num(FILE *f, double v)
{
	if (isnan(v) || isinf(v))
		fputs("null", f);
	else if (v == 0)
		fputs("0", f); /* not "-0" */
	else
		fprintf(f, "%.15g", v);
}

static void hist_obj(FILE *f, const struct hist *h)
{
	unsigned int i;
	bool first = true;

	fprintf(f, "{\"count\":%" PRIu64 ",\"min_us\":%" PRIu64 ",\"p50_us\":%" PRIu64
		   ",\"p90_us\":%" PRIu64 ",\"p99_us\":%" PRIu64 ",\"max_us\":%" PRIu64
		   ",\"sum_us\":%" PRIu64 ",\"log2\":[",
		h->count, h->count ? h->min_us : 0, hist_quantile(h, 0.5), hist_quantile(h, 0.9),
		hist_quantile(h, 0.99), h->max_us, h->sum_us);
	for (i = 0; i < HIST_LOG2_SLOTS; i++) {
		uint64_t n = hist_log2_count(h, i);

		if (!n)
			continue;
		fprintf(f, "%s{\"from_us\":%" PRIu64 ",\"to_us\":%" PRIu64 ",\"count\":%" PRIu64 "}",
			first ? "" : ",", (uint64_t)(i ? 1ULL << i : 0),
			(uint64_t)(i < 63 ? (1ULL << (i + 1)) - 1 : UINT64_MAX), n);
		first = false;
	}
	fputs("]}", f);
}

static void write_command(FILE *f, const struct run_report *r)
{
	int i;

	fputs("\"command\":{\"argv\":[", f);
	for (i = 0; i < r->argc; i++) {
		if (i)
			fputc(',', f);
		json_string(f, r->argv[i]);
	}
	fputs("],\"exit_code\":", f);
	if (r->exit_code >= 0)
		fprintf(f, "%d", r->exit_code);
	else
		fputs("null", f);
	fputs(",\"signal\":", f);
	if (r->term_signal > 0)
		fprintf(f, "%d", r->term_signal);
	else
		fputs("null", f);
	fprintf(f, ",\"leftover_processes_killed\":%" PRIu64 "}", r->leftovers);
}

static void write_metrics(FILE *f, const struct run_report *r)
{
	unsigned int i;

	fputs("\"metrics\":{", f);
	for (i = 0; i < run_metric_count; i++) {
		fprintf(f, "%s\"%s\":{\"value\":", i ? "," : "", run_metrics[i].name);
		num(f, r->values->v[i]);
		fprintf(f, ",\"unit\":\"%s\"}", run_metrics[i].kind == RM_DURATION ? "us" : "count");
	}
	fputc('}', f);
}

static void write_summary(FILE *f, const struct run_report *r)
{
	const struct summary *s = r->sum;
	unsigned int i, j;
	uint64_t n;

	fputs(",\"handshake\":{", f);
	for (i = 0; i < 2; i++) {
		fprintf(f, "%s\"%s\":{\"latency\":", i ? "," : "", side_name(i));
		hist_obj(f, &s->handshake[i]);
		fprintf(f, ",\"retransmits\":%" PRIu64 ",\"estimated\":%" PRIu64 "}",
			s->handshake_retransmits[i], s->handshake_estimated[i]);
	}
	n = 0;
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		n += s->connect_fail[i];
	fprintf(f, "},\"connect_failures\":{\"total\":%" PRIu64, n);
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		fprintf(f, ",\"%s\":%" PRIu64, fail_reason_name(i), s->connect_fail[i]);
	fprintf(f, ",\"retransmits\":%" PRIu64 "}", s->connect_fail_retransmits);
	n = 0;
	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			n += s->closes[i][j];
	fprintf(f, ",\"closes\":{\"total\":%" PRIu64, n);
	for (i = 0; i < SYNFIN_INIT_MAX; i++) {
		fprintf(f, ",\"%s\":{", initiator_name(i));
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			fprintf(f, "%s\"%s\":%" PRIu64, j ? "," : "", how_name(j), s->closes[i][j]);
		fputc('}', f);
	}
	fprintf(f, ",\"partial\":%" PRIu64 "},\"lifetime\":", s->closes_partial);
	hist_obj(f, &s->lifetime);
	fputs(",\"close_wait\":{\"closed\":", f);
	hist_obj(f, &s->close_wait);
	fprintf(f, ",\"oldest_open_us\":%" PRIu64 "}", r->ri->close_wait_oldest_us);
	fprintf(f, ",\"time_wait\":{\"entries\":%" PRIu64 ",\"peak\":%" PRIu64 ",\"ended\":{",
		(uint64_t)run_metric_value(r->values, "time_wait.count"),
		s->tw_peak);
	for (i = 0; i < SYNFIN_TW_END_MAX; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", tw_end_name(i));
		hist_obj(f, &s->time_wait[i]);
	}
	fputc('}', f);
	if (r->tw) {
		fprintf(f, ",\"timeline\":{\"bin_ms\":%" PRIu64 ",\"peak\":[", r->tw->bin_ns / 1000000);
		for (i = 0; i < r->tw->used; i++)
			fprintf(f, "%s%" PRIu64, i ? "," : "", r->tw->peak[i]);
		fputs("],\"entered\":[", f);
		for (i = 0; i < r->tw->used; i++)
			fprintf(f, "%s%" PRIu64, i ? "," : "", r->tw->entered[i]);
		fputs("]}", f);
	}
	fputs("},\"events\":{", f);
	for (i = 1; i < SYNFIN_EV_TYPE_MAX; i++)
		fprintf(f, "\"%s\":%" PRIu64 ",", event_type_name(i), s->events[i]);
	fprintf(f, "\"lost\":%" PRIu64 ",\"untracked\":%" PRIu64 ",\"malformed\":%" PRIu64 "}",
		r->ri->lost, r->ri->untracked, s->malformed);
}

static void write_endpoints(FILE *f, const struct run_report *r)
{
	unsigned int idx[ENDPOINT_MAX], i, n = 0;
	char label[ADDR_STR_LEN + 16], addr[ADDR_STR_LEN];

	if (r->endpoints)
		n = endpoints_top(r->endpoints, idx, ENDPOINT_MAX);
	fputs(",\"endpoints\":[", f);
	for (i = 0; i < n; i++) {
		const struct endpoint *ep = &r->endpoints->ep[idx[i]];

		endpoint_label(label, sizeof(label), ep);
		format_addr(addr, sizeof(addr), ep->family, ep->addr);
		fprintf(f, "%s{\"side\":\"%s\",\"label\":", i ? "," : "", side_name(ep->side));
		json_string(f, label);
		fputs(",\"address\":", f);
		json_string(f, addr);
		fprintf(f, ",\"port\":%u,\"family\":%u,\"failures\":%" PRIu64 ",\"latency\":", ep->port,
			ep->family, ep->failures);
		hist_obj(f, &ep->hs);
		fputc('}', f);
	}
	fprintf(f, "],\"endpoints_folded\":%" PRIu64, r->endpoints ? r->endpoints->folded : 0);
}

static void write_assertions(FILE *f, const struct run_report *r)
{
	unsigned int i;

	fputs(",\"assertions\":[", f);
	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];
		const struct assert_result *res = &r->results[i];

		fprintf(f, "%s{\"expr\":", i ? "," : "");
		json_string(f, a->text);
		fprintf(f, ",\"metric\":\"%s\",\"op\":\"%s\",\"unit\":\"%s\",\"relative\":%s,\"measured\":",
			run_metrics[a->metric].name, assert_op_str(a->op),
			run_metrics[a->metric].kind == RM_DURATION ? "us" : "count",
			a->rel == REL_NONE ? "false" : "true");
		num(f, res->measured);
		fputs(",\"threshold\":", f);
		num(f, res->threshold);
		fprintf(f, ",\"passed\":%s}", res->passed ? "true" : "false");
	}
	fputc(']', f);
}

static void write_baseline(FILE *f, const struct run_report *r)
{
	unsigned int i;
	bool first = true;

	fputs(",\"baseline\":", f);
	if (!r->baseline) {
		fputs("null", f);
		return;
	}
	fputs("{\"path\":", f);
	json_string(f, r->baseline_path ? r->baseline_path : "");
	fputs(",\"deltas\":{", f);
	for (i = 0; i < run_metric_count; i++) {
		double b = r->baseline->v[i], v = r->values->v[i];

		if (!r->baseline_have[i])
			continue;
		fprintf(f, "%s\"%s\":{\"baseline\":", first ? "" : ",", run_metrics[i].name);
		num(f, b);
		fputs(",\"value\":", f);
		num(f, v);
		fputs(",\"delta\":", f);
		num(f, v - b);
		fputs(",\"delta_pct\":", f);
		num(f, b != 0 ? (v - b) / b * 100 : NAN);
		fputc('}', f);
		first = false;
	}
	fputs("}}", f);
}

int report_json_write(FILE *f, const struct run_report *r)
{
	char when[40];

	format_utc_ms(when, sizeof(when), r->started_unix_ms);
	fprintf(f, "{\"schema_version\":%d,\"tool\":{\"name\":\"synfin\",\"version\":",
		REPORT_SCHEMA_VERSION);
	json_string(f, r->version ? r->version : "");
	fprintf(f, ",\"record_abi\":%d},\"started_at\":\"%s\",\"duration_ms\":%" PRIu64 ",",
		SYNFIN_ABI_VERSION, when, r->ri->duration_ms);
	fprintf(f, "\"verdict\":\"%s\",\"exit_status\":%d,\"cgroup_id\":%" PRIu64 ",",
		report_verdict(r), r->exit_status, r->cgroup_id);
	write_command(f, r);
	fputc(',', f);
	write_metrics(f, r);
	write_summary(f, r);
	write_endpoints(f, r);
	write_assertions(f, r);
	write_baseline(f, r);
	fputs("}\n", f);
	fflush(f);
	return ferror(f) ? -EIO : 0;
}

/* ---------------------------------------------------------------- Prometheus */

static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int report_prom_write(FILE *f, const struct run_report *r)
{
	struct prom_opts o = { .format = PROM_TEXT, .version = r->version };
	unsigned int i;
	char v[40];
	int ret;

	ret = prom_write(f, r->sum, r->ri, &o);
	if (ret)
		return ret;
	prom_family(f, "synfin_run_time_wait_entries_total", "counter",
		    "Closes of the command's connections that left a TIME_WAIT socket.");
	fprintf(f, "synfin_run_time_wait_entries_total %.0f\n",
		run_metric_value(r->values, "time_wait.count"));
	prom_family(f, "synfin_run_time_wait_peak", "gauge",
		    "Most TIME_WAIT sockets of the command alive at once.");
	fprintf(f, "synfin_run_time_wait_peak %" PRIu64 "\n", r->sum->tw_peak);
	prom_family(f, "synfin_run_duration_seconds", "gauge", "How long synfin observed the command.");
	prom_float(v, sizeof(v), (double)r->ri->duration_ms / 1000, PROM_TEXT);
	fprintf(f, "synfin_run_duration_seconds %s\n", v);
	prom_family(f, "synfin_run_exit_status", "gauge",
		    "synfin run's exit status: 0 pass, 1 an assertion failed, else the command's.");
	fprintf(f, "synfin_run_exit_status %d\n", r->exit_status);
	prom_family(f, "synfin_run_assertions_failed", "gauge", "Assertions that did not hold.");
	fprintf(f, "synfin_run_assertions_failed %u\n", report_failures(r));
	if (r->nasserts) {
		prom_family(f, "synfin_run_assertion_passed", "gauge",
			    "1 when the assertion held, 0 when it failed.");
		for (i = 0; i < r->nasserts; i++) {
			fputs("synfin_run_assertion_passed{assertion=\"", f);
			prom_label_value(f, r->asserts[i].text);
			fprintf(f, "\"} %d\n", r->results[i].passed ? 1 : 0);
		}
	}
	fflush(f);
	return ferror(f) ? -EIO : 0;
}
