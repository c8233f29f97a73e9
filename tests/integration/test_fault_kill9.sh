#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# kill -9 of `watch`, `serve` and `run` in the middle of traffic leaves nothing behind, and
# the next start works.
# - BPF: every program, link and map the killed process held (their ids read from its
#   /proc/PID/fdinfo while it ran: synfin pins nothing, its links are owned by their fds) is
#   gone within 2 s. Ids, not names: other synfins may be running on this machine.
# - run's cgroup (synfin-run-<pid> under the cgroup2 mount): run's janitor process, forked
#   before the capability drop, outlives a SIGKILLed run, kills CMD and removes the cgroup.
#   The backstop where the janitor died too: the next `synfin run` removes a synfin-run-<pid>
#   cgroup whose pid is dead once it holds no process (one that still does is left, with a
#   one-line note), and nothing else: a live pid's cgroup and one of another name stay.
# - the next watch counts a fresh batch of connections exactly.
source "$(dirname "$0")/lib.sh"
t_setup
require_cmd bpftool

NS=$(netns_name kill9)
netns_create "$NS"
INO=$(netns_inode "$NS")
CGROOT=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CGROOT" ] || die "no cgroup2 mount"

# bpf_objects PID: "prog N", "link N", "map N" for each BPF object PID holds an fd of.
bpf_objects() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^link_id:/ { print "link", $2; l = 1 }
			/^prog_id:/ { p = $2 } /^map_id:/ { print "map", $2 }
			END { if (p != "" && !l) print "prog", p }' "$f" 2>/dev/null
	done | sort -u
}

# objects_left FILE: how many of the objects listed in FILE still exist, after up to 2 s.
objects_left() {
	local n kind id
	for _ in $(seq 20); do
		n=0
		while read -r kind id; do
			bpftool "$kind" show id "$id" >/dev/null 2>&1 && n=$((n + 1))
		done <"$1"
		[ "$n" = 0 ] && break
		sleep 0.1
	done
	echo "$n"
}

server_start "$NS" srv --port 5301 --count 0

# kill9_face TAG CMD...: start CMD (a synfin face) in the background, traffic, kill -9
# mid-traffic, and check its BPF objects are gone.
kill9_face() {
	local tag=$1 pid
	shift
	"$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err" &
	pid=$!
	track_pid "$pid"
	wait_for_line "$T_DIR/$tag.err" '^synfin: ready$' 20 "$pid" || die "$tag not ready: $(tail -n 3 "$T_DIR/$tag.err")"
	client_start "$NS" "$tag-cli" --port 5301 --count 100000 --parallel 4
	sleep 0.7
	bpf_objects "$pid" >"$T_DIR/$tag.objs"
	log "$tag: holds $(awk '{ n[$1]++ } END { for (k in n) printf "%s %d ", k, n[k] }' "$T_DIR/$tag.objs")"
	check_true "$tag holds BPF programs and links while it runs" \
		test "$(grep -c '^prog ' "$T_DIR/$tag.objs")" -gt 0 -a "$(grep -c '^link ' "$T_DIR/$tag.objs")" -gt 0
	{ kill -KILL "$pid"; wait "$pid"; } 2>/dev/null
	check_eq "$tag after kill -9 mid-traffic: its programs, links and maps left" 0 "$(objects_left "$T_DIR/$tag.objs")"
	kill "$CLIENT_PID" 2>/dev/null
	wait "$CLIENT_PID" 2>/dev/null
}

kill9_face watch "$SYNFIN" watch --json --netns "/var/run/netns/$NS"
kill9_face serve "$SYNFIN" serve --listen none --textfile "$T_DIR/k.prom" --netns "/var/run/netns/$NS"

# --- run: CMD makes connections until killed (by run's janitor); run is killed after 0.7 s.
# (A CMD of 200 connections was over before the checks under TCG: 5.10's run had exited,
# its summary counting 200 TIME_WAITs.)
"$SYNFIN" run -- ip netns exec "$NS" "$TCPDRIVE" connect --port 5301 --count 100000 --hold-ms 10 \
	>"$T_DIR/run.out" 2>"$T_DIR/run.err" &
RUN=$!
track_pid "$RUN"
wait_run_cmd "$RUN" "$T_DIR/run.err"
STALE=$RUN_CGROUP
sleep 0.7
check_true "run's cgroup exists while it runs" test -d "$STALE" ||
	log "run: $(kill -0 "$RUN" 2>/dev/null && echo alive || echo exited); stderr: $(tail -n 3 "$T_DIR/run.err")"
bpf_objects "$RUN" >"$T_DIR/run.objs"
check_true "run holds BPF programs while it runs" test "$(grep -c '^prog ' "$T_DIR/run.objs")" -gt 0
{ kill -KILL "$RUN"; wait "$RUN"; } 2>/dev/null
check_eq "run after kill -9 mid-traffic: its programs, links and maps left" 0 "$(objects_left "$T_DIR/run.objs")"
# run's janitor (forked before the capability drop) outlives it: it kills what is left in
# the cgroup and removes it.
for _ in $(seq 100); do
	[ -e "$STALE" ] || break
	sleep 0.05
done
check_true "the janitor killed CMD and removed the dead run's cgroup" test ! -e "$STALE"

# The backstop, for a run killed together with its janitor (a process-group SIGKILL, the OOM
# killer): the next run removes a synfin-run-PID cgroup whose PID is dead once it is empty,
# and leaves one that still holds a process, saying so. Made by hand: a dead pid's name.
true &
DEAD=$!
wait "$DEAD"
STALE=$CGROOT/synfin-run-$DEAD BUSY=$CGROOT/synfin-run-$((DEAD + 100000))
mkdir -p "$STALE" "$BUSY" || die "cannot make cgroups"
sleep 30 &
ORPHAN=$!
track_pid "$ORPHAN"
echo "$ORPHAN" >"$BUSY/cgroup.procs" || die "cannot move a process into $BUSY"
# a live pid's cgroup of that name, and another name, must survive the sweep
sleep 30 &
LIVE=$!
track_pid "$LIVE"
mkdir -p "$CGROOT/synfin-run-$LIVE" "$CGROOT/synfin-test-$$"
"$SYNFIN" run -- true >"$T_DIR/run2.out" 2>"$T_DIR/run2.err"
check_eq "the next run: exit 0" 0 "$?"
check_true "the next run removed the dead run's empty cgroup" test ! -e "$STALE"
check_true "a cgroup named after a live pid is left" test -d "$CGROOT/synfin-run-$LIVE"
check_true "a cgroup of another name is left" test -d "$CGROOT/synfin-test-$$"
check_true "a dead run's cgroup with a live process is left" test -d "$BUSY"
check_eq "... and the next run says so, in one line" 1 "$(grep -c "^synfin: note: $BUSY was left by a synfin that was killed, and it still holds 1 process(es)" "$T_DIR/run2.err")"
rmdir "$CGROOT/synfin-run-$LIVE" "$CGROOT/synfin-test-$$" 2>/dev/null
kill "$LIVE"
kill -KILL "$ORPHAN"
for _ in $(seq 100); do
	[ -z "$(cat "$BUSY/cgroup.procs" 2>/dev/null)" ] && break
	sleep 0.05
done
"$SYNFIN" run -- true >/dev/null 2>&1
check_true "once CMD is gone, the next run removes it" test ! -e "$BUSY"
rmdir "$BUSY" "$STALE" 2>/dev/null

# --- the next start works: exact counts
synfin_start --netns "/var/run/netns/$NS"
client_run "$NS" after --port 5301 --count 20
check_eq "after the kills: client connections succeeded" 0 "$CLIENT_RC"
synfin_stop
check_eq "after the kills: client handshakes" 20 "$(ev_count "$INO" handshake client)"
check_eq "after the kills: server handshakes" 20 "$(ev_count "$INO" handshake server)"
t_done
