/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A cgroup v2 of synfin's own under the cgroup2 mount: created, joined, emptied, removed.
 * Its id is the directory's inode (the kernfs node id), which is what BPF reads as
 * sk->sk_cgrp_data.cgroup->kn->id. */
#ifndef SYNFIN_CGROUP_H
#define SYNFIN_CGROUP_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct cgroup {
	char dir[PATH_MAX]; /* "" when none was created */
	uint64_t id;
};

/* Creates <cgroup2 mount>/name: 0, or -errno with err set ("what: why; what to do"). A
 * leftover directory of that name (an earlier synfin of the same pid, SIGKILLed) is
 * replaced. When name ends in our pid ("synfin-run-<pid>"), the leftovers of the same
 * prefix whose pid is dead and that hold no process are removed first (SIGKILLed runs). */
int cgroup_create(struct cgroup *cg, const char *name, char *err, size_t errlen);
/* Moves process pid into the cgroup (async-signal-safe: callable between fork and exec). */
int cgroup_join(const struct cgroup *cg, pid_t pid);
/* Pids in the cgroup and the cgroups below it, up to max of them into pids (may be NULL):
 * how many, or -errno. */
int cgroup_pids(const struct cgroup *cg, pid_t *pids, int max);
/* Kills every process in the cgroup and waits up to timeout_ms for them to leave, calling
 * wait(ctx) (NULL: a short sleep) between checks: how many there were. */
int cgroup_kill_all(const struct cgroup *cg, unsigned int timeout_ms, void (*wait)(void *ctx),
		    void *ctx);
/* Removes the directory, and every cgroup below it (CMD's own), once their last process
 * has left: 0 or -errno. */
int cgroup_remove(struct cgroup *cg);

#endif
