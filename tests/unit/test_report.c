// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "baseline.h"
#include "report_html.h"
#include "render.h"
#include "report_json.h"
#include "synfin/conn_fsm.h"

struct fixture {
	struct summary sum;
	struct session_info ri;
	struct run_values values;
	struct endpoint_table endpoints;
	struct tw_timeline tw;
	struct assertion asserts[2];
	struct assert_result results[2];
	struct run_report rep;
	char *argv[3];
};

static struct synfin_event event(uint8_t type, uint8_t side, uint64_t ts_ms)
{
	struct synfin_event e;

	memset(&e, 0, sizeof(e));
	e.type = type;
	e.side = side;
	e.ts_ns = ts_ms * 1000000;
	e.id.family = 4;
	e.id.raddr[0] = 10;
	e.id.raddr[3] = side == SYNFIN_SIDE_CLIENT ? 1 : 2;
	e.id.lport = side == SYNFIN_SIDE_CLIENT ? 40000 : 8080;
	e.id.rport = side == SYNFIN_SIDE_CLIENT ? 443 : 50000;
	return e;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct synfin_event e;
	char err[128];
	int i;

	if (!fx)
		return -1;
	tw_timeline_init(&fx->tw, 0);
	for (i = 0; i < 50; i++) {
		e = event(SYNFIN_EV_HANDSHAKE, SYNFIN_SIDE_CLIENT, (uint64_t)i);
		e.hs.latency_us = 100 + (uint64_t)i;
		summary_add(&fx->sum, &e);
		endpoints_add(&fx->endpoints, &e);
		e = event(SYNFIN_EV_HANDSHAKE, SYNFIN_SIDE_SERVER, (uint64_t)i);
		e.hs.latency_us = 20;
		summary_add(&fx->sum, &e);
		endpoints_add(&fx->endpoints, &e);
		e = event(SYNFIN_EV_CLOSE, SYNFIN_SIDE_CLIENT, (uint64_t)i + 1);
		e.close.initiator = SYNFIN_INIT_LOCAL;
		e.close.tw_handover = 1;
		e.close.lifetime_us = 1000;
		summary_add(&fx->sum, &e);
		tw_timeline_add(&fx->tw, &e);
	}
	e = event(SYNFIN_EV_CONNECT_FAIL, SYNFIN_SIDE_CLIENT, 60);
	e.reason = SYNFIN_FAIL_REFUSED;
	e.id.raddr[3] = 9;
	summary_add(&fx->sum, &e);
	endpoints_add(&fx->endpoints, &e);
	tw_timeline_end(&fx->tw, 100 * 1000000ULL);
	fx->ri.duration_ms = 100;
	run_values_compute(&fx->values, &fx->sum, &fx->ri);
	assert_int_equal(assert_parse("handshake.client.count == 50", &fx->asserts[0], err, sizeof(err)), 0);
	assert_int_equal(assert_parse("handshake.server.p99 < 10us", &fx->asserts[1], err, sizeof(err)), 0);
	for (i = 0; i < 2; i++)
		assert_eval(&fx->asserts[i], &fx->values, NAN, &fx->results[i]);
	fx->argv[0] = "curl";
	fx->argv[1] = "-s \"<x>\"";
	fx->rep = (struct run_report){
		.sum = &fx->sum, .ri = &fx->ri, .values = &fx->values, .endpoints = &fx->endpoints,
		.tw = &fx->tw, .asserts = fx->asserts, .results = fx->results, .nasserts = 2,
		.argv = fx->argv, .argc = 2, .exit_code = 0, .exit_status = 1, .cgroup_id = 77,
		.started_unix_ms = 1700000000123LL, .version = "test",
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Runs a writer into a memory buffer (the caller frees it). */
static char *render(int (*fn)(FILE *, const struct run_report *), const struct run_report *r,
		    size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(fn(f, r), 0);
	fclose(f);
	return buf;
}

static void test_results(void **state)
{
	struct fixture *fx = *state;

	assert_true(fx->results[0].passed);
	assert_false(fx->results[1].passed);
	assert_int_equal(report_failures(&fx->rep), 1);
	assert_string_equal(report_verdict(&fx->rep), "assertion_failed");
	fx->rep.exit_code = 3;
	assert_string_equal(report_verdict(&fx->rep), "command_failed");
	fx->rep.exit_code = 0;
	/* lost events make every count low: the run fails unless the user allowed that many */
	fx->ri.lost = 3;
	assert_string_equal(report_verdict(&fx->rep), "events_lost");
	fx->rep.lost_allowed = 3;
	assert_string_equal(report_verdict(&fx->rep), "assertion_failed");
	fx->rep.lost_allowed = 0;
	fx->ri.lost = 0;
}

static void test_json_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct baseline b;
	char err[128];
	unsigned int i;
	size_t len;
	char *json = render(report_json_write, &fx->rep, &len);

	assert_non_null(strstr(json, "{\"schema_version\":2,"));
	assert_non_null(strstr(json, "\"argv\":[\"curl\",\"-s \\\"<x>\\\"\"]"));
	assert_non_null(strstr(json, "\"started_at\":\"2023-11-14T22:13:20.123Z\""));
	assert_non_null(strstr(json, "\"verdict\":\"assertion_failed\""));
	assert_int_equal(baseline_parse(json, len, &b, err, sizeof(err)), 0);
	for (i = 0; i < run_metric_count(); i++) {
		/* a figure with no value (a quantile of nothing) is written null and read as absent */
		if (isnan(fx->values.v[i])) {
			assert_false(b.have[i]);
			continue;
		}
		assert_true(b.have[i]);
		assert_true(b.v.v[i] == fx->values.v[i]);
	}
	assert_true(run_metric_value(&b.v, "time_wait.count") == 50);
	assert_true(run_metric_value(&b.v, "connect_failures.refused") == 1);
	free(json);
}

/* The object of the member that starts at key (balanced braces; no braces in the strings). */
static char *object_at(const char *json, const char *key)
{
	const char *p = strstr(json, key), *q;
	int depth = 0;

	assert_non_null(p);
	p += strlen(key);
	for (q = p; *q; q++) {
		depth += *q == '{';
		depth -= *q == '}';
		if (!depth)
			break;
	}
	assert_int_equal(*q, '}');
	return strndup(p, (size_t)(q - p + 1));
}

/* watch's summary line and the report's "summary" are one shape: the same text. */
static void test_summary_one_shape(void **state)
{
	struct fixture *fx = *state;
	char *watch = NULL, *report, *in_report;
	size_t len = 0;
	FILE *f = open_memstream(&watch, &len);
	const char prefix[] = "{\"type\":\"summary\",\"schema_version\":2,";

	fx->ri.close_wait_oldest_us = 1234;
	fx->ri.gauges[SYNFIN_TCP_TIME_WAIT] = 50;
	json_summary(f, &fx->sum, &fx->ri);
	fclose(f);
	report = render(report_json_write, &fx->rep, &len);
	in_report = object_at(report, "\"summary\":");
	assert_memory_equal(watch, prefix, sizeof(prefix) - 1);
	assert_int_equal(strlen(watch), sizeof(prefix) - 1 + strlen(in_report));
	assert_memory_equal(watch + sizeof(prefix) - 1, in_report + 1, strlen(in_report) - 1);
	assert_non_null(strstr(in_report, "\"connect_failures\":{\"total\":1,\"other\":0,\"refused\":1,"));
	assert_non_null(strstr(in_report, "\"closes\":{\"total\":50,\"unknown\":{\"fin\":0,\"rst\":0},"
					  "\"local\":{\"fin\":50,\"rst\":0},"));
	assert_non_null(strstr(in_report, "\"time_wait\":{\"entries\":50,\"peak\":50,\"ended\":{"));
	assert_non_null(strstr(in_report, "\"oldest_open_us\":1234}"));
	assert_non_null(strstr(in_report, "\"time_wait\":50,"));
	free(in_report);
	free(report);
	free(watch);
}

static void test_baseline_compare(void **state)
{
	struct fixture *fx = *state;
	struct run_values now = fx->values;
	struct assert_result r;
	struct assertion a;
	struct baseline b;
	double delta, pct;
	char err[128];
	size_t len;
	char *json = render(report_json_write, &fx->rep, &len);
	int m = run_metric_find("handshake.client.count", strlen("handshake.client.count"));

	assert_int_equal(baseline_parse(json, len, &b, err, sizeof(err)), 0);
	free(json);
	now.v[m] = 60;
	assert_int_equal(baseline_delta(&b, (unsigned int)m, now.v[m], &delta, &pct), 0);
	assert_true(delta == 10);
	assert_true(fabs(pct - 20) < 1e-9);
	assert_int_equal(assert_parse("handshake.client.count <= baseline * 1.2", &a, err, sizeof(err)), 0);
	assert_eval(&a, &now, b.v.v[a.metric], &r);
	assert_true(r.passed);
	assert_int_equal(assert_parse("handshake.client.count < baseline + 5", &a, err, sizeof(err)), 0);
	assert_eval(&a, &now, b.v.v[a.metric], &r);
	assert_false(r.passed);
	assert_true(r.threshold == 55);
	/* a zero baseline: no percentage */
	m = run_metric_find("connect_failures.timeout", strlen("connect_failures.timeout"));
	assert_int_equal(baseline_delta(&b, (unsigned int)m, 2, &delta, &pct), 0);
	assert_true(isnan(pct));
	/* a metric the baseline lacks */
	b.have[m] = false;
	assert_int_equal(baseline_delta(&b, (unsigned int)m, 2, &delta, &pct), -ENOENT);
}

static void test_baseline_errors(void **state)
{
	static const struct { const char *text; const char *needle; } cases[] = {
		{ "", "line 1: '[' or '{' expected" },
		{ "[1]", "expected a JSON object" },
		{ "{\"schema_version\":3,\"metrics\":{}}", "schema_version 3 is not supported" },
		{ "{\"schema_version\":0,\"metrics\":{}}", "schema_version 0 is not supported" },
		{ "{\"schema_version\":1.5,\"metrics\":{}}", "schema_version 1.5 is not supported" },
		{ "{\"metrics\":{}}", "no \"schema_version\"" },
		{ "{\"schema_version\":1}", "no \"metrics\" object" },
		{ "{\"schema_version\":1,\"metrics\":[]}", "no \"metrics\" object" },
		{ "{\"schema_version\":1,\"metrics\":{}", "'}' expected" },
		{ "{\"schema_version\":1,\"metrics\":{}} x", "end of file expected" },
		{ "{\"schema_version\":1,\"x\":01,\"metrics\":{}}", "invalid token" },
		{ "{\"schema_version\":1,\"metrics\":{\"a\":1,}}", "string or '}' expected" },
		{ "{\"schema_version\":1,\n\"metrics\":{\"a\":\"\\x\"}}", "line 2: invalid escape" },
		{ "{\"schema_version\":1,\"metrics\":[tru]}", "invalid token" },
		{ "{\"schema_version\":1,\"metrics\":{\"a\":\"abc", "premature end of input" },
		{ "{\"schema_version\":1,\"metrics\":{},\"metrics\":{}}", "duplicate object key" },
		{ "{\"schema_version\":1,\"s\":\"\xff\",\"metrics\":{}}", "unable to decode byte 0xff" },
		{ "{\"schema_version\":1,\"s\":\"\\u0000\",\"metrics\":{}}", "\\u0000 is not allowed" },
	};
	struct baseline b;
	char err[128], *deep;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(baseline_parse(cases[i].text, strlen(cases[i].text), &b, err, sizeof(err)),
				 -EINVAL);
		if (!strstr(err, cases[i].needle))
			fail_msg("'%s': error '%s' lacks '%s'", cases[i].text, err, cases[i].needle);
	}
	/* nesting is bounded, and so is the size */
	deep = malloc(BASELINE_MAX_BYTES + 1);
	assert_non_null(deep);
	memset(deep, '[', BASELINE_MAX_BYTES + 1);
	assert_int_equal(baseline_parse(deep, 3000, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "maximum parsing depth"));
	assert_int_equal(baseline_parse(deep, BASELINE_MAX_BYTES + 1, &b, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "larger than 1024 KiB"));
	free(deep);
	/* a newer report's unknown metrics and fields are ignored, null values not had */
	{
		const char *t = "{\"schema_version\":1,\"extra\":[{\"value\":3}],\"metrics\":{"
				"\"closes\":{\"value\":4.5e1,\"unit\":\"count\"},\"future.metric\":{\"value\":1},"
				"\"handshake.p99\":{\"value\":null},\"time_wait.peak\":{\"value\":-0.5E-1}}}";

		assert_int_equal(baseline_parse(t, strlen(t), &b, err, sizeof(err)), 0);
		assert_int_equal(b.count, 2);
		assert_true(run_metric_value(&b.v, "closes") == 45);
		assert_true(run_metric_value(&b.v, "time_wait.peak") == -0.05);
		assert_false(b.have[run_metric_find("handshake.p99", 13)]);
	}
}

static void test_endpoints(void **state)
{
	struct fixture *fx = *state;
	unsigned int idx[8], n;
	char label[64];

	assert_int_equal(fx->endpoints.n, 3);
	n = endpoints_top(&fx->endpoints, idx, 8);
	assert_int_equal(n, 3);
	/* slowest p99 first: the client endpoint (100..149 us), then the server one (20 us) */
	endpoint_label(label, sizeof(label), &fx->endpoints.ep[idx[0]]);
	assert_string_equal(label, "10.0.0.1:443");
	assert_int_equal(fx->endpoints.ep[idx[0]].hs.count, 50);
	endpoint_label(label, sizeof(label), &fx->endpoints.ep[idx[1]]);
	assert_string_equal(label, "10.0.0.2 -> :8080");
	endpoint_label(label, sizeof(label), &fx->endpoints.ep[idx[2]]);
	assert_string_equal(label, "10.0.0.9:443");
	assert_int_equal(fx->endpoints.ep[idx[2]].failures, 1);
}

static void test_endpoints_fold(void **state)
{
	struct endpoint_table *t = calloc(1, sizeof(*t));
	struct synfin_event e = event(SYNFIN_EV_HANDSHAKE, SYNFIN_SIDE_CLIENT, 0);
	unsigned int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < ENDPOINT_MAX + 10; i++) {
		e.id.rport = (uint16_t)(1000 + i);
		endpoints_add(t, &e);
	}
	assert_int_equal(t->n, ENDPOINT_MAX);
	assert_int_equal(t->folded, 10);
	free(t);
}

static void test_tw_timeline(void **state)
{
	struct fixture *fx = *state;
	struct tw_timeline *t = calloc(1, sizeof(*t));
	struct synfin_event e;
	uint64_t peak = 0, entered = 0;
	unsigned int i;

	(void)state;
	/* the fixture: one entry per ms for 50 ms, never ended: 10 ms bins */
	assert_int_equal(fx->sum.tw_entries, 50);
	assert_int_equal(fx->tw.bin_ns, TW_BIN_NS_MIN);
	assert_int_equal(fx->tw.used, 11);
	assert_int_equal(fx->tw.peak[10], 50);
	/* a long run widens the bins, keeping peaks and entry totals */
	assert_non_null(t);
	tw_timeline_init(t, 0);
	for (i = 0; i < 1000; i++) {
		e = event(SYNFIN_EV_CLOSE, SYNFIN_SIDE_CLIENT, (uint64_t)i * 10);
		e.close.tw_handover = 1;
		tw_timeline_add(t, &e);
		if (i % 2) {
			e = event(SYNFIN_EV_TIME_WAIT, SYNFIN_SIDE_CLIENT, (uint64_t)i * 10 + 5);
			tw_timeline_add(t, &e);
		}
	}
	assert_int_equal(t->live, 500);
	assert_true(t->bin_ns > TW_BIN_NS_MIN);
	assert_true(t->used <= TW_BINS);
	for (i = 0; i < t->used; i++) {
		peak = t->peak[i] > peak ? t->peak[i] : peak;
		entered += t->entered[i];
	}
	assert_int_equal(peak, 501); /* the last close, just before its TIME_WAIT ended */
	assert_int_equal(entered, 1000);
	free(t);
}

static void test_html(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *html = render(report_html_write, &fx->rep, &len);

	assert_non_null(strstr(html, "<!DOCTYPE html>"));
	assert_non_null(strstr(html, "<svg id=\"hs-client\""));
	assert_non_null(strstr(html, "<svg id=\"hs-server\""));
	assert_non_null(strstr(html, "<svg id=\"tw-timeline\""));
	assert_non_null(strstr(html, "<svg id=\"tw-durations\""));
	assert_non_null(strstr(html, "<table id=\"assertions\""));
	assert_non_null(strstr(html, "<table id=\"endpoints\""));
	assert_non_null(strstr(html, "10.0.0.1:443"));
	/* the command line is escaped, and nothing is loaded from elsewhere */
	assert_non_null(strstr(html, "curl -s &quot;&lt;x&gt;&quot;"));
	assert_null(strstr(html, "<x>"));
	assert_null(strstr(html, "<script"));
	assert_null(strstr(html, "src="));
	assert_null(strstr(html, "href="));
	free(html);
}

static void test_prom(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *prom = render(report_prom_write, &fx->rep, &len);

	assert_non_null(strstr(prom, "\nsynfin_run_time_wait_entries_total 50\n"));
	assert_non_null(strstr(prom, "\nsynfin_run_exit_status 1\n"));
	assert_non_null(strstr(prom, "synfin_run_assertion_passed{assertion=\"handshake.server.p99 < 10us\"} 0\n"));
	assert_non_null(strstr(prom, "# TYPE synfin_handshake_duration_seconds histogram\n"));
	free(prom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_results, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_one_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_baseline_compare, setup, teardown),
		cmocka_unit_test(test_baseline_errors),
		cmocka_unit_test_setup_teardown(test_endpoints, setup, teardown),
		cmocka_unit_test(test_endpoints_fold),
		cmocka_unit_test_setup_teardown(test_tw_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_html, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prom, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
