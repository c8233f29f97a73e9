/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What differs between the kernels synfin supports (5.10 to the newest), in one place.
 * Every choice here is made by feature detection, never by kernel version: either the loader
 * probed the feature and wrote the answer into .rodata before load (the verifier then
 * prunes the branch the kernel cannot run), or CO-RE asks the running kernel's BTF. Each
 * fallback names the kernel commit that forced it; docs/kernel-notes.md has the story.
 */
#ifndef SYNFIN_COMPAT_BPF_H
#define SYNFIN_COMPAT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* Set by user/kernel_features.c from probe programs (bpf/probe.bpf.c), before load. */

/* bpf_sk_storage_get() in tracing programs: 8e4597c627fb ("bpf: Allow using bpf_sk_storage
 * in FENTRY/FEXIT/RAW_TP"), 5.11. Without it, per-socket state lives in a hash keyed by the
 * socket's address and the listener's owner is unknown. */
const volatile __u8 cfg_sk_storage = 1;
/* bpf_get_socket_cookie() in tracing programs: c5dbb89fc2ac ("bpf: Expose
 * bpf_get_socket_cookie to tracing programs"), 5.12. Without it, the cookie is read from the
 * socket and is 0 (shown as null) unless something else already generated it. */
const volatile __u8 cfg_socket_cookie = 1;
/* The bpf_rdonly_cast() kfunc: a35b9af4ec2c ("bpf: Add a kfunc for generic type cast"),
 * 6.2. Without it, the objects behind a timer are copied with bpf_probe_read_kernel(). */
const volatile __u8 cfg_rdonly_cast = 1;

/* BPF_CMPXCHG on map values: 5ffa25502b5a ("bpf: Add instructions for atomic_[cmp]xchg"),
 * and atomic AND/OR: 981f94c3e921 ("bpf: Add bitwise atomic instructions"), both 5.12. They
 * claim and mark a slot of `conn_slots` (bpf/maps.bpf.h); without them the per-socket state
 * starts in the hash, as before the slots. */
const volatile __u8 cfg_cmpxchg = 1;
/* What the code tests. Before 5.12 the verifier refuses a program holding any atomic but an
 * add, even in code it would prune: resolve_pseudo_ldimm64() checks every instruction's
 * reserved fields before it walks any ("BPF_STX uses reserved fields", seen on 5.10). The
 * loader opens a second build of this source there, made with SYNFIN_NO_ATOMICS (the
 * Makefile checks that its maps and globals are the same), whose code has none. */
#ifdef SYNFIN_NO_ATOMICS
#define HAVE_CMPXCHG 0
#else
#define HAVE_CMPXCHG cfg_cmpxchg
#endif

/* bpf_preempt_disable()/bpf_preempt_enable(): fc7566ad0a82 ("bpf: Introduce
 * bpf_preempt_[disable,enable] kfuncs"), 6.10. Needed since a46023d5616e ("tracing: Guard
 * __DECLARE_TRACE() use of __DO_TRACE_CALL() with SRCU-fast") runs tracepoint probes with
 * preemption as the caller left it (BPF disables only migration): a task preempted inside a
 * synfin program makes every other task's event on that CPU a recursion miss until it runs
 * again (catch.bpf.h). Before that commit tracepoints disable preemption themselves, so
 * without the kfuncs nothing is lost. */
const volatile __u8 cfg_preempt_kfuncs = 1;

/* Addresses of the two timer handlers synfin follows, found by user/calibrate.c (or from
 * /proc/kallsyms); 0 = unknown, and the timer hooks then match nothing. */
const volatile __u64 cfg_tw_timer_fn = 0;
const volatile __u64 cfg_reqsk_timer_fn = 0;

/* The namespace counters listen() reads: bpf/ns_counters.bpf.h (cfg_ns_counters). */

/* Weak: libbpf leaves an unresolved weak kfunc as a call with imm 0, which the verifier
 * accepts in code it prunes (a5d827275241, "bpf: Be conservative while processing invalid
 * kfunc calls", 5.16; kernels before kfunc support never look at pruned code). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
extern void bpf_preempt_disable(void) __ksym __weak;
extern void bpf_preempt_enable(void) __ksym __weak;

/* Around the body of every program that can run in task context (compat: cfg_preempt_kfuncs).
 * What stays preemptible is the kernel's dispatch around the program: a few instructions. */
static __always_inline void no_preempt_begin(void)
{
	if (cfg_preempt_kfuncs)
		bpf_preempt_disable();
}

static __always_inline void no_preempt_end(void)
{
	if (cfg_preempt_kfuncs)
		bpf_preempt_enable();
}

/* One scratch copy per program that views timer objects: a program never nests with itself
 * on a CPU (the kernel skips it and counts a recursion miss), and each has its own slot so
 * that no other program can overwrite the copy it reads. */
enum kobj_slot {
	KOBJ_SLOT_TIMER_START = 0,
	KOBJ_SLOT_TIMER_CANCEL = 1,
	KOBJ_SLOTS,
};

/* 512 bytes: tcp_request_sock is 312 on 6.18, inet_timewait_sock 216; larger types are
 * truncated and their tail reads as zeros, never as another object's bytes. */
#define KOBJ_COPY_BYTES 512
struct kobj_copy {
	__u8 b[KOBJ_COPY_BYTES];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KOBJ_SLOTS);
	__type(key, __u32);
	__type(value, struct kobj_copy);
} kobj_copies SEC(".maps");

/* A kernel object reached by pointer arithmetic (container_of on a timer), made readable
 * with direct loads: the kfunc's untrusted BTF pointer, or a per-CPU copy. Pointers inside
 * a copy are plain numbers: follow them with BPF_CORE_READ, never with a direct load. */
static __always_inline void *kobj_view(void *obj, __u32 btf_id, __u32 size, __u32 slot)
{
	struct kobj_copy *c;

	if (cfg_rdonly_cast)
		return bpf_rdonly_cast(obj, btf_id);
	c = bpf_map_lookup_elem(&kobj_copies, &slot);
	if (!c)
		return NULL;
	if (size > KOBJ_COPY_BYTES)
		size = KOBJ_COPY_BYTES;
	if (bpf_probe_read_kernel(c->b, size, obj))
		return NULL;
	return c->b;
}

#define KOBJ_VIEW(type, ptr, slot)                                                                 \
	((type *)kobj_view((void *)(ptr), bpf_core_type_id_kernel(type), bpf_core_type_size(type), \
			   slot))

/* The netns inode of a socket reached through a view (pointer chased by probe read). */
static __always_inline __u32 view_netns(const struct sock_common *skc)
{
	struct net *net = skc->skc_net.net;

	return BPF_CORE_READ(net, ns.inum);
}

/* check_net(): a dying namespace has dropped its last counted reference; cleanup_net() then
 * purges its timewait sockets (inet_twsk_purge). Where the count lives moved twice: struct
 * net's own `count` until 5.10, ns_common.count from 5.11 ("ns: Add a common refcount into
 * ns_common", "net: Use generic ns_common::count"), ns_common.__ns_ref from 6.18
 * (024596a4e280, "ns: rename to __ns_ref"). net may come from a view. */
struct ns_common___count {
	refcount_t count;
} __attribute__((preserve_access_index));

struct net___ns_count {
	struct ns_common___count ns;
} __attribute__((preserve_access_index));

struct net___own_count {
	refcount_t count;
} __attribute__((preserve_access_index));

static __always_inline int net_dismantling(const struct net *net)
{
	const struct net___ns_count *n511 = (const void *)net;
	const struct net___own_count *n510 = (const void *)net;

	if (bpf_core_field_exists(net->ns.__ns_ref))
		return BPF_CORE_READ(net, ns.__ns_ref.refs.counter) == 0;
	if (bpf_core_field_exists(n511->ns.count))
		return BPF_CORE_READ(n511, ns.count.refs.counter) == 0;
	return BPF_CORE_READ(n510, count.refs.counter) == 0;
}

/* sock_cgroup_data became a plain cgroup pointer in 8520e224f547 ("bpf, cgroups: Fix
 * cgroup v2 fallback on v1/v2 mixed mode"), 5.15. Before, val held the pointer unless its
 * low bits flagged cgroup v1 data, in which case the socket counts as the root cgroup. */
struct sock_cgroup_data___old {
	__u64 val;
} __attribute__((preserve_access_index));

/* The socket's cgroup v2, or NULL for the root (and for flagged v1 data before 5.15). */
static __always_inline const struct cgroup *sk_cgroup(const struct sock *sk)
{
	const struct sock_cgroup_data___old *old;
	__u64 v;

	if (bpf_core_field_exists(sk->sk_cgrp_data.cgroup))
		return BPF_CORE_READ(sk, sk_cgrp_data.cgroup);
	old = (const void *)&sk->sk_cgrp_data;
	v = BPF_CORE_READ(old, val);
	if (!v || (v & 3))
		return NULL;
	return (const struct cgroup *)v;
}

static __always_inline __u64 sk_cgroup_id(const struct sock *sk)
{
	const struct cgroup *cg = sk_cgroup(sk);

	return cg ? BPF_CORE_READ(cg, kn, id) : 1; /* cgrp_dfl_root: kernfs ids start at 1 */
}

/* Is the socket in cgroup `want` or below it? `synfin run`'s CMD may make cgroups of its
 * own (systemd-run, Docker, a test harness): their sockets are CMD's too. Walks up the
 * parents (cgroup.self is the cgroup's own css), at most CGROUP_MAX_DEPTH levels. */
#define CGROUP_MAX_DEPTH 32
static __always_inline bool sk_in_cgroup_subtree(const struct sock *sk, __u64 want)
{
	const struct cgroup *cg = sk_cgroup(sk);
	const struct cgroup_subsys_state *css;
	int i;

	if (!cg)
		return want == 1;
	for (i = 0; i < CGROUP_MAX_DEPTH; i++) {
		if (BPF_CORE_READ(cg, kn, id) == want)
			return true;
		css = BPF_CORE_READ(cg, self.parent);
		if (!css)
			return false;
		cg = (const void *)css - bpf_core_field_offset(struct cgroup, self);
	}
	return false;
}

static __always_inline __u64 sk_cookie(const struct sock *sk)
{
	if (cfg_socket_cookie)
		return bpf_get_socket_cookie((void *)sk);
	return sk->__sk_common.skc_cookie.counter;
}

/* tcp_sock.total_rto and total_rto_time: 3868ab0f1925 ("tcp: new TCP_INFO stats for RTO
 * events"), 6.7. Without them a handshake whose SYN-ACK timed out has no estimate (0). */
static __always_inline __u64 tp_rto_time_us(const struct tcp_sock *tp)
{
	if (!bpf_core_field_exists(tp->total_rto))
		return 0;
	if (!tp->total_rto)
		return 0;
	return (__u64)tp->total_rto_time * 1000; /* ms, from the first SYN-ACK */
}

/* One tick of the connection's TCP timestamp clock, in us: 1 ms, or 1 us where the connection
 * negotiated usec timestamps (tcp_sock.tcp_usec_ts, 614e8316aa4c "tcp: add support for usec
 * resolution in TCP TS values", 6.7). */
static __always_inline __u32 tp_ts_tick_us(const struct tcp_sock *tp)
{
	if (bpf_core_field_exists(tp->tcp_usec_ts) && BPF_CORE_READ_BITFIELD_PROBED(tp, tcp_usec_ts))
		return 1;
	return 1000;
}

/* Did the connection negotiate TCP timestamps? tcp_create_openreq_child() and
 * tcp_finish_connect() grow the header by the option exactly then. (Read as a plain field:
 * the rx_opt.tstamp_ok bitfield, read in the same place, came out 0 for 7 of 20 cookie
 * children that did use timestamps, on 6.18.) */
static __always_inline int tp_tstamp_ok(const struct tcp_sock *tp)
{
	return tp->tcp_header_len > 20; /* sizeof(struct tcphdr) */
}

#endif
