/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The 4-way close of a full socket: who closed first, time in each closing state. */
#ifndef SYNFIN_TEARDOWN_BPF_H
#define SYNFIN_TEARDOWN_BPF_H

static __always_inline int closing_index(int state)
{
	switch (state) {
	case TCP_FIN_WAIT1:
		return SYNFIN_CS_FIN_WAIT1;
	case TCP_FIN_WAIT2:
		return SYNFIN_CS_FIN_WAIT2;
	case TCP_CLOSE_WAIT:
		return SYNFIN_CS_CLOSE_WAIT;
	case TCP_LAST_ACK:
		return SYNFIN_CS_LAST_ACK;
	case TCP_CLOSING:
		return SYNFIN_CS_CLOSING;
	default:
		return -1;
	}
}

/* Errors that tcp_reset() stores when the peer's RST closed us (kernel.md §4.2). */
static __always_inline int err_is_peer_reset(int err)
{
	return err == 104 /* ECONNRESET */ || err == 32 /* EPIPE, RST in CLOSE_WAIT */;
}

static __always_inline void on_close(const struct sock *sk, struct conn_state *cs, int oldstate,
				     __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	struct synfin_event *e;
	int err = sk->sk_err;

	if (!cs->initiator) {
		/* No FIN before CLOSE: an abort. Ours (linger 0, unread data, ss -K, timeouts)
		 * unless the kernel recorded the peer's RST. */
		cs->initiator = err_is_peer_reset(err) ? SYNFIN_INIT_REMOTE : SYNFIN_INIT_LOCAL;
		cs->how = SYNFIN_HOW_RST;
	}
	e = ev_reserve(SYNFIN_EV_CLOSE, now);
	if (!e)
		goto out;
	ev_from_conn(e, cs);
	fill_id(&e->id, &sk->__sk_common, sk_sport_be(sk));
	if (!(cs->flags & SYNFIN_F_PARTIAL))
		e->close.lifetime_us = (now - cs->start_ns) / 1000;
	if (tp) {
		e->close.bytes_acked = tp->bytes_acked;
		e->close.bytes_received = tp->bytes_received;
	}
	__builtin_memcpy(e->close.state_us, cs->state_us, sizeof(cs->state_us));
	e->close.initiator = cs->initiator;
	e->close.how = cs->how;
	e->close.last_state = oldstate;
	e->close.tw_handover = tw_handover_just_scheduled(cs, now);
	e->close.sk_err = err;
	ev_submit(e);
out:
	bpf_sk_storage_delete(&conns, (void *)sk);
}

/* Any transition after ESTABLISHED of a socket synfin tracks. */
static __always_inline void on_teardown_step(const struct sock *sk, struct conn_state *cs,
					     int oldstate, int newstate, __u64 now)
{
	int idx = closing_index(oldstate);

	if (idx >= 0 && idx < SYNFIN_CS_MAX && cs->state_ns && now > cs->state_ns)
		cs->state_us[idx] += (now - cs->state_ns) / 1000;
	cs->state_ns = now;
	gauge_add(oldstate, -1);
	if (!cs->initiator) {
		if (newstate == TCP_FIN_WAIT1 || newstate == TCP_CLOSING) {
			cs->initiator = SYNFIN_INIT_LOCAL;
			cs->how = SYNFIN_HOW_FIN;
		} else if (newstate == TCP_CLOSE_WAIT) {
			cs->initiator = SYNFIN_INIT_REMOTE;
			cs->how = SYNFIN_HOW_FIN;
		}
	}
	if (newstate == TCP_CLOSE_WAIT)
		close_wait_enter(sk, cs, now);
	else if (oldstate == TCP_CLOSE_WAIT)
		close_wait_leave(cs);
	if (newstate == TCP_CLOSE) {
		on_close(sk, cs, oldstate, now);
		return;
	}
	gauge_add(newstate, 1);
}

#endif
