/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The self-audit: synfin's own counts against the kernel's TCP counters of the same network
 * namespace since synfin started. Pure: the caller hands in the text of /proc/net/snmp and
 * /proc/net/netstat (user/audit_live.c reads them) and every record; no I/O, no clock.
 *
 * What is compared, and why it is comparable (docs/kernel-notes.md, "Self-audit"):
 *   active_opens   TcpActiveOpens, counted by tcp_connect() as the SYN leaves:
 *                  client handshakes + failed connects (and, where the session filters by
 *                  netns, the connects still in SYN_SENT)
 *   passive_opens  TcpPassiveOpens, counted by tcp_create_openreq_child():
 *                  server handshakes + the children that died before ESTABLISHED
 *   attempt_fails  TcpAttemptFails - TcpExtEmbryonicRsts: tcp_done() counts a socket that
 *                  dies in SYN_SENT or SYN_RECV, tcp_check_req() a request reset in SYN_RECV
 *                  (a request socket synfin never sees; the kernel counts those resets
 *                  again in EmbryonicRsts): failed connects the kernel closed (refused,
 *                  timeout, unreachable, reset), not those closed by the application
 *   estab_resets   TcpEstabResets, counted by tcp_set_state() on ESTABLISHED or CLOSE_WAIT
 *                  -> CLOSE: closes whose last state was one of those two
 *   time_wait      TcpExtTW + TcpExtTWKilled: __inet_twsk_schedule() counts every timewait
 *                  socket when it is first armed (TWKilled when its timeout is <= 4 s, TW
 *                  otherwise; neither counts its end): closes handed over to a timewait
 * Records of sockets that existed before the start (SYNFIN_F_PARTIAL) are left out of the
 * opens and failures: the kernel counted those before its baseline. */
#ifndef SYNFIN_AUDIT_H
#define SYNFIN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "synfin/events.h"

enum audit_counter {
	AUDIT_ACTIVE_OPENS = 0,
	AUDIT_PASSIVE_OPENS,
	AUDIT_ATTEMPT_FAILS,
	AUDIT_ESTAB_RESETS,
	AUDIT_TIME_WAIT,
	AUDIT_COUNTER_MAX,
};

/* The kernel fields read, by their /proc names. */
enum audit_field {
	AUDIT_F_ACTIVE_OPENS = 0, /* Tcp: ActiveOpens */
	AUDIT_F_PASSIVE_OPENS,    /* Tcp: PassiveOpens */
	AUDIT_F_ATTEMPT_FAILS,    /* Tcp: AttemptFails */
	AUDIT_F_ESTAB_RESETS,     /* Tcp: EstabResets */
	AUDIT_F_TW,               /* TcpExt: TW */
	AUDIT_F_TW_KILLED,        /* TcpExt: TWKilled */
	AUDIT_F_EMBRYONIC_RSTS,   /* TcpExt: EmbryonicRsts */
	AUDIT_F_MAX,
};
#define AUDIT_F_ALL ((1u << AUDIT_F_MAX) - 1)

/* "active_opens", ...: the label value and the suffix of run's drift.NAME */
const char *audit_counter_name(unsigned int c);
/* What the kernel side is: "TcpActiveOpens", ..., "TcpExtTW+TcpExtTWKilled" */
const char *audit_counter_kernel(unsigned int c);

/* One namespace's kernel counters at one moment. */
struct audit_kernel {
	uint64_t f[AUDIT_F_MAX];
	unsigned int found; /* bit per enum audit_field */
};

/* Adds the fields found in text (the whole of /proc/net/snmp or /proc/net/netstat: pairs of
 * "Group: names..." / "Group: values..." lines) to k. 0, or -EINVAL when a header and its
 * value line disagree or a value of a wanted field is not a number. */
int audit_parse(const char *text, size_t len, struct audit_kernel *k);

/* Why a comparison cannot be made (bits): the filter lets through records the kernel's
 * namespace-wide counters cannot be split by. */
#define AUDIT_NA_FAMILY 0x01   /* -4/-6: the Tcp counters are IPv4 and IPv6 together */
#define AUDIT_NA_PORT 0x02     /* --port */
#define AUDIT_NA_PID 0x04      /* --pid */
#define AUDIT_NA_CGROUP 0x08   /* run's cgroup: other processes share the namespace */
#define AUDIT_NA_NO_TW 0x10    /* --no-time-wait: no handovers seen (time_wait only) */
#define AUDIT_NA_NO_BASE 0x20  /* the counters could not be read at the start */
#define AUDIT_NA_NO_NOW 0x40   /* the counters cannot be read now (namespace gone) */
#define AUDIT_NA_ABORTED 0x80  /* aborted children of other namespaces (passive_opens) */
#define AUDIT_NA_TW_AT_END 0x100 /* the kernel counts TcpExtTW at a TIME_WAIT's end (time_wait) */
#define AUDIT_NA_COOKIE 0x200  /* --cookie: one socket */
/* The first reason's text, for "no value: ..." */
const char *audit_na_text(unsigned int na);

/* The one namespace audited (the --netns one, or synfin's own). */
struct audit {
	uint32_t netns;                     /* inode */
	unsigned int na;                    /* AUDIT_NA_* for every counter */
	bool netns_only;                    /* the kernel filters records to this netns */
	struct audit_kernel base;           /* at the start */
	uint64_t base_ns;                   /* when it was read (CLOCK_MONOTONIC); 0 = unknown */
	uint64_t seen[AUDIT_COUNTER_MAX];   /* synfin's comparable counts since */
	uint64_t cut_ns;                    /* audit_cut(): 0 = none */
	uint64_t late[AUDIT_COUNTER_MAX];   /* of seen, what the kernel counted after cut_ns */
};

void audit_init(struct audit *a, uint32_t netns, bool netns_only, unsigned int na);
/* The counters at the start, read from read_ns on (CLOCK_MONOTONIC, the records' clock; 0 =
 * unknown): both files parsed; AUDIT_NA_NO_BASE unless every field is. A connect that began
 * before read_ns is in the base, even if its record comes later. */
void audit_set_base(struct audit *a, const struct audit_kernel *base, uint64_t read_ns);
/* Before the counters are read again at read_ns to be compared (audit_compute()) while
 * records still arrive: what the kernel counted after read_ns is left out of that
 * comparison; audit_cut(a, 0) after it, so that the next one counts it. */
void audit_cut(struct audit *a, uint64_t read_ns);
/* Counts an accepted, valid record (other namespaces' are ignored). */
void audit_add(struct audit *a, const struct synfin_event *e);

/* What the kernel knows that synfin has no record for, from session figures. */
struct audit_extra {
	uint64_t children_aborted; /* counted in TcpPassiveOpens (machine-wide unless netns_only) */
	uint64_t syn_sent;         /* sockets now in SYN_SENT (observed ones, machine-wide
				    * unless netns_only) */
};

struct audit_result {
	uint32_t netns;
	bool present;                       /* an audit was set up at all */
	unsigned int na[AUDIT_COUNTER_MAX]; /* 0: the drift below is a value */
	uint64_t synfin[AUDIT_COUNTER_MAX];
	uint64_t kernel[AUDIT_COUNTER_MAX]; /* since the start */
	int64_t drift[AUDIT_COUNTER_MAX];   /* synfin - kernel: negative = synfin missed some */
};

/* now: the counters now (NULL: could not be read). */
void audit_compute(const struct audit *a, const struct audit_kernel *now,
		   const struct audit_extra *x, struct audit_result *out);

#endif
