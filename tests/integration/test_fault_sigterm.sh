#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# SIGTERM stops synfin within 1 s, whatever it is doing:
# - serve while scrapes are in flight (4 clients scraping /metrics back to back, one
#   stalled mid-header, one that sent its request and never reads): exit 0 in < 1 s;
# - watch, serve and run during a connection storm (.output/storm, 16 source addresses, in a
#   namespace; the storm holds guest.lock of the kernel cache like the benchmark does, so no
#   kernel-matrix guest shares the two cores with it): each exits in < 1 s; watch's last line
#   is its summary, serve has written its textfile, run passes on CMD's death by SIGTERM
#   (128 + 15) after printing its summary.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd curl python3 flock

STORM=${STORM:-$T_REPO/.output/storm}
[ -x "$STORM" ] || die "storm driver '$STORM' not found; build it with make"
NS=$(netns_name sigterm)
netns_create "$NS"
for i in $(seq 2 17); do ip -n "$NS" addr add "127.0.0.$i/8" dev lo || die "addr"; done

# stop_time PID: sends SIGTERM; the seconds until PID is gone (10 s at most) in STOP_T, its
# exit status in STOP_RC.
stop_time() {
	local pid=$1 t0 i
	t0=$EPOCHREALTIME
	kill -TERM "$pid"
	for ((i = 0; i < 1000; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	STOP_T=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }')
	wait_pid "$pid" 1
	STOP_RC=$?
}

# --- serve, mid-scrape
PORT=$(free_port)
serve_start scrape --listen "127.0.0.1:$PORT" --netns "/var/run/netns/$NS"
python3 - "$PORT" >"$T_DIR/scrapers.out" 2>&1 <<'PYEOF' &
import socket, sys, threading, time
port = int(sys.argv[1])
n = [0]
def loop():
    while True:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            while s.recv(65536):
                pass
        except OSError:
            return
        n[0] += 1
stalled = socket.create_connection(("127.0.0.1", port))
stalled.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-")
deaf = socket.create_connection(("127.0.0.1", port))
deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
deaf.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
for _ in range(4):
    threading.Thread(target=loop, daemon=True).start()
print("scraping", flush=True)
time.sleep(8)
print("scrapes", n[0], flush=True)
PYEOF
SCRAPERS=$!
track_pid "$SCRAPERS"
wait_for_line "$T_DIR/scrapers.out" '^scraping$' 10 "$SCRAPERS" || die "scrapers: $(cat "$T_DIR/scrapers.out")"
sleep 1
stop_time "$SERVE_PID"
check_range "serve stops within 1 s of SIGTERM during scrapes (s)" 0 1 "$STOP_T"
check_eq "serve's exit status" 0 "$STOP_RC"
kill "$SCRAPERS" 2>/dev/null

# --- during a storm
lockdir=${SYNFIN_KERNEL_CACHE:-/var/cache/synfin-kernels}
# The storm's bound: 1 s. In a kernel-matrix guest, whose two vCPUs TCG emulates on one host
# thread, the storm and synfin's drain run many times slower (watch took 1.08 s on 6.12):
# there it is 3 s, for the same defect (a stop that waits for the storm to end takes 4 s).
STORM_STOP_MAX=1
if [ -d "$lockdir" ] && findmnt -no OPTIONS -T "$lockdir" | tr , '\n' | grep -qx ro; then
	# a kernel-matrix guest: the host's / is mounted read-only, and its matrix run, which
	# started this guest, holds the lock already
	log "storm without guest.lock, stops within 3 s: $lockdir is read-only here (a kernel-matrix guest)"
	STORM_STOP_MAX=3
else
	mkdir -p "$lockdir" && exec 9>"$lockdir/guest.lock" || die "cannot open $lockdir/guest.lock"
	flock -w 120 9 || die "guest.lock held by someone else for 120 s (a kernel-matrix guest or a bench)"
fi

# storm_stop TAG PID: a 4 s storm in the namespace, SIGTERM to PID after 1.5 s of it.
storm_stop() {
	local tag=$1 pid=$2 spid
	nsx "$NS" "$STORM" --duration 4 --addrs 16 >"$T_DIR/storm-$tag.json" 2>&1 &
	spid=$!
	track_pid "$spid"
	sleep 1.5
	stop_time "$pid"
	check_range "$tag stops within $STORM_STOP_MAX s of SIGTERM during the storm (s)" 0 "$STORM_STOP_MAX" "$STOP_T"
	wait "$spid" 2>/dev/null
	log "$tag: storm $(head -c 200 "$T_DIR/storm-$tag.json")"
}

synfin_start --netns "/var/run/netns/$NS"
storm_stop watch "$SYNFIN_PID"
check_eq "watch's exit status" 0 "$STOP_RC"
check_eq "watch's last line is its summary" summary "$(tail -n 1 "$SYNFIN_OUT" | jq -r .type)"

serve_start storm --listen none --textfile "$T_DIR/storm.prom" --netns "/var/run/netns/$NS"
rm -f "$T_DIR/storm.prom"
storm_stop serve "$SERVE_PID"
check_eq "serve's exit status" 0 "$STOP_RC"
check_true "serve wrote its textfile at exit" test -s "$T_DIR/storm.prom"

"$SYNFIN" run -- ip netns exec "$NS" "$STORM" --duration 4 --addrs 16 \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" &
RUN=$!
track_pid "$RUN"
# the storm begins when CMD is in run's cgroup
wait_run_cmd "$RUN" "$T_DIR/run.err"
sleep 1.5
stop_time "$RUN"
check_range "run stops within $STORM_STOP_MAX s of SIGTERM during the storm (s)" 0 "$STORM_STOP_MAX" "$STOP_T"
check_eq "run passes on CMD's death by SIGTERM" 143 "$STOP_RC"
check_true "run printed its summary" grep -q "^synfin run: 'ip netns exec" "$T_DIR/run.err"
exec 9>&-
t_done
