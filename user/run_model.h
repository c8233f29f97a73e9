/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What `synfin run` knows at the end, the input of every report writer (JSON, HTML,
 * Prometheus): the summary, the run metrics, the assertions and their results, per-endpoint
 * latency and the TIME_WAIT timeline. Pure: records in, figures out. */
#ifndef SYNFIN_RUN_MODEL_H
#define SYNFIN_RUN_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "assert_expr.h"
#include "lifecycle.h"
#include "session_info.h"

/* Remote endpoints: a client socket's peer (address and port), or for an accepted socket the
 * peer's address and our listening port (peer ports are ephemeral: one row per connection
 * would drown the table). 256 rows of ~8 KiB histograms = 2 MiB; CI jobs talk to a few
 * services, the rest is folded into `folded`. */
#define ENDPOINT_MAX 256

struct endpoint {
	uint8_t side;    /* enum synfin_side */
	uint8_t family;  /* 4 or 6 */
	uint16_t port;   /* client: the peer's port; server: our listening port */
	uint8_t addr[16];
	uint64_t failures; /* failed connects (client side) */
	struct hist hs;
};

struct endpoint_table {
	unsigned int n;
	uint64_t folded; /* records of endpoints beyond ENDPOINT_MAX */
	struct endpoint ep[ENDPOINT_MAX];
};

/* Counts handshake and connect_fail records; other types are ignored. */
void endpoints_add(struct endpoint_table *t, const struct synfin_event *e);
/* Fills idx with up to max rows, slowest p99 first (ties: more handshakes first). */
unsigned int endpoints_top(const struct endpoint_table *t, unsigned int *idx, unsigned int max);
/* "127.0.0.1:80" (client side) or "127.0.0.1 -> :8080" (server side). */
void endpoint_label(char *buf, size_t len, const struct endpoint *ep);

/* TIME_WAIT sockets of the run over time: TW_BINS bins, widened (x2, merging pairs) whenever
 * the run outgrows them, so any run length costs the same few KiB. */
#define TW_BINS 240
#define TW_BIN_NS_MIN (10ULL * 1000000) /* 10 ms: finer than any chart pixel that matters */

struct tw_timeline {
	uint64_t start_ns;
	uint64_t bin_ns;
	uint64_t live;    /* handed over and not yet ended */
	unsigned int used; /* bins up to the last event or tw_timeline_end */
	uint64_t peak[TW_BINS];   /* most alive at once within the bin */
	uint64_t entered[TW_BINS];
};

void tw_timeline_init(struct tw_timeline *t, uint64_t start_ns);
void tw_timeline_add(struct tw_timeline *t, const struct synfin_event *e);
/* Extends the timeline to now_ns with the current level. */
void tw_timeline_end(struct tw_timeline *t, uint64_t now_ns);

struct run_report {
	const struct summary *sum;
	const struct session_info *ri;
	const struct run_values *values;
	const struct endpoint_table *endpoints; /* may be NULL */
	const struct tw_timeline *tw;           /* may be NULL */
	const struct assertion *asserts;
	const struct assert_result *results;
	unsigned int nasserts;
	const struct run_values *baseline;      /* NULL: no --baseline */
	const bool *baseline_have;              /* per metric: the baseline has it */
	const char *baseline_path;
	char *const *argv;                      /* CMD and its arguments */
	int argc;
	int exit_code;      /* CMD's exit code, -1 when killed by a signal or never run */
	int term_signal;    /* the signal that ended CMD, 0 if none */
	int exit_status;    /* synfin's own exit status */
	uint64_t cgroup_id;
	uint64_t leftovers; /* CMD's descendants still running at its exit, killed */
	uint64_t lost_allowed; /* --allow-lost: more lost events than this fail the run */
	int64_t started_unix_ms;
	const char *version;
};

/* Number of failed assertions. */
unsigned int report_failures(const struct run_report *r);
/* "pass", "assertion_failed", "events_lost" (more than lost_allowed: every count may be
 * low, so no assertion can be trusted) or "command_failed". */
const char *report_verdict(const struct run_report *r);

#endif
