/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Live event lines and the exit summary, as a table for people or JSON lines for programs. */
#ifndef SYNFIN_RENDER_H
#define SYNFIN_RENDER_H

#include <stdio.h>
#include "lifecycle.h"
#include "session_info.h"

void json_event(FILE *f, const struct synfin_event *e);
void json_summary(FILE *f, const struct summary *s, const struct session_info *ri);

void table_header(FILE *f);
/* wall_offset_ns: CLOCK_REALTIME - CLOCK_MONOTONIC, to print ts_ns as a time of day */
void table_event(FILE *f, const struct synfin_event *e, int64_t wall_offset_ns);
void table_summary(FILE *f, const struct summary *s, const struct session_info *ri);
/* bcc-style log2 chart of h, in microseconds */
void table_log2_hist(FILE *f, const struct hist *h, const char *title);

#endif
