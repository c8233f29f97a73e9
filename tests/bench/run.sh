#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# synfin's side-by-side benchmark (issues 6 and 14). Workloads, each in a network namespace
# of its own: the connection storm (tests/bench/storm.c), bulk transfer with large and with
# tiny writes (iperf3, tests/bench/bulk.sh) and request/response on persistent connections
# (storm --persistent), so that hooks firing per packet or per timer re-arm show up as well
# as per-connection ones. Each runs with no observer, with the floor (empty programs on
# synfin's attachments, tests/bench/floor.bpf.c), with synfin and with every peer that is
# installed. Configurations alternate A/B/C/A/B/C... so a noisy machine hurts all alike;
# each is repeated and reported as median [min-max].
#
# The measured rounds run with kernel.bpf_stats_enabled=0, as in production (the stats add
# ~2 clock reads to every program run: observers with more programs would pay more); one
# more alternated "profile" round with the stats on gives the BPF run times. Prints one
# table and the targets, and writes JSON under tests/bench/results/ (git-ignored).
#
# Needs root (netns, BPF, sysctl). Not part of `make test`. Run `tests/bench/run.sh --help`.
# Never beside a kernel-matrix guest or another bench: both take the same lock first.
#
# Observers run in the root namespaces (tracefs must be visible to classic-tracepoint tools,
# and `ip netns exec` remounts /sys), so they also see any other TCP traffic on the host:
# run it on an otherwise idle machine.

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

all_workloads="storm,bulk-128k,bulk-100,rr"
all_configs="baseline,floor,floor-no-catchers,floor-no-timers,synfin-serve,synfin-run,synfin-watch,tcpstates,tcplife,bpftrace-count,bpftrace-print"
data_configs="baseline,floor,synfin-serve,synfin-watch"
lockdir=${SYNFIN_KERNEL_CACHE:-/var/cache/synfin-kernels}

usage() {
	cat <<EOF
Usage: tests/bench/run.sh [OPTION]...
Benchmark: baseline vs the floor vs synfin vs installed peers, alternated, per workload.

  -w, --workload LIST      comma-separated subset of $all_workloads, or all
                           (env WORKLOAD, default storm):
                             storm      connect/close cycles (rate: conn/s)
                             bulk-128k  iperf3 -P 2 -l 128K over loopback (Gbit/s)
                             bulk-100   iperf3 -P 2 -l 100 (Gbit/s)
                             rr         request/response, one persistent connection per
                                        client thread: storm --persistent (trans/s)
  -r, --reps N             repetitions of each configuration (env REPS; default 5 for the
                           storm, 3 for the other workloads)
  -d, --duration S         seconds per run, integer (env DURATION; default 10 for the
                           storm, 5 for the others)
  -t, --threads N          storm and rr client threads (env THREADS, default 3)
  -a, --accept-threads N   storm and rr listener threads (env ACCEPT_THREADS, default 2)
  -q, --request BYTES      storm: request/response size, 0 = none; rr: its size, 0 = 100
                           (env REQUEST, default 0)
  -c, --close-first WHO    storm: client|server (env CLOSE_FIRST, default client)
  -C, --configs LIST       comma-separated subset of:
                           $all_configs
                           (env CONFIGS; default: all for the storm,
                           $data_configs for the others); must include baseline
  -o, --out FILE           JSON result file (env OUT, default tests/bench/results/bench-DATE.json)
  -h, --help               this text

Environment: QUICK=1 (1 repetition of 3 s per workload: a smoke test), PROFILE=0 (no
profile round: no BPF run-time columns, no BPF target), SYNFIN (binary, default ./synfin),
FLOOR (default .output/floor), STORM (prebuilt storm, default .output/storm or built to a
temp dir), SYNFIN_WATCH_ARGS, SYNFIN_RUN_ARGS and SYNFIN_SERVE_ARGS (extra arguments;
serve's default is --listen on a free-ish 127.0.0.1 port, scraped for event counts; with
your own --listen set SYNFIN_SERVE_PORT to scrape it), READY_TIMEOUT (s to wait for an
observer, default 30), TW_BUCKETS (net.ipv4.tcp_max_tw_buckets inside the workload's netns;
default: the netns default), TCPSTATES and TCPLIFE (the peers' binaries; default: found with
'dpkg -L libbpf-tools'), SYNFIN_KERNEL_CACHE (the directory of guest.lock, shared with the
kernel matrix; default /var/cache/synfin-kernels).
Exit status: 0 ok, 1 failure, 2 usage.
EOF
}

die() { echo "bench: $*" >&2; exit 1; }
usage_err() { echo "bench: $*; see 'tests/bench/run.sh --help'" >&2; exit 2; }
note() { echo "bench: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]{1,9}$ ]]; }

# Per-workload defaults apply where neither the option nor its variable is given.
reps=${REPS:-}
duration=${DURATION:-}
if [[ ${QUICK:-0} == 1 ]]; then
	reps=${REPS:-1}
	duration=${DURATION:-3}
fi
threads=${THREADS:-3}
accept_threads=${ACCEPT_THREADS:-2}
request=${REQUEST:-0}
close_first=${CLOSE_FIRST:-client}
configs=${CONFIGS:-}
workloads=${WORKLOAD:-storm}
out=${OUT:-}
synfin=${SYNFIN:-$root/synfin}
floor=${FLOOR:-$root/.output/floor}
ready_timeout=${READY_TIMEOUT:-30}
profile=${PROFILE:-1}

while (($#)); do
	opt=$1
	case $opt in
	-h | --help) usage; exit 0 ;;
	-r | --reps | -d | --duration | -t | --threads | -a | --accept-threads | -q | --request | \
	-c | --close-first | -C | --configs | -o | --out | -w | --workload)
		(($# >= 2)) || usage_err "option '$opt' needs a value"
		val=$2
		shift 2 ;;
	--*=*)
		set -- "${opt%%=*}" "${opt#*=}" "${@:2}"
		continue ;;
	*) usage_err "unknown argument '$opt'" ;;
	esac
	case $opt in
	-r | --reps) reps=$val ;;
	-d | --duration) duration=$val ;;
	-t | --threads) threads=$val ;;
	-a | --accept-threads) accept_threads=$val ;;
	-q | --request) request=$val ;;
	-c | --close-first) close_first=$val ;;
	-C | --configs) configs=$val ;;
	-o | --out) out=$val ;;
	-w | --workload) workloads=$val ;;
	esac
done

in_range() { # name value min max
	if ! is_uint "$2" || ((10#$2 < $3 || 10#$2 > $4)); then
		usage_err "invalid $1 '$2' ($3..$4)"
	fi
}
[[ -z $reps ]] || in_range --reps "$reps" 1 100
[[ -z $duration ]] || in_range --duration "$duration" 1 3600
in_range --threads "$threads" 1 256
in_range --accept-threads "$accept_threads" 1 256
in_range --request "$request" 0 65536
in_range READY_TIMEOUT "$ready_timeout" 1 600
[[ $close_first == client || $close_first == server ]] ||
	usage_err "invalid --close-first '$close_first' (client|server)"
[[ $profile == 0 || $profile == 1 ]] || usage_err "invalid PROFILE '$profile' (0|1)"
[[ -z ${TW_BUCKETS:-} ]] || is_uint "$TW_BUCKETS" || usage_err "invalid TW_BUCKETS '$TW_BUCKETS'"
[[ $workloads == all ]] && workloads=$all_workloads
# check_list WHAT OPTION LIST ALLOWED HINT: every item of comma-separated LIST is one of
# ALLOWED, once; usage error otherwise.
check_list() {
	local what=$1 opt=$2 list=$3 allowed=$4 hint=$5 item
	local -a items
	local -A seen=()
	IFS=, read -ra items <<<"$list"
	((${#items[@]})) || usage_err "empty $opt"
	for item in "${items[@]}"; do
		[[ ,$allowed, == *,"$item",* ]] || usage_err "unknown $what '$item' (one of $allowed$hint)"
		[[ -z ${seen[$item]:-} ]] || usage_err "$what '$item' given twice"
		seen[$item]=1
	done
}
check_list workload --workload "$workloads" "$all_workloads" ", or all"
IFS=, read -ra wls <<<"$workloads"
declare -A wl_seen=()
for wl in "${wls[@]}"; do wl_seen[$wl]=1; done
if [[ -n $configs ]]; then
	check_list configuration --configs "$configs" "$all_configs" ""
	IFS=, read -ra want <<<"$configs"
	[[ ,$configs, == *,baseline,* ]] || usage_err "--configs must include baseline (ratios need it)"
fi
if [[ -n ${wl_seen[rr]:-} && $close_first == server ]]; then
	usage_err "--close-first server does not apply to the rr workload (its client closes)"
fi

# The configurations, repetitions and seconds of workload $1.
wl_configs() {
	if [[ -n $configs ]]; then
		echo "$configs"
	elif [[ $1 == storm ]]; then
		echo "$all_configs"
	else
		echo "$data_configs"
	fi
}
wl_reps() {
	if [[ -n $reps ]]; then echo "$reps"; elif [[ $1 == storm ]]; then echo 5; else echo 3; fi
}
wl_duration() {
	if [[ -n $duration ]]; then echo "$duration"; elif [[ $1 == storm ]]; then echo 10; else echo 5; fi
}
# What each workload's rate counts, and the operation its per-op figures divide by.
declare -A wl_unit=([storm]=conn/s [bulk-128k]=Gbit/s [bulk-100]=Gbit/s [rr]=trans/s)
declare -A wl_op=([storm]=conn [bulk-128k]=MB [bulk-100]=MB [rr]=trans)

((EUID == 0)) || die "must run as root (network namespace, BPF, sysctl): try 'sudo make bench'"
for tool in ip jq awk flock sysctl; do
	command -v "$tool" >/dev/null || die "'$tool' not found: run 'make deps'"
done
if [[ -n ${wl_seen[bulk-128k]:-}${wl_seen[bulk-100]:-} ]]; then
	for tool in iperf3 ss; do
		command -v "$tool" >/dev/null ||
			die "'$tool' not found (the bulk workloads need it): 'make bench' installs it (Debian package iperf3)"
	done
fi

# ---------------------------------------------------------------------------------------
# One at a time: no kernel-matrix guest (qemu takes both cores) and no other bench beside
# this one. tests/kernels/run.sh takes the same lock the same way (flock on guest.lock in
# its cache directory); the lock is held until this script and its children are gone.

mkdir -p "$lockdir" || die "cannot create $lockdir (for its guest.lock)"
exec 9>"$lockdir/guest.lock" || die "cannot open $lockdir/guest.lock"
if ! flock -n 9; then
	note "waiting for $lockdir/guest.lock: a kernel-matrix guest or another bench holds it"
	flock 9 || die "cannot lock $lockdir/guest.lock"
	note "got $lockdir/guest.lock"
fi

# ---------------------------------------------------------------------------------------
# Setup: temp dir, storm binary, tracefs, BPF run-time stats, netns; undone by the trap.

tmpd=$(mktemp -d /tmp/synfin-bench.XXXXXX) || die "cannot create a temp dir"
ns=
ns_made=0
obs_pid=
obs_config=
old_bpf_stats=

# Kills what runs in the cgroup synfin run (pid $1) made for its command: the workload
# started in the background ignores SIGINT, and synfin run passes SIGTERM to hold.sh only.
# synfin run then sees its command end, removes its cgroup and exits by itself.
kill_run_cgroup() {
	local mnt k cg
	local -a kids=()
	mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[[ -n $mnt ]] || return 1
	read -ra kids < <(cat /proc/"$1"/task/*/children 2>/dev/null | tr '\n' ' ')
	for k in "${kids[@]}"; do
		cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$k/cgroup" 2>/dev/null)
		[[ $cg == */synfin-run-* && -w $mnt$cg/cgroup.kill ]] || continue
		echo 1 >"$mnt$cg/cgroup.kill" 2>/dev/null
	done
}

cleanup() {
	local i
	if [[ -n $obs_pid ]] && kill -0 "$obs_pid" 2>/dev/null; then
		if [[ $obs_config == synfin-run ]]; then
			# SIGKILL would leave synfin run's cgroup behind: end its command first,
			# then SIGTERM (which synfin run passes on) if that was not enough.
			kill_run_cgroup "$obs_pid"
			for ((i = 0; i < 100; i++)); do
				kill -0 "$obs_pid" 2>/dev/null || break
				((i == 50)) && kill -TERM "$obs_pid" 2>/dev/null
				sleep 0.1
			done
		fi
		kill -KILL "$obs_pid" 2>/dev/null
		wait "$obs_pid" 2>/dev/null
	fi
	((ns_made)) && ip netns del "$ns" 2>/dev/null
	[[ -n $old_bpf_stats ]] && sysctl -qw kernel.bpf_stats_enabled="$old_bpf_stats" >/dev/null
	rm -rf "$tmpd"
}
trap cleanup EXIT
trap 'note interrupted; exit 130' INT
trap 'note terminated; exit 143' TERM

storm=${STORM:-}
if [[ -z $storm && -x $root/.output/storm && $root/.output/storm -nt $here/storm.c ]]; then
	storm=$root/.output/storm
fi
if [[ -z $storm ]]; then
	storm=$tmpd/storm
	${CC:-gcc} -O2 -pthread -Wall -Wextra -Werror -o "$storm" "$here/storm.c" ||
		die "cannot build $here/storm.c (is gcc installed? 'make deps')"
fi
[[ -x $storm ]] || die "storm binary '$storm' is not executable"

notes=()
tracefs=/sys/kernel/tracing
if ! grep -qs " $tracefs tracefs " /proc/mounts; then
	if mount -t tracefs nodev "$tracefs" 2>"$tmpd/mount.err"; then
		notes+=("mounted tracefs at $tracefs (classic tracepoints need it; left mounted)")
	else
		notes+=("tracefs not mounted and mounting failed: $(head -n1 "$tmpd/mount.err")")
	fi
	note "${notes[-1]}"
fi

# kernel.bpf_stats_enabled accounts run_time_ns/run_cnt for every program (the same switch as
# bpf_enable_stats(BPF_STATS_RUN_TIME)) at ~2 clock reads per program run: off for the
# measured rounds, as in production, on for the profile round only. The old value is put
# back on exit.
old_bpf_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) ||
	die "cannot read kernel.bpf_stats_enabled"
set_bpf_stats() {
	sysctl -qw kernel.bpf_stats_enabled="$1" >/dev/null ||
		die "cannot set kernel.bpf_stats_enabled=$1"
}
set_bpf_stats 0
notes+=("rates, ratios, CPU, RSS and events/conn come from the measured rounds only, run with kernel.bpf_stats_enabled=0 as in production")
if ((profile)); then
	notes+=("bpf ns/run, bpf ns/op and the per-program lines come from one extra alternated profile round with kernel.bpf_stats_enabled=1 (~2 clock reads per program run); no ratio uses it")
else
	notes+=("no profile round (PROFILE=0): no BPF run times, no BPF target")
fi
notes+=("lost: summed over every round, profile included; cpu ms/kop: observer CPU per 1000 ops, an op being a connection (storm), a transaction (rr) or a MB received (bulk)")

# A fresh network namespace for workload $1, the previous one deleted: the storm leaves tens
# of thousands of TIME_WAIT sockets behind for 60 s, and their ends would be work for the
# observers of the next workload (synfin seeds the sockets it finds and records how their
# TIME_WAIT ends). Deleting the namespace purges them, before the next warm-up.
new_netns() {
	if ((ns_made)); then
		ip netns del "$ns" || die "cannot delete network namespace $ns"
		ns_made=0
	fi
	ns="synfin-bench-$$-$1"
	ip netns add "$ns" || die "cannot create network namespace $ns"
	ns_made=1
	ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
	if [[ -n ${TW_BUCKETS:-} ]]; then
		ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_tw_buckets="$TW_BUCKETS" >/dev/null ||
			die "cannot set net.ipv4.tcp_max_tw_buckets in $ns"
	fi
}

clk_tck=$(getconf CLK_TCK)
serve_port=$((20000 + $$ % 20000)) # synfin serve's /metrics, unless SYNFIN_SERVE_ARGS says
serve_m0=null
serve_m1=null

# ---------------------------------------------------------------------------------------
# Which configurations can run.

declare -A skip=() bin=() seen=()
union=()
for w in "${wls[@]}"; do
	IFS=, read -ra cl <<<"$(wl_configs "$w")"
	for c in "${cl[@]}"; do
		[[ -n ${seen[$c]:-} ]] && continue
		seen[$c]=1
		union+=("$c")
	done
done

find_pkg_tool() {
	local name=$1 p
	p=$(dpkg -L libbpf-tools 2>/dev/null | grep -E "/s?bin/([a-z0-9]+-)?$name\$" | head -n1)
	[[ -z $p ]] && p=$(command -v "$name" 2>/dev/null)
	[[ -n $p && -x $p ]] && echo "$p"
}

for c in "${union[@]}"; do
	case $c in
	floor | floor-*)
		[[ -x $floor ]] || skip[$c]="not built ($floor missing: run 'make .output/floor')" ;;
	synfin-watch | synfin-run)
		[[ -x $synfin ]] || skip[$c]="not built ($synfin missing: run 'make')" ;;
	synfin-serve)
		if [[ ! -x $synfin ]]; then
			skip[$c]="not built ($synfin missing: run 'make')"
		elif ! "$synfin" serve --help >/dev/null 2>&1; then
			skip[$c]="not built ('synfin serve --help' fails: no serve subcommand yet)"
		fi ;;
	tcpstates | tcplife)
		var=${c^^}
		bin[$c]=${!var:-$(find_pkg_tool "$c")}
		[[ -n ${bin[$c]} ]] || skip[$c]="not installed (Debian package libbpf-tools: 'make deps')" ;;
	bpftrace-*)
		command -v bpftrace >/dev/null || skip[$c]="not installed (Debian package bpftrace)" ;;
	esac
done

cat >"$tmpd/bt-count.bt" <<'EOF'
BEGIN { printf("ready\n"); }
tracepoint:sock:inet_sock_set_state { @events = count(); }
EOF
cat >"$tmpd/bt-print.bt" <<'EOF'
BEGIN { printf("ready\n"); }
tracepoint:sock:inet_sock_set_state
{
	printf("%llu %llx %d %d %d %d %d\n", nsecs, args->skaddr, args->family, args->oldstate,
	       args->newstate, args->sport, args->dport);
}
EOF

# inet_sock_set_state calls per storm connection, counted on this kernel (6.18) with bpftrace
# and tcpstates: client CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE and server
# (SYN_RECV)>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE, 5 each; mirrored for close-first=server.
# tcplife prints one line per socket that dies: 2 per connection. (Storm only: the other
# workloads have a handful of connections.)
declare -A expect_per_conn=([tcpstates]=10 [bpftrace-count]=10 [bpftrace-print]=10 [tcplife]=2)

# ---------------------------------------------------------------------------------------
# Workloads: the command of one run, and its rate from what it prints.

# Sets wl_cmd to the command of workload $1 for $2 seconds.
wl_cmd=()
set_wl_cmd() {
	case $1 in
	storm)
		wl_cmd=(ip netns exec "$ns" "$storm" --duration "$2" --threads "$threads"
			--accept-threads "$accept_threads" --request "$request"
			--close-first "$close_first") ;;
	rr)
		wl_cmd=(ip netns exec "$ns" "$storm" --persistent --duration "$2" --threads "$threads"
			--accept-threads "$accept_threads" --request "$request") ;;
	bulk-128k) wl_cmd=("$here/bulk.sh" "$ns" "$2" 128K 2) ;;
	bulk-100) wl_cmd=("$here/bulk.sh" "$ns" "$2" 100 2) ;;
	esac
}

# The workload's JSON line ($2) made common: {rate (in wl_unit), ops (in wl_op),
# connections, failures, duration_s}; fails when the line is not a result of workload $1.
wl_result() {
	[[ -n $2 ]] || return 1
	jq -ce --arg w "$1" '
		if $w == "storm" then select(.connections != null) |
			{rate: .conn_per_s, ops: .connections, connections,
			 failures: (.failures + .server_failures), duration_s}
		elif $w == "rr" then select(.transactions != null and .persistent == true) |
			{rate: .trans_per_s, ops: .transactions, connections,
			 failures: (.failures + .server_failures), duration_s}
		else select(.bits_per_s != null) |
			{rate: (.bits_per_s / 1e9), ops: (.bytes / 1e6), connections, failures,
			 duration_s} end' <<<"$2" 2>/dev/null
}

# ---------------------------------------------------------------------------------------
# One observer: start, wait until attached, measure, stop.

has_bpf_link() {
	grep -qs '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null
}

is_ready() {
	local c=$1 pid=$2 o=$3 e=$4 h=$5
	case $c in
	# synfin run has attached before it starts its command (user/run.c: observe()).
	synfin-run) [[ -e $h/started ]] ;;
	synfin-* | floor | floor-*) grep -qs 'synfin: ready' "$e" ;;
	bpftrace-*) grep -qsx 'ready' "$o" ;;
	# libbpf-tools print their header only into a stdio buffer when stdout is a file; an
	# attached bpf_link in their fd table is the sign instead.
	*) has_bpf_link "$pid" ;;
	esac
}

# Starts configuration $1 with stdout $2, stderr $3; synfin-run also takes the hold directory
# $4 and the report file $5, and runs wl_cmd under hold.sh (see there).
start_observer() {
	local c=$1 o=$2 e=$3 h=${4:-} rf=${5:-}
	local -a watch_args serve_args run_args
	read -ra watch_args <<<"${SYNFIN_WATCH_ARGS:-}"
	read -ra serve_args <<<"${SYNFIN_SERVE_ARGS:-}"
	read -ra run_args <<<"${SYNFIN_RUN_ARGS:-}"
	case $c in
	synfin-watch) "$synfin" watch --json "${watch_args[@]}" >"$o" 2>"$e" & ;;
	synfin-serve)
		((${#serve_args[@]})) || serve_args=(--listen "127.0.0.1:$serve_port")
		"$synfin" serve "${serve_args[@]}" >"$o" 2>"$e" & ;;
	synfin-run)
		"$synfin" run --quiet --report "$rf" "${run_args[@]}" -- \
			"$here/hold.sh" "$h" "${wl_cmd[@]}" >"$o" 2>"$e" & ;;
	floor) "$floor" >"$o" 2>"$e" & ;;
	# What would lower the floor itself: no catchers; no timer hooks at all.
	floor-no-catchers) "$floor" --no-catchers >"$o" 2>"$e" & ;;
	floor-no-timers) "$floor" --no-timers >"$o" 2>"$e" & ;;
	tcpstates | tcplife) "${bin[$c]}" >"$o" 2>"$e" & ;;
	bpftrace-count) bpftrace "$tmpd/bt-count.bt" >"$o" 2>"$e" & ;;
	bpftrace-print) bpftrace "$tmpd/bt-print.bt" >"$o" 2>"$e" & ;;
	esac
	obs_pid=$!
	obs_config=$c
}

# Stops the observer with SIGINT (its normal way out: summaries and maps are printed then);
# SIGKILL after 10 s. Leaves the exit status in obs_status and whether it had to be killed
# in obs_killed.
obs_status=
obs_killed=false
stop_observer() {
	local i
	obs_killed=false
	kill -INT "$obs_pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$obs_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$obs_pid" 2>/dev/null; then
		obs_killed=true
		note "observer pid $obs_pid ignored SIGINT for 10 s: killed"
		kill -KILL "$obs_pid" 2>/dev/null
	fi
	wait "$obs_pid" 2>/dev/null
	obs_status=$?
	obs_pid=
	obs_config=
}

# synfin-run's way out: release hold.sh (hold directory $1), so the command exits and synfin
# run settles, judges, writes its report and exits by itself; SIGTERM, then SIGKILL, if it
# has not within 30 s.
finish_run() {
	local i
	obs_killed=false
	: >"$1/release"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$obs_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$obs_pid" 2>/dev/null; then
		obs_killed=true
		note "synfin run (pid $obs_pid) did not exit within 30 s of its command: terminated"
		kill -TERM "$obs_pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$obs_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$obs_pid" 2>/dev/null
	fi
	wait "$obs_pid" 2>/dev/null
	obs_status=$?
	obs_pid=
	obs_config=
}

cpu_ticks() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	# After "pid (comm) ": field 12 is utime, 13 stime, in clock ticks (proc(5)).
	awk '{ print $12 + $13 }' <<<"$s"
}

vm_hwm_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null
}

obs_prog_ids() {
	# Program ids held by the process: prog fds and the prog behind each bpf_link fd.
	grep -hs '^prog_id:' /proc/"$1"/fdinfo/* 2>/dev/null | awk '{ print $2 }' | sort -un |
		jq -sc '.'
}

prog_snapshot() {
	local ids=$1
	if [[ $ids == "[]" ]] || ! command -v bpftool >/dev/null; then
		echo "[]"
		return
	fi
	bpftool prog show -j 2>/dev/null | jq -c --argjson ids "$ids" '
		[.[] | select(.id as $i | $ids | index($i)) |
		 {id, name, type, run_cnt: (.run_cnt // 0), run_time_ns: (.run_time_ns // 0)}]' ||
		echo "[]"
}

netns_counters() {
	# TcpExt counters of the workload's netns that explain a rate change.
	ip netns exec "$ns" cat /proc/net/netstat | awk '
		$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
		$1 == "TcpExt:" && h { for (i = 2; i <= NF; i++) v[k[i]] = $i }
		END { printf "{\"listen_overflows\":%d,\"tw_overflows\":%d,\"syn_retrans\":%d}\n",
		      v["ListenOverflows"], v["TCPTimeWaitOverflow"], v["TCPSynRetrans"] }'
}

# synfin serve's own event counters from /metrics, as JSON {reported, lost} or null.
scrape_serve() {
	local port=$serve_port
	[[ -n ${SYNFIN_SERVE_ARGS:-} ]] && port=${SYNFIN_SERVE_PORT:-}
	if [[ -z $port ]] || ! command -v curl >/dev/null; then
		echo null
		return
	fi
	curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null | awk '
		/^synfin_events_total[{ ]/ {
			r += $NF; seen = 1
			if (match($0, /type="[^"]*"/)) t[substr($0, RSTART + 6, RLENGTH - 7)] += $NF
		}
		/^synfin_events_lost_total[{ ]/ { l += $NF; seen = 1 }
		END {
			if (!seen) { print "null"; exit }
			printf "{\"reported\":%d,\"lost\":%d,\"by_type\":{", r, l
			n = 0
			for (k in t) printf "%s\"%s\":%d", n++ ? "," : "", k, t[k]
			print "}}"
		}'
}

# Events the observer reported and lost, as JSON {reported, lost, summary}. synfin's summary
# (watch's last line, run's report .summary) has "events": {handshake, connect_fail, close,
# time_wait, state: records; lost, untracked, malformed} (docs/records.schema.json).
observer_events() {
	local c=$1 o=$2 e=$3 rf=$4 line
	local none='{"reported":null,"lost":null,"summary":null}'
	case $c in
	synfin-serve)
		# Counter deltas over the run, scraped from /metrics (see run_one).
		jq -nc --argjson a "$serve_m0" --argjson b "$serve_m1" '
			if $a == null or $b == null then {reported: null, lost: null, summary: null}
			else {reported: ($b.reported - $a.reported), lost: ($b.lost - $a.lost),
			      summary: {by_type: ($b.by_type // {} | with_entries(
					.value -= ($a.by_type[.key] // 0))),
					metrics_before: $a, metrics_after: $b}} end' ;;
	synfin-run)
		# --report FILE (docs/run-report.schema.json): events.lost is among its metrics.
		jq -c '{reported: (.summary.events | [.handshake, .connect_fail, .close,
						     .time_wait, .state] | map(. // 0) | add),
			lost: (.metrics["events.lost"].value // .summary.events.lost),
			summary: {verdict, exit_status, events: .summary.events,
				  "events.lost": .metrics["events.lost"],
				  "events.untracked": .metrics["events.untracked"]}}' \
			"$rf" 2>/dev/null || echo "$none" ;;
	synfin-*)
		# The summary may come on stderr or, if stdout is kept, stdout; take the last one.
		line=$(grep -hE '"type" *: *"summary"' "$e" "$o" 2>/dev/null | tail -n1)
		if [[ -n $line ]] && jq -e . >/dev/null 2>&1 <<<"$line"; then
			# Older summary shapes had totals or per-kind objects at the top.
			jq -c 'def total: if type == "object" then [.[] | total] | add // 0
					  elif type == "number" then . else null end;
				(.events | type == "object" and has("handshake")) as $v2 |
				{reported: (if $v2 then .events | [.handshake, .connect_fail, .close,
						.time_wait, .state] | map(. // 0) | add
					    else .events // .events_total // null | total end),
				 lost: (if $v2 then .events.lost
					else .lost // .lost_events // .dropped // null | total end),
				 summary: .}' <<<"$line"
		else
			echo "$none"
		fi ;;
	tcpstates | tcplife)
		# One header line, then one line per event; perf-buffer losses go to stderr as
		# "lost N events on CPU #C".
		jq -nc --argjson n "$(awk 'NR > 1' "$o" | wc -l)" \
			--argjson l "$(awk 'tolower($1) == "lost" { s += $2 } END { print s + 0 }' "$e")" \
			'{reported: $n, lost: $l, summary: null}' ;;
	bpftrace-count)
		jq -nc --argjson n "$(awk '$1 == "@events:" { n = $2 } END { print n + 0 }' "$o")" \
			--argjson l "$(awk '$1 == "Lost" { s += $2 } END { print s + 0 }' "$o" "$e")" \
			'{reported: $n, lost: $l, summary: null}' ;;
	bpftrace-print)
		jq -nc --argjson n "$(grep -c '^[0-9]' "$o")" \
			--argjson l "$(awk '$1 == "Lost" { s += $2 } END { print s + 0 }' "$o" "$e")" \
			'{reported: $n, lost: $l, summary: null}' ;;
	*) echo "$none" ;;
	esac
}

# Where synfin watch prints its summary: --json > /dev/null is what is measured, so the
# summary must reach stderr to be read; if it only goes to stdout, keep stdout's last line
# through a tail instead (noted in the results).
synfin_watch_out=/dev/null

probe_synfin_watch() {
	local o=$tmpd/probe.out e=$tmpd/probe.err i
	start_observer synfin-watch "$o" "$e"
	for ((i = 0; i < ready_timeout * 10; i++)); do
		is_ready synfin-watch "$obs_pid" "$o" "$e" "" && break
		kill -0 "$obs_pid" 2>/dev/null || break
		sleep 0.1
	done
	stop_observer
	if ! grep -qsE '"type" *: *"summary"' "$e" && grep -qsE '"type" *: *"summary"' "$o"; then
		synfin_watch_out="tail"
		notes+=("synfin watch prints its summary on stdout only: its stdout went through 'tail -n1', not /dev/null")
		note "${notes[-1]}"
	fi
}

# The line of an observer's stderr that best says why it stopped: the last error-looking
# line (bpftrace's harmless RLIMIT_MEMLOCK warning aside), else the last line.
last_error() {
	local l
	l=$(grep -iE 'error|fail|cannot|unable|denied|not (found|supported)' "$1" 2>/dev/null |
		grep -v 'RLIMIT_MEMLOCK' | tail -n1)
	[[ -n $l ]] || l=$(grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n1)
	echo "$l"
}

# Load generators and guests that are not ours (another bench, a matrix guest, a stray
# storm that took no lock): their names and pids as a JSON array. Ours share our process
# group.
my_pgid=$(ps -o pgid= -p $$ | tr -d ' ')
foreign_load() {
	ps -eo pid=,pgid=,comm= | awk -v g="$my_pgid" '
		$2 != g && $3 ~ /^(storm|iperf3|tcpdrive|qemu-system-.*)$/ { print $3 " " $1 }' |
		jq -Rsc 'split("\n") | map(select(length > 0))'
}

runs=$tmpd/runs.jsonl
: >"$runs"
stats_leak_noted=0
foreign_noted=0

# Records that configuration $2 could not run or died in run $3 of workload $1, round $4.
record_failure() { # workload config rep round status why [output]
	skip[$2]=$6
	note "$1 $2: $6"
	jq -nc --arg w "$1" --arg c "$2" --argjson r "$3" --arg round "$4" --arg st "$5" \
		--arg why "$6" --argjson out "${7:-null}" \
		'{workload: $w, config: $c, rep: $r, round: $round, status: $st, note: $why,
		  output: $out}' >>"$runs"
}

# One run of workload $1 under configuration $2, repetition $3, round $4 (measured: BPF
# stats off; profile: on), $5 seconds; appends one JSON line to $runs.
run_one() {
	local w=$1 c=$2 rep=$3 round=$4 dur=$5
	local tag=$1.$2.$3.$4
	local o=$tmpd/$tag.out e=$tmpd/$tag.err h=$tmpd/$tag.hold rf=$tmpd/$tag.report.json
	local ids='[]' t0 t_ready=0 i reason='' cpu0=0 cpu1=0 hwm=null st=null
	local p0='[]' p1='[]' n0 n1 f0 f1 wj='' res stats=false
	local ev='{"reported":null,"lost":null,"summary":null}'

	[[ $round == profile ]] && stats=true
	obs_killed=false
	set_wl_cmd "$w" "$dur"

	if [[ $c != baseline ]]; then
		if [[ $c == synfin-run ]]; then
			mkdir "$h" || die "cannot create $h"
		fi
		t0=$(date +%s.%N)
		if [[ $c == synfin-watch && $synfin_watch_out == tail ]]; then
			local -a wa
			read -ra wa <<<"${SYNFIN_WATCH_ARGS:-}"
			"$synfin" watch --json "${wa[@]}" > >(tail -n1 >"$o") 2>"$e" &
			obs_pid=$!
			obs_config=$c
		else
			start_observer "$c" "$o" "$e" "$h" "$rf"
		fi
		for ((i = 0; ; i++)); do
			if ! kill -0 "$obs_pid" 2>/dev/null; then
				wait "$obs_pid" 2>/dev/null
				st=$?
				reason=$(last_error "$e")
				reason="exited with status $st${reason:+: $reason}"
				obs_pid=
				break
			fi
			is_ready "$c" "$obs_pid" "$o" "$e" "$h" && break
			if ((i >= ready_timeout * 10)); then
				reason="not ready within ${ready_timeout}s: $(last_error "$e")"
				[[ $c == synfin-run ]] && : >"$h/release"
				stop_observer
				break
			fi
			sleep 0.1
		done
		if [[ -n $reason ]]; then
			record_failure "$w" "$c" "$rep" "$round" cannot-run "cannot run here: $reason"
			return
		fi
		# Let it finish its first poll and settle before the clock starts.
		sleep 0.5
		t_ready=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
		ids=$(obs_prog_ids "$obs_pid")
		p0=$(prog_snapshot "$ids")
		cpu0=$(cpu_ticks "$obs_pid") || cpu0=0
	fi

	serve_m0=null serve_m1=null
	[[ $c == synfin-serve ]] && serve_m0=$(scrape_serve)
	f0=$(foreign_load)
	n0=$(netns_counters)
	if [[ $c == synfin-run ]]; then
		# hold.sh runs the workload now and marks its end; synfin run is still up then.
		: >"$h/go"
		for ((i = 0; ; i++)); do
			[[ -e $h/ran ]] && break
			kill -0 "$obs_pid" 2>/dev/null || break
			((i < (dur + 120) * 10)) || break
			sleep 0.1
		done
	else
		wj=$("${wl_cmd[@]}") || wj=
	fi
	n1=$(netns_counters)
	f1=$(foreign_load)

	if [[ $c != baseline ]]; then
		if kill -0 "$obs_pid" 2>/dev/null && [[ $c != synfin-run || -e $h/ran ]]; then
			cpu1=$(cpu_ticks "$obs_pid") || cpu1=$cpu0
			hwm=$(vm_hwm_kb "$obs_pid")
			p1=$(prog_snapshot "$ids")
			if [[ $c == synfin-serve ]]; then
				sleep 1 # its drain interval: count what the workload produced
				serve_m1=$(scrape_serve)
			fi
			if [[ $c == synfin-run ]]; then
				finish_run "$h"
				wj=$(grep -h '^{' "$o" 2>/dev/null | tail -n1)
			else
				stop_observer
			fi
			st=$obs_status
		else
			if [[ -n $obs_pid ]] && kill -0 "$obs_pid" 2>/dev/null; then
				reason="its command did not finish within $((dur + 120)) s"
				kill_run_cgroup "$obs_pid"
				finish_run "$h"
				st=$obs_status
			else
				wait "$obs_pid" 2>/dev/null
				st=$?
				obs_pid=
				obs_config=
				reason=$(last_error "$e")
				reason="died during the $w run with status $st${reason:+: $reason}"
			fi
			[[ $c == synfin-run ]] && wj=$(grep -h '^{' "$o" 2>/dev/null | tail -n1)
			wj=$(jq -c . <<<"${wj:-null}" 2>/dev/null) || wj=
			record_failure "$w" "$c" "$rep" "$round" died "$reason" "${wj:-null}"
			return
		fi
		sleep 0.2 # a tail behind synfin's stdout, if any, to write its line
		ev=$(observer_events "$c" "$o" "$e" "$rf")
	fi
	if ! res=$(wl_result "$w" "$wj"); then
		[[ $c == synfin-run ]] && wj="$wj (synfin run: status $st, $(last_error "$e"))"
		die "$w failed in $round run $rep of $c${wj:+: $wj}"
	fi

	jq -nc --arg w "$w" --arg c "$c" --argjson r "$rep" --arg round "$round" \
		--argjson stats "$stats" --arg unit "${wl_unit[$w]}" --arg op "${wl_op[$w]}" \
		--argjson res "$res" --argjson out "$wj" --argjson n0 "$n0" \
		--argjson n1 "$n1" --argjson ev "$ev" --argjson p0 "$p0" --argjson p1 "$p1" \
		--argjson cpu "$((cpu1 - cpu0))" --argjson tck "$clk_tck" \
		--argjson hwm "${hwm:-null}" --argjson st "$st" --argjson tr "$t_ready" \
		--argjson killed "$obs_killed" --argjson f0 "$f0" --argjson f1 "$f1" \
		--argjson epc "$([[ $w == storm ]] && echo "${expect_per_conn[$c]:-null}" || echo null)" '
		$res.connections as $n | $res.ops as $ops | ($cpu / $tck) as $cpu_s |
		[$p1[] as $b | ($p0[] | select(.id == $b.id)) as $a |
		 {id: $b.id, name: $b.name, type: $b.type, run_cnt: ($b.run_cnt - $a.run_cnt),
		  run_time_ns: ($b.run_time_ns - $a.run_time_ns)} |
		 .ns_per_run = (if .run_cnt > 0 then .run_time_ns / .run_cnt else null end)] as $progs |
		($progs | map(.run_cnt) | add // 0) as $rc |
		($progs | map(.run_time_ns) | add // 0) as $rt |
		{workload: $w, config: $c, rep: $r, round: $round, bpf_stats: $stats, status: "ok",
		 rate: $res.rate, unit: $unit, op: $op, ops: $ops, connections: $n,
		 failures: $res.failures}
		+ (if $w == "storm" then {conn_per_s: $res.rate} else {} end)
		+ {output: $out, foreign_load: ($f0 + $f1 | unique),
		 netns: {listen_overflows: ($n1.listen_overflows - $n0.listen_overflows),
			 tw_overflows: ($n1.tw_overflows - $n0.tw_overflows),
			 syn_retrans: ($n1.syn_retrans - $n0.syn_retrans)},
		 observer: (if $c == "baseline" then null else
			{cpu_s: $cpu_s,
			 cpu_s_per_kop: (if $ops > 0 then $cpu_s / ($ops / 1000) else null end),
			 rss_peak_kb: $hwm, exit_status: $st, killed: $killed, ready_s: $tr}
			+ (if $w == "storm" then {cpu_s_per_kconn: (if $n > 0 then
				$cpu_s / ($n / 1000) else null end)} else {} end) end),
		 events: (if $c == "baseline" then null else
			{reported: $ev.reported, lost: $ev.lost, expected_per_conn: $epc,
			 expected: (if $epc then $epc * $n else null end),
			 per_conn: (if $ev.reported != null and $n > 0 then $ev.reported / $n else null end),
			 summary: $ev.summary} end),
		 bpf: (if $c == "baseline" then null else
			{progs: $progs, run_cnt: $rc, run_time_ns: $rt,
			 ns_per_run: (if $rc > 0 then $rt / $rc else null end),
			 ns_per_op: (if $ops > 0 and $rc > 0 then $rt / $ops else null end),
			 ns_per_conn: (if $n > 0 and $rc > 0 then $rt / $n else null end)} end)}' >>"$runs" ||
		die "cannot record $round run $rep of $c ($w)"
	if [[ $round == measured ]] && ((!stats_leak_noted)) &&
		(($(tail -n1 "$runs" | jq '.bpf.run_cnt // 0') > 0)); then
		stats_leak_noted=1
		notes+=("BPF run-time stats counted during a measured round ($w, $c): something else holds them on (BPF_ENABLE_STATS); its rates include their cost")
		note "${notes[-1]}"
	fi
	if ((!foreign_noted)) && [[ $f0$f1 != '[][]' ]]; then
		foreign_noted=1
		notes+=("not alone: $(jq -nr --argjson a "$f0" --argjson b "$f1" '$a + $b | unique | join(", ")') ran beside the $round $w run $rep of $c (and maybe others: see foreign_load in the runs); these results are not clean")
		note "${notes[-1]}"
	fi
	tail -n1 "$runs" | jq -r '
		def rate: if .unit == "Gbit/s" then "\(.rate * 100 | round / 100)"
			  else "\(.rate / 100 | round / 10)k" end;
		"  \(.workload) \(.config) [\(if .round == "profile" then "profile" else .rep end)]: " +
		"\(rate) \(.unit)" +
		(if .observer then ", cpu \((.observer.cpu_s_per_kop // 0) * 1000 | . * 100 | round / 100) ms/1k \(.op)" +
		 ", lost \(.events.lost // "n/a")" +
		 (if .bpf.ns_per_run then ", bpf \(.bpf.ns_per_run | round) ns/run, " +
		  "\(.bpf.ns_per_op | round) ns/\(.op)" else "" end)
		 else "" end)' >&2
}

# ---------------------------------------------------------------------------------------
# Main: per workload a warm-up, the measured rounds (stats off), the profile round (on).

for c in "${union[@]}"; do
	[[ -n ${skip[$c]:-} ]] && note "$c: skipped: ${skip[$c]}"
done
if [[ -n ${seen[synfin-watch]:-} && -z ${skip[synfin-watch]:-} ]]; then
	probe_synfin_watch
fi

est=0
for w in "${wls[@]}"; do
	IFS=, read -ra cl <<<"$(wl_configs "$w")"
	n=0
	for c in "${cl[@]}"; do [[ -z ${skip[$c]:-} ]] && ((n++)); done
	d=$(wl_duration "$w")
	est=$((est + (n * $(wl_reps "$w") + (profile ? n - 1 : 0)) * (d + 3) + 4))
done
note "workloads: ${wls[*]} (~$((est / 60 + 1)) min)"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
wmeta=()
for w in "${wls[@]}"; do
	IFS=, read -ra cl <<<"$(wl_configs "$w")"
	d=$(wl_duration "$w")
	nr=$(wl_reps "$w")
	new_netns "$w"
	set_wl_cmd "$w" "$d"
	wmeta+=("$(jq -nc --arg w "$w" --arg u "${wl_unit[$w]}" --arg op "${wl_op[$w]}" \
		--argjson reps "$nr" --argjson d "$d" --arg cl "${cl[*]}" \
		--arg cmd "${wl_cmd[*]}" \
		'{workload: $w, unit: $u, op: $op, reps: $reps, duration_s: $d,
		  configs: ($cl | split(" ")), command: $cmd}')")
	active=()
	for c in "${cl[@]}"; do [[ -z ${skip[$c]:-} ]] && active+=("$c"); done
	note "$w: $nr round(s) of ${d}s of '${wl_cmd[*]#"$root/"}': ${active[*]}$( ((profile)) &&
		echo ", then a profile round")"
	# Fills the TIME_WAIT table and warms caches so the first measured run is not special.
	set_wl_cmd "$w" $((d < 3 ? d : 3))
	"${wl_cmd[@]}" >/dev/null || die "$w warm-up failed"
	for ((r = 1; r <= nr; r++)); do
		for c in "${cl[@]}"; do
			[[ -n ${skip[$c]:-} ]] && continue
			run_one "$w" "$c" "$r" measured "$d"
		done
	done
	if ((profile)); then
		set_bpf_stats 1
		for c in "${cl[@]}"; do
			[[ $c == baseline || -n ${skip[$c]:-} ]] && continue
			run_one "$w" "$c" 1 profile "$d"
		done
		set_bpf_stats 0
	fi
done

notes_json=$(printf '%s\n' "${notes[@]}" | jq -Rsc 'split("\n") | map(select(length > 0))')
skips_json=$(for c in "${union[@]}"; do
	[[ -n ${skip[$c]:-} ]] && jq -nc --arg c "$c" --arg w "${skip[$c]}" '{($c): $w}'
done | jq -sc 'add // {}')
wmeta_json=$(printf '%s\n' "${wmeta[@]}" | jq -sc .)
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)

result=$(jq -sc --arg started "$started" --arg kernel "$(uname -r)" --arg cpu "$cpu_model" \
	--argjson ncpu "$(nproc)" --argjson mem "$mem_kb" --argjson notes "$notes_json" \
	--argjson skips "$skips_json" --argjson wmeta "$wmeta_json" \
	--argjson thr "$threads" --argjson athr "$accept_threads" \
	--argjson req "$request" --arg cf "$close_first" --argjson prof "$profile" \
	--argjson quick "$([[ ${QUICK:-0} == 1 ]] && echo true || echo false)" \
	--arg tw "${TW_BUCKETS:-default}" '
	def median: map(select(. != null)) | sort |
		if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def range3: map(select(. != null)) |
		{median: median, min: (min // null), max: (max // null)};
	def sum_or_null: if length == 0 or any(. == null) then null else add end;
	. as $all |
	{date: $started,
	 machine: {kernel: $kernel, cpu: $cpu, cpus: $ncpu, mem_kb: $mem},
	 params: {quick: $quick, threads: $thr, accept_threads: $athr, request_bytes: $req,
		  close_first: $cf, tw_buckets: $tw,
		  bpf_stats: {measured_rounds: false, profile_round: (if $prof == 1 then true
			      else null end)},
		  rates_from: "measured rounds (kernel.bpf_stats_enabled=0)",
		  bpf_from: (if $prof == 1 then "profile round (kernel.bpf_stats_enabled=1)"
			     else null end)},
	 notes: $notes,
	 workloads: [$wmeta[] as $m | $m.workload as $w |
		($all | map(select(.workload == $w))) as $wr |
		($wr | map(select(.config == "baseline" and .status == "ok" and
				   .round == "measured") | .rate) | median) as $base |
		($wr | map(. + (if .status == "ok" and $base then {ratio: (.rate / $base)}
				else {} end))) as $wr |
		$m + {baseline_rate: $base}
		+ (if $w == "storm" then {baseline_conn_per_s: $base} else {} end)
		+ {configs: [$m.configs[] as $c |
			($wr | map(select(.config == $c and .status == "ok"))) as $every |
			($every | map(select(.round == "measured"))) as $ok |
			($every | map(select(.round == "profile")) | .[0]) as $pr |
			{config: $c,
			 status: (if ($ok | length) > 0 then "ok" elif $skips[$c] then "skipped"
				  else "no runs" end),
			 note: ($skips[$c] // null),
			 summary: (if ($ok | length) == 0 then null else ({
				runs: ($ok | length),
				rate: ($ok | map(.rate) | range3)}
				+ (if $w == "storm" then {conn_per_s: ($ok | map(.rate) | range3)}
				   else {} end)
				+ {ratio: ($ok | map(.ratio) | range3),
				failures: ($ok | map(.failures) | add),
				cpu_s_per_kop: ($ok | map(.observer.cpu_s_per_kop?) | range3)}
				+ (if $w == "storm" then {cpu_s_per_kconn:
					($ok | map(.observer.cpu_s_per_kconn?) | range3)} else {} end)
				+ {rss_peak_kb: ($ok | map(.observer.rss_peak_kb?) | range3),
				events_per_conn: ($ok | map(.events.per_conn?) | range3),
				events_reported: ($ok | map(.events.reported?) | add),
				events_expected: ($ok | map(.events.expected?) | sum_or_null),
				lost_events: ($ok | map(.events.lost?) | range3),
				lost_events_total: ($every | map(.events.lost?) | sum_or_null),
				runs_not_alone: ($every | map(select((.foreign_load // []) | length > 0)) |
					length),
				tw_overflows: ($ok | map(.netns.tw_overflows) | range3),
				listen_overflows: ($ok | map(.netns.listen_overflows) | add),
				profile: (if $pr == null or $pr.bpf == null then null else
					{rate: $pr.rate, lost: $pr.events.lost?,
					 bpf_ns_per_run: $pr.bpf.ns_per_run,
					 bpf_ns_per_op: $pr.bpf.ns_per_op,
					 bpf_ns_per_conn: $pr.bpf.ns_per_conn,
					 bpf_run_cnt_per_op: (if $pr.ops > 0 then
						$pr.bpf.run_cnt / $pr.ops else null end),
					 progs: [$pr.bpf.progs[] | {name, type, ns_per_run,
						per_op: (if $pr.ops > 0 then .run_cnt / $pr.ops
							 else null end)}]} end)}) end)}],
		   runs: $wr}]}' "$runs") || die "cannot summarise the runs"

# The targets (issue 14). "Within noise" for the data-phase workloads: synfin-serve's median
# is at least the slowest baseline run of the same workload, or at least 0.97 x baseline's
# median (with one repetition, min = median: the 0.97 carries it).
result=$(jq -c '
	def S($w; $c): [.workloads[] | select(.workload == $w) | .configs[] |
			select(.config == $c) | .summary] | .[0];
	def ge($what; $v; $lim): {what: $what, value: $v, limit: $lim,
				  met: (if $v == null then null else $v >= $lim end)};
	def le($what; $v; $lim): {what: $what, value: $v, limit: $lim,
				  met: (if $v == null then null else $v <= $lim end)};
	def lost($c): [.workloads[] | .workload as $w | .configs[] |
		       select(.config == $c and .summary != null) |
		       {workload: $w, lost: .summary.lost_events_total}] as $l |
		{what: "\($c): 0 events lost, every workload and round it ran (\(if ($l | length) == 0
			then "not run" else $l | map(.workload) | join(", ") end))",
		 value: (if ($l | length) == 0 or any($l[]; .lost == null) then null
			 else $l | map(.lost) | add end),
		 limit: 0, by_workload: $l} | .met = (if .value == null then null else .value == 0 end);
	def noise($w): S($w; "synfin-serve") as $s | S($w; "baseline") as $b |
		{what: "\($w): synfin-serve within noise of baseline (median >= the slowest baseline run, or ratio >= 0.97)",
		 value: $s.ratio.median?, limit: 0.97,
		 baseline_min_ratio: (if $b == null then null else $b.rate.min / $b.rate.median end),
		 met: (if $s == null or $b == null then null
		       else ($s.rate.median >= $b.rate.min or $s.ratio.median >= 0.97) end)};
	# The floor, and the BPF time per op of each synfin config as a multiple of it.
	.workloads |= map(. as $wl | (.configs | map({(.config): .summary}) | add) as $s |
		. + {floor: (if $s.floor == null then null else
			{ratio: $s.floor.ratio.median, bpf_ns_per_op: $s.floor.profile.bpf_ns_per_op?,
			 synfin_bpf_ns_per_op_x_floor: ([("synfin-serve", "synfin-run", "synfin-watch") as $c |
				select($s[$c].profile.bpf_ns_per_op? != null and
				       ($s.floor.profile.bpf_ns_per_op? // 0) > 0) |
				{($c): ($s[$c].profile.bpf_ns_per_op / $s.floor.profile.bpf_ns_per_op)}] |
				add // {})} end)}) |
	.targets = {
		"storm.synfin-serve.rate": ge("storm: synfin-serve rate >= 0.93 x baseline"; S("storm"; "synfin-serve").ratio.median?; 0.93),
		"storm.synfin-run.rate": ge("storm: synfin-run rate >= 0.93 x baseline"; S("storm"; "synfin-run").ratio.median?; 0.93),
		"storm.synfin-watch.rate": ge("storm: synfin-watch --json rate >= 0.85 x baseline"; S("storm"; "synfin-watch").ratio.median?; 0.85),
		"storm.synfin-serve.bpf_ns_per_conn": le("storm: synfin-serve BPF ns/conn, all its programs, profile round, <= 2000"; S("storm"; "synfin-serve").profile.bpf_ns_per_conn?; 2000),
		"synfin-serve.lost": lost("synfin-serve"),
		"synfin-run.lost": lost("synfin-run"),
		"synfin-watch.lost": lost("synfin-watch"),
		"bulk-128k.synfin-serve.noise": noise("bulk-128k"),
		"bulk-100.synfin-serve.noise": noise("bulk-100"),
		"rr.synfin-serve.noise": noise("rr")
	}' <<<"$result") || die "cannot evaluate the targets"

if [[ -z $out ]]; then
	mkdir -p "$here/results" || die "cannot create $here/results"
	out=$here/results/bench-$(date -u +%Y%m%d-%H%M%S).json
fi
jq . <<<"$result" >"$out" || die "cannot write $out"

# ---------------------------------------------------------------------------------------
# The table.

jq -r '
	def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
	def rate($u): if . == null then "-" elif $u == "Gbit/s" then n(2)
		      else (. / 1000 | n(1) | . + "k") end;
	def rng($u): if .median == null then "-" else
		"\(.median | rate($u)) [\(.min | rate($u))-\(.max | rate($u))] \($u)" end;
	"synfin bench \(.date): \(.machine.cpus) x \(.machine.cpu), kernel \(.machine.kernel)",
	(.workloads[] | "\(.workload): \(.reps) x \(.duration_s) s of " +
	 "\(.command | gsub("(?<a>^| )/[^ ]*/"; "\(.a)") | gsub("synfin-bench-[^ ]+"; "NS"))"),
	"",
	(["workload", "config", "rate median [min-max]", "ratio", "cpu ms/kop", "rss MiB",
	  "events/conn", "lost", "bpf ns/run", "bpf ns/op"] | @tsv),
	(.workloads[] | .workload as $w | .unit as $u | .op as $op | .configs[] |
	 if .summary == null then
		([$w, .config, (.note // .status)] | @tsv)
	 else .summary as $s |
		([$w, (.config + (if ($s.runs_not_alone // 0) > 0 then "*" else "" end)),
		  ($s.rate | rng($u)), ($s.ratio.median | n(3)),
		  ($s.cpu_s_per_kop.median | if . == null then null else . * 1000 end | n(2)),
		  ($s.rss_peak_kb.max | if . == null then null else . / 1024 end | n(1)),
		  ($s.events_per_conn.median | n(2)),
		  ($s.lost_events_total | n(0)),
		  ($s.profile.bpf_ns_per_run? | n(0)),
		  ($s.profile.bpf_ns_per_op? | if . == null then "-" else "\(n(0))/\($op)" end)] | @tsv)
	 end)' "$out" | awk -F'\t' '
	NF > 3 { printf "%-10s %-15s %-32s %6s %10s %8s %11s %9s %10s %11s\n",
		 $1, $2, $3, $4, $5, $6, $7, $8, $9, $10; next }
	NF == 3 { printf "%-10s %-15s %s\n", $1, $2, $3; next }
	{ print }'
echo
jq -r '
	def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
	# 3 significant digits, so that 10 calls per 200k transactions do not print as 0
	def sig: if . == null then "-" elif . == 0 then "0" else
		(log10 | floor) as $e | if $e >= 2 then n(0) else n(2 - $e) end end;
	.workloads[] | .workload as $w | .op as $op |
	(.configs[] | select(.summary.profile != null) | .config as $c |
	 "\($w) \($c) programs (profile round): " + (.summary.profile.progs | map(
		"\(.name) \(.ns_per_run | n(0)) ns x \(.per_op | sig)/\($op)") | join(", "))),
	((.configs | map({(.config): .summary}) | add) as $s |
	 if $s.floor == null then empty else
	 "\($w) floor: ratio \($s.floor.ratio.median | n(3)); bpf ns/\($op): floor " +
	 "\($s.floor.profile.bpf_ns_per_op? | n(0))" +
	 ([("synfin-serve", "synfin-run", "synfin-watch") as $c | select($s[$c] != null) |
	   ", \($c) \($s[$c].profile.bpf_ns_per_op? | n(0))" +
	   (if ($s[$c].profile.bpf_ns_per_op? // null) != null and
	       ($s.floor.profile.bpf_ns_per_op? // 0) > 0
	    then " = \($s[$c].profile.bpf_ns_per_op / $s.floor.profile.bpf_ns_per_op | n(1)) x floor"
	    else "" end)] | join("")) end)' "$out"
jq -r '.notes[] | "note: " + .' "$out"
jq -r 'if [.workloads[].configs[].summary.runs_not_alone? // 0] | add > 0 then
	"note: *: a load generator or guest not ours ran beside some of its runs" else empty end' "$out"
echo
jq -r '
	# 4 decimals: a ratio of 0.9698 must not print as the 0.97 it missed
	def v: if type != "number" then "-" elif fabs < 10 then (. * 10000 | round / 10000 | tostring)
	       else (round | tostring) end;
	"targets:",
	(.targets | to_entries[] | .value |
	 "  \(if .met == null then "n/a    " elif .met then "met    " else "NOT met" end)  " +
	 "\(.what): \(.value | v)")' "$out"
echo "results: $out"
