/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Histograms of microsecond values: log-linear buckets for quantiles (<= 1/16 relative error),
 * log2 slots for the text chart, and the fixed Prometheus buckets shared by every node. */
#ifndef SYNFIN_STATS_H
#define SYNFIN_STATS_H

#include <stdint.h>
#include "synfin/events.h"

#define HIST_SUB_BITS 4
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_SLOTS ((64 - HIST_SUB_BITS + 1) * HIST_SUB)
#define HIST_LOG2_SLOTS 64

/* Prometheus `le` bounds in microseconds: a 1-2.5-5 series from 10 us to 120 s, dense
 * enough for loopback handshakes and WAN seconds, and 60 s for TIME_WAIT's fixed length. */
#define PROM_BUCKETS 22
extern const uint64_t prom_bucket_us[PROM_BUCKETS];

/* The last value that fell in one Prometheus bucket and whose connection it was: an
 * OpenMetrics exemplar, so that a slow bucket on a dashboard leads to the connection. */
struct hist_exemplar {
	uint64_t ts_ns;  /* when the phase ended (CLOCK_MONOTONIC); 0: no exemplar yet */
	uint64_t value_us;
	uint64_t cookie; /* 0: the kernel gave the socket none */
	struct synfin_conn_id id;
};

struct hist {
	uint64_t count;
	uint64_t sum_us;
	uint64_t min_us;
	uint64_t max_us;
	uint64_t slot[HIST_SLOTS];
	uint64_t prom[PROM_BUCKETS + 1]; /* last = above the largest bound (+Inf only) */
	struct hist_exemplar ex[PROM_BUCKETS + 1]; /* by the same buckets, not cumulative */
};

void hist_add(struct hist *h, uint64_t us);
/* hist_add, and e's connection becomes the exemplar of the bucket us falls in. */
void hist_add_conn(struct hist *h, uint64_t us, const struct synfin_event *e);
/* Sums the counts; each bucket keeps the later of the two exemplars. */
void hist_merge(struct hist *into, const struct hist *from);
/* q in [0, 1]; 0 for an empty histogram. Within 1/16 of the true value, clamped to min/max. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Count of values in the log2 slot [2^i, 2^(i+1)) (slot 0 also holds 0). */
uint64_t hist_log2_count(const struct hist *h, unsigned int i);
/* Cumulative count of values <= prom_bucket_us[i], as Prometheus `le` buckets want. */
uint64_t hist_prom_cumulative(const struct hist *h, unsigned int i);

#endif
