#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Injected server delay: the client's final handshake ACK is lost once.
#
# iptables-legacy in a fresh namespace drops, at the server's INPUT, the second packet the
# client sends on each connection when it is a pure ACK (conntrack's per-connection packet
# count, `-m connbytes --connbytes 2:2 --connbytes-dir original`): packet 1 is the SYN,
# packet 2 the handshake's third ACK. The client sends no data and holds the connection for
# 2.5 s, so no later segment (data or FIN, which carry the ACK) completes the handshake
# early. The server's request socket retransmits its SYN-ACK after the initial RTO (1 s);
# the client answers with a duplicate ACK (its packet 3, which passes) and the server's
# connection becomes ESTABLISHED. Measured on this machine: accept() returns 1.012-1.024 s
# after the client's connect() returned.
#
# Tolerance: server latency (SYN arrival -> ESTABLISHED) 0.9 s <= latency <= 1.5 s with
# retransmits 1; the client's handshake is unaffected: latency < 100 ms (loopback, a few
# tens of µs normally), retransmits 0.
# Ground truth: the drop rule matched N times per family, TcpExtTCPSynRetrans grew by 2N.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd iptables-legacy ip6tables-legacy

N=${N:-3}
P=5005
LAT_LO=900000
LAT_HI=1500000
HOLD_MS=2500

NS=$(netns_name ackdrop)
netns_create "$NS"
INO=$(netns_inode "$NS")

DROP=(-p tcp --dport $P --tcp-flags ALL ACK -m connbytes --connbytes 2:2
	--connbytes-dir original --connbytes-mode packets -j DROP)
ipt "$NS" -A INPUT "${DROP[@]}" || die "cannot add the iptables rule"
ip6t "$NS" -A INPUT "${DROP[@]}" || die "cannot add the ip6tables rule"

# Only this namespace: unrelated load elsewhere cannot fill synfin's ring buffer.
synfin_start --netns "/var/run/netns/$NS"
s0=$(counter "$NS" TcpExt TCPSynRetrans)

server_start "$NS" srv4 --port $P --count "$N" --verbose
S4=$SERVER_PID
CLIENT_ARGS=(--port $P --count "$N" --parallel "$N" --no-data --hold-ms $HOLD_MS --verbose)
client_run "$NS" cli4 "${CLIENT_ARGS[@]}"
check_eq "IPv4: all connections succeeded" 0 "$CLIENT_RC"
server_wait "$S4" srv4

server_start "$NS" srv6 -6 --port $P --count "$N" --verbose
S6=$SERVER_PID
client_run "$NS" cli6 -6 "${CLIENT_ARGS[@]}"
check_eq "IPv6: all connections succeeded" 0 "$CLIENT_RC"
server_wait "$S6" srv6

ds=$(($(counter "$NS" TcpExt TCPSynRetrans) - s0))
check_eq "iptables: handshake ACKs dropped (IPv4)" "$N" "$(ipt_packets "$NS" ipt INPUT)"
check_eq "ip6tables: handshake ACKs dropped (IPv6)" "$N" "$(ipt_packets "$NS" ip6t INPUT)"
check_eq "kernel: delta TcpExtTCPSynRetrans (one SYN-ACK retransmit per connection)" \
	$((2 * N)) "$ds"
# accept() time minus connect() return time, per connection, from tcpdrive's clocks
for fam in 4 6; do
	log "IPv$fam accept - connect (us): $(awk '
		$1 == "ok" { n = split($2, a, ":"); sub("mono_us=", "", $4); c[a[n]] = $4 }
		$1 == "accepted" { n = split($3, a, ":"); sub("mono_us=", "", $4); s[a[n]] = $4 }
		END { for (p in c) printf "%d ", s[p] - c[p] }' \
		"$T_DIR/cli$fam.out" "$T_DIR/srv$fam.out")"
done

synfin_stop

HS="[.[] | select(.type == \"handshake\" and .netns == $INO)"
for fam in 4 6; do
	C="$HS | select(.family == $fam and .side == \"client\" and .rport == $P)"
	S="$HS | select(.family == $fam and .side == \"server\" and .lport == $P)"
	check_eq "IPv$fam: client handshakes" "$N" "$(ev "$C] | length")"
	check_eq "IPv$fam: server handshakes" "$N" "$(ev "$S] | length")"
	log "IPv$fam server latency_us/retransmits: $(ev "$S | [.latency_us, .retransmits]]")"
	log "IPv$fam client latency_us/retransmits: $(ev "$C | [.latency_us, .retransmits]]")"
	check_none "IPv$fam server: latency_us in [$LAT_LO, $LAT_HI]" \
		"$S | select(.latency_us < $LAT_LO or .latency_us > $LAT_HI)]"
	check_none "IPv$fam server: retransmits 1" "$S | select(.retransmits != 1)]"
	check_none "IPv$fam client: latency_us in (0, 100000)" \
		"$C | select(.latency_us <= 0 or .latency_us >= 100000)]"
	check_none "IPv$fam client: retransmits 0" "$C | select(.retransmits != 0)]"
	if has_feature server_pid; then
		check_none "IPv$fam server: pid is the listener's owner" \
			"$S | select(.pid != $([ $fam = 4 ] && echo "$S4" || echo "$S6"))]"
	else
		check_none "IPv$fam server: pid null (this kernel cannot tell the owner)" \
			"$S | select(.pid != null)]"
	fi
done
check_eq "connect_fail events in the namespace" 0 "$(ev_count "$INO" connect_fail)"

t_done
