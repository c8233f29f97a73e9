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
 *     SYN_SENT by synfin's account.
 *   - tcp_destroy_sock: on_destroy() finds no state where the first program did its work
 *     (or the socket's CLOSE was seen, which is nearly always), so the catcher just runs it
 *     again. Most of the first program's misses were nothing to do: the loader counts as
 *     lost only what both programs may have skipped (user/loader.c).
 * The timer hooks have no catcher: their tracepoints fire with interrupts off, so they never
 * nest (bpf/synfin.bpf.c).
 * Per-CPU notes of "the last event handled" are not enough: a softirq batch that interrupts
 * the catcher's own check overwrites them and the event is handled twice (seen on 7.2 under
 * TCG); nor is a per-CPU "first program running" mark: the kernel counts the first program
 * active for a few instructions before and after its body, and transitions delivered then
 * were lost (4-130 per 10 s storm). A miss the catcher does not take (the catcher itself
 * skipped on the same event) is counted: lost = the first program's misses minus the catches.
 */
#ifndef SYNFIN_CATCH_BPF_H
#define SYNFIN_CATCH_BPF_H

#include "maps.bpf.h"

/* Events each catcher handled in its first program's place, per enum synfin_hook. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_HOOK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} caught SEC(".maps");

/* In a catcher, once it decided to take an event: counts it, returns 1. */
static __always_inline int catch_event(__u32 hook)
{
	__u64 *n = bpf_map_lookup_elem(&caught, &hook);

	if (n)
		*n += 1;
	return 1;
}

#endif
