#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Refused connects: N connects over IPv4 and N over IPv6 to a port nobody listens on, in a
# fresh namespace. The kernel answers each SYN with a RST (sk_err ECONNREFUSED). Checks:
#   - "connect_fail" events == delta TcpAttemptFails == 2N, exactly, all reason "refused";
#   - no "handshake" event in the namespace;
#   - fields: family, addresses, rport = the closed port, lport != 0 (the ephemeral port
#     was chosen before the SYN left), pid = the connecting process, comm tcpdrive,
#     retransmits 0, latency_us a number below 1 s (one round trip on loopback).
source "$(dirname "$0")/lib.sh"
t_setup

N=${N:-100}
P=5003

NS=$(netns_name refused)
netns_create "$NS"
INO=$(netns_inode "$NS")

# Only this namespace: unrelated load elsewhere cannot fill synfin's ring buffer.
synfin_start --netns "/var/run/netns/$NS"

a0=$(counter "$NS" Tcp ActiveOpens)
f0=$(counter "$NS" Tcp AttemptFails)

client_run "$NS" cli4 --port $P --count "$N" --expect-fail
C4=$CLIENT_PID
check_eq "IPv4: every connect failed" 0 "$CLIENT_RC"
check_eq "IPv4: tcpdrive saw ECONNREFUSED $N times" 1 \
	"$(grep -c "^tcpdrive: connect: $N x ECONNREFUSED$" "$T_DIR/cli4.err")"
client_run "$NS" cli6 -6 --port $P --count "$N" --expect-fail
C6=$CLIENT_PID
check_eq "IPv6: every connect failed" 0 "$CLIENT_RC"
check_eq "IPv6: tcpdrive saw ECONNREFUSED $N times" 1 \
	"$(grep -c "^tcpdrive: connect: $N x ECONNREFUSED$" "$T_DIR/cli6.err")"

da=$(($(counter "$NS" Tcp ActiveOpens) - a0))
df=$(($(counter "$NS" Tcp AttemptFails) - f0))
log "kernel deltas: ActiveOpens $da, AttemptFails $df"
check_eq "kernel: delta TcpAttemptFails == 2N (sanity of the setup)" $((2 * N)) "$df"

synfin_stop

CF="[.[] | select(.type == \"connect_fail\" and .netns == $INO)"
check_eq "connect_fail events == delta TcpAttemptFails" "$df" "$(ev_count "$INO" connect_fail)"
check_eq "connect_fail events with reason refused" "$df" \
	"$(ev "$CF | select(.reason == \"refused\")] | length")"
check_eq "handshake events in the namespace" 0 "$(ev_count "$INO" handshake)"
for fam in 4 6; do
	check_eq "connect_fail events, IPv$fam" "$N" \
		"$(ev "$CF | select(.family == $fam)] | length")"
done
check_none "every connect_fail: side client" "$CF | select(.side != \"client\")]"
check_none "every connect_fail: family, addresses, closed port, lport != 0" \
	"$CF | select(((.family == 4 and .laddr == \"127.0.0.1\" and .raddr == \"127.0.0.1\")
		or (.family == 6 and .laddr == \"::1\" and .raddr == \"::1\"))
		and .rport == $P and .lport > 0 | not)]"
check_none "every connect_fail: pid is the connecting process" \
	"$CF | select((.family == 4 and .pid == $C4) or (.family == 6 and .pid == $C6) | not)]"
check_none "every connect_fail: comm tcpdrive" "$CF | select(.comm != \"tcpdrive\")]"
check_none "every connect_fail: retransmits 0" "$CF | select(.retransmits != 0)]"
check_none "every connect_fail: 0 <= latency_us < 1 s" \
	"$CF | select((.latency_us | type) != \"number\" or .latency_us < 0
		or .latency_us >= 1000000)]"

t_done
