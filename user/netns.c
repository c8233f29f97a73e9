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
