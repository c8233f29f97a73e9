#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Capabilities, not root: synfin runs as an unprivileged user (nobody) holding only the
# capabilities deploy/synfin.service grants (ambient, through setpriv), and drops every one
# once its programs are loaded, attached and seeded. Checked against the kernel:
#   - while `serve` serves and `watch` watches, /proc/PID/status shows CapEff, CapPrm,
#     CapInh and CapAmb all 0, NoNewPrivs 1, the uid nobody's (for root: CapBnd 0 too);
#   - the counts are still exact: client handshakes == delta TcpActiveOpens - AttemptFails,
#     server handshakes + children aborted == delta TcpPassiveOpens, in a fresh namespace;
#   - a connection established before the start was seeded (setns into --netns needs
#     CAP_SYS_ADMIN: seeding happens before the drop): the established gauge counts it;
#   - a missing capability is one line on stderr naming it, exit 1;
#   - run: CMD (printing `id -u`) runs as SUDO_UID, as --user NAME or UID, as root only with
#     --user root or a notice; synfin's own CapEff/CapPrm/CapAmb are 0 while CMD runs; as a
#     service user, CMD inherits none of synfin's capabilities; SIGTERM still reaches a CMD
#     of another user; no cgroup is left behind, also when synfin is SIGKILLed (the janitor).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/serve_lib.sh"
t_setup
require_cmd setpriv prlimit capsh curl python3 ss

N=${N:-20}
SRV_PORT=5101
HOLD_PORT=5102
UNIT=$T_REPO/deploy/synfin.service
NOBODY=$(id -u nobody 2>/dev/null) || die "no user 'nobody'"
NOGROUP=$(id -g nobody)
# The unit's set, as setpriv spells it (+bpf,+perfmon,...).
keep=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z ' 'a-z\n' | sed 's/^cap_/+/' | paste -sd,)
[ -n "$keep" ] || die "no CapabilityBoundingSet in $UNIT"
log "the unit's capabilities: $keep"

# synfin where nobody can execute it (the scratch directory is root's, mode 0700).
BIN=$(mktemp -d /tmp/synfin-capdrop-bin.XXXXXX) || die "mktemp failed"
chmod 0755 "$BIN"
cp "$SYNFIN" "$BIN/synfin" && chmod 0755 "$BIN/synfin" || die "cannot copy synfin"
trap 'rm -rf "$BIN"; t_cleanup' EXIT
memlock_wrap # as the unit's LimitMEMLOCK=infinity
as_nobody=("${MEMLOCK_WRAP[@]}" setpriv --reuid="$NOBODY" --regid="$NOGROUP" --clear-groups
	--inh-caps="-all,$keep" --ambient-caps="-all,$keep")

# status_field PID NAME: the value of NAME: in /proc/PID/status.
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# What synfin may keep: nothing, or CAP_BPF alone (bit 39) where the kernel refuses bpf() on
# open fds without it (before 5.19); synfin then says so in one note, and KEEP is set from
# the first serve's stderr.
KEEP=0000000000000000
NOTE='^synfin: note: this kernel refuses bpf\(\) on open fds without cap_bpf'

# check_dropped WHO PID UID: nothing held but KEEP, nothing to regain.
check_dropped() {
	local who=$1 pid=$2 uid=$3 f
	for f in CapEff CapPrm; do
		check_eq "$who: $f while it runs" "$KEEP" "$(status_field "$pid" "$f")"
	done
	for f in CapInh CapAmb; do
		check_eq "$who: $f while it runs" 0000000000000000 "$(status_field "$pid" "$f")"
	done
	check_eq "$who: NoNewPrivs" 1 "$(status_field "$pid" NoNewPrivs)"
	check_eq "$who: uid" "$uid" "$(status_field "$pid" Uid)"
}

NS=$(netns_name capdrop)
netns_create "$NS"
INO=$(netns_inode "$NS")

# A connection that exists before synfin starts, held open throughout.
nsx "$NS" python3 -c '
import socket, sys, time
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1]))); l.listen()
c = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); a, _ = l.accept()
print("held", flush=True); time.sleep(600)' $HOLD_PORT >"$T_DIR/hold.out" 2>&1 &
track_pid $!
wait_for_line "$T_DIR/hold.out" '^held$' 10 $! || die "the held connection did not come up"

# traffic TAG: N connections in NS; sets DA, DP (kernel deltas of Active/PassiveOpens
# net of failed attempts).
traffic() {
	local a0 p0 f0
	a0=$(counter "$NS" Tcp ActiveOpens)
	p0=$(counter "$NS" Tcp PassiveOpens)
	f0=$(counter "$NS" Tcp AttemptFails)
	server_start "$NS" "$1-srv" --port $SRV_PORT --count "$N"
	client_run "$NS" "$1-cli" --port $SRV_PORT --count "$N" --parallel 4
	check_eq "$1: all $N connections succeeded" 0 "$CLIENT_RC"
	server_wait "$SERVER_PID" "$1-srv"
	DA=$(($(counter "$NS" Tcp ActiveOpens) - a0 - ($(counter "$NS" Tcp AttemptFails) - f0)))
	DP=$(($(counter "$NS" Tcp PassiveOpens) - p0))
	log "$1: kernel deltas: ActiveOpens - AttemptFails $DA, PassiveOpens $DP"
	sleep 0.5 # records arrive within a drain period
}

# --- serve, as nobody with the unit's capabilities
PORT=$(free_port)
"${as_nobody[@]}" "$BIN/synfin" serve --listen "127.0.0.1:$PORT" --netns "/var/run/netns/$NS" \
	>"$T_DIR/serve.out" 2>"$T_DIR/serve.err" &
SERVE_PID=$!
track_pid $SERVE_PID
wait_for_line "$T_DIR/serve.err" '^synfin: ready$' 20 $SERVE_PID ||
	die "synfin serve not ready: $(tail -n 5 "$T_DIR/serve.err")"
if grep -qiE "$NOTE" "$T_DIR/serve.err"; then
	KEEP=0000008000000000
	log "this kernel needs CAP_BPF for bpf() on open fds: synfin keeps it alone"
fi
check_dropped "serve as nobody" $SERVE_PID "$NOBODY"
scrape "$PORT" "$T_DIR/m0.txt"
check_eq "serve: the connection held from before the start was seeded (2 sockets)" 2 \
	"$(metric "$T_DIR/m0.txt" 'synfin_sockets{state="established"}')"
traffic serve
scrape "$PORT" "$T_DIR/m1.txt"
M=$T_DIR/m1.txt
check_eq "serve: client handshakes == delta ActiveOpens - AttemptFails" "$DA" \
	"$(metric "$M" 'synfin_handshake_duration_seconds_count{side="client"}')"
check_eq "serve: server handshakes + children aborted == delta PassiveOpens" "$DP" \
	"$(($(metric "$M" 'synfin_handshake_duration_seconds_count{side="server"}') + \
		$(metric "$M" synfin_server_children_aborted_total)))"
check_eq "serve: client handshakes == $N" "$N" \
	"$(metric "$M" 'synfin_handshake_duration_seconds_count{side="client"}')"
check_eq "serve: events lost" 0 "$(metric "$M" synfin_events_lost_total)"
check_eq "serve: /healthz after the drop" 200 "$(http_code GET "http://127.0.0.1:$PORT/healthz")"
check_dropped "serve as nobody, after the scrapes" $SERVE_PID "$NOBODY"
serve_stop $SERVE_PID serve

# --- serve as root: the bounding set goes too (root holds CAP_SETPCAP)
PORT=$(free_port)
serve_start root --listen "127.0.0.1:$PORT" --netns "/var/run/netns/$NS"
check_dropped "serve as root" "$SERVE_PID" 0
check_eq "serve as root: CapBnd" 0000000000000000 "$(status_field "$SERVE_PID" CapBnd)"
scrape "$PORT" "$T_DIR/root.txt"
check_eq "serve as root: scrape after the drop, seeded connection" 2 \
	"$(metric "$T_DIR/root.txt" 'synfin_sockets{state="established"}')"
serve_stop "$SERVE_PID" root

# --- watch, as nobody with the unit's capabilities
SYNFIN_WRAP=("${as_nobody[@]}")
SYNFIN_SAVED=$SYNFIN
SYNFIN=$BIN/synfin
synfin_start --netns "/var/run/netns/$NS"
check_dropped "watch as nobody" "$SYNFIN_PID" "$NOBODY"
traffic watch
check_dropped "watch as nobody, after the traffic" "$SYNFIN_PID" "$NOBODY"
synfin_stop
SYNFIN=$SYNFIN_SAVED
check_eq "watch: client handshakes == delta ActiveOpens - AttemptFails" "$DA" \
	"$(ev_count "$INO" handshake client)"
check_eq "watch: server handshakes + children aborted == delta PassiveOpens" "$DP" \
	"$(($(ev_count "$INO" handshake server) + \
		$(jq -s '[.[] | select(.type == "summary")][0].events.server_children_aborted' "$SYNFIN_OUT")))"
check_eq "watch: client handshakes == $N" "$N" "$(ev_count "$INO" handshake client)"
check_eq "watch: the held connection was seeded (established gauge)" 2 \
	"$(jq -s '[.[] | select(.type == "summary")][0].sockets.established' "$SYNFIN_OUT")"

# --- a missing capability: one line naming it, exit 1 (CAP_SYS_ADMIN implies both, so it
# goes too)
# missing TAG CAPS PATTERN ARGS...: synfin ARGS without CAPS.
missing() {
	local tag=$1 caps=$2 pat=$3 rc
	shift 3
	capsh --drop="$caps" -- -c 'exec "$@"' - "$SYNFIN" "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err"
	rc=$?
	check_eq "without $caps: $* exits 1" 1 "$rc"
	check_eq "without $caps: $*: one line on stderr" 1 "$(wc -l <"$T_DIR/$tag.err")"
	check_true "without $caps: $*: names it ($(head -c 200 "$T_DIR/$tag.err"))" \
		grep -q "^synfin: $pat" "$T_DIR/$tag.err"
}
missing nobpf cap_bpf,cap_sys_admin 'needs CAP_BPF and CAP_PERFMON.*missing: CAP_BPF)' watch -d 1
missing noperf cap_perfmon,cap_sys_admin 'needs CAP_BPF and CAP_PERFMON.*missing: CAP_PERFMON)' \
	serve --listen none --textfile "$T_DIR/x.prom"
missing nodac cap_dac_override 'run needs CAP_DAC_OVERRIDE' run -- true
missing nosetuid cap_setuid 'run needs CAP_SETUID' run --user nobody -- true

# --- run: CMD as the invoking user, never silently as root; synfin itself holds nothing
CG=$(awk '$0 ~ / - cgroup2 / { print $5; exit }' /proc/self/mountinfo)
# CMD prints its uid, then synfin's (its parent's) capability sets while it runs.
# Last, "cg:" and its cgroup: the test checks that this one is gone (other synfins may run).
probe='id -u; awk '\''/^Cap(Eff|Prm|Amb)/ { print $1 $2 }'\'' /proc/$PPID/status; sed -n "s/^0::/cg:/p" /proc/self/cgroup'
# run_as TAG ENV... -- ARGS...: synfin run ARGS -- sh -c "$probe", under ENV.
run_as() {
	local tag=$1
	shift
	env "$@" sh -c "$probe" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err"
	RC=$?
}
run_as sudo SUDO_UID="$NOBODY" SUDO_GID="$NOGROUP" "$SYNFIN" run -q --
check_eq "run under sudo: exit 0" 0 "$RC"
check_eq "run under sudo: CMD runs as SUDO_UID" "$NOBODY" "$(head -n 1 "$T_DIR/sudo.out")"
check_eq "run: synfin's CapEff, CapPrm, CapAmb while CMD runs" \
	"CapPrm:$KEEP CapEff:$KEEP CapAmb:0000000000000000" \
	"$(grep '^Cap' "$T_DIR/sudo.out" | paste -sd ' ')"
# SIGTERM to synfin still reaches a CMD of another user: synfin, without CAP_KILL, signals
# it as CMD's real uid.
SUDO_UID=$NOBODY SUDO_GID=$NOGROUP "$SYNFIN" run -q -- sh -c 'trap "exit 42" TERM; sleep 30 & wait' \
	>"$T_DIR/term.out" 2>"$T_DIR/term.err" &
SPID=$!
# CMD is up once its shell has started the sleep it waits for (its trap is set by then);
# up to 30 s: loading takes seconds in a TCG guest (5.10: more than the 5 s this once was)
cmd_up() {
	local sh
	for sh in $(pgrep -f 'trap "exit 42" TERM'); do
		pgrep -P "$sh" -x sleep >/dev/null && return 0
	done
	return 1
}
for _ in $(seq 600); do
	cmd_up && break
	sleep 0.05
done
cmd_up || die "CMD did not start within 30 s: $(cat "$T_DIR/term.err")"
kill -TERM $SPID
wait_pid $SPID 20
check_eq "run under sudo: SIGTERM reaches CMD running as nobody (its trap: exit 42)" 42 "$?" ||
	log "$(cat "$T_DIR/term.err")"
check_true "run under sudo, SIGTERM: the cgroup is removed" test ! -e "$CG/synfin-run-$SPID"
run_as user "$SYNFIN" run -q --user nobody --
check_eq "run --user nobody: CMD runs as nobody" "$NOBODY" "$(head -n 1 "$T_DIR/user.out")"
run_as num "$SYNFIN" run -q --user "$NOBODY" --
check_eq "run --user UID: CMD runs as that uid" "$NOBODY" "$(head -n 1 "$T_DIR/num.out")"
run_as root -u SUDO_UID -u SUDO_GID "$SYNFIN" run -q --
check_eq "run as root, no SUDO_UID, no --user: CMD is root" 0 "$(head -n 1 "$T_DIR/root.out")"
check_true "... and synfin says so ($(head -c 200 "$T_DIR/root.err"))" \
	grep -q '^synfin: note: running CMD as root' "$T_DIR/root.err"
run_as eroot -u SUDO_UID -u SUDO_GID "$SYNFIN" run -q --user root --
check_eq "run --user root: CMD is root" 0 "$(head -n 1 "$T_DIR/eroot.out")"
# (other notes, of what the kernel lacks, may be there: not this one)
check_eq "run --user root: no notice about CMD's user" 0 "$(grep -c 'running CMD as root' "$T_DIR/eroot.err")"
"$SYNFIN" run -q --user no-such-user-here -- true 2>"$T_DIR/nouser.err"
check_eq "run --user unknown: exit 2" 2 "$?"
check_true "run --user unknown: says so" grep -q '^synfin: --user no-such-user-here: no such user' "$T_DIR/nouser.err"
# gone_pid PID: exited (or a zombie waiting for a reaper).
gone_pid() { local st; st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null); [ -z "$st" ] || [ "$st" = Z ]; }
# synfin SIGKILLed: the janitor (its pipe closed) still kills CMD and removes the cgroup.
"$SYNFIN" run -q --user root -- sh -c 'echo $$ >"$0"; exec sleep 60' "$T_DIR/killed.pid" \
	>/dev/null 2>"$T_DIR/killed.err" &
SPID=$!
for _ in $(seq 100); do [ -s "$T_DIR/killed.pid" ] && break; sleep 0.05; done
[ -s "$T_DIR/killed.pid" ] || die "run's CMD did not start: $(cat "$T_DIR/killed.err")"
kill -KILL $SPID
wait $SPID 2>/dev/null
for _ in $(seq 100); do [ -e "$CG/synfin-run-$SPID" ] || break; sleep 0.05; done
check_true "synfin run SIGKILLed: the janitor removed its cgroup" test ! -e "$CG/synfin-run-$SPID"
check_true "synfin run SIGKILLed: the janitor killed CMD" gone_pid "$(cat "$T_DIR/killed.pid")"

# synfin as nobody with the unit's set plus run's: CMD is nobody with no capability at all.
run_as svc "${as_nobody[@]/%$keep/$keep,+dac_override}" "$BIN/synfin" run -q -- \
	sh -c 'id -u; awk '\''/^Cap(Eff|Prm|Amb|Inh)/ { print $1 $2 }'\'' /proc/self/status'
check_eq "run as nobody with capabilities: exit 0" 0 "$RC" || log "$(cat "$T_DIR/svc.err")"
check_eq "run as nobody with capabilities: CMD holds none" \
	"$NOBODY CapInh:0000000000000000 CapPrm:0000000000000000 CapEff:0000000000000000 CapAmb:0000000000000000" \
	"$(paste -sd ' ' "$T_DIR/svc.out")"
# gone TAG...: the cgroup each CMD saw itself in (its "cg:" line) is removed.
gone() {
	local t cg
	for t in "$@"; do
		cg=$(sed -n 's/^cg://p' "$T_DIR/$t.out")
		case $cg in /synfin-run-*) ;; *) log "$t: CMD's cgroup '$cg'"; return 1 ;; esac
		test ! -e "$CG$cg" || { log "$t: $CG$cg is left"; return 1; }
	done
}
check_true "run: the cgroups CMD ran in are removed (by the janitor)" gone sudo user num root eroot
t_done
