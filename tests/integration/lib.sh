# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Shared helpers for synfin's root integration tests. Each test_*.sh sources this file.
#
# Depends on (Debian packages; `make deps` must install them): jq, iproute2,
# iptables (the tests use iptables-legacy/ip6tables-legacy, never nft), coreutils, gawk or
# mawk; bash >= 5 (EPOCHREALTIME).
#
# Environment:
#   SYNFIN    synfin binary (default: <repo>/synfin)
#   TCPDRIVE  traffic driver built from tests/integration/tcpdrive.c
#             (default: <repo>/.output/tcpdrive)
#   T_KEEP    1: keep the scratch directory; 0: delete it even when the test failed
#             (by default it is kept only when the test failed)
#
# Exit status of a test: 0 pass, 1 fail, 77 skip.
#
# Every network namespace a test creates is named synfin-t-<pid>-<name> and is deleted by
# the EXIT trap, together with every background process the test started (killed by pid)
# and the test's scratch directory. iptables rules live only inside those namespaces.

set -u

T_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
T_REPO=$(cd "$T_LIB_DIR/../.." && pwd)
SYNFIN=${SYNFIN:-$T_REPO/synfin}
TCPDRIVE=${TCPDRIVE:-$T_REPO/.output/tcpdrive}
T_NAME=$(basename "$0" .sh)

T_PASS=0
T_FAIL=0
T_NETNS=()
T_PIDS=()
T_DIR=

SYNFIN_PID=
SYNFIN_FILTERED=0
SYNFIN_OUT=
SYNFIN_ERR=

T_T0=${EPOCHREALTIME:-0}

# log MSG: to stderr, with the seconds since the test started.
log() {
	local t
	t=$(awk -v a="$T_T0" -v b="${EPOCHREALTIME:-0}" 'BEGIN { printf "%.2f", b - a }')
	printf '%s: [%s] %s\n' "$T_NAME" "$t" "$*" >&2
}

# Stops the test early. `die` is an error in the environment or the test itself (exit 1),
# `skip` means the test cannot run here (exit 77).
die() { log "error: $*"; exit 1; }
skip() { log "SKIP: $*"; exit 77; }

t_cleanup() {
	local pid ns i
	trap - EXIT INT TERM
	for ((i = ${#T_PIDS[@]} - 1; i >= 0; i--)); do
		pid=${T_PIDS[i]}
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null
			for _ in 1 2 3 4 5 6 7 8 9 10; do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	for ns in "${T_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$T_DIR" ] && [ -d "$T_DIR" ]; then
		if [ "${T_KEEP:-0}" = 1 ]; then
			log "kept scratch directory $T_DIR"
		else
			rm -rf "$T_DIR"
		fi
	fi
}

t_init() {
	trap 't_cleanup' EXIT
	trap 'exit 1' INT TERM
	T_DIR=$(mktemp -d "/tmp/synfin-$T_NAME.XXXXXX") || die "mktemp failed"
}

# Remember a background process so the EXIT trap ends it.
track_pid() { T_PIDS+=("$1"); }

require_root() {
	[ "$(id -u)" -eq 0 ] ||
		die "must run as root (it loads BPF programs and creates network namespaces)"
}

require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			die "'$c' not found; install it (make deps installs the test dependencies)"
	done
}

require_synfin() {
	[ -x "$SYNFIN" ] ||
		die "synfin binary '$SYNFIN' not found; build it with make or set SYNFIN"
}

require_tcpdrive() {
	[ -x "$TCPDRIVE" ] ||
		die "traffic driver '$TCPDRIVE' not found; build it with make or set TCPDRIVE"
}

# The usual preamble: root, tools, binaries, scratch directory and cleanup trap.
t_setup() {
	require_root
	require_cmd jq ip awk
	require_synfin
	require_tcpdrive
	t_init
}

# has_feature NAME: true when synfin gives NAME on this kernel (`synfin check --json`, asked
# once per test run: run.sh exports SYNFIN_FEATURES_JSON). A test checks the exact value
# where the feature exists, and that the record marks it missing (null) where it does not.
has_feature() {
	local f=${SYNFIN_FEATURES_JSON:-}
	if [ -z "$f" ] || [ ! -s "$f" ]; then
		f=$T_DIR/features.json
		[ -s "$f" ] || "$SYNFIN" check --json >"$f" 2>/dev/null
	fi
	[ "$(jq -r --arg n "$1" '.features[$n] // false' "$f")" = true ]
}

# memlock_wrap: a command prefix (sets MEMLOCK_WRAP) giving what it runs the largest
# RLIMIT_MEMLOCK root may give, as LimitMEMLOCK=infinity does for the unit: before 5.11
# BPF memory counts against it and an unprivileged synfin cannot raise it (no
# CAP_SYS_RESOURCE). Unlimited where root may; else the hard limit (a machine whose
# bounding set lacks CAP_SYS_RESOURCE, whose kernel then must have memcg accounting).
memlock_wrap() {
	local hard
	if prlimit --memlock=unlimited:unlimited true 2>/dev/null; then
		MEMLOCK_WRAP=(prlimit --memlock=unlimited:unlimited)
	else
		hard=$(ulimit -Hl)
		[ "$hard" = unlimited ] || hard=$((hard * 1024))
		MEMLOCK_WRAP=(prlimit --memlock="$hard:$hard")
	fi
}

# ---------------------------------------------------------------- namespaces

# netns_name SUFFIX: the name this test uses for namespace SUFFIX.
netns_name() { printf 'synfin-t-%s-%s' "$$" "$1"; }

# netns_create NAME: a fresh namespace with lo up, deleted on exit.
netns_create() {
	local ns=$1
	ip netns add "$ns" || die "ip netns add $ns failed"
	T_NETNS+=("$ns")
	ip -n "$ns" link set lo up || die "cannot bring lo up in $ns"
}

# netns_inode NAME: the namespace's inode number, as synfin reports it in "netns".
netns_inode() { stat -L -c %i "/var/run/netns/$1"; }

# nsx NAME CMD...: run CMD inside namespace NAME.
nsx() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# counter NAME GROUP FIELD: a kernel counter of namespace NAME from /proc/net/snmp or
# /proc/net/netstat, e.g. `counter NS Tcp ActiveOpens`, `counter NS TcpExt TW`.
# (The Tcp group is shared by IPv4 and IPv6.)
counter() {
	local ns=$1 group=$2 field=$3 v
	v=$(ip netns exec "$ns" cat /proc/net/snmp /proc/net/netstat |
		awk -v g="$group:" -v f="$field" '
		$1 == g && !hdr { for (i = 2; i <= NF; i++) idx[$i] = i; hdr = 1; next }
		$1 == g && hdr { if (f in idx) print $(idx[f]); exit }')
	[ -n "$v" ] || die "counter $group $field not found in namespace $ns"
	printf '%s\n' "$v"
}

# ---------------------------------------------------------------- waiting

# wait_for_line FILE REGEX TIMEOUT_S [PID]: poll FILE until a line matches REGEX.
# Fails early when PID (the writer) exits first.
wait_for_line() {
	local file=$1 re=$2 timeout=$3 pid=${4:-} i n
	n=$((timeout * 20))
	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$re" "$file" 2>/dev/null && return 0
			return 2
		fi
		sleep 0.05
	done
	return 1
}

# wait_pid PID TIMEOUT_S: wait for a background child; returns its exit status,
# or 124 after killing it when it outlives the timeout.
wait_pid() {
	local pid=$1 timeout=$2 i
	for ((i = 0; i < timeout * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
}

# wait_run_cmd RUN_PID ERR_FILE: `synfin run` prints no "ready": its CMD is started (into
# the cgroup synfin-run-RUN_PID) once the programs are attached, which took more than 10 s
# in a TCG guest (6.1). Waits up to 60 s for CMD to be in that cgroup; dies, with run's last
# words from ERR_FILE, if run exits first. Sets RUN_CGROUP to the cgroup's path.
wait_run_cmd() {
	local run=$1 err=$2
	RUN_CGROUP=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/synfin-run-$run
	for _ in $(seq 1200); do
		[ -n "$(cat "$RUN_CGROUP/cgroup.procs" 2>/dev/null)" ] && break
		kill -0 "$run" 2>/dev/null || die "run exited before CMD started: $(tail -n 3 "$err")"
		sleep 0.05
	done
}

# ---------------------------------------------------------------- traffic

# server_start NS TAG ARGS...: `tcpdrive serve ARGS` inside NS, waits for "ready".
# Sets SERVER_PID (also the pid synfin must report: `ip netns exec` execs in place).
# Its output goes to $T_DIR/TAG.out and TAG.err.
server_start() {
	local ns=$1 tag=$2 r
	shift 2
	# The background job truncates TAG.out only when it runs: without this, a second server
	# of the same tag could be taken as ready on the first one's "ready" line.
	rm -f "$T_DIR/$tag.out" "$T_DIR/$tag.err"
	ip netns exec "$ns" "$TCPDRIVE" serve "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err" &
	SERVER_PID=$!
	track_pid "$SERVER_PID"
	wait_for_line "$T_DIR/$tag.out" '^ready$' 10 "$SERVER_PID"
	r=$?
	[ "$r" -eq 0 ] || die "server $tag did not become ready: $(cat "$T_DIR/$tag.err")"
}

# server_wait PID TAG: the server must exit 0 within 30 s (it exits after --count).
server_wait() {
	local pid=$1 tag=$2 rc
	wait_pid "$pid" 30
	rc=$?
	check_eq "server $tag exit status" 0 "$rc" || log "server $tag: $(cat "$T_DIR/$tag.err")"
}

# client_start NS TAG ARGS...: `tcpdrive connect ARGS` inside NS in the background; sets
# CLIENT_PID. Output in $T_DIR/TAG.out and TAG.err.
client_start() {
	local ns=$1 tag=$2
	shift 2
	ip netns exec "$ns" "$TCPDRIVE" connect "$@" >"$T_DIR/$tag.out" 2>"$T_DIR/$tag.err" &
	CLIENT_PID=$!
	track_pid "$CLIENT_PID"
}

# client_wait PID TAG: waits (300 s) for a client; returns its exit status.
client_wait() {
	local pid=$1 tag=$2 rc
	wait_pid "$pid" 300
	rc=$?
	log "client $tag: $(grep -E '^tcpdrive: connect: pid' "$T_DIR/$tag.err")"
	grep -q "^tcpdrive: connect: pid $pid:" "$T_DIR/$tag.err" ||
		die "client $tag: its pid is not $pid: $(cat "$T_DIR/$tag.err")"
	return $rc
}

# client_run NS TAG ARGS...: client_start, then client_wait; sets CLIENT_PID and CLIENT_RC.
client_run() {
	client_start "$@"
	client_wait "$CLIENT_PID" "$2"
	CLIENT_RC=$?
}

# client_ports FILE / server_peer_ports FILE: the client-side ports of the connections a
# --verbose tcpdrive printed to FILE ("ok L R ..." / "accepted L R ..."), sorted, one line.
client_ports() {
	awk '$1 == "ok" { n = split($2, a, ":"); print a[n] }' "$1" | sort -n | paste -sd ' '
}
server_peer_ports() {
	awk '$1 == "accepted" { n = split($3, a, ":"); print a[n] }' "$1" | sort -n | paste -sd ' '
}

# ---------------------------------------------------------------- synfin

# synfin_start ARGS...: `synfin watch --json ARGS` in the background; waits (20 s) for
# "synfin: ready" on its stderr. Output in $SYNFIN_OUT, diagnostics in $SYNFIN_ERR.
# SYNFIN_WRAP (optional array): a command synfin is started under, which must exec it in
# place (e.g. capsh ... -- -c 'exec "$@"' -), so that $SYNFIN_PID is synfin's own pid.
synfin_start() {
	local r a
	SYNFIN_FILTERED=0
	for a in "$@"; do
		case $a in --netns | --netns=* | -n) SYNFIN_FILTERED=1 ;; esac
	done
	SYNFIN_OUT=$T_DIR/synfin.json
	SYNFIN_ERR=$T_DIR/synfin.err
	${SYNFIN_WRAP[@]+"${SYNFIN_WRAP[@]}"} "$SYNFIN" watch --json "$@" \
		>"$SYNFIN_OUT" 2>"$SYNFIN_ERR" &
	SYNFIN_PID=$!
	track_pid "$SYNFIN_PID"
	wait_for_line "$SYNFIN_ERR" '^synfin: ready$' 20 "$SYNFIN_PID"
	r=$?
	case $r in
	0) ;;
	2) die "synfin exited before it was ready: $(tail -n 5 "$SYNFIN_ERR")" ;;
	*) die "synfin not ready after 20 s: $(tail -n 5 "$SYNFIN_ERR")" ;;
	esac
}

# synfin_stop: lets the last events drain (they arrive up to ~100 ms late), sends SIGINT,
# and checks that synfin exits 0 and printed its summary.
synfin_stop() {
	local rc lost
	sleep 0.3
	kill -INT "$SYNFIN_PID" 2>/dev/null
	wait_pid "$SYNFIN_PID" 10
	rc=$?
	check_eq "synfin exit status after SIGINT" 0 "$rc" ||
		log "synfin stderr: $(tail -n 5 "$SYNFIN_ERR")"
	check_eq "synfin output lines that are not JSON objects" 0 \
		"$(jq -R 'try (fromjson | if type == "object" then empty else 1 end) catch 1' \
			"$SYNFIN_OUT" | wc -l)"
	check_eq "synfin summary objects" 1 \
		"$(jq -c 'select(.type == "summary")' "$SYNFIN_OUT" | wc -l)"
	log "synfin summary: $(jq -c 'select(.type == "summary")' "$SYNFIN_OUT" | head -c 600)"
	# Exact counts need every event. Watching one test namespace, nothing may be lost.
	# Watching the whole machine, heavy unrelated load (a benchmark) can fill the ring
	# buffer: that is reported, and the exact counts then tell whether our events survived.
	lost=$(jq -r 'select(.type == "summary") | .events.lost' "$SYNFIN_OUT" | head -n 1)
	if [ "$SYNFIN_FILTERED" = 1 ]; then
		check_eq "synfin lost no events (summary .events.lost)" 0 "$lost"
	elif [ "${lost:-0}" != 0 ]; then
		log "warning: synfin lost $lost events machine-wide (a ring buffer filled by other" \
			"load, or program runs the kernel skipped, whose events may be anyone's);" \
			"counts below fail if any of them were this test's"
	fi
}

# ev_narrow INODE: from now on ev/ev_count/check_none read only the events of namespace
# INODE (the full output stays in $SYNFIN_ALL). Without --netns synfin reports the whole
# machine, and re-reading all of it for every check is slow when the host is busy.
ev_narrow() {
	SYNFIN_ALL=$SYNFIN_OUT
	SYNFIN_OUT=$T_DIR/synfin.netns-$1.json
	jq -c --argjson ino "$1" 'select(.netns == $ino)' "$SYNFIN_ALL" >"$SYNFIN_OUT" ||
		die "cannot filter $SYNFIN_ALL"
}

# ev JQ_FILTER: run a jq filter over the collected events as one array (slurped).
ev() { jq -s -c "$1" "$SYNFIN_OUT"; }

# ev_count NETNS TYPE [SIDE]: events of TYPE (and SIDE) in the namespace with inode NETNS.
ev_count() {
	local ino=$1 type=$2 side=${3:-}
	jq -s --argjson ino "$ino" --arg t "$type" --arg s "$side" \
		'[.[] | select(.type == $t and .netns == $ino and ($s == "" or .side == $s))]
		| length' \
		"$SYNFIN_OUT"
}

# ---------------------------------------------------------------- iptables (in a netns)

# ipt NS ARGS...: iptables-legacy inside NS; ip6t the same for IPv6.
ipt() { local ns=$1; shift; ip netns exec "$ns" iptables-legacy -w "$@"; }
ip6t() { local ns=$1; shift; ip netns exec "$ns" ip6tables-legacy -w "$@"; }

# ipt_packets NS CMD CHAIN: packet count of rule 1 of CHAIN (CMD: ipt or ip6t).
ipt_packets() {
	local ns=$1 cmd=$2 chain=$3
	"$cmd" "$ns" -L "$chain" -v -n -x | awk 'NR == 3 { print $1 }'
}

# ---------------------------------------------------------------- assertions

_ok() { T_PASS=$((T_PASS + 1)); printf '  ok   %s\n' "$1"; }
_bad() { T_FAIL=$((T_FAIL + 1)); printf '  FAIL %s\n' "$1"; }

# check_eq DESC EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		_ok "$1 ($3)"
	else
		_bad "$1: expected $2, got $3"
		return 1
	fi
}

# check_range DESC LO HI ACTUAL: LO <= ACTUAL <= HI, numerically (decimals allowed).
check_range() {
	if awk -v lo="$2" -v hi="$3" -v v="$4" \
		'BEGIN { exit !(v != "" && v + 0 == v && v >= lo + 0 && v <= hi + 0) }'; then
		_ok "$1 ($4 in [$2, $3])"
	else
		_bad "$1: expected in [$2, $3], got '$4'"
		return 1
	fi
}

# check_same DESC EXPECTED ACTUAL: two space-separated sorted lists (e.g. ports) are equal;
# on failure only the sizes and the first differences are shown.
check_same() {
	local desc=$1 a=$2 b=$3 na nb miss extra
	na=$(wc -w <<<"$a")
	nb=$(wc -w <<<"$b")
	if [ "$a" = "$b" ]; then
		_ok "$desc ($na items)"
		return 0
	fi
	tr ' ' '\n' <<<"$a" | sort >"$T_DIR/.same.a"
	tr ' ' '\n' <<<"$b" | sort >"$T_DIR/.same.b"
	miss=$(comm -23 "$T_DIR/.same.a" "$T_DIR/.same.b" | head -n 10 | paste -sd ' ')
	extra=$(comm -13 "$T_DIR/.same.a" "$T_DIR/.same.b" | head -n 10 | paste -sd ' ')
	_bad "$desc: expected $na items, got $nb; missing (first 10): $miss; unexpected: $extra"
	return 1
}

# check_true DESC CMD...: CMD must succeed.
check_true() {
	local desc=$1
	shift
	if "$@"; then
		_ok "$desc"
	else
		_bad "$desc"
		return 1
	fi
}

# check_none DESC JQ_FILTER: the slurped filter must produce an empty array; otherwise the
# first offending events are shown.
check_none() {
	local desc=$1 bad n
	bad=$(ev "$2")
	n=$(jq 'length' <<<"$bad")
	if [ "$n" = 0 ]; then
		_ok "$desc"
	else
		_bad "$desc: $n offending events, e.g.:"
		jq -c '.[:3][]' <<<"$bad" | sed 's/^/         /'
		return 1
	fi
}

# t_done: print the tally and exit 0 when every check passed.
t_done() {
	printf '%s: %d checks passed, %d failed\n' "$T_NAME" "$T_PASS" "$T_FAIL"
	[ "$T_FAIL" -eq 0 ] && exit 0
	# A failed test keeps its scratch directory (synfin's JSON, tcpdrive's output) for
	# the post-mortem, unless T_KEEP=0.
	[ "${T_KEEP:-}" = 0 ] || T_KEEP=1
	exit 1
}
