/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The skeleton's life: open -> configure .rodata -> load (verifier) -> attach -> destroy. */
#ifndef SYNFIN_LOADER_H
#define SYNFIN_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kernel_features.h"

struct loader_config {
	uint32_t netns;        /* netns inode filter, 0 = all */
	uint64_t cgroup;       /* cgroup v2 id filter, 0 = all */
	uint8_t family;        /* 4, 6, 0 = both */
	uint64_t ring_bytes;   /* ring buffer size, a power of two >= page size */
	uint64_t wakeup_bytes; /* wake the consumer early past this much queued data */
	bool time_wait;        /* attach the timer hooks (TIME_WAIT tracking, exact SYN time) */
	/* no pid/comm in the records (serve and run show neither): spares each listener's
	 * owner storage, which the kernel clones into every accepted child and frees with it */
	bool no_comm;
	bool verbose;          /* libbpf's log, the verifier's included, to stderr */
	const struct features *features; /* already probed (synfin check); NULL: probe at load */
};

struct synfin_bpf;

#define LOADER_MAX_LINKS 16 /* 8 programs today */

struct bpf_link;

struct loader {
	struct features feat; /* what this kernel allows, as loaded */
	struct synfin_bpf *skel;
	struct bpf_link *links[LOADER_MAX_LINKS];
	struct bpf_link *seed_link; /* iter/tcp, also in links[] */
	int nlinks;
	/* close_wait_slots, mapped read-only: one bit per slot of conn_slots */
	const uint64_t *cw_bits;
	uint32_t cw_words;
	size_t cw_bits_len;
	bool ports; /* ports_by_dest is kept (bpf/ports.bpf.h: TIME_WAIT followed) */
};

/* Each returns 0 or -errno and fills err with "what failed: why; what to do". */
int loader_load(struct loader *l, const struct loader_config *c, char *err, size_t errlen);
int loader_attach(struct loader *l, const struct loader_config *c, char *err, size_t errlen);
/* Runs the iter/tcp seed pass in netns_path's namespace, or in every namespace on the host
 * when NULL. Call after attach. between(ctx), if not NULL, runs after each namespace: the
 * programs are attached, so live records pile up in the ring meanwhile. Returns the number
 * of namespaces seeded or -errno. */
int loader_seed(struct loader *l, const char *netns_path, void (*between)(void *ctx), void *ctx,
		char *err, size_t errlen);
void loader_destroy(struct loader *l);

struct synfin_listener;
/* Samples the listeners synfin sees (bpf/listen.bpf.h), in batches over all namespaces:
 * fn once per listener. Returns how many, or -errno (the kernel refused the test run). */
int loader_listen_walk(const struct loader *l,
		       void (*fn)(void *ctx, const struct synfin_listener *li), void *ctx);

int loader_events_fd(const struct loader *l);
int loader_drops_fd(const struct loader *l);
int loader_counts_fd(const struct loader *l); /* enum synfin_count, per CPU */
int loader_gauges_fd(const struct loader *l);
int loader_resets_fd(const struct loader *l);
int loader_ports_fd(const struct loader *l); /* ports_by_dest: struct port_dest per CPU */ /* struct synfin_resets, per CPU, one entry */
int loader_timewaits_fd(const struct loader *l);
int loader_tw_pending_fd(const struct loader *l);
int loader_close_waits_fd(const struct loader *l);
int loader_conns_fd(const struct loader *l); /* conns_by_sk: struct conn_state */
int loader_conn_slots_fd(const struct loader *l); /* conn_slots: struct conn_slot */

/* Events the kernel skipped because the program was already running on that CPU
 * (bpf_prog_info.recursion_misses), less those the catchers handled (bpf/catch.bpf.h):
 * each may be a lost record, so every face adds them to "lost". 0 where the kernel does
 * not count misses (features.recursion_misses). */
uint64_t loader_recursion_lost(const struct loader *l);

/* How many BPF programs were loaded (synfin check reports it). */
int loader_prog_count(const struct loader *l);

#endif
