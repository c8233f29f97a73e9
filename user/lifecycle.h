/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Pure: records from the kernel -> connection facts and their aggregates. No libbpf, no I/O,
 * no clock: the unit tests replay recorded sequences through exactly this code. */
#ifndef SYNFIN_LIFECYCLE_H
#define SYNFIN_LIFECYCLE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "synfin/events.h"
#include "stats.h"

/* User-space filters (netns, cgroup and family are applied in the kernel). */
struct filter {
	uint32_t pid;  /* 0 = any */
	uint16_t port; /* local or remote; 0 = any */
	uint64_t cookie; /* one socket, from its handshake to its TIME_WAIT's end; 0 = any */
};

struct summary {
	uint64_t events[SYNFIN_EV_TYPE_MAX]; /* accepted records by type */
	uint64_t malformed;                  /* records that failed validation, not counted */
	struct hist handshake[2];            /* by enum synfin_side: measured latencies only */
	uint64_t handshake_retransmits[2];
	uint64_t handshake_estimated[2];     /* records marked estimated, unmeasured included */
	struct hist handshake_estimate[2];   /* the latencies of the estimated, apart */
	uint64_t handshake_unmeasured[2];    /* estimated with nothing to estimate from */
	uint64_t connect_fail[SYNFIN_FAIL_REASON_MAX];
	uint64_t connect_fail_retransmits;
	uint64_t closes[SYNFIN_INIT_MAX][SYNFIN_HOW_MAX];
	uint64_t closes_partial;             /* started before synfin: no lifetime */
	uint64_t closes_incomplete;          /* recorded at destruction: a transition was missed */
	struct hist lifetime;
	struct hist close_wait;              /* time spent in CLOSE_WAIT, closes that visited it */
	struct hist time_wait[SYNFIN_TW_END_MAX]; /* TIME_WAITs seen from their start */
	uint64_t time_wait_partial[SYNFIN_TW_END_MAX]; /* found at start: no full duration */
	uint64_t tw_entries;                 /* closes that handed over to a TIME_WAIT socket */
	uint64_t tw_live;                    /* TIME_WAITs handed over and not yet ended */
	uint64_t tw_peak;
};

/* Where a handshake record's latency belongs: only a measured one enters the histograms of
 * handshake latency (a SYN cookie's estimate can read 64 ms high, SYNFIN_F_ESTIMATED), and an
 * unmeasured one (SYNFIN_F_UNMEASURED) has no latency at all. */
enum handshake_kind {
	HANDSHAKE_MEASURED = 0,
	HANDSHAKE_ESTIMATED = 1,
	HANDSHAKE_UNMEASURED = 2,
};
enum handshake_kind handshake_kind(const struct synfin_event *e);

/* 0 if e is a well-formed record, -EINVAL otherwise (bad enum, family, impossible value). */
int lifecycle_validate(const struct synfin_event *e);
bool lifecycle_wanted(const struct filter *f, const struct synfin_event *e);
/* Validates and aggregates e; returns 0 or -EINVAL (then counted in malformed only). */
int summary_add(struct summary *s, const struct synfin_event *e);

/* Totals over the summary's breakdowns: every reason, every initiator and how. */
uint64_t summary_connect_failures(const struct summary *s);
uint64_t summary_closes(const struct summary *s);

/* A timewait entry cancelled early, with no re-arm or reuse following within grace_ns, was
 * killed (RST, ss -K): build its end record. Returns false while it may still be a re-arm. */
bool tw_pending_resolve(const struct synfin_event *tw_start, uint64_t start_ns,
			uint64_t cancel_ns, uint64_t now_ns, uint64_t grace_ns,
			struct synfin_event *out);

#endif
