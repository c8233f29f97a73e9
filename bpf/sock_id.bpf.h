/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Who a socket is: addresses, ports, netns and cgroup, read from sock_common. */
#ifndef SYNFIN_SOCK_ID_BPF_H
#define SYNFIN_SOCK_ID_BPF_H

#include <bpf/bpf_endian.h>
#include "maps.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* Only for sockets the tracepoint hands over (trusted pointers); a view of an object behind
 * a timer takes view_netns() (compat.bpf.h). */
static __always_inline __u32 skc_netns(const struct sock_common *skc)
{
	return skc->skc_net.net->ns.inum;
}

static __always_inline int v6_is_v4mapped(const __u8 *a)
{
	return !(a[0] | a[1] | a[2] | a[3] | a[4] | a[5] | a[6] | a[7] | a[8] | a[9]) &&
	       a[10] == 0xff && a[11] == 0xff;
}

/* Fills id from skc. sport_be: the local port in network order, which the caller takes from
 * inet_sport for full sockets because skc_num is already 0 at X->CLOSE (__inet_put_port()
 * clears it before tcp_set_state(TCP_CLOSE) traces). netns: skc_netns() or view_netns(). */
static __always_inline void fill_id(struct synfin_conn_id *id, const struct sock_common *skc,
				    __u16 sport_be, __u32 netns)
{
	id->lport = bpf_ntohs(sport_be);
	id->rport = bpf_ntohs(skc->skc_dport);
	id->netns = netns;
	if (skc->skc_family == AF_INET6) {
		__builtin_memcpy(id->laddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(id->raddr, &skc->skc_v6_daddr, 16);
		if (v6_is_v4mapped(id->laddr) && v6_is_v4mapped(id->raddr)) {
			__builtin_memcpy(id->laddr, &id->laddr[12], 4);
			__builtin_memcpy(id->raddr, &id->raddr[12], 4);
			__builtin_memset(&id->laddr[4], 0, 12);
			__builtin_memset(&id->raddr[4], 0, 12);
			id->family = 4;
		} else {
			id->family = 6;
		}
	} else {
		__builtin_memcpy(id->laddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(id->raddr, &skc->skc_daddr, 4);
		id->family = 4;
	}
}

/* Family as the user filters it: v4-mapped IPv6 counts as 4. */
static __always_inline __u8 skc_user_family(const struct sock_common *skc)
{
	if (skc->skc_family != AF_INET6)
		return 4;
	if (v6_is_v4mapped((const __u8 *)&skc->skc_v6_daddr))
		return 4;
	return 6;
}

static __always_inline __u16 sk_sport_be(const struct sock *sk)
{
	struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);

	return tp ? tp->inet_conn.icsk_inet.inet_sport : bpf_htons(sk->__sk_common.skc_num);
}

/* A v4 connection on an AF_INET6 socket (dual-stack listener's child, its timewait socket)
 * has v4-mapped addresses and valid v4 fields, while its request is keyed by rsk_ops->family
 * = AF_INET: normalize so all three meet in one key. */
static __always_inline __u16 skc_key_family(const struct sock_common *skc)
{
	if (skc->skc_family == AF_INET6 && v6_is_v4mapped((const __u8 *)&skc->skc_v6_daddr))
		return AF_INET;
	return skc->skc_family;
}

/* family: the caller's view (a request's rsk_ops->family, a child's normalized family). */
static __always_inline void fill_tuple_key(struct tuple_key *k, const struct sock_common *skc,
					   __u16 family, __u32 netns)
{
	__builtin_memset(k, 0, sizeof(*k));
	k->netns = netns;
	k->family = family;
	k->lport = skc->skc_num;
	k->rport = skc->skc_dport;
	if (k->family == AF_INET6) {
		__builtin_memcpy(k->laddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(k->raddr, &skc->skc_v6_daddr, 16);
	} else {
		__builtin_memcpy(k->laddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(k->raddr, &skc->skc_daddr, 4);
	}
}

/* The socket's cgroup id where something reads it: only the cgroup filter (synfin run) does,
 * and its three pointer reads (probe reads: sk_cgroup()) are spared every other socket. 0 =
 * not read. */
static __always_inline __u64 sk_cgroup_id_wanted(const struct sock *sk)
{
	return cfg_cgroup ? sk_cgroup_id(sk) : 0;
}

/* The user's cgroup filter (synfin run): the socket's cgroup, whose id the caller may have
 * read already (0 = not read), is cfg_cgroup or below it. */
static __always_inline bool sk_cgroup_wanted(const struct sock *sk, __u64 cgroup)
{
	return !cfg_cgroup || cgroup == cfg_cgroup || sk_in_cgroup_subtree(sk, cfg_cgroup);
}

/* The user's netns/family filters, checked where synfin starts tracking a socket. */
static __always_inline int skc_wanted(const struct sock_common *skc, __u32 netns)
{
	if (cfg_netns && netns != cfg_netns)
		return 0;
	if (cfg_family && skc_user_family(skc) != cfg_family)
		return 0;
	return 1;
}

#endif
