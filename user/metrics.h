/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The metric table: every metric synfin exports, defined once: the Prometheus family (name,
 * help, type, unit, labels, where its values come from) and the dotted figures read from it
 * that --assert compares, the run report's "metrics" object holds and --baseline reads
 * (name, help; count or duration follows from the statistic). /metrics, the textfile,
 * run --prom, run --report, --assert, run --help and docs/ci-mode.md's list all come from
 * here; none of them names a metric. Pure: no I/O, no libbpf. */
#ifndef SYNFIN_METRICS_H
#define SYNFIN_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "lifecycle.h"
#include "session_info.h"
#include "stats.h"

enum metric_type {
	METRIC_COUNTER,   /* name without "_total"; exporters add the suffix */
	METRIC_GAUGE,
	METRIC_HISTOGRAM, /* fixed buckets prom_bucket_us[], exported in seconds */
	METRIC_INFO,      /* name without "_info"; value 1, the labels carry the information */
};

#define METRIC_MAX_LABELS 4

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

struct run_report;

/* What the table reads. */
struct metric_src {
	const struct summary *sum;
	const struct session_info *ri;  /* NULL: live figures unknown, their families left out */
	const struct port_stats *ports; /* NULL: no per-port breakdown */
	const struct run_report *run;   /* synfin run's outcome; NULL: not a run, synfin_run_* left out */
	const char *version;
	/* session_wall_offset_ns(), for the exemplars' timestamps; 0: unknown (none) */
	int64_t wall_offset_ns;
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

#define METRIC_NEEDS_RUN_INFO 0x1   /* reads src->ri */
#define METRIC_NEEDS_PORTS 0x2      /* reads src->ports */
#define METRIC_NEEDS_RUN 0x4        /* reads src->run */
#define METRIC_RUN_ONLY 0x8         /* exported only by synfin run (src->run set) */
#define METRIC_NEEDS_ASSERTIONS 0x10 /* only when the run has --assert (else no series) */
#define METRIC_NEEDS_LISTEN 0x20    /* reads src->ri->listen (listeners walked on this kernel) */
#define METRIC_NEEDS_RESETS 0x40    /* reads src->ri->resets (reset tracepoints on this kernel) */
#define METRIC_NEEDS_PORTS_HELD 0x80 /* reads src->ri->ports (TIME_WAIT followed) */

/* What a run metric takes from its family's series. */
enum metric_stat {
	STAT_VALUE, /* counters and gauges: the value (a count) */
	STAT_COUNT, /* histograms: how many values (a count) */
	STAT_P50,   /* histograms, durations in microseconds from here on */
	STAT_P90,
	STAT_P99,
	STAT_MAX,
};

/* A run metric: one figure of a family by a dotted name. */
struct run_metric {
	const char *name; /* an interface (CI scripts, baselines): add, never rename */
	enum metric_stat stat;
	/* The label values of the series it reads, NULL = any: several series are summed
	 * (counters) or merged (histograms). */
	const char *match[METRIC_MAX_LABELS];
	const char *help;
	/* Set for a figure of more than one family; the family's series are not read then. */
	double (*value)(const struct metric_src *src);
};

struct metric_def {
	const char *name;  /* full family name, but counters without _total, info without _info */
	const char *help;
	enum metric_type type;
	const char *unit;  /* base unit the name ends with ("seconds"), or NULL */
	const char *labels[METRIC_MAX_LABELS]; /* NULL-terminated when shorter */
	unsigned int needs;
	void (*collect)(const struct metric_src *src, struct metric_sink *k);
	const struct run_metric *run_metrics; /* ended by a NULL name; NULL: none */
};

extern const struct metric_def metric_table[];
extern const unsigned int metric_count;

/* Whether family m is exported from src: its needs are met and it has series. */
bool metric_present(const struct metric_def *m, const struct metric_src *src);

/* ---------------------------------------------------------------- run metrics, in table order */

#define RUN_METRIC_MAX 64

/* One value per run metric: counts, or durations in microseconds; NAN when unknown. */
struct run_values {
	double v[RUN_METRIC_MAX];
};

unsigned int run_metric_count(void);
/* The i-th run metric (NULL past the end) and the family it reads. */
const struct run_metric *run_metric(unsigned int i);
const struct metric_def *run_metric_family(unsigned int i);
/* Durations are in microseconds and take a unit in --assert; counts take none. */
bool run_metric_is_duration(unsigned int i);
/* Index of the name (len bytes), or -1. */
int run_metric_find(const char *name, size_t len);
/* The value of the metric called name, NAN when there is no such metric. */
double run_metric_value(const struct run_values *v, const char *name);
/* Every run metric from the summary and the session's figures (ri may be NULL: the live
 * figures count as 0). close_wait.max also covers sockets still in CLOSE_WAIT. */
void run_values_compute(struct run_values *out, const struct summary *s,
			const struct session_info *ri);
/* `synfin run --help`'s list: "  NAME  count|duration  HELP" per metric. */
void run_metrics_help(FILE *f);

#endif
