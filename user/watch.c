// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "lifecycle.h"
#include "netns.h"
#include "opts.h"
#include "render.h"
#include "session.h"
#include "watch.h"

enum {
	OPT_NO_TIME_WAIT = 256,
	OPT_RING_SIZE,
	OPT_DRAIN_MS,
	OPT_CLOSE_WAIT_WARN,
	OPT_PID,
	OPT_RECORD,
};

static const struct opt_def watch_opts[] = {
	{ "json", no_argument, 'j', NULL, "one JSON object per line instead of a table" },
	{ "netns", required_argument, 'n', "PATH", "only this network namespace (/var/run/netns/NAME, /proc/PID/ns/net)" },
	{ "port", required_argument, 'p', "N", "only connections with this local or remote port" },
	{ "pid", required_argument, OPT_PID, "N", "only connections of this process (server side: the listener's owner)" },
	{ "ipv4", no_argument, '4', NULL, "only IPv4 (including v4-mapped IPv6)" },
	{ "ipv6", no_argument, '6', NULL, "only IPv6" },
	{ "duration", required_argument, 'd', "SECONDS", "stop after this long" },
	{ "no-time-wait", no_argument, OPT_NO_TIME_WAIT, NULL, "don't attach the timer hooks: no TIME_WAIT records, estimated server latency" },
	{ "close-wait-warn", required_argument, OPT_CLOSE_WAIT_WARN, "SECONDS", "warn when a socket sits in CLOSE_WAIT this long (default 30)" },
	{ "ring-size", required_argument, OPT_RING_SIZE, "BYTES", SESSION_RING_HELP },
	{ "drain-ms", required_argument, OPT_DRAIN_MS, "MS", "drain the ring buffer this often (default 10)" },
	{ "record", required_argument, OPT_RECORD, "FILE", "also append every raw record to FILE (replayable fixtures)" },
	{ "verbose", no_argument, 'v', NULL, "libbpf and verifier messages on stderr" },
	{ 0 },
};

struct watch {
	bool json;
	struct session_config cfg;
	double duration_s;
	int64_t wall_offset_ns;
	const char *record_path;
	FILE *record;
	FILE *out;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int apply_opt(int key, const char *arg, void *ctx, char *err, size_t errlen)
{
	struct watch *w = ctx;
	uint64_t v;

	switch (key) {
	case 'j':
		w->json = true;
		return 0;
	case 'n':
		w->cfg.netns_path = arg;
		return 0;
	case 'p':
		if (parse_u64(arg, 1, 65535, &v))
			goto bad;
		w->cfg.filter.port = (uint16_t)v;
		return 0;
	case OPT_PID:
		if (parse_u64(arg, 1, 4194304, &v))
			goto bad;
		w->cfg.filter.pid = (uint32_t)v;
		return 0;
	case '4':
	case '6':
		if (w->cfg.load.family && w->cfg.load.family != key - '0') {
			snprintf(err, errlen, "-4 and -6 exclude each other");
			return -EINVAL;
		}
		w->cfg.load.family = (uint8_t)(key - '0');
		return 0;
	case 'd':
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->duration_s))
			goto bad;
		return 0;
	case OPT_NO_TIME_WAIT:
		w->cfg.load.time_wait = false;
		return 0;
	case OPT_CLOSE_WAIT_WARN:
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->cfg.close_wait_warn_s))
			goto bad;
		return 0;
	case OPT_RING_SIZE:
		if (parse_size(arg, 4096, 1ULL << 30, &v) || (v & (v - 1)))
			goto bad;
		w->cfg.load.ring_bytes = v;
		return 0;
	case OPT_DRAIN_MS:
		if (parse_u64(arg, 1, 1000, &w->cfg.drain_ms))
			goto bad;
		return 0;
	case OPT_RECORD:
		w->record_path = arg;
		return 0;
	case 'v':
		w->cfg.load.verbose = true;
		return 0;
	}
	snprintf(err, errlen, "unhandled option");
	return -EINVAL;
bad:
	return opts_bad_value(watch_opts, key, arg, err, errlen);
}

static int64_t wall_offset(void)
{
	struct timespec rt;

	clock_gettime(CLOCK_REALTIME, &rt);
	return (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec - (int64_t)session_now_ns();
}

static void on_event(void *ctx, const struct synfin_event *e)
{
	struct watch *w = ctx;

	if (w->record)
		fwrite(e, sizeof(*e), 1, w->record);
	if (e->type == SYNFIN_EV_STATE)
		return;
	if (w->json)
		json_event(w->out, e);
	else
		table_event(w->out, e, w->wall_offset_ns);
}

static void on_close_wait_warning(void *ctx, const struct synfin_event *e, uint64_t age_us)
{
	struct watch *w = ctx;
	char local[ADDR_STR_LEN + 8], remote[ADDR_STR_LEN + 8], comm[SYNFIN_COMM_LEN + 1] = "";

	format_endpoint(local, sizeof(local), e->id.family, e->id.laddr, e->id.lport);
	format_endpoint(remote, sizeof(remote), e->id.family, e->id.raddr, e->id.rport);
	if (!(e->flags & SYNFIN_F_NO_PID))
		comm_to_str(comm, e->comm);
	if (w->json) {
		fprintf(w->out, "{\"type\":\"close_wait_warning\",\"age_us\":%llu,\"netns\":%u,"
				"\"pid\":%u,\"comm\":",
			(unsigned long long)age_us, e->id.netns, e->pid);
		json_string(w->out, comm);
		fprintf(w->out, ",\"local\":\"%s\",\"remote\":\"%s\",\"cookie\":%llu}\n", local,
			remote, (unsigned long long)e->cookie);
	} else {
		fprintf(w->out, "WARNING: %s <- %s (pid %u %s) in CLOSE_WAIT for %.1f s: the peer closed, the application has not called close()\n",
			local, remote, e->pid, comm, (double)age_us / 1e6);
	}
}

int watch_main(int argc, char **argv)
{
	struct watch w = {
		.cfg = {
			.load = { .ring_bytes = SESSION_RING_BYTES, .time_wait = true },
			.drain_ms = 10,
			.close_wait_warn_s = 30,
		},
		.out = stdout,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct session s;
	uint64_t deadline = 0;
	struct run_info ri;
	char err[256];
	int first = 0, ret;

	ret = opts_parse(argc, argv, watch_opts, apply_opt, &w, &first, err, sizeof(err));
	if (ret == 1) {
		opts_help(stdout, "Usage: synfin [watch] [OPTIONS]\n\nShows every TCP handshake, failed connect, close and TIME_WAIT as it finishes.", watch_opts);
		return 0;
	}
	if (ret < 0) {
		fprintf(stderr, "synfin: %s (see 'synfin watch --help')\n", err);
		return 2;
	}
	if (first < argc) {
		fprintf(stderr, "synfin: unexpected argument '%s' (see 'synfin watch --help')\n", argv[first]);
		return 2;
	}
	/* Below the ring size, or the consumer would never be woken early. */
	w.cfg.load.wakeup_bytes = w.cfg.load.ring_bytes / 4;
	if (w.cfg.netns_path && netns_inode(w.cfg.netns_path, &w.cfg.load.netns, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		return 2;
	}
	if (w.record_path && !(w.record = fopen(w.record_path, "ab"))) {
		fprintf(stderr, "synfin: --record %s: %s\n", w.record_path, strerror(errno));
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "synfin: must run as root (loading BPF programs needs CAP_BPF and CAP_PERFMON): try sudo\n");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Block-buffered and flushed once per drain: a write per event would cost more than
	 * everything else synfin does per event. */
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (session_start(&s, &w.cfg, on_event, on_close_wait_warning, &w, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		return 1;
	}
	w.wall_offset_ns = wall_offset();
	if (w.duration_s > 0)
		deadline = s.started_ns + (uint64_t)(w.duration_s * 1e9);
	fprintf(stderr, "synfin: ready\n");
	if (!w.json)
		table_header(w.out);
	while (!stop_requested && (!deadline || session_now_ns() < deadline)) {
		ret = session_poll(&s);
		fflush(w.out);
		if (ret < 0) {
			fprintf(stderr, "synfin: reading the ring buffer failed: %s\n", strerror(-ret));
			session_stop(&s);
			return 1;
		}
	}
	session_flush(&s);
	session_run_info(&s, &ri);
	if (w.json)
		json_summary(w.out, &s.sum, &ri);
	else
		table_summary(w.out, &s.sum, &ri);
	if (ri.lost)
		fprintf(stderr, "synfin: %llu events lost (ring buffer full): raise --ring-size or lower --drain-ms\n",
			(unsigned long long)ri.lost);
	session_stop(&s);
	if (w.record)
		fclose(w.record);
	return 0;
}
