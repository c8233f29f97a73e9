#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Starting on a host with many network namespaces while connections run (issue 12, item
# 14): synfin seeds each namespace's existing sockets (iter/tcp, one setns per namespace)
# after its programs are attached, so records pile up in the ring buffer meanwhile. Before,
# nothing drained it until every namespace was seeded, and a small ring overflowed: events
# lost at start. The ring is now drained between namespaces.
#   - NNS namespaces, each with a listener and a connection to it (sockets to seed);
#   - a client in another namespace opens connections without pause the whole time;
#   - synfin watch (all namespaces, a 256 KiB ring: ~1,500 records, 50 ms of this traffic) starts during that.
# Checks: nothing lost (summary events.lost == 0); every namespace was seeded (their
# ESTABLISHED sockets are in the gauge); the traffic ran during the start.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd python3

NNS=${NNS:-50}
P=5041
NS=$(netns_name seedtraffic)
netns_create "$NS"
INO=$(netns_inode "$NS")
log "creating $NNS namespaces with an established connection each"
for i in $(seq "$NNS"); do
	n=$(netns_name "seed$i")
	netns_create "$n"
	ip netns exec "$n" python3 -c '
import socket, os, sys, time
l = socket.socket(); l.bind(("127.0.0.1", 5000)); l.listen(1)
c = socket.create_connection(("127.0.0.1", 5000)); s, _ = l.accept()
sys.stdout.close(); os.close(1)
time.sleep(3600)' >/dev/null &
	track_pid $!
done
for i in $(seq 100); do
	[ "$(jobs -r | wc -l)" -ge "$NNS" ] && break
	sleep 0.1
done
sleep 1 # the connections are up
server_start "$NS" srv --port $P --count 0
client_start "$NS" cli --port $P --count 1000000 --no-data
sleep 0.5 # the client is busy
synfin_start --ring-size 262144
a0=$(counter "$NS" Tcp ActiveOpens)
sleep 1
a1=$(counter "$NS" Tcp ActiveOpens)
synfin_stop
kill "$CLIENT_PID" 2>/dev/null

lost=$(ev '.[] | select(.type == "summary") | .events.lost')
check_eq "nothing lost while seeding $NNS namespaces" 0 "$lost"
est=$(ev '.[] | select(.type == "summary") | .sockets.established')
check_true "every namespace's connection was seeded: $est ESTABLISHED >= 2 x $NNS" \
	[ "$est" -ge $((2 * NNS)) ]
check_true "the traffic ran meanwhile ($((a1 - a0)) connections in 1 s)" [ $((a1 - a0)) -gt 100 ]
t_done
