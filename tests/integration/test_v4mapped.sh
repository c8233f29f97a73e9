#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Dual-stack listener: an AF_INET6 socket bound to [::] accepts IPv4 clients, whose children
# are AF_INET6 sockets with v4-mapped addresses (::ffff:127.0.0.1). Checks, for N such
# connections plus N native IPv6 ones:
#   - server events of the IPv4 clients say family 4 and 127.0.0.1 (v4-mapped shown as IPv4),
#     the IPv6 ones family 6 and ::1;
#   - their server latency is exact (estimated false): the request, keyed by its IPv4
#     rsk_ops family, and the AF_INET6 child meet in one key;
#   - counts equal TcpPassiveOpens / TcpActiveOpens deltas.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3

N=${N:-20}
NS=$(netns_name v4m)
netns_create "$NS"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
a0=$(counter "$NS" Tcp ActiveOpens) p0=$(counter "$NS" Tcp PassiveOpens)
nsx "$NS" python3 - "$N" <<'PY' || die "dual-stack scenario failed"
import socket, sys, time
n = int(sys.argv[1])
l = socket.socket(socket.AF_INET6)
l.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
l.bind(('::', 7100)); l.listen(64)
for addr, fam in [('127.0.0.1', socket.AF_INET)] * n + [('::1', socket.AF_INET6)] * n:
    c = socket.socket(fam); c.connect((addr, 7100)); s, _ = l.accept()
    c.close(); time.sleep(0.002); s.close()
PY
da=$(($(counter "$NS" Tcp ActiveOpens) - a0)) dp=$(($(counter "$NS" Tcp PassiveOpens) - p0))
synfin_stop

S="[.[] | select(.type == \"handshake\" and .netns == $INO and .side == \"server\")"
C="[.[] | select(.type == \"handshake\" and .netns == $INO and .side == \"client\")"
check_eq "server handshakes == delta TcpPassiveOpens" "$dp" "$(ev "$S] | length")"
check_eq "client handshakes == delta TcpActiveOpens" "$da" "$(ev "$C] | length")"
check_eq "v4-mapped children reported as IPv4 127.0.0.1" "$N" \
	"$(ev "$S | select(.family == 4 and .laddr == \"127.0.0.1\" and .raddr == \"127.0.0.1\" and .lport == 7100)] | length")"
check_eq "native IPv6 children reported as IPv6 ::1" "$N" \
	"$(ev "$S | select(.family == 6 and .laddr == \"::1\" and .raddr == \"::1\")] | length")"
check_none "every server latency exact (the SYN's arrival was found)" "$S | select(.estimated)]"
check_none "every server latency below 100 ms on loopback" "$S | select(.latency_us <= 0 or .latency_us >= 100000)]"
t_done
