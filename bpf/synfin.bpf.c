// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * synfin's kernel side: tp_btf programs only (no kprobes/fentry on hardened kernels, no
 * tracefs needed). Each SEC() wrapper hands its arguments to one handler; the handlers live
 * in the bpf/ headers by concern and share the maps of maps.bpf.h. What differs between
 * kernels is chosen in compat.bpf.h, by features the loader probed.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"
#include "handshake.bpf.h"
#include "teardown.bpf.h"
#include "seed.bpf.h"
#include "catch.bpf.h"
#include "listen.bpf.h"
#include "reset.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline int handle_set_state(const struct sock *sk, int oldstate, int newstate)
{
	struct conn_state *cs;
	__u64 now;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	switch (newstate) {
	case TCP_LISTEN:
		on_listen(sk);
		return 0;
	case TCP_SYN_SENT:
		on_connect_start(sk, bpf_ktime_get_ns());
		return 0;
	case TCP_CLOSE:
		if (oldstate == TCP_LISTEN) {
			listen_close(sk); /* listeners are not tracked otherwise */
			return 0;
		}
		break;
	case TCP_SYN_RECV:
		/* a child: tracked from its ESTABLISHED on (on_server_established); a client
		 * whose SYN crossed its peer's (simultaneous open, self-connect) stays a client */
		if (oldstate == TCP_LISTEN)
			syn_handoff_arm();
		else if (oldstate == TCP_SYN_SENT && (cs = cs_lookup(sk)))
			cs->cur_state = TCP_SYN_RECV;
		return 0;
	case TCP_ESTABLISHED:
		if (oldstate == TCP_SYN_RECV) {
			cs = cs_lookup(sk); /* only a simultaneous open has state here */
			if (cs && cs->side == SYNFIN_SIDE_CLIENT) {
				cs->cur_state = TCP_ESTABLISHED;
				on_client_established(sk, cs, bpf_ktime_get_ns());
			} else {
				on_server_established(sk, bpf_ktime_get_ns());
			}
			return 0;
		}
	}
	cs = cs_lookup(sk);
	if (!cs) {
		/* a child is untracked until ESTABLISHED: one that dies first is counted */
		if (oldstate == TCP_SYN_RECV && newstate == TCP_CLOSE)
			on_child_aborted(sk);
		return 0; /* not tracked: filtered out, or opened before synfin started */
	}
	cs->cur_state = newstate; /* first, so a catcher sees it applied (catch.bpf.h) */
	now = bpf_ktime_get_ns(); /* ~60 ns in a KVM guest: only for sockets we track */
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_SENT) {
		on_client_established(sk, cs, now);
	} else if (newstate == TCP_CLOSE && (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)) {
		/* SYN_RECV with state: a simultaneous open that failed */
		on_connect_fail(sk, cs, now);
		cs_forget(sk, cs);
	} else if (on_teardown_step(sk, cs, oldstate, newstate, now)) {
		cs_forget(sk, cs);
	}
	return 0;
}

/* In the catcher: was this transition skipped by synfin_set_state? (catch.bpf.h) */
static __always_inline int set_state_skipped(const struct sock *sk, int oldstate, int newstate)
{
	struct conn_state *cs;

	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	/* listen() and connect() run in task context, which an interrupt never hands a
	 * transition of its own; but where tracepoints leave preemption on (a46023d5616e,
	 * "tracing: Guard __DECLARE_TRACE() use of __DO_TRACE_CALL() with SRCU-fast"), a task
	 * preempted inside synfin_set_state makes the next task's listen() or connect() on
	 * that CPU a miss too. Both are taken here when their mark is missing. */
	switch (newstate) {
	case TCP_LISTEN:
		if (!listen_owner_known(sk) && on_listen(sk))
			catch_event(SYNFIN_HOOK_SET_STATE);
		return 0;
	case TCP_SYN_SENT:
		cs = cs_lookup(sk);
		if ((!cs || cs->cur_state != TCP_SYN_SENT) &&
		    on_connect_start(sk, bpf_ktime_get_ns()))
			catch_event(SYNFIN_HOOK_SET_STATE);
		return 0;
	case TCP_SYN_RECV:
		/* a child is not tracked yet (its request's handoff is armed again: harmless
		 * where the first program did); a simultaneous open's SYN_RECV is taken again
		 * by its ESTABLISHED (handle_set_state) */
		if (oldstate == TCP_LISTEN)
			syn_handoff_arm();
		return 0;
	}
	cs = cs_lookup(sk);
	if (newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV) {
		/* A child has state only once tracked. Without state, take it here: where
		 * synfin_set_state already looked, the filters say no again; a catch is
		 * counted only when it starts tracking. Done either way. A simultaneous
		 * open has state, and was missed if it is not ESTABLISHED yet. */
		if (cs)
			return cs->side == SYNFIN_SIDE_CLIENT && cs->cur_state != TCP_ESTABLISHED &&
			       catch_event(SYNFIN_HOOK_SET_STATE);
		if (on_server_established(sk, bpf_ktime_get_ns()))
			catch_event(SYNFIN_HOOK_SET_STATE);
		return 0;
	}
	return cs && cs->cur_state == oldstate && catch_event(SYNFIN_HOOK_SET_STATE);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(synfin_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	no_preempt_begin();
	handle_set_state(sk, oldstate, newstate);
	no_preempt_end();
	return 0;
}

SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(synfin_synack_rtx, const struct sock *sk, const struct request_sock *req)
{
	on_synack_retransmit(req);
	return 0;
}

SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(synfin_destroy_sock, struct sock *sk)
{
	no_preempt_begin();
	if (sk->sk_protocol == IPPROTO_TCP)
		on_destroy(sk);
	no_preempt_end();
	return 0;
}

/* Resets (bpf/reset.bpf.h). Either send program is loaded, by the tracepoint's prototype:
 * with the kernel's reason since b533fb9cf4f7 (6.10), without before. They run in task
 * context too (close(), SO_LINGER 0), hence the preemption guard. */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(synfin_send_reset, const struct sock *sk, const struct sk_buff *skb)
{
	no_preempt_begin();
	on_send_reset(sk, skb, -1);
	no_preempt_end();
	return 0;
}

SEC("tp_btf/tcp_send_reset")
int BPF_PROG(synfin_send_reset_why, const struct sock *sk, const struct sk_buff *skb,
	     enum sk_rst_reason reason)
{
	no_preempt_begin();
	on_send_reset(sk, skb, reason);
	no_preempt_end();
	return 0;
}

SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(synfin_receive_reset, struct sock *sk)
{
	no_preempt_begin();
	on_receive_reset(sk);
	no_preempt_end();
	return 0;
}

/* The destroy hook's catcher (catch.bpf.h): on_destroy() finds no state where the first
 * program did its work, so running it again is the test. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(synfin_destroy_sock_catch, struct sock *sk)
{
	no_preempt_begin();
	if (sk->sk_protocol == IPPROTO_TCP)
		on_destroy(sk);
	no_preempt_end();
	return 0;
}

/* Fires for every kernel timer: the handler-address test comes first and is all most
 * invocations pay. An unknown address (0) matches nothing. */
static __always_inline void handle_timer_start(struct timer_list *t, unsigned long fires_at,
					       __u32 slot)
{
	__u64 fn = (__u64)t->function;

	if (fn == cfg_tw_timer_fn && fn)
		on_tw_timer_start(t, fires_at, bpf_ktime_get_ns(), slot);
	else if (fn == cfg_reqsk_timer_fn && fn)
		on_request_timer_start(t, bpf_ktime_get_ns(), slot);
}

static __always_inline void handle_timer_cancel(struct timer_list *t, __u32 slot)
{
	__u64 fn = (__u64)t->function;

	if (fn == cfg_tw_timer_fn && fn)
		on_tw_timer_cancel(t, bpf_ktime_get_ns(), slot);
	else if (REQ_SLOTS && fn == cfg_reqsk_timer_fn && fn)
		on_request_timer_cancel(t, slot);
}

/* The timer hooks need neither a catcher nor preemption turned off: both tracepoints fire
 * with the timer base's raw spinlock held and interrupts off (enqueue_timer() and
 * detach_timer() in kernel/time/timer.c, on every kernel synfin loads on), so nothing on this
 * CPU can run them again before they return, and no task can preempt them. Measured: no
 * recursion miss on either in a 10 s storm under serve, against 631 on synfin_set_state. A
 * miss would still be counted as lost (user/loader.c). The catchers they had cost ~38 ns on
 * each of ~10.6 timer events per connection and never took one. */
/* The second argument is the timer's bucket expiry since dbcdcb62b59d ("tracing/timers:
 * Enhance timer_start tracepoint", 6.8), and timer->expires before: either way, when the
 * wheel can fire it at the earliest. */
SEC("tp_btf/timer_start")
int BPF_PROG(synfin_timer_start, struct timer_list *t, unsigned long fires_at)
{
	handle_timer_start(t, fires_at, KOBJ_SLOT_TIMER_START);
	return 0;
}

SEC("tp_btf/timer_cancel")
int BPF_PROG(synfin_timer_cancel, struct timer_list *t)
{
	handle_timer_cancel(t, KOBJ_SLOT_TIMER_CANCEL);
	return 0;
}

/* The catcher (catch.bpf.h): the same work, only for events its first program missed. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(synfin_set_state_catch, const struct sock *sk, const int oldstate, const int newstate)
{
	/* Every event is checked against the socket's own state, not gated on a "first program
	 * running" mark: catch.bpf.h. */
	no_preempt_begin();
	if (set_state_skipped(sk, oldstate, newstate))
		handle_set_state(sk, oldstate, newstate);
	no_preempt_end();
	return 0;
}

/* One pass per netns at start-up: see seed.bpf.h. */
SEC("iter/tcp")
int synfin_seed(struct bpf_iter__tcp *ctx)
{
	return seed_one(ctx->sk_common);
}

/* Run by user space (BPF_PROG_TEST_RUN), attached nowhere: args[0] listeners' addresses
 * follow, in args[1..]. See listen.bpf.h. */
SEC("raw_tp")
int synfin_listen_sample(struct bpf_raw_tracepoint_args *ctx)
{
	__u64 n = ctx->args[0];

#pragma unroll
	for (int i = 0; i < SYNFIN_LISTEN_BATCH; i++) {
		if (i >= n)
			break;
		listen_read(ctx->args[i + 1], &listen_out[i]);
	}
	return 0;
}
