#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Who closes first, and how: client-first and server-first FIN closes, and SO_LINGER-0
# aborts, in one fresh namespace. Ground truth: the scenario itself, the kernel's
# TcpEstabResets, and `ss` (sockets in TIME-WAIT once everything closed). Checks:
#   - every connection gives one "close" per side; initiator local on the closing side and
#     remote on the other; how fin, the closer visited FIN_WAIT1 and FIN_WAIT2 and handed
#     over to TIME_WAIT, the other visited CLOSE_WAIT and LAST_ACK;
#   - the number of TIME_WAIT entries (closes with time_wait true) == connections whose
#     side closed first with a FIN; those entries minus the TIME_WAITs that already ended
#     == sockets `ss` lists in TIME-WAIT == synfin's gauge. Some do end: a later scenario's
#     client may get a port whose server-side TIME_WAIT toward port 7000 is still there,
#     and its SYN takes that tuple over (`reused`; 9 of 80 in one run);
#   - linger-0: how rst on both sides, initiator local on the client, no TIME_WAIT, and
#     close events from ESTABLISHED == delta TcpEstabResets;
#   - lifetimes are positive and no duration is negative.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3 ss

N=${N:-40}
NS=$(netns_name close)
netns_create "$NS"
INO=$(netns_inode "$NS")
TD="$T_LIB_DIR/teardown.py"

synfin_start --netns "/var/run/netns/$NS"
r0=$(counter "$NS" Tcp EstabResets)
nsx "$NS" python3 "$TD" client-first "$N" >"$T_DIR/cf.out" || die "client-first scenario failed"
nsx "$NS" python3 "$TD" server-first "$N" >"$T_DIR/sf.out" || die "server-first scenario failed"
nsx "$NS" python3 "$TD" linger0 "$N" >"$T_DIR/l0.out" || die "linger0 scenario failed"
dr=$(($(counter "$NS" Tcp EstabResets) - r0))
tw_ss=$(nsx "$NS" ss -tan state time-wait | tail -n +2 | wc -l)
log "kernel: EstabResets +$dr, ss TIME-WAIT $tw_ss"
synfin_stop

# ports of each scenario's connections (client side)
ports() { awk '{ print $2 }' "$T_DIR/$1.out" | paste -sd, -; }
CF=$(ports cf) SF=$(ports sf) L0=$(ports l0)
C="[.[] | select(.type == \"close\" and .netns == $INO)"
cport='(if .side == "client" then .lport else .rport end)'
in_set() { printf '(%s as $p | [%s] | index($p) != null)' "$cport" "$1"; }

check_eq "close events: 2 per connection" $((6 * N)) "$(ev "$C] | length")"
check_eq "client-first: client closes local/fin via FIN_WAIT1+2 into TIME_WAIT" "$N" \
	"$(ev "$C | select($(in_set "$CF") and .side == \"client\" and .initiator == \"local\" and .how == \"fin\" and .fin_wait1_us > 0 and .last_state == \"FIN_WAIT2\" and .time_wait)] | length")"
check_eq "client-first: server closes remote/fin via CLOSE_WAIT and LAST_ACK" "$N" \
	"$(ev "$C | select($(in_set "$CF") and .side == \"server\" and .initiator == \"remote\" and .how == \"fin\" and .close_wait_us > 0 and .last_state == \"LAST_ACK\" and (.time_wait | not))] | length")"
check_eq "server-first: server closes local/fin into TIME_WAIT" "$N" \
	"$(ev "$C | select($(in_set "$SF") and .side == \"server\" and .initiator == \"local\" and .how == \"fin\" and .time_wait)] | length")"
check_eq "server-first: client closes remote/fin via CLOSE_WAIT" "$N" \
	"$(ev "$C | select($(in_set "$SF") and .side == \"client\" and .initiator == \"remote\" and .close_wait_us > 0 and .last_state == \"LAST_ACK\")] | length")"
check_eq "linger0: client aborts local/rst from ESTABLISHED, no TIME_WAIT" "$N" \
	"$(ev "$C | select($(in_set "$L0") and .side == \"client\" and .initiator == \"local\" and .how == \"rst\" and .last_state == \"ESTABLISHED\" and (.time_wait | not))] | length")"
check_eq "linger0: server is reset remote/rst" "$N" \
	"$(ev "$C | select($(in_set "$L0") and .side == \"server\" and .initiator == \"remote\" and .how == \"rst\" and (.time_wait | not))] | length")"
check_eq "closes from ESTABLISHED/CLOSE_WAIT by RST == delta TcpEstabResets" "$dr" \
	"$(ev "$C | select(.how == \"rst\" and (.last_state == \"ESTABLISHED\" or .last_state == \"CLOSE_WAIT\"))] | length")"
check_eq "TIME_WAIT entries == connections whose side closed first with a FIN" $((2 * N)) \
	"$(ev "$C | select(.time_wait)] | length")"
tw_ended=$(ev '[.[] | select(.type == "time_wait")] | length')
log "TIME_WAITs ended before the end: $tw_ended ($(ev '[.[] | select(.type == "time_wait") | .end] | unique'))"
check_eq "TIME_WAIT entries - ended ones == sockets ss lists in TIME-WAIT" "$tw_ss" \
	"$(($(ev "$C | select(.time_wait)] | length") - tw_ended))"
check_eq "synfin's time_wait gauge == ss" "$tw_ss" "$(ev '[.[] | select(.type == "summary")][0].sockets.time_wait')"
check_none "lifetime_us > 0 and every duration >= 0" \
	"$C | select(.lifetime_us <= 0 or .fin_wait1_us < 0 or .fin_wait2_us < 0 or .close_wait_us < 0 or .last_ack_us < 0)]"
if has_feature server_pid; then
	check_none "every close has the scenario's pid" "$C | select(.pid == null or .comm != \"python3\")]"
else
	check_none "client closes have the scenario's pid" \
		"$C | select(.side == \"client\" and (.pid == null or .comm != \"python3\"))]"
	check_none "server closes: pid null (this kernel cannot tell the owner)" \
		"$C | select(.side == \"server\" and .pid != null)]"
fi
t_done
