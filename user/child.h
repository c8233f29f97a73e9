/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run`'s CMD: started inside a cgroup before it can create a socket, passed the
 * signals sent to synfin, and its end turned into an exit status. */
#ifndef SYNFIN_CHILD_H
#define SYNFIN_CHILD_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>
#include "cgroup.h"

/* What a shell exits with when it cannot run a command: not found, found but not runnable. */
#define CHILD_EXIT_NOT_FOUND 127
#define CHILD_EXIT_NOT_EXECUTABLE 126
/* A process killed by signal N "exits" with this plus N, as in a shell. */
#define CHILD_EXIT_SIGNAL_BASE 128

/* From now on SIGINT and SIGTERM are noted (child_signal()) and passed to the running child,
 * unless the terminal sent them (they reach CMD already: same process group). Blocks both
 * until child_start() returns, so none falls between fork and knowing the child's pid;
 * *oldmask receives the mask to give back. */
void child_catch_signals(sigset_t *oldmask);
/* The last signal caught, 0 if none. */
int child_signal(void);

/* Forks, moves the child into cg, then execs argv: the child's pid, or -errno with err set.
 * An exec failure is no error here: CMD "exited" 127 or 126 and *exec_errno says why.
 * Restores oldmask in both processes. */
pid_t child_start(char **argv, const struct cgroup *cg, const sigset_t *oldmask,
		  int *exec_errno, char *err, size_t errlen);
/* The child has been reaped: stop passing signals to it. */
void child_gone(void);

/* waitpid()'s status as CMD's exit code (-1 when killed), the signal (0 if none), and the
 * status a shell would give it. */
int child_exit_status(int wstatus, int *exit_code, int *term_signal);

#endif
