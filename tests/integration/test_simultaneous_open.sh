#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Simultaneous open (issue 12, item 16): a socket connected to its own address and port
# sends a SYN, receives it, and goes SYN_SENT -> SYN_RECV -> ESTABLISHED, a path no
# listener is on. It is a client (it called connect()) and must be counted as one, and
# the live gauges must come back to where they were. Before, its SYN_SENT was never
# taken off the gauge, and its ESTABLISHED was taken for an accepted child's.
# N self-connects, each from its own port, each sending a byte to itself and closing:
#   - client handshakes == delta TcpActiveOpens == N; server handshakes == delta
#     TcpPassiveOpens == 0;
#   - N close records, one per port;
#   - afterwards no socket is counted in SYN_SENT, SYN_RECV or ESTABLISHED (ss agrees).
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-5}
NS=$(netns_name simopen)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
a0=$(counter "$NS" Tcp ActiveOpens) p0=$(counter "$NS" Tcp PassiveOpens)
nsx "$NS" python3 - "$N" <<'EOF' || die "self-connects failed"
import socket, sys
for i in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(('127.0.0.1', 40300 + i))
    s.connect(('127.0.0.1', 40300 + i))
    s.sendall(b'x')
    assert s.recv(1) == b'x'
    s.close()
EOF
da=$(($(counter "$NS" Tcp ActiveOpens) - a0)) dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
left=$(nsx "$NS" ss -tanH state syn-sent state syn-recv state established | wc -l)
synfin_stop

H="[.[] | select(.type == \"handshake\" and .netns == $INO)"
check_eq "kernel: N active opens (sanity)" "$N" "$da"
check_eq "kernel: no passive open (sanity)" 0 "$dp"
check_eq "client handshakes == delta TcpActiveOpens" "$da" "$(ev "$H | select(.side == \"client\")] | length")"
check_eq "server handshakes == delta TcpPassiveOpens" "$dp" "$(ev "$H | select(.side == \"server\")] | length")"
check_eq "one close per self-connected socket" "$N" \
	"$(ev "[.[] | select(.type == \"close\" and .netns == $INO)] | map(.lport) | unique | length")"
check_eq "kernel: no socket left connecting or established (sanity)" 0 "$left"
SOCK='.[] | select(.type == "summary") | .sockets'
check_eq "summary: no socket in SYN_SENT" 0 "$(ev "$SOCK.syn_sent")"
check_eq "summary: no socket in SYN_RECV" 0 "$(ev "$SOCK.syn_recv // 0")"
check_eq "summary: no socket in ESTABLISHED" 0 "$(ev "$SOCK.established")"
t_done
