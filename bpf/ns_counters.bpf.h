/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A namespace's TcpExt listen counters, read from BPF: what /proc/net/netstat shows, summed
 * over the possible CPUs as snmp_fold_field() sums them. The listen() hook reads them
 * (bpf/listen.bpf.h), and the probe object checks the sum against /proc/self/net/netstat
 * before synfin relies on it (user/ns_counters.c).
 *
 * The counters are per-CPU (net->mib.net_statistics): reading CPU c's copy needs c's per-CPU
 * offset. bpf_per_cpu_ptr() takes only a typed per-CPU ksym, whose address the verifier looks
 * up in kallsyms, which lists no data symbols without CONFIG_KALLSYMS_ALL (6.18 here:
 * "ldimm64 failed to find the address for kernel symbol 'this_cpu_off'", even in code the
 * verifier would prune). So user space finds the offsets itself, once: it test-runs
 * probe_percpu_offset on each CPU (BPF_F_TEST_RUN_ON_CPU came with raw_tp's test runs in
 * 1b4d60ec162f, "bpf: Enable BPF_PROG_TEST_RUN for raw_tracepoint", 5.10), which compares
 * that CPU's copy of a per-CPU array's element with the element's per-CPU address.
 *
 * The counters' places in linux_mib belong to an anonymous enum, which CO-RE cannot relocate
 * and which has gained members in its middle: user space finds them by name in the kernel's
 * BTF.
 */
#ifndef SYNFIN_NS_COUNTERS_BPF_H
#define SYNFIN_NS_COUNTERS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "synfin/maps.h"

/* Set by user/ns_counters.c before load; 0 = the counters are not read. */
const volatile __u8 cfg_ns_counters = 0;
const volatile __u32 cfg_ncpus = 0; /* possible CPUs, at most SYNFIN_CPUS_MAX */
const volatile __u32 cfg_mib_index[SYNFIN_NS_COUNTERS] = {};
const volatile __u64 cfg_percpu_offset[SYNFIN_CPUS_MAX] = {};

/* out[] += net's counters now; false when they cannot be read (out then partial). */
static __always_inline bool ns_counters_sum(const struct net *net, __u64 out[SYNFIN_NS_COUNTERS])
{
	const void *mib = BPF_CORE_READ(net, mib.net_statistics);
	__u32 cpu, c;
	__u64 v;

	if (!cfg_ns_counters || !mib)
		return false;
	for (cpu = 0; cpu < SYNFIN_CPUS_MAX && cpu < cfg_ncpus; cpu++) {
		for (c = 0; c < SYNFIN_NS_COUNTERS; c++) {
			if (bpf_probe_read_kernel(&v, sizeof(v), mib + cfg_percpu_offset[cpu] +
								  cfg_mib_index[c] * sizeof(long)))
				return false;
			out[c] += v;
		}
	}
	return true;
}

#endif
