/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Maps, configuration and the per-socket state shared by every synfin handler. */
#ifndef SYNFIN_MAPS_BPF_H
#define SYNFIN_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "synfin/events.h"
#include "synfin/conn_fsm.h"
#include "synfin/maps.h"
#include "compat.bpf.h"

/* Filters, written by the loader into .rodata before load so the verifier prunes them. */
const volatile __u32 cfg_netns = 0;      /* only this netns inode; 0 = all */
const volatile __u64 cfg_cgroup = 0;     /* only sockets of this cgroup v2 id or below; 0 = all */
const volatile __u8 cfg_family = 0;      /* 4, 6 or 0 = both */
/* pid and comm in the records: only watch shows them. Without, no listener gets an owner
 * (below), so no accepted child gets a clone of it: in make bench the clone's allocation and
 * free were ~3.5% of the machine's CPU. */
const volatile __u8 cfg_comm = 1;
/* Wake the consumer early once this much data waits; otherwise it drains on its timer. */
const volatile __u64 cfg_wakeup_bytes = 1 << 20;

/* Size is set by the loader (--ring-size, SESSION_RING_BYTES); this is only a placeholder. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* One slot per enum synfin_drop: every path that could not record something. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* One slot per enum synfin_count: kernel events counted, with no record. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_COUNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* Live gauges (sockets now in TIME_WAIT, CLOSE_WAIT, FIN_WAIT2...), indexed by kernel
 * TCP state number; per-CPU increments and decrements, summed by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SYNFIN_GAUGE_SLOTS);
	__type(key, __u32);
	__type(value, __s64);
} gauges SEC(".maps");

/* Where the state lives (include/synfin/maps.h has the tiers). Each transition looks it up
 * twice (the program and its catcher) and each socket creates and deletes it once: a hash
 * did that with a bucket lock and a free list, ~1.2 us per connection in make bench's storm
 * against the inline array lookup of a slot (2026-12-04, serve, bpf_stats: synfin_set_state
 * 425/325 ns against 550/428, its catcher 80 against 105). SK_STORAGE is the last tier:
 * creating it allocates and memcg-charges two objects and frees them by RCU with the socket,
 * ~1.5 us per socket, twice per connection (docs/kernel-notes.md, "Cost per event"); it has
 * no limit, where the kernel lets tracing programs use it (cfg_sk_storage: 8e4597c627fb,
 * 5.11); elsewhere sockets beyond the first two tiers are counted as untracked. */

/* Slots, in sets of SYNFIN_CONN_WAYS; the loader sizes it (SYNFIN_CONN_SLOTS, or 1 where
 * cfg_cmpxchg is off). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYNFIN_CONN_SLOTS);
	__type(key, __u32);
	__type(value, struct conn_slot);
} conn_slots SEC(".maps");

/* One bit per slot whose socket is in CLOSE_WAIT, which user space maps and reads once a
 * second (8 KB), then looks up only those slots: scanning 10 MB of slots in place instead
 * made them all resident in synfin's RSS. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SYNFIN_CONN_SLOTS / 64);
	__type(key, __u32);
	__type(value, __u64);
} close_wait_slots SEC(".maps");

/* 64 - log2(number of sets): a set is the top bits of the address's multiplicative hash. */
const volatile __u32 cfg_slot_set_shift = 64 - 15;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SYNFIN_CONNS_BY_SK_ENTRIES);
	__type(key, __u64);
	__type(value, struct conn_state);
} conns_by_sk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct conn_state);
} conns SEC(".maps");

/* Set once a socket's state first overflowed into `conns`: until then a lookup that misses
 * the hash does not ask SK_STORAGE too. */
__u32 cs_overflowed = 0;
/* Entries now in conns_by_sk while it is the second tier: 0 = a lookup that misses the slots
 * does not ask the hash. */
__u64 cs_spilled = 0;
/* Its address is where socket addresses are counted from (sk_owner()). */
__u8 cs_anchor = 0;

/* The process that called listen(). BPF_F_CLONE copies it into every accepted child in
 * sk_clone_lock(), so softirq-time server events name the server, not `current`. */
struct owner {
	__u32 pid;
	__u32 pad;
	char comm[SYNFIN_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC | BPF_F_CLONE);
	__type(key, int);
	__type(value, struct owner);
} owners SEC(".maps");

/* Server side: when the SYN of a 4-tuple reached the listener (request timer armed) or,
 * without timer hooks, when its first SYN-ACK left. Read at the child's ESTABLISHED. */
struct tuple_key {
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 netns;
	__u16 lport; /* host order */
	__u16 rport; /* network order, as the kernel stores it */
	__u16 family;
	__u16 pad;
};

struct syn_seen {
	__u64 ts_ns;
	/* jiffies after which the request cannot be alive: its timer's expiry at its last arm,
	 * plus slack (SYN_STALE_SLACK). An abandoned request leaves its entry behind, and a
	 * later connection on the same tuple that arms no timer (a SYN cookie) must not take
	 * it. 0 = unknown (the first-SYN-ACK entries of --no-time-wait). */
	__u64 dead_after;
	__u32 exact; /* 1 = SYN arrival, 0 = first SYN-ACK (misses SYN -> SYN-ACK time) */
	__u32 pad;
};

/* Where slots can be claimed (cfg_cmpxchg) and the timer hooks run, the SYN arrival of each
 * pending request lives in req_slots, keyed by its timer's address, from the first arm of
 * the timer to its every cancel: an early one frees the slot (the request completed or
 * died), and a re-arm claims it again from the handoff below (an expiry, or mod_timer()
 * moving the timer, is a cancel then a start). Nothing is left to go stale, and the LRU
 * insert, lookup and delete per connection (~250 ns in make bench's storm) are three array
 * probes. Set by the loader; without it, syns below. */
const volatile __u8 cfg_req_slots = 0;
const volatile __u32 cfg_req_set_shift = 64 - 14;
#define REQ_SLOTS (HAVE_CMPXCHG && cfg_req_slots)

struct req_slot {
	__u64 owner; /* kaddr_owner(&req->rsk_timer); 0 = free */
	__u64 syn_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYNFIN_REQ_SLOTS);
	__type(key, __u32);
	__type(value, struct req_slot);
} req_slots SEC(".maps");

/* A request's SYN arrival between its timer's cancel and what follows on the same CPU:
 * the re-arm (the same timer), or the ESTABLISHED of the child made from it
 * (inet_csk_complete_hashdance() cancels the timer in the softirq that then moves the child
 * to ESTABLISHED). `armed` is set at a child's LISTEN->SYN_RECV, just before that cancel, so
 * only a cancel after it is handed to a child: what else could cancel a request's timer in
 * between on this CPU is nothing, and the child's ports must match too (read directly from
 * both sockets, unlike the netns and family a whole 4-tuple would take probe reads for). */
struct syn_handoff {
	__u64 owner;  /* the cancelled timer's kaddr_owner(); 0 = none */
	__u64 syn_ns; /* its request's SYN arrival */
	__u32 ports;  /* its skc_portpair */
	__u8 armed;
	__u8 filled;  /* ports are the cancelled request's, for the armed child */
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct syn_handoff);
} syn_handoffs SEC(".maps");

/* request_dead_after(): beyond the wheel's lateness, how late a softirq may run a timer
 * (jiffies: 0.25 s at HZ=1000, 1 s at HZ=250). */
#define SYN_STALE_SLACK_JIFFIES 250

/* A SYN flood fills this LRU, which then forgets the oldest half-open requests: their
 * handshakes fall back to the estimated latency, never to a wrong exact one. Per-CPU LRU
 * lists: every SYN updates it, and the common list's lock showed in make bench. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 65536);
	__type(key, struct tuple_key);
	__type(value, struct syn_seen);
} syns SEC(".maps");

/* The connecting task per CPU: a timewait socket cancelled from inside that task's connect()
 * was reused by it (__inet_check_established runs synchronously in connect()) if it has
 * the connect()'s 4-tuple. The destination is set before CLOSE->SYN_SENT (tcp_v4_connect,
 * tcp_v6_connect); the local port is not chosen yet. */
struct connecting {
	__u64 ts_ns;
	__u32 tid;
	__u32 netns;
	__u8 raddr[16];
	__u16 rport; /* network order */
	__u16 family;
	__u32 pad;
	/* the socket: its local port is chosen by the time a reused timewait socket is
	 * descheduled (__inet_check_established sets inet_num first), read then */
	__u64 sk;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct connecting);
} connecting SEC(".maps");

static __always_inline void count_drop(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &what);

	if (n)
		*n += 1;
}

static __always_inline void count_event(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&counts, &what);

	if (n)
		*n += 1;
}

/* A kernel object's address as a number: the verifier refuses arithmetic on a pointer but
 * lets a privileged program subtract one from another (a scalar then), so this is its
 * distance from a global of ours. Never 0, unique per object while it lives. */
static __always_inline __u64 kaddr_owner(const void *p)
{
	return (__u64)p - (__u64)&cs_anchor;
}

static __always_inline __u64 sk_owner(const struct sock *sk)
{
	return kaddr_owner(sk);
}

/* Slot arrays (conn_slots, req_slots): values that start with a __u64 owner (0 = free), in
 * sets of `ways` consecutive slots; an owner's set is the top bits of its multiplicative
 * hash (shift = 64 - log2(sets)). */
static __always_inline __u32 slot_set_first(__u64 owner, __u32 shift, __u32 ways)
{
	return (__u32)((owner * 0x9E3779B97F4A7C15ULL) >> shift) * ways;
}

/* In owner's set of map: the slot owner holds (claim false), or a free one claimed for it
 * (claim true; NULL when the set is full: two CPUs claiming in one set at once each get a
 * slot of their own, or one finds the set full). Its index in *index. */
static __always_inline __u64 *slot_probe(void *map, __u32 shift, __u32 ways, __u64 owner,
					 bool claim, __u32 *index)
{
	__u32 first = slot_set_first(owner, shift, ways);
	__u64 *o;

#pragma unroll
	for (__u32 w = 0; w < ways; w++) {
		__u32 i = first + w;

		o = bpf_map_lookup_elem(map, &i);
		if (o && (claim ? !*o && !__sync_val_compare_and_swap(o, 0, owner) : *o == owner)) {
			*index = i;
			return o;
		}
	}
	return NULL;
}

static __always_inline __u64 *slot_find_in(void *map, __u32 shift, __u32 ways, __u64 owner,
					   __u32 *index)
{
	return slot_probe(map, shift, ways, owner, false, index);
}

static __always_inline __u64 *slot_claim_in(void *map, __u32 shift, __u32 ways, __u64 owner)
{
	__u32 i;

	return slot_probe(map, shift, ways, owner, true, &i);
}

/* The slot sk owns: in its set, the way whose owner it is (its index in *index), or NULL. */
static __always_inline struct conn_slot *slot_find(__u64 owner, __u32 *index)
{
	return (struct conn_slot *)slot_find_in(&conn_slots, cfg_slot_set_shift, SYNFIN_CONN_WAYS,
						owner, index);
}

/* A free way of owner's set, claimed for it; NULL when the set is full. */
static __always_inline struct conn_slot *slot_claim(__u64 owner)
{
	return (struct conn_slot *)slot_claim_in(&conn_slots, cfg_slot_set_shift, SYNFIN_CONN_WAYS,
						 owner);
}

/* Marks (or clears) sk's slot as in CLOSE_WAIT, for user space (close_wait_slots). */
static __always_inline void slot_mark_close_wait(const struct sock *sk, bool in)
{
	__u32 i, word;
	__u64 *w;

	if (!HAVE_CMPXCHG || !slot_find(sk_owner(sk), &i))
		return;
	word = i / 64;
	w = bpf_map_lookup_elem(&close_wait_slots, &word);
	if (!w)
		return;
	if (in)
		__sync_fetch_and_or(w, 1ULL << (i % 64));
	else
		__sync_fetch_and_and(w, ~(1ULL << (i % 64)));
}

/* State is the socket's only while the socket lives: one whose CLOSE and destruction were
 * both missed stays behind, and a new socket at the same address must not take it. Its
 * cookie tells them apart where cookies are generated (a new socket's is 0 until asked for;
 * cfg_socket_cookie: c5dbb89fc2ac, 5.12). */
static __always_inline struct conn_state *cs_current(struct conn_state *cs, const struct sock *sk)
{
	if (cs && cs->cookie && cs->cookie != sk->__sk_common.skc_cookie.counter)
		return NULL; /* left by a socket gone unseen */
	return cs;
}

static __always_inline struct conn_state *cs_lookup(const struct sock *sk)
{
	struct conn_state *cs = NULL;
	__u64 key = (__u64)sk;

	if (HAVE_CMPXCHG) {
		__u32 i;
		struct conn_slot *s = slot_find(sk_owner(sk), &i);

		if (s && (cs = cs_current(&s->cs, sk)))
			return cs;
	}
	if (!HAVE_CMPXCHG || cs_spilled)
		cs = cs_current(bpf_map_lookup_elem(&conns_by_sk, &key), sk);
	if (!cs && cfg_sk_storage && cs_overflowed)
		cs = bpf_sk_storage_get(&conns, (void *)sk, 0, 0);
	return cs;
}

/* Fresh, zeroed state for sk, replacing any left from an earlier use of the socket. */
static __always_inline struct conn_state *cs_create(const struct sock *sk)
{
	static const struct conn_state zero;
	struct conn_state *cs = NULL;
	__u64 key = (__u64)sk;

	if (HAVE_CMPXCHG) {
		__u64 owner = sk_owner(sk);
		__u32 i;
		struct conn_slot *s = slot_find(owner, &i); /* left by an earlier socket here */

		if (!s)
			s = slot_claim(owner);
		if (s) {
			__builtin_memset(&s->cs, 0, sizeof(s->cs)); /* home: SYNFIN_CS_IN_SLOT */
			return &s->cs;
		}
	}
	if (!bpf_map_update_elem(&conns_by_sk, &key, &zero, BPF_ANY)) {
		cs = bpf_map_lookup_elem(&conns_by_sk, &key);
		if (cs) {
			cs->home = SYNFIN_CS_IN_HASH;
			if (HAVE_CMPXCHG)
				__sync_fetch_and_add(&cs_spilled, 1);
		}
	}
	if (!cs && cfg_sk_storage) {
		cs = bpf_sk_storage_get(&conns, (void *)sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
		if (cs) {
			__builtin_memset(cs, 0, sizeof(*cs));
			cs->home = SYNFIN_CS_IN_STORAGE;
			if (!cs_overflowed)
				cs_overflowed = 1;
		}
	}
	if (!cs)
		count_drop(SYNFIN_DROP_STORAGE);
	return cs;
}

/* At CLOSE, and when the kernel destroys a socket still tracked. */
static __always_inline void cs_forget(const struct sock *sk, const struct conn_state *cs)
{
	__u64 key = (__u64)sk;

	if (cfg_sk_storage && cs->home == SYNFIN_CS_IN_STORAGE) {
		bpf_sk_storage_delete(&conns, (void *)sk);
	} else if (cs->home == SYNFIN_CS_IN_HASH) {
		if (!bpf_map_delete_elem(&conns_by_sk, &key) && HAVE_CMPXCHG)
			__sync_fetch_and_add(&cs_spilled, -1);
	} else if (HAVE_CMPXCHG) {
		__u32 i;
		struct conn_slot *s = slot_find(sk_owner(sk), &i);

		if (s)
			s->owner = 0;
	}
}

static __always_inline void gauge_add(__u32 state, __s64 delta)
{
	__s64 *n;

	if (state >= SYNFIN_GAUGE_SLOTS)
		return;
	n = bpf_map_lookup_elem(&gauges, &state);
	if (n)
		*n += delta;
}

#endif
