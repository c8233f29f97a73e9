// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include "netns.h"

#define NSFS_MAGIC 0x6e736673 /* include/uapi/linux/magic.h */

int netns_inode(const char *path, uint32_t *ino, char *err, size_t errlen)
{
	struct statfs sfs;
	struct stat st;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "--netns %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstatfs(fd, &sfs) || fstat(fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "--netns %s: %s", path, strerror(-ret));
	} else if (sfs.f_type != NSFS_MAGIC) {
		ret = -EINVAL;
		snprintf(err, errlen, "--netns %s: not a namespace file (try /var/run/netns/NAME or /proc/PID/ns/net)", path);
	} else {
		*ino = (uint32_t)st.st_ino;
	}
	close(fd);
	return ret;
}

#include <dirent.h>
#include <stdlib.h>

#define MAX_NETNS 4096 /* beyond that the seed pass is partial; tracepoints still see all */

static int visit(const char *path, uint32_t *seen, int *nseen, netns_fn fn, void *ctx)
{
	struct stat st;
	int fd, i, ret;

	if (stat(path, &st))
		return 0;
	for (i = 0; i < *nseen; i++)
		if (seen[i] == (uint32_t)st.st_ino)
			return 0;
	if (*nseen == MAX_NETNS)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* the process exited meanwhile */
	seen[(*nseen)++] = (uint32_t)st.st_ino;
	ret = fn(fd, (uint32_t)st.st_ino, ctx);
	close(fd);
	return ret;
}

int netns_for_each(netns_fn fn, void *ctx)
{
	static const char *const dirs[] = { "/proc", "/var/run/netns" };
	uint32_t *seen = calloc(MAX_NETNS, sizeof(*seen));
	char path[512];
	struct dirent *de;
	int nseen = 0, ret = 0;
	size_t d;
	DIR *dir;

	if (!seen)
		return -ENOMEM;
	for (d = 0; d < 2 && !ret; d++) {
		dir = opendir(dirs[d]);
		if (!dir)
			continue;
		while (!ret && (de = readdir(dir))) {
			if (de->d_name[0] == '.')
				continue;
			if (d == 0) {
				if (de->d_name[0] < '0' || de->d_name[0] > '9')
					continue;
				snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
			} else {
				snprintf(path, sizeof(path), "/var/run/netns/%s", de->d_name);
			}
			ret = visit(path, seen, &nseen, fn, ctx);
		}
		closedir(dir);
	}
	free(seen);
	return ret < 0 ? ret : nseen;
}
