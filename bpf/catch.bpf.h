/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recursion catchers. The kernel runs a tracing program at most once per CPU at a time:
 * a tracepoint that fires while the same program runs (a softirq interrupting a task-context
 * transition, or, on kernels whose tracepoints leave preemption on, another task after a
 * preemption: a46023d5616e) skips it and counts a recursion miss (__bpf_trace_run(), "bpf:
 * Count the number of times recursion was prevented", 9ed9e9ba2337). Migration stays off in
 * either case, so per-CPU scratch private to one program is still safe: only one run of each
 * program is live on a CPU at a time. Each hot hook therefore has a second
 * program, the catcher, called for every event after the first (the loader attaches the
 * catchers in a second pass), which does the work only when the first program cannot have:
 *   - inet_sock_set_state: the socket's own state says whether its transition was applied
 *     (conn_state.cur_state == the transition's old state: not yet), exact whatever else ran
 *     on the CPU meanwhile; a new server child is taken whenever it has no state yet (where
 *     the first program already declined it, the filters decline it again); listen() and
 *     connect() are taken when the listener has no owner yet or the socket is not in
 *     SYN_SENT by synfin's account;
 *   - the timer hooks: while the first program is marked running.
 * Per-CPU notes of "the last event handled" are not enough: a softirq batch that interrupts
 * the catcher's own check overwrites them and the event is handled twice (seen on 7.2 under
 * TCG). A miss no catcher takes (in the instants before the mark is set or after it is
 * cleared) is counted: lost = the first program's misses minus the catches. The mark is set
 * before preemption is disabled and cleared after it is enabled again: bpf_preempt_enable()
 * is where a task is most likely preempted (need_resched), with the kernel still counting
 * the program as active on its CPU.
 */
#ifndef SYNFIN_CATCH_BPF_H
#define SYNFIN_CATCH_BPF_H

#include "maps.bpf.h"

/* 1 while the first program of each enum synfin_hook runs on this CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_HOOK_MAX);
	__type(key, __u32);
	__type(value, __u32);
} running SEC(".maps");

/* Events each catcher handled in its first program's place, per enum synfin_hook. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_HOOK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} caught SEC(".maps");

/* In a first program: marks it running; running_end() clears what this returns. */
static __always_inline __u32 *running_begin(__u32 hook)
{
	__u32 *r = bpf_map_lookup_elem(&running, &hook);

	if (r)
		*r = 1;
	return r;
}

static __always_inline void running_end(__u32 *r)
{
	if (r)
		*r = 0;
}

static __always_inline int first_running(__u32 hook)
{
	__u32 *r = bpf_map_lookup_elem(&running, &hook);

	return r && *r;
}

/* In a catcher, once it decided to take an event: counts it, returns 1. */
static __always_inline int catch_event(__u32 hook)
{
	__u64 *n = bpf_map_lookup_elem(&caught, &hook);

	if (n)
		*n += 1;
	return 1;
}

#endif
