/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map layouts that user space reads directly (not through ring records): the value types and
 * sizes both sides must agree on. The maps themselves are defined in bpf/.
 */
#ifndef SYNFIN_MAPS_H
#define SYNFIN_MAPS_H

#include "synfin/events.h"

/* Live gauges, one per-CPU slot per kernel TCP state number (include/net/tcp_states.h has
 * 12 states; 16 leaves room for new ones without an ABI change). */
#define SYNFIN_GAUGE_SLOTS 16

/* Capacity of `conns_by_sk`, the per-socket state where SK_STORAGE is not usable in
 * tracing programs: connections between SYN and CLOSE at once (5 MB preallocated); beyond
 * that, new ones are counted as untracked. */
#define SYNFIN_CONNS_BY_SK_ENTRIES 65536

/* Value of the `timewaits` map, keyed by the timewait socket's timer address. */
struct tw_entry {
	__u64 start_ns;         /* timer first armed: the timewait socket was scheduled */
	__u64 cancel_ns;        /* early cancel not yet explained: a re-arm or a kill */
	struct synfin_event ev; /* the TIME_WAIT record, prefilled at start */
};

SYNFIN_ASSERT_SIZE(struct tw_entry, 184);

#endif /* SYNFIN_MAPS_H */
