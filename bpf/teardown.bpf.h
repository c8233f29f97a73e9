/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The 4-way close of a full socket: who closed first, time in each closing state. */
#ifndef SYNFIN_TEARDOWN_BPF_H
#define SYNFIN_TEARDOWN_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"
#include "emit.bpf.h"
#include "timewait.bpf.h"
#include "ports.bpf.h"

static __always_inline void on_close(const struct sock *sk, struct conn_state *cs, int oldstate,
				     __u64 now)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	bool counted = ports_counted(cs);
	struct synfin_conn_id id = {}; /* fill_id() writes only what the family uses */
	struct synfin_event *e;
	int err = sk->sk_err;
	__u8 tw;

	fill_id(&id, &sk->__sk_common, sk_sport_be(sk), skc_netns(&sk->__sk_common));
	/* a timewait socket that took the connection over keeps its port until its end */
	tw = tw_handover_just_scheduled(cs, &id, now, counted);
	if (counted && !tw)
		ports_give_back(&id);
	e = ev_reserve(SYNFIN_EV_CLOSE, now);
	if (!e)
		return;
	ev_from_conn(e, cs);
	e->id = id;
	if (!(cs->flags & SYNFIN_F_PARTIAL))
		e->close.lifetime_us = (now - cs->start_ns) / 1000;
	if (tp) {
		e->close.bytes_acked = tp->bytes_acked;
		e->close.bytes_received = tp->bytes_received;
	}
	__builtin_memcpy(e->close.state_us, cs->fsm.state_us, sizeof(cs->fsm.state_us));
	e->close.initiator = cs->fsm.initiator;
	e->close.how = cs->fsm.how;
	e->close.last_state = oldstate;
	e->close.tw_handover = tw;
	e->close.sk_err = err;
	e->close.rst_dir = cs->fsm.rst_dir;
	e->close.rst_reason = cs->fsm.rst_reason;
	ev_submit(e);
}

/* Set by the loader where the reset hooks are attached (bpf/reset.bpf.h). */
const volatile __u8 cfg_resets = 0;

/* An abort of ours with no reset seen yet and no error: close() with unread data, SO_LINGER 0,
 * tcp_disconnect(). The kernel sends their reset just after this CLOSE (__tcp_close(),
 * tcp_disconnect()), and the close record waits for it to say why (bpf/reset.bpf.h). Aborts
 * that send theirs first (ss -K, keepalive, no memory) have it noted already, and the ones
 * with an error (a timeout, the peer's RST) send none. */
static __always_inline bool close_waits_for_reset(const struct sock *sk, const struct conn_state *cs)
{
	return cfg_resets && cs->fsm.how == SYNFIN_HOW_RST && cs->fsm.initiator == SYNFIN_INIT_LOCAL &&
	       !cs->fsm.rst_dir && !sk->sk_err;
}

/* Any transition after ESTABLISHED of a socket synfin tracks. Returns 1 when its state is done
 * with (a CLOSE recorded), 0 when it lives on (a close record held for its reset). */
static __always_inline int on_teardown_step(const struct sock *sk, struct conn_state *cs,
					    int oldstate, int newstate, __u64 now)
{
	conn_fsm_step(&cs->fsm, oldstate, newstate, now, newstate == TCP_CLOSE ? sk->sk_err : 0);
	gauge_add(oldstate, -1);
	if (newstate == TCP_CLOSE_WAIT)
		close_wait_enter(sk, cs, now);
	else if (oldstate == TCP_CLOSE_WAIT)
		close_wait_leave(sk, cs);
	if (newstate == TCP_CLOSE) {
		if (close_waits_for_reset(sk, cs)) {
			cs->fsm.close_held = oldstate;
			return 0;
		}
		on_close(sk, cs, oldstate, now);
		return 1;
	}
	gauge_add(newstate, 1);
	return 0;
}

/* tcp_v4_destroy_sock (IPv6 calls it too), after the socket's last transition: a tracked
 * connection that got past ESTABLISHED but never reached CLOSE in synfin's account lost a
 * transition on the way. Its close is recorded now, marked incomplete, so that every
 * established connection has exactly one close record. */
static __always_inline void on_destroy(const struct sock *sk)
{
	struct conn_state *cs = cs_lookup(sk);
	__u8 st;

	if (!cs)
		return; /* closed as seen (the state went at CLOSE), or never tracked */
	if (cs->fsm.close_held) {
		/* its abort sent no reset (the allocation failed: TcpExtTCPAbortFailed) */
		on_close(sk, cs, cs->fsm.close_held, cs->fsm.state_ns);
		cs_forget(sk, cs);
		return;
	}
	st = cs->cur_state;
	if (st != TCP_ESTABLISHED && st != TCP_FIN_WAIT1 && st != TCP_FIN_WAIT2 &&
	    st != TCP_CLOSE_WAIT && st != TCP_LAST_ACK && st != TCP_CLOSING) {
		/* never established: its SYN_SENT->CLOSE was missed, and counted as lost */
		if (st == TCP_SYN_SENT) {
			gauge_add(TCP_SYN_SENT, -1);
			if (ports_counted(cs)) {
				struct synfin_conn_id id = {}; /* fill_id() writes only what the family uses */

				fill_id(&id, &sk->__sk_common, 0, skc_netns(&sk->__sk_common));
				ports_give_back(&id);
			}
		}
		cs_forget(sk, cs); /* or the hash would keep it */
		return;
	}
	cs->cur_state = TCP_CLOSE;
	cs->flags |= SYNFIN_F_INCOMPLETE;
	gauge_add(st, -1);
	if (st == TCP_CLOSE_WAIT)
		close_wait_leave(sk, cs);
	on_close(sk, cs, st, bpf_ktime_get_ns()); /* the clock only here: most find no state */
	cs_forget(sk, cs);
}

#endif
