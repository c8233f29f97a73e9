/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run --assert`: the expression language `METRIC OP VALUE` over the run metrics of
 * the metric table (metrics.h). Pure: no I/O. */
#ifndef SYNFIN_ASSERT_EXPR_H
#define SYNFIN_ASSERT_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "metrics.h"

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
	bool no_samples; /* a quantile or max over nothing: no value, so not passed */
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
