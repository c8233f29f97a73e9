/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Prometheus text exposition format 0.0.4 and OpenMetrics 1.0.0, written from the metric
 * table (metrics.h). One writer for every output: HTTP /metrics, the node_exporter textfile,
 * and any later file export. */
#ifndef SYNFIN_RENDER_PROM_H
#define SYNFIN_RENDER_PROM_H

#include <stddef.h>
#include <stdio.h>
#include "metrics.h"

enum prom_format {
	PROM_TEXT,        /* text/plain; version=0.0.4 */
	PROM_OPENMETRICS, /* application/openmetrics-text; version=1.0.0 */
};

/* Writes every metric family of the table that src has: 0, or -EIO when the stream failed. */
int prom_write(FILE *f, const struct metric_src *src, enum prom_format fmt);

/* The Content-Type header value for a format. */
const char *prom_content_type(enum prom_format fmt);
/* Picks the format for an HTTP Accept header (NULL = absent): OpenMetrics when the client
 * accepts application/openmetrics-text at least as much as text/plain, else text 0.0.4. */
enum prom_format prom_negotiate(const char *accept);

/* Label value escaping of both formats: backslash, double quote and newline. */
void prom_label_value(FILE *f, const char *v);
/* A float as Prometheus' own Go code writes it: shortest exact form ("1e-05", "0.00025",
 * "120"), "+Inf", "-Inf", "NaN"; OpenMetrics adds ".0" to integral values ("120.0"), as its
 * canonical `le` form wants. */
void prom_float(char *buf, size_t len, double v, enum prom_format fmt);

#endif
