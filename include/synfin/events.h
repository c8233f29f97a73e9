/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The contract between synfin's BPF programs and its user space: the ring-buffer
 * record, its enums and the drop counters. Included by the BPF programs (after vmlinux.h)
 * and by user/ (after <linux/types.h>). Fixed-width types only, explicit padding,
 * and a size assertion per struct, so both compilers agree on every byte.
 */
#ifndef SYNFIN_EVENTS_H
#define SYNFIN_EVENTS_H

#ifndef __VMLINUX_H__ /* the BPF side gets the __u* types from vmlinux.h */
#include <linux/types.h>
#endif

/* Bump when a record layout or an enum value changes meaning. */
#define SYNFIN_ABI_VERSION 4

#define SYNFIN_COMM_LEN 16

enum synfin_event_type {
	SYNFIN_EV_HANDSHAKE = 1,    /* a connection reached ESTABLISHED */
	SYNFIN_EV_CONNECT_FAIL = 2, /* a client socket left SYN_SENT for CLOSE */
	SYNFIN_EV_CLOSE = 3,        /* a full socket reached CLOSE after ESTABLISHED */
	SYNFIN_EV_TIME_WAIT = 4,    /* a timewait mini-socket ended */
	SYNFIN_EV_STATE = 5,        /* a socket entered a state the live gauges count */
	SYNFIN_EV_TYPE_MAX,
};

enum synfin_side {
	SYNFIN_SIDE_CLIENT = 0, /* the socket called connect() */
	SYNFIN_SIDE_SERVER = 1, /* the socket was accepted from a listener */
};

enum synfin_fail_reason {
	SYNFIN_FAIL_OTHER = 0,       /* no error from the kernel: local failure or app closed */
	SYNFIN_FAIL_REFUSED = 1,     /* RST in reply to our SYN (ECONNREFUSED) */
	SYNFIN_FAIL_TIMEOUT = 2,     /* SYN retransmits exhausted (ETIMEDOUT) */
	SYNFIN_FAIL_UNREACHABLE = 3, /* ICMP host/net unreachable */
	SYNFIN_FAIL_RESET = 4,       /* ECONNRESET / ECONNABORTED during the handshake */
	SYNFIN_FAIL_NO_PORT = 5,     /* no local port to be had (EADDRNOTAVAIL): no SYN sent */
	SYNFIN_FAIL_REASON_MAX,
};

enum synfin_initiator {
	SYNFIN_INIT_UNKNOWN = 0,
	SYNFIN_INIT_LOCAL = 1,  /* this side sent the first FIN or RST */
	SYNFIN_INIT_REMOTE = 2, /* the peer did */
	SYNFIN_INIT_MAX,
};

enum synfin_close_how {
	SYNFIN_HOW_FIN = 0,
	SYNFIN_HOW_RST = 1,
	SYNFIN_HOW_MAX,
};

enum synfin_tw_end {
	SYNFIN_TW_EXPIRED = 0, /* the TIME_WAIT timer ran out */
	SYNFIN_TW_REUSED = 1,  /* a new connection took the 4-tuple */
	SYNFIN_TW_KILLED = 2,  /* RST, ss -K, or another early kill */
	SYNFIN_TW_PURGED = 3,  /* its network namespace was dismantled */
	SYNFIN_TW_END_MAX,
};

/* A reset (RST segment) a socket sent or took: synfin_close.rst_dir, and the first index of
 * the `resets` counters (include/synfin/maps.h). */
enum synfin_rst_dir {
	SYNFIN_RST_NONE = 0,
	SYNFIN_RST_SENT = 1,
	SYNFIN_RST_RECEIVED = 2,
	SYNFIN_RST_DIR_MAX,
};

/* Why: synfin_close.rst_reason and the second index of the `resets` counters. Below
 * SYNFIN_RST_KERNEL_REASONS, the kernel's own enum sk_rst_reason value, which tcp_send_reset
 * passes since 6.10 (its names are read from the running kernel's BTF: values differ between
 * kernels); above, what synfin can tell where the kernel says nothing. */
#define SYNFIN_RST_KERNEL_REASONS 59
enum synfin_rst_reason {
	SYNFIN_RST_KERNEL_OTHER = 59,  /* a kernel value at or above SYNFIN_RST_KERNEL_REASONS */
	SYNFIN_RST_ACTIVE = 60,        /* sent by the socket itself (close with unread data,
					* SO_LINGER 0, an abort, keepalive): the kernel does not
					* say which */
	SYNFIN_RST_REPLY = 61,         /* sent in answer to a segment */
	SYNFIN_RST_ABORT_ON_DATA = 62, /* sent for data that came after close(): inferred (the
					* kernel ran tcp_reset() on the socket just before) */
	SYNFIN_RST_PEER = 63,          /* received: the peer's reason is not on the wire */
	SYNFIN_RST_REASONS = 64,
};

/* Closing states, indexes into synfin_close.state_us[]. */
enum synfin_close_state {
	SYNFIN_CS_FIN_WAIT1 = 0,
	SYNFIN_CS_FIN_WAIT2 = 1,
	SYNFIN_CS_CLOSE_WAIT = 2,
	SYNFIN_CS_LAST_ACK = 3,
	SYNFIN_CS_CLOSING = 4,
	SYNFIN_CS_MAX,
};

/* synfin_event.flags */
#define SYNFIN_F_ESTIMATED 0x01 /* latency derived from srtt/rto fields, not two timestamps */
#define SYNFIN_F_PARTIAL 0x02   /* socket existed before synfin started: start unknown */
#define SYNFIN_F_OWNER 0x04     /* pid/comm is the listening socket's owner */
#define SYNFIN_F_NO_PID 0x08    /* nobody known: pid/comm are empty */
/* handshake: the kernel left nothing to measure or estimate the latency from (a SYN cookie
 * without TCP timestamps): latency_us is meaningless and enters no histogram */
#define SYNFIN_F_UNMEASURED 0x10
/* close: recorded when the kernel destroyed the socket, because synfin never saw it reach
 * CLOSE (a state transition did not reach its programs): the closing-state durations and
 * initiator may be incomplete; the lifetime runs to the destruction */
#define SYNFIN_F_INCOMPLETE 0x20

/* Addresses in network byte order; IPv4 (including v4-mapped IPv6) uses the first 4 bytes. */
struct synfin_conn_id {
	__u8 laddr[16];
	__u8 raddr[16];
	__u16 lport; /* host byte order */
	__u16 rport; /* host byte order */
	__u8 family; /* 4 or 6 */
	__u8 pad[3];
	__u32 netns; /* inode number of the network namespace */
	__u32 pad2;
};

struct synfin_handshake {
	__u64 latency_us;  /* client: SYN sent -> ESTABLISHED; server: SYN arrived -> ESTABLISHED;
			    * connect_fail: SYN sent -> CLOSE */
	__u32 retransmits; /* SYNs (client) or SYN-ACKs (server) sent again */
	__s32 sk_err;      /* errno the kernel stored at the failure, 0 on success */
	/* 0 for a measured latency. For an ESTIMATED one: the resolution of the clock it came
	 * from, in us. A SYN cookie's timestamp keeps TCP options in its low 6 bits, so an RTT
	 * taken from its echo reads up to 64 ticks of the TCP timestamp clock high: then this
	 * is 64 ticks, and the truth lies in [latency_us - resolution_us, latency_us]. */
	__u32 resolution_us;
	__u32 pad;
};

struct synfin_close {
	__u64 lifetime_us;              /* SYN or accept -> CLOSE; 0 if PARTIAL */
	__u64 bytes_acked;
	__u64 bytes_received;
	__u64 state_us[SYNFIN_CS_MAX];  /* time spent in each closing state, 0 = not visited */
	__u8 initiator;                 /* enum synfin_initiator */
	__u8 how;                       /* enum synfin_close_how */
	__u8 last_state;                /* kernel TCP state before CLOSE */
	__u8 tw_handover;               /* 1 when the close handed over to a timewait socket */
	__s16 sk_err;                   /* a positive errno, 0 = none */
	/* The first reset the socket sent or took before its close was recorded: enum
	 * synfin_rst_dir, 0 = none; and enum synfin_rst_reason. (ABI 4 took these two bytes
	 * from a 32-bit sk_err, whose upper half an errno never used.) */
	__u8 rst_dir;
	__u8 rst_reason;
};

struct synfin_time_wait {
	__u64 duration_us; /* timewait socket scheduled -> ended */
	__u8 end;          /* enum synfin_tw_end */
	__u8 substate;     /* kernel tw_substate at the end: TIME_WAIT(6) or FIN_WAIT2(5) */
	__u8 pad[6];
};

struct synfin_state {
	__u8 old_state; /* kernel TCP state numbers */
	__u8 new_state;
	__u8 pad[6];
};

struct synfin_event {
	__u8 type;  /* enum synfin_event_type */
	__u8 side;  /* enum synfin_side */
	__u8 reason; /* connect_fail: enum synfin_fail_reason */
	__u8 flags; /* SYNFIN_F_* */
	__u32 pid;  /* process id (tgid), 0 when unknown */
	__u64 ts_ns;  /* bpf_ktime_get_ns() when the phase ended (CLOCK_MONOTONIC) */
	__u64 cookie; /* socket cookie: stable identity across the full and timewait socket */
	__u64 cgroup; /* cgroup v2 id of the socket under a cgroup filter (run), else 0 */
	char comm[SYNFIN_COMM_LEN];
	struct synfin_conn_id id;
	union {
		struct synfin_handshake hs;
		struct synfin_close close;
		struct synfin_time_wait tw;
		struct synfin_state st;
	};
};

/* Indexes of the per-CPU "could not record" counters (map `drops`). */
enum synfin_drop {
	SYNFIN_DROP_RINGBUF = 0, /* bpf_ringbuf_reserve failed: the buffer was full */
	SYNFIN_DROP_STORAGE = 1, /* bpf_sk_storage_get(F_CREATE) failed: connection not tracked */
	SYNFIN_DROP_SYNMAP = 2,  /* SYN-arrival map update failed: latency falls back to estimate */
	SYNFIN_DROP_TWMAP = 3,   /* timewait map full: that TIME_WAIT is not tracked */
	SYNFIN_DROP_CWMAP = 4,   /* CLOSE_WAIT map full: no age or warning for that socket */
	SYNFIN_DROP_LISTENMAP = 5, /* listener map full: no queue figures for that listener */
	SYNFIN_DROP_PORTMAP = 6,   /* port-headroom map full: that destination's ports not counted */
	SYNFIN_DROP_MAX,
};

/* Indexes of the per-CPU counters of kernel events that have no record (map `counts`). */
enum synfin_count {
	/* An accepted child that died before ESTABLISHED (SYN_RECV->CLOSE): another CPU won
	 * the race for the same request, or the accept queue was full. The kernel counted it
	 * in TcpPassiveOpens when it created it (tcp_create_openreq_child()), so server
	 * handshakes + these = TcpPassiveOpens. */
	SYNFIN_COUNT_CHILD_ABORTED = 0,
	/* A SYN-arrival entry found past its request's life (the request was abandoned, and a
	 * SYN cookie reused the tuple later): not taken, the handshake is estimated instead. */
	SYNFIN_COUNT_SYN_STALE = 1,
	SYNFIN_COUNT_MAX,
};

#define SYNFIN_ASSERT_SIZE(type, size) _Static_assert(sizeof(type) == (size), #type " layout")
SYNFIN_ASSERT_SIZE(struct synfin_conn_id, 48);
SYNFIN_ASSERT_SIZE(struct synfin_handshake, 24);
SYNFIN_ASSERT_SIZE(struct synfin_close, 72);
SYNFIN_ASSERT_SIZE(struct synfin_time_wait, 16);
SYNFIN_ASSERT_SIZE(struct synfin_event, 168);

#endif /* SYNFIN_EVENTS_H */
