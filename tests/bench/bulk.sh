#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# bulk: make bench's data-phase workload (issue 14). iperf3 over loopback inside network
# namespace NS: a one-test server (-s -1) and a client of STREAMS parallel streams writing
# LEN-byte buffers for DURATION seconds. Both run as children of this script, so under
# `synfin run` both ends are in its cgroup. Prints one JSON line on stdout: the receiver's
# rate in bits/s and what else the client measured. Exit status: 0 ok, 1 failure, 2 usage.

set -u -o pipefail

usage() {
	echo "Usage: tests/bench/bulk.sh NS DURATION LEN [STREAMS]" >&2
	echo "  NS: network namespace (ip netns), DURATION: seconds, LEN: iperf3 -l (e.g. 128K, 100)," >&2
	echo "  STREAMS: iperf3 -P (default 2)" >&2
}
die() { echo "bulk: $*" >&2; exit 1; }
usage_err() { echo "bulk: $*; see 'tests/bench/bulk.sh' with no arguments" >&2; exit 2; }

(($# == 3 || $# == 4)) || { usage; exit 2; }
ns=$1 duration=$2 len=$3 streams=${4:-2}
port=5201 # the namespace is the bench's own: nothing else listens there

if ! [[ $duration =~ ^[0-9]{1,4}$ ]] || ((10#$duration < 1)); then
	usage_err "invalid DURATION '$duration' (1..9999 s)"
fi
[[ $len =~ ^[1-9][0-9]{0,6}[KM]?$ ]] || usage_err "invalid LEN '$len' (bytes, K or M suffix)"
if ! [[ $streams =~ ^[0-9]{1,3}$ ]] || ((10#$streams < 1 || 10#$streams > 128)); then
	usage_err "invalid STREAMS '$streams' (1..128)"
fi
[[ -e /var/run/netns/$ns ]] || usage_err "no network namespace '$ns'"
for tool in ip iperf3 jq ss; do
	command -v "$tool" >/dev/null || die "'$tool' not found (iperf3: Debian package iperf3)"
done

srv_log=$(mktemp /tmp/synfin-bulk.XXXXXX) || die "cannot create a temp file"
srv_pid=
cleanup() {
	if [[ -n $srv_pid ]] && kill -0 "$srv_pid" 2>/dev/null; then
		kill "$srv_pid" 2>/dev/null
		wait "$srv_pid" 2>/dev/null
	fi
	rm -f "$srv_log"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns exec "$ns" iperf3 -s -1 -B 127.0.0.1 -p "$port" >"$srv_log" 2>&1 &
srv_pid=$!
for ((i = 0; ; i++)); do
	ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q . && break
	kill -0 "$srv_pid" 2>/dev/null || die "iperf3 server exited: $(tail -n1 "$srv_log")"
	((i < 100)) || die "iperf3 server not listening on 127.0.0.1:$port after 5 s"
	sleep 0.05
done

out=$(ip netns exec "$ns" iperf3 -c 127.0.0.1 -p "$port" -P "$streams" -l "$len" \
	-t "$duration" -J 2>&1)
st=$?
err=$(jq -r '.error // empty' <<<"$out" 2>/dev/null)
if ((st != 0)) || [[ -n $err ]]; then
	die "iperf3 client failed (status $st): ${err:-$(tail -n1 <<<"$out")}"
fi
# The server ends after its one test; give it a moment to say goodbye.
for ((i = 0; i < 50; i++)); do
	kill -0 "$srv_pid" 2>/dev/null || break
	sleep 0.1
done

jq -ce --argjson p "$streams" --arg len "$len" '
	select(.end.sum_received.bits_per_second > 0) |
	{bits_per_s: .end.sum_received.bits_per_second,
	 bytes: .end.sum_received.bytes,
	 duration_s: .end.sum_received.seconds,
	 sent_bits_per_s: .end.sum_sent.bits_per_second,
	 retransmits: (.end.sum_sent.retransmits // null),
	 streams: $p, len: $len,
	 connections: ($p + 1),
	 failures: 0,
	 cpu_percent: {client: .end.cpu_utilization_percent.host_total,
		       server: .end.cpu_utilization_percent.remote_total}}' <<<"$out" ||
	die "iperf3 reported no data received: $(head -c 200 <<<"$out")"
