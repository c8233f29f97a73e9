// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * storm: a TCP connection-storm generator for synfin's benchmark (issues 6 and 14).
 *
 * A listener on 127.0.0.1 (one SO_REUSEPORT socket and epoll loop per accept thread) and N
 * client threads that each run full connect / optional request+response / close cycles,
 * with blocking sockets, until the duration is over. Meant to run inside a network
 * namespace of its own (`ip netns exec`), where it owns the loopback device.
 *
 * With --persistent it is a request/response benchmark instead: each client thread opens one
 * connection and does back-to-back transactions on it (send REQUEST bytes, receive as many
 * back) until the duration is over, then closes it; a connection that fails is replaced.
 * The data phase, not the handshake, is what it loads.
 *
 * Ephemeral ports and TIME_WAIT must not cap the rate: every client binds its source to
 * 127.0.0.X (X rotating over --addrs addresses) with IP_BIND_ADDRESS_NO_PORT, so the port
 * is picked per 4-tuple at connect() time (net/ipv4/inet_hashtables.c:
 * __inet_hash_connect()) and each source address has the whole ephemeral range to itself.
 * A new netns also starts with net.ipv4.tcp_tw_reuse = 2 (reuse on loopback).
 *
 * Prints one JSON line on stdout. Exit status: 0 ok, 1 runtime failure, 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, IP_BIND_ADDRESS_NO_PORT */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256
#define MAX_ADDRS 250	  /* 127.0.0.2 .. 127.0.0.251 */
#define MAX_REQUEST 65536 /* "small": one loopback write, well under the socket buffers */
#define PERSISTENT_REQUEST 100 /* --persistent's request size when --request is 0 */
#define MAX_DURATION_S 86400.0
#define LISTEN_BACKLOG 4096 /* the netns default net.core.somaxconn caps it anyway */
#define IO_TIMEOUT_MS 2000  /* a client stuck longer than this counts a failure */
#define EPOLL_BATCH 256
#define EPOLL_TICK_MS 50 /* how often a server thread looks at the stop flag */
/*
 * Connected but not yet accepted: with close-first=client and no request, a client never
 * waits for the server, so it can fill the accept queue; the next SYN is then dropped
 * (tcp_conn_request(): sk_acceptq_is_full()) and that client stalls 1 s in SYN retransmit,
 * which makes the rate noisy and non-linear in the server's speed. Clients pause instead
 * while this many are pending, well under the netns default somaxconn of 4096.
 */
#define MAX_PENDING 1024
#define PENDING_PAUSE_US 100

enum close_first { CLOSE_CLIENT, CLOSE_SERVER };

struct config {
	double duration_s;
	unsigned int threads;
	unsigned int accept_threads;
	unsigned int addrs;
	unsigned int request_bytes;
	enum close_first close_first;
	unsigned int port;
	int persistent;
};

struct client {
	pthread_t tid;
	unsigned int idx;
	unsigned long long done;	 /* connections fully cycled; --persistent: opened */
	unsigned long long transactions; /* request/response pairs completed */
	unsigned long long failed;
	unsigned long long paused; /* times it waited for the server to catch up */
	int first_err;		   /* errno of the first failure, 0 if none */
	const char *first_op;	   /* which step failed first */
};

/*
 * Per-connection progress on the server side, indexed by fd. Each server thread has its own
 * table: an fd number closed by one thread can be accepted again by another at once.
 */
enum srv_state { SRV_READ_REQ = 0, SRV_WAIT_EOF };

struct srv_conn {
	unsigned int got;
	unsigned char state;
};

struct server {
	pthread_t tid;
	int lfd;
	int epfd;
	struct srv_conn *conns; /* conns_len entries */
	unsigned long long accepted;
	unsigned long long failed;
};

static struct config cfg = {
    .duration_s = 10.0,
    .threads = 3,
    .accept_threads = 2,
    .addrs = 64,
    .request_bytes = 0,
    .close_first = CLOSE_CLIENT,
    .port = 0,
    .persistent = 0,
};

static atomic_int stop_clients;
static atomic_int stop_servers;
static atomic_int go;
static atomic_long pending;    /* connect()ed minus accept()ed */
static unsigned int conns_len; /* the fd limit: a bound on every fd number */
static struct sockaddr_in listen_addr;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Strict: the whole string is a number in [min, max]; no sign games, no trailing junk. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned int *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = (unsigned int)v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v > 0.0) || v > MAX_DURATION_S)
		return -ERANGE;
	*out = v;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(
	    f,
	    "Usage: storm [OPTION]...\n"
	    "TCP connection storm over loopback; prints one JSON result line.\n"
	    "\n"
	    "  -d, --duration S         run time in seconds, > 0 (default 10)\n"
	    "  -t, --threads N          client threads, 1..%d (default 3)\n"
	    "  -a, --accept-threads N   listener threads, 1..%d (default 2)\n"
	    "  -r, --request BYTES      request and response size, 0..%d; 0 = none (default 0)\n"
	    "  -c, --close-first WHO    client|server: who closes first, keeping TIME_WAIT\n"
	    "                           (default client)\n"
	    "  -n, --addrs N            client source addresses 127.0.0.2.., 1..%d (default 64)\n"
	    "  -p, --port PORT          listener port on 127.0.0.1, 0 = any free (default 0)\n"
	    "  -P, --persistent         request/response on one connection per client thread\n"
	    "                           instead of a connection per cycle; --request 0 means %d\n"
	    "                           here, and the client closes (--close-first client)\n"
	    "  -h, --help               this text\n",
	    MAX_THREADS, MAX_THREADS, MAX_REQUEST, MAX_ADDRS, PERSISTENT_REQUEST);
}

static const char *opt_name(const struct option *opts, int val)
{
	for (; opts->name; opts++)
		if (opts->val == val)
			return opts->name;
	return "?";
}

static void fail_once(struct client *c, const char *op, int err)
{
	c->failed++;
	if (!c->first_err) {
		c->first_err = err ? err : EIO;
		c->first_op = op;
	}
}

static int io_full(int fd, char *buf, size_t len, int do_write)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = do_write ? send(fd, buf + off, len - off, MSG_NOSIGNAL)
			     : recv(fd, buf + off, len - off, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET; /* EOF before the whole response */
		off += n;
	}
	return 0;
}

/* A connected client socket bound to src, or -1 (the failure counted). */
static int client_open(struct client *c, const struct sockaddr_in *src)
{
	struct timeval tv = {IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000};
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fail_once(c, "socket", errno);
		return -1;
	}
	if (setsockopt(fd, SOL_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
		fail_once(c, "setsockopt", errno);
		goto out_fail;
	}
	if (bind(fd, (const struct sockaddr *)src, sizeof(*src))) {
		fail_once(c, "bind", errno);
		goto out_fail;
	}
	if (connect(fd, (const struct sockaddr *)&listen_addr, sizeof(listen_addr))) {
		fail_once(c, "connect", errno);
		goto out_fail;
	}
	atomic_fetch_add_explicit(&pending, 1, memory_order_relaxed);
	return fd;

out_fail:
	close(fd);
	return -1;
}

/* One request and its response; 0 when both went through whole. */
static int client_transact(struct client *c, int fd, char *buf)
{
	int err;

	err = io_full(fd, buf, cfg.request_bytes, 1);
	if (err) {
		fail_once(c, "send", -err);
		return -1;
	}
	err = io_full(fd, buf, cfg.request_bytes, 0);
	if (err) {
		fail_once(c, "recv", -err);
		return -1;
	}
	c->transactions++;
	return 0;
}

/* One connection from start to close; 0 when the whole cycle succeeded. */
static int client_cycle(struct client *c, const struct sockaddr_in *src, char *buf)
{
	char eof;
	int fd;

	fd = client_open(c, src);
	if (fd < 0)
		return -1;
	if (cfg.request_bytes && client_transact(c, fd, buf))
		goto out_fail;
	if (cfg.close_first == CLOSE_SERVER) {
		/* Wait for the server's FIN so that it, not us, ends up in TIME_WAIT. */
		for (;;) {
			ssize_t n = recv(fd, &eof, 1, 0);

			if (n == 0)
				break;
			if (n < 0 && errno == EINTR)
				continue;
			fail_once(c, "recv-eof", n < 0 ? errno : EPROTO);
			goto out_fail;
		}
	}
	close(fd);
	return 0;

out_fail:
	close(fd);
	return -1;
}

/* --persistent: one connection, transactions back to back until the stop; 0 when it ended
 * by the stop, not by a failure. */
static int client_session(struct client *c, const struct sockaddr_in *src, char *buf)
{
	int fd, ret = 0;

	fd = client_open(c, src);
	if (fd < 0)
		return -1;
	c->done++;
	while (!atomic_load_explicit(&stop_clients, memory_order_relaxed)) {
		if (client_transact(c, fd, buf)) {
			ret = -1;
			break;
		}
	}
	close(fd);
	return ret;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in src = {.sin_family = AF_INET};
	unsigned int a = c->idx % cfg.addrs;
	char *buf = NULL;

	if (cfg.request_bytes) {
		buf = calloc(1, cfg.request_bytes);
		if (!buf) {
			fail_once(c, "calloc", ENOMEM);
			return NULL;
		}
	}
	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	while (!atomic_load_explicit(&stop_clients, memory_order_relaxed)) {
		if (atomic_load_explicit(&pending, memory_order_relaxed) >= MAX_PENDING) {
			c->paused++;
			usleep(PENDING_PAUSE_US);
			continue;
		}
		src.sin_addr.s_addr = htonl(INADDR_LOOPBACK + 1 + a);
		if (++a == cfg.addrs)
			a = 0;
		if (cfg.persistent) {
			/* A failed connection is replaced, but not in a tight loop. */
			if (client_session(c, &src, buf))
				usleep(1000);
		} else if (client_cycle(c, &src, buf) == 0) {
			c->done++;
		} else if (c->failed > 0 && (c->failed & 1023) == 0) {
			/* Persistent failure (e.g. no ports): do not spin a core on it. */
			usleep(1000);
		}
	}
	free(buf);
	return NULL;
}

static void srv_close(struct server *s, int fd)
{
	s->conns[fd].got = 0;
	s->conns[fd].state = SRV_READ_REQ;
	close(fd);
}

/* Handle readable data on an accepted socket; closes it when its part of the cycle is over. */
static void srv_readable(struct server *s, int fd, char *buf)
{
	struct srv_conn *sc = &s->conns[fd];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, MAX_REQUEST, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			s->failed++;
			srv_close(s, fd);
			return;
		}
		if (n == 0) {
			/* Peer closed: normal end for close-first=client, early EOF otherwise;
			 * with --persistent, normal between two requests. */
			if (sc->state != SRV_WAIT_EOF && !(cfg.persistent && sc->got == 0))
				s->failed++;
			srv_close(s, fd);
			return;
		}
		if (sc->state == SRV_WAIT_EOF) {
			s->failed++; /* bytes after the request: protocol error */
			srv_close(s, fd);
			return;
		}
		sc->got += n;
		if (sc->got < cfg.request_bytes)
			continue;
		if (sc->got > cfg.request_bytes ||
		    send(fd, buf, cfg.request_bytes, MSG_NOSIGNAL | MSG_DONTWAIT) !=
			(ssize_t)cfg.request_bytes) {
			/* A short write of <= 64 KiB on loopback means something is badly wrong. */
			s->failed++;
			srv_close(s, fd);
			return;
		}
		if (cfg.persistent) {
			sc->got = 0; /* the next request on the same connection */
			continue;
		}
		if (cfg.close_first == CLOSE_SERVER) {
			srv_close(s, fd);
			return;
		}
		sc->state = SRV_WAIT_EOF;
	}
}

static void srv_accept(struct server *s)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int fd;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				s->failed++;
			return;
		}
		s->accepted++;
		atomic_fetch_sub_explicit(&pending, 1, memory_order_relaxed);
		if ((unsigned int)fd >= conns_len) {
			s->failed++;
			close(fd);
			continue;
		}
		s->conns[fd].got = 0;
		s->conns[fd].state = cfg.request_bytes ? SRV_READ_REQ : SRV_WAIT_EOF;
		if (!cfg.request_bytes && cfg.close_first == CLOSE_SERVER) {
			close(fd);
			continue;
		}
		ev.data.fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			s->failed++;
			srv_close(s, fd);
		}
	}
}

static void *server_main(void *arg)
{
	struct epoll_event evs[EPOLL_BATCH];
	struct server *s = arg;
	char *buf;
	int i, n;

	buf = malloc(MAX_REQUEST);
	if (!buf) {
		s->failed++;
		return NULL;
	}
	while (!atomic_load_explicit(&stop_servers, memory_order_relaxed)) {
		n = epoll_wait(s->epfd, evs, EPOLL_BATCH, EPOLL_TICK_MS);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == s->lfd)
				srv_accept(s);
			else
				srv_readable(s, evs[i].data.fd, buf);
		}
	}
	free(buf);
	return NULL;
}

static int server_setup(struct server *s, unsigned int *port)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct sockaddr_in a = listen_addr;
	socklen_t alen = sizeof(a);
	int one = 1;

	s->conns = calloc(conns_len, sizeof(*s->conns));
	if (!s->conns)
		return -ENOMEM;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->lfd < 0)
		return -errno;
	a.sin_port = htons(*port);
	if (setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(s->lfd, LISTEN_BACKLOG) ||
	    getsockname(s->lfd, (struct sockaddr *)&a, &alen))
		return -errno;
	/* The first thread's socket fixes the port the others join with SO_REUSEPORT. */
	*port = ntohs(a.sin_port);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (s->epfd < 0)
		return -errno;
	ev.data.fd = s->lfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev))
		return -errno;
	return 0;
}

/* Enough fds for every connection in flight; conns_len bounds the fd numbers. */
static int raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -errno;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl))
			return -errno;
	}
	conns_len = rl.rlim_cur > (1u << 20) ? (1u << 20) : (unsigned int)rl.rlim_cur;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"duration", required_argument, NULL, 'd'},
	    {"threads", required_argument, NULL, 't'},
	    {"accept-threads", required_argument, NULL, 'a'},
	    {"request", required_argument, NULL, 'r'},
	    {"close-first", required_argument, NULL, 'c'},
	    {"addrs", required_argument, NULL, 'n'},
	    {"port", required_argument, NULL, 'p'},
	    {"persistent", no_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	unsigned long long done = 0, failed = 0, srv_failed = 0, accepted = 0, paused = 0;
	unsigned long long transactions = 0;
	struct server servers[MAX_THREADS];
	struct client clients[MAX_THREADS];
	const char *first_op = NULL;
	unsigned int i, ns = 0, nc = 0;
	int opt, err, first_err = 0;
	double t0 = 0, t1 = 0;
	sigset_t set;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, "d:t:a:r:c:n:p:Ph", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			err = parse_seconds(optarg, &cfg.duration_s);
			break;
		case 't':
			err = parse_uint(optarg, 1, MAX_THREADS, &cfg.threads);
			break;
		case 'a':
			err = parse_uint(optarg, 1, MAX_THREADS, &cfg.accept_threads);
			break;
		case 'r':
			err = parse_uint(optarg, 0, MAX_REQUEST, &cfg.request_bytes);
			break;
		case 'n':
			err = parse_uint(optarg, 1, MAX_ADDRS, &cfg.addrs);
			break;
		case 'p':
			err = parse_uint(optarg, 0, 65535, &cfg.port);
			break;
		case 'c':
			err = 0;
			if (!strcmp(optarg, "client"))
				cfg.close_first = CLOSE_CLIENT;
			else if (!strcmp(optarg, "server"))
				cfg.close_first = CLOSE_SERVER;
			else
				err = -EINVAL;
			break;
		case 'P':
			cfg.persistent = 1;
			err = 0;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr,
				"storm: bad option or missing value in '%s'; see 'storm --help'\n",
				argv[optind - 1]);
			return 2;
		}
		if (err) {
			fprintf(stderr, "storm: invalid value '%s' for --%s; see 'storm --help'\n",
				optarg, opt_name(opts, opt));
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "storm: unexpected argument '%s'; see 'storm --help'\n",
			argv[optind]);
		return 2;
	}
	if (cfg.persistent && cfg.close_first == CLOSE_SERVER) {
		fprintf(stderr, "storm: --persistent closes from the client: --close-first server "
				"does not apply; see 'storm --help'\n");
		return 2;
	}
	if (cfg.persistent && !cfg.request_bytes)
		cfg.request_bytes = PERSISTENT_REQUEST;

	/* A client whose peer vanished must get EPIPE, not die. */
	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	err = raise_nofile();
	if (err) {
		fprintf(stderr, "storm: cannot raise the open-file limit: %s\n", strerror(-err));
		return 1;
	}
	listen_addr.sin_family = AF_INET;
	listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

	for (ns = 0; ns < cfg.accept_threads; ns++) {
		memset(&servers[ns], 0, sizeof(servers[ns]));
		err = server_setup(&servers[ns], &cfg.port);
		if (err) {
			fprintf(stderr,
				"storm: cannot listen on 127.0.0.1:%u: %s "
				"(is lo up in this netns?)\n",
				cfg.port, strerror(-err));
			goto out_servers;
		}
		listen_addr.sin_port = htons(cfg.port);
		err = -pthread_create(&servers[ns].tid, NULL, server_main, &servers[ns]);
		if (err) {
			fprintf(stderr, "storm: cannot start a listener thread: %s\n",
				strerror(-err));
			close(servers[ns].lfd);
			close(servers[ns].epfd);
			goto out_servers;
		}
	}
	for (nc = 0; nc < cfg.threads; nc++) {
		memset(&clients[nc], 0, sizeof(clients[nc]));
		clients[nc].idx = nc;
		err = -pthread_create(&clients[nc].tid, NULL, client_main, &clients[nc]);
		if (err) {
			fprintf(stderr, "storm: cannot start a client thread: %s\n",
				strerror(-err));
			goto out_clients;
		}
	}

	t0 = now_s();
	atomic_store_explicit(&go, 1, memory_order_release);
	{
		struct timespec ts = {
		    .tv_sec = (time_t)cfg.duration_s,
		    .tv_nsec = (long)((cfg.duration_s - (time_t)cfg.duration_s) * 1e9),
		};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
	}
	err = 0;

out_clients:
	atomic_store(&stop_clients, 1);
	atomic_store_explicit(&go, 1, memory_order_release);
	for (i = 0; i < nc; i++) {
		pthread_join(clients[i].tid, NULL);
		done += clients[i].done;
		transactions += clients[i].transactions;
		failed += clients[i].failed;
		paused += clients[i].paused;
		if (!first_err && clients[i].first_err) {
			first_err = clients[i].first_err;
			first_op = clients[i].first_op;
		}
	}
	t1 = now_s();
out_servers:
	atomic_store(&stop_servers, 1);
	for (i = 0; i < ns; i++) {
		pthread_join(servers[i].tid, NULL);
		accepted += servers[i].accepted;
		srv_failed += servers[i].failed;
		close(servers[i].lfd);
		close(servers[i].epfd);
		free(servers[i].conns);
	}
	if (err)
		return 1;

	printf("{\"connections\":%llu,\"failures\":%llu,\"server_failures\":%llu,"
	       "\"accepted\":%llu,\"client_pauses\":%llu,\"conn_per_s\":%.1f,\"duration_s\":%.3f,"
	       "\"threads\":%u,\"accept_threads\":%u,\"request_bytes\":%u,"
	       "\"close_first\":\"%s\",\"addrs\":%u,\"port\":%u,\"persistent\":%s,"
	       "\"transactions\":%llu,\"trans_per_s\":%.1f,\"first_error\":",
	       done, failed, srv_failed, accepted, paused, done / (t1 - t0), t1 - t0, cfg.threads,
	       cfg.accept_threads, cfg.request_bytes,
	       cfg.close_first == CLOSE_CLIENT ? "client" : "server", cfg.addrs, cfg.port,
	       cfg.persistent ? "true" : "false", transactions, transactions / (t1 - t0));
	if (first_err)
		printf("\"%s: %s\"}\n", first_op, strerror(first_err));
	else
		printf("null}\n");
	return 0;
}
