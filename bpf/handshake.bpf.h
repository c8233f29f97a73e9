/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The 3-way handshake, both ends: start of tracking, latency, retransmits, failures. */
#ifndef SYNFIN_HANDSHAKE_BPF_H
#define SYNFIN_HANDSHAKE_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "emit.bpf.h"
#include "timewait.bpf.h"
#include "listen.bpf.h"
#include "ports.bpf.h"

/* Starts tracking sk if the user's filters want it: fresh state, the cookie generated now so
 * that the timewait socket inherits it (inet_twsk_alloc). NULL when filtered or full. */
static __always_inline struct conn_state *conn_create(const struct sock *sk, __u64 now, __u8 side,
						      __u8 state)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct conn_state *cs;
	__u64 cgroup;

	if (!skc_wanted(skc, skc_netns(skc)))
		return NULL;
	cgroup = sk_cgroup_id_wanted(sk);
	if (!sk_cgroup_wanted(sk, cgroup))
		return NULL;
	cs = cs_create(sk);
	if (!cs)
		return NULL;
	cs->start_ns = now;
	cs->fsm.state_ns = now;
	cs->side = side;
	cs->cur_state = state;
	cs->cgroup = cgroup;
	cs->cookie = sk_cookie(sk);
	return cs;
}

/* CLOSE->LISTEN runs in listen(): remember who listens, for every child it will accept.
 * Returns 1 when the owner was recorded. */
static __always_inline int on_listen(const struct sock *sk)
{
	struct owner *o;

	listen_mark(sk, true);
	if (!cfg_sk_storage || !cfg_comm)
		return 0; /* nothing to clone into the children: server pid/comm stay unknown */
	o = bpf_sk_storage_get(&owners, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!o) {
		count_drop(SYNFIN_DROP_STORAGE);
		return 0;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	return 1;
}

/* Has listen() recorded an owner for sk yet? (the catcher's test, catch.bpf.h) */
static __always_inline int listen_owner_known(const struct sock *sk)
{
	return cfg_sk_storage && cfg_comm && bpf_sk_storage_get(&owners, (void *)sk, 0, 0);
}

/* CLOSE->SYN_SENT runs in connect(), before the port is chosen (sport may still be 0).
 * Returns 1 when sk is now tracked. */
static __always_inline int on_connect_start(const struct sock *sk, __u64 now)
{
	struct conn_state *cs = conn_create(sk, now, SYNFIN_SIDE_CLIENT, TCP_SYN_SENT);
	struct connecting *c;
	__u32 zero = 0;
	__u64 id;

	if (!cs)
		return 0;
	id = bpf_get_current_pid_tgid();
	if (cfg_comm) {
		cs->pid = id >> 32;
		bpf_get_current_comm(cs->comm, sizeof(cs->comm));
	} else {
		cs->flags |= SYNFIN_F_NO_PID;
	}
	gauge_add(TCP_SYN_SENT, 1);
	ports_take(sk, cs, now);
	c = bpf_map_lookup_elem(&connecting, &zero);
	if (c) {
		struct tuple_key k;

		fill_tuple_key(&k, &sk->__sk_common, skc_key_family(&sk->__sk_common),
			       skc_netns(&sk->__sk_common));
		c->ts_ns = now;
		c->tid = (__u32)id;
		c->netns = k.netns;
		c->family = k.family;
		c->rport = k.rport;
		__builtin_memcpy(c->raddr, k.raddr, sizeof(c->raddr));
		c->sk = (__u64)sk;
	}
	return 1;
}

/* The request's first SYN arrival, moved from the syns map into the child's state. Looked up
 * at SYN_RECV->ESTABLISHED, where the child's 4-tuple is set on every kernel (see
 * on_server_established). */
static __always_inline int take_syn_seen(const struct sock *sk, struct syn_seen *out)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct tuple_key k;
	struct syn_seen *s;

	fill_tuple_key(&k, skc, skc_key_family(skc), skc_netns(skc));
	s = bpf_map_lookup_elem(&syns, &k);
	if (!s || !s->ts_ns)
		return 0;
	if (s->dead_after && (__s64)(bpf_jiffies64() - s->dead_after) > 0) {
		/* left by a request that died long ago: this connection armed no timer */
		bpf_map_delete_elem(&syns, &k);
		count_event(SYNFIN_COUNT_SYN_STALE);
		return 0;
	}
	*out = *s;
	/* Deleted, not just consumed: an LRU that stays full makes every SYN's insert evict,
	 * and eviction cost ~2.3 us per connection in make bench's profile round (a delete
	 * here and a free-list pop at the next insert cost a fraction of that). */
	bpf_map_delete_elem(&syns, &k);
	return 1;
}

/* A child's LISTEN->SYN_RECV (inet_csk_clone_lock()): the next request-timer cancel on this
 * CPU is its request's (req_slots). */
static __always_inline void syn_handoff_arm(void)
{
	struct syn_handoff *h;
	__u32 zero = 0;

	if (!REQ_SLOTS)
		return;
	h = bpf_map_lookup_elem(&syn_handoffs, &zero);
	if (h) {
		h->armed = 1;
		h->filled = 0;
	}
}

/* The child's request's SYN arrival, handed over by its timer's cancel a moment ago on this
 * CPU (req_slots); consumed either way, so nothing later can take it. */
static __always_inline int take_syn_handoff(const struct sock *sk, struct syn_seen *out)
{
	struct syn_handoff *h;
	__u32 zero = 0;
	int ok;

	h = bpf_map_lookup_elem(&syn_handoffs, &zero);
	if (!h)
		return 0;
	ok = h->filled && h->syn_ns && h->ports == sk->__sk_common.skc_portpair;
	if (ok) {
		out->ts_ns = h->syn_ns;
		out->exact = 1;
	}
	h->armed = 0;
	h->filled = 0;
	h->owner = 0;
	return ok;
}

/* The listener's owner, cloned into the child by sk_clone_lock() (BPF_F_CLONE). */
static __always_inline void take_owner(const struct sock *sk, struct conn_state *cs)
{
	struct owner *o = NULL;

	if (cfg_sk_storage && cfg_comm)
		o = bpf_sk_storage_get(&owners, (void *)sk, 0, 0);
	if (o) {
		cs->pid = o->pid;
		__builtin_memcpy(cs->comm, o->comm, sizeof(cs->comm));
		cs->flags |= SYNFIN_F_OWNER;
	} else {
		cs->flags |= SYNFIN_F_NO_PID;
	}
}

/* Server latency without a recorded SYN arrival, from fields tcp_create_openreq_child() and
 * tcp_synack_rtt_meas() left in the child (docs/kernel-notes.md, "Server handshake"). Sets
 * *res_us to the resolution of the source (struct synfin_handshake), or returns 0 with
 * *res_us = 0 when the kernel left nothing: a SYN cookie without TCP timestamps has no
 * SYN-ACK send time, so its child has no RTT sample at all. */
static __always_inline __u64 server_latency_estimate_us(const struct tcp_sock *tp, __u32 *res_us)
{
	__u64 rto_us;

	if (tp->total_retrans == 0 && tp->srtt_us) {
		/* SYN-ACK -> ACK. From the SYN-ACK's send time (1 us) if the request kept one;
		 * a SYN cookie's did not, and then the RTT came from the echoed timestamp,
		 * whose low 6 bits the cookie replaced with options (net/ipv4/syncookies.c,
		 * TSBITS). Which of the two it was is not in the child: with timestamps, the
		 * coarser one is stated. */
		*res_us = tp_tstamp_ok(tp) ? 64 * tp_ts_tick_us(tp) : 1;
		return tp->srtt_us >> 3;
	}
	rto_us = tp_rto_time_us(tp);
	*res_us = rto_us ? 1000 : 0; /* total_rto_time counts ms */
	return rto_us;
}

static __always_inline void emit_handshake(const struct sock *sk, const struct tcp_sock *tp,
					   const struct conn_state *cs, __u64 latency_us,
					   __u32 resolution_us, __u64 now)
{
	struct synfin_event *e = ev_reserve(SYNFIN_EV_HANDSHAKE, now);

	if (!e)
		return;
	ev_from_conn(e, cs);
	fill_id(&e->id, &sk->__sk_common, tp->inet_conn.icsk_inet.inet_sport,
		skc_netns(&sk->__sk_common));
	e->hs.latency_us = latency_us;
	e->hs.retransmits = tp->total_retrans;
	e->hs.resolution_us = resolution_us;
	ev_submit(e);
}

/* SYN_SENT->ESTABLISHED of a client synfin tracks since connect(). */
static __always_inline void on_client_established(const struct sock *sk, struct conn_state *cs,
						  __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	gauge_add(TCP_SYN_SENT, -1);
	gauge_add(TCP_ESTABLISHED, 1);
	cs->fsm.state_ns = now;
	if (tp)
		emit_handshake(sk, tp, cs, (now - cs->start_ns) / 1000, 0, now);
}

/* SYN_RECV->ESTABLISHED: an accepted child starts being tracked here rather than at
 * LISTEN->SYN_RECV, which runs microseconds earlier in the same softirq but, on kernels
 * before the tracepoint moved to the end of inet_csk_clone_lock(), before the child had its
 * ports and addresses: the filters and the SYN-arrival key need them (docs/kernel-notes.md,
 * "Server handshake"). */
static __always_inline int on_server_established(const struct sock *sk, __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct conn_state *cs;
	struct syn_seen syn;
	__u32 resolution_us = 0;
	__u64 latency_us;

	if (!tp)
		return 0;
	cs = conn_create(sk, now, SYNFIN_SIDE_SERVER, TCP_ESTABLISHED);
	if (!cs)
		return 0;
	take_owner(sk, cs);
	if ((REQ_SLOTS ? take_syn_handoff(sk, &syn) : take_syn_seen(sk, &syn)) &&
	    syn.ts_ns <= now) {
		cs->start_ns = syn.ts_ns;
		if (!syn.exact) {
			cs->flags |= SYNFIN_F_ESTIMATED;
			resolution_us = 1; /* the first SYN-ACK's send time: misses SYN -> SYN-ACK */
		}
		latency_us = (now - syn.ts_ns) / 1000;
	} else {
		latency_us = server_latency_estimate_us(tp, &resolution_us);
		cs->flags |= SYNFIN_F_ESTIMATED;
		if (!resolution_us)
			cs->flags |= SYNFIN_F_UNMEASURED;
		cs->start_ns = now - latency_us * 1000;
	}
	gauge_add(TCP_ESTABLISHED, 1);
	emit_handshake(sk, tp, cs, latency_us, resolution_us, now);
	return 1; /* now tracked */
}

/* SYN_RECV->CLOSE: a child that died before ESTABLISHED (enum synfin_count), counted where
 * the user's filters would have tracked it. */
static __always_inline void on_child_aborted(const struct sock *sk)
{
	const struct sock_common *skc = &sk->__sk_common;

	if (!skc_wanted(skc, skc_netns(skc)) || !sk_cgroup_wanted(sk, 0))
		return;
	count_event(SYNFIN_COUNT_CHILD_ABORTED);
}

/* errno values are the kernel's (include/uapi/asm-generic/errno*.h), the same on every arch
 * synfin builds for. */
static __always_inline __u8 fail_reason(int err)
{
	switch (err) {
	case 111: /* ECONNREFUSED */
		return SYNFIN_FAIL_REFUSED;
	case 110: /* ETIMEDOUT */
		return SYNFIN_FAIL_TIMEOUT;
	case 113: /* EHOSTUNREACH */
	case 101: /* ENETUNREACH */
	case 112: /* EHOSTDOWN */
	case 64:  /* ENONET */
		return SYNFIN_FAIL_UNREACHABLE;
	case 104: /* ECONNRESET */
	case 103: /* ECONNABORTED */
	case 32:  /* EPIPE */
		return SYNFIN_FAIL_RESET;
	default:
		return SYNFIN_FAIL_OTHER;
	}
}

/* SYN_SENT->CLOSE. sk_err is read now: connect() and recv() clear it when they report it
 * (sock_error()). */
static __always_inline void on_connect_fail(const struct sock *sk, struct conn_state *cs,
					    __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct synfin_conn_id id = {}; /* fill_id() writes only what the family uses */
	struct synfin_event *e;

	gauge_add(TCP_SYN_SENT, -1);
	fill_id(&id, &sk->__sk_common, sk_sport_be(sk), skc_netns(&sk->__sk_common));
	if (ports_counted(cs))
		ports_give_back(&id);
	e = ev_reserve(SYNFIN_EV_CONNECT_FAIL, now);
	if (!e)
		return;
	ev_from_conn(e, cs);
	e->id = id;
	e->hs.latency_us = (now - cs->start_ns) / 1000;
	e->hs.retransmits = tp ? tp->total_retrans : 0;
	e->hs.sk_err = sk->sk_err;
	e->reason = fail_reason(e->hs.sk_err);
	/* connect() found no local port (inet_hash_connect(): EADDRNOTAVAIL, returned by the
	 * call, not left in sk_err): the socket leaves SYN_SENT before it has one. Every other
	 * way out of SYN_SENT comes after the port was taken (tcp_v4_connect(),
	 * tcp_v6_connect()); a socket bound by bind() keeps its port and is not counted here. */
	if (!e->hs.sk_err && !sk->__sk_common.skc_num)
		e->reason = SYNFIN_FAIL_NO_PORT;
	ev_submit(e);
}

/* tcp_retransmit_synack(listener, req): without timer hooks, the first SYN-ACK time is the
 * only request-side timestamp left for a handshake whose SYN was retransmitted (no child
 * field has it: num_retrans > 0 with num_timeout == 0). req is the tracepoint's own. */
static __always_inline void on_synack_retransmit(const struct request_sock *req)
{
	const struct tcp_request_sock *treq = (const void *)req;
	struct syn_seen seen = {}, *old;
	struct tuple_key k;

	if (REQ_SLOTS || req->num_retrans)
		return; /* only the first retransmit: the entry is written once per request */
	fill_tuple_key(&k, &req->__req_common, req->rsk_ops->family,
		       skc_netns(&req->__req_common));
	old = bpf_map_lookup_elem(&syns, &k);
	if (old && old->exact)
		return;
	/* tcp_clock_us(): the same clock as bpf_ktime_get_ns() */
	seen.ts_ns = BPF_CORE_READ(treq, snt_synack) * 1000;
	if (bpf_map_update_elem(&syns, &k, &seen, BPF_ANY))
		count_drop(SYNFIN_DROP_SYNMAP);
}

/* When a request whose timer was just armed to expire at `expires` is surely dead: the
 * wheel runs a timer up to 1/8 of its interval late (LVL_CLK_SHIFT), and the softirq may
 * run later still; the handler then re-arms it (and this is moved on) or drops it. */
static __always_inline __u64 request_dead_after(__u64 expires)
{
	__u64 jiffies = bpf_jiffies64();
	__u64 interval = (__s64)(expires - jiffies) > 0 ? expires - jiffies : 0;

	return expires + interval / 4 + SYN_STALE_SLACK_JIFFIES;
}

/* The request that owns timer t (container_of), as a view of its `type` (compat.bpf.h). */
#define REQ_OF_TIMER(type, t, slot)                                                               \
	KOBJ_VIEW(type, (void *)(t) - bpf_core_field_offset(struct request_sock, rsk_timer), slot)

/* A request's timer armed (req_slots): the first arm comes before the first SYN-ACK is sent
 * (tcp_conn_request() hashes the request, then sends), every later one after, so a recorded
 * SYN-ACK time tells a re-arm, whose arrival the cancel just before handed over. */
static __always_inline void on_request_timer_start_slots(struct timer_list *t,
							 const struct tcp_request_sock *treq,
							 __u64 now)
{
	const struct request_sock *req = &treq->req.req;
	struct req_slot *s;
	struct syn_handoff *h;
	struct tuple_key k;
	__u64 owner = kaddr_owner(t), syn_ns = now;
	__u32 zero = 0;

	if (treq->snt_synack) {
		h = bpf_map_lookup_elem(&syn_handoffs, &zero);
		if (!h || h->owner != owner)
			return; /* its arrival was not recorded: the child's latency is estimated */
		syn_ns = h->syn_ns;
		h->owner = 0;
	} else if (cfg_netns && view_netns(&req->__req_common) != cfg_netns) {
		return;
	}
	s = (struct req_slot *)slot_claim_in(&req_slots, cfg_req_set_shift, SYNFIN_REQ_WAYS, owner);
	if (!s) {
		count_drop(SYNFIN_DROP_SYNMAP);
		return;
	}
	s->syn_ns = syn_ns;
	if (!treq->snt_synack && tw_claim_window_open(now)) {
		fill_tuple_key(&k, &req->__req_common, BPF_CORE_READ(req, rsk_ops, family),
			       view_netns(&req->__req_common));
		tw_claim_by_tuple(&k, now);
	}
}

/* A request's timer cancelled (req_slots): its slot is freed, and its arrival handed over to
 * what follows on this CPU. */
static __always_inline void on_request_timer_cancel(struct timer_list *t, __u32 slot)
{
	const struct request_sock *req;
	struct syn_handoff *h;
	struct req_slot *s;
	__u64 owner = kaddr_owner(t);
	__u32 i, zero = 0;

	s = (struct req_slot *)slot_find_in(&req_slots, cfg_req_set_shift, SYNFIN_REQ_WAYS, owner,
					    &i);
	if (!s)
		return;
	h = bpf_map_lookup_elem(&syn_handoffs, &zero);
	if (h) {
		h->owner = owner;
		h->syn_ns = s->syn_ns;
		h->filled = 0;
	}
	s->owner = 0;
	if (!h || !h->armed)
		return;
	req = REQ_OF_TIMER(struct request_sock, t, slot);
	if (!req)
		return;
	h->ports = req->__req_common.skc_portpair;
	h->filled = 1;
}

/* First arm of a request's rsk_timer = the SYN reached the listener (reqsk_queue_hash_req);
 * later arms come from reqsk_timer_handler after num_timeout++, and only move the time
 * after which the entry is stale. */
static __always_inline void on_request_timer_start(struct timer_list *t, __u64 now, __u32 slot)
{
	const struct request_sock *req;
	struct syn_seen seen = { .exact = 1 }, *old;
	struct tuple_key k;
	__u32 netns;
	__u16 family;

	if (REQ_SLOTS) {
		/* the whole tcp_request_sock: snt_synack is past request_sock */
		const struct tcp_request_sock *treq = REQ_OF_TIMER(struct tcp_request_sock, t, slot);

		if (treq)
			on_request_timer_start_slots(t, treq, now);
		return;
	}
	req = REQ_OF_TIMER(struct request_sock, t, slot);
	if (!req)
		return;
	netns = view_netns(&req->__req_common);
	if (cfg_netns && netns != cfg_netns)
		return;
	family = BPF_CORE_READ(req, rsk_ops, family);
	fill_tuple_key(&k, &req->__req_common, family, netns);
	if (req->num_timeout) {
		old = bpf_map_lookup_elem(&syns, &k);
		if (old && old->exact)
			old->dead_after = request_dead_after(t->expires);
		return;
	}
	tw_claim_by_tuple(&k, now);
	seen.ts_ns = now;
	seen.dead_after = request_dead_after(t->expires);
	if (bpf_map_update_elem(&syns, &k, &seen, BPF_ANY))
		count_drop(SYNFIN_DROP_SYNMAP);
}

#endif
