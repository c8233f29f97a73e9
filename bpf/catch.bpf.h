/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recursion catchers. The kernel runs a tracing program at most once per CPU at a time:
 * a tracepoint that fires while the same program runs (a softirq interrupting a task-context
 * transition) skips it and counts a recursion miss (__bpf_trace_run(), "bpf: Count the number
 * of times recursion was prevented", 9ed9e9ba2337). Each hot hook therefore has two
 * programs. The first marks "running" on its CPU for as long as it works; the catcher,
 * called beside it for every event, works only while that mark is set, which can only mean
 * it interrupted the first program, which was skipped for this event. Otherwise the first
 * program has handled or will handle the event, and the catcher returns, in whichever order
 * the tracepoint calls them and even if another first-program run came and went meanwhile
 * (a note of "the last event handled" is overwritten then and the event handled twice: seen
 * on 7.2 under TCG).
 * A miss in the instant before the mark is set or after it is cleared is not caught; it is
 * counted as lost (the first program's misses minus the catches).
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

/* In a first program: returns the mark to clear with running_end() (NULL: none). */
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

/* In a catcher: was the first program skipped for this event? Counts it when so. */
static __always_inline int first_was_skipped(__u32 hook)
{
	__u32 *r = bpf_map_lookup_elem(&running, &hook);
	__u64 *n;

	if (!r || !*r)
		return 0;
	n = bpf_map_lookup_elem(&caught, &hook);
	if (n)
		*n += 1;
	return 1;
}

#endif
