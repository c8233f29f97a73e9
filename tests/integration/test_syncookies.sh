#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# SYN cookies (net.ipv4.tcp_syncookies=2: always): no request socket and no request timer
# exist (docs/kernel-notes.md, "Server handshake"), so the SYN's arrival is unknown. Checks, for N connections:
#   - server handshakes == delta TcpPassiveOpens == delta TcpExtSyncookiesRecv (sanity);
#   - every server handshake says estimated true: synfin never passes the child's srtt off
#     as a measured SYN -> ESTABLISHED;
#   - client handshakes stay exact (estimated false).
source "$(dirname "$0")/lib.sh"
t_setup

N=${N:-20}
P=5011
NS=$(netns_name cookies)
netns_create "$NS"
nsx "$NS" sysctl -qw net.ipv4.tcp_syncookies=2 || die "cannot set tcp_syncookies"
INO=$(netns_inode "$NS")

synfin_start --netns "/var/run/netns/$NS"
p0=$(counter "$NS" Tcp PassiveOpens) k0=$(counter "$NS" TcpExt SyncookiesRecv)
server_start "$NS" srv --port $P --count "$N"
client_run "$NS" cli --port $P --count "$N"
check_eq "client exit status" 0 "$CLIENT_RC"
server_wait "$SERVER_PID" srv
dp=$(($(counter "$NS" Tcp PassiveOpens) - p0)) dk=$(($(counter "$NS" TcpExt SyncookiesRecv) - k0))
synfin_stop

S="[.[] | select(.type == \"handshake\" and .netns == $INO and .side == \"server\")"
check_eq "kernel: every connection came from a SYN cookie (sanity)" "$N" "$dk"
check_eq "server handshakes == delta TcpPassiveOpens" "$dp" "$(ev "$S] | length")"
check_none "every server handshake is marked estimated" "$S | select(.estimated | not)]"
check_none "every client handshake is exact" \
	"[.[] | select(.type == \"handshake\" and .netns == $INO and .side == \"client\" and .estimated)]"
t_done
