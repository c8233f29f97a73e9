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
#include "ns_counters.bpf.h"

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

/* BPF_CMPXCHG and the bitwise atomics on a map value (a global: .bss is an array map), as
 * bpf/maps.bpf.h claims a slot and marks it; both came in 5.12. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(probe_cmpxchg, const struct sock *sk)
{
	probe_sink = __sync_val_compare_and_swap(&probe_sink, 0, (__u64)sk->sk_protocol);
	__sync_fetch_and_or(&probe_sink, 1);
	__sync_fetch_and_and(&probe_sink, ~1ULL);
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

/* The per-CPU offsets (bpf/ns_counters.bpf.h), from a per-CPU array: it keeps its element's
 * per-CPU address in pptrs[0], right after aux (the union that holds pptrs was nested in a
 * struct of its own on later kernels; the offset stayed), and bpf_map_lookup_elem() gives
 * this CPU's copy. Pointers are taken as numbers by reading them back from the stack, as
 * arithmetic on a map pointer is refused. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} probe_percpu SEC(".maps");

/* probe_percpu's element's per-CPU address; 0 when unreadable. */
static __always_inline __u64 percpu_element(void)
{
	void *map = &probe_percpu;
	__u64 map_addr = 0, base = 0;

	if (bpf_probe_read_kernel(&map_addr, sizeof(map_addr), &map) ||
	    bpf_probe_read_kernel(&base, sizeof(base),
				  (void *)(map_addr + bpf_core_field_offset(struct bpf_array, aux) +
					   sizeof(void *))))
		return 0;
	return base;
}

__u64 found_percpu_offset = 0;
__u32 found_percpu_cpu = 0;
__u8 found_percpu = 0;

/* Test-run on one CPU: that CPU's offset. */
SEC("raw_tp")
int probe_percpu_offset(void *ctx)
{
	__u64 here_addr = 0, base = percpu_element();
	__u32 zero = 0;
	void *here;

	here = bpf_map_lookup_elem(&probe_percpu, &zero);
	if (!here || !base || bpf_probe_read_kernel(&here_addr, sizeof(here_addr), &here))
		return 0;
	found_percpu_offset = here_addr - base;
	found_percpu_cpu = bpf_get_smp_processor_id();
	found_percpu = 1;
	return 0;
}

/* With the offsets found: every CPU's copy of the element, read through them, for user space
 * to compare with what it wrote into each. */
__u64 found_percpu_values[SYNFIN_CPUS_MAX] = {};

SEC("raw_tp")
int probe_percpu_read(void *ctx)
{
	__u64 base = percpu_element();
	__u32 cpu;

	if (!base)
		return 0;
	for (cpu = 0; cpu < SYNFIN_CPUS_MAX && cpu < cfg_ncpus; cpu++)
		bpf_probe_read_kernel(&found_percpu_values[cpu], sizeof(__u64),
				      (void *)(base + cfg_percpu_offset[cpu]));
	return 0;
}

/* The sum, test-run from synfin itself: its own namespace's counters, which user space
 * compares with /proc/self/net/netstat read around the run. */
__u64 found_ns_counters[SYNFIN_NS_COUNTERS] = {};
__u8 found_ns_counters_ok = 0;

SEC("raw_tp")
int probe_ns_counters(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 sum[SYNFIN_NS_COUNTERS] = {};

	if (!ns_counters_sum(BPF_CORE_READ(task, nsproxy, net_ns), sum))
		return 0;
	__builtin_memcpy(found_ns_counters, sum, sizeof(sum));
	found_ns_counters_ok = 1;
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
