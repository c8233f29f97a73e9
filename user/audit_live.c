// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "audit_live.h"

/* /proc/net/netstat is ~5 KiB on 6.18, and grows with each kernel's new TcpExt fields. */
#define PROC_FILE_MAX (64 * 1024)

uint32_t audit_live_own_netns(void)
{
	struct stat st;

	return stat("/proc/thread-self/ns/net", &st) ? 0 : (uint32_t)st.st_ino;
}

/* Field 22 of /proc/PID/stat, after the comm's closing parenthesis (a comm may hold any). */
static int proc_start_time(int pid, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	unsigned int i;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -EIO;
	p++;
	/* after ')': field 3 (state) ... field 22 (starttime) */
	for (i = 3; i < 22 && p; i++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p, " %llu", start) != 1)
		return -EIO;
	return 0;
}

int audit_live_init(struct audit_live *l, uint32_t netns, uint32_t own_ino)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	DIR *dir;
	int pid;

	memset(l, 0, sizeof(*l));
	l->netns = netns;
	if (netns == own_ino) {
		l->own = true;
		return 0;
	}
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid = atoi(de->d_name);
		snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
		if (stat(path, &st) || (uint32_t)st.st_ino != netns)
			continue;
		if (proc_start_time(pid, &l->start))
			continue; /* it exited meanwhile */
		l->pid = pid;
		break;
	}
	closedir(dir);
	return l->pid ? 0 : -ENOENT;
}

static int read_file(const char *path, char *buf, size_t cap, size_t *len)
{
	ssize_t n;
	int fd;

	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (*len < cap && (n = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	return *len < cap ? 0 : -EFBIG;
}

int audit_live_read(const struct audit_live *l, struct audit_kernel *k)
{
	static const char *const files[] = { "snmp", "netstat" };
	unsigned long long start;
	char path[64], *buf;
	size_t len, i;
	int ret = 0;

	memset(k, 0, sizeof(*k));
	if (!l->own && !l->pid)
		return -ENOENT;
	buf = malloc(PROC_FILE_MAX);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < 2 && !ret; i++) {
		if (l->own)
			snprintf(path, sizeof(path), "/proc/thread-self/net/%s", files[i]);
		else
			snprintf(path, sizeof(path), "/proc/%d/net/%s", l->pid, files[i]);
		ret = read_file(path, buf, PROC_FILE_MAX, &len);
		if (!ret)
			ret = audit_parse(buf, len, k);
	}
	free(buf);
	/* Checked after the read: a process that was replaced before it is not read as ours. */
	if (!ret && !l->own && (proc_start_time(l->pid, &start) || start != l->start))
		ret = -ESRCH;
	return ret;
}
