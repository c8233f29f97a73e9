#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# `synfin run -- CMD`: only CMD's connections, assertions, exit statuses, signals, cleanup.
#
# In a fresh namespace, CMD is a shell script that starts a tcpdrive server and makes N
# connections to it (so CMD owns both ends), while a background client/server pair in the
# same namespace, started outside synfin, makes connections all along. Checks:
#   - counts exact: N client and N server handshakes, N local and N remote FIN closes,
#     N TIME_WAIT entries, no failures, no lost events; the background traffic (seen by the
#     kernel counters) is not counted;
#   - holding assertions: exit 0 and one "ok:" line each; a failing one: exit 1 and one
#     "synfin: assertion failed: METRIC ..." line naming the metric and the measured value;
#   - CMD's exit status passes through (also with a failing assertion), 128+N for a signal;
#   - a malformed or unknown --assert, or a baseline assertion without --baseline, is exit 2
#     and CMD never starts (it would create a marker file);
#   - --baseline: deltas printed, relative assertions hold / fail as they should;
#   - SIGTERM to synfin reaches CMD, and the summary is still printed (exit 143);
#   - processes CMD leaves behind are killed and counted; the cgroup is removed every time;
#   - no cgroup2 mount: one error line, exit 1.
# synfin runs outside the namespace and CMD is `ip netns exec NS ...`, which execs in place
# and so stays in synfin's cgroup. (`ip netns exec` remounts /sys, hiding the cgroup2 mount
# from a synfin started inside it.)
source "$(dirname "$0")/lib.sh"
t_setup

N=${N:-25}
PORT=7001
NOISE_PORT=7100
NS=$(netns_name run)
netns_create "$NS"
CG=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] || skip "no cgroup2 mount on this host"

# CMD: a server and a client, both inside synfin's cgroup.
# (srv.out is removed first: the background server truncates it only once it runs, and the
# loop below must not see the previous run's "ready".)
cat >"$T_DIR/cmd.sh" <<EOF
#!/bin/sh
rm -f "$T_DIR/srv.out"
"$TCPDRIVE" serve --port $PORT --count $N >"$T_DIR/srv.out" 2>"$T_DIR/srv.err" &
i=0
until grep -q '^ready\$' "$T_DIR/srv.out" 2>/dev/null; do
	i=\$((i + 1)); [ \$i -lt 500 ] || exit 9; sleep 0.02
done
"$TCPDRIVE" connect --port $PORT --count $N --parallel 4 2>"$T_DIR/cli.err" || exit 8
wait
EOF

# The background traffic: a server and a client looping, outside synfin's cgroup.
server_start "$NS" noise-srv --port $NOISE_PORT --count 0
ip netns exec "$NS" sh -c "while :; do '$TCPDRIVE' connect --port $NOISE_PORT --count 5 || exit 1; sleep 0.01; done" \
	>/dev/null 2>"$T_DIR/noise-cli.err" &
track_pid $!
sleep 0.3

# run_synfin TAG ARGS...: synfin run ARGS, stderr in $T_DIR/TAG.err; sets RC.
run_synfin() {
	local tag=$1
	shift
	timeout 120 "$SYNFIN" run "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err"
	RC=$?
}

no_leftover_cgroups() { ! ls -d "$CG"/synfin-run-* >/dev/null 2>&1; }

# --- the main run: exact counts, holding assertions
a0=$(counter "$NS" Tcp ActiveOpens)
run_synfin main --report "$T_DIR/main.json" \
	--assert "handshake.client.count == $N" \
	--assert "handshake.server.count == $N" \
	--assert 'connect_failures == 0' \
	--assert 'handshake.p99 < 1s' \
	--assert 'time_wait.peak <= 1000' \
	--assert 'events.lost == 0' \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh"
da=$(($(counter "$NS" Tcp ActiveOpens) - a0))
check_eq "holding assertions: exit status" 0 "$RC" || log "stderr: $(cat "$T_DIR/main.err")"
check_eq "one 'ok:' line per assertion" 6 "$(grep -c '^ok: ' "$T_DIR/main.err")"
check_eq "no failed assertion lines" 0 "$(grep -c 'assertion failed' "$T_DIR/main.err")"
check_true "the summary is printed" grep -q "^synfin run: 'ip netns exec" "$T_DIR/main.err"
log "kernel: $da connects in the namespace during the run, $N of them CMD's"
check_range "background connections happened during the run" $((N + 5)) 1000000 "$da"
R=$T_DIR/main.json
m() { jq -r --arg m "$1" '.metrics[$m].value' "$R"; }
check_eq "client handshakes (background not counted)" "$N" "$(m handshake.client.count)"
check_eq "server handshakes (background not counted)" "$N" "$(m handshake.server.count)"
check_eq "connect failures" 0 "$(m connect_failures)"
check_eq "closes" $((2 * N)) "$(m closes)"
check_eq "closes local fin (the client closes first)" "$N" "$(m closes.local.fin)"
check_eq "closes remote fin (the server side)" "$N" "$(m closes.remote.fin)"
check_eq "TIME_WAIT entries (the client's)" "$N" "$(m time_wait.count)"
check_range "TIME_WAIT peak" 1 "$N" "$(m time_wait.peak)"
check_eq "SYN retransmits" 0 "$(m retransmits.syn)"
check_eq "lost events" 0 "$(m events.lost)"
check_eq "report: verdict" pass "$(jq -r .verdict "$R")"
check_eq "report: every endpoint is CMD's server port" "$PORT" \
	"$(jq -r '[.endpoints[].port] | unique | join(",")' "$R")"
check_eq "report: the cgroup id is the directory's inode" true \
	"$(jq '.cgroup_id > 0' "$R")"
check_true "the cgroup is removed" no_leftover_cgroups

# --- a failing assertion: exit 1, one line naming the metric
run_synfin fail --assert "handshake.client.count == $N" --assert 'handshake.client.p99 < 1ns' \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh"
check_eq "failing assertion: exit status" 1 "$RC"
check_true "failure line names the metric and the measured value" \
	grep -Eq '^synfin: assertion failed: handshake\.client\.p99 < 1ns \(measured [0-9.]+(ns|us|ms|s)\)$' \
	"$T_DIR/fail.err"
check_eq "only the failing assertion is reported as failed" 1 "$(grep -c 'assertion failed' "$T_DIR/fail.err")"

# --- CMD's status passes through
run_synfin exit7 --assert 'closes == 0' -- sh -c 'exit 7'
check_eq "CMD exit 7 passes through" 7 "$RC"
run_synfin exit7b --assert 'closes == 1' -- sh -c 'exit 7'
check_eq "CMD exit 7 wins over a failing assertion" 7 "$RC"
check_true "... which is still reported" grep -q '^synfin: assertion failed: closes == 1' "$T_DIR/exit7b.err"
run_synfin sig -- sh -c 'kill -USR1 $$'
check_eq "CMD killed by SIGUSR1: 128+10" 138 "$RC"
run_synfin noexec -- /nonexistent/cmd
check_eq "CMD not found: 127, as a shell says" 127 "$RC"

# --- usage errors: CMD never starts
for expr in 'handshake.client.p99 < 5' 'handshake.client.p98 < 5ms' 'closes < 5ms' \
	'closes = 5' 'closes <' 'closes < baseline * 2'; do
	rm -f "$T_DIR/marker"
	run_synfin usage --assert "$expr" -- touch "$T_DIR/marker"
	check_eq "--assert '$expr': exit 2" 2 "$RC"
	check_true "--assert '$expr': CMD did not start" test ! -e "$T_DIR/marker"
	check_eq "--assert '$expr': one error line" 1 "$(wc -l <"$T_DIR/usage.err")"
done
run_synfin usage --bogus -- touch "$T_DIR/marker"
check_eq "unknown option: exit 2" 2 "$RC"
run_synfin usage --assert 'closes == 0'
check_eq "no CMD: exit 2" 2 "$RC"
check_true "no CMD was started by any usage error" test ! -e "$T_DIR/marker"

# --- baseline
run_synfin base --baseline "$T_DIR/main.json" \
	--assert 'handshake.client.count == baseline' \
	--assert 'time_wait.count <= baseline * 1.1' \
	--assert 'handshake.client.p99 < baseline + 1s' \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh"
check_eq "baseline assertions that hold: exit 0" 0 "$RC" || log "stderr: $(cat "$T_DIR/base.err")"
check_true "deltas are printed" grep -q "^against the baseline $T_DIR/main.json:" "$T_DIR/base.err"
check_true "... with the counts" grep -Eq "^  handshake\.client\.count +$N -> $N +\+0\.0%" "$T_DIR/base.err"
run_synfin base2 --baseline "$T_DIR/main.json" --assert 'handshake.client.count < baseline' \
	-- ip netns exec "$NS" sh "$T_DIR/cmd.sh"
check_eq "baseline assertion that fails: exit 1" 1 "$RC"
check_true "... naming the baseline" \
	grep -q "^synfin: assertion failed: handshake.client.count < baseline (measured $N, threshold $N, baseline $N)" \
	"$T_DIR/base2.err"
echo '{"schema_version": 1}' >"$T_DIR/bad.json"
run_synfin base3 --baseline "$T_DIR/bad.json" -- touch "$T_DIR/marker"
check_eq "a baseline that is not a report: exit 2" 2 "$RC"
check_true "... before CMD starts" test ! -e "$T_DIR/marker"

# --- SIGTERM is forwarded, the summary still printed
# CMD says when its trap is set and its 'sleep 30' forked (a cgroup's files have no size:
# testing cgroup.procs with -s waited 5 s every time); the attach takes seconds in a TCG guest.
# Ready is written after the fork: written before it, a TERM arriving in between found no
# leftover to kill (seen on 5.10 under TCG).
"$SYNFIN" run -- sh -c "trap 'exit 42' TERM; sleep 30 & touch '$T_DIR/term.ready'; wait" \
	>"$T_DIR/term.out" 2>"$T_DIR/term.err" &
SPID=$!
track_pid $SPID
for _ in $(seq 1200); do
	[ -e "$T_DIR/term.ready" ] && break
	kill -0 $SPID 2>/dev/null || die "run exited before CMD set its trap: $(tail -n 5 "$T_DIR/term.err")"
	sleep 0.05
done
kill -TERM $SPID
wait_pid $SPID 20
RC=$?
check_eq "SIGTERM forwarded: CMD's trap ran (exit 42)" 42 "$RC"
check_true "the summary is printed after SIGTERM" grep -q "^synfin run: 'sh -c" "$T_DIR/term.err"
check_true "the leftover 'sleep 30' was killed" grep -Eq '^  leftover processes +1 ' "$T_DIR/term.err"
check_true "the cgroup is removed" test ! -e "$CG/synfin-run-$SPID"

# --- what CMD leaves behind is killed
run_synfin left --report "$T_DIR/left.json" -- sh -c "sleep 300 & echo \$! >'$T_DIR/left.pid'"
check_eq "leftover: CMD's exit 0" 0 "$RC"
check_eq "leftover: counted in the report" 1 "$(jq .command.leftover_processes_killed "$T_DIR/left.json")"
# gone, or a zombie waiting for a PID 1 that may not reap (containers)
gone() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }
check_true "leftover: the process is gone" gone "$(cat "$T_DIR/left.pid")"
check_true "no synfin-run cgroup is left" no_leftover_cgroups

# --- an assertion over no samples has no value: it fails, naming why, unless allowed
run_synfin nosamples --assert 'handshake.client.p99 < 5ms' --report "$T_DIR/nosamples.json" -- true
check_eq "no samples: exit 1" 1 "$RC"
check_true "no samples: says so" grep -q \
	"^synfin: assertion failed: handshake.client.p99 < 5ms (no samples: nothing was measured)" \
	"$T_DIR/nosamples.err"
check_eq "no samples: measured is null in the report" null \
	"$(jq '.assertions[0].measured' "$T_DIR/nosamples.json")"
check_eq "no samples: the report's p99 is null, not 0" null \
	"$(jq '.metrics["handshake.client.p99"].value' "$T_DIR/nosamples.json")"
check_eq "no samples: a count of nothing is 0" 0 \
	"$(jq '.metrics["handshake.client.count"].value' "$T_DIR/nosamples.json")"
run_synfin nosamples-ok --allow-no-samples --assert 'handshake.client.p99 < 5ms' -- true
check_eq "--allow-no-samples: exit 0" 0 "$RC"
run_synfin badlost --allow-lost -1 -- true
check_eq "--allow-lost -1: usage error" 2 "$RC"

# --- CMD's signal dispositions are its own: a CI gate must not change what it wraps. With
# SIGPIPE ignored (synfin's own choice, for its HTTP and pipes), `yes` would die of EPIPE's
# write error (exit 1) instead of the signal, and pipefail would see 1, not 141.
pipe_cmd='set -o pipefail; yes | head -n 1 >/dev/null'
bash -c "$pipe_cmd"
want=$?
run_synfin pipe -- bash -c "$pipe_cmd"
check_eq "SIGPIPE: CMD's exit status is the same as without synfin ($want)" "$want" "$RC"
check_eq "SIGPIPE: without synfin, yes dies of the signal (128 + 13)" 141 "$want"

# --- CMD makes a cgroup of its own below synfin's (as systemd-run, Docker or a test harness
# would) and runs there: its connections are CMD's, counted exactly; what it leaves running
# there is killed; the whole subtree is removed.
cat >"$T_DIR/nested.sh" <<EOF
#!/bin/sh
cg=\$(sed -n 's/^0:://p' /proc/self/cgroup)
mkdir "$CG\$cg/inner" && echo \$\$ >"$CG\$cg/inner/cgroup.procs" || exit 7
sleep 300 &
echo \$! >"$T_DIR/nested.pid"
exec ip netns exec "$NS" sh "$T_DIR/cmd.sh"
EOF
run_synfin nested --report "$T_DIR/nested.json" -- sh "$T_DIR/nested.sh"
check_eq "nested cgroup: exit 0" 0 "$RC" || log "stderr: $(tail -n 3 "$T_DIR/nested.err")"
check_eq "nested cgroup: client handshakes counted" "$N" \
	"$(jq '.metrics["handshake.client.count"].value' "$T_DIR/nested.json")"
check_eq "nested cgroup: server handshakes counted" "$N" \
	"$(jq '.metrics["handshake.server.count"].value' "$T_DIR/nested.json")"
check_eq "nested cgroup: the leftover in it counted" 1 \
	"$(jq .command.leftover_processes_killed "$T_DIR/nested.json")"
check_true "nested cgroup: the leftover is gone" gone "$(cat "$T_DIR/nested.pid")"
check_true "nested cgroup: no synfin-run cgroup is left" no_leftover_cgroups

# --- no cgroup2 mounted (in a private mount namespace)
if command -v unshare >/dev/null; then
	unshare -m --propagation private sh -c "umount -l '$CG' && exec '$SYNFIN' run -- touch '$T_DIR/marker'" \
		>"$T_DIR/nocg.out" 2>"$T_DIR/nocg.err"
	RC=$?
	check_eq "no cgroup2: exit 1" 1 "$RC"
	check_eq "no cgroup2: one error line" 1 "$(wc -l <"$T_DIR/nocg.err")"
	check_true "no cgroup2: says so" grep -q '^synfin: no cgroup v2 hierarchy is mounted' "$T_DIR/nocg.err"
	check_true "no cgroup2: CMD did not start" test ! -e "$T_DIR/marker"
fi

t_done
