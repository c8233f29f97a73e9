/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What this kernel lets synfin do, found by loading probe programs (never by its version). */
#ifndef SYNFIN_KERNEL_FEATURES_H
#define SYNFIN_KERNEL_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "ns_counters.h"

struct features {
	bool sk_storage;       /* bpf_sk_storage_get() in tracing programs */
	bool socket_cookie;    /* bpf_get_socket_cookie() in tracing programs */
	bool rdonly_cast;      /* the bpf_rdonly_cast() kfunc */
	bool preempt_kfuncs;   /* bpf_preempt_disable()/bpf_preempt_enable() */
	bool cmpxchg;          /* BPF_CMPXCHG on map values: per-socket state in slots */
	bool recursion_misses; /* bpf_prog_info reports programs the kernel skipped */
	uint64_t tw_timer_fn;    /* tw_timer_handler's address, 0 = unknown */
	uint64_t reqsk_timer_fn; /* reqsk_timer_handler's address, 0 = unknown */
	const char *handlers_from; /* "calibration" or "/proc/kallsyms"; NULL when unknown */
	char handlers_why[192];    /* why they are unknown, or what calibration said */
	const char *missing_tracepoint; /* a tracepoint synfin cannot run without, absent here */
	bool no_timer_tracepoint;       /* timer_start or timer_cancel absent: handlers unused */
	/* TcpExtTW/TWKilled counted when a TIME_WAIT ends (tw_timer_handler()), not when it is
	 * scheduled: the self-audit then has no comparable count for time_wait */
	bool tw_counted_at_end;
	/* timer_start gives the wheel bucket's expiry, when the timer fires (bpf/synfin.bpf.c):
	 * a TIME_WAIT killed after its requested expiry is told from one that expired */
	bool timer_start_bucket;
	/* both reset tracepoints: resets counted, closes say why (bpf/reset.bpf.h) */
	bool resets;
	/* tcp_send_reset passes the kernel's reason (b533fb9cf4f7, 6.10) */
	bool rst_reason;
	/* tcp_send_reset fires for every reset, not only full sockets' (19822a980e19, 6.10) */
	bool rst_every_socket;
	/* listen() reads its namespace's counters (bpf/ns_counters.bpf.h) */
	struct ns_counters_loc ns_counters;
};

struct btf;

/* The tracepoints synfin attaches to, and whether it can run without each. check reports
 * them and features_probe() decides from the same list, so the two always agree. */
struct tracepoint_need {
	const char *name;
	bool required;
	const char *without; /* what is lost without it (optional ones) */
};
extern const struct tracepoint_need tracepoint_needs[];
extern const size_t tracepoint_needs_count;

/* True when the kernel's BTF has tracepoint name's tp_btf type (btf_trace_NAME), and
 * SYNFIN_DISABLE_FEATURES does not name it. */
bool features_has_tracepoint(const struct btf *vmlinux, const char *name);

/* Fills f. Each probe that fails only turns a feature off; returns 0, or -errno when not even
 * the probe object could be opened (no BTF, no BPF at all). */
int features_probe(struct features *f, char *err, size_t errlen);

#endif
