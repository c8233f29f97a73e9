// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * `synfin serve`: the node side of a fleet. One session aggregates every connection; an HTTP
 * server (libmicrohttpd, its own thread) renders /metrics from it on each scrape, and a
 * textfile for node_exporter is rewritten every --interval. The main thread owns the session
 * and holds `lock` while it drains the ring; a scrape takes the same lock, so it always
 * renders a consistent snapshot, and renders into memory so the lock is never held while a
 * slow client reads.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include "metrics.h"
#include "netns.h"
#include "format.h"
#include "http_guard.h"
#include "opts.h"
#include "render_prom.h"
#include "serve.h"
#include "session.h"
#include "version.h"

#define DEFAULT_LISTEN "127.0.0.1:9809"
#define DEFAULT_INTERVAL_S 15.0
#define DEFAULT_MAX_SERIES 100
/* A scraper needs one connection; these bound what a misbehaving client can hold. The per-IP
 * limit leaves room for a few hundred idle clients on one address (a test, a proxy) and the
 * total keeps MHD far below the default 1024 open files. */
#define HTTP_CONNECTION_LIMIT 512
#define HTTP_PER_IP_LIMIT 256
#define HTTP_TIMEOUT_S 10           /* idle connections are closed after this long */
#define HTTP_FIRST_REQUEST_S 5      /* a new connection's headers must be in by then (http_guard.h) */
#define HTTP_MEMORY_LIMIT (32 * 1024) /* request headers beyond this get 431 */
#define HTTP_BACKLOG 128

enum {
	OPT_TEXTFILE = 256,
	OPT_INTERVAL,
	OPT_BY_PORT,
	OPT_MAX_SERIES,
};

static const struct opt_def serve_opts[] = {
	{ "listen", required_argument, 'l', "ADDR:PORT", "serve /metrics here (default " DEFAULT_LISTEN ", [::1]:PORT for IPv6); 'none' = no HTTP, textfile only" },
	{ "textfile", required_argument, OPT_TEXTFILE, "PATH", "also write the metrics to PATH (name it *.prom for node_exporter), atomically" },
	{ "interval", required_argument, OPT_INTERVAL, "SECONDS", "rewrite the textfile this often (default 15); it is also written at exit" },
	{ "by-port", no_argument, OPT_BY_PORT, NULL, "add a port label to the handshake metrics (server: listening port, client: remote port)" },
	{ "max-series", required_argument, OPT_MAX_SERIES, "N", "with --by-port: at most N port series (default 100, max 1000), the rest port=\"other\"" },
	SESSION_OPTS_FILTER,
	SESSION_OPTS_TUNING, /* -v also logs the HTTP server's messages */
	{ 0 },
};

struct serve {
	const char *listen;
	const char *textfile;
	double interval_s;
	bool by_port;
	unsigned int max_series;
	bool verbose;
	struct session_config cfg;

	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct port_stats *ports;
	struct session s;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int waiters;                    /* scrapes waiting for the lock (atomic) */
	bool interval_set;
	int textfile_err;               /* last textfile errno reported, to report each once */
	struct http_guard guard;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* "ADDR:PORT" with a numeric IPv4 address, or "[ADDR]:PORT" with an IPv6 one. */
static int parse_listen(const char *arg, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon, *h = arg;
	size_t hlen;
	uint64_t port;

	colon = strrchr(arg, ':');
	if (!colon)
		return -EINVAL;
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (!hlen || hlen >= sizeof(host) || parse_u64(colon + 1, 1, 65535, &port))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memset(ss, 0, sizeof(*ss));
	if (h == arg && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		*len = sizeof(*in4);
		return 0;
	}
	if (h != arg && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*in6);
		return 0;
	}
	return -EINVAL;
}

static int apply_opt(int key, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct serve *sv = ctx;
	uint64_t v;
	int ret;

	if (key == 'v')
		sv->verbose = true;
	ret = session_apply_opt(&sv->cfg, key, arg, err, errlen);
	if (ret <= 0)
		return ret;

	switch (key) {
	case 'l':
		if (strcmp(arg, "none") && parse_listen(arg, &sv->addr, &sv->addrlen))
			goto bad;
		sv->listen = arg;
		return 0;
	case OPT_TEXTFILE:
		if (!*arg)
			goto bad;
		sv->textfile = arg;
		return 0;
	case OPT_INTERVAL:
		if (parse_seconds(arg, 24 * 3600.0, &sv->interval_s) || sv->interval_s < 0.1)
			goto bad;
		sv->interval_set = true;
		return 0;
	case OPT_BY_PORT:
		sv->by_port = true;
		return 0;
	case OPT_MAX_SERIES:
		if (parse_u64(arg, 1, PORT_SERIES_MAX, &v))
			goto bad;
		sv->max_series = (unsigned int)v;
		return 0;
	}
	snprintf(err, errlen, "unhandled option");
	return -EINVAL;
bad:
	return opts_bad_value(serve_opts, key, arg, err, errlen);
}

static void on_event(void *ctx, const struct synfin_event *e)
{
	struct serve *sv = ctx;

	if (sv->ports)
		port_stats_add(sv->ports, e);
}

/* Renders the metrics into a malloc'ed buffer; the caller holds sv->lock. NULL on ENOMEM. */
static char *render_locked(struct serve *sv, enum prom_format fmt, size_t *len)
{
	struct session_info ri;
	struct metric_src src = {
		.sum = &sv->s.sum, .ri = &ri, .ports = sv->ports, .version = SYNFIN_VERSION,
		.wall_offset_ns = session_wall_offset_ns(),
	};
	char *buf = NULL;
	FILE *f;
	int ret;

	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	session_read_info(&sv->s, &ri);
	ret = prom_write(f, &src, fmt);
	if (fclose(f) || ret) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Takes the lock ahead of the main loop's next drain, renders, and lets the loop go on. */
static char *render_snapshot(struct serve *sv, enum prom_format fmt, size_t *len)
{
	char *buf;

	__atomic_add_fetch(&sv->waiters, 1, __ATOMIC_SEQ_CST);
	pthread_mutex_lock(&sv->lock);
	buf = render_locked(sv, fmt, len);
	__atomic_sub_fetch(&sv->waiters, 1, __ATOMIC_SEQ_CST);
	pthread_cond_signal(&sv->idle);
	pthread_mutex_unlock(&sv->lock);
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned int status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, mode);
	if (!r) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

#define TEXT "text/plain; charset=utf-8"
static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>synfin</title></head>\n"
	"<body><h1>synfin</h1>\n<p>TCP connection lifecycle metrics from eBPF.</p>\n"
	"<ul><li><a href=\"metrics\">/metrics</a> (Prometheus)</li>\n"
	"<li><a href=\"healthz\">/healthz</a></li></ul>\n</body></html>\n";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct serve *sv = cls;
	enum prom_format fmt;
	size_t len;
	char *buf;

	(void)version;
	(void)upload_data;
	if (!*req_cls) /* the first call for a request: its headers are all in */
		http_guard_headers_done(c);
	if (strcmp(url, "/") && strcmp(url, "/metrics") && strcmp(url, "/healthz"))
		return reply(c, MHD_HTTP_NOT_FOUND, TEXT, "not found\n", 10, MHD_RESPMEM_PERSISTENT);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT, "method not allowed\n", 19,
			     MHD_RESPMEM_PERSISTENT);
	/* MHD calls once for the headers, then for each body chunk. An error is answered at
	 * once (MHD then closes the connection instead of reading a body); a good request is
	 * answered at the second call, after its (empty) body, so the connection is kept alive
	 * for the next scrape. */
	if (!*req_cls) {
		*req_cls = sv;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/"))
		return reply(c, MHD_HTTP_OK, "text/html; charset=utf-8", (void *)index_html,
			     sizeof(index_html) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/healthz"))
		return reply(c, MHD_HTTP_OK, TEXT, "ok\n", 3, MHD_RESPMEM_PERSISTENT);
	fmt = prom_negotiate(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT));
	buf = render_snapshot(sv, fmt, &len);
	if (!buf)
		return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT, "rendering failed\n", 17,
			     MHD_RESPMEM_PERSISTENT);
	return reply(c, MHD_HTTP_OK, prom_content_type(fmt), buf, len, MHD_RESPMEM_MUST_FREE);
}

/* Creates a temporary file next to base in dfd under a name nobody can predict or plant:
 * the textfile's directory may be writable by others (a service group), and root must never
 * follow their symlink or open their file. O_EXCL fails on anything already at the name,
 * a symlink included, so an unlucky guess is retried, never reused. The name starts with '.'
 * and does not end in .prom: node_exporter never reads it. Returns the fd or -errno. */
static int create_temp(int dfd, const char *base, char *name, size_t namelen)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[12];
	int attempt, fd;
	size_t i, n;

	for (attempt = 0; attempt < 16; attempt++) {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return -EIO;
		n = (size_t)snprintf(name, namelen, ".%s.", base);
		if (n + sizeof(rnd) + 1 > namelen)
			return -ENAMETOOLONG;
		for (i = 0; i < sizeof(rnd); i++)
			name[n + i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
		name[n + sizeof(rnd)] = '\0';
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* A unique temporary file in PATH's directory, written and fsync'ed, then renamed over PATH:
 * node_exporter never reads half a file, and a failed write (a full disk, a directory that
 * vanished) leaves the previous PATH as it was. Everything goes through one directory fd, so
 * the directory cannot be swapped for a symlink between the steps; rename replaces a
 * symlink at PATH itself instead of writing through it. The directory is synced too, so the
 * rename survives a crash. 0 or -errno. */
static int write_atomically(const char *path, const char *buf, size_t len)
{
	char dir[PATH_MAX], base[NAME_MAX + 1], tmp[NAME_MAX + 1];
	const char *slash = strrchr(path, '/');
	int fd, dfd, err;

	if (slash) {
		if ((size_t)(slash - path) >= sizeof(dir))
			return -ENAMETOOLONG;
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
		if (!dir[0])
			strcpy(dir, "/");
	} else {
		strcpy(dir, ".");
	}
	if ((size_t)snprintf(base, sizeof(base), "%s", slash ? slash + 1 : path) >= sizeof(base))
		return -ENAMETOOLONG;
	if (!base[0])
		return -EISDIR;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	fd = create_temp(dfd, base, tmp, sizeof(tmp));
	if (fd < 0) {
		close(dfd);
		return fd;
	}
	err = write_all(fd, buf, len);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat(dfd, tmp, dfd, base))
		err = -errno;
	if (err)
		unlinkat(dfd, tmp, 0);
	else if (fsync(dfd))
		err = -errno; /* renamed, but the rename may not survive a crash: say so */
	close(dfd);
	return err;
}

/* Called with sv->lock held; drops it while writing to disk. Reports each new error once;
 * while serving (retrying), the line says the previous file is kept and when it is retried. */
static int write_textfile_locked(struct serve *sv, bool retrying)
{
	char shown[PATH_MAX];
	size_t len;
	char *buf;
	int ret;

	buf = render_locked(sv, PROM_TEXT, &len);
	pthread_mutex_unlock(&sv->lock);
	ret = buf ? write_atomically(sv->textfile, buf, len) : -ENOMEM;
	free(buf);
	if (ret && ret != sv->textfile_err && retrying)
		fprintf(stderr, "synfin: cannot write %s: %s; the previous file is kept, retrying "
			"every %g s\n", term_str(shown, sizeof(shown), sv->textfile), strerror(-ret),
			sv->interval_s);
	else if (ret && ret != sv->textfile_err)
		fprintf(stderr, "synfin: cannot write %s: %s\n",
			term_str(shown, sizeof(shown), sv->textfile), strerror(-ret));
	else if (!ret && sv->textfile_err)
		fprintf(stderr, "synfin: %s written again\n",
			term_str(shown, sizeof(shown), sv->textfile));
	sv->textfile_err = ret;
	pthread_mutex_lock(&sv->lock);
	return ret;
}

/* Binds and listens ourselves, so "address in use" is reported as such, then hands the
 * socket to MHD. Returns the socket or -errno. */
static int open_listener(const struct serve *sv)
{
	int fd, one = 1, err;

	fd = socket(sv->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Rebinding right after a restart must not wait for old connections' TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&sv->addr, sv->addrlen) ||
	    listen(fd, HTTP_BACKLOG)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static struct MHD_Daemon *start_http(struct serve *sv, int fd)
{
	unsigned int flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD;
	struct MHD_Daemon *d;
	sigset_t mask, old;

	if (sv->verbose)
		flags |= MHD_USE_ERROR_LOG;
	/* MHD's thread inherits this mask: SIGINT/SIGTERM go to the main thread only. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &mask, &old);
	d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, sv,
			     MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
			     MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONNECTION_LIMIT,
			     MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)HTTP_PER_IP_LIMIT,
			     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
			     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
			     MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, &sv->guard,
			     MHD_OPTION_NOTIFY_COMPLETED, http_guard_completed, &sv->guard,
			     MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return d;
}

static const char usage[] =
	"Usage: synfin serve [OPTIONS]\n\n"
	"Exports TCP handshake, close and TIME_WAIT metrics for Prometheus: GET /metrics (text\n"
	"format 0.0.4, or OpenMetrics when the scraper asks for it), / and /healthz, and/or a\n"
	"textfile for node_exporter. HTTP is served unless --listen none; --textfile adds the file.";

int serve_main(int argc, char **argv)
{
	struct serve sv = {
		.listen = DEFAULT_LISTEN,
		.interval_s = DEFAULT_INTERVAL_S,
		.cfg = { SESSION_CONFIG_DEFAULTS },
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.idle = PTHREAD_COND_INITIALIZER,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction ign = { .sa_handler = SIG_IGN };
	struct MHD_Daemon *d = NULL;
	bool http;
	uint64_t next_write = 0, period_ns;
	int first = 0, ret, fd = -1, status = 0;
	char err[256], shown[PATH_MAX];

	parse_listen(DEFAULT_LISTEN, &sv.addr, &sv.addrlen);
	ret = opts_parse(argc, argv, serve_opts, apply_opt, &sv, &first, err, sizeof(err));
	if (ret == 1) {
		opts_help(stdout, usage, serve_opts);
		return 0;
	}
	if (ret == 0 && first < argc) {
		snprintf(err, sizeof(err), "unexpected argument '%s'",
			 term_str(shown, sizeof(shown), argv[first]));
		ret = -EINVAL;
	}
	http = strcmp(sv.listen, "none") != 0;
	if (ret == 0 && !http && !sv.textfile) {
		snprintf(err, sizeof(err), "--listen none leaves nothing to do: add --textfile PATH");
		ret = -EINVAL;
	}
	if (ret == 0 && sv.interval_set && !sv.textfile) {
		snprintf(err, sizeof(err), "--interval needs --textfile");
		ret = -EINVAL;
	}
	if (ret == 0 && sv.max_series && !sv.by_port) {
		snprintf(err, sizeof(err), "--max-series needs --by-port");
		ret = -EINVAL;
	}
	if (ret < 0) {
		fprintf(stderr, "synfin: %s (see 'synfin serve --help')\n", err);
		return 2;
	}
	sv.cfg.load.no_comm = true; /* no metric names a process */
	if (session_config_finish(&sv.cfg, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		return 2;
	}
	if (http) {
		fd = open_listener(&sv);
		if (fd < 0) {
			fprintf(stderr, "synfin: cannot listen on %s: %s\n", sv.listen, strerror(-fd));
			return 1;
		}
	}
	if (sv.by_port) {
		sv.ports = malloc(sizeof(*sv.ports));
		ret = sv.ports ? port_stats_init(sv.ports, sv.max_series ? sv.max_series
									   : DEFAULT_MAX_SERIES)
			       : -ENOMEM;
		if (ret) {
			fprintf(stderr, "synfin: per-port series: %s\n", strerror(-ret));
			status = 1;
			goto out_ports;
		}
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGPIPE, &ign, NULL);
	if (session_start(&sv.s, &sv.cfg, on_event, NULL, &sv, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		status = 1;
		goto out_ports;
	}
	pthread_mutex_lock(&sv.lock);
	period_ns = (uint64_t)(sv.interval_s * 1e9);
	if (sv.textfile) {
		/* A path that can't be written is a setup error: say so now, not in 15 s. */
		if (write_textfile_locked(&sv, false)) {
			status = 1;
			goto out_session;
		}
		next_write = session_now_ns() + period_ns;
	}
	if (http) {
		http_guard_init(&sv.guard, HTTP_FIRST_REQUEST_S, HTTP_TIMEOUT_S);
		d = start_http(&sv, fd);
		if (!d) {
			fprintf(stderr, "synfin: cannot start the HTTP server on %s (-v shows why)\n",
				sv.listen);
			http_guard_fini(&sv.guard);
			status = 1;
			goto out_session;
		}
		fd = -1; /* MHD owns and closes it */
		fprintf(stderr, "synfin: serving http://%s/metrics\n", sv.listen);
	}
	if (sv.textfile)
		fprintf(stderr, "synfin: writing %s every %g s\n",
			term_str(shown, sizeof(shown), sv.textfile), sv.interval_s);
	fprintf(stderr, "synfin: ready\n");
	while (!stop_requested) {
		/* Timed, so a SIGINT that lands while a scrape holds us here still stops us
		 * within 100 ms (pthread_cond_wait is not interrupted by signals). */
		while (__atomic_load_n(&sv.waiters, __ATOMIC_SEQ_CST) && !stop_requested) {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&sv.idle, &sv.lock, &until);
		}
		ret = session_poll(&sv.s);
		if (ret < 0) {
			fprintf(stderr, "synfin: reading the ring buffer failed: %s\n", strerror(-ret));
			status = 1;
			break;
		}
		if (d)
			http_guard_sweep(&sv.guard);
		if (sv.textfile && session_now_ns() >= next_write) {
			write_textfile_locked(&sv, true);
			next_write = session_now_ns() + period_ns;
		}
	}
	pthread_mutex_unlock(&sv.lock);
	if (d) {
		MHD_stop_daemon(d);
		http_guard_fini(&sv.guard);
	}
	pthread_mutex_lock(&sv.lock);
	session_flush(&sv.s);
	if (sv.textfile && write_textfile_locked(&sv, false))
		status = 1;
out_session:
	pthread_mutex_unlock(&sv.lock);
	session_stop(&sv.s);
out_ports:
	if (sv.ports)
		port_stats_free(sv.ports);
	free(sv.ports);
	if (fd >= 0)
		close(fd);
	return status;
}
