// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The metric table is the only place a metric is named: every output and every document that
 * names one must name one of the table's. Fails when /metrics, the textfile or run --prom
 * (one writer), the run report's "metrics", run --help, docs/ci-mode.md's list, the report
 * schema, an --assert example or any synfin_* name in the README and docs/, or a lookup by
 * name in user/ is not the table's, or when the table itself is inconsistent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "assert_expr.h"
#include "metrics.h"
#include "listen_model.h"
#include "render_prom.h"
#include "ports.h"
#include "report_json.h"
#include "resets.h"
#include "synfin/conn_fsm.h"

#define NAME_MAX_LEN 128

struct world {
	struct summary sum;
	struct session_info ri;
	struct listen_stats listen;
	struct reset_counts resets;
	struct port_headroom held;
	struct port_stats ports;
	struct run_values values;
	struct assertion asserts[1];
	struct assert_result results[1];
	struct run_report rep;
	char *argv[2];
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		fail_msg("cannot read %s (the unit tests run from the repository's root)", path);
	if (getdelim(&buf, &len, '\0', f) < 0)
		fail_msg("%s is empty", path);
	fclose(f);
	return buf;
}

/* Some records of every kind, the session's figures, ports and an assertion: every family
 * of the table has series. */
static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct synfin_event e;
	char err[128];

	if (!w || port_stats_init(&w->ports, 4))
		return -1;
	memset(&e, 0, sizeof(e));
	e.id.family = 4;
	e.type = SYNFIN_EV_HANDSHAKE;
	e.id.lport = 8080;
	e.hs.latency_us = 150;
	summary_add(&w->sum, &e);
	port_stats_add(&w->ports, &e);
	e.side = SYNFIN_SIDE_SERVER;
	e.hs.latency_us = 90;
	summary_add(&w->sum, &e);
	port_stats_add(&w->ports, &e);
	e.side = SYNFIN_SIDE_CLIENT;
	e.type = SYNFIN_EV_CLOSE;
	e.close.initiator = SYNFIN_INIT_LOCAL;
	e.close.tw_handover = 1;
	e.close.state_us[SYNFIN_CS_CLOSE_WAIT] = 20;
	summary_add(&w->sum, &e);
	w->ri.duration_ms = 1500;
	w->ri.gauges[SYNFIN_TCP_ESTABLISHED] = 3;
	w->ri.audit.present = true; /* every counter has a value: 0, and -1 lost */
	w->ri.audit.netns = 4026531840u;
	w->ri.audit.drift[0] = -1;
	listen_stats_begin_walk(&w->listen);
	listen_stats_listener(&w->listen, 8080, 3, 2);
	listen_stats_end_walk(&w->listen);
	listen_stats_drops(&w->listen, 8080, (const uint64_t[LISTEN_REASON_MAX]){ 94, 0, 0 });
	w->ri.listen = &w->listen;
	/* the unread-data case of tests/integration/resets.py, as 6.18 counts it */
	w->resets.n[SYNFIN_RST_INDEX(SYNFIN_RST_SENT, 11, SYNFIN_TCP_ESTABLISHED)] = 1;
	w->resets.n[SYNFIN_RST_INDEX(SYNFIN_RST_RECEIVED, SYNFIN_RST_PEER, SYNFIN_TCP_ESTABLISHED)] = 1;
	w->ri.resets = &w->resets;
	/* one destination holding 3 of a 1,000-port range, read from two CPUs */
	{
		struct port_dest cpus[2] = { { .used = 5, .last_ns = 10, .range = 40999u << 16 | 40000 },
					     { .used = -2, .last_ns = 5, .range = 40999u << 16 | 40000 } };
		struct port_dest_key k = { .netns = 4026531840u, .family = 4, .rport = 8080,
					   .laddr = { 127, 0, 0, 1 }, .raddr = { 127, 0, 0, 2 } };

		ports_read_dest(&w->held, &k, cpus, 2);
		ports_read_done(&w->held, 0, NULL, NULL);
		w->ri.ports = &w->held;
	}
	run_values_compute(&w->values, &w->sum, &w->ri);
	if (assert_parse("closes == 1", &w->asserts[0], err, sizeof(err)))
		return -1;
	assert_eval(&w->asserts[0], &w->values, NAN, &w->results[0]);
	w->argv[0] = "true";
	w->rep = (struct run_report){
		.sum = &w->sum, .ri = &w->ri, .values = &w->values, .asserts = w->asserts,
		.results = w->results, .nasserts = 1, .argv = w->argv, .argc = 1, .cgroup_id = 1,
		.version = "test",
	};
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	port_stats_free(&w->ports);
	ports_free(&w->held);
	free(w);
	return 0;
}

/* The family a Prometheus sample, HELP/TYPE/UNIT line or document names, or -1. */
static int family_of(const char *name, size_t len)
{
	static const char *const hist_suffix[] = { "_bucket", "_sum", "_count" };
	unsigned int i, k;
	size_t n;

	for (i = 0; i < metric_count; i++) {
		const struct metric_def *m = &metric_table[i];

		n = strlen(m->name);
		if (len < n || memcmp(name, m->name, n))
			continue;
		if (len == n)
			return (int)i;
		if (m->type == METRIC_COUNTER && len == n + 6 && !memcmp(name + n, "_total", 6))
			return (int)i;
		if (m->type == METRIC_INFO && len == n + 5 && !memcmp(name + n, "_info", 5))
			return (int)i;
		for (k = 0; m->type == METRIC_HISTOGRAM && k < 3; k++)
			if (len == n + strlen(hist_suffix[k]) && !memcmp(name + n, hist_suffix[k], len - n))
				return (int)i;
	}
	return -1;
}

static char *prom(const struct metric_src *src, enum prom_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(prom_write(f, src, fmt), 0);
	fclose(f);
	return buf;
}

/* Every name in the output is a table family's; returns how many families appeared. */
static unsigned int check_prom_names(const char *out)
{
	bool seen[64] = { false };
	unsigned int n = 0, i;
	const char *line, *name;
	size_t len;
	int fam;

	assert_true(metric_count <= 64);
	for (line = out; *line; line = strchr(line, '\n') + 1) {
		name = line;
		if (!strncmp(line, "# EOF", 5))
			break;
		if (!strncmp(line, "# HELP ", 7) || !strncmp(line, "# TYPE ", 7) ||
		    !strncmp(line, "# UNIT ", 7))
			name = line + 7;
		len = strcspn(name, "{ \n");
		fam = family_of(name, len);
		if (fam < 0)
			fail_msg("the output names %.*s, which is not in the metric table", (int)len, name);
		seen[fam] = true;
	}
	for (i = 0; i < metric_count; i++)
		n += seen[i];
	return n;
}

static void test_prometheus_names_only_the_table(void **state)
{
	struct world *w = *state;
	struct metric_src run = { .sum = &w->sum, .ri = &w->ri, .run = &w->rep, .version = "t" };
	struct metric_src serve = { .sum = &w->sum, .ri = &w->ri, .ports = &w->ports, .version = "t" };
	unsigned int i, run_only = 0, by_port = 0;
	char *out;

	for (i = 0; i < metric_count; i++) {
		run_only += !!(metric_table[i].needs & (METRIC_RUN_ONLY | METRIC_NEEDS_RUN));
		by_port += !!(metric_table[i].needs & METRIC_NEEDS_PORTS);
	}
	/* run --prom: every family but the --by-port ones */
	out = prom(&run, PROM_TEXT);
	assert_int_equal(check_prom_names(out), metric_count - by_port);
	free(out);
	/* /metrics and the textfile, both formats: every family but synfin run's */
	out = prom(&serve, PROM_TEXT);
	assert_int_equal(check_prom_names(out), metric_count - run_only);
	free(out);
	out = prom(&serve, PROM_OPENMETRICS);
	assert_int_equal(check_prom_names(out), metric_count - run_only);
	free(out);
}

static void test_table_is_consistent(void **state)
{
	struct world *w = *state;
	unsigned int i, j, n = run_metric_count();
	const struct run_metric *r;
	const struct metric_def *m;

	assert_true(n > 0 && n <= RUN_METRIC_MAX);
	assert_null(run_metric(n));
	for (i = 0; i < metric_count; i++)
		for (j = i + 1; j < metric_count; j++)
			assert_string_not_equal(metric_table[i].name, metric_table[j].name);
	for (i = 0; i < n; i++) {
		r = run_metric(i);
		m = run_metric_family(i);
		assert_non_null(m);
		assert_int_equal(run_metric_find(r->name, strlen(r->name)), (int)i);
		/* a histogram's figures are statistics of it, a number's is its value */
		assert_true((m->type == METRIC_HISTOGRAM) == (r->stat != STAT_VALUE));
		/* it selects only on labels the family has */
		for (j = 0; j < METRIC_MAX_LABELS; j++)
			if (r->match[j] && (j >= METRIC_MAX_LABELS || !m->labels[j]))
				fail_msg("%s matches label %u, which %s does not have", r->name, j, m->name);
		/* it reads something: the fixture has a value for every figure */
		if (isnan(w->values.v[i]))
			fail_msg("%s has no value from the summary", r->name);
		for (j = i + 1; j < n; j++)
			assert_string_not_equal(r->name, run_metric(j)->name);
	}
	/* values come from the families' own series */
	assert_true(run_metric_value(&w->values, "handshake.client.count") == 1);
	assert_true(run_metric_value(&w->values, "handshake.client.max") == 150);
	assert_true(run_metric_value(&w->values, "closes.local.fin") == 1);
	assert_true(run_metric_value(&w->values, "time_wait.count") == 1);
	assert_true(run_metric_value(&w->values, "close_wait.max") == 20);
	assert_true(run_metric_value(&w->values, "listen.drops") == 94);
	assert_true(run_metric_value(&w->values, "resets.sent") == 1);
	assert_true(run_metric_value(&w->values, "ports.peak_used") == 3);
	assert_true(run_metric_value(&w->values, "resets.received") == 1);
	assert_true(run_metric_value(&w->values, "listen.drops.accept_queue_full") == 94);
	assert_true(run_metric_value(&w->values, "listen.drops.other") == 0);
	assert_true(run_metric_value(&w->values, "accept_queue.peak") == 3);
}

static void test_report_names_only_the_table(void **state)
{
	struct world *w = *state;
	unsigned int i = 0, n = run_metric_count();
	const char *key;
	char *buf = NULL;
	size_t len = 0;
	json_t *doc, *v;
	json_error_t je;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(report_json_write(f, &w->rep), 0);
	fclose(f);
	doc = json_loadb(buf, len, 0, &je);
	assert_non_null(doc);
	/* the "metrics" object: exactly the run metrics, in table order */
	json_object_foreach(json_object_get(doc, "metrics"), key, v) {
		assert_true(i < n);
		assert_string_equal(key, run_metric(i)->name);
		assert_string_equal(json_string_value(json_object_get(v, "unit")),
				    run_metric_is_duration(i) ? "us" : "count");
		i++;
	}
	assert_int_equal(i, n);
	key = json_string_value(json_object_get(json_array_get(json_object_get(doc, "assertions"), 0),
						"metric"));
	assert_non_null(key);
	assert_true(run_metric_find(key, strlen(key)) >= 0);
	json_decref(doc);
	free(buf);
}

static void test_help_lists_the_table(void **state)
{
	char *buf = NULL, name[NAME_MAX_LEN], kind[16];
	const char *line;
	unsigned int i = 0;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	run_metrics_help(f);
	fclose(f);
	for (line = buf; *line; line = strchr(line, '\n') + 1, i++) {
		assert_int_equal(sscanf(line, "%127s %15s", name, kind), 2);
		assert_non_null(run_metric(i));
		assert_string_equal(name, run_metric(i)->name);
		assert_string_equal(kind, run_metric_is_duration(i) ? "duration" : "count");
		assert_non_null(strstr(line, run_metric(i)->help));
	}
	assert_int_equal(i, run_metric_count());
	free(buf);
}

/* docs/ci-mode.md's table is the run metrics, row for row. */
static void test_ci_mode_doc_lists_the_table(void **state)
{
	char *doc = slurp("docs/ci-mode.md"), want[512];
	const char *p = strstr(doc, "### Metrics\n"), *row;
	unsigned int i = 0;
	size_t len;

	(void)state;
	assert_non_null(p);
	p = strstr(p, "|---|");
	assert_non_null(p);
	for (row = strchr(p, '\n') + 1; !strncmp(row, "| `", 3); row += len + 1, i++) {
		len = strcspn(row, "\n");
		if (!run_metric(i))
			fail_msg("docs/ci-mode.md lists %.*s beyond the table's metrics", (int)len, row);
		snprintf(want, sizeof(want), "| `%s` | %s | %s |", run_metric(i)->name,
			 run_metric_is_duration(i) ? "duration" : "count", run_metric(i)->help);
		if (strlen(want) != len || memcmp(row, want, len))
			fail_msg("docs/ci-mode.md row %u is\n  %.*s\nthe table says\n  %s", i + 1,
				 (int)len, row, want);
	}
	if (i != run_metric_count())
		fail_msg("docs/ci-mode.md lists %u metrics, the table has %u: add\n  | `%s` | ...", i,
			 run_metric_count(), run_metric(i)->name);
	free(doc);
}

/* The report schema requires the run metrics and names no other. */
static void test_report_schema_lists_the_table(void **state)
{
	json_t *schema, *metrics, *required, *names;
	unsigned int i, n = run_metric_count();
	json_error_t je;
	const char *key;
	json_t *v;
	size_t k;

	(void)state;
	schema = json_load_file("docs/run-report.schema.json", 0, &je);
	assert_non_null(schema);
	metrics = json_object_get(json_object_get(schema, "properties"), "metrics");
	required = json_object_get(metrics, "required");
	names = json_object_get(json_object_get(json_object_get(json_object_get(json_object_get(
			json_object_get(schema, "properties"), "assertions"), "items"), "properties"),
			"metric"), "enum");
	assert_int_equal(json_array_size(required), n);
	assert_int_equal(json_array_size(names), n);
	for (i = 0; i < n; i++) {
		assert_string_equal(json_string_value(json_array_get(required, i)), run_metric(i)->name);
		assert_string_equal(json_string_value(json_array_get(names, i)), run_metric(i)->name);
	}
	k = 0;
	json_object_foreach(json_object_get(metrics, "properties"), key, v) {
		assert_true(run_metric_find(key, strlen(key)) >= 0);
		assert_string_equal(json_string_value(json_object_get(json_object_get(json_object_get(v,
					"properties"), "unit"), "const")),
				    run_metric_is_duration((unsigned int)run_metric_find(key, strlen(key)))
					    ? "us" : "count");
		k++;
	}
	assert_int_equal(k, n);
	json_decref(schema);
}

/* Names of BPF programs also start with synfin_: they are not metrics. */
static bool bpf_program(const char *text, size_t len)
{
	static char *src;
	char name[NAME_MAX_LEN];
	const char *p;

	if (!src)
		src = slurp("bpf/synfin.bpf.c");
	snprintf(name, sizeof(name), "%.*s", (int)len, text);
	for (p = src; (p = strstr(p, name)); p += len)
		if (!isalnum((unsigned char)p[len]) && p[len] != '_' && p > src &&
		    (!strncmp(p - 9, "BPF_PROG(", 9) || !strncmp(p - 4, "int ", 4)))
			return true;
	return false;
}

static void check_doc(const char *path)
{
	char *doc = slurp(path), expr[256], err[256];
	const char *p;
	struct assertion a;
	size_t len;

	/* every synfin_* name is a table family's (or a BPF program's) */
	for (p = doc; (p = strstr(p, "synfin_")); p += len) {
		len = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (p > doc && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		if (family_of(p, len) < 0 && !bpf_program(p, len))
			fail_msg("%s names %.*s, which is not in the metric table", path, (int)len, p);
	}
	/* every --assert example parses: its metric is the table's */
	for (p = doc; (p = strstr(p, "--assert '")); p += len) {
		p += strlen("--assert '");
		len = strcspn(p, "'");
		if (!strncmp(p, "METRIC", 6) || len >= sizeof(expr))
			continue;
		memcpy(expr, p, len);
		expr[len] = '\0';
		if (assert_parse(expr, &a, err, sizeof(err)))
			fail_msg("%s: %s", path, err);
	}
	free(doc);
}

static void test_docs_name_only_the_table(void **state)
{
	(void)state;
	check_doc("README.md");
	check_doc("docs/ci-mode.md");
}

/* Code that looks a run metric up by name names one of the table's. */
static void test_lookups_name_only_the_table(void **state)
{
	static const char *const calls[] = { "run_metric_find(", "run_metric_value(" };
	char path[300], *src;
	const char *p, *q;
	struct dirent *de;
	unsigned int i, found = 0;
	size_t len;
	DIR *d = opendir("user");

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len < 3 || strcmp(de->d_name + len - 2, ".c"))
			continue;
		snprintf(path, sizeof(path), "user/%s", de->d_name);
		src = slurp(path);
		for (i = 0; i < 2; i++) {
			for (p = src; (p = strstr(p, calls[i])); p += strlen(calls[i])) {
				q = p + strlen(calls[i]);
				/* the name is the first string literal of the call, if any */
				q += strcspn(q, "\");\n");
				if (*q != '"')
					continue;
				len = strcspn(q + 1, "\"");
				if (run_metric_find(q + 1, len) < 0)
					fail_msg("%s looks up %.*s, which is not in the metric table", path,
						 (int)len, q + 1);
				found++;
			}
		}
		free(src);
	}
	closedir(d);
	assert_true(found > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table_is_consistent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prometheus_names_only_the_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_names_only_the_table, setup, teardown),
		cmocka_unit_test(test_help_lists_the_table),
		cmocka_unit_test(test_ci_mode_doc_lists_the_table),
		cmocka_unit_test(test_report_schema_lists_the_table),
		cmocka_unit_test(test_docs_name_only_the_table),
		cmocka_unit_test(test_lookups_name_only_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
