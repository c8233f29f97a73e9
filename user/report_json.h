/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run --report`: the run model (run_model.h) as one JSON document, schema
 * docs/run-report.schema.json, and its Prometheus form. Pure: the face does the I/O. */
#ifndef SYNFIN_REPORT_JSON_H
#define SYNFIN_REPORT_JSON_H

#include <stdio.h>
#include "run_model.h"

/* Writes the whole report as one JSON document: 0, or -EIO when the stream failed. */
int report_json_write(FILE *f, const struct run_report *r);
/* Prometheus text 0.0.4: every family of the metric table, the run's own synfin_run_* ones
 * (TIME_WAIT entries and peak, CMD's status, assertion results) included. */
int report_prom_write(FILE *f, const struct run_report *r);

#endif
