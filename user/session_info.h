/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What a session knows beyond the records it aggregated: figures read from the kernel's maps
 * and counters when asked (session_read_info). Its own header, so the pure renderers and the
 * metric table can read it without the session's libbpf side. */
#ifndef SYNFIN_SESSION_INFO_H
#define SYNFIN_SESSION_INFO_H

#include <stdint.h>
#include "audit.h"
#include "synfin/maps.h"

struct listen_stats;
struct reset_counts;
struct port_headroom;

struct session_info {
	uint64_t lost;                  /* records the kernel could not queue (ring buffer full) */
	uint64_t untracked;             /* connections not tracked: socket storage or map full */
	uint64_t children_aborted;      /* accepted children dead before ESTABLISHED */
	uint64_t syn_stale;             /* SYN arrivals left by dead requests, not taken */
	uint64_t syn_unrecorded;        /* SYN arrivals the SYN map could not store */
	uint64_t duration_ms;           /* how long synfin observed */
	int64_t gauges[SYNFIN_GAUGE_SLOTS];  /* sockets now in each kernel TCP state (observed ones) */
	uint64_t close_wait_oldest_us;
	struct audit_result audit;      /* synfin against the kernel's counters (audit.h) */
	/* listeners' queues and drops (user/listen_model.h), valid until the next poll; NULL
	 * where this kernel lets synfin walk no listener */
	const struct listen_stats *listen;
	/* resets sent and received (user/resets.h), valid until the next read; NULL where the
	 * kernel has no reset tracepoints */
	const struct reset_counts *resets;
	/* ports held per destination (user/ports.h), valid until the next read; NULL where
	 * TIME_WAIT is not followed (--no-time-wait, unknown timer handlers) */
	const struct port_headroom *ports;
};

#endif
