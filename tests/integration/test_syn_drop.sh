#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Injected client delay: the first SYN of each connection is lost.
#
# iptables-legacy in a fresh namespace drops every other SYN to the server port at INPUT
# (the server's ingress), and the connects are strictly sequential, so each connection's
# first SYN is dropped and its retransmission passes. An ingress drop matters: an egress
# drop takes the local-congestion path and retries after 500 ms (net/ipv4/tcp_timer.c:
# tcp_retransmit_timer(), TCP_RESOURCE_PROBE_INTERVAL).
#
# The client retransmits its SYN after the initial RTO, TCP_TIMEOUT_INIT = 1 s
# (tcp_syn_linear_timeouts keeps the first retransmits at 1 s in 6.18). Measured on this
# machine: connect() returns 1.010-1.024 s after it was called (the timer wheel adds up to
# ~25 ms at HZ=250). Tolerance: 0.9 s <= client latency <= 1.5 s, generous on the high
# side for a loaded CI machine, and still far from 0 (no drop) or 3 s (two drops).
#
# Checks, per family (N connections each, IPv4 and IPv6):
#   - client handshakes: N, latency 0.9-1.5 s, retransmits 1;
#   - server handshakes: N, latency < 100 ms, retransmits 0 (the server never saw the
#     dropped SYN, so its handshake is an ordinary loopback one);
#   - the drop rule matched N times and TcpRetransSegs grew by exactly 2N (ground truth).
# TCP_SYNCNT 2 bounds a connect whose SYNs would all be lost to ~7 s instead of ~134 s.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd iptables-legacy ip6tables-legacy

N=${N:-3}
P=5004
LAT_LO=900000
LAT_HI=1500000

NS=$(netns_name syndrop)
netns_create "$NS"
INO=$(netns_inode "$NS")

DROP=(-p tcp --syn --dport $P -m statistic --mode nth --every 2 --packet 0 -j DROP)
ipt "$NS" -A INPUT "${DROP[@]}" || die "cannot add the iptables rule"
ip6t "$NS" -A INPUT "${DROP[@]}" || die "cannot add the ip6tables rule"

# Only this namespace: unrelated load elsewhere cannot fill synfin's ring buffer.
synfin_start --netns "/var/run/netns/$NS"
r0=$(counter "$NS" Tcp RetransSegs)

server_start "$NS" srv4 --port $P --count "$N"
S4=$SERVER_PID
client_run "$NS" cli4 --port $P --count "$N" --syn-retries 2 --verbose
check_eq "IPv4: all connections succeeded" 0 "$CLIENT_RC"
server_wait "$S4" srv4

server_start "$NS" srv6 -6 --port $P --count "$N"
S6=$SERVER_PID
client_run "$NS" cli6 -6 --port $P --count "$N" --syn-retries 2 --verbose
check_eq "IPv6: all connections succeeded" 0 "$CLIENT_RC"
server_wait "$S6" srv6

dr=$(($(counter "$NS" Tcp RetransSegs) - r0))
check_eq "iptables: first SYNs dropped (IPv4)" "$N" "$(ipt_packets "$NS" ipt INPUT)"
check_eq "ip6tables: first SYNs dropped (IPv6)" "$N" "$(ipt_packets "$NS" ip6t INPUT)"
check_eq "kernel: delta TcpRetransSegs (one SYN retransmit per connection)" $((2 * N)) "$dr"
log "tcpdrive connect times (us): $(grep -ho 'connect_us=[0-9]*' "$T_DIR"/cli[46].out |
	cut -d= -f2 | paste -sd ' ')"

synfin_stop

HS="[.[] | select(.type == \"handshake\" and .netns == $INO and .lport != 0)"
for fam in 4 6; do
	C="$HS | select(.family == $fam and .side == \"client\" and .rport == $P)"
	S="$HS | select(.family == $fam and .side == \"server\" and .lport == $P)"
	check_eq "IPv$fam: client handshakes" "$N" "$(ev "$C] | length")"
	check_eq "IPv$fam: server handshakes" "$N" "$(ev "$S] | length")"
	log "IPv$fam client latency_us/retransmits: $(ev "$C | [.latency_us, .retransmits]]")"
	log "IPv$fam server latency_us/retransmits: $(ev "$S | [.latency_us, .retransmits]]")"
	check_none "IPv$fam client: latency_us in [$LAT_LO, $LAT_HI]" \
		"$C | select(.latency_us < $LAT_LO or .latency_us > $LAT_HI)]"
	check_none "IPv$fam client: retransmits 1" "$C | select(.retransmits != 1)]"
	check_none "IPv$fam server: latency_us in (0, 100000)" \
		"$S | select(.latency_us <= 0 or .latency_us >= 100000)]"
	check_none "IPv$fam server: retransmits 0" "$S | select(.retransmits != 0)]"
done
check_eq "connect_fail events in the namespace" 0 "$(ev_count "$INO" connect_fail)"

t_done
