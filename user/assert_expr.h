/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run --assert`: the run metrics (every name an assertion, the JSON report's "metrics"
 * object and a baseline use), and the expression language `METRIC OP VALUE`. Pure: no I/O. */
#ifndef SYNFIN_ASSERT_EXPR_H
#define SYNFIN_ASSERT_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lifecycle.h"
#include "session_info.h"

enum run_metric_kind {
	RM_COUNT,    /* a plain number; a unit on the value is a usage error */
	RM_DURATION, /* microseconds; the value must carry a unit (ns, us, ms, s, m) */
};

struct run_metric_def {
	const char *name;
	enum run_metric_kind kind;
	const char *help;
};

extern const struct run_metric_def run_metrics[];
extern const unsigned int run_metric_count;

#define RUN_METRIC_MAX 48

/* One value per run_metrics[] entry: counts, or durations in microseconds. */
struct run_values {
	double v[RUN_METRIC_MAX];
};

/* close_wait.max also covers sockets still in CLOSE_WAIT (ri->close_wait_oldest_us). */
void run_values_compute(struct run_values *out, const struct summary *s,
			const struct session_info *ri);
/* Index in run_metrics[] of the name (len bytes), or -1. */
int run_metric_find(const char *name, size_t len);
/* The value of the metric called name, NAN when there is no such metric. */
double run_metric_value(const struct run_values *v, const char *name);
/* "7.2ms", "850us", "1.5s" for durations, "12" for counts. */
void run_metric_format(char *buf, size_t len, unsigned int metric, double v);

enum assert_op { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };

enum assert_rel {
	REL_NONE, /* METRIC OP VALUE */
	REL_BASE, /* METRIC OP baseline */
	REL_MUL,  /* METRIC OP baseline * FACTOR */
	REL_ADD,  /* METRIC OP baseline + VALUE */
	REL_SUB,  /* METRIC OP baseline - VALUE */
};

#define ASSERT_TEXT_MAX 160

struct assertion {
	unsigned int metric;
	enum assert_op op;
	enum assert_rel rel;
	double value;               /* threshold, factor or addend: microseconds for durations */
	char text[ASSERT_TEXT_MAX]; /* normalized: "handshake.client.p99 < 5ms" */
};

struct assert_result {
	double measured;
	double threshold;
	double base;   /* the baseline's value when rel != REL_NONE */
	bool passed;
};

/* Parses one expression: 0, or -EINVAL with err set ("unknown metric 'x'", ...). */
int assert_parse(const char *s, struct assertion *a, char *err, size_t errlen);
const char *assert_op_str(enum assert_op op);
/* base: the baseline's value of a->metric (ignored when rel is REL_NONE); NAN when the
 * baseline lacks it: then the assertion fails. */
void assert_eval(const struct assertion *a, const struct run_values *now, double base,
		 struct assert_result *r);
/* One line without newline: "handshake.client.p99 < 5ms (measured 7.2ms)". */
void assert_describe(char *buf, size_t len, const struct assertion *a,
		     const struct assert_result *r);

#endif
