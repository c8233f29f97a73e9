#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Resets, each made one known way in a fresh namespace (tests/integration/resets.py): a RST
# from no socket (connect to a closed port), SO_LINGER 0, close() with unread data, data
# after shutdown(), data after close() (a timewait socket answers). Ground truth: the
# namespace's counters (TcpOutRsts, TcpExtTCPAbortOnClose, TcpExtTCPAbortOnData).
#   - every reset sent on loopback reaches a socket: received == delta TcpOutRsts;
#   - sent == delta TcpOutRsts where the kernel traces every reset (rst_every_socket), else
#     short by exactly the two sent without a full socket, and none counted with one;
#   - data after shutdown() is a reset sent (tcp_abort_on_data), not one received: the
#     kernel runs tcp_reset() on the socket first; sent tcp_abort_on_data == delta
#     TcpExtTCPAbortOnData - the SO_LINGER 0 close (which the kernel counts there too);
#   - where the kernel gives its reason (rst_reason): tcp_abort_on_close == delta
#     TcpExtTCPAbortOnClose, and the no-socket and timewait replies are named;
#   - each connection's close record says who reset it and why.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3

NS=$(netns_name resets)
netns_create "$NS"
INO=$(netns_inode "$NS")
synfin_start --netns "/var/run/netns/$NS"

o0=$(counter "$NS" Tcp OutRsts)
c0=$(counter "$NS" TcpExt TCPAbortOnClose)
d0=$(counter "$NS" TcpExt TCPAbortOnData)
ip netns exec "$NS" python3 "$(dirname "$0")/resets.py" >"$T_DIR/cases.txt" 2>"$T_DIR/cases.err" ||
	die "resets.py failed: $(cat "$T_DIR/cases.err")"
sleep 0.2 # the last RST is taken in softirq after resets.py saw its socket close
DO=$(($(counter "$NS" Tcp OutRsts) - o0))
DC=$(($(counter "$NS" TcpExt TCPAbortOnClose) - c0))
DD=$(($(counter "$NS" TcpExt TCPAbortOnData) - d0))
log "kernel deltas: OutRsts $DO, TCPAbortOnClose $DC, TCPAbortOnData $DD"
check_eq "kernel: 5 resets sent (sanity of the setup)" 5 "$DO"
check_eq "kernel: 1 close with unread data" 1 "$DC"
check_eq "kernel: SO_LINGER 0 and data after shutdown() in TCPAbortOnData" 2 "$DD"
synfin_stop

port() { awk -v c="$1" '$1 == "case" && $2 == c { print $3 }' "$T_DIR/cases.txt"; }
R='.[] | select(.type == "summary") | .resets'
by() { # by DIRECTION REASON [STATE]: the summary's count
	ev "[$R | .by[] | select(.direction == \"$1\" and .reason == \"$2\"
		and (\"${3:-}\" == \"\" or .state == \"${3:-}\")) | .count] | add // 0"
}
check_eq "received == delta TcpOutRsts (every reset reached a socket)" "$DO" \
	"$(ev "[$R | .received] | add")"
if has_feature rst_every_socket; then
	check_eq "sent == delta TcpOutRsts" "$DO" "$(ev "[$R | .sent] | add")"
else
	log "this kernel traces resets of full sockets only (synfin check: rst_every_socket)"
	check_eq "sent == delta TcpOutRsts - the 2 without a full socket" $((DO - 2)) \
		"$(ev "[$R | .sent] | add")"
	check_eq "no reset counted without a full socket" 0 \
		"$(ev "[$R | .by[] | select(.state == \"none\" or .state == \"TIME_WAIT\")] | length")"
fi
check_eq "no reset counted as received in FIN_WAIT (data after shutdown is sent)" 0 \
	"$(ev "[$R | .by[] | select(.direction == \"received\" and (.state | test(\"FIN_WAIT\")))] | length")"
check_eq "sent tcp_abort_on_data == delta TCPAbortOnData - the SO_LINGER 0 close" $((DD - 1)) \
	"$(by sent tcp_abort_on_data)"
check_eq "received: one in SYN_SENT (the refused connect)" 1 "$(by received peer SYN_SENT)"
check_eq "received: two in CLOSE_WAIT (data after shutdown and after close)" 2 \
	"$(by received peer CLOSE_WAIT)"
if has_feature rst_reason; then
	check_eq "sent tcp_abort_on_close == delta TCPAbortOnClose" "$DC" \
		"$(by sent tcp_abort_on_close)"
	check_eq "sent no_socket, without a socket" 1 "$(by sent no_socket none)"
	check_eq "sent tcp_timewait_socket, from the TIME_WAIT" 1 \
		"$(by sent tcp_timewait_socket TIME_WAIT)"
	ABORT_ON_CLOSE=tcp_abort_on_close
else
	log "this kernel gives no reason (synfin check: rst_reason): active or reply instead"
	check_eq "sent active: SO_LINGER 0 and unread data" 2 "$(by sent active)"
	ABORT_ON_CLOSE=active
fi

# The close records, by connection.
close_of() { # close_of SIDE CLIENT_PORT: "initiator how rst_direction rst_reason"
	local f=.lport
	[ "$1" = server ] && f=.rport
	ev "[.[] | select(.type == \"close\" and .netns == $INO and .side == \"$1\" and $f == $2)
		| \"\(.initiator) \(.how) \(.rst_direction) \(.rst_reason)\"] | join(\",\")"
}
L=$(port linger0) U=$(port unread) S=$(port after-shutdown) C=$(port after-close)
LINGER_REASON=$(close_of client "$L" | awk '{ print $4 }' | tr -d '"')
check_true "SO_LINGER 0: the client's close says it sent a reset, with a reason" \
	test -n "$LINGER_REASON" -a "$LINGER_REASON" != null
check_eq "SO_LINGER 0: the client's close" "\"local rst sent $LINGER_REASON\"" "$(close_of client "$L")"
check_eq "SO_LINGER 0: the server's close" '"remote rst received peer"' "$(close_of server "$L")"
check_eq "unread data: the server's close" "\"local rst sent $ABORT_ON_CLOSE\"" "$(close_of server "$U")"
check_eq "unread data: the client's close" '"remote rst received peer"' "$(close_of client "$U")"
check_eq "data after shutdown: the client's close" '"remote fin received peer"' \
	"$(close_of client "$S")"
check_eq "data after close: the client's close" '"remote fin received peer"' \
	"$(close_of client "$C")"
check_eq "the refused connect" '["refused"]' \
	"$(ev "[.[] | select(.type == \"connect_fail\" and .netns == $INO) | .reason]")"

t_done
