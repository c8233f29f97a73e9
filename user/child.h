/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run`'s CMD: started inside a cgroup before it can create a socket, passed the
 * signals sent to synfin, and its end turned into an exit status. */
#ifndef SYNFIN_CHILD_H
#define SYNFIN_CHILD_H

#include <signal.h>
#include <stdbool.h>
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
 * until the mask is given back, so none falls between fork and knowing the child's pid;
 * *oldmask receives the mask to give back. */
void child_catch_signals(sigset_t *oldmask);
/* The last signal caught, 0 if none. */
int child_signal(void);

/* Who CMD runs as. set: switch to uid/gid (with uid's supplementary groups) before exec;
 * otherwise CMD keeps synfin's ids. */
struct child_user {
	bool set;
	uid_t uid;
	gid_t gid;
};

/* A child forked while synfin still holds its capabilities and waiting to exec. */
struct child_launch {
	pid_t pid;
	int go;     /* write end: one byte = exec, EOF = exit without exec */
	int status; /* read end: EOF at exec (O_CLOEXEC), or why it failed */
};

/* Forks; the child takes the default SIGINT/SIGTERM/SIGPIPE dispositions, moves into cg,
 * becomes user u (dropping synfin's ambient capabilities unless it stays root) and waits
 * for child_release(). Done before synfin drops its capabilities: joining a cgroup and
 * changing ids need them. 0, or -errno with err set (then cl->pid is 0). */
int child_spawn(char **argv, const struct cgroup *cg, const struct child_user *u,
		struct child_launch *cl, char *err, size_t errlen);
/* Lets the child exec: its pid (signals are passed to it from now on), or -errno with err
 * set when it could not join the cgroup or become u. An exec failure is no error here: CMD
 * "exited" 127 or 126 and *exec_errno says why. */
pid_t child_release(struct child_launch *cl, int *exec_errno, char *err, size_t errlen);
/* A spawned child that is not to run: it exits without exec and is reaped. */
void child_abandon(struct child_launch *cl);
/* The child has been reaped: stop passing signals to it. */
void child_gone(void);

/* waitpid()'s status as CMD's exit code (-1 when killed), the signal (0 if none), and the
 * status a shell would give it. */
int child_exit_status(int wstatus, int *exit_code, int *term_signal);

#endif
