#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Handshake counts and fields against the kernel's own counters.
#
# In a fresh namespace (loopback only), N connections over IPv4 and N over IPv6, 8 in
# flight at a time, each seen by synfin from both ends. Checks:
#   - client "handshake" events == delta TcpActiveOpens, server ones + the children that
#     died before ESTABLISHED (the summary's events.server_children_aborted: the kernel
#     counts a child in TcpPassiveOpens when it creates it, and under a slow guest two CPUs
#     racing for one request each created one; that count is machine-wide, and nothing else
#     runs here) == delta TcpPassiveOpens, "connect_fail" == delta TcpAttemptFails (0):
#     exactly;
#   - per family: N client and N server events;
#   - every event: family, addresses, the server port on the right end, the namespace
#     inode, latency_us > 0, retransmits 0, ts_ns on CLOCK_MONOTONIC (at or before the
#     moment tcpdrive saw connect() return);
#   - the client ports synfin reports equal, as sets, the ports tcpdrive reports on both ends
#     (each connection seen exactly once from each side);
#   - client events carry the connecting process (tgid, not a thread id: 8 threads connect)
#     and comm "tcpdrive"; server events carry the listener's owner, although the server
#     handshake finishes in softirq.
# synfin watches every namespace here (the default a user runs); events of other namespaces
# are ignored, and a ring-buffer overflow caused by unrelated load shows up in the lost check.
source "$(dirname "$0")/lib.sh"
t_setup

N=${N:-300}
P4=5001
P6=5002

NS=$(netns_name hs)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start

a0=$(counter "$NS" Tcp ActiveOpens)
p0=$(counter "$NS" Tcp PassiveOpens)
f0=$(counter "$NS" Tcp AttemptFails)

server_start "$NS" srv4 --port $P4 --count "$N" --verbose
S4=$SERVER_PID
server_start "$NS" srv6 -6 --port $P6 --count "$N" --verbose
S6=$SERVER_PID

client_run "$NS" cli4 --port $P4 --count "$N" --parallel 8 --verbose
C4=$CLIENT_PID
check_eq "IPv4 client: all $N connections succeeded" 0 "$CLIENT_RC"
client_run "$NS" cli6 -6 --port $P6 --count "$N" --parallel 8 --verbose
C6=$CLIENT_PID
check_eq "IPv6 client: all $N connections succeeded" 0 "$CLIENT_RC"
server_wait "$S4" srv4
server_wait "$S6" srv6

da=$(($(counter "$NS" Tcp ActiveOpens) - a0))
dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
df=$(($(counter "$NS" Tcp AttemptFails) - f0))
log "kernel deltas: ActiveOpens $da, PassiveOpens $dp, AttemptFails $df"

synfin_stop
aborted=$(jq -r 'select(.type == "summary") | .events.server_children_aborted' "$SYNFIN_OUT" | head -n 1)
ev_narrow "$INO"

# --- counts, exact
check_eq "client handshakes == delta TcpActiveOpens" "$da" "$(ev_count "$INO" handshake client)"
check_eq "server handshakes + children aborted ($aborted) == delta TcpPassiveOpens" "$dp" \
	"$(($(ev_count "$INO" handshake server) + aborted))"
check_eq "connect_fail events == delta TcpAttemptFails" "$df" "$(ev_count "$INO" connect_fail)"
HS="[.[] | select(.type == \"handshake\" and .netns == $INO)"
for side in client server; do
	for fam in 4 6; do
		check_eq "$side handshakes, IPv$fam" "$N" \
			"$(ev "$HS | select(.side == \"$side\" and .family == $fam)] | length")"
	done
done

# --- fields of every event in our namespace
V4='(.family == 4 and .laddr == "127.0.0.1" and .raddr == "127.0.0.1")'
V6='(.family == 6 and .laddr == "::1" and .raddr == "::1")'
check_none "client events: family, addresses and server port" "$HS | select(.side == \"client\")
	| select(($V4 and .rport == $P4 or $V6 and .rport == $P6) and .lport > 0 | not)]"
check_none "server events: family, addresses and server port" "$HS | select(.side == \"server\")
	| select(($V4 and .lport == $P4 or $V6 and .lport == $P6) and .rport > 0 | not)]"
check_none "every handshake: latency_us > 0" \
	"$HS | select((.latency_us | type) != \"number\" or .latency_us <= 0)]"
check_none "every handshake: latency_us < 1 s (no loss on loopback)" \
	"$HS | select(.latency_us >= 1000000)]"
check_none "every handshake: retransmits 0" "$HS | select(.retransmits != 0)]"
check_none "client events: pid is the connecting process (tgid)" "$HS | select(.side == \"client\")
	| select(.family == 4 and .pid == $C4 or .family == 6 and .pid == $C6 | not)]"
if has_feature server_pid; then
	check_none "server events: pid is the listener's owner" "$HS | select(.side == \"server\")
		| select(.family == 4 and .pid == $S4 or .family == 6 and .pid == $S6 | not)]"
	check_none "every handshake: comm tcpdrive" "$HS | select(.comm != \"tcpdrive\")]"
else
	check_none "server events: pid and comm null (this kernel cannot tell the owner)" \
		"$HS | select(.side == \"server\" and (.pid != null or .comm != null))]"
	check_none "client handshakes: comm tcpdrive" \
		"$HS | select(.side == \"client\" and .comm != \"tcpdrive\")]"
fi
check_none "connect_fail/handshake events in our namespace: side client or server" \
	"[.[] | select(.netns == $INO and (.type == \"handshake\" or .type == \"connect_fail\"))
	| select(.side != \"client\" and .side != \"server\")]"

# --- each connection exactly once from each end: compare port multisets with tcpdrive's
for fam in 4 6; do
	want=$(client_ports "$T_DIR/cli$fam.out")
	check_same "IPv$fam: tcpdrive client and server saw the same connections" "$want" \
		"$(server_peer_ports "$T_DIR/srv$fam.out")"
	check_same "IPv$fam: client events' lports == tcpdrive's client ports" "$want" \
		"$(ev "$HS | select(.side == \"client\" and .family == $fam) | .lport]
			| sort | map(tostring) | join(\" \")" | jq -r .)"
	check_same "IPv$fam: server events' rports == tcpdrive's client ports" "$want" \
		"$(ev "$HS | select(.side == \"server\" and .family == $fam) | .rport]
			| sort | map(tostring) | join(\" \")" | jq -r .)"
done

# --- ts_ns is CLOCK_MONOTONIC: a client handshake ends before connect() returns, and
# tcpdrive printed that return's CLOCK_MONOTONIC time (mono_us) right after.
awk '$1 == "ok" { n = split($2, a, ":"); sub("mono_us=", "", $4); print a[n], $4 }' \
	"$T_DIR/cli4.out" >"$T_DIR/mono4.txt"
ev "$HS | select(.side == \"client\" and .family == 4) | [.lport, .ts_ns]] | .[] | @tsv" |
	jq -r . | awk 'NR == FNR { m[$1] = $2; next }
		!($1 in m) || m[$1] - $2 / 1000 < 0 || m[$1] - $2 / 1000 > 1000000 {
			print "lport", $1, "ts_ns", $2, "mono_us", m[$1] }' \
		"$T_DIR/mono4.txt" - >"$T_DIR/bad_ts.txt"
check_eq "IPv4 client events: 0 <= tcpdrive mono_us - ts_ns/1000 <= 1 s" 0 \
	"$(wc -l <"$T_DIR/bad_ts.txt")" || head -n 3 "$T_DIR/bad_ts.txt" | sed 's/^/         /'

t_done
