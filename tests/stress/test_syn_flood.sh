#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# A SYN flood (issue 12): hping3 sends spoofed SYNs (random sources) at a listener in a
# namespace for FLOOD_SECS, so its SYN queue fills and SYN cookies engage, while N
# legitimate connections are made to it. Checked:
#   - synfin stays up, and its memory stays bounded (RSS grows by less than 16 MiB);
#   - the legitimate connections are counted exactly: client handshakes == delta
#     TcpActiveOpens, server handshakes == delta TcpPassiveOpens (spoofed SYNs never
#     complete);
#   - no server handshake is reported measured with a wrong latency: a measured one is no
#     longer than the client's own handshake of that connection (+1 ms), an estimated one
#     states its resolution and the client's handshake lies in [latency - resolution,
#     latency + 1 ms];
#   - the figures for the flood are printed (how many were estimated, stale, unrecorded).
# In make soak, not make test: it takes both cores for FLOOD_SECS.
source "$(dirname "$0")/../integration/lib.sh"
t_setup
require_cmd hping3

N=${N:-200} FLOOD_SECS=${FLOOD_SECS:-8} P=5061
NS=$(netns_name flood)
netns_create "$NS"
nsx "$NS" sysctl -qw net.ipv4.tcp_max_syn_backlog=128 net.ipv4.conf.all.rp_filter=0 \
	net.ipv4.conf.lo.rp_filter=0 || die "sysctl"
INO=$(netns_inode "$NS")

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
synfin_start --netns "/var/run/netns/$NS"
server_start "$NS" srv --port $P --count "$N" --backlog 128
rss0=$(rss_kib "$SYNFIN_PID")
a0=$(counter "$NS" Tcp ActiveOpens) p0=$(counter "$NS" Tcp PassiveOpens)
c0=$(counter "$NS" TcpExt SyncookiesSent)
ip netns exec "$NS" timeout "$FLOOD_SECS" hping3 -q -S -p $P --flood --rand-source 127.0.0.1 \
	>/dev/null 2>&1 &
FLOOD=$!
track_pid "$FLOOD"
sleep 1
client_run "$NS" cli --port $P --count "$N" --verbose
wait "$FLOOD" 2>/dev/null
check_eq "client exit status" 0 "$CLIENT_RC"
server_wait "$SERVER_PID" srv
da=$(($(counter "$NS" Tcp ActiveOpens) - a0)) dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
dc=$(($(counter "$NS" TcpExt SyncookiesSent) - c0))
rss1=$(rss_kib "$SYNFIN_PID")
check_true "synfin is still up" kill -0 "$SYNFIN_PID"
synfin_stop

log "flood: $dc SYN cookies sent; synfin RSS ${rss0} -> ${rss1} KiB"
check_true "SYN cookies engaged (sanity: $dc sent)" [ "$dc" -gt 1000 ]
check_true "RSS grew by less than 16 MiB ($((rss1 - rss0)) KiB)" [ $((rss1 - rss0)) -lt 16384 ]
H="[.[] | select(.type == \"handshake\" and .netns == $INO)"
check_eq "client handshakes == delta TcpActiveOpens" "$da" "$(ev "$H | select(.side == \"client\")] | length")"
check_eq "server handshakes == delta TcpPassiveOpens" "$dp" "$(ev "$H | select(.side == \"server\")] | length")"
C="(map(select(.type == \"handshake\" and .netns == $INO and .side == \"client\"))
    | map({key: (.lport | tostring), value: .latency_us}) | from_entries) as \$c"
check_none "no measured server latency longer than the client's own handshake (+1 ms)" \
	"$C | $H | select(.side == \"server\" and (.estimated | not)
			and .latency_us > \$c[.rport | tostring] + 1000)]"
check_none "every estimate's interval holds the client's handshake (+1 ms)" \
	"$C | $H | select(.side == \"server\" and .estimated and .latency_us != null
			and (.latency_us - .resolution_us > \$c[.rport | tostring] + 1000
			     or .latency_us + 1000 < \$c[.rport | tostring]))]"
log "server handshakes: $(ev "$H | select(.side == \"server\" and (.estimated | not))] | length") measured," \
	"$(ev "$H | select(.side == \"server\" and .estimated and .latency_us != null)] | length") estimated," \
	"$(ev "$H | select(.side == \"server\" and .latency_us == null)] | length") unmeasured;" \
	"summary events: $(ev '.[] | select(.type == "summary") | .events' | tr -d '\n')"
t_done
