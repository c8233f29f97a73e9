/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The per-connection teardown state machine, pure: compiled into the BPF program (which
 * feeds it every inet_sock_set_state transition of a tracked socket) and into the unit
 * tests (which feed it recorded transition sequences, including broken ones). No kernel
 * types, no helpers, no clock: the caller passes the time.
 */
#ifndef SYNFIN_CONN_FSM_H
#define SYNFIN_CONN_FSM_H

#include "synfin/events.h"

/* Kernel TCP states (include/net/tcp_states.h): user-visible ABI, unchanged since 2.6. */
enum synfin_tcp_state {
	SYNFIN_TCP_ESTABLISHED = 1,
	SYNFIN_TCP_SYN_SENT = 2,
	SYNFIN_TCP_SYN_RECV = 3,
	SYNFIN_TCP_FIN_WAIT1 = 4,
	SYNFIN_TCP_FIN_WAIT2 = 5,
	SYNFIN_TCP_TIME_WAIT = 6,
	SYNFIN_TCP_CLOSE = 7,
	SYNFIN_TCP_CLOSE_WAIT = 8,
	SYNFIN_TCP_LAST_ACK = 9,
	SYNFIN_TCP_LISTEN = 10,
	SYNFIN_TCP_CLOSING = 11,
};

struct conn_fsm {
	__u64 state_ns;                /* when the current state was entered, 0 = unknown */
	__u64 state_us[SYNFIN_CS_MAX]; /* accumulated time per closing state */
	__u8 initiator;                /* enum synfin_initiator */
	__u8 how;                      /* enum synfin_close_how */
	__u8 rst_dir;                  /* the first reset seen: enum synfin_rst_dir */
	__u8 rst_reason;               /* enum synfin_rst_reason */
	/* The state an abort left for CLOSE while its close record waits for the reset the
	 * kernel sends right after (bpf/reset.bpf.h); 0 = no record waiting. */
	__u8 close_held;
	__u8 pad[3];
};

static inline int conn_fsm_closing_index(int state)
{
	switch (state) {
	case SYNFIN_TCP_FIN_WAIT1:
		return SYNFIN_CS_FIN_WAIT1;
	case SYNFIN_TCP_FIN_WAIT2:
		return SYNFIN_CS_FIN_WAIT2;
	case SYNFIN_TCP_CLOSE_WAIT:
		return SYNFIN_CS_CLOSE_WAIT;
	case SYNFIN_TCP_LAST_ACK:
		return SYNFIN_CS_LAST_ACK;
	case SYNFIN_TCP_CLOSING:
		return SYNFIN_CS_CLOSING;
	default:
		return -1;
	}
}

/* Errors tcp_reset() stores when the peer's RST closed us (net/ipv4/tcp_input.c). */
static inline int conn_fsm_err_is_peer_reset(int err)
{
	return err == 104 /* ECONNRESET */ || err == 32 /* EPIPE: RST in CLOSE_WAIT */;
}

/*
 * One transition old -> new at now_ns. sk_err is the socket's error at the transition
 * (only read for -> CLOSE). Time spent in the state being left is added to its slot; a
 * clock that went backwards (records from different CPUs) or an unknown entry time adds
 * nothing rather than a negative or invented duration.
 */
static inline void conn_fsm_step(struct conn_fsm *f, int oldstate, int newstate, __u64 now_ns,
				 int sk_err)
{
	int idx = conn_fsm_closing_index(oldstate);

	if (idx >= 0 && idx < SYNFIN_CS_MAX && f->state_ns && now_ns > f->state_ns)
		f->state_us[idx] += (now_ns - f->state_ns) / 1000;
	f->state_ns = now_ns;
	if (f->initiator)
		return;
	switch (newstate) {
	case SYNFIN_TCP_FIN_WAIT1:
	case SYNFIN_TCP_CLOSING:
		f->initiator = SYNFIN_INIT_LOCAL;
		f->how = SYNFIN_HOW_FIN;
		break;
	case SYNFIN_TCP_CLOSE_WAIT:
		f->initiator = SYNFIN_INIT_REMOTE;
		f->how = SYNFIN_HOW_FIN;
		break;
	case SYNFIN_TCP_CLOSE:
		/* No FIN before CLOSE: an abort. Ours (linger 0, unread data, ss -K, timeouts)
		 * unless the kernel recorded the peer's RST. */
		f->initiator = conn_fsm_err_is_peer_reset(sk_err) ? SYNFIN_INIT_REMOTE
								   : SYNFIN_INIT_LOCAL;
		f->how = SYNFIN_HOW_RST;
		break;
	}
}

/* State of a socket found already open (seeded): closing states already entered tell the
 * initiator, even though the entry time is unknown. */
static inline void conn_fsm_seed(struct conn_fsm *f, int state, __u64 now_ns)
{
	f->state_ns = now_ns;
	switch (state) {
	case SYNFIN_TCP_FIN_WAIT1:
	case SYNFIN_TCP_FIN_WAIT2:
	case SYNFIN_TCP_CLOSING:
		f->initiator = SYNFIN_INIT_LOCAL;
		f->how = SYNFIN_HOW_FIN;
		break;
	case SYNFIN_TCP_CLOSE_WAIT:
	case SYNFIN_TCP_LAST_ACK:
		f->initiator = SYNFIN_INIT_REMOTE;
		f->how = SYNFIN_HOW_FIN;
		break;
	}
}

#endif
