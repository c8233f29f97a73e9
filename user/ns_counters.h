/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What the listen() hook needs to read its namespace's counters (bpf/ns_counters.bpf.h),
 * found once at start with the probe object: each CPU's per-CPU offset and each counter's
 * index in linux_mib, then the sum checked against /proc/self/net/netstat. */
#ifndef SYNFIN_NS_COUNTERS_H
#define SYNFIN_NS_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "synfin/maps.h"

struct ns_counters_loc {
	bool ok;
	uint32_t ncpus;
	uint32_t mib_index[SYNFIN_NS_COUNTERS];
	uint64_t percpu_offset[SYNFIN_CPUS_MAX];
	char why[192]; /* when !ok: what is missing */
};

/* Fills loc; loc->ok only when the sum matched the kernel's own figures. */
void ns_counters_find(struct ns_counters_loc *loc);

/* Writes loc into the .rodata of a skeleton whose object includes bpf/ns_counters.bpf.h. */
#define NS_COUNTERS_APPLY(rodata, loc)                                                         \
	do {                                                                                   \
		(rodata)->cfg_ns_counters = (loc)->ok;                                         \
		(rodata)->cfg_ncpus = (loc)->ok ? (loc)->ncpus : 0;                            \
		memcpy((void *)(rodata)->cfg_mib_index, (loc)->mib_index,                      \
		       sizeof((loc)->mib_index));                                              \
		memcpy((void *)(rodata)->cfg_percpu_offset, (loc)->percpu_offset,              \
		       sizeof((loc)->percpu_offset));                                          \
	} while (0)

#endif
