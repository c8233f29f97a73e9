// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "listen_model.h"
#include "ns_counters.h"
#include "probe.skel.h"

/* Each counter's index in linux_mib: its enumerator's value in the kernel's BTF. */
static bool find_mib_indexes(uint32_t out[SYNFIN_NS_COUNTERS])
{
	static const char *const names[SYNFIN_NS_COUNTERS] = {
		[SYNFIN_NS_LISTEN_DROPS] = "LINUX_MIB_LISTENDROPS",
		[SYNFIN_NS_LISTEN_OVERFLOWS] = "LINUX_MIB_LISTENOVERFLOWS",
		[SYNFIN_NS_REQQ_FULL_DROPS] = "LINUX_MIB_TCPREQQFULLDROP",
	};
	const unsigned int all = (1u << SYNFIN_NS_COUNTERS) - 1;
	struct btf *vmlinux = btf__load_vmlinux_btf();
	unsigned int found = 0, c;
	__u32 id, n;

	if (!vmlinux)
		return false;
	n = btf__type_cnt(vmlinux);
	for (id = 1; id < n && found != all; id++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);
		const struct btf_enum *e;
		__u16 i;

		if (!btf_is_enum(t))
			continue;
		e = btf_enum(t);
		for (i = 0; i < btf_vlen(t); i++, e++) {
			const char *name = btf__name_by_offset(vmlinux, e->name_off);

			for (c = 0; name && c < SYNFIN_NS_COUNTERS; c++) {
				if (!strcmp(name, names[c]) && e->val >= 0) {
					out[c] = (uint32_t)e->val;
					found |= 1u << c;
				}
			}
		}
	}
	btf__free(vmlinux);
	return found == all;
}

/* A probe object with only prog loaded, loc applied to its .rodata; NULL on failure. */
static struct probe_bpf *load_only(const struct bpf_program *(*pick)(struct probe_bpf *),
				   const struct ns_counters_loc *loc)
{
	struct probe_bpf *skel = probe_bpf__open();
	struct bpf_program *p;

	if (!skel)
		return NULL;
	bpf_object__for_each_program(p, skel->obj)
		bpf_program__set_autoload(p, p == pick(skel));
	NS_COUNTERS_APPLY(skel->rodata, loc);
	if (probe_bpf__load(skel)) {
		probe_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

static const struct bpf_program *offset_prog(struct probe_bpf *s)
{
	return s->progs.probe_percpu_offset;
}

static const struct bpf_program *read_prog(struct probe_bpf *s)
{
	return s->progs.probe_percpu_read;
}

static const struct bpf_program *sum_prog(struct probe_bpf *s)
{
	return s->progs.probe_ns_counters;
}

static bool find_offsets(struct ns_counters_loc *loc)
{
	struct probe_bpf *skel = load_only(offset_prog, loc);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .flags = BPF_F_TEST_RUN_ON_CPU);
	uint32_t cpu;
	bool ok = skel != NULL;

	if (!skel)
		snprintf(loc->why, sizeof(loc->why), "the per-CPU offset probe does not load");
	for (cpu = 0; ok && cpu < loc->ncpus; cpu++) {
		skel->bss->found_percpu = 0;
		opts.cpu = cpu;
		if (bpf_prog_test_run_opts(bpf_program__fd(skel->progs.probe_percpu_offset), &opts) ||
		    !skel->bss->found_percpu || skel->bss->found_percpu_cpu != cpu) {
			snprintf(loc->why, sizeof(loc->why),
				 "no test run on CPU %u (offline, or BPF_F_TEST_RUN_ON_CPU refused: "
				 "1b4d60ec162f, 5.10)", cpu);
			ok = false;
			break;
		}
		loc->percpu_offset[cpu] = skel->bss->found_percpu_offset;
	}
	probe_bpf__destroy(skel);
	return ok;
}

/* The offsets, tried on another per-CPU allocation: a value written into each CPU's copy of
 * its element must read back through them. */
static bool offsets_read_back(struct ns_counters_loc *loc)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	static __u64 values[SYNFIN_CPUS_MAX];
	struct ns_counters_loc on = *loc;
	struct probe_bpf *skel;
	__u32 zero = 0, cpu;
	bool ok;

	on.ok = true; /* the probe reads what the hook would */
	skel = load_only(read_prog, &on);
	for (cpu = 0; cpu < loc->ncpus; cpu++)
		values[cpu] = 0x5f17000000000000ull | cpu;
	ok = skel && !bpf_map_update_elem(bpf_map__fd(skel->maps.probe_percpu), &zero, values, 0) &&
	     !bpf_prog_test_run_opts(bpf_program__fd(skel->progs.probe_percpu_read), &opts) &&
	     !memcmp(skel->bss->found_percpu_values, values, loc->ncpus * sizeof(values[0]));
	if (!ok)
		snprintf(loc->why, sizeof(loc->why), "the per-CPU offsets found do not read back");
	probe_bpf__destroy(skel);
	return ok;
}

static bool own_counters(int fd, struct listen_counters *out)
{
	char buf[16384];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return false;
	buf[n] = '\0';
	return !listen_netstat_parse(buf, out);
}

/* The sum over synfin's own namespace, against /proc/self/net/netstat read before and after
 * it: a try whose two readings differ (something dropped meanwhile) is made again. */
static bool sum_matches(struct ns_counters_loc *loc)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);
	struct listen_counters before, after, sum;
	struct ns_counters_loc on = *loc;
	struct probe_bpf *skel;
	int fd, attempt;
	bool ok = false;

	on.ok = true; /* the probe reads what the hook would */
	skel = load_only(sum_prog, &on);
	fd = open("/proc/self/net/netstat", O_RDONLY | O_CLOEXEC);
	if (!skel || fd < 0) {
		snprintf(loc->why, sizeof(loc->why), "%s", !skel ? "the counter probe does not load" :
								    "no /proc/self/net/netstat");
		goto out;
	}
	for (attempt = 0; attempt < 5 && !ok; attempt++) {
		skel->bss->found_ns_counters_ok = 0;
		if (!own_counters(fd, &before) ||
		    bpf_prog_test_run_opts(bpf_program__fd(skel->progs.probe_ns_counters), &opts) ||
		    !own_counters(fd, &after) || !skel->bss->found_ns_counters_ok)
			break;
		if (memcmp(&before, &after, sizeof(before)))
			continue;
		listen_counters_from_hook(skel->bss->found_ns_counters, &sum);
		ok = !memcmp(&sum, &before, sizeof(sum));
		if (!ok) {
			snprintf(loc->why, sizeof(loc->why),
				 "the sum read ListenDrops %llu where /proc/self/net/netstat shows %llu",
				 (unsigned long long)sum.listen_drops,
				 (unsigned long long)before.listen_drops);
			goto out;
		}
	}
	if (!ok)
		snprintf(loc->why, sizeof(loc->why), "could not compare the sum with /proc");
out:
	if (fd >= 0)
		close(fd);
	probe_bpf__destroy(skel);
	return ok;
}

void ns_counters_find(struct ns_counters_loc *loc)
{
	int ncpu = libbpf_num_possible_cpus();

	memset(loc, 0, sizeof(*loc));
	if (ncpu <= 0 || ncpu > SYNFIN_CPUS_MAX) {
		snprintf(loc->why, sizeof(loc->why), "%d possible CPUs (at most %d)", ncpu,
			 SYNFIN_CPUS_MAX);
		return;
	}
	loc->ncpus = (uint32_t)ncpu;
	if (!find_mib_indexes(loc->mib_index)) {
		snprintf(loc->why, sizeof(loc->why), "the kernel's BTF names no LINUX_MIB_LISTENDROPS");
		return;
	}
	if (!find_offsets(loc) || !offsets_read_back(loc) || !sum_matches(loc))
		return;
	loc->ok = true;
}
