/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Live event lines and the exit summary, as a table for people or JSON lines for programs. */
#ifndef SYNFIN_RENDER_H
#define SYNFIN_RENDER_H

#include <stdio.h>
#include "lifecycle.h"

struct run_info {
	uint64_t lost;            /* records the kernel could not queue (ring buffer full) */
	uint64_t untracked;       /* connections not tracked: socket storage or map full */
	uint64_t duration_ms;     /* how long synfin observed */
	int64_t gauges[16];       /* sockets now in each kernel TCP state (observed ones) */
	uint64_t close_wait_oldest_us;
};

void json_event(FILE *f, const struct synfin_event *e);
void json_summary(FILE *f, const struct summary *s, const struct run_info *ri);

void table_header(FILE *f);
/* wall_offset_ns: CLOCK_REALTIME - CLOCK_MONOTONIC, to print ts_ns as a time of day */
void table_event(FILE *f, const struct synfin_event *e, int64_t wall_offset_ns);
void table_summary(FILE *f, const struct summary *s, const struct run_info *ri);
/* bcc-style log2 chart of h, in microseconds */
void table_log2_hist(FILE *f, const struct hist *h, const char *title);

#endif
