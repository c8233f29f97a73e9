/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Resets: every RST the observed sockets send or take, counted by direction, reason and
 * state (the `resets` counters), and the first one of each tracked connection carried into
 * its close record.
 *
 * Two tracepoints, on every kernel synfin loads on: tcp_send_reset (c24b14c46bb8, "tcp: add
 * tracepoint trace_tcp_send_reset", 4.15) and tcp_receive_reset, which fires in tcp_reset().
 *  - tcp_send_reset has carried the kernel's reason (enum sk_rst_reason) since b533fb9cf4f7
 *    ("rstreason: make it work in trace world", 6.10): the loader picks
 *    synfin_send_reset_why where the tracepoint's prototype has the argument, else
 *    synfin_send_reset, which tells an active reset (no skb: the socket aborted itself) from
 *    a reply.
 *  - Before 19822a980e19 ("trace: tcp: fully support trace_tcp_send_reset", 6.10) it fired
 *    for full sockets only: replies from a timewait socket or from no socket at all are not
 *    seen there (user space says so: feature rst_every_socket).
 *  - tcp_reset() also runs for data arriving after close() (tcp_rcv_state_process(), FIN_WAIT1
 *    and FIN_WAIT2 with RCV_SHUTDOWN: TcpExtTCPAbortOnData), and the kernel then sends a
 *    reset for that same socket from the same softirq. Such a "received" reset is noted per
 *    CPU and moved to the send side when the send follows.
 *  - The kernel sends the reset of close() with unread data, of SO_LINGER 0 and of
 *    tcp_disconnect() right after the socket's CLOSE: that close record waits for it
 *    (conn_fsm.close_held, bpf/teardown.bpf.h) and is written here, or at the socket's
 *    destruction where no reset came (its allocation failed: TcpExtTCPAbortFailed).
 */
#ifndef SYNFIN_RESET_BPF_H
#define SYNFIN_RESET_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "teardown.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct synfin_resets);
} resets SEC(".maps");

/* A tcp_reset() in FIN_WAIT with RCV_SHUTDOWN, per CPU: a real RST, or data after close if
 * the same socket sends a reset next (well within this window, in the same softirq). */
#define RST_AFTER_DATA_WINDOW_NS 10000000ULL
struct rst_pending {
	__u64 sk;
	__u64 ts_ns;
	__u8 state; /* where it was counted as received */
	__u8 pad[7];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rst_pending);
} rst_pendings SEC(".maps");

static __always_inline __u8 rst_state_of(const struct sock *sk)
{
	__u8 st = sk ? sk->__sk_common.skc_state : 0;

	return st < SYNFIN_RST_STATES ? st : 0;
}

static __always_inline bool is_full_sock_state(__u8 st)
{
	return st && st != TCP_TIME_WAIT && st != 12 /* TCP_NEW_SYN_RECV */;
}

/* The user's filters, for a reset with or without a socket. A cgroup filter (run) keeps only
 * full sockets inside it: timewait and request sockets, and no socket, belong to no cgroup. */
static __always_inline bool rst_wanted(const struct sock *sk, const struct sk_buff *skb, __u8 st)
{
	__u32 netns;

	if (!sk) {
		if (cfg_cgroup || !skb)
			return false;
		if (cfg_netns) {
			const struct net_device *dev = skb->dev;

			netns = dev ? dev->nd_net.net->ns.inum : 0;
			if (netns != cfg_netns)
				return false;
		}
		if (cfg_family) {
			__u16 proto = bpf_ntohs(skb->protocol);

			if ((cfg_family == 4) != (proto == 0x0800 /* ETH_P_IP */))
				return false;
		}
		return true;
	}
	if (!skc_wanted(&sk->__sk_common, skc_netns(&sk->__sk_common)))
		return false;
	if (!cfg_cgroup)
		return true;
	return is_full_sock_state(st) && sk_cgroup_wanted(sk, 0);
}

static __always_inline void rst_count(__u8 dir, __u8 reason, __u8 st, __s64 delta)
{
	__u32 zero = 0, i = SYNFIN_RST_INDEX(dir, reason, st);
	struct synfin_resets *r = bpf_map_lookup_elem(&resets, &zero);

	if (r && i < SYNFIN_RST_SLOTS)
		r->n[i] += delta;
}

/* The connection's first reset, if its close is not recorded yet. */
static __always_inline void rst_note(struct conn_state *cs, __u8 dir, __u8 reason)
{
	if (!cs->fsm.rst_dir) {
		cs->fsm.rst_dir = dir;
		cs->fsm.rst_reason = reason;
	}
}

/* kreason: the kernel's enum sk_rst_reason value, or -1 where the tracepoint has none. */
static __always_inline void on_send_reset(const struct sock *sk, const struct sk_buff *skb,
					  __s64 kreason)
{
	__u8 st = rst_state_of(sk), reason;
	struct rst_pending *p;
	struct conn_state *cs;
	__u32 zero = 0;
	bool after_data = false;

	if (skb && sk && (p = bpf_map_lookup_elem(&rst_pendings, &zero)) && p->sk == (__u64)sk) {
		after_data = bpf_ktime_get_ns() - p->ts_ns < RST_AFTER_DATA_WINDOW_NS;
		if (after_data) /* it was no received reset: move it here */
			rst_count(SYNFIN_RST_RECEIVED, SYNFIN_RST_PEER, p->state, -1);
		p->sk = 0;
	}
	if (kreason >= 0)
		reason = kreason < SYNFIN_RST_KERNEL_REASONS ? kreason : SYNFIN_RST_KERNEL_OTHER;
	else if (after_data)
		reason = SYNFIN_RST_ABORT_ON_DATA;
	else
		reason = skb ? SYNFIN_RST_REPLY : SYNFIN_RST_ACTIVE;
	if (!after_data && !rst_wanted(sk, skb, st))
		return;
	cs = is_full_sock_state(st) ? cs_lookup(sk) : NULL;
	if (cs && cs->fsm.close_held) {
		/* the abort's CLOSE came first: counted from the state it left */
		st = cs->fsm.close_held;
		rst_note(cs, SYNFIN_RST_SENT, reason);
		on_close(sk, cs, st, cs->fsm.state_ns);
		cs_forget(sk, cs);
	} else if (cs && cs->cur_state != TCP_CLOSE) {
		rst_note(cs, SYNFIN_RST_SENT, reason);
	}
	rst_count(SYNFIN_RST_SENT, reason, st, 1);
}

static __always_inline void on_receive_reset(const struct sock *sk)
{
	__u8 st = rst_state_of(sk);
	struct rst_pending *p;
	struct conn_state *cs;
	__u32 zero = 0;

	if (!sk || !rst_wanted(sk, NULL, st))
		return;
	rst_count(SYNFIN_RST_RECEIVED, SYNFIN_RST_PEER, st, 1);
	if ((st == TCP_FIN_WAIT1 || st == TCP_FIN_WAIT2) &&
	    (sk->sk_shutdown & 1 /* RCV_SHUTDOWN */)) {
		/* maybe data after close(): the close record stays without it either way */
		p = bpf_map_lookup_elem(&rst_pendings, &zero);
		if (p) {
			p->sk = (__u64)sk;
			p->ts_ns = bpf_ktime_get_ns();
			p->state = st;
		}
		return;
	}
	cs = cs_lookup(sk);
	if (cs && cs->cur_state != TCP_CLOSE)
		rst_note(cs, SYNFIN_RST_RECEIVED, SYNFIN_RST_PEER);
}

#endif
