// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "format.h"
#include "resets.h"

#define KERNEL_PREFIX "SK_RST_REASON_"
#define NAME_MAX_LEN 48

static char kernel_names[SYNFIN_RST_KERNEL_REASONS][NAME_MAX_LEN];

void rst_reason_set_kernel_name(uint64_t v, const char *name)
{
	size_t i, plen = strlen(KERNEL_PREFIX);

	if (v >= SYNFIN_RST_KERNEL_REASONS || !name)
		return;
	if (!strncmp(name, KERNEL_PREFIX, plen))
		name += plen;
	for (i = 0; name[i] && i + 1 < NAME_MAX_LEN; i++)
		kernel_names[v][i] = (char)tolower((unsigned char)name[i]);
	kernel_names[v][i] = '\0';
}

const char *rst_reason_name(unsigned int code)
{
	/* a label per code, made once: the metric and JSON writers hold on to the pointer */
	static char unnamed[SYNFIN_RST_KERNEL_REASONS][16];

	switch (code) {
	case SYNFIN_RST_KERNEL_OTHER:
		return "kernel_other";
	case SYNFIN_RST_ACTIVE:
		return "active";
	case SYNFIN_RST_REPLY:
		return "reply";
	case SYNFIN_RST_ABORT_ON_DATA:
		return "tcp_abort_on_data";
	case SYNFIN_RST_PEER:
		return "peer";
	}
	if (code >= SYNFIN_RST_KERNEL_REASONS)
		return "unknown";
	if (kernel_names[code][0])
		return kernel_names[code];
	if (!unnamed[code][0])
		snprintf(unnamed[code], sizeof(unnamed[code]), "kernel_%u", code);
	return unnamed[code];
}

const char *rst_dir_name(unsigned int dir)
{
	return dir == SYNFIN_RST_SENT ? "sent" : dir == SYNFIN_RST_RECEIVED ? "received" : NULL;
}

void resets_each(const struct reset_counts *r, resets_fn fn, void *ctx)
{
	unsigned int dir, reason, st;
	uint64_t n;

	for (dir = SYNFIN_RST_SENT; dir <= SYNFIN_RST_RECEIVED; dir++)
		for (reason = 0; reason < SYNFIN_RST_REASONS; reason++)
			for (st = 0; st < SYNFIN_RST_STATES; st++) {
				n = r->n[SYNFIN_RST_INDEX(dir, reason, st)];
				if (n)
					fn(dir, reason, st, n, ctx);
			}
}

const char *rst_state_name(unsigned int state, char *buf, size_t len)
{
	return state ? tcp_state_name(state, buf, len) : "none";
}

uint64_t resets_total(const struct reset_counts *r, unsigned int dir)
{
	unsigned int reason, st;
	uint64_t n = 0;

	if (dir != SYNFIN_RST_SENT && dir != SYNFIN_RST_RECEIVED)
		return 0;
	for (reason = 0; reason < SYNFIN_RST_REASONS; reason++)
		for (st = 0; st < SYNFIN_RST_STATES; st++)
			n += r->n[SYNFIN_RST_INDEX(dir, reason, st)];
	return n;
}
