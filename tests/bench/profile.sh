#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Where the time goes: the bench's connection storm (tests/bench/storm.c) in a netns of its
# own, under an observer, with `perf record -a` over the storm; prints perf's top symbols
# (self time, whole machine). Not a measurement of rates: that is tests/bench/run.sh.
#
#   tests/bench/profile.sh [-d SECONDS] [-n TOP] [-c SYMBOL] [-l] [-- OBSERVER ARGS...]
#
# -c SYMBOL records call graphs and prints who calls SYMBOL (e.g. _raw_spin_unlock_irqrestore,
# whose self time hides the lock's users).
# -l also prints the source lines of synfin's BPF programs that the samples inside them hit
# (self time of the JITed code, by the programs' BTF line info: .output/prog_lines); time in
# the helpers and kfuncs they call is in the symbol list, under the helpers' own names.
#
# OBSERVER defaults to `./synfin serve --listen none --textfile ...`; `-- none` profiles the storm
# alone. Holds the same lock as the bench and the kernel matrix (one at a time on this host).
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
duration=5
top=25
callers=
lines=0
die() { echo "profile: $*" >&2; exit 1; }
while (($#)); do
	case $1 in
	-d) [[ ${2:-} =~ ^[0-9]+$ ]] || die "-d needs seconds"; duration=$2; shift 2 ;;
	-n) [[ ${2:-} =~ ^[0-9]+$ ]] || die "-n needs a count"; top=$2; shift 2 ;;
	-c) [[ -n ${2:-} ]] || die "-c needs a symbol"; callers=$2; shift 2 ;;
	-l) lines=1; shift ;;
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
prog_lines=$root/.output/prog_lines
((!lines)) || [[ -x $prog_lines ]] || die "$prog_lines missing: run 'make .output/prog_lines'"

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
# The line table is read while the observer's programs are still loaded.
((lines)) && { "$prog_lines" synfin_ >"$tmpd/lines.tsv" || die "cannot read the programs' line info"; }
echo "storm: $(jq -r '"\(.conn_per_s | floor) conn/s"' "$tmpd/storm.json" 2>/dev/null)"
perf report -q -i "$tmpd/perf.data" --no-children --sort symbol --percent-limit 0.3 \
	--stdio -g none 2>/dev/null | grep -v '^$' | head -n "$top"
if [[ -n $callers ]]; then
	echo "callers of $callers:"
	perf report -q -i "$tmpd/perf.data" --no-children --symbols "$callers" --stdio \
		-g caller,0.5,callee,function,percent --max-stack 4 --percent-limit 0.3 2>/dev/null | grep -v '^$' | head -n 80
fi
if ((lines)); then
	# Samples and line records merged by address (both 16 hex digits): each sample belongs to
	# the last line record at or below it, within the program perf named.
	perf script -i "$tmpd/perf.data" -F ip,sym 2>/dev/null | awk -v t="$tmpd/lines.tsv" '
		BEGIN { FS = "\t"; while ((getline l < t) > 0) { split(l, f, "\t"); ours[f[2]] = 1 } FS = " " }
		{ all++ }
		$2 ~ /^bpf_prog_/ { tag = substr($2, 10, 16); if (tag in ours) print $1 "\tS\t" tag }
		END { print all > "/dev/stderr" }' 2>"$tmpd/all" >"$tmpd/samples.tsv"
	awk -F'\t' '{ print $1 "\tL\t" $2 "\t" $3 "\t" $4 "\t" $5 }' "$tmpd/lines.tsv" |
		LC_ALL=C sort -s -k1,1 -k2,2 - "$tmpd/samples.tsv" | awk -F'\t' -v all="$(cat "$tmpd/all")" '
		$2 == "L" { cur = $3; key[cur] = $4 " " $5 " " $6; next }
		$3 == cur { n[key[cur]]++; ours++ }
		END {
			printf "BPF source lines (self time): %d of %d samples (%.2f%%) in synfin programs\n",
				ours, all, all ? 100 * ours / all : 0
			for (k in n) printf "%6.2f%% %s\n", 100 * n[k] / all, k
		}' | { IFS= read -r h; echo "$h"; sort -rn | head -n "$top"; }
fi
