/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Resets (bpf/reset.bpf.h): the kernel's counters summed over CPUs, and their labels. Pure:
 * the kernel's own reason names are handed in once, from its BTF (user/kernel_features.c). */
#ifndef SYNFIN_RESETS_H
#define SYNFIN_RESETS_H

#include <stddef.h>
#include <stdint.h>
#include "synfin/maps.h"

struct reset_counts {
	uint64_t n[SYNFIN_RST_SLOTS];
};

/* Names kernel value v of enum sk_rst_reason; name as the BTF spells it
 * ("SK_RST_REASON_NO_SOCKET"), kept lower-case and without the prefix ("no_socket"). */
void rst_reason_set_kernel_name(uint64_t v, const char *name);
/* A reason code's label: the kernel's name, synfin's own (active, reply, tcp_abort_on_data,
 * peer), or "kernel_N" for a value the kernel's BTF did not name. */
const char *rst_reason_name(unsigned int code);
/* "sent", "received"; NULL for SYNFIN_RST_NONE. */
const char *rst_dir_name(unsigned int dir);
/* Calls fn for every (direction, reason, state) counted at least once, in index order:
 * sent before received. state 0 is "no socket". */
typedef void (*resets_fn)(unsigned int dir, unsigned int reason, unsigned int state, uint64_t n,
			  void *ctx);
void resets_each(const struct reset_counts *r, resets_fn fn, void *ctx);
/* A state's label for resets: the kernel's name, "none" for no socket. */
const char *rst_state_name(unsigned int state, char *buf, size_t len);
/* Resets in direction dir (enum synfin_rst_dir), every reason and state. */
uint64_t resets_total(const struct reset_counts *r, unsigned int dir);

#endif
