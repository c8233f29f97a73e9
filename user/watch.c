// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "format.h"
#include "lifecycle.h"
#include "opts.h"
#include "render.h"
#include "session.h"
#include "watch.h"

enum {
	OPT_CLOSE_WAIT_WARN = 256,
	OPT_PID,
	OPT_COOKIE,
	OPT_RECORD,
	OPT_PORT_WARN,
};

static const struct opt_def watch_opts[] = {
	{ "json", no_argument, 'j', NULL, "one JSON object per line instead of a table" },
	{ "port", required_argument, 'p', "N", "only connections with this local or remote port" },
	{ "pid", required_argument, OPT_PID, "N", "only connections of this process (server side: the listener's owner)" },
	{ "cookie", required_argument, OPT_COOKIE, "N", "only the socket with this cookie (a record's, or an exemplar's in /metrics), through its TIME_WAIT" },
	{ "duration", required_argument, 'd', "SECONDS", "stop after this long" },
	{ "close-wait-warn", required_argument, OPT_CLOSE_WAIT_WARN, "SECONDS", "warn when a socket sits in CLOSE_WAIT this long (default 30)" },
	{ "port-warn", required_argument, OPT_PORT_WARN, "PCT", "warn when one destination holds more than PCT% of its namespace's ephemeral ports (default 80, 0 = never)" },
	{ "record", required_argument, OPT_RECORD, "FILE", "also append every raw record to FILE (replayable fixtures)" },
	SESSION_OPTS_FILTER,
	SESSION_OPTS_TUNING,
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
	int ret;

	ret = session_apply_opt(&w->cfg, key, arg, err, errlen);
	if (ret <= 0)
		return ret;
	switch (key) {
	case 'j':
		w->json = true;
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
	case OPT_COOKIE:
		if (parse_u64(arg, 1, UINT64_MAX, &v))
			goto bad;
		w->cfg.filter.cookie = v;
		return 0;
	case 'd':
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->duration_s))
			goto bad;
		return 0;
	case OPT_CLOSE_WAIT_WARN:
		if (parse_seconds(arg, 365 * 24 * 3600.0, &w->cfg.close_wait_warn_s))
			goto bad;
		return 0;
	case OPT_RECORD:
		w->record_path = arg;
		return 0;
	case OPT_PORT_WARN:
		if (parse_u64(arg, 0, 100, &v))
			goto bad;
		w->cfg.port_warn_pct = (unsigned int)v;
		return 0;
	}
	snprintf(err, errlen, "unhandled option");
	return -EINVAL;
bad:
	return opts_bad_value(watch_opts, key, arg, err, errlen);
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

	if (w->json)
		json_close_wait_warning(w->out, e, age_us);
	else
		table_close_wait_warning(w->out, e, age_us);
}

static void on_port_warning(void *ctx, const struct port_use *u)
{
	struct watch *w = ctx;

	if (w->json)
		json_port_headroom_warning(w->out, u, w->cfg.port_warn_pct, session_now_ns());
	else
		table_port_headroom_warning(w->out, u, w->cfg.port_warn_pct);
}

int watch_main(int argc, char **argv)
{
	struct watch w = {
		.cfg = { SESSION_CONFIG_DEFAULTS, .close_wait_warn_s = 30, .port_warn_pct = 80,
			 .port_warn = on_port_warning },
		.out = stdout,
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct session s;
	uint64_t deadline = 0;
	struct session_info ri;
	char err[256], shown[PATH_MAX];
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
		fprintf(stderr, "synfin: unexpected argument '%s' (see 'synfin watch --help')\n",
			term_str(shown, sizeof(shown), argv[first]));
		return 2;
	}
	if (session_config_finish(&w.cfg, err, sizeof(err))) {
		fprintf(stderr, "synfin: %s\n", err);
		return 2;
	}
	if (w.record_path && !(w.record = fopen(w.record_path, "ab"))) {
		fprintf(stderr, "synfin: --record %s: %s\n",
			term_str(shown, sizeof(shown), w.record_path), strerror(errno));
		return 2;
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
	w.wall_offset_ns = session_wall_offset_ns();
	if (w.cfg.filter.cookie && !s.loader.feat.socket_cookie)
		fprintf(stderr, "synfin: --cookie: this kernel cannot give sockets a cookie from synfin's programs (synfin check: socket_cookie): only sockets that already had one can match\n");
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
	session_read_info(&s, &ri);
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
