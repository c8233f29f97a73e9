/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Ephemeral-port headroom (bpf/ports.bpf.h): the kernel's per-CPU counts of local ports held
 * toward each destination, summed, less the ports the user-space TIME_WAIT sweep gave back,
 * with the peak seen and the destinations past the warning threshold. Pure: the session
 * feeds it each read of the map (user/kstate.c).
 */
#ifndef SYNFIN_PORTS_H
#define SYNFIN_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "synfin/maps.h"

/* Destinations with a series of their own in /metrics, by ports used; the rest fold into one
 * (laddr="other"). */
#define PORT_SERIES_TOP 20

struct port_use {
	struct port_dest_key key;
	uint64_t used;   /* ports held now (never below 0) */
	uint32_t lo, hi; /* the namespace's ip_local_port_range at the last connect() */
	uint32_t pid;    /* the last connect()'s process, 0 when unknown */
	char comm[SYNFIN_COMM_LEN];
	uint64_t last_ns;
	bool warned;     /* past the threshold, said once until it falls below again */
};

struct port_given_back {
	struct port_dest_key key;
	uint64_t n;
};

struct port_headroom {
	struct port_use *dests; /* the last read, sorted by key */
	size_t n, cap;
	struct port_use *next;  /* the read being built */
	size_t next_n, next_cap;
	struct port_given_back *back; /* by the user-space sweep, which the map cannot see */
	size_t back_n, back_cap;
	uint64_t peak_used;     /* the most ports one destination held at a read */
	uint32_t peak_range;    /* its range's size then */
	uint64_t untracked;     /* destinations the kernel's map had no room for (drops) */
};

/* The range's size: hi - lo + 1, 0 when unknown. */
uint32_t port_range_size(const struct port_use *u);
/* A TIME_WAIT the user-space sweep ended gave back its connection's port. */
void ports_given_back(struct port_headroom *h, const struct port_dest_key *key);
/* One destination of a read: its per-CPU shares. */
void ports_read_dest(struct port_headroom *h, const struct port_dest_key *key,
		     const struct port_dest *cpus, int ncpu);
/* The read is complete: it replaces the last one (warned marks carry over). Calls warn for
 * each destination that crossed warn_pct percent of its range since the last read (0: no
 * warnings). Returns 0. */
typedef void (*ports_warn_fn)(void *ctx, const struct port_use *u);
int ports_read_done(struct port_headroom *h, unsigned int warn_pct, ports_warn_fn warn, void *ctx);
/* The top destinations by ports used, most first, into out (at most max): how many. */
size_t ports_top(const struct port_headroom *h, const struct port_use **out, size_t max);
void ports_free(struct port_headroom *h);

#endif
