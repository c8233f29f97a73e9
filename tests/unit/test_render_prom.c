// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The Prometheus writer: escaping, number forms, HELP/TYPE once per family, histograms
 * (cumulative buckets ending in +Inf == _count, _sum in seconds), OpenMetrics framing,
 * content negotiation, the --by-port table, and a real-kernel fixture rendered end to end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "format.h"
#include "metrics.h"
#include "render_prom.h"
#include "synfin/conn_fsm.h"

#define STR(x) #x
#define XSTR(x) STR(x) /* the ABI label is the header's number */

/* What a face passes besides the summary. */
struct prom_opts {
	enum prom_format format;
	const struct port_stats *ports;
	const char *version;
	int64_t wall_offset_ns;
};

static char *render(const struct summary *s, const struct session_info *ri,
		    const struct prom_opts *o)
{
	struct metric_src src = {
		.sum = s, .ri = ri, .ports = o ? o->ports : NULL, .version = o ? o->version : NULL,
		.wall_offset_ns = o ? o->wall_offset_ns : 0,
	};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(prom_write(f, &src, o ? o->format : PROM_TEXT), 0);
	fclose(f);
	return buf;
}

/* The value of the sample whose name and labels are exactly `series`; fails if absent. */
static double value_of(const char *out, const char *series)
{
	size_t n = strlen(series);
	const char *p = out;

	while ((p = strstr(p, series))) {
		if ((p == out || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p += n;
	}
	fail_msg("series %s not found", series);
	return NAN;
}

static unsigned int count_lines(const char *out, const char *prefix)
{
	size_t n = strlen(prefix);
	unsigned int c = 0;
	const char *p = out;

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, prefix, n))
			c++;
	return c;
}

static struct summary *new_summary(void)
{
	struct summary *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

static void test_label_escaping(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	prom_label_value(f, "a\\b\"c\nd\te");
	fclose(f);
	assert_string_equal(buf, "a\\\\b\\\"c\\nd\te");
	free(buf);
}

static void test_float_forms(void **state)
{
	static const struct { double v; const char *text, *om; } cases[] = {
		{ 1e-05, "1e-05", "1e-05" },         { 2.5e-05, "2.5e-05", "2.5e-05" },
		{ 0.0001, "0.0001", "0.0001" },     { 0.00025, "0.00025", "0.00025" },
		{ 0.1, "0.1", "0.1" },              { 1, "1", "1.0" },
		{ 120, "120", "120.0" },            { 0, "0", "0.0" },
		{ 1.5e6, "1.5e+06", "1.5e+06" },     { 123456.789, "123456.789", "123456.789" },
		{ 1.0 / 3, "0.3333333333333333", "0.3333333333333333" },
		{ INFINITY, "+Inf", "+Inf" },       { -INFINITY, "-Inf", "-Inf" },
	};
	char buf[40];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		prom_float(buf, sizeof(buf), cases[i].v, PROM_TEXT);
		assert_string_equal(buf, cases[i].text);
		prom_float(buf, sizeof(buf), cases[i].v, PROM_OPENMETRICS);
		assert_string_equal(buf, cases[i].om);
		if (isfinite(cases[i].v))
			assert_true(strtod(buf, NULL) == cases[i].v);
	}
	prom_float(buf, sizeof(buf), NAN, PROM_TEXT);
	assert_string_equal(buf, "NaN");
	/* every bucket bound reads back exactly */
	for (i = 0; i < PROM_BUCKETS; i++) {
		prom_float(buf, sizeof(buf), (double)prom_bucket_us[i] / 1e6, PROM_TEXT);
		assert_true(strtod(buf, NULL) * 1e6 - (double)prom_bucket_us[i] < 1e-6);
	}
}

/* Every family: one HELP, one TYPE, HELP then TYPE, before its samples; every sample
 * belongs to the family declared last; no family is declared twice. */
static void check_text_structure(const char *out)
{
	char family[128] = "", type[32] = "", name[128];
	char seen[64][128];
	unsigned int nseen = 0, i;
	const char *line, *nl;
	size_t n;

	for (line = out; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		assert_non_null(nl);
		if (!strncmp(line, "# HELP ", 7)) {
			assert_int_equal(sscanf(line, "# HELP %127s", family), 1);
			for (i = 0; i < nseen; i++)
				assert_string_not_equal(seen[i], family);
			assert_true(nseen < 64);
			strcpy(seen[nseen++], family);
			assert_int_equal(strncmp(nl + 1, "# TYPE ", 7), 0);
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			assert_int_equal(sscanf(line, "# TYPE %127s %31s", name, type), 2);
			assert_string_equal(name, family);
			continue;
		}
		assert_true(line[0] != '#');
		n = strcspn(line, "{ ");
		assert_true(n < sizeof(name));
		memcpy(name, line, n);
		name[n] = '\0';
		if (!strcmp(type, "histogram")) {
			size_t fl = strlen(family);

			assert_int_equal(strncmp(name, family, fl), 0);
			assert_true(!strcmp(name + fl, "_bucket") || !strcmp(name + fl, "_sum") ||
				    !strcmp(name + fl, "_count"));
		} else {
			assert_string_equal(name, family);
		}
	}
}

static void test_help_type_once(void **state)
{
	struct summary *s = new_summary();
	struct session_info ri = { 0 };
	char *out;
	unsigned int i, families = 0;

	(void)state;
	out = render(s, &ri, NULL);
	check_text_structure(out);
	for (i = 0; i < metric_count; i++)
		families += metric_present(&metric_table[i], &(struct metric_src){ .ri = &ri });
	assert_int_equal(count_lines(out, "# HELP "), families);
	assert_int_equal(count_lines(out, "# TYPE "), families);
	/* the contract's names, with the right types */
	assert_int_equal(count_lines(out, "# TYPE synfin_handshake_duration_seconds histogram\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_handshake_retransmits_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_connect_failures_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_connections_closed_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_time_wait_duration_seconds histogram\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_close_wait_duration_seconds histogram\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_connection_duration_seconds histogram\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_sockets gauge\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_close_wait_oldest_seconds gauge\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_events_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_events_lost_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_untracked_total counter\n"), 1);
	assert_int_equal(count_lines(out, "# TYPE synfin_build_info gauge\n"), 1);
	/* every reason, initiator x how, TIME_WAIT end and gauge state is present at 0 */
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++) {
		char series[96];

		snprintf(series, sizeof(series), "synfin_connect_failures_total{reason=\"%s\"}",
			 fail_reason_name(i));
		assert_true(value_of(out, series) == 0);
	}
	assert_int_equal(count_lines(out, "synfin_connections_closed_total{"),
			 SYNFIN_INIT_MAX * SYNFIN_HOW_MAX);
	assert_int_equal(count_lines(out, "synfin_time_wait_duration_seconds_count{end="),
			 SYNFIN_TW_END_MAX);
	assert_int_equal(count_lines(out, "synfin_sockets{state="), GAUGE_STATES);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_count{side=\"client\"}") == 0);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"server\",le=\"+Inf\"}") == 0);
	assert_true(value_of(out, "synfin_build_info{version=\"unknown\",abi=\"" XSTR(SYNFIN_ABI_VERSION) "\"}") == 1);
	free(out);
	free(s);
}

/* Buckets of one histogram series (label prefix, e.g. `side="client",`): cumulative,
 * bounds in increasing order, ending in +Inf == _count; returns the +Inf count. */
static uint64_t check_hist(const char *out, const char *name, const char *labels)
{
	char series[256];
	double prev = -1, v, bound, prev_bound = -1;
	unsigned int i;

	for (i = 0; i < PROM_BUCKETS; i++) {
		char le[40];

		prom_float(le, sizeof(le), (double)prom_bucket_us[i] / 1e6, PROM_TEXT);
		snprintf(series, sizeof(series), "%s_bucket{%sle=\"%s\"}", name, labels, le);
		v = value_of(out, series);
		assert_true(v >= prev);
		bound = strtod(le, NULL);
		assert_true(bound > prev_bound);
		prev = v;
		prev_bound = bound;
	}
	snprintf(series, sizeof(series), "%s_bucket{%sle=\"+Inf\"}", name, labels);
	v = value_of(out, series);
	assert_true(v >= prev);
	if (*labels) {
		char l[128];

		snprintf(l, sizeof(l), "%s", labels);
		l[strlen(l) - 1] = '\0'; /* drop the trailing comma */
		snprintf(series, sizeof(series), "%s_count{%s}", name, l);
	} else {
		snprintf(series, sizeof(series), "%s_count", name);
	}
	assert_true(value_of(out, series) == v);
	return (uint64_t)v;
}

static void test_histogram_buckets(void **state)
{
	static const uint64_t us[] = { 5, 10, 11, 100, 999, 1000000, 60000000, 200000000 };
	struct summary *s = new_summary();
	uint64_t sum = 0;
	char *out;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		hist_add(&s->handshake[SYNFIN_SIDE_CLIENT], us[i]);
		sum += us[i];
	}
	out = render(s, NULL, NULL);
	check_text_structure(out);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"client\","), 8);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"server\","), 0);
	/* le is inclusive: 5 and 10 us are <= 1e-05 s; 60 s is in le="60"; 200 s only in +Inf */
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"1e-05\"}") == 2);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"0.0001\"}") == 4);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"0.001\"}") == 5);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"1\"}") == 6);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"30\"}") == 6);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"60\"}") == 7);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"120\"}") == 7);
	/* _sum is the exact sum, in seconds */
	assert_true(fabs(value_of(out, "synfin_handshake_duration_seconds_sum{side=\"client\"}") -
			 (double)sum / 1e6) < 1e-9);
	/* histograms without labels */
	assert_int_equal(check_hist(out, "synfin_connection_duration_seconds", ""), 0);
	/* no session_info: the live families are left out */
	assert_int_equal(count_lines(out, "# TYPE synfin_sockets "), 0);
	assert_int_equal(count_lines(out, "synfin_events_lost_total"), 0);
	free(out);
	free(s);
}

static void test_session_info(void **state)
{
	struct summary *s = new_summary();
	struct session_info ri = { .lost = 7, .untracked = 3, .close_wait_oldest_us = 1500000 };
	char *out;

	(void)state;
	ri.gauges[SYNFIN_TCP_TIME_WAIT] = 42;
	ri.gauges[SYNFIN_TCP_CLOSE_WAIT] = 2;
	out = render(s, &ri, NULL);
	assert_true(value_of(out, "synfin_sockets{state=\"time_wait\"}") == 42);
	assert_true(value_of(out, "synfin_sockets{state=\"close_wait\"}") == 2);
	assert_true(value_of(out, "synfin_sockets{state=\"established\"}") == 0);
	assert_true(value_of(out, "synfin_close_wait_oldest_seconds") == 1.5);
	assert_true(value_of(out, "synfin_events_lost_total") == 7);
	assert_true(value_of(out, "synfin_untracked_total") == 3);
	free(out);
	free(s);
}

static void test_openmetrics(void **state)
{
	struct summary *s = new_summary();
	struct prom_opts o = { .format = PROM_OPENMETRICS, .version = "1.2\"3" };
	char *out;
	size_t len;

	(void)state;
	hist_add(&s->handshake[SYNFIN_SIDE_SERVER], 1000000);
	s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_FIN] = 4;
	out = render(s, NULL, &o);
	len = strlen(out);
	assert_true(len > 6 && !strcmp(out + len - 6, "# EOF\n"));
	assert_int_equal(count_lines(out, "# EOF"), 1);
	/* families are named without _total / _info; samples keep them */
	assert_int_equal(count_lines(out, "# TYPE synfin_connections_closed counter\n"), 1);
	assert_true(value_of(out, "synfin_connections_closed_total{initiator=\"local\",how=\"fin\"}") == 4);
	assert_int_equal(count_lines(out, "# TYPE synfin_build info\n"), 1);
	assert_true(value_of(out, "synfin_build_info{version=\"1.2\\\"3\",abi=\"" XSTR(SYNFIN_ABI_VERSION) "\"}") == 1);
	assert_int_equal(count_lines(out, "# UNIT synfin_handshake_duration_seconds seconds\n"), 1);
	/* canonical le: integral bounds carry ".0" */
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"server\",le=\"1.0\"}") == 1);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"server\",le=\"0.5\"}") == 0);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_bucket{side=\"server\",le=\"+Inf\"}") == 1);
	assert_int_equal(count_lines(out, "# HELP "), count_lines(out, "# TYPE "));
	free(out);
	free(s);
}

static void test_negotiate(void **state)
{
	(void)state;
	/* what Prometheus 2.x sends */
	assert_int_equal(prom_negotiate("application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 PROM_OPENMETRICS);
	assert_int_equal(prom_negotiate(NULL), PROM_TEXT);
	assert_int_equal(prom_negotiate(""), PROM_TEXT);
	assert_int_equal(prom_negotiate("*/*"), PROM_TEXT);
	assert_int_equal(prom_negotiate("text/plain"), PROM_TEXT);
	assert_int_equal(prom_negotiate("Application/OpenMetrics-Text"), PROM_OPENMETRICS);
	assert_int_equal(prom_negotiate("application/openmetrics-text; q=0"), PROM_TEXT);
	assert_int_equal(prom_negotiate("text/plain;q=0.9, application/openmetrics-text;q=0.5"),
			 PROM_TEXT);
	assert_int_equal(prom_negotiate("text/plain;q=0.5 , application/openmetrics-text ; version=1.0.0 ; q=0.6"),
			 PROM_OPENMETRICS);
	assert_string_equal(prom_content_type(PROM_TEXT), "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(prom_content_type(PROM_OPENMETRICS),
			    "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

static struct synfin_event handshake(unsigned int side, uint16_t lport, uint16_t rport,
				     uint64_t latency_us, uint32_t retransmits)
{
	struct synfin_event e;

	memset(&e, 0, sizeof(e));
	e.type = SYNFIN_EV_HANDSHAKE;
	e.side = (uint8_t)side;
	e.id.family = 4;
	e.id.lport = lport;
	e.id.rport = rport;
	e.hs.latency_us = latency_us;
	e.hs.retransmits = retransmits;
	return e;
}

static void test_by_port(void **state)
{
	struct port_stats *p = malloc(sizeof(*p));
	struct summary *s = new_summary();
	struct prom_opts o = { .format = PROM_TEXT };
	struct synfin_event ev[] = {
		handshake(SYNFIN_SIDE_SERVER, 80, 40000, 50, 0),   /* server: listening port 80 */
		handshake(SYNFIN_SIDE_SERVER, 80, 40001, 70, 1),
		handshake(SYNFIN_SIDE_CLIENT, 40002, 443, 300, 2), /* client: remote port 443 */
		handshake(SYNFIN_SIDE_SERVER, 8080, 40003, 20, 0), /* over the cap: folded */
		handshake(SYNFIN_SIDE_SERVER, 8081, 40004, 20, 0),
		handshake(SYNFIN_SIDE_SERVER, 8081, 40005, 20, 0),
		handshake(SYNFIN_SIDE_CLIENT, 40006, 80, 20, 1),   /* client port 80 != server 80 */
	};
	char *out;
	size_t i;

	(void)state;
	assert_int_equal(port_stats_init(p, 0), -EINVAL);
	assert_int_equal(port_stats_init(p, PORT_SERIES_MAX + 1), -EINVAL);
	assert_int_equal(port_stats_init(p, 2), 0);
	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		assert_int_equal(summary_add(s, &ev[i]), 0);
		port_stats_add(p, &ev[i]);
	}
	o.ports = p;
	out = render(s, NULL, &o);
	check_text_structure(out);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"server\",port=\"80\","), 2);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"client\",port=\"443\","), 1);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"server\",port=\"other\","), 3);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"client\",port=\"other\","), 1);
	assert_int_equal(count_lines(out, "synfin_handshake_duration_seconds_count{"), 4);
	assert_int_equal(count_lines(out, "synfin_handshake_duration_seconds_count{side=\"server\",port=\"8080\""), 0);
	assert_true(value_of(out, "synfin_handshake_retransmits_total{side=\"server\",port=\"80\"}") == 1);
	assert_true(value_of(out, "synfin_handshake_retransmits_total{side=\"client\",port=\"443\"}") == 2);
	assert_true(value_of(out, "synfin_handshake_retransmits_total{side=\"client\",port=\"other\"}") == 1);
	/* 4 observations folded, from 3 distinct (side, port) pairs */
	assert_true(value_of(out, "synfin_port_series_folded_total") == 4);
	assert_true(value_of(out, "synfin_port_series_folded_ports") == 3);
	/* per-port series add up to the totals */
	assert_true(value_of(out, "synfin_handshake_duration_seconds_sum{side=\"server\",port=\"80\"}") +
		    value_of(out, "synfin_handshake_duration_seconds_sum{side=\"server\",port=\"other\"}") ==
		    (double)s->handshake[SYNFIN_SIDE_SERVER].sum_us / 1e6);
	free(out);
	/* without ports: no port label, no folded families */
	out = render(s, NULL, NULL);
	assert_int_equal(count_lines(out, "synfin_port_series"), 0);
	assert_true(value_of(out, "synfin_handshake_duration_seconds_count{side=\"server\"}") == 5);
	free(out);
	port_stats_free(p);
	free(p);
	free(s);
}

/* Records captured from the real kernel (tests/fixtures/README.md), rendered end to end. */
static void test_fixture(void **state)
{
	struct summary *s = new_summary();
	struct synfin_event e;
	unsigned int n = 0;
	FILE *f = fopen("tests/fixtures/loopback_mix.bin", "rb");
	char *out;

	(void)state;
	if (!f) {
		free(s);
		skip();
	}
	while (fread(&e, sizeof(e), 1, f) == 1) {
		assert_int_equal(summary_add(s, &e), 0);
		n++;
	}
	fclose(f);
	assert_true(n > 0);
	out = render(s, NULL, NULL);
	check_text_structure(out);
	/* the netns' kernel counters: ActiveOpens 12 (10 + 2 refused), PassiveOpens 10 */
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"client\","), 10);
	assert_int_equal(check_hist(out, "synfin_handshake_duration_seconds", "side=\"server\","), 10);
	assert_true(value_of(out, "synfin_connect_failures_total{reason=\"refused\"}") == 2);
	assert_true(value_of(out, "synfin_connections_closed_total{initiator=\"local\",how=\"fin\"}") == 9);
	assert_true(value_of(out, "synfin_connections_closed_total{initiator=\"remote\",how=\"fin\"}") == 9);
	assert_true(value_of(out, "synfin_connections_closed_total{initiator=\"local\",how=\"rst\"}") == 1);
	assert_int_equal(check_hist(out, "synfin_close_wait_duration_seconds", ""), 9);
	/* the CLOSE_WAIT held 0.5 s is above le=0.25 */
	assert_true(value_of(out, "synfin_close_wait_duration_seconds_bucket{le=\"0.25\"}") == 8);
	assert_true(value_of(out, "synfin_events_total{type=\"handshake\"}") == 20);
	free(out);
	free(s);
}

/* Exemplars (OpenMetrics only): each bucket's is the last connection that fell in it, its
 * value within the bucket, with the record's cookie and 4-tuple, and its wall-clock time. */
static void test_exemplars(void **state)
{
	const char *series = "synfin_handshake_duration_seconds_bucket{side=\"client\",le=\"";
	struct prom_opts om = { .format = PROM_OPENMETRICS, .wall_offset_ns = 1700000000000000000LL };
	struct synfin_event ev[64], e6 = { 0 };
	struct summary *s = new_summary();
	double prev_le = 0, le, v, t;
	unsigned int n = 0, found = 0, i;
	FILE *f = fopen("tests/fixtures/loopback_mix.bin", "rb");
	const char *p;
	char *out, cookie[32], conn[128], want[160], l[64], r[64];

	(void)state;
	assert_non_null(f);
	while (n < 64 && fread(&ev[n], sizeof(ev[0]), 1, f) == 1)
		assert_int_equal(summary_add(s, &ev[n++]), 0);
	fclose(f);
	out = render(s, NULL, NULL);
	assert_null(strstr(out, " # {")); /* the text format has none */
	free(out);
	out = render(s, NULL, &om);
	for (p = strstr(out, series); p; p = strstr(p + 1, series)) {
		const char *x, *eol = strchr(p, '\n');

		le = strncmp(p + strlen(series), "+Inf", 4) ? strtod(p + strlen(series), NULL) : INFINITY;
		x = strstr(p, " # {");
		if (!x || x > eol) {
			prev_le = le;
			continue;
		}
		assert_int_equal(sscanf(x, " # {cookie=\"%31[0-9]\",conn=\"%127[^\"]\"} %lf %lf", cookie,
					conn, &v, &t), 4);
		assert_true(v > prev_le && v <= le);
		assert_true(fabs(t - 1.7e9) < 1e6); /* the records' monotonic times, made wall-clock */
		/* the last client handshake of that value's bucket in the recording */
		for (i = n; i-- > 0;) {
			double lat = (double)ev[i].hs.latency_us / 1e6;

			if (ev[i].type == SYNFIN_EV_HANDSHAKE && ev[i].side == SYNFIN_SIDE_CLIENT &&
			    handshake_kind(&ev[i]) == HANDSHAKE_MEASURED && lat > prev_le && lat <= le)
				break;
		}
		assert_true(i < n);
		assert_true(fabs(v - (double)ev[i].hs.latency_us / 1e6) < 1e-9);
		assert_int_equal(strtoull(cookie, NULL, 10), ev[i].cookie);
		format_endpoint(l, sizeof(l), ev[i].id.family, ev[i].id.laddr, ev[i].id.lport);
		format_endpoint(r, sizeof(r), ev[i].id.family, ev[i].id.raddr, ev[i].id.rport);
		snprintf(want, sizeof(want), "%s->%s", l, r);
		assert_string_equal(conn, want);
		found++;
		prev_le = le;
	}
	assert_true(found > 0);
	free(out);

	/* the longest label set: an IPv6 4-tuple of ffff groups and a 20-digit cookie fit the
	 * 128 characters OpenMetrics allows; no cookie: no cookie label */
	memset(s, 0, sizeof(*s));
	e6.type = SYNFIN_EV_HANDSHAKE;
	e6.side = SYNFIN_SIDE_SERVER;
	e6.ts_ns = 5000000000ULL;
	e6.cookie = UINT64_MAX;
	e6.id.family = 6;
	memset(e6.id.laddr, 0xff, 16);
	memset(e6.id.raddr, 0xff, 16);
	e6.id.lport = e6.id.rport = 65535;
	e6.hs.latency_us = 300;
	assert_int_equal(summary_add(s, &e6), 0);
	e6.cookie = 0;
	e6.hs.latency_us = 30;
	assert_int_equal(summary_add(s, &e6), 0);
	out = render(s, NULL, &om);
	p = strstr(out, "synfin_handshake_duration_seconds_bucket{side=\"server\",le=\"0.0005\"} 2 # {");
	assert_non_null(p);
	assert_int_equal(sscanf(strstr(p, "# {"), "# {cookie=\"%31[0-9]\",conn=\"%127[^\"]\"}", cookie, conn), 2);
	assert_string_equal(cookie, "18446744073709551615");
	assert_string_equal(conn, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535->"
				  "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	assert_true(strlen("cookie") + strlen(cookie) + strlen("conn") + strlen(conn) <= 128);
	assert_non_null(strstr(out, "le=\"5e-05\"} 1 # {conn=\"[ffff:"));
	free(out);

	/* merged histograms (--by-port's "other") keep each bucket's later exemplar */
	{
		struct hist *a = calloc(2, sizeof(*a)), *b = a + 1;

		assert_non_null(a);
		e6.ts_ns = 2;
		e6.cookie = 22;
		hist_add_conn(b, 30, &e6);
		e6.ts_ns = 1;
		e6.cookie = 11;
		hist_add_conn(a, 40, &e6);
		hist_merge(a, b);
		assert_int_equal(a->count, 2);
		assert_int_equal(a->ex[2].cookie, 22);
		assert_int_equal(a->ex[2].value_us, 30);
		free(a);
	}
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_float_forms),
		cmocka_unit_test(test_help_type_once),
		cmocka_unit_test(test_histogram_buckets),
		cmocka_unit_test(test_session_info),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_negotiate),
		cmocka_unit_test(test_by_port),
		cmocka_unit_test(test_fixture),
		cmocka_unit_test(test_exemplars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
