/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The metric table: every metric synfin exports, defined once (name, help, type, unit, labels,
 * and where its values come from). Exporters (Prometheus text, OpenMetrics, and any later
 * one) walk this table; none of them names a metric. Pure: no I/O, no libbpf. */
#ifndef SYNFIN_METRICS_H
#define SYNFIN_METRICS_H

#include <stdbool.h>
#include <stdint.h>
#include "lifecycle.h"
#include "session_info.h"
#include "stats.h"

enum metric_type {
	METRIC_COUNTER,   /* name without "_total"; exporters add the suffix */
	METRIC_GAUGE,
	METRIC_HISTOGRAM, /* fixed buckets prom_bucket_us[], exported in seconds */
	METRIC_INFO,      /* name without "_info"; value 1, the labels carry the information */
};

#define METRIC_MAX_LABELS 3

/* --by-port: handshake series per (side, port), the first max_series of them; the rest are
 * folded into port="other". Fed with the same accepted records as the summary, so the
 * per-port series always add up to the totals. */
#define PORT_SERIES_MAX 1000 /* a struct hist is ~8 KiB: 1000 series cost 8 MiB at most */

struct port_series {
	uint16_t port;
	uint8_t side; /* enum synfin_side */
	uint64_t retransmits;
	struct hist hs;
};

struct port_stats {
	unsigned int max_series;
	unsigned int n;                /* series in use, in order of first sight */
	struct port_series *series;    /* max_series entries */
	struct port_series other[2];   /* port="other", by side */
	uint64_t folded;               /* observations that went to port="other" */
	uint64_t folded_pairs;         /* distinct (side, port) pairs folded */
	uint16_t index[2][65536];      /* 1 + position in series[], 0 = not there */
	uint8_t folded_seen[2][65536 / 8];
};

/* 0, -EINVAL (max_series not in 1..PORT_SERIES_MAX) or -ENOMEM. */
int port_stats_init(struct port_stats *p, unsigned int max_series);
/* Counts a handshake record; other record types are ignored. */
void port_stats_add(struct port_stats *p, const struct synfin_event *e);
void port_stats_free(struct port_stats *p);

/* What the table reads. */
struct metric_src {
	const struct summary *sum;
	const struct session_info *ri;      /* NULL: live figures unknown, their families left out */
	const struct port_stats *ports; /* NULL: no per-port breakdown */
	const char *version;
};

/* One sample value: counters and gauges of integers stay exact beyond 2^53. */
struct metric_num {
	enum { NUM_U64, NUM_I64, NUM_F64 } kind;
	union {
		uint64_t u;
		int64_t i;
		double f;
	};
};

/* The exporter's side: called once per series, label values in the order of the family's
 * labels; a NULL value leaves that label out of the series (port without --by-port). */
struct metric_sink {
	void (*number)(struct metric_sink *k, const char *const *label_values,
		       const struct metric_num *v);
	void (*hist)(struct metric_sink *k, const char *const *label_values, const struct hist *h);
};

#define METRIC_NEEDS_RUN_INFO 0x1 /* only when src->ri is set */
#define METRIC_NEEDS_PORTS 0x2    /* only when src->ports is set */

struct metric_def {
	const char *name;  /* full family name, but counters without _total, info without _info */
	const char *help;
	enum metric_type type;
	const char *unit;  /* base unit the name ends with ("seconds"), or NULL */
	const char *labels[METRIC_MAX_LABELS]; /* NULL-terminated when shorter */
	unsigned int needs;
	void (*collect)(const struct metric_src *src, struct metric_sink *k);
};

extern const struct metric_def metric_table[];
extern const unsigned int metric_count;

/* Whether family m has series to export from src (its `needs` are met). */
bool metric_present(const struct metric_def *m, const struct metric_src *src);

#endif
