#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# watch --cookie follows one socket: a client connection held open, whose cookie a first
# (unfiltered) watch reports in its handshake record; a second watch started with
# --cookie of it while N other connections come and go beside it. The held connection
# closes first once that watch is ready (TIME_WAIT), and the namespace's deletion purges that TIME_WAIT. Checks:
#   - the second watch has exactly that socket's close (local, FIN) and its TIME_WAIT's end
#     (purged), both with the cookie and the client's port, and no other record;
#   - its summary counts that one close and that one TIME_WAIT;
#   - the first watch saw the other N connections (the filter had something to leave out).
source "$(dirname "$0")/lib.sh"
t_setup
has_feature socket_cookie ||
	skip "no socket cookies from tracing programs on this kernel (synfin check: socket_cookie)"

N=${N:-10}
P=5009
NS=$(netns_name cookie)
netns_create "$NS"
INO=$(netns_inode "$NS")

# the first watch: every record of the namespace
"$SYNFIN" watch --json --netns "/var/run/netns/$NS" >"$T_DIR/all.json" 2>"$T_DIR/all.err" &
ALL=$!
track_pid "$ALL"
wait_for_line "$T_DIR/all.err" '^synfin: ready$' 20 "$ALL" || die "watch: $(tail -n 3 "$T_DIR/all.err")"

server_start "$NS" srv --port $P --count $((N + 1))
# held until told: the second watch may take seconds to attach (a TCG guest)
ip netns exec "$NS" python3 - "$P" "$T_DIR/close-now" >"$T_DIR/held.out" 2>&1 <<'EOF' &
import os, socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
print(s.getsockname()[1], flush=True)
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
s.close()
print("closed", flush=True)
EOF
HELD=$!
track_pid "$HELD"
# its handshake record (watch writes once per drain: poll)
cookie=
for ((i = 0; i < 40 && ${#cookie} == 0; i++)); do
	sleep 0.1
	cookie=$(jq -r --argjson ns "$INO" 'select(.type == "handshake" and .side == "client" and .netns == $ns) | .cookie' \
		"$T_DIR/all.json" 2>/dev/null | head -n 1)
done
[ -n "$cookie" ] && [ "$cookie" != null ] || die "no client handshake record with a cookie: $(head -c 300 "$T_DIR/all.json")"
log "held connection: cookie $cookie"

synfin_start --netns "/var/run/netns/$NS" --cookie "$cookie"
client_run "$NS" others --port $P --count "$N" --parallel 2
check_eq "other clients: all $N connections succeeded" 0 "$CLIENT_RC"
touch "$T_DIR/close-now"
wait_for_line "$T_DIR/held.out" '^closed$' 10 "$HELD" || die "held client: $(cat "$T_DIR/held.out")"
server_wait "$SERVER_PID" srv
lport=$(head -n 1 "$T_DIR/held.out")
ip netns delete "$NS" # purges the held connection's TIME_WAIT (and the others')
sleep 1                # cleanup_net runs from a workqueue
synfin_stop
kill -INT "$ALL"
wait_pid "$ALL" 10

REC="[.[] | select(.type != \"summary\")"
check_eq "--cookie: records" 2 "$(ev "$REC] | length")"
check_eq "--cookie: the close, local FIN, of the held connection" 1 \
	"$(ev "$REC | select(.type == \"close\" and .initiator == \"local\" and .how == \"fin\" and .lport == $lport)] | length")"
check_eq "--cookie: its TIME_WAIT, purged" 1 \
	"$(ev "$REC | select(.type == \"time_wait\" and .end == \"purged\" and .lport == $lport)] | length")"
check_none "--cookie: every record has the cookie" "$REC | select(.cookie != $cookie)]"
check_eq "--cookie: summary closes" 1 "$(ev '[.[] | select(.type == "summary")][0].closes.total')"
check_eq "--cookie: summary TIME_WAIT entries" 1 "$(ev '[.[] | select(.type == "summary")][0].time_wait.entries')"
check_eq "unfiltered watch: client handshakes (the held one and the others)" $((N + 1)) \
	"$(jq -s --argjson ns "$INO" '[.[] | select(.type == "handshake" and .side == "client" and .netns == $ns)] | length' "$T_DIR/all.json")"
t_done
