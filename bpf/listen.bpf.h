/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Listeners, for the accept-queue gauges and the drops per listener. Nothing here runs per
 * connection: a listener enters `listeners` once, when it enters TCP_LISTEN (or at seeding,
 * for one that already listened), and leaves it at the first sample after its LISTEN ->
 * CLOSE. User space samples them
 * in batches at each sweep by running synfin_listen_sample with BPF_PROG_TEST_RUN: a raw_tp
 * program attached nowhere, handed up to LISTEN_BATCH of the listeners' addresses as its
 * arguments (1b4d60ec162f, "bpf: Enable BPF_PROG_TEST_RUN for raw_tracepoint", 5.10: every
 * kernel synfin loads on).
 * A walk by iterator would hold the sockets, but iter/bpf_sk_storage_map is refused with
 * EPERM on hardened kernels that allow iter/tcp (seen on 6.18), and iter/tcp walks one
 * namespace per setns(), which synfin can no longer do once its capabilities are dropped.
 *
 * A listener may close between the lookup and the sample: every field is read with
 * bpf_probe_read_kernel (a freed socket reads as garbage, never a fault), and the sample
 * counts only when the socket still listens and has the cookie it had.
 *
 * What the sample reads is what `ss -ltn` shows: sk_ack_backlog (Recv-Q) and
 * sk_max_ack_backlog (Send-Q); and the listener's own drop count: tcp_listendrop() adds one
 * to sk_drops each time it adds one to the netns' ListenDrops (9caad864151e, "tcp: increment
 * sk_drops for listeners", 4.7; `ss -ltnm` shows it as "d"), so which listener dropped is
 * known on every kernel without a hook in the SYN path. The reasons come from the netns' counters (user/listen_model.c): the
 * kfree_skb tracepoint would not do, as a SYN dropped for a full accept or SYN queue is
 * freed by consume_skb() (tcp_rcv_state_process() once conn_request() returned), which
 * reaches no drop-reason tracepoint; only the final ACK that finds the accept queue full
 * carries SKB_DROP_REASON_TCP_LISTEN_OVERFLOW (6.18, 50 connects to listen(2): 94
 * ListenOverflows, 0 kfree_skb with that reason; docs/kernel-notes.md).
 */
#ifndef SYNFIN_LISTEN_BPF_H
#define SYNFIN_LISTEN_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "ns_counters.bpf.h"

/* Keyed by the listener's address; what it was when it started listening. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYNFIN_LISTENERS_MAX);
	__type(key, __u64);
	__type(value, struct synfin_listener);
} listeners SEC(".maps");

/* One test run's answers, read by user space through the mmapped .bss. */
struct synfin_listener listen_out[SYNFIN_LISTEN_BATCH];

/* At TCP_LISTEN (task context: listen()) and at seeding. The user's filters are applied
 * here, where the socket is the tracepoint's own. The port is read by the sample: a socket
 * that listen() binds itself gets it only after this transition (inet_csk_listen_start()). */
static __always_inline void listen_mark(const struct sock *sk, bool in_listen)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct synfin_listener v = {};
	__u64 key = (__u64)sk;

	v.netns = skc_netns(skc);
	if (!skc_wanted(skc, v.netns) || !sk_cgroup_wanted(sk, sk_cgroup_id(sk)))
		return;
	v.cookie = sk_cookie(sk);
	v.family = skc->skc_family == AF_INET6 ? 6 : 4;
	/* at seeding, current is synfin, in that namespace only for the seed pass */
	if (in_listen && BPF_CORE_READ(task, nsproxy, net_ns, ns.inum) == v.netns)
		v.pid = bpf_get_current_pid_tgid() >> 32;
	/* once per listen(), never per connection */
	if (in_listen && ns_counters_sum(skc->skc_net.net, v.ns_at_listen))
		v.flags |= SYNFIN_LISTENER_NS_AT_LISTEN;
	if (bpf_map_update_elem(&listeners, &key, &v, BPF_ANY))
		count_drop(SYNFIN_DROP_LISTENMAP);
}

/* Some sockets count drops per NUMA node since c51613fa276f ("net: add sk->sk_drop_counters",
 * 6.18; UDP and raw ones so far): sk_drops_read() sums those when the socket has them. */
static __always_inline __u64 sk_drops_now(const struct sock *sk)
{
	const struct numa_drop_counters *ndc;

	if (bpf_core_field_exists(sk->sk_drop_counters)) {
		ndc = BPF_CORE_READ(sk, sk_drop_counters);
		if (ndc)
			return (__u32)BPF_CORE_READ(ndc, drops0.counter) +
			       (__u32)BPF_CORE_READ(ndc, drops1.counter);
	}
	return (__u32)BPF_CORE_READ(sk, sk_drops.counter);
}

/* At LISTEN -> CLOSE, in tcp_set_state() before the socket is unhashed and its port put
 * back: its last figures stay in the entry for the next sample, which user space reads
 * once and then deletes. Deleting it here lost the drops since the last sample, all of them
 * for a listener that lived less than a sweep (a `synfin run` whose command listened, was
 * hit and exited within 200 ms reported 0 drops). */
static __always_inline void listen_close(const struct sock *sk)
{
	struct synfin_listener *v;
	__u64 key = (__u64)sk;

	v = bpf_map_lookup_elem(&listeners, &key);
	if (!v)
		return;
	v->drops = sk_drops_now(sk);
	v->port = sk->__sk_common.skc_num;
	v->ack_backlog = 0;
	v->flags |= SYNFIN_LISTENER_CLOSED;
	__builtin_memset(v->ns_at_close, 0, sizeof(v->ns_at_close));
	if (ns_counters_sum(sk->__sk_common.skc_net.net, v->ns_at_close))
		v->flags |= SYNFIN_LISTENER_NS_AT_CLOSE;
}

/* Fills out from the listener at addr; out->port = 0 when it is not listening now. One
 * whose LISTEN -> CLOSE was missed (a recursion miss) and whose memory went to another
 * object has another cookie: it is forgotten here (kernels without cookies keep it, as a
 * socket that does not listen). */
static __always_inline void listen_read(__u64 addr, struct synfin_listener *out)
{
	const struct sock *sk = (const struct sock *)addr;
	const struct synfin_listener *v = bpf_map_lookup_elem(&listeners, &addr);
	__u64 cookie;

	out->port = 0;
	if (!v)
		return; /* closed meanwhile */
	if (v->flags & SYNFIN_LISTENER_CLOSED) {
		/* read once, here, then gone; the socket's memory may be another object's by
		 * now, so only the entry is read */
		*out = *v;
		bpf_map_delete_elem(&listeners, &addr);
		return;
	}
	cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	if (v->cookie && cookie != v->cookie) {
		bpf_map_delete_elem(&listeners, &addr);
		return;
	}
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN)
		return; /* not yet, or closing */
	out->cookie = v->cookie;
	out->netns = v->netns;
	out->family = v->family;
	out->pid = v->pid;
	out->flags = v->flags;
	__builtin_memcpy(out->ns_at_listen, v->ns_at_listen, sizeof(out->ns_at_listen));
	out->drops = sk_drops_now(sk);
	out->ack_backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	out->max_ack_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	out->port = BPF_CORE_READ(sk, __sk_common.skc_num);
}

#endif
