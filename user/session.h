/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One observation session, shared by every face (watch, serve, run): load and attach the
 * programs, drain the ring, sweep kernel-side state, aggregate into a summary. */
#ifndef SYNFIN_SESSION_H
#define SYNFIN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "audit.h"
#include "audit_live.h"
#include "lifecycle.h"
#include "loader.h"
#include "ports.h"
#include "resets.h"
#include "session_info.h"

/* Called for every accepted record (filtered, validated, already in the summary). */
typedef void (*session_event_fn)(void *ctx, const struct synfin_event *e);
/* Called once per socket whose CLOSE_WAIT passed the warning age (a STATE record). */
typedef void (*session_warn_fn)(void *ctx, const struct synfin_event *e, uint64_t age_us);

#define SESSION_STR(x) #x
#define SESSION_XSTR(x) SESSION_STR(x)

/* 16 MiB: ~95k records, half a second of a 40k connections/s storm on a 2-core VM with
 * the consumer starved of CPU (make bench lost records now and then with 4 MiB). */
#define SESSION_RING_MIB 16
#define SESSION_RING_BYTES ((uint64_t)SESSION_RING_MIB << 20)
#define SESSION_RING_HELP "ring buffer size, power of two (default " SESSION_XSTR(SESSION_RING_MIB) "M)"
/* The ring is drained this often: records arrive at most this late, and the wakeup past a
 * quarter full covers bursts in between. */
#define SESSION_DRAIN_MS 10

/* Every face starts from these, then applies its options: a designated initializer list. */
#define SESSION_CONFIG_DEFAULTS                                                                   \
	.load = { .ring_bytes = SESSION_RING_BYTES, .time_wait = true }, .drain_ms = SESSION_DRAIN_MS

/* Options every face shares; their keys sit above the faces' own. */
enum {
	SESSION_OPT_NO_TIME_WAIT = 0x1000,
	SESSION_OPT_RING_SIZE,
	SESSION_OPT_DRAIN_MS,
};

#define SESSION_OPTS_FILTER                                                                        \
	{ "netns", required_argument, 'n', "PATH",                                                 \
	  "only this network namespace (/var/run/netns/NAME, /proc/PID/ns/net)" },                 \
	{ "ipv4", no_argument, '4', NULL, "only IPv4 (including v4-mapped IPv6)" },                \
	{ "ipv6", no_argument, '6', NULL, "only IPv6" }

#define SESSION_OPTS_TUNING                                                                        \
	{ "no-time-wait", no_argument, SESSION_OPT_NO_TIME_WAIT, NULL,                             \
	  "don't attach the timer hooks: no TIME_WAIT records, estimated server latency" },        \
	{ "ring-size", required_argument, SESSION_OPT_RING_SIZE, "BYTES", SESSION_RING_HELP },     \
	{ "drain-ms", required_argument, SESSION_OPT_DRAIN_MS, "MS",                               \
	  "drain the ring buffer this often (default " SESSION_XSTR(SESSION_DRAIN_MS) ")" },         \
	{ "verbose", no_argument, 'v', NULL, "libbpf and verifier messages on stderr" }

struct session_config;
/* Applies one of the shared options: 0, -EINVAL with err filled, or 1 when key is not one. */
int session_apply_opt(struct session_config *c, int key, const char *arg, char *err,
		      size_t errlen);
/* After parsing: resolves --netns to its inode and derives the wakeup threshold. */
int session_config_finish(struct session_config *c, char *err, size_t errlen);

struct session_config {
	struct loader_config load;
	struct filter filter;
	uint64_t drain_ms;         /* ring drain period */
	double close_wait_warn_s;  /* 0 = never warn */
	const char *netns_path;    /* seed only this namespace (NULL: all of them) */
	bool no_seed;              /* don't track sockets that existed before the start */
	/* Optional: decides per record whether it belongs to this session (after filter). */
	bool (*accept)(void *ctx, const struct synfin_event *e);
	/* Optional: the last thing done with synfin's capabilities, before they are dropped
	 * (run starts CMD's process and its cgroup's janitor here). 0 or -errno, err filled. */
	int (*before_drop)(void *ctx, char *err, size_t errlen);
	/* Optional: a destination now holds more than port_warn_pct percent of its namespace's
	 * ephemeral ports (user/ports.h); 0 = never. */
	unsigned int port_warn_pct;
	void (*port_warn)(void *ctx, const struct port_use *u);
};

struct ring;
struct listen_watch;

/* Sockets in CLOSE_WAIT already warned about (user/session.c), sorted. */
struct cw_key {
	uint64_t sk; /* the socket's address: its key in the BPF maps */
	uint64_t cookie;
};

struct cw_warned {
	struct cw_key *keys;
	size_t n, cap;
};

struct session {
	struct session_config cfg;
	struct loader loader;
	struct ring *ring;
	struct summary sum;
	session_event_fn on_event;
	session_warn_fn on_warn;
	void *ctx;
	uint64_t started_ns;
	uint64_t next_sweep_ns;
	uint64_t next_cw_scan_ns;
	uint64_t tw_swept;         /* timewaits ended as killed by the sweep, not by BPF */
	uint64_t close_wait_oldest_us;
	struct listen_watch *listen; /* user/listen.c; NULL when out of memory */
	struct cw_warned cw_warned;
	struct audit audit;        /* the self-audit's counts, of one namespace */
	struct audit_live audit_live;
	struct reset_counts resets; /* session_read_info's last read */
	struct port_headroom ports; /* read every PORTS_READ_PERIOD_NS where loader.ports */
	uint64_t next_ports_ns;
};

uint64_t session_now_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */
/* CLOCK_REALTIME - CLOCK_MONOTONIC now: a record's ts_ns plus this is its wall-clock time */
int64_t session_wall_offset_ns(void);

/* Loads, attaches and opens the ring: 0 or -errno with err filled ("what: why; what to do"). */
int session_start(struct session *s, const struct session_config *c, session_event_fn on_event,
		  session_warn_fn on_warn, void *ctx, char *err, size_t errlen);
/* Waits up to one drain period, handles what arrived, sweeps when due. 0 or -errno. */
int session_poll(struct session *s);
/* Drains what is left; call before the final session_read_info. */
void session_flush(struct session *s);
void session_read_info(struct session *s, struct session_info *ri);
void session_stop(struct session *s);

#endif
