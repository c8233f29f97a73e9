// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "format.h"
#include "render_prom.h"
#include "render.h"
#include "report_json.h"

/* ---------------------------------------------------------------- the JSON document */

static const char *unit_name(unsigned int metric)
{
	return run_metrics[metric].kind == RM_DURATION ? "us" : "count";
}

static void write_command(struct jw *j, const struct run_report *r)
{
	int i;

	jw_object(j, "command");
	jw_array(j, "argv");
	for (i = 0; i < r->argc; i++)
		jw_str(j, NULL, r->argv[i]);
	jw_close(j);
	if (r->exit_code >= 0)
		jw_i64(j, "exit_code", r->exit_code);
	else
		jw_null(j, "exit_code");
	if (r->term_signal > 0)
		jw_i64(j, "signal", r->term_signal);
	else
		jw_null(j, "signal");
	jw_u64(j, "leftover_processes_killed", r->leftovers);
	jw_close(j);
}

static void write_metrics(struct jw *j, const struct run_report *r)
{
	unsigned int i;

	jw_object(j, "metrics");
	for (i = 0; i < run_metric_count; i++) {
		jw_object(j, run_metrics[i].name);
		jw_double(j, "value", r->values->v[i]);
		jw_str(j, "unit", unit_name(i));
		jw_close(j);
	}
	jw_close(j);
}

static void write_timeline(struct jw *j, const struct tw_timeline *t)
{
	unsigned int i;

	if (!t) {
		jw_null(j, "time_wait_timeline");
		return;
	}
	jw_object(j, "time_wait_timeline");
	jw_u64(j, "bin_ms", t->bin_ns / 1000000);
	jw_array(j, "peak");
	for (i = 0; i < t->used; i++)
		jw_u64(j, NULL, t->peak[i]);
	jw_close(j);
	jw_array(j, "entered");
	for (i = 0; i < t->used; i++)
		jw_u64(j, NULL, t->entered[i]);
	jw_close(j);
	jw_close(j);
}

static void write_endpoints(struct jw *j, const struct run_report *r)
{
	unsigned int idx[ENDPOINT_MAX], i, n = 0;
	char label[ADDR_STR_LEN + 16], addr[ADDR_STR_LEN];

	if (r->endpoints)
		n = endpoints_top(r->endpoints, idx, ENDPOINT_MAX);
	jw_array(j, "endpoints");
	for (i = 0; i < n; i++) {
		const struct endpoint *ep = &r->endpoints->ep[idx[i]];

		endpoint_label(label, sizeof(label), ep);
		format_addr(addr, sizeof(addr), ep->family, ep->addr);
		jw_object(j, NULL);
		jw_str(j, "side", side_name(ep->side));
		jw_str(j, "label", label);
		jw_str(j, "address", addr);
		jw_u64(j, "port", ep->port);
		jw_u64(j, "family", ep->family);
		jw_u64(j, "failures", ep->failures);
		json_hist(j, "latency", &ep->hs);
		jw_close(j);
	}
	jw_close(j);
	jw_u64(j, "endpoints_folded", r->endpoints ? r->endpoints->folded : 0);
}

static void write_assertions(struct jw *j, const struct run_report *r)
{
	unsigned int i;

	jw_array(j, "assertions");
	for (i = 0; i < r->nasserts; i++) {
		const struct assertion *a = &r->asserts[i];
		const struct assert_result *res = &r->results[i];

		jw_object(j, NULL);
		jw_str(j, "expr", a->text);
		jw_str(j, "metric", run_metrics[a->metric].name);
		jw_str(j, "op", assert_op_str(a->op));
		jw_str(j, "unit", unit_name(a->metric));
		jw_bool(j, "relative", a->rel != REL_NONE);
		jw_double(j, "measured", res->measured);
		jw_double(j, "threshold", res->threshold);
		jw_bool(j, "passed", res->passed);
		jw_close(j);
	}
	jw_close(j);
}

static void write_baseline(struct jw *j, const struct run_report *r)
{
	unsigned int i;

	if (!r->baseline) {
		jw_null(j, "baseline");
		return;
	}
	jw_object(j, "baseline");
	jw_str(j, "path", r->baseline_path ? r->baseline_path : "");
	jw_object(j, "deltas");
	for (i = 0; i < run_metric_count; i++) {
		double b = r->baseline->v[i], v = r->values->v[i];

		if (!r->baseline_have[i])
			continue;
		jw_object(j, run_metrics[i].name);
		jw_double(j, "baseline", b);
		jw_double(j, "value", v);
		jw_double(j, "delta", v - b);
		jw_double(j, "delta_pct", b != 0 ? (v - b) / b * 100 : NAN);
		jw_close(j);
	}
	jw_close(j);
	jw_close(j);
}

int report_json_write(FILE *f, const struct run_report *r)
{
	char when[40];
	struct jw j;
	int ret;

	format_utc_ms(when, sizeof(when), r->started_unix_ms);
	jw_init(&j, f);
	jw_object(&j, NULL);
	jw_u64(&j, "schema_version", JSON_SCHEMA_VERSION);
	jw_object(&j, "tool");
	jw_str(&j, "name", "synfin");
	jw_str(&j, "version", r->version ? r->version : "");
	jw_u64(&j, "record_abi", SYNFIN_ABI_VERSION);
	jw_close(&j);
	jw_str(&j, "started_at", when);
	jw_str(&j, "verdict", report_verdict(r));
	jw_i64(&j, "exit_status", r->exit_status);
	jw_u64(&j, "cgroup_id", r->cgroup_id);
	write_command(&j, r);
	write_metrics(&j, r);
	jw_object(&j, "summary");
	json_summary_members(&j, r->sum, r->ri);
	jw_close(&j);
	write_timeline(&j, r->tw);
	write_endpoints(&j, r);
	write_assertions(&j, r);
	write_baseline(&j, r);
	jw_close(&j);
	ret = jw_end_line(&j);
	if (fflush(f) || ferror(f))
		ret = -EIO;
	return ret;
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
