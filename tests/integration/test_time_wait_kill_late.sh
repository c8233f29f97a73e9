#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Long (~61 s): a TIME_WAIT killed after its requested expiry, but before the timer wheel
# fires it, was killed, not expired. A 60 s timer sits in a level-3 bucket of the wheel,
# whose granule is 512 jiffies (2.048 s at HZ=250): the bucket fires up to that much after
# the requested expiry. synfin once called every early end past the requested expiry an
# expiry (issue 12, item 13); it now compares with the bucket's expiry, which timer_start
# gives since dbcdcb62b59d (6.8; `synfin check`: time_wait_fire_time).
# Checks, with the kill's own answer as ground truth (SOCK_DESTROY found and destroyed the
# timewait socket 30 ms after its requested expiry: teardown.py kill-late):
#   - exactly one TIME_WAIT of that port, ended "killed";
#   - its duration within the bounds teardown.py measured around the close and the kill.
# requires: time_wait time_wait_fire_time
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

NS=$(netns_name killlate)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
nsx "$NS" python3 "$T_LIB_DIR/teardown.py" kill-late >"$T_DIR/late.out" ||
	die "kill-late scenario failed: $(cat "$T_DIR/late.out")"
synfin_stop
log "$(grep late_kill "$T_DIR/late.out")"
# the lower bound less 10 ms: the FINs' delivery on loopback can trail the close() calls
read -r port lo hi < <(awk '$1 == "late_kill" { print $2, $3 - 10000, $4 + 1000 }' "$T_DIR/late.out")
[ -n "${port:-}" ] || die "the wheel fired both TIME_WAITs within 30 ms of their requested expiry: $(cat "$T_DIR/late.out")"

TW="[.[] | select(.type == \"time_wait\" and .netns == $INO and .lport == $port)"
check_eq "one TIME_WAIT of port $port" 1 "$(ev "$TW] | length")"
check_eq "it ended killed, not expired" '"killed"' "$(ev "$TW][0].end")"
check_range "its duration between the FINs and the end of the kill" "$lo" "$hi" \
	"$(ev "$TW][0].duration_us")"
t_done
