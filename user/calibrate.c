// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "calibrate.h"

#define CALIBRATE_TRIES 50 /* x 2 ms: loopback makes both sockets within microseconds */

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

/* An RST on close: it kills the peer's minisocket at once instead of leaving it behind. */
static void close_with_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

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
	/* The client closes alone: once its FIN is acked, the orphan becomes a timewait socket
	 * in the FIN_WAIT2 substate (tcp_rcv_state_process(): tcp_time_wait(TCP_FIN_WAIT2)). */
	close(fds[FD_TW_C]);
	fds[FD_TW_C] = -1;
	return 0;
}

/* Leaves nothing behind: the accepted socket's RST kills the FIN_WAIT2 timewait socket, the
 * client's RST drops the pending request, and closing the listeners drops the rest. */
static void clean_up(int fds[FDS])
{
	if (fds[FD_TW_A] >= 0)
		close_with_rst(fds[FD_TW_A]);
	if (fds[FD_DEFER_C] >= 0)
		close_with_rst(fds[FD_DEFER_C]);
	if (fds[FD_TW_C] >= 0)
		close_with_rst(fds[FD_TW_C]);
	if (fds[FD_DEFER_L] >= 0)
		close(fds[FD_DEFER_L]);
	if (fds[FD_TW_L] >= 0)
		close(fds[FD_TW_L]);
}

int calibrate_on_loopback(int (*run)(void *ctx), void *ctx, char *why, size_t whylen)
{
	struct timespec pause = { .tv_nsec = 2 * 1000 * 1000 };
	int fds[FDS] = { -1, -1, -1, -1, -1 };
	int ret, i, found = 0;

	ret = make_sockets(fds);
	if (ret)
		snprintf(why, whylen, "making loopback sockets: %s", strerror(-ret));
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
		snprintf(why, whylen, "no timewait or request socket appeared");
	}
	clean_up(fds);
	return ret;
}
