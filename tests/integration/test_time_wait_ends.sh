#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# How TIME_WAITs end early, one namespace per cause, compared with the kernel:
#   - reused: a client reconnects from the same port after tcp_tw_reuse_delay
#     (net.ipv4.tcp_tw_reuse=1); end "reused" == delta TcpExtTWRecycled (1), and the
#     duration is the 1.2 s the scenario waited (within [1.0, 1.6] s);
#   - killed: `ss -K` destroys a TIME_WAIT: end "killed", duration ~0.2 s;
#   - purged: N TIME_WAITs left when the namespace is deleted: N ends "purged".
# Every ended TIME_WAIT carries the connection's cookie, addresses and pid.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-5}
TD="$T_LIB_DIR/teardown.py"
NR=$(netns_name reuse) NK=$(netns_name kill) NP=$(netns_name purge)
for ns in "$NR" "$NK" "$NP"; do netns_create "$ns"; done
nsx "$NR" sysctl -qw net.ipv4.tcp_tw_reuse=1 || die "cannot set tcp_tw_reuse"
IR=$(netns_inode "$NR") IK=$(netns_inode "$NK") IP=$(netns_inode "$NP")

synfin_start
t0=$(counter "$NR" TcpExt TWRecycled)
nsx "$NR" python3 "$TD" reuse >/dev/null || die "reuse scenario failed"
drec=$(($(counter "$NR" TcpExt TWRecycled) - t0))
nsx "$NK" python3 "$TD" kill >/dev/null || die "kill scenario failed"
nsx "$NP" python3 "$TD" hold "$N" >/dev/null || die "hold scenario failed"
tw_left=$(nsx "$NP" ss -tan state time-wait | tail -n +2 | wc -l)
ip netns delete "$NP"
sleep 1 # cleanup_net runs from a workqueue
synfin_stop

TW='[.[] | select(.type == "time_wait")'
check_eq "kernel: TcpExtTWRecycled (sanity of the setup)" 1 "$drec"
check_eq "reused TIME_WAITs == delta TcpExtTWRecycled" "$drec" \
	"$(ev "$TW | select(.netns == $IR and .end == \"reused\")] | length")"
check_range "reused after the 1.2 s the client waited" 1000000 1600000 \
	"$(ev "$TW | select(.netns == $IR and .end == \"reused\")][0].duration_us")"
check_eq "reused: the TIME_WAIT of client port 40001" 40001 \
	"$(ev "$TW | select(.netns == $IR and .end == \"reused\")][0].lport")"
check_eq "killed TIME_WAITs" 1 "$(ev "$TW | select(.netns == $IK and .end == \"killed\")] | length")"
check_range "killed after ~0.2 s" 150000 800000 \
	"$(ev "$TW | select(.netns == $IK and .end == \"killed\")][0].duration_us")"
check_eq "kernel: TIME-WAIT sockets left for the purge (sanity)" "$N" "$tw_left"
check_eq "purged TIME_WAITs == sockets left in TIME-WAIT" "$tw_left" \
	"$(ev "$TW | select(.netns == $IP and .end == \"purged\")] | length")"
check_eq "no other TIME_WAIT ends in these namespaces" $((drec + 1 + tw_left)) \
	"$(ev "$TW | select(.netns == $IR or .netns == $IK or .netns == $IP)] | length")"
check_none "each TIME_WAIT has the connection's cookie and pid" \
	"$TW | select((.netns == $IR or .netns == $IK or .netns == $IP) and (.cookie == 0 or .comm != \"python3\"))]"
t_done
