#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The kernel matrix (`make test-kernels`): boots Debian's stock kernels under qemu, one at a
# time, and runs synfin's checks and integration tests inside each guest, on the host's own
# userland and the host's build of ./synfin and .output/tcpdrive.
#
# Why: synfin is CO-RE eBPF on tracepoints whose BTF, verifier and helpers differ from kernel
# to kernel; the only proof that it loads and counts right on a kernel is running it there.
# The host's root filesystem is shared read-only over virtio-9p (no image to build, nothing
# installed on the host; guest-init.sh makes it usable), the kernel and its modules come
# from Debian's packages (fetch.sh, cached outside the clone), the initramfs is our own
# (initramfs.sh).
#
# For each kernel: fetch.sh -> initramfs.sh -> qemu (KVM if a short probe boot proves it
# works, else TCG: nested KVM can hang here) -> guest-init.sh runs `synfin check`,
# `synfin check --json` and tests/integration/run.sh with the suite's tests -> results in
# .output/kernels/ID/ (console.log, the guest's check and run output, one log per test).
# A guest that does not finish within its timeout is killed: its kernel row fails.
# At the end: one table, test x kernel (pass, fail, skip: reason; a skip never counts as a
# pass), one line per kernel with the `synfin check` verdict and the times, the same as JSON
# in .output/kernels/results.json, and "N passed, N failed, N skipped". Exit status 1 if any
# test failed or any guest did not boot or timed out.
#
# Environment (the Makefile passes SUITE and KERNELS through as SYNFIN_SUITE/SYNFIN_KERNELS):
#   SYNFIN_SUITE            full (default: every tests/integration/test_*.sh), smoke (verifier,
#                           handshake counts, TIME_WAIT ends, serve, resets), or test names
#   SYNFIN_KERNELS          kernel ids, in order (default "5.10 6.1 6.12 sid"; see lib.sh);
#                           "host" adds this machine's own kernel (not booted: run here)
#   SYNFIN_KERNEL_ACCEL     auto (default), kvm or tcg
#   SYNFIN_KERNEL_TIMEOUT   seconds per guest, boot included (default: 900 smoke, 3600 full)
#   SYNFIN_KERNEL_MEM / SYNFIN_KERNEL_SMP   guest size (default 2G, 2 vCPUs)
#   SYNFIN_KERNEL_TCG_THREAD  single (default) or multi: TCG's vCPU threads (see below)
#   SYNFIN_KERNEL_CACHE     download cache (default /var/cache/synfin-kernels)
#   SYNFIN_KERNEL_NO_UPDATE=1  use the cached package lists as they are (no apt-get update)
#   SYNFIN_KERNEL_APPEND    more kernel arguments (synfin.trace=1 traces guest-init.sh)
#   T_TIMEOUT               per-test timeout inside the guest (run.sh's, default 300)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/kernels/lib.sh
source "$here/lib.sh"

suite=${SYNFIN_SUITE:-full}
kernels=${SYNFIN_KERNELS:-$KERNEL_IDS}
accel=${SYNFIN_KERNEL_ACCEL:-auto}
mem=${SYNFIN_KERNEL_MEM:-2G}
smp=${SYNFIN_KERNEL_SMP:-2}
# TCG runs both vCPUs on one host thread by default. With one thread per vCPU
# (thread=multi) the guests died within minutes of the full suite, on 6.12 and on sid
# alike: "Oops: int3" at the timer_start/timer_cancel tracepoint calls in enqueue_timer and
# detach_if_pending, i.e. one vCPU still executing the int3 of a text_poke_bp() the other
# had finished. Every synfin start and stop patches those call sites (static keys and
# static calls of the tracepoints), so a matrix with thread=multi is a matter of luck.
tcg_thread=${SYNFIN_KERNEL_TCG_THREAD:-single}
out=$repo/.output/kernels
SMOKE="verifier handshake_counts time_wait_ends serve resets"

[ "$(id -u)" -eq 0 ] || kdie "the kernel matrix must run as root (qemu, the cache, 9p as root)"
# What the harness needs beyond synfin's own packages (scripts/deps.sh installs what is
# missing; the guests run the host's userland, so synfin's test packages count too).
KERNEL_PACKAGES="qemu-system-x86 busybox-static kmod cpio xz-utils zstd debian-archive-keyring"
SYNFIN_EXTRA_PACKAGES=$KERNEL_PACKAGES "$repo/scripts/deps.sh" || kdie "installing packages failed"
for c in qemu-system-x86_64 cpio gzip xz zstd modprobe depmod jq flock timeout; do
	command -v "$c" >/dev/null ||
		kdie "'$c' not found: run 'make test-kernels', which installs what it needs"
done
[ -x "$repo/synfin" ] && [ -x "$repo/.output/tcpdrive" ] ||
	kdie "build first: make all (./synfin and .output/tcpdrive run inside the guests)"

fetch_ids=
for id in $kernels; do
	case " $KERNEL_IDS host " in
	*" $id "*) [ "$id" = host ] || fetch_ids="$fetch_ids $id" ;;
	*) kdie "unknown kernel '$id' in KERNELS (known: $KERNEL_IDS, and host)" ;;
	esac
done

# The tests of the suite, as run.sh names them (test_NAME).
case $suite in
full) names=$(cd "$repo/tests/integration" && ls test_*.sh | sed 's/\.sh$//') ;;
smoke) names=$(for n in $SMOKE; do echo "test_$n"; done) ;;
*) names=$(for n in $suite; do n=${n%.sh}; echo "test_${n#test_}"; done) ;;
esac
for n in $names; do
	[ -f "$repo/tests/integration/$n.sh" ] || kdie "no test tests/integration/$n.sh (SUITE=$suite)"
done
# The guest gets the list (full: none, i.e. run.sh's own "every test").
guest_tests=
[ "$suite" = full ] || guest_tests=$(echo "$names" | sed 's/^test_//' | paste -sd ' ')
case ${SYNFIN_KERNEL_TIMEOUT:-} in
'') [ "$suite" = full ] && gtimeout=3600 || gtimeout=900 ;;
*[!0-9]*) kdie "SYNFIN_KERNEL_TIMEOUT must be a number of seconds" ;;
*) gtimeout=$SYNFIN_KERNEL_TIMEOUT ;;
esac

# One matrix at a time on this machine (a guest takes both cores; a second run would also
# share the cache), and never beside the benchmark: a second run waits here.
mkdir -p "$KCACHE" || exit 1
exec 8>"$KCACHE/guest.lock"
if ! flock -n 8; then
	kmsg "another kernel matrix is running: waiting for it"
	flock 8
fi
while pgrep -x storm >/dev/null; do
	kmsg "the benchmark (storm) is running: waiting for it to finish"
	sleep 10
done

rm -rf "$out"
mkdir -p "$out" || exit 1
t_all=$(date +%s)
commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null)
dirty=$(git -C "$repo" status --porcelain 2>/dev/null | head -c 1)

# What the guests run is a snapshot of the clone taken now (the build, the tests, the
# scripts; no .git, of .output only the programs: tcpdrive, storm, ...): every kernel tests
# the same build even if the
# clone is rebuilt during the matrix, and the 9p share of an unchanging tree can be cached
# by the guest (cache=loose: without it every exec and read is a round trip to qemu, and a
# python3 start costs seconds under TCG).
snap=$out/snapshot
mkdir -p "$snap/.output" &&
	tar -C "$repo" --exclude=./.git --exclude=./.output -cf - . | tar -C "$snap" -xf - &&
	find "$repo/.output" -maxdepth 1 -type f -perm -u+x -exec cp -p {} "$snap/.output/" \; &&
	[ -x "$snap/.output/tcpdrive" ] || kdie "cannot snapshot $repo into $snap"

# ---------------------------------------------------------------- kernels
declare -A tree
fetch_args=()
[ "${SYNFIN_KERNEL_NO_UPDATE:-0}" = 1 ] && fetch_args+=(--no-update)
# shellcheck disable=SC2086
while read -r id t; do
	[ -n "$t" ] && tree[$id]=$t
done < <([ -n "$fetch_ids" ] && "$here/fetch.sh" "${fetch_args[@]}" $fetch_ids)

# ---------------------------------------------------------------- guests
qpid=
stop_qemu() {
	[ -n "$qpid" ] || return 0
	kill -TERM "$qpid" 2>/dev/null
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		kill -0 "$qpid" 2>/dev/null || break
		sleep 0.5
	done
	kill -KILL "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	qpid=
}
trap 'stop_qemu; exit 130' INT TERM

# qemu_cmd ID ACCEL CPU INITRD APPEND...: the qemu command line for kernel ID.
qemu_cmd() {
	local id=$1 acc=$2 cpu=$3 initrd=$4 t mods
	shift 4
	t=${tree[$id]}
	mods=$(. "$t/kernel.env" && realpath "$t/$KMODDIR/..")
	QEMU=(qemu-system-x86_64 -accel "$acc" -cpu "$cpu" -m "$mem" -smp "$smp"
		-nographic -no-reboot -nic none
		-kernel "$(. "$t/kernel.env" && echo "$t/$KVMLINUZ")" -initrd "$initrd"
		-append "console=ttyS0 panic=-1 root=host0 rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=512000,cache=loose ro $*"
		-fsdev local,id=root,path=/,security_model=none,readonly=on,multidevs=remap
		-device virtio-9p-pci,fsdev=root,mount_tag=host0
		-fsdev "local,id=mods,path=$mods,security_model=none,readonly=on"
		-device virtio-9p-pci,fsdev=mods,mount_tag=modules
		-fsdev "local,id=repo,path=$snap,security_model=none,readonly=on,multidevs=remap"
		-device virtio-9p-pci,fsdev=repo,mount_tag=repo
		-fsdev "local,id=results,path=$out/$id/share,security_model=none"
		-device virtio-9p-pci,fsdev=results,mount_tag=results
		-device virtio-rng-pci)
}

# KVM is used only when a probe boot (initramfs only, no tests) prints its marker within
# 20 s: nested KVM may fail at once or hang after "Booting from ROM". The verdict is kept
# in /run until the machine reboots.
pick_accel() {
	local id=$1 probe=/run/synfin-kernels.accel log
	case $accel in
	kvm) echo kvm; return ;;
	tcg) echo tcg; return ;;
	esac
	if [ ! -w /dev/kvm ]; then
		echo tcg
		return
	fi
	if [ -s "$probe" ]; then
		cat "$probe"
		return
	fi
	log=$out/kvm-probe.log
	mkdir -p "$out/$id/share"
	"$here/initramfs.sh" "${tree[$id]}" "$out/kvm-probe.cpio.gz" 2>/dev/null || { echo tcg; return; }
	qemu_cmd "$id" kvm host "$out/kvm-probe.cpio.gz" synfin.probe=1
	timeout -k 5 20 "${QEMU[@]}" </dev/null >"$log" 2>&1
	if grep -q SYNFIN-PROBE-OK "$log"; then
		echo kvm | tee "$probe"
	else
		kmsg "KVM probe: no guest output within 20 s (see $log): using TCG" >&2
		echo tcg | tee "$probe"
	fi
	rm -f "$out/kvm-probe.cpio.gz"
}

# boot_guest ID ACCEL: runs the guest; writes $out/ID/guest.env (BOOT, BOOT_S, SUITE_S).
boot_guest() {
	local id=$1 acc=$2 d=$out/$1 cpu t0 tb= now n=0 status= line total
	mkdir -p "$d/share" "$d/tests"
	{
		printf 'REPO=%q\n' "$repo"
		printf 'TESTS=%q\n' "$guest_tests"
		printf 'T_TIMEOUT=%q\n' "${T_TIMEOUT:-300}"
	} >"$d/share/job.env"
	if ! "$here/initramfs.sh" "${tree[$id]}" "$d/initramfs.cpio.gz" 2>"$d/initramfs.log"; then
		cat "$d/initramfs.log" >&2
		printf 'BOOT=%q\nBOOT_S=0\nSUITE_S=0\n' "initramfs failed: $(tail -n 1 "$d/initramfs.log")" >"$d/guest.env"
		return
	fi
	cpu=max
	[ "$acc" = kvm ] && cpu=host
	[ "$acc" = tcg ] && acc=tcg,thread=$tcg_thread
	qemu_cmd "$id" "$acc" "$cpu" "$d/initramfs.cpio.gz" "synfin.init=$snap/tests/kernels/guest-init.sh" \
		${SYNFIN_KERNEL_APPEND:-}
	printf '%q ' "${QEMU[@]}" >"$d/qemu.cmd"
	echo >>"$d/qemu.cmd"
	t0=$(date +%s)
	"${QEMU[@]}" </dev/null >"$d/console.log" 2>&1 &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		sleep 1
		now=$(date +%s)
		[ -z "$tb" ] && [ -e "$d/share/booted" ] && tb=$now
		# Relay the guest's own progress lines (complete lines only).
		total=$(wc -l <"$d/console.log")
		if [ "$total" -gt "$n" ]; then
			sed -n "$((n + 1)),${total}p" "$d/console.log" | tr -d '\r' |
				grep -E '^(synfin-guest:|synfin-initramfs:|PASS |FAIL |SKIP |[0-9]+ passed, )|Kernel panic' |
				sed "s/^/  [$id] /"
			n=$total
		fi
		if [ $((now - t0)) -ge "$gtimeout" ]; then
			status="timed out after ${gtimeout}s"
			kmsg "$id: $status: killing the guest"
			stop_qemu
			break
		fi
	done
	wait "$qpid" 2>/dev/null
	qpid=
	now=$(date +%s)
	[ -z "$tb" ] && [ -e "$d/share/booted" ] && tb=$now
	if [ -z "$status" ]; then
		if [ -e "$d/share/done" ]; then
			status=ok
		elif [ -e "$d/share/guest-fail" ]; then
			status="guest failed: $(head -n 1 "$d/share/guest-fail")"
		elif line=$(tr -d '\r' <"$d/console.log" | grep -m1 -E 'SYNFIN-GUEST-FAIL|Kernel panic'); then
			status="guest failed: ${line#*SYNFIN-GUEST-FAIL: }"
		else
			status="guest stopped before finishing: $(tr -d '\r' <"$d/console.log" | grep -v '^$' | tail -n 1 | cut -c1-120)"
		fi
	fi
	{
		printf 'BOOT=%q\n' "$status"
		printf 'BOOT_S=%q\n' "$([ -n "$tb" ] && echo $((tb - t0)) || echo $((now - t0)))"
		printf 'SUITE_S=%q\n' "$([ -n "$tb" ] && echo $((now - tb)) || echo 0)"
		printf 'WALL_S=%q\n' "$((now - t0))"
		printf 'ACCEL=%q\n' "${acc%%,*}"
	} >"$d/guest.env"
}

# collect ID: per-test status from the guest's run.log into $out/ID/results.tsv
# (name, status, reason, seconds) and one log per test in $out/ID/tests/.
collect() {
	local id=$1 d=$out/$1 n st reason secs cur= boot
	boot=$(. "$d/guest.env" && echo "$BOOT")
	: >"$d/results.tsv"
	if [ -f "$d/share/run.log" ]; then
		while IFS= read -r line; do
			if [[ $line =~ ^(PASS|FAIL|SKIP|FAIL\ \(timed\ out\))\ (test_[^ ]+)\ \((.*)\)$ ]]; then
				cur=${BASH_REMATCH[2]}
				: >"$d/tests/$cur.log"
				case ${BASH_REMATCH[1]} in
				PASS) st=pass reason= ;;
				SKIP) st=skip reason= ;;
				FAIL) st=fail reason= ;;
				*) st=fail reason="timed out" ;;
				esac
				secs=${BASH_REMATCH[3]}
				if [[ $secs =~ ^([0-9.]+)s$ ]]; then
					secs=${BASH_REMATCH[1]}
				else
					reason=$secs # SKIP name (requires FEATURE: why)
					secs=0
				fi
				printf '%s\t%s\t%s\t%s\n' "$cur" "$st" "${reason:--}" "$secs" >>"$d/results.tsv"
			elif [ -n "$cur" ] && [ "${line:0:4}" = "    " ]; then
				printf '%s\n' "${line:4}" >>"$d/tests/$cur.log"
			fi
		done < <(tr -d '\r' <"$d/share/run.log")
	fi
	# A skip's reason when the test itself skipped (lib.sh's skip: "NAME: [t] SKIP: why").
	awk -F'\t' -v OFS='\t' -v dir="$d/tests" '
		$2 == "skip" && $3 == "-" { f = dir "/" $1 ".log"
			while ((getline l < f) > 0) if (match(l, /\] SKIP: /)) { $3 = substr(l, RSTART + 8); break }
			close(f) }
		{ print }' "$d/results.tsv" >"$d/results.tsv.new" && mv "$d/results.tsv.new" "$d/results.tsv"
	# Tests without a result: the guest never got to them (or died in one).
	local first=1
	for n in $names; do
		grep -q "^$n	" "$d/results.tsv" && continue
		if [ "$boot" = ok ]; then
			reason="no result in run.log"
		elif [ -e "$d/share/booted" ] && [ -e "$d/share/run.log" ] && [ $first = 1 ]; then
			reason="running when the guest stopped: $boot"
			first=0
		else
			reason="not run: $boot"
		fi
		printf '%s\tfail\t%s\t0\n' "$n" "$reason" >>"$d/results.tsv"
	done
}

# run_host: the machine's own kernel as a row too (KERNELS=host, not booted): the guest's
# steps, run here on the same snapshot.
run_host() {
	local d=$out/host t0 now
	mkdir -p "$d/share" "$d/tests"
	{
		printf 'KID=host\n'
		printf 'KREL=%q\n' "$(uname -r)"
		printf 'KVER=%q\n' "$(uname -r | sed 's/[-+].*//')"
		printf 'KDISTRO=%q\n' "this machine's kernel"
	} >"$d/kernel.env"
	t0=$(date +%s)
	echo 0 >"$d/share/booted"
	(
		cd "$snap" || exit 1
		./synfin check >"$d/share/check.txt" 2>&1
		echo $? >"$d/share/check.rc"
		./synfin check --json >"$d/share/check.json" 2>"$d/share/check-json.err"
		echo $? >"$d/share/check-json.rc"
		# shellcheck disable=SC2086
		V=1 tests/integration/run.sh $guest_tests 2>&1 | tee "$d/share/run.log" |
			grep --line-buffered -E '^(PASS|FAIL|SKIP) |^[0-9]+ passed, ' | sed 's/^/  [host] /'
	)
	touch "$d/share/done"
	now=$(date +%s)
	printf 'BOOT=ok\nBOOT_S=0\nSUITE_S=%s\nWALL_S=%s\nACCEL=none\n' $((now - t0)) $((now - t0)) >"$d/guest.env"
}

declare -A label
for id in $kernels; do
	d=$out/$id
	mkdir -p "$d/share" "$d/tests"
	if [ "$id" = host ]; then
		label[$id]="host ($(uname -r | sed 's/[-+].*//'))"
		kmsg "host: running suite $suite on this machine's kernel $(uname -r)"
		run_host
		collect "$id"
		continue
	fi
	if [ -z "${tree[$id]:-}" ]; then
		label[$id]=$id
		printf 'BOOT=%q\nBOOT_S=0\nSUITE_S=0\nWALL_S=0\nACCEL=none\n' "no kernel: fetch failed" >"$d/guest.env"
		collect "$id"
		continue
	fi
	# shellcheck disable=SC1091
	label[$id]="$id ($(. "${tree[$id]}/kernel.env" && echo "$KVER"))"
	cp "${tree[$id]}/kernel.env" "$d/kernel.env"
	acc=$(pick_accel "$id")
	kmsg "$id: booting $(. "$d/kernel.env" && echo "$KPKG $KVERSION") under ${acc^^}," \
		"suite $suite, timeout ${gtimeout}s"
	boot_guest "$id" "$acc"
	collect "$id"
	kmsg "$id: $(. "$d/guest.env" && echo "guest $BOOT; boot ${BOOT_S}s, suite ${SUITE_S}s")"
done

# ---------------------------------------------------------------- report
passed=0 failed=0 skipped=0 bad_guest=0
w=8
for n in $names; do [ ${#n} -gt $w ] && w=${#n}; done
declare -A cell width
for id in $kernels; do
	width[$id]=${#label[$id]}
	while IFS=$'\t' read -r n st reason secs; do
		[ "$reason" = - ] && reason=
		case $st in
		pass) c=pass passed=$((passed + 1)) ;;
		skip) c="skip: ${reason:-no reason given}" skipped=$((skipped + 1)) ;;
		*) c=fail failed=$((failed + 1)); [ -n "$reason" ] && c="fail ($reason)" ;;
		esac
		cell[$id/$n]=$c
		[ ${#c} -gt "${width[$id]}" ] && width[$id]=${#c}
	done <"$out/$id/results.tsv"
	[ "$(. "$out/$id/guest.env" && echo "$BOOT")" = ok ] || bad_guest=$((bad_guest + 1))
done

echo
echo "Kernel matrix, suite $suite ($(date -u +%F)):"
printf '%-*s' "$w" test
for id in $kernels; do printf '  %-*s' "${width[$id]}" "${label[$id]}"; done
echo
for n in $names; do
	printf '%-*s' "$w" "$n"
	for id in $kernels; do printf '  %-*s' "${width[$id]}" "${cell[$id/$n]}"; done
	echo
done
echo
for id in $kernels; do
	d=$out/$id
	# shellcheck disable=SC1091
	(
		. "$d/guest.env"
		pkg=-
		[ -f "$d/kernel.env" ] && pkg=$(. "$d/kernel.env" &&
			if [ "$KID" = host ]; then echo "this machine's kernel $KREL"; else echo "Debian $KSUITE $KPKG $KVERSION"; fi)
		verdict="no verdict"
		if [ -s "$d/share/check.txt" ]; then
			verdict="$(tail -n 1 "$d/share/check.txt" | tr -d '\r') (exit $(cat "$d/share/check.rc" 2>/dev/null))"
			nf=$(grep -cE ' FAIL( |$)' "$d/share/check.txt")
			first=$(grep -m1 -E ' FAIL( |$)' "$d/share/check.txt" | sed 's/  */ /g' | cut -c1-240)
			[ "$nf" -gt 0 ] && verdict="$verdict; $nf FAIL, the first: $first"
		fi
		if [ "$ACCEL" = none ]; then
			echo "${label[$id]}: $pkg; not booted; suite ${SUITE_S}s"
		else
			echo "${label[$id]}: $pkg; guest $BOOT; ${ACCEL^^}: boot ${BOOT_S}s, suite ${SUITE_S}s"
		fi
		echo "    synfin check: $verdict"
	)
done

# JSON: one object for the run, one per kernel, one per test.
for id in $kernels; do
	d=$out/$id
	check_json=null
	jq -e 'type == "object"' "$d/share/check.json" >/dev/null 2>&1 && check_json=$(cat "$d/share/check.json")
	(
		KVER= KREL= KPKG= KVERSION= KPKGS= KSUITE= KDISTRO=
		# shellcheck disable=SC1091
		[ -f "$d/kernel.env" ] && . "$d/kernel.env"
		# shellcheck disable=SC1091
		. "$d/guest.env"
		jq -n --arg id "$id" --arg klabel "${label[$id]}" --arg version "$KVER" \
			--arg release "$KREL" --arg package "$KPKG" --arg package_version "$KVERSION" \
			--arg packages "$KPKGS" --arg suite "$KSUITE" --arg distro "$KDISTRO" \
			--arg status "$BOOT" --arg accel "$ACCEL" --argjson boot_s "$BOOT_S" \
			--argjson suite_s "$SUITE_S" --argjson wall_s "${WALL_S:-0}" \
			--arg check "$(cat "$d/share/check.txt" 2>/dev/null)" \
			--arg check_rc "$(cat "$d/share/check.rc" 2>/dev/null)" \
			--argjson check_json "$check_json" \
			--rawfile tsv "$d/results.tsv" '
			def nul: if . == "" then null else . end;
			{id: $id, "label": $klabel, version: ($version | nul), release: ($release | nul),
			 distro: (if $distro != "" then $distro elif $suite != "" then "Debian \($suite)"
			          else null end),
			 package: ($package | nul), package_version: ($package_version | nul),
			 packages: ($packages | split(" ") | map(select(. != ""))),
			 guest: {status: $status, accel: $accel, boot_seconds: $boot_s,
			         suite_seconds: $suite_s, wall_seconds: $wall_s},
			 check: {exit: (if $check_rc == "" then null else ($check_rc | tonumber) end),
			         verdict: (if $check == "" then null else ($check | split("\n") | last) end),
			         output: ($check | nul), json: $check_json},
			 tests: ($tsv | split("\n") | map(select(. != "") | split("\t")
				| {name: .[0], status: .[1], reason: (if .[2] == "-" then null else .[2] end),
				   seconds: (.[3] | tonumber)}))}'
	) >"$d/result.json" || kmsg "$id: cannot write result.json"
done
jq -s --arg suite "$suite" --arg date "$(date -u +%FT%TZ)" --arg host "$(uname -r)" \
	--arg distro "$(. /etc/os-release && echo "$PRETTY_NAME")" \
	--arg commit "$commit" --arg dirty "$dirty" \
	--argjson seconds "$(($(date +%s) - t_all))" \
	--argjson p "$passed" --argjson f "$failed" --argjson s "$skipped" \
	--arg tcg "$tcg_thread" --arg mem "$mem" --argjson smp "$smp" \
	'{date: $date, suite: $suite, userland: $distro, host_kernel: $host,
	  guest: {memory: $mem, vcpus: $smp, tcg_thread: $tcg},
	  synfin_commit: $commit, worktree_dirty: ($dirty != ""), seconds: $seconds,
	  passed: $p, failed: $f, skipped: $s, kernels: .}' \
	$(for id in $kernels; do echo "$out/$id/result.json"; done) >"$out/results.json" ||
	kmsg "cannot write $out/results.json"
echo "results: $out/results.json, logs: $out/ID/ (console.log, share/, tests/)"
[ "$bad_guest" -eq 0 ] || echo "$bad_guest guest(s) did not boot or finish"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$bad_guest" -eq 0 ]
