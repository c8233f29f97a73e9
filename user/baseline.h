/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run --baseline`: reads the "metrics" object of an earlier `--report` file, with
 * jansson (strict RFC 8259, UTF-8 checked, duplicate keys refused, nesting bounded). Pure:
 * a buffer in, no I/O. */
#ifndef SYNFIN_BASELINE_H
#define SYNFIN_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include "assert_expr.h"

/* Reports are 6 KiB to ~100 KiB (256 endpoints: 93 KiB). jansson builds a tree of ~22x the
 * input at worst (a 1 MiB array of zeros: 23 MiB RSS, 0.13 s): larger files are refused. */
#define BASELINE_MAX_BYTES (1 << 20)

struct baseline {
	struct run_values v;
	bool have[RUN_METRIC_MAX]; /* the report had a numeric value for this metric */
	unsigned int count;        /* metrics found */
};

/* Parses a whole report: 0, -EFBIG past BASELINE_MAX_BYTES, or -EINVAL, with err set
 * ("line 3: ...", "schema_version 3 is not supported", "no \"metrics\" object"). Metrics this
 * synfin does not know are ignored (a newer report); metrics the report lacks are not had. */
int baseline_parse(const char *text, size_t len, struct baseline *b, char *err, size_t errlen);

/* now - baseline and the change in percent (NAN when the baseline is 0): 0, or -ENOENT when
 * the baseline lacks the metric. */
int baseline_delta(const struct baseline *b, unsigned int metric, double now, double *delta,
		   double *pct);

#endif
