// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>
#include "child.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

/* Signals the terminal sends (Ctrl-C: si_code SI_KERNEL) already reach CMD, which shares our
 * process group; only signals sent to synfin alone (kill, a CI runner's timeout) are passed
 * on, so CMD never sees one Ctrl-C twice. */
static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_signal = sig;
	if (child_pid > 0 && si->si_code != SI_KERNEL)
		kill((pid_t)child_pid, sig);
}

void child_catch_signals(sigset_t *oldmask)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	sigset_t block;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, oldmask);
}

int child_signal(void)
{
	return got_signal;
}

void child_gone(void)
{
	child_pid = 0;
}

/* Why the child did not become CMD, sent back over the pipe. */
struct child_failure {
	enum { FAILED_JOIN = 1, FAILED_USER, FAILED_EXEC } stage;
	int err;
};

/* In the child: the ids of u. initgroups() gives CMD the groups it has in a login of its own
 * (what `id` shows without synfin); a uid without a passwd entry gets only its gid. */
static int become(const struct child_user *u)
{
	struct passwd *pw;

	if (!u->set)
		return 0;
	pw = getpwuid(u->uid);
	if (pw ? initgroups(pw->pw_name, u->gid) : setgroups(1, &u->gid))
		return errno;
	if (setresgid(u->gid, u->gid, u->gid) || setresuid(u->uid, u->uid, u->uid))
		return errno;
	return 0;
}

int child_spawn(char **argv, const struct cgroup *cg, const struct child_user *u,
		struct child_launch *cl, char *err, size_t errlen)
{
	struct child_failure cf = { 0 };
	int gofd[2], stfd[2], ret;
	ssize_t n;
	char go;

	cl->pid = 0;
	if (pipe2(gofd, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "pipe failed: %s", strerror(-ret));
		return ret;
	}
	if (pipe2(stfd, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "pipe failed: %s", strerror(-ret));
		close(gofd[0]);
		close(gofd[1]);
		return ret;
	}
	fflush(NULL);
	cl->pid = fork();
	if (cl->pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "fork failed: %s", strerror(-ret));
		close(gofd[0]);
		close(gofd[1]);
		close(stfd[0]);
		close(stfd[1]);
		cl->pid = 0;
		return ret;
	}
	if (cl->pid == 0) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		close(gofd[1]);
		close(stfd[0]);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		/* synfin ignores SIGPIPE; exec keeps an ignored signal ignored, and CMD must get
		 * the dispositions it would have had without synfin (issue 12: a pipeline's exit
		 * status changed from 141 to 1). */
		sigaction(SIGPIPE, &dfl, NULL);
		/* in the cgroup before exec: not one socket of CMD is created outside it */
		cf.err = -cgroup_join(cg, getpid());
		if (cf.err) {
			cf.stage = FAILED_JOIN;
		} else if ((cf.err = become(u))) {
			cf.stage = FAILED_USER;
		} else {
			/* synfin's own ambient capabilities (a service user's CAP_BPF...) are not
			 * CMD's: only a CMD that runs as root keeps root's privileges. */
			if (getuid() != 0) {
				capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
				capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
			}
			do {
				n = read(gofd[0], &go, 1);
			} while (n < 0 && errno == EINTR);
			if (n != 1)
				_exit(CHILD_EXIT_NOT_FOUND); /* abandoned: synfin could not observe */
			execvp(argv[0], argv);
			cf.stage = FAILED_EXEC;
			cf.err = errno;
		}
		n = write(stfd[1], &cf, sizeof(cf));
		(void)n;
		_exit(cf.stage != FAILED_EXEC ? 1 : cf.err == ENOENT ? CHILD_EXIT_NOT_FOUND
								 : CHILD_EXIT_NOT_EXECUTABLE);
	}
	close(gofd[0]);
	close(stfd[1]);
	cl->go = gofd[1];
	cl->status = stfd[0];
	return 0;
}

pid_t child_release(struct child_launch *cl, int *exec_errno, char *err, size_t errlen)
{
	struct child_failure cf = { 0 };
	pid_t pid = cl->pid;
	ssize_t n;

	*exec_errno = 0;
	child_pid = pid;
	n = write(cl->go, "x", 1); /* a child that already failed has closed its end: EPIPE */
	(void)n;
	close(cl->go);
	/* EOF at exec (O_CLOEXEC), or the failure record */
	do {
		n = read(cl->status, &cf, sizeof(cf));
	} while (n < 0 && errno == EINTR);
	close(cl->status);
	cl->pid = 0;
	if (n == (ssize_t)sizeof(cf) && cf.stage != FAILED_EXEC) {
		waitpid(pid, NULL, 0);
		child_gone();
		if (cf.stage == FAILED_JOIN)
			snprintf(err, errlen, "moving CMD into the cgroup failed: %s", strerror(cf.err));
		else
			snprintf(err, errlen, "running CMD as the invoking user failed: %s",
				 strerror(cf.err));
		return -cf.err;
	}
	if (n == (ssize_t)sizeof(cf))
		*exec_errno = cf.err;
	return pid;
}

void child_abandon(struct child_launch *cl)
{
	if (cl->pid <= 0)
		return;
	close(cl->go);
	close(cl->status);
	waitpid(cl->pid, NULL, 0);
	cl->pid = 0;
}

int child_exit_status(int wstatus, int *exit_code, int *term_signal)
{
	if (WIFSIGNALED(wstatus)) {
		*exit_code = -1;
		*term_signal = WTERMSIG(wstatus);
		return CHILD_EXIT_SIGNAL_BASE + *term_signal;
	}
	*exit_code = WEXITSTATUS(wstatus);
	*term_signal = 0;
	return *exit_code;
}
