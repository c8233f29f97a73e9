#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# requires: sk_storage
#
# Per-socket state beyond the preallocated hash overflows into SK_STORAGE, exactly.
#
# synfin keeps each tracked socket's state in a preallocated hash (conns_by_sk, 65,536
# sockets) and, past its capacity, in SK_STORAGE (bpf/maps.bpf.h). Here the hash holds 8
# (SYNFIN_CONNS_CAPACITY, a test hook) while 120 connections, 40 in flight and each held
# open 300 ms, keep ~80 sockets tracked at once: most of them live in SK_STORAGE. Checks,
# exactly, against the namespace's own counters: client handshakes == delta TcpActiveOpens,
# server handshakes == delta TcpPassiveOpens, one close per handshake on each side, none of
# them incomplete, nothing untracked (events.untracked: a socket whose state found no room)
# and nothing lost. A state lookup that did not find the overflowed sockets would lose their
# closes; a create that did not overflow would count them untracked.
source "$(dirname "$0")/lib.sh"
t_setup

N=120
PORT=5011
NS=$(netns_name ovf)
netns_create "$NS"
INO=$(netns_inode "$NS")

SYNFIN_CONNS_CAPACITY=8 synfin_start --netns "/var/run/netns/$NS"

a0=$(counter "$NS" Tcp ActiveOpens)
p0=$(counter "$NS" Tcp PassiveOpens)

server_start "$NS" srv --port $PORT --count "$N"
S=$SERVER_PID
client_run "$NS" cli --port $PORT --count "$N" --parallel 40 --hold-ms 300
check_eq "client: all $N connections succeeded" 0 "$CLIENT_RC"
server_wait "$S" srv
# every socket closed (TIME_WAIT is a timewait socket, not a tracked one)
sleep 0.5

da=$(($(counter "$NS" Tcp ActiveOpens) - a0))
dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
log "kernel deltas: ActiveOpens $da, PassiveOpens $dp"
check_eq "the kernel saw $N active opens" "$N" "$da"

synfin_stop
sum() { jq -r "select(.type == \"summary\") | $1" "$SYNFIN_OUT" | head -n 1; }
check_eq "client handshakes == delta TcpActiveOpens" "$da" "$(ev_count "$INO" handshake client)"
check_eq "server handshakes == delta TcpPassiveOpens" "$dp" "$(ev_count "$INO" handshake server)"
check_eq "client closes == client handshakes" "$da" "$(ev_count "$INO" close client)"
check_eq "server closes == server handshakes" "$dp" "$(ev_count "$INO" close server)"
check_eq "closes recorded at destruction (incomplete)" 0 "$(sum .closes.incomplete)"
check_eq "sockets untracked for want of room" 0 "$(sum .events.untracked)"
check_eq "sockets tracked now (established gauge)" 0 "$(sum .sockets.established)"
t_done
