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
#include "assert_expr.h"

static int parse(const char *s, struct assertion *a)
{
	char err[256];

	return assert_parse(s, a, err, sizeof(err));
}

static void expect_error(const char *s, const char *needle)
{
	struct assertion a;
	char err[256] = "";

	assert_int_equal(assert_parse(s, &a, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("'%s': error '%s' lacks '%s'", s, err, needle);
}

static int metric(const char *name)
{
	return run_metric_find(name, strlen(name));
}

static void test_units(void **state)
{
	static const struct { const char *expr; double us; } cases[] = {
		{ "handshake.client.p99 < 5ms", 5000 },
		{ "handshake.p50 <= 300us", 300 },
		{ "handshake.p50 <= 500ns", 0.5 },
		{ "close_wait.max < 2s", 2e6 },
		{ "lifetime.p99 < 1.5m", 90e6 },
		{ "handshake.max < .25s", 250000 },
		{ "handshake.max < 0us", 0 },
	};
	struct assertion a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].expr, &a), 0);
		assert_true(fabs(a.value - cases[i].us) < 1e-9);
		assert_int_equal(a.rel, REL_NONE);
	}
	assert_int_equal(parse("time_wait.peak < 1000", &a), 0);
	assert_true(a.value == 1000);
	assert_int_equal(a.metric, metric("time_wait.peak"));
}

static void test_operators_and_spacing(void **state)
{
	static const struct { const char *expr; enum assert_op op; const char *text; } cases[] = {
		{ "connect_failures == 0", OP_EQ, "connect_failures == 0" },
		{ "connect_failures!=0", OP_NE, "connect_failures != 0" },
		{ "closes<5", OP_LT, "closes < 5" },
		{ "closes<=5", OP_LE, "closes <= 5" },
		{ "  closes >5  ", OP_GT, "closes > 5" },
		{ "\tcloses\t>=\t5", OP_GE, "closes >= 5" },
		{ "handshake.client.p99<5ms", OP_LT, "handshake.client.p99 < 5ms" },
	};
	struct assertion a;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].expr, &a), 0);
		assert_int_equal(a.op, cases[i].op);
		assert_string_equal(a.text, cases[i].text);
	}
}

static void test_every_metric_parses(void **state)
{
	char expr[128];
	struct assertion a;
	unsigned int i;

	(void)state;
	assert_true(run_metric_count() <= RUN_METRIC_MAX);
	for (i = 0; i < run_metric_count(); i++) {
		snprintf(expr, sizeof(expr), "%s >= %s", run_metric(i)->name,
			 run_metric_is_duration(i) ? "1ms" : "1");
		assert_int_equal(parse(expr, &a), 0);
		assert_int_equal(a.metric, i);
		/* the other form is an error */
		snprintf(expr, sizeof(expr), "%s >= %s", run_metric(i)->name,
			 run_metric_is_duration(i) ? "1" : "1ms");
		assert_int_equal(parse(expr, &a), -EINVAL);
	}
	/* the examples */
	assert_int_equal(parse("retransmits.syn == 0", &a), 0);
	assert_int_equal(parse("close_wait.max < 2s", &a), 0);
}

static void test_errors(void **state)
{
	(void)state;
	expect_error("handshake.client.p99 < 5", "is a duration");
	expect_error("connect_failures == 0ms", "is a count");
	expect_error("handshake.client.p98 < 5ms", "unknown metric 'handshake.client.p98'");
	expect_error("bogus < 1", "unknown metric");
	expect_error("handshake.p50 = 5ms", "'=' is not an operator");
	expect_error("handshake.p50 =< 5ms", "'=' is not an operator");
	expect_error("handshake.p50 5ms", "expected an operator");
	expect_error("handshake.p50 <", "expected a number");
	expect_error("handshake.p50 < -5ms", "expected a number");
	expect_error("handshake.p50 < 5 ms", "is a duration");
	expect_error("handshake.p50 < 5xs", "unknown unit 'xs'");
	expect_error("handshake.p50 < 5msec", "unknown unit");
	expect_error("handshake.p50 < 5ms extra", "unexpected 'extra'");
	expect_error("handshake.p50 < 5.ms", "expected a number");
	expect_error("closes < 1e3", "is a count");
	expect_error("", "expected METRIC OP VALUE");
	expect_error("   ", "expected METRIC OP VALUE");
	expect_error("< 5", "expected METRIC OP VALUE");
	expect_error(NULL, "empty");
}

static void test_baseline_forms(void **state)
{
	struct assertion a;

	(void)state;
	assert_int_equal(parse("handshake.client.p99 < baseline * 1.2", &a), 0);
	assert_int_equal(a.rel, REL_MUL);
	assert_true(a.value == 1.2);
	assert_string_equal(a.text, "handshake.client.p99 < baseline * 1.2");
	assert_int_equal(parse("handshake.client.p99 < baseline + 5ms", &a), 0);
	assert_int_equal(a.rel, REL_ADD);
	assert_true(a.value == 5000);
	assert_int_equal(parse("time_wait.peak <= baseline - 10", &a), 0);
	assert_int_equal(a.rel, REL_SUB);
	assert_int_equal(parse("closes==baseline", &a), 0);
	assert_int_equal(a.rel, REL_BASE);
	expect_error("handshake.p99 < baseline + 5", "is a duration");
	expect_error("closes < baseline + 5ms", "is a count");
	expect_error("closes < baseline * 2ms", "plain number");
	expect_error("closes < baseline *", "expected a factor");
	expect_error("closes < baseline / 2", "unexpected '/ 2'");
	expect_error("closes < baselines", "expected a number");
}

static void test_eval(void **state)
{
	struct run_values v = { 0 };
	struct assert_result r;
	struct assertion a;
	char line[256];

	(void)state;
	v.v[metric("handshake.client.p99")] = 7200;
	v.v[metric("closes")] = 120;
	assert_int_equal(parse("handshake.client.p99 < 5ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);
	assert_describe(line, sizeof(line), &a, &r);
	assert_string_equal(line, "handshake.client.p99 < 5ms (measured 7.2ms)");
	assert_int_equal(parse("handshake.client.p99 <= 7.2ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_true(r.passed);
	assert_int_equal(parse("handshake.client.p99 < 7.2ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);
	assert_int_equal(parse("handshake.client.p99 > 7ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_true(r.passed);
	assert_int_equal(parse("handshake.client.p99 >= 7.3ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);
	assert_int_equal(parse("closes == 120", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_true(r.passed);
	assert_int_equal(parse("closes != 120", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);

	/* relative: 100 * 1.2 is 120.00000000000001 in binary, and still equal to 120 */
	assert_int_equal(parse("closes <= baseline * 1.2", &a), 0);
	assert_eval(&a, &v, 100, &r);
	assert_true(r.passed);
	assert_true(r.base == 100);
	assert_int_equal(parse("closes < baseline * 1.2", &a), 0);
	assert_eval(&a, &v, 100, &r);
	assert_false(r.passed);
	assert_describe(line, sizeof(line), &a, &r);
	assert_string_equal(line, "closes < baseline * 1.2 (measured 120, threshold 120, baseline 100)");
	assert_int_equal(parse("handshake.client.p99 < baseline + 5ms", &a), 0);
	assert_eval(&a, &v, 2500, &r);
	assert_true(r.passed);
	assert_true(r.threshold == 7500);
	assert_int_equal(parse("handshake.client.p99 >= baseline - 1ms", &a), 0);
	assert_eval(&a, &v, 8000, &r);
	assert_true(r.passed);
	/* a baseline without the metric never passes */
	assert_int_equal(parse("closes == baseline", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);
}

static void test_format(void **state)
{
	static const struct { double us; const char *text; } cases[] = {
		{ 0.5, "500ns" }, { 850, "850us" }, { 7200, "7.2ms" }, { 1500000, "1.5s" },
		{ 0, "0ns" }, { 12345678, "12.35s" },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run_metric_format(buf, sizeof(buf), (unsigned int)metric("handshake.p99"), cases[i].us);
		assert_string_equal(buf, cases[i].text);
	}
	run_metric_format(buf, sizeof(buf), (unsigned int)metric("closes"), 42);
	assert_string_equal(buf, "42");
	run_metric_format(buf, sizeof(buf), (unsigned int)metric("closes"), NAN);
	assert_string_equal(buf, "n/a");
}

static void test_values_from_summary(void **state)
{
	struct summary *s = calloc(1, sizeof(*s));
	struct session_info ri = { .lost = 3, .close_wait_oldest_us = 9000 };
	struct run_values v;
	int i;

	(void)state;
	assert_non_null(s);
	for (i = 1; i <= 100; i++)
		hist_add(&s->handshake[SYNFIN_SIDE_CLIENT], (uint64_t)i * 10);
	hist_add(&s->handshake[SYNFIN_SIDE_SERVER], 5000);
	s->connect_fail[SYNFIN_FAIL_REFUSED] = 2;
	s->connect_fail[SYNFIN_FAIL_TIMEOUT] = 1;
	s->handshake_retransmits[SYNFIN_SIDE_CLIENT] = 4;
	s->connect_fail_retransmits = 6;
	s->handshake_retransmits[SYNFIN_SIDE_SERVER] = 1;
	s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_FIN] = 7;
	s->closes[SYNFIN_INIT_REMOTE][SYNFIN_HOW_RST] = 2;
	s->closes[SYNFIN_INIT_UNKNOWN][SYNFIN_HOW_FIN] = 1;
	s->tw_peak = 5;
	s->tw_entries = 7;
	hist_add(&s->close_wait, 4000);
	run_values_compute(&v, s, &ri);
	assert_true(run_metric_value(&v, "handshake.client.count") == 100);
	assert_true(run_metric_value(&v, "handshake.server.count") == 1);
	assert_true(run_metric_value(&v, "handshake.count") == 101);
	assert_true(run_metric_value(&v, "handshake.client.max") == 1000);
	assert_true(run_metric_value(&v, "handshake.max") == 5000);
	assert_true(fabs(run_metric_value(&v, "handshake.client.p50") - 500) <= 500 / 16.0);
	assert_true(run_metric_value(&v, "connect_failures") == 3);
	assert_true(run_metric_value(&v, "connect_failures.refused") == 2);
	assert_true(run_metric_value(&v, "retransmits.syn") == 10);
	assert_true(run_metric_value(&v, "retransmits.synack") == 1);
	assert_true(run_metric_value(&v, "closes") == 10);
	assert_true(run_metric_value(&v, "closes.local.fin") == 7);
	assert_true(run_metric_value(&v, "closes.remote.rst") == 2);
	assert_true(run_metric_value(&v, "time_wait.count") == 7);
	assert_true(run_metric_value(&v, "time_wait.peak") == 5);
	/* a socket still in CLOSE_WAIT for longer than any closed one */
	assert_true(run_metric_value(&v, "close_wait.max") == 9000);
	assert_true(run_metric_value(&v, "close_wait.p99") == 4000);
	assert_true(run_metric_value(&v, "events.lost") == 3);
	assert_true(isnan(run_metric_value(&v, "no.such")));
	/* a quantile or max over no samples has no value (issue 12): never 0 */
	assert_true(isnan(run_metric_value(&v, "lifetime.p50")));
	assert_true(isnan(run_metric_value(&v, "lifetime.max")));
	free(s);
}

static void test_eval_no_samples(void **state)
{
	struct run_values v = { 0 };
	struct assert_result r;
	struct assertion a;
	char line[256];

	(void)state;
	v.v[metric("handshake.client.p99")] = NAN;
	assert_int_equal(parse("handshake.client.p99 < 5ms", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_false(r.passed);
	assert_true(r.no_samples);
	assert_describe(line, sizeof(line), &a, &r);
	assert_string_equal(line, "handshake.client.p99 < 5ms (no samples: nothing was measured)");
	/* a count of nothing is a measured 0 */
	assert_int_equal(parse("handshake.client.count < 5", &a), 0);
	assert_eval(&a, &v, NAN, &r);
	assert_true(r.passed);
	assert_false(r.no_samples);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_operators_and_spacing),
		cmocka_unit_test(test_every_metric_parses),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_baseline_forms),
		cmocka_unit_test(test_eval),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_values_from_summary),
		cmocka_unit_test(test_eval_no_samples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
