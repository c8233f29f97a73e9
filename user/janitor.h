/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* synfin run's cgroup lives in the cgroup2 root, a directory of mode 0555: removing it
 * needs CAP_DAC_OVERRIDE, which synfin drops with everything else once it observes. The
 * janitor is a process forked before the drop that keeps only that capability (and
 * CAP_KILL, for kernels without cgroup.kill), reads nothing but a pipe, and when the pipe
 * closes (synfin is done, or died) kills what is left in the cgroup and removes it. */
#ifndef SYNFIN_JANITOR_H
#define SYNFIN_JANITOR_H

#include <sys/types.h>
#include "cgroup.h"

struct janitor {
	pid_t pid; /* 0: none */
	int fd;    /* write end of the pipe; closing it starts the cleanup */
};

/* 0, or -errno with err set. */
int janitor_start(struct janitor *j, const struct cgroup *cg, char *err, size_t errlen);
/* Closes the pipe and waits: 0 when the cgroup is gone (the janitor printed why not). */
int janitor_finish(struct janitor *j);

#endif
