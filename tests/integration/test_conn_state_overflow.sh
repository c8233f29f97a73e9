#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# requires: sk_storage
#
# Per-socket state overflows from tier to tier, exactly: slots, then the hash, then SK_STORAGE.
#
# synfin keeps each tracked socket's state in slots (conn_slots, sets of 2 chosen by the
# socket's address, where the kernel has BPF_CMPXCHG), past a full set in a preallocated hash
# (conns_by_sk) and past its capacity in SK_STORAGE (bpf/maps.bpf.h). Here the slots hold 4
# (SYNFIN_CONN_SLOTS) and the hash 8 (SYNFIN_CONNS_CAPACITY, test hooks) while 120
# connections, 40 in flight and each held open 300 ms, keep ~80 sockets tracked at once:
# most of them live in SK_STORAGE, and every tier takes some. A second round runs without
# the slots (SYNFIN_DISABLE_FEATURES=cmpxchg: the hash first, as on kernels before 5.12).
# Checks, exactly, against the namespace's own counters: client handshakes == delta
# TcpActiveOpens, server handshakes == delta TcpPassiveOpens, one close per handshake on
# each side, none of them incomplete, nothing untracked (events.untracked: a socket whose
# state found no room) and nothing lost. A lookup that did not find a tier's sockets would
# lose their closes; a create that did not overflow would count them untracked.
source "$(dirname "$0")/lib.sh"
t_setup

N=120
NS=$(netns_name ovf)
netns_create "$NS"
INO=$(netns_inode "$NS")

# $1: round name, $2: port; the rest: environment for synfin
round() {
	local name=$1 port=$2 a0 p0 da dp
	shift 2
	log "round: $name"
	SYNFIN_WRAP=(env "$@")
	synfin_start --netns "/var/run/netns/$NS"
	a0=$(counter "$NS" Tcp ActiveOpens)
	p0=$(counter "$NS" Tcp PassiveOpens)
	server_start "$NS" "srv-$name" --port "$port" --count "$N"
	S=$SERVER_PID
	client_run "$NS" "cli-$name" --port "$port" --count "$N" --parallel 40 --hold-ms 300
	check_eq "$name: client: all $N connections succeeded" 0 "$CLIENT_RC"
	server_wait "$S" "srv-$name"
	# every socket closed (TIME_WAIT is a timewait socket, not a tracked one)
	sleep 0.5
	da=$(($(counter "$NS" Tcp ActiveOpens) - a0))
	dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
	log "kernel deltas: ActiveOpens $da, PassiveOpens $dp"
	check_eq "$name: the kernel saw $N active opens" "$N" "$da"
	synfin_stop
	check_eq "$name: client handshakes == delta TcpActiveOpens" "$da" "$(ev_count "$INO" handshake client)"
	check_eq "$name: server handshakes == delta TcpPassiveOpens" "$dp" "$(ev_count "$INO" handshake server)"
	check_eq "$name: client closes == client handshakes" "$da" "$(ev_count "$INO" close client)"
	check_eq "$name: server closes == server handshakes" "$dp" "$(ev_count "$INO" close server)"
	check_eq "$name: closes recorded at destruction (incomplete)" 0 "$(sum .closes.incomplete)"
	check_eq "$name: sockets untracked for want of room" 0 "$(sum .events.untracked)"
	check_eq "$name: events lost" 0 "$(sum .events.lost)"
	check_eq "$name: sockets tracked now (established gauge)" 0 "$(sum .sockets.established)"
}
sum() { jq -r "select(.type == \"summary\") | $1" "$SYNFIN_OUT" | head -n 1; }

if has_feature cmpxchg; then
	round slots 5011 SYNFIN_CONN_SLOTS=4 SYNFIN_CONNS_CAPACITY=8
else
	log "no BPF_CMPXCHG here: the slots round is the 'no slots' round below"
fi
round no-slots 5012 SYNFIN_DISABLE_FEATURES=cmpxchg SYNFIN_CONNS_CAPACITY=8
t_done
