/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Recursion catchers. The kernel runs a tracing program at most once per CPU at a time:
 * a tracepoint that fires while the same program runs (a softirq interrupting a task-context
 * transition) skips it and counts a recursion miss (__bpf_trace_run(), "bpf: Count the number
 * of times recursion was prevented", 9ed9e9ba2337). Each hot hook therefore has two
 * programs, attached in this order: the first notes the event it is handling, the catcher
 * runs right after it and works only when that note is not its own event, i.e. when the
 * first program was skipped. The catcher never writes the note, so an event it handled in a
 * nested run cannot make it handle the interrupted one a second time.
 */
#ifndef SYNFIN_CATCH_BPF_H
#define SYNFIN_CATCH_BPF_H

#include "maps.bpf.h"

struct seen {
	__u64 a;
	__u64 b;
};

/* The event each first program is handling on this CPU, per enum synfin_hook. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_HOOK_MAX);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

/* Events each catcher handled in its first program's place, per enum synfin_hook. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_HOOK_MAX);
	__type(key, __u32);
	__type(value, __u64);
} caught SEC(".maps");

static __always_inline void seen_note(__u32 hook, __u64 a, __u64 b)
{
	struct seen *s = bpf_map_lookup_elem(&seen, &hook);

	if (s) {
		s->a = a;
		s->b = b;
	}
}

/* In a catcher: was the first program skipped for this event? Counts it when so. */
static __always_inline int seen_missed(__u32 hook, __u64 a, __u64 b)
{
	struct seen *s = bpf_map_lookup_elem(&seen, &hook);
	__u64 *n;

	if (!s || (s->a == a && s->b == b))
		return 0;
	n = bpf_map_lookup_elem(&caught, &hook);
	if (n)
		*n += 1;
	return 1;
}

#endif
