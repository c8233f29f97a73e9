/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Sockets that existed before synfin attached: one pass of iter/tcp per network namespace
 * (the iterator walks only the netns of the task that created it) gives each one state,
 * flagged PARTIAL, so later transitions are tracked and durations start at the seed, never
 * at an invented time. Runs after the tracepoints are attached; sockets that already have
 * state (created since) are left alone.
 */
#ifndef SYNFIN_SEED_BPF_H
#define SYNFIN_SEED_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "timewait.bpf.h"
#include "listen.bpf.h"

/* Ephemeral ports (net.ipv4.ip_local_port_range default 32768-60999): a socket whose local
 * port is below that and remote port inside it was most likely accepted. A guess, so
 * seeded sockets also carry SYNFIN_F_PARTIAL. */
static __always_inline __u8 seed_guess_side(const struct sock_common *skc)
{
	__u16 lport = skc->skc_num, rport = bpf_ntohs(skc->skc_dport);

	return lport < 32768 && rport >= 32768 ? SYNFIN_SIDE_SERVER : SYNFIN_SIDE_CLIENT;
}

static __always_inline void seed_timewait(struct tcp_timewait_sock *ttw, __u64 now)
{
	struct inet_timewait_sock *tw = &ttw->tw_sk;
	const struct sock_common *skc = &tw->__tw_common;
	__u64 key = (__u64)&tw->tw_timer;
	struct tw_entry fresh = {};
	__u32 netns = skc_netns(skc);

	/* with a cgroup filter, nothing tells whose a TIME_WAIT found at start is */
	if (cfg_cgroup || !skc_wanted(skc, netns) || bpf_map_lookup_elem(&timewaits, &key))
		return;
	fresh.wanted = SYNFIN_TW_WANTED;
	fresh.start_ns = now;
	fresh.ev.type = SYNFIN_EV_TIME_WAIT;
	fresh.ev.cookie = sk_cookie((const struct sock *)ttw); /* sock_common comes first */
	fresh.ev.flags = SYNFIN_F_NO_PID | SYNFIN_F_PARTIAL;
	fresh.ev.side = seed_guess_side(skc);
	fill_id(&fresh.ev.id, skc, tw->tw_sport, netns);
	if (bpf_map_update_elem(&timewaits, &key, &fresh, BPF_NOEXIST)) {
		count_drop(SYNFIN_DROP_TWMAP);
		return;
	}
	gauge_add(TCP_TIME_WAIT, 1);
}

static __always_inline void seed_full(struct tcp_sock *tp, __u64 now)
{
	struct sock *sk = (struct sock *)tp;
	const struct sock_common *skc = &sk->__sk_common;
	int state = skc->skc_state;
	struct conn_state *cs;
	__u64 cgroup;

	if (state == TCP_LISTEN) {
		listen_mark(sk, false);
		return;
	}
	if (state == TCP_CLOSE || !skc_wanted(skc, skc_netns(skc)))
		return;
	cgroup = sk_cgroup_id_wanted(sk);
	if (!sk_cgroup_wanted(sk, cgroup))
		return;
	if (cs_lookup(sk))
		return; /* seen by the tracepoints since they attached */
	cs = cs_create(sk);
	if (!cs)
		return;
	conn_fsm_seed(&cs->fsm, state, now);
	cs->cur_state = state;
	cs->cookie = sk_cookie(sk);
	cs->cgroup = cgroup;
	cs->side = seed_guess_side(skc);
	cs->flags = SYNFIN_F_PARTIAL | SYNFIN_F_NO_PID;
	if (state == TCP_CLOSE_WAIT)
		close_wait_enter(sk, cs, now);
	gauge_add(state, 1);
}

static __always_inline int seed_one(struct sock_common *skc)
{
	struct tcp_timewait_sock *tw;
	struct tcp_sock *tp;
	__u64 now;

	if (!skc)
		return 0;
	now = bpf_ktime_get_ns();
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		seed_full(tp, now);
		return 0;
	}
	tw = bpf_skc_to_tcp_timewait_sock(skc);
	if (tw)
		seed_timewait(tw, now);
	return 0;
}

#endif
