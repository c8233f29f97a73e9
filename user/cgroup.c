// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"

#define KILL_BATCH 1024
#define RMDIR_TRIES 100      /* every RMDIR_WAIT_US: 2 s for the last process to exit */
#define RMDIR_WAIT_US 20000
#define MAX_DEPTH 32         /* cgroups CMD makes below ours: deeper ones are not walked */

/* Mount points in mountinfo escape space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

/* The first cgroup2 mount of this mount namespace: /sys/fs/cgroup (pure v2) or
 * /sys/fs/cgroup/unified (hybrid). 0, or -ENOENT. */
static int cgroup2_mount(char *out, size_t len)
{
	char line[4096], mnt[PATH_MAX], *sep;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char fstype[32];

		/* id parent maj:min root mountpoint options [optional fields...] - fstype ... */
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%31s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
			continue;
		unescape_octal(mnt);
		if (strlen(mnt) >= len)
			continue;
		memcpy(out, mnt, strlen(mnt) + 1);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

/* Writes val to the cgroup's control file name. Async-signal-safe. */
static int write_control(const struct cgroup *cg, const char *name, const char *val)
{
	char path[PATH_MAX];
	size_t dl = strlen(cg->dir), nl = strlen(name);
	ssize_t n;
	int fd, ret = 0;

	if (dl + 1 + nl >= sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, cg->dir, dl);
	path[dl] = '/';
	memcpy(path + dl + 1, name, nl + 1);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int walk_subtree(const char *dir, int depth, int (*fn)(const char *, void *), void *ctx);

static int rmdir_once(const char *dir, void *ctx)
{
	(void)ctx;
	return rmdir(dir) && errno != ENOENT ? -errno : 0;
}

/* "<prefix><pid>" with a pid that is not ours and belongs to no process: what a SIGKILLed
 * synfin left. A pid reused by another process keeps its directory until a later sweep. */
static bool dead_owner(const char *name, const char *prefix, size_t plen)
{
	const char *p = name + plen;
	long pid = 0;

	if (strncmp(name, prefix, plen) || !*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || pid > 4194304) /* PID_MAX_LIMIT */
			return false;
		pid = pid * 10 + (*p - '0');
	}
	return pid > 0 && pid != getpid() && kill((pid_t)pid, 0) && errno == ESRCH;
}

/* Removes the leftovers of SIGKILLed synfins of the same kind as name ("synfin-run-<our
 * pid>": the part before our pid is the kind) whose owner is dead and that hold no process.
 * A SIGKILLed run's CMD keeps running in its cgroup, unobserved; such a cgroup is left, with
 * a note, and removed by the first run after its last process ended. */
static void remove_stale(const char *root, const char *name)
{
	char own[24], stale[PATH_MAX];
	size_t nlen = strlen(name), olen;
	struct cgroup old;
	struct dirent *d;
	DIR *dp;
	int n;

	olen = (size_t)snprintf(own, sizeof(own), "%d", (int)getpid());
	if (nlen <= olen || strcmp(name + nlen - olen, own))
		return;
	dp = opendir(root);
	while (dp && (d = readdir(dp))) {
		if (d->d_type != DT_DIR || !dead_owner(d->d_name, name, nlen - olen))
			continue;
		if ((size_t)snprintf(stale, sizeof(stale), "%s/%s", root, d->d_name) >= sizeof(stale))
			continue;
		snprintf(old.dir, sizeof(old.dir), "%s", stale);
		n = cgroup_pids(&old, NULL, 0);
		if (n > 0)
			fprintf(stderr, "synfin: note: %.300s was left by a synfin that was killed, and "
				"it still holds %d process(es); it is removed once they end\n", stale, n);
		else if (n == 0)
			walk_subtree(stale, 0, rmdir_once, NULL);
	}
	if (dp)
		closedir(dp);
}

int cgroup_create(struct cgroup *cg, const char *name, char *err, size_t errlen)
{
	char root[PATH_MAX - 64];
	struct stat st;
	int ret;

	cg->dir[0] = '\0';
	cg->id = 0;
	ret = cgroup2_mount(root, sizeof(root));
	if (ret) {
		snprintf(err, errlen, "no cgroup v2 hierarchy is mounted (none in /proc/self/mountinfo): "
			 "mount one (mount -t cgroup2 none /sys/fs/cgroup/unified), and run synfin outside "
			 "'ip netns exec' (which hides it): synfin run -- ip netns exec NS CMD");
		return ret;
	}
	remove_stale(root, name);
	snprintf(cg->dir, sizeof(cg->dir), "%s/%.60s", root, name);
	ret = mkdir(cg->dir, 0755) ? -errno : 0;
	/* left by an earlier synfin of the same pid that was SIGKILLed: ours by its name */
	if (ret == -EEXIST && !rmdir(cg->dir))
		ret = mkdir(cg->dir, 0755) ? -errno : 0;
	if (ret) {
		snprintf(err, errlen, "creating the cgroup %.300s failed: %s", cg->dir, strerror(-ret));
		cg->dir[0] = '\0';
		return ret;
	}
	if (stat(cg->dir, &st)) {
		ret = -errno;
		snprintf(err, errlen, "stat %.300s failed: %s", cg->dir, strerror(-ret));
		cgroup_remove(cg);
		return ret;
	}
	cg->id = (uint64_t)st.st_ino;
	return 0;
}

int cgroup_join(const struct cgroup *cg, pid_t pid)
{
	char num[24];
	int i = (int)sizeof(num) - 1;
	unsigned int v = (unsigned int)pid;

	/* no snprintf: this runs in a forked child */
	num[i] = '\0';
	do {
		num[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	return write_control(cg, "cgroup.procs", num + i);
}

/* Calls fn(path, ctx) for dir and every cgroup below it, children before their parent
 * (the order rmdir needs). Stops at the first non-zero return and passes it on. */
static int walk_subtree(const char *dir, int depth, int (*fn)(const char *, void *), void *ctx)
{
	char sub[PATH_MAX];
	struct dirent *d;
	DIR *dp;
	int ret = 0;

	dp = depth < MAX_DEPTH ? opendir(dir) : NULL;
	while (dp && !ret && (d = readdir(dp))) {
		if (d->d_type != DT_DIR || !strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", dir, d->d_name) >= sizeof(sub))
			continue;
		ret = walk_subtree(sub, depth + 1, fn, ctx);
	}
	if (dp)
		closedir(dp);
	return ret ? ret : fn(dir, ctx);
}

struct pid_list {
	pid_t *pids;
	int max, n;
};

static int add_pids(const char *dir, void *ctx)
{
	struct pid_list *l = ctx;
	char path[PATH_MAX + 16];
	int pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno; /* removed meanwhile */
	while (fscanf(f, "%d", &pid) == 1) {
		if (l->pids && l->n < l->max)
			l->pids[l->n] = pid;
		l->n++;
	}
	fclose(f);
	return 0;
}

int cgroup_pids(const struct cgroup *cg, pid_t *pids, int max)
{
	struct pid_list l = { .pids = pids, .max = max };
	int ret = walk_subtree(cg->dir, 0, add_pids, &l);

	return ret ? ret : l.n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cgroup_kill_all(const struct cgroup *cg, unsigned int timeout_ms, void (*wait)(void *ctx),
		    void *ctx)
{
	pid_t pids[KILL_BATCH];
	uint64_t deadline = now_ms() + timeout_ms;
	int found, left, i;
	bool one_by_one;

	found = cgroup_pids(cg, pids, KILL_BATCH);
	if (found <= 0)
		return 0;
	/* cgroup.kill (5.14+) also gets processes that fork while we kill; else one by one */
	one_by_one = write_control(cg, "cgroup.kill", "1") != 0;
	left = found;
	while (left > 0 && now_ms() < deadline) {
		for (i = 0; one_by_one && i < left && i < KILL_BATCH; i++)
			kill(pids[i], SIGKILL);
		if (wait)
			wait(ctx);
		else
			usleep(RMDIR_WAIT_US);
		left = cgroup_pids(cg, pids, KILL_BATCH);
	}
	return found;
}

/* A killed process leaves its cgroup at exit: rmdir is EBUSY until the last one did. */
static int remove_dir(const char *dir, void *ctx)
{
	int i, ret = 0;

	(void)ctx;
	for (i = 0; i < RMDIR_TRIES; i++) {
		if (!rmdir(dir) || errno == ENOENT)
			return 0;
		ret = -errno;
		if (ret != -EBUSY)
			break;
		usleep(RMDIR_WAIT_US);
	}
	return ret;
}

int cgroup_remove(struct cgroup *cg)
{
	int ret;

	if (!cg->dir[0])
		return 0;
	/* cgroups CMD made below ours first: a cgroup with children cannot be removed */
	ret = walk_subtree(cg->dir, 0, remove_dir, NULL);
	if (!ret)
		cg->dir[0] = '\0';
	return ret;
}
