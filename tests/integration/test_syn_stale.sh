#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A SYN arrival left behind by an abandoned handshake must not become the start of a later
# connection on the same 4-tuple (issue 12, item 9: behind NAT, tuples come back). The
# kernel drops the abandoned request, but synfin's entry for its SYN stays; a later
# connection that arms no request timer (a SYN cookie) used to take it and report seconds
# of handshake as measured.
#   1. The client's ACKs never reach the server (iptables: only SYNs pass), so the server's
#      request dies (tcp_synack_retries=1) while the client, which got the SYN-ACK,
#      aborts (SO_LINGER 0).
#   2. Seconds later, with SYN cookies forced, the client connects again from the same port.
# Checks: the second server handshake is estimated, not measured, and its latency is well
# under the seconds between the two. Where SYN arrivals live in slots (cmpxchg), the dead
# request's slot was freed at its timer's last cancel: nothing went stale (summary
# events.syn_stale 0), and the slots hold 65536 requests. Elsewhere (the LRU), synfin counts
# one stale entry, and the LRU is sized per CPU (item 15). The same first connect without
# the pause (a re-armed request that does complete) is a positive control: test_ack_drop.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 iptables-legacy ss

P=5031 CPORT=40100
NS=$(netns_name synstale)
netns_create "$NS"
nsx "$NS" sysctl -qw net.ipv4.tcp_synack_retries=1 || die "cannot set tcp_synack_retries"
INO=$(netns_inode "$NS")

connect_from() { # connect_from MODE: abort (SO_LINGER 0 at once) or normal
	nsx "$NS" python3 - "$P" "$CPORT" "$1" <<'EOF'
import socket, struct, sys, time
port, cport, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', cport))
s.connect(('127.0.0.1', port))
if mode == 'abort':
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
else:
    s.sendall(b'x')
    time.sleep(0.2)
s.close()
EOF
}

synfin_start --netns "/var/run/netns/$NS"
# map sizes read from synfin's own map fds: map_type 2 = array, 9 = LRU hash
map_entries() { # map_entries TYPE VALUE_SIZE
	awk -v t0="$1" -v v0="$2" '/^map_type:/ { t = $2 } /^value_size:/ { v = $2 }
		/^max_entries:/ { if (t == t0 && v == v0) print $2 }' /proc/"$SYNFIN_PID"/fdinfo/* 2>/dev/null |
		sort -n | tail -n 1
}
if has_feature cmpxchg; then
	want_stale=0
	check_eq "the SYN slots hold 65536 pending requests" 65536 "$(map_entries 2 16)"
else
	want_stale=1
	# Item 15: the SYN map's LRU lists are per CPU, so it is sized per CPU (32768 each, at
	# most 262144 in all; value 24 bytes).
	ncpu=$(awk -F- '{ print ($2 == "" ? $1 : $2) + 1 }' /sys/devices/system/cpu/possible)
	want=$((ncpu * 32768 > 262144 ? 262144 : ncpu * 32768))
	check_eq "the SYN map holds 32768 SYNs per possible CPU ($ncpu)" "$want" "$(map_entries 9 24)"
fi
server_start "$NS" srv --port $P --count 1
ipt "$NS" -A INPUT -p tcp --dport $P ! --syn -j DROP || die "iptables failed"
connect_from abort || die "first connect failed"
# the request dies at its second SYN-ACK timeout (1 s + 2 s), or at the client's RST
for _ in $(seq 50); do
	[ "$(nsx "$NS" ss -tanH state syn-recv | wc -l)" = 0 ] && break
	sleep 0.1
done
check_eq "kernel: the abandoned request is gone" 0 "$(nsx "$NS" ss -tanH state syn-recv | wc -l)"
sleep 4 # past its timer's expiry and synfin's slack for it
ipt "$NS" -D INPUT -p tcp --dport $P ! --syn -j DROP
nsx "$NS" sysctl -qw net.ipv4.tcp_syncookies=2 || die "cannot set tcp_syncookies"
k0=$(counter "$NS" TcpExt SyncookiesRecv)
connect_from normal || die "second connect failed"
server_wait "$SERVER_PID" srv
dk=$(($(counter "$NS" TcpExt SyncookiesRecv) - k0))
synfin_stop

S="[.[] | select(.type == \"handshake\" and .netns == $INO and .side == \"server\" and .rport == $CPORT)"
check_eq "kernel: the second connection came from a SYN cookie (sanity)" 1 "$dk"
check_eq "one server handshake for port $CPORT" 1 "$(ev "$S] | length")"
check_eq "it is estimated, not measured from the abandoned SYN" true "$(ev "$S][0].estimated")"
check_range "its latency is not the seconds since the abandoned SYN (< 1 s)" 0 999999 \
	"$(ev "$S][0].latency_us")"
check_eq "summary: stale SYN entries" "$want_stale" "$(ev '.[] | select(.type == "summary") | .events.syn_stale')"
t_done
