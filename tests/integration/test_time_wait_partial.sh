#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# TIME_WAITs that existed before synfin started (issue 12, item 12): synfin finds them at
# start (iter/tcp) and sees how they end, but not how long they lasted, so they must not
# enter the TIME_WAIT duration histograms with the part synfin saw. N TIME-WAIT sockets
# (ss) are made, then synfin starts, then the namespace is deleted:
#   - N "purged" records, each marked partial;
#   - the summary's purged duration histogram has no sample, its partial count is N;
#   - one more TIME_WAIT made after the start ends purged too, and is the one sample there.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-4}
TD="$T_LIB_DIR/teardown.py"
NS=$(netns_name twpartial)
netns_create "$NS"
INO=$(netns_inode "$NS")

nsx "$NS" python3 "$TD" hold "$N" >/dev/null || die "hold scenario failed"
before=$(nsx "$NS" ss -tanH state time-wait | wc -l)
check_eq "kernel: TIME-WAIT sockets before synfin starts" "$N" "$before"
synfin_start --netns "/var/run/netns/$NS"
nsx "$NS" python3 "$TD" hold 1 >/dev/null || die "hold scenario failed"
check_eq "kernel: TIME-WAIT sockets before the purge" $((N + 1)) \
	"$(nsx "$NS" ss -tanH state time-wait | wc -l)"
ip netns delete "$NS"
sleep 1 # cleanup_net runs from a workqueue
synfin_stop

TW="[.[] | select(.type == \"time_wait\" and .netns == $INO)"
check_eq "purged TIME_WAITs == sockets that were in TIME-WAIT" $((N + 1)) \
	"$(ev "$TW | select(.end == \"purged\")] | length")"
check_eq "the ones found at start are marked partial" "$N" "$(ev "$TW | select(.partial)] | length")"
SUM='.[] | select(.type == "summary") | .time_wait'
check_eq "summary: only the TIME_WAIT seen from its start has a duration" 1 \
	"$(ev "$SUM.ended.purged.count")"
check_eq "summary: the ones found at start are counted apart" "$N" "$(ev "$SUM.partial.purged")"
t_done
