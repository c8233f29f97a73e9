// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
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
	enum { FAILED_JOIN = 1, FAILED_EXEC } stage;
	int err;
};

pid_t child_start(char **argv, const struct cgroup *cg, const sigset_t *oldmask,
		  int *exec_errno, char *err, size_t errlen)
{
	struct child_failure cf = { 0 };
	int pipefd[2], ret;
	ssize_t n;
	pid_t pid;

	*exec_errno = 0;
	if (pipe2(pipefd, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "pipe failed: %s", strerror(-ret));
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		return ret;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "fork failed: %s", strerror(-ret));
		close(pipefd[0]);
		close(pipefd[1]);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		return ret;
	}
	if (pid == 0) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		close(pipefd[0]);
		sigaction(SIGINT, &dfl, NULL);
		sigaction(SIGTERM, &dfl, NULL);
		/* synfin ignores SIGPIPE; exec keeps an ignored signal ignored, and CMD must get
		 * the dispositions it would have had without synfin (issue 12: a pipeline's exit
		 * status changed from 141 to 1). */
		sigaction(SIGPIPE, &dfl, NULL);
		sigprocmask(SIG_SETMASK, oldmask, NULL);
		/* in the cgroup before exec: not one socket of CMD is created outside it */
		cf.err = -cgroup_join(cg, getpid());
		if (cf.err) {
			cf.stage = FAILED_JOIN;
		} else {
			execvp(argv[0], argv);
			cf.stage = FAILED_EXEC;
			cf.err = errno;
		}
		n = write(pipefd[1], &cf, sizeof(cf));
		(void)n;
		_exit(cf.stage == FAILED_JOIN ? 1 : cf.err == ENOENT ? CHILD_EXIT_NOT_FOUND
								  : CHILD_EXIT_NOT_EXECUTABLE);
	}
	close(pipefd[1]);
	child_pid = pid;
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	/* EOF at exec (O_CLOEXEC), or the failure record */
	do {
		n = read(pipefd[0], &cf, sizeof(cf));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == (ssize_t)sizeof(cf) && cf.stage == FAILED_JOIN) {
		waitpid(pid, NULL, 0);
		child_gone();
		snprintf(err, errlen, "moving CMD into the cgroup %.300s failed: %s", cg->dir,
			 strerror(cf.err));
		return -cf.err;
	}
	if (n == (ssize_t)sizeof(cf) && cf.stage == FAILED_EXEC)
		*exec_errno = cf.err;
	return pid;
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
