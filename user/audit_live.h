/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The self-audit's I/O: reads one network namespace's /proc/net/snmp and /proc/net/netstat
 * (user/audit.c parses them). synfin's own namespace is read through /proc/thread-self/net.
 * Another one is read through /proc/PID/net of a process found inside it at the start, while
 * synfin still has its capabilities: afterwards it cannot setns() or tell a process's
 * namespace, yet /proc/PID/net needs neither. Holding a file of the namespace open instead
 * would keep a deleted namespace alive, which synfin must not do. */
#ifndef SYNFIN_AUDIT_LIVE_H
#define SYNFIN_AUDIT_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include "audit.h"

struct audit_live {
	uint32_t netns;
	bool own;                   /* synfin's own namespace */
	int pid;                    /* else a process inside it, 0 = none found */
	unsigned long long start;   /* its start time (/proc/PID/stat field 22): pid reuse */
};

/* Finds how to read namespace netns (synfin's own when own_ino == netns). Call before the
 * capabilities are dropped. 0, or -ENOENT when no process lives in it. */
int audit_live_init(struct audit_live *l, uint32_t netns, uint32_t own_ino);
/* The namespace's counters now: 0, or -errno (the process left, the files are gone). */
int audit_live_read(const struct audit_live *l, struct audit_kernel *k);
/* synfin's own namespace inode, 0 if unknown. */
uint32_t audit_live_own_netns(void);

#endif
