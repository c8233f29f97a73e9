/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map layouts that user space reads directly (not through ring records): the value types and
 * sizes both sides must agree on. The maps themselves are defined in bpf/.
 */
#ifndef SYNFIN_MAPS_H
#define SYNFIN_MAPS_H

#include "synfin/events.h"
#include "synfin/conn_fsm.h"

/* Live gauges, one per-CPU slot per kernel TCP state number (include/net/tcp_states.h has
 * 12 states; 16 leaves room for new ones without an ABI change). */
#define SYNFIN_GAUGE_SLOTS 16

/* Where the per-socket state lives (bpf/maps.bpf.h), first tier first:
 *  - `conn_slots`, an array of SYNFIN_CONN_SLOTS slots in sets of SYNFIN_CONN_WAYS, a socket's
 *    set chosen by hashing its address: looked up inline, claimed with one compare-and-swap,
 *    where the kernel has it (cfg_cmpxchg); ~10 MB;
 *  - `conns_by_sk`, a preallocated hash keyed by the address: SYNFIN_CONNS_BY_SK_ENTRIES where
 *    it is the first tier, SYNFIN_CONNS_SPILL_ENTRIES behind the slots (the sockets whose set
 *    was full);
 *  - SK_STORAGE where tracing programs may use it; sockets beyond all three are counted as
 *    untracked. */
#define SYNFIN_CONN_SLOTS 65536
#define SYNFIN_CONN_WAYS 2
#define SYNFIN_CONNS_BY_SK_ENTRIES 65536
#define SYNFIN_CONNS_SPILL_ENTRIES 16384

/* Pending requests' SYN arrivals (bpf/maps.bpf.h, req_slots), where slots can be claimed and
 * the timer hooks run: 1 MB; a request whose set is full falls back to the estimate. */
#define SYNFIN_REQ_SLOTS 65536
#define SYNFIN_REQ_WAYS 4

/* conn_state.home: which tier holds it. */
enum synfin_cs_home {
	SYNFIN_CS_IN_SLOT = 0,
	SYNFIN_CS_IN_HASH = 1,
	SYNFIN_CS_IN_STORAGE = 2,
};

/* The hot hooks, whose recursion misses (the kernel skipped the program because it was
 * already running on that CPU: a softirq transition arriving during a task-context one) are
 * accounted. Index of the per-CPU `caught` counters: runs a catcher (a second program on the
 * same tracepoint, bpf/catch.bpf.h) did in the first's place; only set_state has one, since
 * the timer hooks cannot nest. The first's bpf_prog_info.recursion_misses minus these is
 * what neither saw: lost. */
enum synfin_hook {
	SYNFIN_HOOK_SET_STATE = 0,
	SYNFIN_HOOK_TIMER_START = 1,
	SYNFIN_HOOK_TIMER_CANCEL = 2,
	SYNFIN_HOOK_MAX,
};

/* What synfin remembers about one full socket from connect() or ESTABLISHED to CLOSE, in
 * whichever tier holds it (above). User space reads the slots and the hash once a second for
 * the sockets now in CLOSE_WAIT (cur_state), rather than the BPF side keeping a map of them:
 * inserting and deleting there cost ~1.6 us per passive close. */
struct conn_state {
	__u64 start_ns;      /* client: CLOSE->SYN_SENT; server: SYN arrival (or child creation) */
	struct conn_fsm fsm; /* teardown state machine; fsm.state_ns: when cur_state began */
	__u64 cookie;
	__u64 cgroup;
	__u32 pid;
	__u8 side;
	__u8 flags;      /* SYNFIN_F_* carried into every record of this socket */
	__u8 cur_state;  /* the last transition applied: new state (bpf/catch.bpf.h) */
	__u8 home;       /* enum synfin_cs_home */
	char comm[SYNFIN_COMM_LEN];
	struct synfin_conn_id id; /* filled when the socket enters CLOSE_WAIT */
};

SYNFIN_ASSERT_SIZE(struct conn_state, 152);

/* A value of `conn_slots`: owner is the socket's address as a number (0 = free), made by the
 * BPF side as the distance from one of its own globals (bpf/maps.bpf.h: the verifier lets a
 * privileged program subtract two pointers, not read one as a number); user space only tests
 * it for 0 and uses it as the socket's key. */
struct conn_slot {
	__u64 owner;
	struct conn_state cs;
};

SYNFIN_ASSERT_SIZE(struct conn_slot, 160);

/* Value of the `timewaits` map, keyed by the timewait socket's timer address. */
struct tw_entry {
	__u64 start_ns;         /* timer first armed: the timewait socket was scheduled */
	__u64 cancel_ns;        /* early cancel not yet explained: a re-arm or a kill */
	struct synfin_event ev; /* the TIME_WAIT record, prefilled at start */
	/* SYNFIN_TW_WANTED when this TIME_WAIT is one the user asked for: always without a
	 * cgroup filter; with one (run), only once a tracked connection handed over to it, since
	 * a timewait socket has no cgroup of its own. Unwanted ones end without a record or a
	 * gauge. SYNFIN_TW_HOLDS_PORT: its connection's local port is counted in
	 * ports_by_dest, and its end gives it back. */
	__u32 wanted;
	/* The low 32 bits of the jiffy the wheel can fire the timer at the earliest, as its
	 * last timer_start gave it: its bucket's expiry since dbcdcb62b59d ("tracing/timers:
	 * Enhance timer_start tracepoint", 6.8), the requested expiry before (where a kill
	 * within the wheel's slack after that is taken for an expiry). Absolute, not as a
	 * distance from timer->expires: mod_timer() moves expires within the same bucket
	 * without a timer_start (test_time_wait_expire caught the distance version calling 2
	 * of 5 expiries kills). */
	__u32 fires_at;
};

SYNFIN_ASSERT_SIZE(struct tw_entry, 192);

#define SYNFIN_TW_WANTED 1
#define SYNFIN_TW_HOLDS_PORT 2

/* Ephemeral-port headroom (bpf/ports.bpf.h): the local ports each destination holds, kept as
 * client sockets enter SYN_SENT and give their port back (CLOSE without a TIME_WAIT, or the
 * TIME_WAIT's end). A per-CPU hash, never deleted from (a delete races with another CPU's
 * add), allocated as destinations appear; past SYNFIN_PORT_DESTS one is counted in
 * SYNFIN_DROP_PORTMAP. */
#define SYNFIN_PORT_DESTS 16384

struct port_dest_key {
	__u32 netns;
	__u16 family; /* 4 or 6, as in records (v4-mapped counts as 4) */
	__u16 rport;  /* host order */
	__u8 laddr[16];
	__u8 raddr[16];
};

SYNFIN_ASSERT_SIZE(struct port_dest_key, 40);

/* A connection's destination, from its record id: the kernel side keys its counts by it and
 * user space gives back the ports its TIME_WAIT sweep ended by it, so both take it here. */
static inline void synfin_port_key(struct port_dest_key *k, const struct synfin_conn_id *id)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = id->netns;
	k->family = id->family;
	k->rport = id->rport;
	__builtin_memcpy(k->laddr, id->laddr, sizeof(k->laddr));
	__builtin_memcpy(k->raddr, id->raddr, sizeof(k->raddr));
}

/* One CPU's share: user space sums used over CPUs, and takes the rest from the CPU whose
 * connect() came last. */
struct port_dest {
	__s64 used;        /* ports taken on this CPU minus ports given back on it */
	__u64 last_ns;     /* this CPU's last connect() toward the destination */
	__u32 range;       /* its namespace's ip_local_port_range then: high << 16 | low */
	__u32 pid;         /* who connected (tgid), 0 when unknown */
	char comm[SYNFIN_COMM_LEN];
};

SYNFIN_ASSERT_SIZE(struct port_dest, 40);

/* The `resets` counters (bpf/reset.bpf.h): one per-CPU array of SYNFIN_RST_SLOTS, indexed
 * by direction (sent, received), reason (enum synfin_rst_reason) and the socket's kernel TCP
 * state at the reset (0 = no socket). */
#define SYNFIN_RST_STATES 16
#define SYNFIN_RST_SLOTS (2 * SYNFIN_RST_REASONS * SYNFIN_RST_STATES)
#define SYNFIN_RST_INDEX(dir, reason, state)                                                  \
	((((dir) - 1) * SYNFIN_RST_REASONS + (reason)) * SYNFIN_RST_STATES + (state))

struct synfin_resets {
	__u64 n[SYNFIN_RST_SLOTS];
};

/* Listeners followed at once (bpf/listen.bpf.h); beyond, one is counted in
 * SYNFIN_DROP_LISTENMAP and has no queue figures. */
#define SYNFIN_LISTENERS_MAX 4096
/* Listeners sampled per test run of synfin_listen_sample: its arguments are a count and
 * the addresses, at most 12 (MAX_BPF_FUNC_ARGS) in all. */
#define SYNFIN_LISTEN_BATCH 11

/* The namespace counters a listener carries (synfin_listener.ns_at_listen), by index; user
 * space names the same three in struct listen_counters (user/listen_model.h). */
enum synfin_ns_counter {
	SYNFIN_NS_LISTEN_DROPS,     /* TcpExtListenDrops */
	SYNFIN_NS_LISTEN_OVERFLOWS, /* TcpExtListenOverflows */
	SYNFIN_NS_REQQ_FULL_DROPS,  /* TcpExtTCPReqQFullDrop */
	SYNFIN_NS_COUNTERS,
};

/* The most CPUs whose counters the listen() hook sums (bpf/compat.bpf.h, cfg_ncpus); on a
 * machine with more, namespaces count their drops from the first sample. */
#define SYNFIN_CPUS_MAX 1024

/* synfin_listener.flags */
#define SYNFIN_LISTENER_NS_AT_LISTEN 1 /* ns_at_listen holds the counters */
/* It closed (LISTEN -> CLOSE): the entry holds its last figures until the next sample
 * reads them, once, and deletes it (bpf/listen.bpf.h). */
#define SYNFIN_LISTENER_CLOSED 2
#define SYNFIN_LISTENER_NS_AT_CLOSE 4 /* ns_at_close holds the counters */

/* A listener: the `listeners` map's value (what it was at listen()), and the sample's
 * answer, which adds what it is now. */
struct synfin_listener {
	__u64 cookie;          /* 0 where the kernel gave the socket none */
	__u64 drops;           /* the listener's own drop count (sk_drops): every ListenDrops */
	__u32 netns;           /* netns inode */
	__u32 ack_backlog;     /* accept queue now: Recv-Q in ss -ltn */
	__u32 max_ack_backlog; /* listen()'s backlog, capped by somaxconn: Send-Q in ss -ltn */
	__u16 port;            /* host order, read by the sample; 0 = not listening now */
	__u16 family;          /* 4 or 6 */
	/* the process that called listen(), when it was in the socket's namespace (0 when
	 * not, and at seeding): its /proc/PID/net/netstat holds the namespace's counters */
	__u32 pid;
	__u32 flags; /* SYNFIN_LISTENER_* */
	/* Its namespace's counters as it entered TCP_LISTEN, which is before the socket is
	 * hashed (inet_csk_listen_start()): none of its own drops are in them. A namespace
	 * synfin meets through a new listener counts its drops from there, not from the first
	 * sample 200 ms later (user/listen.c). Not at seeding. */
	__u64 ns_at_listen[SYNFIN_NS_COUNTERS];
	/* With SYNFIN_LISTENER_NS_AT_CLOSE: the same counters as it closed. A listener that
	 * listened and closed between two samples, in a namespace whose /proc file synfin
	 * cannot open any more (its processes are gone), still has its drops counted. */
	__u64 ns_at_close[SYNFIN_NS_COUNTERS];
};

SYNFIN_ASSERT_SIZE(struct synfin_listener, 88);

#endif /* SYNFIN_MAPS_H */
