/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Ephemeral-port headroom: the local ports held toward each destination (netns, local
 * address, remote address and port), kept as tracked client sockets take one and give it
 * back, never by a scan of every socket. A port is held
 *   - from CLOSE->SYN_SENT in connect() (the port is chosen right after, in
 *     inet_hash_connect(); a connect() that finds none leaves SYN_SENT for CLOSE in the same
 *     call, and gives back what it never had);
 *   - until CLOSE, unless a timewait socket took the connection over, which holds it until
 *     its own end (expired, killed, reused, purged: bpf/timewait.bpf.h, and the user-space
 *     sweep for the kills it ends).
 * Only connections synfin saw connect() count (not those found at start: PARTIAL), and only
 * where TIME_WAIT is followed (cfg_ports), since otherwise no TIME_WAIT's end would give its
 * port back. Per-CPU values: one destination's connects and TIME_WAIT ends land on every
 * CPU, and one shared counter bounced between them.
 */
#ifndef SYNFIN_PORTS_BPF_H
#define SYNFIN_PORTS_BPF_H

#include "maps.bpf.h"
#include "sock_id.bpf.h"

const volatile __u8 cfg_ports = 0;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, SYNFIN_PORT_DESTS);
	__type(key, struct port_dest_key);
	__type(value, struct port_dest);
} ports_by_dest SEC(".maps");

/* Before d9f28735af87 ("Use READ/WRITE_ONCE() for IP local_port_range.", 6.8) the range was
 * two ints under a seqlock; since, one u32, high << 16 | low. The field changed its kind
 * (array to integer), and CO-RE refuses to relocate an access (even its size) to a field of
 * the other kind, so each layout is a flavor of its own, and the one whose field exists is
 * read (the matrix's 5.10 and 6.1 refused the load when the u32 was read directly). */
struct local_ports___u32 {
	__u32 range;
} __attribute__((preserve_access_index));

struct local_ports___pair {
	int range[2];
} __attribute__((preserve_access_index));

static __always_inline __u32 netns_port_range(const struct sock *sk)
{
	const void *lp = &sk->__sk_common.skc_net.net->ipv4.ip_local_ports;
	const struct local_ports___pair *pair = lp;
	const struct local_ports___u32 *one = lp;
	int r[2] = {};
	__u32 v = 0;

	if (bpf_core_field_exists(one->range)) {
		bpf_core_read(&v, sizeof(v), &one->range);
		return v;
	}
	bpf_core_read(r, sizeof(r), &pair->range);
	return (__u32)r[1] << 16 | ((__u32)r[0] & 0xffff);
}

/* Does this connection count? (its port is held in ports_by_dest) */
static __always_inline bool ports_counted(const struct conn_state *cs)
{
	return cfg_ports && cs->side == SYNFIN_SIDE_CLIENT && !(cs->flags & SYNFIN_F_PARTIAL);
}

/* This CPU's share of the destination's entry; create: make the entry where there is none
 * (every CPU's share starts at 0; where another CPU inserts the same key first, its entry is
 * the one found). */
static __always_inline struct port_dest *port_dest_of(const struct synfin_conn_id *id, bool create)
{
	static const struct port_dest zero;
	struct port_dest_key k;
	struct port_dest *d;

	synfin_port_key(&k, id);
	d = bpf_map_lookup_elem(&ports_by_dest, &k);
	if (d || !create)
		return d;
	bpf_map_update_elem(&ports_by_dest, &k, &zero, BPF_NOEXIST);
	d = bpf_map_lookup_elem(&ports_by_dest, &k);
	if (!d)
		count_drop(SYNFIN_DROP_PORTMAP);
	return d;
}

/* connect(): cs is the new client state (pid and comm filled where known). */
static __always_inline void ports_take(const struct sock *sk, const struct conn_state *cs,
				       __u64 now)
{
	struct synfin_conn_id id = {}; /* fill_id() writes only what the family uses */
	struct port_dest *d;

	if (!ports_counted(cs))
		return;
	fill_id(&id, &sk->__sk_common, 0, skc_netns(&sk->__sk_common));
	d = port_dest_of(&id, true);
	if (!d)
		return;
	d->used++;
	d->last_ns = now;
	d->range = netns_port_range(sk);
	d->pid = cs->pid;
	__builtin_memcpy(d->comm, cs->comm, sizeof(d->comm));
}

/* The port went back to the kernel: id is the connection's (a record's). Nothing where the
 * take found the map full. */
static __always_inline void ports_give_back(const struct synfin_conn_id *id)
{
	struct port_dest *d = port_dest_of(id, false);

	if (d)
		d->used--;
}

#endif
