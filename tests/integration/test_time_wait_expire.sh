#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Long (~65 s): TIME_WAITs that run out. The kernel's TIME_WAIT is TCP_TIMEWAIT_LEN = 60 s
# (include/net/tcp.h), and the timer wheel adds up to one level-3 granule at HZ=250
# (512 jiffies = 2.048 s: kernel/time/timer.c, LVL_GRAN(3); docs/kernel-notes.md, "TIME_WAIT").
# Checks:
#   - N TIME_WAITs end "expired" == delta TcpExtTW (which the kernel counts when each is
#     armed, __inet_twsk_schedule(): here every one of them expires);
#   - each duration in [60.0, 62.1] s;
#   - afterwards ss lists no TIME-WAIT and synfin's gauge says 0.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-5}
NS=$(netns_name expire)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
tw0=$(counter "$NS" TcpExt TW)
nsx "$NS" python3 "$T_LIB_DIR/teardown.py" hold "$N" >/dev/null || die "hold scenario failed"
check_eq "kernel: TIME-WAIT sockets after the closes (sanity)" "$N" \
	"$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)"
for i in $(seq 70); do
	[ "$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)" -eq 0 ] && break
	sleep 1
done
dtw=$(($(counter "$NS" TcpExt TW) - tw0))
left=$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)
synfin_stop

TW="[.[] | select(.type == \"time_wait\" and .netns == $INO)"
check_eq "kernel: delta TcpExtTW (sanity)" "$N" "$dtw"
check_eq "expired TIME_WAITs == delta TcpExtTW" "$dtw" "$(ev "$TW | select(.end == \"expired\")] | length")"
check_none "every duration within [60.0, 62.1] s" \
	"$TW | select(.duration_us < 60000000 or .duration_us > 62100000)]"
log "durations (us): $(ev "$TW | .duration_us]")"
check_eq "ss: TIME-WAIT left" 0 "$left"
check_eq "synfin's time_wait gauge" 0 "$(ev '[.[] | select(.type == "summary")][0].sockets.time_wait')"
t_done
