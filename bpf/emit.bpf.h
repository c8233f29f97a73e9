/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Ring-buffer records: reserve zeroed, fill from conn_state, submit without a wakeup. */
#ifndef SYNFIN_EMIT_BPF_H
#define SYNFIN_EMIT_BPF_H

#include "maps.bpf.h"

static __always_inline struct synfin_event *ev_reserve(__u8 type, __u64 now)
{
	struct synfin_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		count_drop(SYNFIN_DROP_RINGBUF);
		return NULL;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_ns = now;
	return e;
}

static __always_inline void ev_from_conn(struct synfin_event *e, const struct conn_state *cs)
{
	e->side = cs->side;
	e->flags = cs->flags;
	e->pid = cs->pid;
	e->cookie = cs->cookie;
	e->cgroup = cs->cgroup;
	if (cfg_comm) /* else zero, as reserved */
		__builtin_memcpy(e->comm, cs->comm, SYNFIN_COMM_LEN);
}

/* A default submit costs ~3.8 us on this class of VM (self-IPI per wakeup, docs/kernel-notes.md, "Cost per event");
 * user space drains on a short timer instead and is woken only when data piles up: by the
 * one record that carries the queue across cfg_wakeup_bytes, not by every record after it
 * (a consumer that falls behind would otherwise make each submit pay for a wakeup). */
#define EV_SLOT_BYTES (sizeof(struct synfin_event) + 8) /* + BPF_RINGBUF_HDR_SZ */

static __always_inline void ev_submit(struct synfin_event *e)
{
	__u64 queued = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	__u64 flags = BPF_RB_NO_WAKEUP;

	if (queued >= cfg_wakeup_bytes && queued < cfg_wakeup_bytes + EV_SLOT_BYTES)
		flags = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, flags);
}

#endif
