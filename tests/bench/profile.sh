#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where the time goes: the bench's connection storm (tests/bench/storm.c) in a netns of its
# own, under an observer, with `perf record -a` over the storm; prints perf's top symbols
# (self time, whole machine). Not a measurement of rates: that is tests/bench/run.sh.
#
#   tests/bench/profile.sh [-d SECONDS] [-n TOP] [-c SYMBOL] [-- OBSERVER ARGS...]
#
# -c SYMBOL records call graphs and prints who calls SYMBOL (e.g. _raw_spin_unlock_irqrestore,
# whose self time hides the lock's users).
#
# OBSERVER defaults to `./synfin serve --listen none --textfile ...`; `-- none` profiles the storm
# alone. Holds the same lock as the bench and the kernel matrix (one at a time on this host).
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=5
top=25
callers=
die() { echo "profile: $*" >&2; exit 1; }
while (($#)); do
	case $1 in
	-d) [[ ${2:-} =~ ^[0-9]+$ ]] || die "-d needs seconds"; duration=$2; shift 2 ;;
	-n) [[ ${2:-} =~ ^[0-9]+$ ]] || die "-n needs a count"; top=$2; shift 2 ;;
	-c) [[ -n ${2:-} ]] || die "-c needs a symbol"; callers=$2; shift 2 ;;
	--) shift; break ;;
	*) die "unknown argument '$1' (see the header of $0)" ;;
	esac
done
obs=("$@")
((${#obs[@]})) || obs=("$root/synfin" serve --listen none --textfile "/tmp/synfin-profile-$$.prom")
((EUID == 0)) || die "must run as root"
command -v perf >/dev/null || die "perf not found (Debian package linux-perf)"
storm=$root/.output/storm
[[ -x $storm ]] || die "$storm missing: run 'make'"

lockdir=${SYNFIN_KERNEL_CACHE:-/var/cache/synfin-kernels}
mkdir -p "$lockdir" || die "cannot create $lockdir"
exec 8>"$lockdir/guest.lock"
flock -n 8 || { echo "profile: waiting for a bench or kernel guest to finish" >&2; flock 8; }

tmpd=$(mktemp -d /tmp/synfin-profile.XXXXXX) || die "no temp dir"
ns=synfin-prof-$$
obs_pid=
cleanup() {
	[[ -n $obs_pid ]] && kill -INT "$obs_pid" 2>/dev/null && wait "$obs_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmpd" "/tmp/synfin-profile-$$.prom"
}
trap cleanup EXIT
ip netns add "$ns" && ip -n "$ns" link set lo up || die "cannot create netns"

if [[ ${obs[0]} != none ]]; then
	"${obs[@]}" >"$tmpd/obs.out" 2>"$tmpd/obs.err" &
	obs_pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -qs 'synfin: ready' "$tmpd/obs.err" && break
		kill -0 "$obs_pid" 2>/dev/null || die "observer exited: $(tail -n1 "$tmpd/obs.err")"
		sleep 0.1
	done
	grep -qs 'synfin: ready' "$tmpd/obs.err" || die "observer not ready in 30 s"
fi
ip netns exec "$ns" "$storm" --duration 2 >/dev/null || die "storm warm-up failed"
perf record -q -a ${callers:+-g} -o "$tmpd/perf.data" -- \
	ip netns exec "$ns" "$storm" --duration "$duration" >"$tmpd/storm.json" 2>"$tmpd/perf.err" ||
	die "perf record failed: $(tail -n1 "$tmpd/perf.err")"
echo "storm: $(jq -r '"\(.conn_per_s | floor) conn/s"' "$tmpd/storm.json" 2>/dev/null)"
perf report -q -i "$tmpd/perf.data" --no-children --sort symbol --percent-limit 0.3 \
	--stdio -g none 2>/dev/null | grep -v '^$' | head -n "$top"
if [[ -n $callers ]]; then
	echo "callers of $callers:"
	perf report -q -i "$tmpd/perf.data" --no-children --symbols "$callers" --stdio \
		-g caller,0.5,callee,function,percent --max-stack 4 --percent-limit 0.3 2>/dev/null | grep -v '^$' | head -n 80
fi
