// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcpdrive: a small TCP traffic driver for synfin's integration tests.
 *
 *   tcpdrive serve   --port P [options]   accept N connections, then exit
 *   tcpdrive connect --port P [options]   make N connections, K at a time
 *
 * Both sides agree on who closes first (--close-first), so a test chooses which end goes
 * through TIME_WAIT, CLOSE_WAIT (--hold-ms after the peer's FIN) or a RST (--linger0).
 * The server handles every connection from one poll() loop, so holding one connection never
 * delays the accept of the next. Results go to stderr, one line each; with --verbose one
 * line per connection goes to stdout. Exit status: 0 all expectations met, 1 a connection
 * did not behave as expected or the environment failed, 2 usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np, accept4 */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "tcpdrive"
/* errno values on Linux are < 134; anything above is lumped into slot 0 */
#define MAX_ERRNO 256
/* one thread per in-flight connection */
#define MAX_PARALLEL 1024
/* per-connection wait for the peer's FIN: a handshake with one lost SYN takes ~1 s, so 10 s
 * only fires when something is wrong */
#define DEFAULT_TIMEOUT_MS 10000
/* the kernel clamps it to net.core.somaxconn */
#define DEFAULT_BACKLOG 4096

enum close_first { CLOSE_CLIENT, CLOSE_SERVER };

struct opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	const char *addr_str;
	int family; /* AF_INET or AF_INET6, from -4/-6 or --addr */
	unsigned long port;
	unsigned long count; /* 0 = serve forever */
	unsigned long parallel;
	unsigned long hold_ms;
	unsigned long timeout_ms;
	unsigned long backlog;
	long syn_retries; /* -1 = kernel default */
	enum close_first close_first;
	bool linger0;
	bool no_data;
	bool expect_fail;
	bool verbose;
};

static const char usage_text[] =
    "usage: " PROG " serve --port P [options]\n"
    "       " PROG " connect --port P [options]\n"
    "\n"
    "common options:\n"
    "  -a, --addr A            address to listen on / connect to\n"
    "                          (default 127.0.0.1, or ::1 with -6)\n"
    "  -p, --port P            TCP port, 1-65535 (required)\n"
    "  -4, --ipv4              use IPv4 (default)\n"
    "  -6, --ipv6              use IPv6\n"
    "  -n, --count N           connections to accept / make (default 1; serve: 0 = forever)\n"
    "  -H, --hold-ms MS        keep each connection open MS before closing (the closer),\n"
    "                          or MS after the peer's FIN (the other side: CLOSE_WAIT)\n"
    "  -c, --close-first W     client|server: which side closes first (default client)\n"
    "  -L, --linger0           this side closes with SO_LINGER {1, 0}: a RST, not a FIN\n"
    "  -t, --timeout-ms MS     per-connection wait for the peer's FIN (default 10000)\n"
    "  -v, --verbose           one line per connection on stdout (with CLOCK_MONOTONIC µs)\n"
    "  -h, --help              this text\n"
    "serve options:\n"
    "  -b, --backlog N         listen() backlog (default 4096)\n"
    "  (prints \"ready\" on stdout once listening)\n"
    "connect options:\n"
    "  -P, --parallel K        K connections in flight at a time (default 1: sequential)\n"
    "  -D, --no-data           send nothing (by default each connection sends 9 bytes)\n"
    "  -F, --expect-fail       every connect() is expected to fail\n"
    "  -S, --syn-retries N     TCP_SYNCNT for each socket, 1-255\n";

static const struct option long_opts[] = {
    {"addr", required_argument, NULL, 'a'},
    {"port", required_argument, NULL, 'p'},
    {"ipv4", no_argument, NULL, '4'},
    {"ipv6", no_argument, NULL, '6'},
    {"count", required_argument, NULL, 'n'},
    {"hold-ms", required_argument, NULL, 'H'},
    {"close-first", required_argument, NULL, 'c'},
    {"linger0", no_argument, NULL, 'L'},
    {"timeout-ms", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"backlog", required_argument, NULL, 'b'},
    {"parallel", required_argument, NULL, 'P'},
    {"no-data", no_argument, NULL, 'D'},
    {"expect-fail", no_argument, NULL, 'F'},
    {"syn-retries", required_argument, NULL, 'S'},
    {NULL, 0, NULL, 0},
};

static const char payload[] = "tcpdrive\n";

/* Strict: decimal digits only, no sign, no spaces, no trailing garbage, within [min, max]. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static const char *errname(int err)
{
	const char *n = strerrorname_np(err);

	return n ? n : "E?";
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void fmt_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned int port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)ss;

		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		port = ntohs(in->sin_port);
		snprintf(buf, len, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		port = ntohs(in6->sin6_port);
		snprintf(buf, len, "[%s]:%u", host, port);
	} else {
		snprintf(buf, len, "?");
	}
}

static void print_conn(const char *what, int fd, const char *extra)
{
	struct sockaddr_storage l = {0}, r = {0};
	socklen_t ll = sizeof(l), rl = sizeof(r);
	char ls[64], rs[64];

	getsockname(fd, (struct sockaddr *)&l, &ll);
	getpeername(fd, (struct sockaddr *)&r, &rl);
	fmt_addr(&l, ls, sizeof(ls));
	fmt_addr(&r, rs, sizeof(rs));
	/* mono_us is CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() and synfin's ts_ns */
	printf("%s %s %s mono_us=%llu%s%s\n", what, ls, rs, (unsigned long long)now_us(),
	       extra ? " " : "", extra ? extra : "");
	fflush(stdout);
}

static int set_linger0(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)))
		return -errno;
	return 0;
}

/*
 * Read and discard until EOF. Returns 0 on EOF, -ETIMEDOUT when nothing ended the stream
 * within timeout_ms, or -errno (e.g. -ECONNRESET when the peer aborted).
 */
static int drain_blocking(int fd, unsigned long timeout_ms)
{
	uint64_t deadline = now_us() + (uint64_t)timeout_ms * 1000;
	char buf[4096];

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = now_us();
		ssize_t n;
		int r;

		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&pfd, 1, (int)((deadline - now + 999) / 1000));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			continue;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
	}
}

/* ---------------------------------------------------------------- connect */

struct client_stats {
	unsigned long ok;
	unsigned long failed;
	unsigned long reset;	/* teardown saw a RST from the peer */
	unsigned long timedout; /* teardown waited timeout_ms for the peer's FIN */
	unsigned long err[MAX_ERRNO];
};

struct client_ctx {
	const struct opts *o;
	unsigned long *next; /* shared index of the next connection to make */
	pthread_mutex_t *lock;
	struct client_stats st;
};

static void count_err(struct client_stats *st, int err)
{
	st->err[err > 0 && err < MAX_ERRNO ? err : 0]++;
}

/* The teardown half of a connection; returns 0 or -errno of what went wrong. */
static int client_teardown(const struct opts *o, int fd)
{
	int err = 0;

	if (o->close_first == CLOSE_CLIENT) {
		if (o->hold_ms)
			sleep_ms(o->hold_ms);
		if (o->linger0)
			return set_linger0(fd);
		if (shutdown(fd, SHUT_WR))
			return -errno;
		return drain_blocking(fd, o->timeout_ms);
	}
	err = drain_blocking(fd, o->timeout_ms);
	if (o->hold_ms)
		sleep_ms(o->hold_ms);
	if (o->linger0 && !err)
		err = set_linger0(fd);
	return err;
}

static void client_one(struct client_ctx *c)
{
	const struct opts *o = c->o;
	uint64_t t0, t1;
	char extra[64];
	int fd, err;

	fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0) {
		c->st.failed++;
		count_err(&c->st, errno);
		return;
	}
	if (o->syn_retries >= 0) {
		int v = (int)o->syn_retries;

		if (setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof(v))) {
			c->st.failed++;
			count_err(&c->st, errno);
			close(fd);
			return;
		}
	}
	t0 = now_us();
	if (connect(fd, (const struct sockaddr *)&o->addr, o->addrlen)) {
		err = errno;
		c->st.failed++;
		count_err(&c->st, err);
		if (o->verbose) {
			printf("fail %s connect_us=%llu\n", errname(err),
			       (unsigned long long)(now_us() - t0));
			fflush(stdout);
		}
		close(fd);
		return;
	}
	t1 = now_us();
	c->st.ok++;
	if (o->verbose) {
		snprintf(extra, sizeof(extra), "connect_us=%llu", (unsigned long long)(t1 - t0));
		print_conn("ok", fd, extra);
	}
	if (!o->no_data && send(fd, payload, sizeof(payload) - 1, MSG_NOSIGNAL) < 0) {
		c->st.reset++;
		close(fd);
		return;
	}
	err = client_teardown(o, fd);
	if (err == -ETIMEDOUT)
		c->st.timedout++;
	else if (err)
		c->st.reset++;
	close(fd);
}

static void *client_thread(void *arg)
{
	struct client_ctx *c = arg;

	for (;;) {
		unsigned long i;

		pthread_mutex_lock(c->lock);
		i = (*c->next)++;
		pthread_mutex_unlock(c->lock);
		if (i >= c->o->count)
			break;
		client_one(c);
	}
	return NULL;
}

static int run_connect(const struct opts *o)
{
	pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct client_stats tot = {0};
	struct client_ctx *ctx;
	unsigned long next = 0, k = o->parallel, i;
	unsigned long started = 0;
	pthread_t *tid;
	int e, ret = 0;

	if (k > o->count)
		k = o->count;
	ctx = calloc(k, sizeof(*ctx));
	tid = calloc(k, sizeof(*tid));
	if (!ctx || !tid) {
		fprintf(stderr, PROG ": connect: out of memory\n");
		free(ctx);
		free(tid);
		return 1;
	}
	for (i = 0; i < k; i++) {
		ctx[i].o = o;
		ctx[i].next = &next;
		ctx[i].lock = &lock;
		e = pthread_create(&tid[i], NULL, client_thread, &ctx[i]);
		if (e) {
			fprintf(stderr, PROG ": connect: pthread_create: %s\n", strerror(e));
			ret = 1;
			break;
		}
		started++;
	}
	for (i = 0; i < started; i++) {
		pthread_join(tid[i], NULL);
		tot.ok += ctx[i].st.ok;
		tot.failed += ctx[i].st.failed;
		tot.reset += ctx[i].st.reset;
		tot.timedout += ctx[i].st.timedout;
		for (e = 0; e < MAX_ERRNO; e++)
			tot.err[e] += ctx[i].st.err[e];
	}
	free(ctx);
	free(tid);

	fprintf(stderr, PROG ": connect: pid %d: %lu ok, %lu failed, %lu reset, %lu timed out\n",
		(int)getpid(), tot.ok, tot.failed, tot.reset, tot.timedout);
	for (e = 0; e < MAX_ERRNO; e++)
		if (tot.err[e])
			fprintf(stderr, PROG ": connect: %lu x %s\n", tot.err[e],
				e ? errname(e) : "unknown errno");
	if (o->expect_fail ? tot.ok != 0 : tot.failed != 0) {
		fprintf(stderr, PROG ": connect: expected every connect to %s\n",
			o->expect_fail ? "fail" : "succeed");
		ret = 1;
	}
	if (tot.timedout)
		ret = 1;
	return ret;
}

/* ---------------------------------------------------------------- serve */

enum srv_phase {
	PH_HOLD,       /* server closes first: waiting hold_ms before closing */
	PH_DRAIN,      /* reading until the peer's FIN */
	PH_HOLD_AFTER, /* client closed first: holding CLOSE_WAIT for hold_ms */
};

struct srv_conn {
	int fd;
	enum srv_phase phase;
	uint64_t deadline_us;
};

struct srv_stats {
	unsigned long accepted;
	unsigned long done;
	unsigned long reset;
	unsigned long timedout;
};

static int listen_socket(const struct opts *o, int *out)
{
	int fd, one = 1, err;

	fd = socket(o->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		goto fail;
	/* A v6 listener must not also take the v4 connections of a parallel v4 test. */
	if (o->family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
		goto fail;
	if (bind(fd, (const struct sockaddr *)&o->addr, o->addrlen))
		goto fail;
	if (listen(fd, (int)o->backlog))
		goto fail;
	*out = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

static void srv_close(struct srv_conn *c, struct srv_stats *st, bool linger0)
{
	if (linger0)
		set_linger0(c->fd);
	close(c->fd);
	c->fd = -1;
	st->done++;
}

/* Advances a connection whose deadline passed or that became readable. */
static void srv_step(const struct opts *o, struct srv_conn *c, struct srv_stats *st, bool readable,
		     uint64_t now)
{
	char buf[4096];
	ssize_t n;

	if (c->phase == PH_HOLD) {
		if (now < c->deadline_us)
			return;
		if (o->linger0) {
			srv_close(c, st, true);
			return;
		}
		shutdown(c->fd, SHUT_WR);
		c->phase = PH_DRAIN;
		c->deadline_us = now + (uint64_t)o->timeout_ms * 1000;
		return;
	}
	if (c->phase == PH_HOLD_AFTER) {
		if (now >= c->deadline_us)
			srv_close(c, st, o->linger0);
		return;
	}
	/* PH_DRAIN */
	if (readable) {
		for (;;) {
			n = recv(c->fd, buf, sizeof(buf), 0);
			if (n > 0)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (n < 0) {
				st->reset++;
				srv_close(c, st, false);
				return;
			}
			/* EOF */
			if (o->close_first == CLOSE_CLIENT && o->hold_ms) {
				c->phase = PH_HOLD_AFTER;
				c->deadline_us = now + (uint64_t)o->hold_ms * 1000;
				return;
			}
			srv_close(c, st, o->linger0);
			return;
		}
	}
	if (now >= c->deadline_us) {
		st->timedout++;
		srv_close(c, st, false);
	}
}

static int run_serve(const struct opts *o)
{
	struct srv_stats st = {0};
	struct srv_conn *conns = NULL;
	struct pollfd *pfds = NULL;
	size_t nconns = 0, cap = 0, i, j;
	int lfd = -1, err, ret = 0;

	err = listen_socket(o, &lfd);
	if (err) {
		fprintf(stderr, PROG ": serve: cannot listen on %s port %lu: %s\n", o->addr_str,
			o->port, strerror(-err));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	while (!o->count || st.done < o->count) {
		bool want_accept = !o->count || st.accepted < o->count;
		uint64_t now = now_us(), next = UINT64_MAX;
		int timeout, r;

		if (nconns + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 64;
			void *p1 = realloc(conns, ncap * sizeof(*conns));

			if (!p1)
				goto oom;
			conns = p1;
			p1 = realloc(pfds, (ncap + 1) * sizeof(*pfds));
			if (!p1)
				goto oom;
			pfds = p1;
			cap = ncap;
		}
		pfds[0] = (struct pollfd){.fd = want_accept ? lfd : -1, .events = POLLIN};
		for (i = 0; i < nconns; i++) {
			pfds[i + 1] = (struct pollfd){
			    /* only draining sockets are polled: a held one may see POLLHUP */
			    .fd = conns[i].phase == PH_DRAIN ? conns[i].fd : -1,
			    .events = POLLIN,
			};
			if (conns[i].deadline_us < next)
				next = conns[i].deadline_us;
		}
		timeout = next == UINT64_MAX ? -1
			  : next <= now	     ? 0
					     : (int)((next - now + 999) / 1000);
		r = poll(pfds, nconns + 1, timeout);
		if (r < 0 && errno != EINTR) {
			fprintf(stderr, PROG ": serve: poll: %s\n", strerror(errno));
			ret = 1;
			break;
		}
		now = now_us();
		for (i = 0; i < nconns; i++) {
			bool readable =
			    r > 0 && (pfds[i + 1].revents & (POLLIN | POLLERR | POLLHUP));

			srv_step(o, &conns[i], &st, readable, now);
		}
		for (i = j = 0; i < nconns; i++)
			if (conns[i].fd >= 0)
				conns[j++] = conns[i];
		nconns = j;

		if (r > 0 && want_accept && (pfds[0].revents & POLLIN)) {
			while (nconns < cap && (!o->count || st.accepted < o->count)) {
				int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd < 0) {
					if (errno != EAGAIN && errno != EINTR &&
					    errno != ECONNABORTED)
						fprintf(stderr, PROG ": serve: accept: %s\n",
							strerror(errno));
					break;
				}
				st.accepted++;
				if (o->verbose)
					print_conn("accepted", fd, NULL);
				conns[nconns].fd = fd;
				if (o->close_first == CLOSE_SERVER) {
					conns[nconns].phase = PH_HOLD;
					conns[nconns].deadline_us =
					    now + (uint64_t)o->hold_ms * 1000;
				} else {
					conns[nconns].phase = PH_DRAIN;
					conns[nconns].deadline_us =
					    now + (uint64_t)o->timeout_ms * 1000;
				}
				nconns++;
			}
		}
	}
	goto out;
oom:
	fprintf(stderr, PROG ": serve: out of memory\n");
	ret = 1;
out:
	for (i = 0; i < nconns; i++)
		close(conns[i].fd);
	close(lfd);
	free(conns);
	free(pfds);
	fprintf(stderr,
		PROG ": serve: pid %d: %lu accepted, %lu closed, %lu reset, %lu timed out\n",
		(int)getpid(), st.accepted, st.done, st.reset, st.timedout);
	if (st.timedout)
		ret = 1;
	return ret;
}

/* ---------------------------------------------------------------- main */

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see '" PROG " --help')\n");
	return 2;
}

static int parse_opts(int argc, char **argv, bool serve, struct opts *o)
{
	bool have_port = false, fam4 = false, fam6 = false, have_count = false;
	unsigned long v;
	int c;

	*o = (struct opts){
	    .count = 1,
	    .parallel = 1,
	    .timeout_ms = DEFAULT_TIMEOUT_MS,
	    .backlog = DEFAULT_BACKLOG,
	    .syn_retries = -1,
	    .close_first = CLOSE_CLIENT,
	};
	while ((c = getopt_long(argc, argv, "a:p:46n:H:c:Lt:vhb:P:DFS:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o->addr_str = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, 1, 65535, &o->port))
				return usage_error("--port: '%s' is not a port in 1-65535", optarg);
			have_port = true;
			break;
		case '4':
			fam4 = true;
			break;
		case '6':
			fam6 = true;
			break;
		case 'n':
			if (parse_ulong(optarg, serve ? 0 : 1, 100000000, &o->count))
				return usage_error("--count: '%s' is not a valid count", optarg);
			have_count = true;
			break;
		case 'H':
			if (parse_ulong(optarg, 0, 3600000, &o->hold_ms))
				return usage_error("--hold-ms: '%s' is not 0-3600000", optarg);
			break;
		case 'c':
			if (!strcmp(optarg, "client"))
				o->close_first = CLOSE_CLIENT;
			else if (!strcmp(optarg, "server"))
				o->close_first = CLOSE_SERVER;
			else
				return usage_error("--close-first: '%s' is not client or server",
						   optarg);
			break;
		case 'L':
			o->linger0 = true;
			break;
		case 't':
			if (parse_ulong(optarg, 1, 3600000, &o->timeout_ms))
				return usage_error("--timeout-ms: '%s' is not 1-3600000", optarg);
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return -1;
		case 'b':
			if (!serve)
				return usage_error("%s: --backlog is a serve option", "connect");
			if (parse_ulong(optarg, 1, INT_MAX, &o->backlog))
				return usage_error("--backlog: '%s' is not 1-INT_MAX", optarg);
			break;
		case 'P':
			if (serve)
				return usage_error("%s: --parallel is a connect option", "serve");
			if (parse_ulong(optarg, 1, MAX_PARALLEL, &o->parallel))
				return usage_error("--parallel: '%s' is not 1-1024", optarg);
			break;
		case 'D':
			if (serve)
				return usage_error("%s: --no-data is a connect option", "serve");
			o->no_data = true;
			break;
		case 'F':
			if (serve)
				return usage_error("%s: --expect-fail is a connect option",
						   "serve");
			o->expect_fail = true;
			break;
		case 'S':
			if (serve)
				return usage_error("%s: --syn-retries is a connect option",
						   "serve");
			if (parse_ulong(optarg, 1, 255, &v))
				return usage_error("--syn-retries: '%s' is not 1-255", optarg);
			o->syn_retries = (long)v;
			break;
		default:
			return 2; /* getopt already printed why */
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!have_port)
		return usage_error("%s: --port is required", serve ? "serve" : "connect");
	if (fam4 && fam6)
		return usage_error("%s", "-4 and -6 are mutually exclusive");
	if (!have_count)
		o->count = 1;

	if (!o->addr_str)
		o->addr_str = fam6 ? "::1" : "127.0.0.1";
	memset(&o->addr, 0, sizeof(o->addr));
	if (!fam6) {
		struct sockaddr_in *in = (void *)&o->addr;

		if (inet_pton(AF_INET, o->addr_str, &in->sin_addr) == 1) {
			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)o->port);
			o->family = AF_INET;
			o->addrlen = sizeof(*in);
			return 0;
		}
	}
	if (!fam4) {
		struct sockaddr_in6 *in6 = (void *)&o->addr;

		if (inet_pton(AF_INET6, o->addr_str, &in6->sin6_addr) == 1) {
			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)o->port);
			o->family = AF_INET6;
			o->addrlen = sizeof(*in6);
			return 0;
		}
	}
	return usage_error("--addr: '%s' is not a numeric address of the chosen family",
			   o->addr_str);
}

int main(int argc, char **argv)
{
	struct opts o;
	bool serve;
	int r;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "serve"))
		serve = true;
	else if (!strcmp(argv[1], "connect"))
		serve = false;
	else
		return usage_error("unknown subcommand '%s': use serve or connect", argv[1]);

	/* getopt_long prefixes its own messages with argv[0] */
	argv[1] = serve ? PROG " serve" : PROG " connect";
	r = parse_opts(argc - 1, argv + 1, serve, &o);
	if (r < 0)
		return 0; /* --help */
	if (r)
		return r;
	return serve ? run_serve(&o) : run_connect(&o);
}
