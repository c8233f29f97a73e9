// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Feature probes, loaded one program at a time by user/kernel_features.c before synfin's own
 * programs: each either passes the verifier on this kernel or not, and the answer selects a
 * variant in bpf/compat.bpf.h. None of them is attached except the calibration iterator,
 * which reads the timer handlers' addresses out of live sockets (user/calibrate.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;
extern void bpf_preempt_disable(void) __ksym __weak;
extern void bpf_preempt_enable(void) __ksym __weak;

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, __u64);
} probe_storage SEC(".maps");

__u64 probe_sink = 0;

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_sk_storage, const struct sock *sk)
{
	__u64 *v = bpf_sk_storage_get(&probe_storage, (void *)sk, 0, 0);

	probe_sink = v ? *v : 0;
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_socket_cookie, const struct sock *sk)
{
	probe_sink = bpf_get_socket_cookie((void *)sk);
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(probe_rdonly_cast, struct timer_list *t)
{
	const struct timer_list *v = bpf_rdonly_cast(t, bpf_core_type_id_kernel(struct timer_list));

	probe_sink = v ? (__u64)v->function : 0;
	return 0;
}

SEC("tp_btf/timer_start")
int BPF_PROG(probe_preempt_kfuncs, struct timer_list *t)
{
	bpf_preempt_disable();
	probe_sink = (__u64)t->function;
	bpf_preempt_enable();
	return 0;
}

/* The handler each kind of timer carries, as the kernel stored it (timer_setup() in
 * inet_twsk_alloc() and reqsk_queue_hash_req()): the exact value timer_start will see,
 * whatever kallsyms shows. */
__u64 found_tw_timer_fn = 0;
__u64 found_reqsk_timer_fn = 0;

SEC("iter/tcp")
int probe_timer_handlers(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct tcp_timewait_sock *tw;
	struct tcp_request_sock *req;

	if (!skc)
		return 0;
	tw = bpf_skc_to_tcp_timewait_sock(skc);
	if (tw) {
		found_tw_timer_fn = (__u64)tw->tw_sk.tw_timer.function;
		return 0;
	}
	req = bpf_skc_to_tcp_request_sock(skc);
	if (req)
		found_reqsk_timer_fn = (__u64)req->req.req.rsk_timer.function;
	return 0;
}
