/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * TIME_WAIT and CLOSE_WAIT lifetimes. The kernel moves a closing connection into a
 * timewait mini-socket that no state tracepoint shows (tcp_time_wait() in
 * net/ipv4/tcp_minisocks.c), so its life is followed through the timer tracepoints on
 * tw->tw_timer, filtered on the handler's address (docs/kernel-notes.md, "TIME_WAIT").
 */
#ifndef SYNFIN_TIMEWAIT_BPF_H
#define SYNFIN_TIMEWAIT_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "emit.bpf.h"
#include "ports.bpf.h"

/* Keyed by the timer's address: unique while the timer lives, and every end deletes it.
 * Sized like the kernel's default net.ipv4.tcp_max_tw_buckets (262144); allocated lazily. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 262144);
	__type(key, __u64);
	__type(value, struct tw_entry);
} timewaits SEC(".maps");

/* Timers of timewait sockets cancelled early and not yet explained (re-arm, reuse or kill):
 * the only entries user space sweeps, so the sweep costs nothing when nothing is killed.
 * Kills in flight over one 100 ms grace period; a burst beyond this is counted. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} tw_pending SEC(".maps");

/* 4-tuple -> timer of a timewait socket cancelled early, so a SYN that took that tuple
 * (tcp_v4_rcv TCP_TW_SYN, then a new request) can mark it reused. Small: entries matter for
 * microseconds; LRU so misses cost only an "killed" instead of "reused". */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tuple_key);
	__type(value, __u64);
} tw_cancelled SEC(".maps");

/* The timewait socket this CPU just scheduled: tcp_time_wait() arms its timer a few
 * microseconds before tcp_done() traces FIN_WAIT2/CLOSING->CLOSE of the full socket. Matched
 * by netns and ports, which every kernel fills in both sockets (the cookie may be 0). */
struct tw_mark {
	__u64 ts_ns;
	__u64 timer;
	__u32 netns;
	__u16 lport;
	__u16 rport;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tw_mark);
} tw_marks SEC(".maps");

/* Sockets now in CLOSE_WAIT whose state overflowed into SK_STORAGE, for the oldest age and the
 * forgotten-close() warning; user space finds the others in the slots and conns_by_sk (their
 * cur_state).
 * Keyed by the socket's address (unique while it lives; the cookie may be 0 where tracing
 * programs cannot generate one). The value is a STATE record whose ts_ns is the CLOSE_WAIT
 * entry time. 16384 open CLOSE_WAITs beyond 65,536 tracked sockets is a leak already;
 * beyond it the overflow is counted (untracked). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct synfin_event);
} close_waits SEC(".maps");

/* Same call path: microseconds on hardware, but a slow guest (TCG) was seen past 1 ms. The
 * netns and ports must match too, so a generous window cannot pair the wrong sockets. */
#define TW_HANDOVER_WINDOW_NS (100ULL * 1000000)

/* When a timewait socket was last cancelled early: a new request looks for the timewait it
 * may have replaced only shortly after one was (every SYN would pay a lookup otherwise). */
__u64 tw_last_cancel_ns = 0;
#define TW_CLAIM_WINDOW_NS 1000000000ULL

/* Called at the full socket's X->CLOSE with its record's id: was a timewait socket of the same
 * connection scheduled on this CPU just now? Then that record inherits the connection's
 * pid/comm/side/cookie. */
static __always_inline __u8 tw_handover_just_scheduled(const struct conn_state *cs,
						       const struct synfin_conn_id *id, __u64 now,
						       bool holds_port)
{
	struct tw_mark *m;
	struct tw_entry *tw;
	__u32 zero = 0;
	__u64 key;

	m = bpf_map_lookup_elem(&tw_marks, &zero);
	if (!m || !m->timer || m->netns != id->netns || m->lport != id->lport ||
	    m->rport != id->rport || now - m->ts_ns > TW_HANDOVER_WINDOW_NS)
		return 0;
	key = m->timer;
	m->timer = 0;
	tw = bpf_map_lookup_elem(&timewaits, &key);
	if (tw) {
		__u8 substate = tw->ev.tw.substate;

		ev_from_conn(&tw->ev, cs);
		tw->ev.tw.substate = substate;
		if (!(tw->wanted & SYNFIN_TW_WANTED)) {
			/* a tracked connection's: wanted under a cgroup filter too */
			tw->wanted |= SYNFIN_TW_WANTED;
			gauge_add(TCP_TIME_WAIT, 1);
		}
		if (holds_port)
			tw->wanted |= SYNFIN_TW_HOLDS_PORT;
	}
	return 1;
}

static __always_inline void close_wait_enter(const struct sock *sk, struct conn_state *cs,
					     __u64 now)
{
	struct synfin_event ev = {};
	__u64 key = (__u64)sk;

	fill_id(&cs->id, &sk->__sk_common, sk_sport_be(sk), skc_netns(&sk->__sk_common));
	if (cs->home == SYNFIN_CS_IN_SLOT)
		slot_mark_close_wait(sk, true);
	if (cs->home != SYNFIN_CS_IN_STORAGE)
		return; /* user space reads it from the slots or conns_by_sk */
	ev.type = SYNFIN_EV_STATE;
	ev.ts_ns = now;
	ev_from_conn(&ev, cs);
	ev.id = cs->id;
	ev.st.old_state = TCP_ESTABLISHED;
	ev.st.new_state = TCP_CLOSE_WAIT;
	if (bpf_map_update_elem(&close_waits, &key, &ev, BPF_ANY))
		count_drop(SYNFIN_DROP_CWMAP);
}

static __always_inline void close_wait_leave(const struct sock *sk, const struct conn_state *cs)
{
	__u64 key = (__u64)sk;

	if (cs->home == SYNFIN_CS_IN_SLOT)
		slot_mark_close_wait(sk, false);
	else if (cs->home == SYNFIN_CS_IN_STORAGE)
		bpf_map_delete_elem(&close_waits, &key);
}

/* The timewait socket that owns timer t (container_of), as a view (compat.bpf.h). */
static __always_inline const struct inet_timewait_sock *tw_of_timer(struct timer_list *t,
								    __u32 slot)
{
	return KOBJ_VIEW(struct inet_timewait_sock,
			 (void *)t - bpf_core_field_offset(struct inet_timewait_sock, tw_timer),
			 slot);
}

static __always_inline void tw_emit_end(struct tw_entry *tw, __u64 key, __u8 end, __u8 substate,
					__u64 end_ns)
{
	struct synfin_event *e;

	if (tw->cancel_ns)
		bpf_map_delete_elem(&tw_pending, &key);
	if (tw->wanted & SYNFIN_TW_HOLDS_PORT)
		ports_give_back(&tw->ev.id);
	if (!(tw->wanted & SYNFIN_TW_WANTED)) {
		bpf_map_delete_elem(&timewaits, &key);
		return;
	}
	gauge_add(TCP_TIME_WAIT, -1);
	e = ev_reserve(SYNFIN_EV_TIME_WAIT, end_ns);
	if (e) {
		__builtin_memcpy(e, &tw->ev, sizeof(*e));
		e->ts_ns = end_ns;
		e->tw.duration_us = end_ns > tw->start_ns ? (end_ns - tw->start_ns) / 1000 : 0;
		e->tw.end = end;
		e->tw.substate = substate;
		ev_submit(e);
	}
	bpf_map_delete_elem(&timewaits, &key);
}

/* inet_twsk_reschedule() is cancel + start within the same call: microseconds on hardware,
 * but more than 1 ms in a slow guest (TCG). The user-space sweep waits as long before it
 * calls a cancel a kill; the same connection (cookie and ports) tells a re-arm from a new
 * timewait socket in a reused slab. */
#define TW_REARM_WINDOW_NS (100ULL * 1000000)

static __always_inline int tw_same_conn(const struct tw_entry *old, const struct sock_common *skc)
{
	return old->ev.cookie == skc->skc_cookie.counter && old->ev.id.lport == skc->skc_num &&
	       old->ev.id.rport == bpf_ntohs(skc->skc_dport);
}

/* Has the wheel reached the jiffy it can fire the timer at (tw_entry.fires_at)? Past the
 * timer's expires too, which mod_timer() may have moved later without a timer_start (before
 * 6.8 fires_at is an expires itself). 32-bit jiffies compare right within 2^31 of each other:
 * 99 days at HZ=250. */
static __always_inline bool tw_timer_due(const struct timer_list *t, const struct tw_entry *e)
{
	__u64 j = bpf_jiffies64();

	return (__s64)(j - t->expires) >= 0 && (__s32)((__u32)j - e->fires_at) >= 0;
}

static __always_inline void on_tw_timer_start(struct timer_list *t, unsigned long fires_at,
					      __u64 now, __u32 slot)
{
	const struct inet_timewait_sock *tw = tw_of_timer(t, slot);
	const struct sock_common *skc;
	__u64 key = (__u64)t;
	struct tw_entry *old, fresh = {};
	struct tw_mark *m;
	__u32 zero = 0, netns;

	if (!tw)
		return;
	skc = &tw->__tw_common;
	old = bpf_map_lookup_elem(&timewaits, &key);
	if (old) {
		if (old->cancel_ns && now - old->cancel_ns < TW_REARM_WINDOW_NS &&
		    tw_same_conn(old, skc)) {
			old->cancel_ns = 0; /* re-armed: the same TIME_WAIT goes on */
			old->fires_at = (__u32)fires_at;
			bpf_map_delete_elem(&tw_pending, &key);
			return;
		}
		/* The slab gave a killed timewait socket's memory to a new one before the
		 * user-space sweep ended it: end it now, as killed at its cancel. */
		if (old->cancel_ns) {
			tw_emit_end(old, key, SYNFIN_TW_KILLED, old->ev.tw.substate, old->cancel_ns);
		} else {
			if (old->wanted & SYNFIN_TW_HOLDS_PORT)
				ports_give_back(&old->ev.id); /* it ended unseen: so did its port */
			if (old->wanted & SYNFIN_TW_WANTED) {
				count_drop(SYNFIN_DROP_TWMAP); /* its end was never seen */
				gauge_add(TCP_TIME_WAIT, -1);
			}
			bpf_map_delete_elem(&timewaits, &key);
		}
	}
	netns = view_netns(skc);
	if (!skc_wanted(skc, netns))
		return;
	fresh.start_ns = now;
	fresh.fires_at = (__u32)fires_at;
	fresh.ev.type = SYNFIN_EV_TIME_WAIT;
	fresh.ev.cookie = skc->skc_cookie.counter;
	fresh.ev.flags = SYNFIN_F_NO_PID;
	/* else: at the handover (tw_handover_just_scheduled) */
	fresh.wanted = cfg_cgroup ? 0 : SYNFIN_TW_WANTED;
	fill_id(&fresh.ev.id, skc, tw->tw_sport, netns);
	if (bpf_map_update_elem(&timewaits, &key, &fresh, BPF_NOEXIST)) {
		count_drop(SYNFIN_DROP_TWMAP);
		return;
	}
	if (fresh.wanted & SYNFIN_TW_WANTED)
		gauge_add(TCP_TIME_WAIT, 1);
	m = bpf_map_lookup_elem(&tw_marks, &zero);
	if (m) {
		m->ts_ns = now;
		m->timer = key;
		m->netns = netns;
		m->lport = fresh.ev.id.lport;
		m->rport = fresh.ev.id.rport;
	}
}

/* Was the timewait socket with 4-tuple k cancelled by this task's connect() of the same
 * 4-tuple? Thread and time alone also matched a kill the same thread caused right after
 * connecting elsewhere (tests/integration/test_time_wait_kill_after_connect.sh). */
static __always_inline int cancelled_by_our_connect(const struct tuple_key *k, __u64 now)
{
	struct connecting *c;
	const __u64 *a, *b;
	__u32 zero = 0;
	__u16 lport;

	c = bpf_map_lookup_elem(&connecting, &zero);
	/* The 4-tuple identifies the connect(); the time only bounds a stale mark, and is as
	 * wide as the other same-call-path windows: a port search over many TIME_WAITs in a
	 * slow guest (TCG) took more than the 10 ms this once was. */
	if (!c || c->tid != (__u32)bpf_get_current_pid_tgid() || now - c->ts_ns >= TW_HANDOVER_WINDOW_NS)
		return 0;
	a = (const __u64 *)c->raddr; /* BPF has no memcmp: two 8-byte halves */
	b = (const __u64 *)k->raddr;
	if (c->netns != k->netns || c->family != k->family || c->rport != k->rport ||
	    a[0] != b[0] || a[1] != b[1])
		return 0;
	/* a plain address by now: read, not dereferenced */
	if (bpf_probe_read_kernel(&lport, sizeof(lport),
				  (void *)c->sk + bpf_core_field_offset(struct sock_common, skc_num)))
		return 0;
	return lport == k->lport;
}

static __always_inline void on_tw_timer_cancel(struct timer_list *t, __u64 now, __u32 slot)
{
	const struct inet_timewait_sock *tw;
	__u64 key = (__u64)t;
	struct tw_entry *e;
	struct tuple_key k;

	e = bpf_map_lookup_elem(&timewaits, &key);
	if (!e)
		return;
	tw = tw_of_timer(t, slot);
	if (!tw)
		return;
	/* expire_timers() detaches (and traces the cancel) before it runs the handler, once
	 * the wheel reached the timer's bucket: a cancel before that is no expiry, even past
	 * the requested expiry (a kill there was once taken for one). */
	if (tw_timer_due(t, e)) {
		tw_emit_end(e, key, SYNFIN_TW_EXPIRED, tw->tw_substate, now);
		return;
	}
	if (net_dismantling(tw->__tw_common.skc_net.net)) {
		tw_emit_end(e, key, SYNFIN_TW_PURGED, tw->tw_substate, now);
		return;
	}
	fill_tuple_key(&k, &tw->__tw_common, skc_key_family(&tw->__tw_common), e->ev.id.netns);
	if (cancelled_by_our_connect(&k, now)) {
		tw_emit_end(e, key, SYNFIN_TW_REUSED, tw->tw_substate, now);
		return;
	}
	/* A re-arm (timer_start follows at once), a SYN taking the tuple (a request is hashed
	 * at once), or a kill (RST, ss -K): user space ends it as killed if nothing follows. */
	e->cancel_ns = now;
	e->ev.tw.substate = tw->tw_substate;
	if (bpf_map_update_elem(&tw_pending, &key, &now, BPF_ANY))
		count_drop(SYNFIN_DROP_TWMAP);
	tw_last_cancel_ns = now;
	bpf_map_update_elem(&tw_cancelled, &k, &key, BPF_ANY);
}

/* Was a timewait socket cancelled early lately? Only then may a new request have taken one
 * over (tw_claim_by_tuple). */
static __always_inline bool tw_claim_window_open(__u64 now)
{
	return now - tw_last_cancel_ns <= TW_CLAIM_WINDOW_NS;
}

/* A new request on a tuple whose timewait socket was just cancelled took it over. */
static __always_inline void tw_claim_by_tuple(const struct tuple_key *k, __u64 now)
{
	struct tw_entry *e;
	__u64 *timer, key;

	if (!tw_claim_window_open(now))
		return;
	timer = bpf_map_lookup_elem(&tw_cancelled, k);
	if (!timer)
		return;
	key = *timer;
	bpf_map_delete_elem(&tw_cancelled, k);
	e = bpf_map_lookup_elem(&timewaits, &key);
	if (e && e->cancel_ns)
		tw_emit_end(e, key, SYNFIN_TW_REUSED, e->ev.tw.substate, now);
}

#endif
