/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The 3-way handshake, both ends: start of tracking, latency, retransmits, failures. */
#ifndef SYNFIN_HANDSHAKE_BPF_H
#define SYNFIN_HANDSHAKE_BPF_H

/* Starts tracking sk if the user's filters want it: fresh state, the cookie generated now so
 * that the timewait socket inherits it (inet_twsk_alloc). NULL when filtered or full. */
static __always_inline struct conn_state *conn_create(const struct sock *sk, __u64 now, __u8 side)
{
	struct conn_state *cs;
	__u64 cgroup;

	if (!skc_wanted(&sk->__sk_common))
		return NULL;
	cgroup = sk_cgroup_id(sk);
	if (cfg_cgroup && cgroup != cfg_cgroup)
		return NULL;
	cs = bpf_sk_storage_get(&conns, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (!cs) {
		count_drop(SYNFIN_DROP_STORAGE);
		return NULL;
	}
	__builtin_memset(cs, 0, sizeof(*cs));
	cs->start_ns = now;
	cs->fsm.state_ns = now;
	cs->side = side;
	cs->cgroup = cgroup;
	cs->cookie = bpf_get_socket_cookie((void *)sk);
	return cs;
}

/* CLOSE->LISTEN runs in listen(): remember who listens, for every child it will accept. */
static __always_inline void on_listen(const struct sock *sk)
{
	struct owner *o = bpf_sk_storage_get(&owners, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);

	if (!o) {
		count_drop(SYNFIN_DROP_STORAGE);
		return;
	}
	o->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(o->comm, sizeof(o->comm));
}

/* CLOSE->SYN_SENT runs in connect(), before the port is chosen (sport may still be 0). */
static __always_inline void on_connect_start(const struct sock *sk, __u64 now)
{
	struct conn_state *cs = conn_create(sk, now, SYNFIN_SIDE_CLIENT);
	struct connecting *c;
	__u32 zero = 0;
	__u64 id;

	if (!cs)
		return;
	id = bpf_get_current_pid_tgid();
	cs->pid = id >> 32;
	bpf_get_current_comm(cs->comm, sizeof(cs->comm));
	gauge_add(TCP_SYN_SENT, 1);
	c = bpf_map_lookup_elem(&connecting, &zero);
	if (c) {
		c->ts_ns = now;
		c->tid = (__u32)id;
	}
}

/* The request's first SYN arrival, moved from the syns map into the child's state. */
static __always_inline int take_syn_seen(const struct sock *sk, struct syn_seen *out)
{
	const struct sock_common *skc = &sk->__sk_common;
	struct tuple_key k;
	struct syn_seen *s;

	fill_tuple_key(&k, skc, skc_key_family(skc));
	s = bpf_map_lookup_elem(&syns, &k);
	if (!s || !s->ts_ns)
		return 0;
	*out = *s;
	/* Consumed in place: a delete takes the LRU's lock, and the next request on this tuple
	 * overwrites the entry at its first timer arm anyway. */
	s->ts_ns = 0;
	return 1;
}

/* LISTEN->SYN_RECV: inet_csk_clone_lock() made the child (at the final ACK, softirq). */
static __always_inline void on_child_created(const struct sock *sk, __u64 now)
{
	struct conn_state *cs = conn_create(sk, now, SYNFIN_SIDE_SERVER);
	struct syn_seen syn;
	struct owner *o;

	if (!cs)
		return;
	if (take_syn_seen(sk, &syn) && syn.ts_ns && syn.ts_ns <= now) {
		cs->start_ns = syn.ts_ns;
		if (!syn.exact)
			cs->flags |= SYNFIN_F_ESTIMATED;
	} else {
		cs->start_ns = 0; /* resolved at ESTABLISHED from the child's own fields */
	}
	o = bpf_sk_storage_get(&owners, (void *)sk, 0, 0);
	if (o) {
		cs->pid = o->pid;
		__builtin_memcpy(cs->comm, o->comm, sizeof(cs->comm));
		cs->flags |= SYNFIN_F_OWNER;
	} else {
		cs->flags |= SYNFIN_F_NO_PID;
	}
	gauge_add(TCP_SYN_RECV, 1);
}

/* Server latency without a recorded SYN arrival: the kernel.md §2.3 recipe, from fields
 * tcp_create_openreq_child() and tcp_synack_rtt_meas() left in the child. */
static __always_inline __u64 server_latency_estimate_us(const struct tcp_sock *tp)
{
	if (tp->total_retrans == 0 && tp->srtt_us)
		return tp->srtt_us >> 3; /* SYN-ACK -> ACK, exact but without SYN -> SYN-ACK */
	if (tp->total_rto)
		return (__u64)tp->total_rto_time * 1000; /* ms, from the first SYN-ACK */
	return 0;
}

static __always_inline void on_established(const struct sock *sk, struct conn_state *cs,
					   int oldstate, __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct synfin_event *e;
	__u64 latency_us;

	gauge_add(oldstate, -1);
	gauge_add(TCP_ESTABLISHED, 1);
	cs->fsm.state_ns = now;
	if (!tp)
		return;
	if (cs->start_ns) {
		latency_us = (now - cs->start_ns) / 1000;
	} else {
		latency_us = server_latency_estimate_us(tp);
		cs->flags |= SYNFIN_F_ESTIMATED;
		cs->start_ns = now - latency_us * 1000;
	}
	e = ev_reserve(SYNFIN_EV_HANDSHAKE, now);
	if (!e)
		return;
	ev_from_conn(e, cs);
	fill_id(&e->id, &sk->__sk_common, tp->inet_conn.icsk_inet.inet_sport);
	e->hs.latency_us = latency_us;
	e->hs.retransmits = tp->total_retrans;
	ev_submit(e);
}

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

/* SYN_SENT->CLOSE. sk_err is read now: connect()/recv() consume it later (kernel.md §1.2). */
static __always_inline void on_connect_fail(const struct sock *sk, struct conn_state *cs,
					    __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct synfin_event *e;

	gauge_add(TCP_SYN_SENT, -1);
	e = ev_reserve(SYNFIN_EV_CONNECT_FAIL, now);
	if (!e)
		goto out;
	ev_from_conn(e, cs);
	fill_id(&e->id, &sk->__sk_common, sk_sport_be(sk));
	e->hs.latency_us = (now - cs->start_ns) / 1000;
	e->hs.retransmits = tp ? tp->total_retrans : 0;
	e->hs.sk_err = sk->sk_err;
	e->reason = fail_reason(e->hs.sk_err);
	ev_submit(e);
out:
	/* The state stays until the kernel frees the socket (deleting costs more than it
	 * saves); a reused socket starts afresh in conn_create. */
	return;
}

/* tcp_retransmit_synack(listener, req): without timer hooks, the first SYN-ACK time is the
 * only request-side timestamp left for a handshake whose SYN was retransmitted (§2.3 case 3). */
static __always_inline void on_synack_retransmit(const struct request_sock *req)
{
	struct tcp_request_sock *treq;
	struct syn_seen seen = {}, *old;
	struct tuple_key k;

	if (req->num_retrans)
		return; /* only the first retransmit: the entry is written once per request */
	treq = bpf_rdonly_cast(req, bpf_core_type_id_kernel(struct tcp_request_sock));
	fill_tuple_key(&k, &req->__req_common, req->rsk_ops->family);
	old = bpf_map_lookup_elem(&syns, &k);
	if (old && old->exact)
		return;
	seen.ts_ns = treq->snt_synack * 1000; /* tcp_clock_us(): same clock as ktime_get_ns */
	if (bpf_map_update_elem(&syns, &k, &seen, BPF_ANY))
		count_drop(SYNFIN_DROP_SYNMAP);
}

/* First arm of a request's rsk_timer = the SYN reached the listener (reqsk_queue_hash_req);
 * later arms come from reqsk_timer_handler after num_timeout++. */
static __always_inline void on_request_timer_start(struct timer_list *t, __u64 now)
{
	struct request_sock *req;
	struct syn_seen seen = { .exact = 1 };
	struct tuple_key k;

	req = bpf_rdonly_cast((void *)t - bpf_core_field_offset(struct request_sock, rsk_timer),
			      bpf_core_type_id_kernel(struct request_sock));
	if (req->num_timeout)
		return;
	if (cfg_netns && skc_netns(&req->__req_common) != cfg_netns)
		return;
	fill_tuple_key(&k, &req->__req_common, req->rsk_ops->family);
	tw_claim_by_tuple(&k, now);
	seen.ts_ns = now;
	if (bpf_map_update_elem(&syns, &k, &seen, BPF_ANY))
		count_drop(SYNFIN_DROP_SYNMAP);
}

#endif
