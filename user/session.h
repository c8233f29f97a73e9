/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* One observation session, shared by every face (watch, serve, run): load and attach the
 * programs, drain the ring, sweep kernel-side state, aggregate into a summary. */
#ifndef SYNFIN_SESSION_H
#define SYNFIN_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include "lifecycle.h"
#include "loader.h"
#include "render.h"

/* Called for every accepted record (filtered, validated, already in the summary). */
typedef void (*session_event_fn)(void *ctx, const struct synfin_event *e);
/* Called once per socket whose CLOSE_WAIT passed the warning age (a STATE record). */
typedef void (*session_warn_fn)(void *ctx, const struct synfin_event *e, uint64_t age_us);

/* 16 MiB: ~95k records, half a second of a 40k connections/s storm on a 2-core VM with
 * the consumer starved of CPU (make bench lost records now and then with 4 MiB). */
#define SESSION_RING_BYTES (16u << 20)
#define SESSION_RING_HELP "ring buffer size, power of two (default 16M)"

struct session_config {
	struct loader_config load;
	struct filter filter;
	uint64_t drain_ms;         /* ring drain period */
	double close_wait_warn_s;  /* 0 = never warn */
	const char *netns_path;    /* seed only this namespace (NULL: all of them) */
	bool no_seed;              /* don't track sockets that existed before the start */
	/* Optional: decides per record whether it belongs to this session (after filter). */
	bool (*accept)(void *ctx, const struct synfin_event *e);
};

struct ring;

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
};

uint64_t session_now_ns(void); /* CLOCK_MONOTONIC, the clock of bpf_ktime_get_ns() */

/* Loads, attaches and opens the ring: 0 or -errno with err filled ("what: why; what to do"). */
int session_start(struct session *s, const struct session_config *c, session_event_fn on_event,
		  session_warn_fn on_warn, void *ctx, char *err, size_t errlen);
/* Waits up to one drain period, handles what arrived, sweeps when due. 0 or -errno. */
int session_poll(struct session *s);
/* Drains what is left; call before the final run_info. */
void session_flush(struct session *s);
void session_run_info(struct session *s, struct run_info *ri);
void session_stop(struct session *s);

#endif
