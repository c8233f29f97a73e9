#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# --netns filter: traffic runs in two fresh namespaces A and B at the same time as synfin
# watches only one of them. Run 1 names A as /var/run/netns/A, run 2 names B as
# /proc/PID/ns/net of a process inside B. In each run, for the watched namespace W:
#   - every event that carries a netns is W's (nothing from the other namespace, nor from
#     the root namespace or anything else on the machine);
#   - client handshakes == delta ActiveOpens - delta AttemptFails of W, server handshakes
#     == delta PassiveOpens of W, connect_fail == delta AttemptFails of W: exactly.
# Each namespace gets NA/NB successful connections and a few refused ones, so both event
# types are filtered.
source "$(dirname "$0")/lib.sh"
t_setup

NA=${NA:-50}
NB=${NB:-70}
NREF=10
P=5006
PREF=5007

A=$(netns_name a)
B=$(netns_name b)
netns_create "$A"
netns_create "$B"
INO_A=$(netns_inode "$A")
INO_B=$(netns_inode "$B")
log "namespace A $A inode $INO_A, B $B inode $INO_B"

# one_run WATCHED_NS WATCHED_INO OTHER_INO NETNS_ARG: synfin watches one namespace while
# both get traffic at the same time.
one_run() {
	local w=$1 wino=$2 oino=$3 arg=$4 a0 p0 f0 da dp df sa sb ca cb ra rb

	synfin_start --netns "$arg"
	a0=$(counter "$w" Tcp ActiveOpens)
	p0=$(counter "$w" Tcp PassiveOpens)
	f0=$(counter "$w" Tcp AttemptFails)

	server_start "$A" srv-a --port $P --count "$NA"
	sa=$SERVER_PID
	server_start "$B" srv-b --port $P --count "$NB"
	sb=$SERVER_PID
	client_start "$A" cli-a --port $P --count "$NA" --parallel 4
	ca=$CLIENT_PID
	client_start "$B" cli-b --port $P --count "$NB" --parallel 4
	cb=$CLIENT_PID
	client_start "$A" ref-a --port $PREF --count $NREF --expect-fail
	ra=$CLIENT_PID
	client_start "$B" ref-b --port $PREF --count $NREF --expect-fail
	rb=$CLIENT_PID
	client_wait $ca cli-a
	check_eq "A: $NA connections succeeded" 0 $?
	client_wait $cb cli-b
	check_eq "B: $NB connections succeeded" 0 $?
	client_wait $ra ref-a
	check_eq "A: $NREF connects refused" 0 $?
	client_wait $rb ref-b
	check_eq "B: $NREF connects refused" 0 $?
	server_wait $sa srv-a
	server_wait $sb srv-b

	da=$(($(counter "$w" Tcp ActiveOpens) - a0))
	dp=$(($(counter "$w" Tcp PassiveOpens) - p0))
	df=$(($(counter "$w" Tcp AttemptFails) - f0))
	log "--netns $arg: kernel deltas ActiveOpens $da, PassiveOpens $dp, AttemptFails $df"
	synfin_stop

	check_none "--netns $arg: every event with a netns is the watched one ($wino)" \
		"[.[] | select(has(\"netns\") and .netns != $wino)]"
	check_none "--netns $arg: handshake/connect_fail events all carry a netns" \
		"[.[] | select(.type == \"handshake\" or .type == \"connect_fail\")
		| select(has(\"netns\") | not)]"
	check_eq "--netns $arg: events of the other namespace" 0 \
		"$(ev "[.[] | select(.netns == $oino)] | length")"
	check_eq "--netns $arg: client handshakes == delta ActiveOpens - AttemptFails" \
		$((da - df)) "$(ev_count "$wino" handshake client)"
	# + children that died before ESTABLISHED, counted by the kernel at creation (only the
	# watched namespace's: the filter applies to them too)
	aborted=$(jq -r 'select(.type == "summary") | .events.server_children_aborted' \
		"$SYNFIN_OUT" | head -n 1)
	check_eq "--netns $arg: server handshakes + children aborted ($aborted) == delta PassiveOpens" \
		"$dp" "$(($(ev_count "$wino" handshake server) + aborted))"
	check_eq "--netns $arg: connect_fail events == delta AttemptFails" "$df" \
		"$(ev_count "$wino" connect_fail)"
	mv "$SYNFIN_OUT" "$SYNFIN_OUT.$(basename "$arg")"
	mv "$SYNFIN_ERR" "$SYNFIN_ERR.$(basename "$arg")"
}

one_run "$A" "$INO_A" "$INO_B" "/var/run/netns/$A"

# Run 2 names B through a process inside it.
ip netns exec "$B" sleep 600 &
HOLDER=$!
track_pid $HOLDER
sleep 0.2
[ "$(readlink /proc/$HOLDER/ns/net)" = "net:[$INO_B]" ] || die "pid $HOLDER is not inside $B"
one_run "$B" "$INO_B" "$INO_A" "/proc/$HOLDER/ns/net"

t_done
