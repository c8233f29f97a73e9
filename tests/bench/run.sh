#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# synfin's side-by-side benchmark (issue 6): one connection storm (tests/bench/storm.c) in a
# network namespace of its own, run with no observer, with synfin, and with every peer that
# is installed. Configurations alternate A/B/C/A/B/C... so a noisy machine hurts all alike;
# each is repeated and reported as median [min-max]. Prints a table and writes JSON under
# tests/bench/results/ (git-ignored).
#
# Needs root (netns, BPF, sysctl). Not part of `make test`. Run `tests/bench/run.sh --help`.
#
# Observers run in the root namespaces (tracefs must be visible to classic-tracepoint tools,
# and `ip netns exec` remounts /sys), so they also see any other TCP traffic on the host:
# run it on an otherwise idle machine.

set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

usage() {
	cat <<EOF
Usage: tests/bench/run.sh [OPTION]...
Connection-storm benchmark: baseline vs synfin vs installed peers, alternated.

  -r, --reps N             repetitions of each configuration (env REPS, default 5)
  -d, --duration S         storm seconds per run, integer (env DURATION, default 10)
  -t, --threads N          storm client threads (env THREADS, default 3)
  -a, --accept-threads N   storm listener threads (env ACCEPT_THREADS, default 2)
  -q, --request BYTES      request/response size, 0 = none (env REQUEST, default 0)
  -c, --close-first WHO    client|server (env CLOSE_FIRST, default client)
  -C, --configs LIST       comma-separated subset of: $all_configs
                           (env CONFIGS, default all)
  -o, --out FILE           JSON result file (env OUT, default tests/bench/results/bench-DATE.json)
  -h, --help               this text

Environment: QUICK=1 (1 repetition of 3 s: a smoke test), SYNFIN (binary, default ./synfin),
STORM (prebuilt storm, default .output/storm or built to a temp dir), SYNFIN_WATCH_ARGS and
SYNFIN_SERVE_ARGS (default: --listen on a free-ish 127.0.0.1 port, scraped for event
counts; with your own --listen set SYNFIN_SERVE_PORT to scrape it), READY_TIMEOUT (s to wait for an observer, default 30),
BPF_STATS=0 (leave kernel.bpf_stats_enabled alone: no BPF run-time columns),
TW_BUCKETS (net.ipv4.tcp_max_tw_buckets inside the storm's netns; default: the netns default),
TCPSTATES and TCPLIFE (the peers' binaries; default: found with 'dpkg -L libbpf-tools'),
SYNFIN_KERNEL_CACHE (the directory of guest.lock, shared with the kernel matrix; default
/var/cache/synfin-kernels).
Exit status: 0 ok, 1 failure, 2 usage.
EOF
}

all_configs="baseline,synfin-watch,synfin-serve,tcpstates,tcplife,bpftrace-count,bpftrace-print"

die() { echo "bench: $*" >&2; exit 1; }
usage_err() { echo "bench: $*; see 'tests/bench/run.sh --help'" >&2; exit 2; }
note() { echo "bench: $*" >&2; }

is_uint() { [[ $1 =~ ^[0-9]{1,9}$ ]]; }

reps=${REPS:-5}
duration=${DURATION:-10}
if [[ ${QUICK:-0} == 1 ]]; then
	reps=${REPS:-1}
	duration=${DURATION:-3}
fi
threads=${THREADS:-3}
accept_threads=${ACCEPT_THREADS:-2}
request=${REQUEST:-0}
close_first=${CLOSE_FIRST:-client}
configs=${CONFIGS:-$all_configs}
out=${OUT:-}
synfin=${SYNFIN:-$root/synfin}
ready_timeout=${READY_TIMEOUT:-30}
bpf_stats=${BPF_STATS:-1}

while (($#)); do
	opt=$1
	case $opt in
	-h | --help) usage; exit 0 ;;
	-r | --reps | -d | --duration | -t | --threads | -a | --accept-threads | -q | --request | \
	-c | --close-first | -C | --configs | -o | --out)
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
	esac
done

in_range() { # name value min max
	is_uint "$2" && ((10#$2 >= $3 && 10#$2 <= $4)) ||
		usage_err "invalid $1 '$2' ($3..$4)"
}
in_range --reps "$reps" 1 100
in_range --duration "$duration" 1 3600
in_range --threads "$threads" 1 256
in_range --accept-threads "$accept_threads" 1 256
in_range --request "$request" 0 65536
in_range READY_TIMEOUT "$ready_timeout" 1 600
[[ $close_first == client || $close_first == server ]] ||
	usage_err "invalid --close-first '$close_first' (client|server)"
[[ -z ${TW_BUCKETS:-} ]] || is_uint "$TW_BUCKETS" || usage_err "invalid TW_BUCKETS '$TW_BUCKETS'"
IFS=, read -ra want <<<"$configs"
((${#want[@]})) || usage_err "empty --configs"
for c in "${want[@]}"; do
	[[ ,$all_configs, == *,"$c",* ]] || usage_err "unknown configuration '$c' (one of $all_configs)"
done
[[ ,$configs, == *,baseline,* ]] || usage_err "--configs must include baseline (ratios need it)"

((EUID == 0)) || die "must run as root (network namespace, BPF, sysctl): try 'sudo make bench'"
for tool in ip jq awk flock; do
	command -v "$tool" >/dev/null || die "'$tool' not found: run 'make deps'"
done

# ---------------------------------------------------------------------------------------
# One at a time: no kernel-matrix guest (qemu takes both cores) and no other bench beside
# this one. tests/kernels/run.sh takes the same lock the same way (flock on guest.lock in
# its cache directory); the lock is held until this script and its children are gone.

lockdir=${SYNFIN_KERNEL_CACHE:-/var/cache/synfin-kernels}
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
ns="synfin-bench-$$-$RANDOM"
ns_made=0
obs_pid=
old_bpf_stats=

cleanup() {
	if [[ -n $obs_pid ]] && kill -0 "$obs_pid" 2>/dev/null; then
		kill -KILL "$obs_pid" 2>/dev/null
		wait "$obs_pid" 2>/dev/null
	fi
	((ns_made)) && ip netns del "$ns" 2>/dev/null
	[[ -n $old_bpf_stats ]] && sysctl -qw kernel.bpf_stats_enabled="$old_bpf_stats" >/dev/null
	rm -rf "$tmpd"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

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

if [[ $bpf_stats == 1 ]]; then
	old_bpf_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null) ||
		die "cannot read kernel.bpf_stats_enabled"
	# Accounts run_time_ns/run_cnt for every program while the bench runs (the same switch
	# as bpf_enable_stats(BPF_STATS_RUN_TIME)); it costs every program ~2 clock reads, alike
	# for all observers. The old value is put back on exit.
	sysctl -qw kernel.bpf_stats_enabled=1 >/dev/null || die "cannot enable kernel.bpf_stats_enabled"
fi

ip netns add "$ns" || die "cannot create network namespace $ns"
ns_made=1
ip -n "$ns" link set lo up || die "cannot bring up lo in $ns"
if [[ -n ${TW_BUCKETS:-} ]]; then
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_max_tw_buckets="$TW_BUCKETS" >/dev/null ||
		die "cannot set net.ipv4.tcp_max_tw_buckets in $ns"
fi

clk_tck=$(getconf CLK_TCK)
serve_port=$((20000 + $$ % 20000)) # synfin serve's /metrics, unless SYNFIN_SERVE_ARGS says
serve_m0=null
serve_m1=null

# ---------------------------------------------------------------------------------------
# Which configurations can run.

declare -A skip=() bin=()

find_pkg_tool() {
	local name=$1 p
	p=$(dpkg -L libbpf-tools 2>/dev/null | grep -E "/s?bin/([a-z0-9]+-)?$name\$" | head -n1)
	[[ -z $p ]] && p=$(command -v "$name" 2>/dev/null)
	[[ -n $p && -x $p ]] && echo "$p"
}

for c in "${want[@]}"; do
	case $c in
	synfin-watch)
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

# inet_sock_set_state calls per connection, counted on this kernel (6.18) with bpftrace and
# tcpstates: client CLOSE>SYN_SENT>ESTABLISHED>FIN_WAIT1>FIN_WAIT2>CLOSE and server
# (SYN_RECV)>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSE, 5 each; mirrored for close-first=server.
# tcplife prints one line per socket that dies: 2 per connection.
declare -A expect_per_conn=([tcpstates]=10 [bpftrace-count]=10 [bpftrace-print]=10 [tcplife]=2)

# ---------------------------------------------------------------------------------------
# One observer: start, wait until attached, measure, stop.

has_bpf_link() {
	grep -qs '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null
}

is_ready() {
	local c=$1 pid=$2 o=$3 e=$4
	case $c in
	synfin-*) grep -qs 'synfin: ready' "$e" ;;
	bpftrace-*) grep -qsx 'ready' "$o" ;;
	# libbpf-tools print their header only into a stdio buffer when stdout is a file; an
	# attached bpf_link in their fd table is the sign instead.
	*) has_bpf_link "$pid" ;;
	esac
}

start_observer() {
	local c=$1 o=$2 e=$3
	local -a watch_args serve_args
	read -ra watch_args <<<"${SYNFIN_WATCH_ARGS:-}"
	read -ra serve_args <<<"${SYNFIN_SERVE_ARGS:-}"
	case $c in
	synfin-watch) "$synfin" watch --json "${watch_args[@]}" >"$o" 2>"$e" & ;;
	synfin-serve)
		((${#serve_args[@]})) || serve_args=(--listen "127.0.0.1:$serve_port")
		"$synfin" serve "${serve_args[@]}" >"$o" 2>"$e" & ;;
	tcpstates | tcplife) "${bin[$c]}" >"$o" 2>"$e" & ;;
	bpftrace-count) bpftrace "$tmpd/bt-count.bt" >"$o" 2>"$e" & ;;
	bpftrace-print) bpftrace "$tmpd/bt-print.bt" >"$o" 2>"$e" & ;;
	esac
	obs_pid=$!
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
	# TcpExt counters of the storm's netns that explain a rate change.
	ip netns exec "$ns" cat /proc/net/netstat | awk '
		$1 == "TcpExt:" && !h { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
		$1 == "TcpExt:" && h { for (i = 2; i <= NF; i++) v[k[i]] = $i }
		END { printf "{\"listen_overflows\":%d,\"tw_overflows\":%d,\"syn_retrans\":%d}\n",
		      v["ListenOverflows"], v["TCPTimeWaitOverflow"], v["TCPSynRetrans"] }'
}

run_storm() {
	ip netns exec "$ns" "$storm" --duration "$1" --threads "$threads" \
		--accept-threads "$accept_threads" --request "$request" --close-first "$close_first"
}

# synfin serve's own event counters from /metrics, as JSON {reported, lost} or null.
scrape_serve() {
	local port=$serve_port
	[[ -n ${SYNFIN_SERVE_ARGS:-} ]] && port=${SYNFIN_SERVE_PORT:-}
	[[ -n $port ]] && command -v curl >/dev/null || { echo null; return; }
	curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null | awk '
		/^synfin_events_total[{ ]/ { r += $NF; seen = 1 }
		/^synfin_events_lost_total[{ ]/ { l += $NF; seen = 1 }
		END { if (seen) printf "{\"reported\":%d,\"lost\":%d}\n", r, l; else print "null" }'
}

# Events the observer reported and lost, as JSON {reported, lost, summary}.
observer_events() {
	local c=$1 o=$2 e=$3 line
	case $c in
	synfin-serve)
		# Counter deltas over the storm, scraped from /metrics (see run_one).
		jq -nc --argjson a "$serve_m0" --argjson b "$serve_m1" '
			if $a == null or $b == null then {reported: null, lost: null, summary: null}
			else {reported: ($b.reported - $a.reported), lost: ($b.lost - $a.lost),
			      summary: {metrics_before: $a, metrics_after: $b}} end' ;;
	synfin-*)
		# The summary may come on stderr or, if stdout is kept, stdout; take the last one.
		line=$(grep -hE '"type" *: *"summary"' "$e" "$o" 2>/dev/null | tail -n1)
		if [[ -n $line ]] && jq -e . >/dev/null 2>&1 <<<"$line"; then
			# "events" and "lost" are either totals or objects of per-kind counts.
			jq -c 'def total: if type == "object" then [.[] | total] | add // 0
					  elif type == "number" then . else null end;
				{reported: (.events // .events_total // null | total),
				 lost: (.lost // .lost_events // .dropped // null | total),
				 summary: .}' <<<"$line"
		else
			echo '{"reported":null,"lost":null,"summary":null}'
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
	*) echo '{"reported":null,"lost":null,"summary":null}' ;;
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
		is_ready synfin-watch "$obs_pid" "$o" "$e" && break
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

runs=$tmpd/runs.jsonl
: >"$runs"

# One measured run of configuration $1, repetition $2; appends one JSON line to $runs.
run_one() {
	local c=$1 rep=$2 o=$tmpd/$1.$2.out e=$tmpd/$1.$2.err
	local ids='[]' t0 t_ready=0 i reason='' cpu0=0 cpu1=0 hwm=null st=null
	local p0='[]' p1='[]' n0 n1 sj ev='{"reported":null,"lost":null,"summary":null}'

	obs_killed=false

	if [[ $c != baseline ]]; then
		t0=$(date +%s.%N)
		if [[ $c == synfin-watch && $synfin_watch_out == tail ]]; then
			local -a wa
			read -ra wa <<<"${SYNFIN_WATCH_ARGS:-}"
			"$synfin" watch --json "${wa[@]}" > >(tail -n1 >"$o") 2>"$e" &
			obs_pid=$!
		else
			start_observer "$c" "$o" "$e"
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
			is_ready "$c" "$obs_pid" "$o" "$e" && break
			if ((i >= ready_timeout * 10)); then
				reason="not ready within ${ready_timeout}s: $(last_error "$e")"
				stop_observer
				break
			fi
			sleep 0.1
		done
		if [[ -n $reason ]]; then
			skip[$c]="cannot run here: $reason"
			note "$c: ${skip[$c]}"
			jq -nc --arg c "$c" --argjson r "$rep" --arg why "${skip[$c]}" \
				'{config: $c, rep: $r, status: "cannot-run", note: $why}' >>"$runs"
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
	n0=$(netns_counters)
	sj=$(run_storm "$duration") || sj=
	n1=$(netns_counters)

	if [[ $c != baseline ]]; then
		if kill -0 "$obs_pid" 2>/dev/null; then
			cpu1=$(cpu_ticks "$obs_pid") || cpu1=$cpu0
			hwm=$(vm_hwm_kb "$obs_pid")
			p1=$(prog_snapshot "$ids")
			if [[ $c == synfin-serve ]]; then
				sleep 1 # its drain interval: count what the storm produced
				serve_m1=$(scrape_serve)
			fi
			stop_observer
			st=$obs_status
		else
			wait "$obs_pid" 2>/dev/null
			st=$?
			obs_pid=
			reason=$(last_error "$e")
			skip[$c]="died during the storm with status $st${reason:+: $reason}"
			note "$c: ${skip[$c]}"
			jq -nc --arg c "$c" --argjson r "$rep" --arg why "${skip[$c]}" \
				--argjson s "${sj:-null}" \
				'{config: $c, rep: $r, status: "died", note: $why, storm: $s}' >>"$runs"
			return
		fi
		sleep 0.2 # a tail behind synfin's stdout, if any, to write its line
		ev=$(observer_events "$c" "$o" "$e")
	fi
	if [[ -z $sj ]] || ! jq -e .connections >/dev/null 2>&1 <<<"$sj"; then
		die "storm failed in run $rep of $c"
	fi

	jq -nc --arg c "$c" --argjson r "$rep" --argjson s "$sj" --argjson n0 "$n0" \
		--argjson n1 "$n1" --argjson ev "$ev" --argjson p0 "$p0" --argjson p1 "$p1" \
		--argjson cpu "$((cpu1 - cpu0))" --argjson tck "$clk_tck" \
		--argjson hwm "${hwm:-null}" --argjson st "$st" --argjson tr "$t_ready" \
		--argjson killed "$obs_killed" \
		--argjson epc "${expect_per_conn[$c]:-null}" '
		($s.connections) as $n |
		[$p1[] as $b | ($p0[] | select(.id == $b.id)) as $a |
		 {id: $b.id, name: $b.name, type: $b.type, run_cnt: ($b.run_cnt - $a.run_cnt),
		  run_time_ns: ($b.run_time_ns - $a.run_time_ns)} |
		 .ns_per_run = (if .run_cnt > 0 then .run_time_ns / .run_cnt else null end)] as $progs |
		($progs | map(.run_cnt) | add // 0) as $rc |
		($progs | map(.run_time_ns) | add // 0) as $rt |
		{config: $c, rep: $r, status: "ok",
		 conn_per_s: $s.conn_per_s, connections: $n, failures: ($s.failures + $s.server_failures),
		 storm: $s,
		 netns: {listen_overflows: ($n1.listen_overflows - $n0.listen_overflows),
			 tw_overflows: ($n1.tw_overflows - $n0.tw_overflows),
			 syn_retrans: ($n1.syn_retrans - $n0.syn_retrans)},
		 observer: (if $c == "baseline" then null else
			{cpu_s: ($cpu / $tck),
			 cpu_s_per_kconn: (if $n > 0 then ($cpu / $tck) / ($n / 1000) else null end),
			 rss_peak_kb: $hwm, exit_status: $st, killed: $killed, ready_s: $tr} end),
		 events: (if $c == "baseline" then null else
			{reported: $ev.reported, lost: $ev.lost, expected_per_conn: $epc,
			 expected: (if $epc then $epc * $n else null end),
			 per_conn: (if $ev.reported != null and $n > 0 then $ev.reported / $n else null end),
			 summary: $ev.summary} end),
		 bpf: (if $c == "baseline" then null else
			{progs: $progs, run_cnt: $rc, run_time_ns: $rt,
			 ns_per_run: (if $rc > 0 then $rt / $rc else null end),
			 ns_per_conn: (if $n > 0 then $rt / $n else null end)} end)}' >>"$runs" ||
		die "cannot record run $rep of $c"
	tail -n1 "$runs" | jq -r '"  \(.config) [\(.rep)]: \(.conn_per_s | floor) conn/s" +
		(if .observer then ", cpu \((.observer.cpu_s_per_kconn // 0) * 1000 | . * 100 | round / 100) ms/1k conn" +
		 ", lost \(.events.lost // "n/a")" +
		 (if .bpf.ns_per_run then ", bpf \(.bpf.ns_per_run | round) ns/run" else "" end)
		 else "" end)' >&2
}

# ---------------------------------------------------------------------------------------
# Main: warm-up, alternated rounds, summary.

active=()
for c in "${want[@]}"; do
	if [[ -n ${skip[$c]:-} ]]; then
		note "$c: skipped: ${skip[$c]}"
	else
		active+=("$c")
	fi
done

[[ -z ${skip[synfin-watch]:-} && ,$configs, == *,synfin-watch,* ]] && probe_synfin_watch

nruns=$((${#active[@]} * reps))
note "storm: $threads client + $accept_threads listener threads, ${duration}s, request $request B," \
	"close-first $close_first; $reps round(s) of: ${active[*]} (~$((nruns * (duration + 3) / 60 + 1)) min)"
# Fills the TIME_WAIT table and warms caches so the first measured run is not special.
run_storm $((duration < 3 ? duration : 3)) >/dev/null || die "storm warm-up failed"

started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for ((r = 1; r <= reps; r++)); do
	for c in "${active[@]}"; do
		[[ -n ${skip[$c]:-} ]] && continue
		run_one "$c" "$r"
	done
done

notes_json=$(printf '%s\n' "${notes[@]}" | jq -Rsc 'split("\n") | map(select(length > 0))')
skips_json=$(for c in "${want[@]}"; do
	[[ -n ${skip[$c]:-} ]] && jq -nc --arg c "$c" --arg w "${skip[$c]}" '{($c): $w}'
done | jq -sc 'add // {}')
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_kb=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)

result=$(jq -sc --arg started "$started" --arg kernel "$(uname -r)" --arg cpu "$cpu_model" \
	--argjson ncpu "$(nproc)" --argjson mem "$mem_kb" --argjson notes "$notes_json" \
	--argjson skips "$skips_json" --arg configs "$configs" --argjson reps "$reps" \
	--argjson dur "$duration" --argjson thr "$threads" --argjson athr "$accept_threads" \
	--argjson req "$request" --arg cf "$close_first" --argjson bs "$bpf_stats" \
	--arg tw "${TW_BUCKETS:-default}" '
	def median: map(select(. != null)) | sort |
		if length == 0 then null
		elif length % 2 == 1 then .[length / 2 | floor]
		else (.[length / 2 - 1] + .[length / 2]) / 2 end;
	def range3: map(select(. != null)) |
		{median: median, min: (min // null), max: (max // null)};
	. as $runs |
	($runs | map(select(.config == "baseline" and .status == "ok") | .conn_per_s) | median)
		as $base |
	($runs | map(.) | map(. + (if .status == "ok" and $base then
		{ratio: (.conn_per_s / $base)} else {} end))) as $runs |
	($configs | split(",")) as $order |
	{date: $started,
	 machine: {kernel: $kernel, cpu: $cpu, cpus: $ncpu, mem_kb: $mem},
	 params: {reps: $reps, duration_s: $dur, threads: $thr, accept_threads: $athr,
		  request_bytes: $req, close_first: $cf, bpf_stats: ($bs == 1),
		  tw_buckets: $tw},
	 notes: $notes,
	 baseline_conn_per_s: $base,
	 configs: [$order[] as $c |
		($runs | map(select(.config == $c and .status == "ok"))) as $ok |
		{config: $c,
		 status: (if ($ok | length) > 0 then "ok" elif $skips[$c] then "skipped"
			  else "no runs" end),
		 note: ($skips[$c] // null),
		 summary: (if ($ok | length) == 0 then null else {
			runs: ($ok | length),
			conn_per_s: ($ok | map(.conn_per_s) | range3),
			ratio: ($ok | map(.ratio) | range3),
			failures: ($ok | map(.failures) | add),
			cpu_s_per_kconn: ($ok | map(.observer.cpu_s_per_kconn?) | range3),
			rss_peak_kb: ($ok | map(.observer.rss_peak_kb?) | range3),
			events_per_conn: ($ok | map(.events.per_conn?) | range3),
			events_reported: ($ok | map(.events.reported?) | add),
			events_expected: ($ok | map(.events.expected?) |
				if any(. == null) then null else add end),
			lost_events: ($ok | map(.events.lost?) | range3),
			lost_events_total: ($ok | map(.events.lost?) |
				if any(. == null) then null else add end),
			bpf_ns_per_run: ($ok | map(.bpf.ns_per_run?) | range3),
			bpf_ns_per_conn: ($ok | map(.bpf.ns_per_conn?) | range3),
			tw_overflows: ($ok | map(.netns.tw_overflows) | range3),
			listen_overflows: ($ok | map(.netns.listen_overflows) | add)
		 } end)}],
	 runs: $runs}' "$runs") || die "cannot summarise the runs"

# Issue 6 targets, for synfin watch, against the peers measured in this invocation.
result=$(jq -c '
	(.configs | map({(.config): .summary}) | add) as $s |
	(.configs | map(select(.summary != null and (.config | test("^(tcp|bpftrace)")))) |
	 map(.summary)) as $peers |
	.targets = (if $s["synfin-watch"] == null then null else {
		rate_ge_98pct: {value: $s["synfin-watch"].ratio.median,
			met: ($s["synfin-watch"].ratio.median >= 0.98)},
		zero_lost: {value: $s["synfin-watch"].lost_events_total,
			met: ($s["synfin-watch"].lost_events_total == 0)},
		bpf_ns_per_run_le_150: {value: $s["synfin-watch"].bpf_ns_per_run.median,
			met: (($s["synfin-watch"].bpf_ns_per_run.median // 1e9) <= 150)},
		cpu_below_every_peer: {value: $s["synfin-watch"].cpu_s_per_kconn.median,
			peers_min: ($peers | map(.cpu_s_per_kconn.median) | min),
			met: (if ($peers | length) == 0 then null else
				($s["synfin-watch"].cpu_s_per_kconn.median <
				 ($peers | map(.cpu_s_per_kconn.median) | min)) end)},
		lost_not_above_peers: {value: $s["synfin-watch"].lost_events_total,
			peers_min: ($peers | map(.lost_events_total) | min),
			met: (if ($peers | length) == 0 then null else
				(($s["synfin-watch"].lost_events_total // 1e18) <=
				 ($peers | map(.lost_events_total) | min)) end)}
	} end)' <<<"$result")

if [[ -z $out ]]; then
	mkdir -p "$here/results" || die "cannot create $here/results"
	out=$here/results/bench-$(date -u +%Y%m%d-%H%M%S).json
fi
jq . <<<"$result" >"$out" || die "cannot write $out"

# ---------------------------------------------------------------------------------------
# The table.

jq -r '
	def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
	def k: if . == null then "-" else (. / 1000 | n(1) | . + "k") end;
	def rng(f): if .median == null then "-" else
		"\(.median | f) [\(.min | f)-\(.max | f)]" end;
	"synfin bench \(.date): \(.machine.cpus) x \(.machine.cpu), kernel \(.machine.kernel)",
	"storm: \(.params.threads) client + \(.params.accept_threads) listener threads, " +
	"\(.params.duration_s) s x \(.params.reps), request \(.params.request_bytes) B, " +
	"close-first \(.params.close_first)",
	"",
	(["config", "conn/s median [min-max]", "ratio", "cpu ms/1k conn", "rss MiB",
	  "events/conn", "lost (sum)", "bpf ns/run", "bpf ns/conn"] | @tsv),
	(.configs[] | if .summary == null then
		([.config, (.note // .status)] | @tsv)
	 else .summary as $s |
		([.config, ($s.conn_per_s | rng(k)), ($s.ratio.median | n(3)),
		  ($s.cpu_s_per_kconn.median | if . == null then null else . * 1000 end | n(2)),
		  ($s.rss_peak_kb.max | if . == null then null else . / 1024 end | n(1)),
		  ($s.events_per_conn.median | n(2)),
		  ($s.lost_events_total | n(0)),
		  ($s.bpf_ns_per_run.median | n(0)),
		  ($s.bpf_ns_per_conn.median | n(0))] | @tsv)
	 end)' "$out" | awk -F'\t' '
	NF > 2 { printf "%-15s %-28s %6s %14s %8s %11s %11s %10s %11s\n",
		 $1, $2, $3, $4, $5, $6, $7, $8, $9; next }
	NF == 2 { printf "%-15s %s\n", $1, $2; next }
	{ print }'
jq -r '
	def median: sort | if length == 0 then null else .[length / 2 | floor] end;
	def n(d): if . == null then "-" else (. * pow(10; d) | round / pow(10; d) | tostring) end;
	(.configs | map(.config)) as $order |
	[.runs[] | select(.status == "ok" and .bpf != null) | .connections as $n |
	 .config as $c | .bpf.progs[] | . + {config: $c, per_conn: (.run_cnt / $n)}] |
	group_by(.config) | sort_by(.[0].config as $c | $order | index($c)) | .[] |
	"\(.[0].config) programs: " + (group_by(.name) | map(
		"\(.[0].name) \(map(.ns_per_run // 0) | median | n(0)) ns x " +
		"\(map(.per_conn) | median | n(2))/conn") | join(", "))' "$out"
jq -r '.notes[] | "note: " + .' "$out"
jq -r '
	def n: if type == "number" then (. * 1000 | round / 1000 | tostring) else "-" end;
	if .targets == null then empty else
	"targets (synfin watch): " + ([.targets | to_entries[] |
	"\(.key)=\(if .value.met == null then "n/a (no peer ran)" elif .value.met then "met"
	else "NOT met" end) (\(.value.value | n))"] |
	join(", ")) end' "$out"
echo "results: $out"
