// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <cap-ng.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include "janitor.h"

#define LEFTOVER_WAIT_MS 2000

/* Only what removing a cgroup of the cgroup2 root and killing its last processes take. */
static void keep_only_cleanup_caps(void)
{
	bool dac, kill;

	capng_get_caps_process();
	dac = capng_have_capability(CAPNG_EFFECTIVE, CAP_DAC_OVERRIDE) == 1;
	kill = capng_have_capability(CAPNG_EFFECTIVE, CAP_KILL) == 1;
	capng_clear(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	if (dac)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_DAC_OVERRIDE);
	if (kill)
		capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_KILL);
	capng_apply(CAPNG_SELECT_CAPS | CAPNG_SELECT_AMBIENT);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void __attribute__((noreturn)) janitor_main(int fd, struct cgroup *cg)
{
	struct sigaction ign = { .sa_handler = SIG_IGN };
	char c;
	int ret;

	/* Ctrl-C reaches the whole process group; the janitor must outlive synfin. */
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGTERM, &ign, NULL);
	/* Nothing of synfin's (BPF objects, files, the listener) stays open here: fd 3 is the
	 * pipe, the rest goes. */
	if (fd != 3 && dup2(fd, 3) < 0)
		_exit(1);
	closefrom(4);
	keep_only_cleanup_caps();
	for (;;) { /* synfin never writes: EOF is the signal */
		ssize_t n = read(3, &c, 1);

		if (n <= 0 && !(n < 0 && errno == EINTR))
			break;
	}
	cgroup_kill_all(cg, LEFTOVER_WAIT_MS, NULL, NULL);
	ret = cgroup_remove(cg);
	if (ret)
		fprintf(stderr, "synfin: removing the cgroup %s failed: %s; remove it with rmdir once "
				"it is empty\n", cg->dir, strerror(-ret));
	_exit(ret ? 1 : 0);
}

int janitor_start(struct janitor *j, const struct cgroup *cg, char *err, size_t errlen)
{
	int p[2], ret;

	j->pid = 0;
	if (pipe2(p, O_CLOEXEC)) {
		ret = -errno;
		snprintf(err, errlen, "pipe failed: %s", strerror(-ret));
		return ret;
	}
	fflush(NULL);
	j->pid = fork();
	if (j->pid < 0) {
		ret = -errno;
		snprintf(err, errlen, "fork failed: %s", strerror(-ret));
		close(p[0]);
		close(p[1]);
		j->pid = 0;
		return ret;
	}
	if (j->pid == 0) {
		struct cgroup copy = *cg;

		close(p[1]);
		janitor_main(p[0], &copy);
	}
	close(p[0]);
	j->fd = p[1];
	return 0;
}

int janitor_finish(struct janitor *j)
{
	int wstatus = 0;

	if (!j->pid)
		return 0;
	close(j->fd);
	while (waitpid(j->pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	j->pid = 0;
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0 ? 0 : -1;
}
