#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A server that forgets to close(): the peer closes, the server holds the socket in
# CLOSE_WAIT for HOLD seconds (known, injected by the scenario). Checks:
#   - the server's close reports close_wait_us within [HOLD, HOLD + 0.3 s] (the scenario
#     sleeps HOLD s between the peer's FIN and its own close(): python's sleep overshoots
#     by a few ms, never undershoots);
#   - synfin watch --close-wait-warn 1 printed exactly one close_wait_warning for it, with
#     age >= 1 s, the server's pid and the right ports;
#   - after the close, the close_wait gauge is back to 0.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3

HOLD=${HOLD:-2.5}
NS=$(netns_name cw)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS" --close-wait-warn 1
# not nsx: a function would background a subshell, and its pid is not the server's
ip netns exec "$NS" python3 "$T_LIB_DIR/teardown.py" close-wait "$HOLD" >"$T_DIR/cw.out" &
PY=$!
track_pid "$PY"
wait_pid "$PY" 30 || die "close-wait scenario failed"
CPORT=$(awk '{ print $2 }' "$T_DIR/cw.out")
synfin_stop

lo=$(awk -v h="$HOLD" 'BEGIN { print int(h * 1000000) }')
hi=$(awk -v h="$HOLD" 'BEGIN { print int(h * 1000000) + 300000 }')
S="[.[] | select(.type == \"close\" and .netns == $INO and .side == \"server\" and .rport == $CPORT)]"
check_eq "one server close for the connection" 1 "$(ev "$S | length")"
check_range "server close_wait_us within [HOLD, HOLD + 0.3 s]" "$lo" "$hi" "$(ev "$S[0].close_wait_us")"
check_eq "server close: initiator remote, how fin" '"remote/fin"' "$(ev "$S[0] | .initiator + \"/\" + .how")"
W="[.[] | select(.type == \"close_wait_warning\" and .netns == $INO)]"
check_eq "one close_wait_warning" 1 "$(ev "$W | length")"
check_range "warning age_us >= 1 s (and before the close)" 1000000 "$lo" "$(ev "$W[0].age_us")"
if has_feature server_pid; then
	check_eq "warning names the server process" "$PY" "$(ev "$W[0].pid")"
else
	check_eq "warning's pid is null (this kernel cannot tell the owner)" null "$(ev "$W[0].pid")"
fi
check_eq "warning has the peer's port" "$CPORT" "$(ev "$W[0].rport")"
check_eq "warning has the server's port" 7000 "$(ev "$W[0].lport")"
check_eq "warning: side server" '"server"' "$(ev "$W[0].side")"
check_eq "close_wait gauge after the close" 0 "$(ev '[.[] | select(.type == "summary")][0].sockets.close_wait')"
t_done
