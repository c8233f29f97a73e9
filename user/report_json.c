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
	return run_metric_is_duration(metric) ? "us" : "count";
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
	for (i = 0; i < run_metric_count(); i++) {
		jw_object(j, run_metric(i)->name);
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
		jw_str(j, "metric", run_metric(a->metric)->name);
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
	for (i = 0; i < run_metric_count(); i++) {
		double b = r->baseline->v[i], v = r->values->v[i];

		if (!r->baseline_have[i])
			continue;
		jw_object(j, run_metric(i)->name);
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

int report_prom_write(FILE *f, const struct run_report *r)
{
	struct metric_src src = { .sum = r->sum, .ri = r->ri, .run = r, .version = r->version };

	return prom_write(f, &src, PROM_TEXT);
}
