#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A TIME_WAIT killed right after the same thread connected elsewhere is killed, not reused
# (issue 12, item 7). synfin calls a TIME_WAIT "reused" when it is cancelled inside a
# connect() (__inet_check_established runs in the connecting task); it recognised that
# connect() by CPU, thread and a 10 ms window only, so any cancel the same thread caused
# within 10 ms (here a SOCK_DESTROY, as `ss -K` sends; a RST processed in that thread's
# softirq is the same) was taken for a reuse. The connect()'s destination must be the
# TIME_WAIT's too.
#   - teardown.py kill-after-connect: a client TIME_WAIT on port 40003, then in one thread
#     a connect() from another port and the kill;
#   - checks: TcpExtTWRecycled did not move; the TIME_WAIT of port 40003 ended "killed"
#     where the kernel destroyed it (tcp_abort() handles timewait sockets; not on 5.10),
#     and is never called "reused".
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

TD="$T_LIB_DIR/teardown.py"
NS=$(netns_name killconn)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
r0=$(counter "$NS" TcpExt TWRecycled)
nsx "$NS" python3 "$TD" kill-after-connect >"$T_DIR/kac.out" || die "scenario failed"
drec=$(($(counter "$NS" TcpExt TWRecycled) - r0))
err=$(awk '$1 == "destroy_errno" { print $2 }' "$T_DIR/kac.out")
left=$(nsx "$NS" ss -tanH state time-wait sport = :40003 | wc -l)
sleep 0.3 # past the grace period in which a cancel may still turn out a re-arm
synfin_stop

TW="[.[] | select(.type == \"time_wait\" and .netns == $INO and .lport == 40003)"
check_eq "kernel: no TIME_WAIT was reused (sanity)" 0 "$drec"
check_eq "never called reused" 0 "$(ev "$TW | select(.end == \"reused\")] | length")"
if [ "$err" = 0 ] && [ "$left" = 0 ]; then
	check_eq "the TIME_WAIT the kernel destroyed ended killed" 1 \
		"$(ev "$TW | select(.end == \"killed\")] | length")"
else
	log "this kernel did not destroy the TIME_WAIT (errno $err, $left left): no end to check"
	check_eq "no end for the TIME_WAIT still alive" 0 "$(ev "$TW] | length")"
fi
t_done
