#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# How TIME_WAITs end early, compared with the kernel:
#   - reused: a client reconnects from the same port after tcp_tw_reuse_delay
#     (net.ipv4.tcp_tw_reuse=1); end "reused" == delta TcpExtTWRecycled (1), and the
#     duration is the 1.2 s the scenario waited (within [1.0, 1.6] s);
#   - killed: `ss -K` destroys a TIME_WAIT: end "killed", its duration within the times
#     teardown.py measured around the close that began it and the ss -K that ended it;
#   - purged: N TIME_WAITs left when the namespace is deleted: N ends "purged".
# Every ended TIME_WAIT carries the connection's cookie, addresses and pid.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-5}
TD="$T_LIB_DIR/teardown.py"
# One namespace, watched alone (the filter runs in the kernel, so other load on the host
# cannot crowd these events out); the causes are told apart by client port.
NS=$(netns_name ends)
netns_create "$NS"
nsx "$NS" sysctl -qw net.ipv4.tcp_tw_reuse=1 || die "cannot set tcp_tw_reuse"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
t0=$(counter "$NS" TcpExt TWRecycled)
nsx "$NS" python3 "$TD" reuse >/dev/null || die "reuse scenario failed"
drec=$(($(counter "$NS" TcpExt TWRecycled) - t0))
nsx "$NS" python3 "$TD" kill >"$T_DIR/kill.out" || die "kill scenario failed"
read -r kill_lo kill_hi < <(awk '$1 == "kill_window_us" { print $2 - 1000, $3 + 1000 }' "$T_DIR/kill.out")
# ss -K kills a TIME_WAIT only where tcp_abort() handles timewait sockets (not on 5.10):
# the kernel's own listing says whether this one is gone.
killed=$(nsx "$NS" ss -tanH state time-wait sport = :40002 | wc -l)
killed=$((killed == 0 ? 1 : 0))
log "ss -K killed the TIME_WAIT of port 40002: $killed"
nsx "$NS" python3 "$TD" hold "$N" >/dev/null || die "hold scenario failed"
# the reused connection's own TIME_WAIT (port 40001) is still there too
tw_left=$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)
ip netns delete "$NS"
sleep 1 # cleanup_net runs from a workqueue
synfin_stop

TW="[.[] | select(.type == \"time_wait\" and .netns == $INO)"
check_eq "kernel: TcpExtTWRecycled (sanity of the setup)" 1 "$drec"
check_eq "reused TIME_WAITs == delta TcpExtTWRecycled" "$drec" \
	"$(ev "$TW | select(.end == \"reused\")] | length")"
check_range "reused after the 1.2 s the client waited" 1000000 1600000 \
	"$(ev "$TW | select(.end == \"reused\")][0].duration_us")"
check_eq "reused: the TIME_WAIT of client port 40001" 40001 \
	"$(ev "$TW | select(.end == \"reused\")][0].lport")"
check_eq "killed TIME_WAITs == those ss -K removed" "$killed" \
	"$(ev "$TW | select(.end == \"killed\")] | length")"
if [ "$killed" = 1 ]; then
	check_eq "killed: the TIME_WAIT of client port 40002" 40002 \
		"$(ev "$TW | select(.end == \"killed\")][0].lport")"
	check_range "killed: duration between c.close() and the end of ss -K (±1 ms)" \
		"$kill_lo" "$kill_hi" "$(ev "$TW | select(.end == \"killed\")][0].duration_us")"
fi
check_eq "kernel: TIME-WAIT sockets left for the purge (sanity: N + the reused port's + an unkilled one)" \
	$((N + 1 + 1 - killed)) "$tw_left"
check_eq "purged TIME_WAITs == sockets left in TIME-WAIT" "$tw_left" \
	"$(ev "$TW | select(.end == \"purged\")] | length")"
check_eq "no other TIME_WAIT ends" $((drec + killed + tw_left)) "$(ev "$TW] | length")"
check_none "each TIME_WAIT has the connection's pid" "$TW | select(.comm != \"python3\")]"
if has_feature socket_cookie; then
	check_none "each TIME_WAIT has the connection's cookie" "$TW | select(.cookie == null or .cookie == 0)]"
else
	check_none "each TIME_WAIT's cookie is null (no cookies in tracing programs here)" \
		"$TW | select(.cookie != null)]"
fi
t_done
