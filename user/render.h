/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Live event lines and the exit summary, as a table for people or JSON lines for programs. */
#ifndef SYNFIN_RENDER_H
#define SYNFIN_RENDER_H

#include <stdio.h>
#include "json_writer.h"
#include "lifecycle.h"
#include "session_info.h"

/* JSON lines, the contract in the README (schema docs/records.schema.json). */
void json_event(FILE *f, const struct synfin_event *e);
/* e: the socket's CLOSE_WAIT entry (a STATE record); age_us: how long it has been there. */
void json_close_wait_warning(FILE *f, const struct synfin_event *e, uint64_t age_us);
struct port_use;
/* A destination holds more than pct percent of its namespace's ephemeral ports; now_ns:
 * the record's ts_ns. */
void json_port_headroom_warning(FILE *f, const struct port_use *u, unsigned int pct,
				uint64_t now_ns);
void json_summary(FILE *f, const struct summary *s, const struct session_info *si);
/* The summary's members, into an open object: watch's summary line and the run report's
 * "summary" have this one shape. */
void json_summary_members(struct jw *j, const struct summary *s, const struct session_info *si);
/* "kernel_drift": the self-audit's counters, or null when there is none. */
void json_kernel_drift(struct jw *j, const struct audit_result *a);
/* The histogram object every JSON output uses. */
void json_hist(struct jw *j, const char *key, const struct hist *h);

void table_header(FILE *f);
/* wall_offset_ns: CLOCK_REALTIME - CLOCK_MONOTONIC, to print ts_ns as a time of day */
void table_event(FILE *f, const struct synfin_event *e, int64_t wall_offset_ns);
void table_close_wait_warning(FILE *f, const struct synfin_event *e, uint64_t age_us);
void table_port_headroom_warning(FILE *f, const struct port_use *u, unsigned int pct);
void table_summary(FILE *f, const struct summary *s, const struct session_info *ri);
/* The self-audit: one line per counter, its drift or why it has none. */
void table_kernel_drift(FILE *f, const struct audit_result *a);
/* "  LABEL  COUNT   p50 .. p90 .. p99 .. max .." */
void table_quantiles(FILE *f, int label_width, const char *label, const struct hist *h);
/* bcc-style log2 chart of h, in microseconds */
void table_log2_hist(FILE *f, const struct hist *h, const char *title);

#endif
