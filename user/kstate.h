/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* State the kernel side keeps in maps rather than sends: live gauges, open CLOSE_WAITs, and
 * timewait sockets cancelled early whose end only time can tell. */
#ifndef SYNFIN_KSTATE_H
#define SYNFIN_KSTATE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "synfin/events.h"
#include "synfin/maps.h"
#include "resets.h"

/* Sums keys 0..nkeys-1 of a per-CPU array of 64-bit counters over the CPUs. */
int kstate_percpu_sum(int fd, unsigned int nkeys, int64_t *out);
/* Sockets now in each TCP state, summed over CPUs. */
int kstate_gauges(int gauges_fd, int64_t out[SYNFIN_GAUGE_SLOTS]);
/* Every destination of ports_by_dest (bpf/ports.bpf.h), with its ncpu per-CPU shares. */
typedef void (*kstate_port_fn)(void *ctx, const struct port_dest_key *key,
			       const struct port_dest *cpus, int ncpu);
int kstate_ports(int fd, kstate_port_fn fn, void *ctx);
/* The `resets` counters (bpf/reset.bpf.h) summed over CPUs: 0 or -errno. */
int kstate_resets(int fd, struct reset_counts *out);

/* A TIME_WAIT the sweep ended; holds_port: its connection's port was counted in
 * ports_by_dest, which only the kernel side writes, so user space gives it back itself. */
typedef void (*kstate_event_fn)(void *ctx, const struct synfin_event *e, bool holds_port);

/* Ends as "killed" every timewait entry cancelled at least grace_ns ago and not re-armed
 * (pending_fd indexes those), deleting it and passing its record to fn. Returns how many
 * ended, or -errno. */
int kstate_sweep_timewaits(int timewaits_fd, int pending_fd, uint64_t now_ns, uint64_t grace_ns,
			   kstate_event_fn fn, void *ctx);

/* Visits every socket now in CLOSE_WAIT: a key unique to the socket while it lives (its
 * address, or its slot's owner) and a STATE record with ts_ns = entry time. Those whose state
 * lives in a slot of slots_fd whose bit is set in cw_bits (cw_words words, mapped), or in
 * conns_by_sk (struct conn_state, cur_state), and those in the close_waits map (the overflow
 * into SK_STORAGE keeps its CLOSE_WAITs there). Returns how many, or -errno. */
typedef void (*kstate_close_wait_fn)(void *ctx, __u64 key, const struct synfin_event *e);
int kstate_close_waits(const uint64_t *cw_bits, uint32_t cw_words, int slots_fd, int conns_fd,
		       int close_waits_fd, kstate_close_wait_fn fn, void *ctx);

#endif
