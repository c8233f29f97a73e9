// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "calibrate.h"

#define CALIBRATE_TRIES 50 /* x 2 ms: loopback makes both sockets within microseconds */

static int lo_up(void)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int ret = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		ret = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!ret && ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* A loopback listener on an ephemeral port; defer: TCP_DEFER_ACCEPT, so the handshake's bare
 * ACK is dropped and the request socket (with its armed rsk_timer) stays. */
static int listener(int defer, struct sockaddr_in *addr)
{
	socklen_t len = sizeof(*addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int secs = 30;

	if (fd < 0)
		return -errno;
	memset(addr, 0, sizeof(*addr));
	addr->sin_family = AF_INET;
	addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((defer && setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof(secs))) ||
	    bind(fd, (struct sockaddr *)addr, sizeof(*addr)) ||
	    getsockname(fd, (struct sockaddr *)addr, &len) || listen(fd, 4)) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

static int connected(const struct sockaddr_in *addr)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr))) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

enum { FD_DEFER_L, FD_DEFER_C, FD_TW_L, FD_TW_C, FD_TW_A, FDS };

static int make_sockets(int fds[FDS])
{
	struct sockaddr_in a;

	fds[FD_DEFER_L] = listener(1, &a);
	if (fds[FD_DEFER_L] < 0)
		return fds[FD_DEFER_L];
	fds[FD_DEFER_C] = connected(&a);
	if (fds[FD_DEFER_C] < 0)
		return fds[FD_DEFER_C];
	fds[FD_TW_L] = listener(0, &a);
	if (fds[FD_TW_L] < 0)
		return fds[FD_TW_L];
	fds[FD_TW_C] = connected(&a);
	if (fds[FD_TW_C] < 0)
		return fds[FD_TW_C];
	fds[FD_TW_A] = accept4(fds[FD_TW_L], NULL, NULL, SOCK_CLOEXEC);
	if (fds[FD_TW_A] < 0)
		return -errno;
	/* Client closes first, then the server: the client ends in TIME_WAIT. */
	close(fds[FD_TW_C]);
	fds[FD_TW_C] = -1;
	close(fds[FD_TW_A]);
	fds[FD_TW_A] = -1;
	return 0;
}

int calibrate_in_private_netns(int (*run)(void *ctx), void *ctx, char *why, size_t whylen)
{
	struct timespec pause = { .tv_nsec = 2 * 1000 * 1000 };
	int fds[FDS] = { -1, -1, -1, -1, -1 };
	int home, ret, i, found = 0;

	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0) {
		ret = -errno;
		snprintf(why, whylen, "opening /proc/self/ns/net: %s", strerror(-ret));
		return ret;
	}
	if (unshare(CLONE_NEWNET)) {
		ret = -errno;
		snprintf(why, whylen, "creating a private network namespace: %s", strerror(-ret));
		close(home);
		return ret;
	}
	ret = lo_up();
	if (ret)
		snprintf(why, whylen, "bringing lo up: %s", strerror(-ret));
	if (!ret) {
		ret = make_sockets(fds);
		if (ret)
			snprintf(why, whylen, "making loopback sockets: %s", strerror(-ret));
	}
	for (i = 0; !ret && i < CALIBRATE_TRIES; i++) {
		found = run(ctx);
		if (found)
			break;
		nanosleep(&pause, NULL);
	}
	if (!ret && found < 0) {
		ret = found;
		snprintf(why, whylen, "reading the sockets: %s", strerror(-ret));
	} else if (!ret && !found) {
		ret = -ENOENT;
		snprintf(why, whylen, "no TIME_WAIT or request socket appeared");
	}
	for (i = 0; i < FDS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	/* The namespace dies with its last socket; its TIME_WAIT socket is purged then. */
	if (setns(home, CLONE_NEWNET)) {
		snprintf(why, whylen, "returning to the original network namespace: %s",
			 strerror(errno));
		ret = -ENOTRECOVERABLE;
	}
	close(home);
	return ret;
}
