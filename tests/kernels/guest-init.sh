#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# PID 1 of a kernel matrix guest (run.sh boots it; initramfs-init switch_roots into it).
# The root filesystem is the host's own "/", read-only over virtio-9p, so the guest runs the
# host's userland and the host's build of ./synfin and .output/tcpdrive unchanged on the
# guest's kernel. This script makes that root usable for the tests (the writable and
# kernel-provided filesystems a normal boot would mount), then runs, in order:
#   synfin check            -> check.txt, check.rc
#   synfin check --json     -> check.json, check-json.rc (tolerated when unsupported)
#   tests/integration/run.sh TESTS (V=1) -> run.log, run.rc
# into the results share (virtio-9p tag "results", the host's .output/kernels/ID/share),
# reading its job from job.env there (REPO, TESTS, T_TIMEOUT). Then it syncs and powers the
# guest off with sysrq (PID 1 must never exit: that would panic the kernel).
#
# Shares (run.sh): host0 = the host's / (read-only), modules = the kernel's own
# lib/modules (read-only, with a modules.dep from fetch.sh) mounted on /lib/modules so that
# modprobe loads what the tests need (iptables, conntrack, xt_statistic, xt_connbytes, ...),
# repo = the clone (read-only, mounted at its own path: it may sit under /tmp, which gets a
# tmpfs here), results (read-write).
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 TERM=dumb
umask 022
R=/run/synfin-results
P9=trans=virtio,version=9p2000.L,msize=512000

say() {
	local up
	read -r up _ </proc/uptime
	echo "synfin-guest: [$up] $*"
}

off() {
	sync
	[ -d "$R" ] && mountpoint -q "$R" && { sync; umount "$R" 2>/dev/null; }
	echo o >/proc/sysrq-trigger
	sleep 60
	echo b >/proc/sysrq-trigger
}

die() {
	say "SYNFIN-GUEST-FAIL: $*"
	[ -d "$R" ] && mountpoint -q "$R" && echo "$*" >"$R/guest-fail" 2>/dev/null
	off
}

m() { mount "$@" || die "mount $*"; }

m -t proc proc /proc
# synfin.trace=1 on the kernel command line (SYNFIN_KERNEL_APPEND) traces this script on
# the console, each command with the guest's uptime.
case " $(cat /proc/cmdline 2>/dev/null) " in
*" synfin.trace=1 "*)
	PS4='+ [$(read -r u _ </proc/uptime; echo "$u")] '
	set -x
	;;
esac
m -t sysfs sysfs /sys
m -t devtmpfs devtmpfs /dev
# What udev or systemd would add to devtmpfs: bash's process substitution needs /dev/fd.
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
mkdir -p /dev/pts /dev/shm
m -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
m -t tmpfs -o mode=1777 tmpfs /dev/shm
# The host's root is read-only here: everything the tests and their tools write.
m -t tmpfs -o mode=755 tmpfs /run
m -t tmpfs -o mode=1777 tmpfs /tmp
m -t tmpfs -o mode=1777 tmpfs /var/tmp
m -t tmpfs -o mode=700 tmpfs /root
[ -L /var/run ] || m -t tmpfs -o mode=755 tmpfs /var/run
mkdir -p /run/lock /run/netns "$R"
m -t bpf -o mode=700 bpf /sys/fs/bpf
m -t cgroup2 cgroup2 /sys/fs/cgroup
m -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

m -t 9p -o "$P9" results "$R"
# shellcheck disable=SC1091
. "$R/job.env" || die "no job.env in the results share"
# The kernel's modules. The host's root may have no /lib/modules to mount them on (and
# nothing may be created there), so they go under /run/synfin-kmods/lib/modules and
# modprobe is told so (-d) by a wrapper that both the kernel (kernel.modprobe, used by
# request_module and by iptables) and the PATH use.
mkdir -p /run/synfin-kmods/lib/modules /run/synfin-bin
m -t 9p -o "ro,$P9" modules /run/synfin-kmods/lib/modules
modprobe=$(command -v modprobe) || die "no modprobe on the root filesystem (package kmod)"
printf '#!/bin/sh\nexec %s -d /run/synfin-kmods "$@"\n' "$modprobe" >/run/synfin-bin/modprobe
printf '#!/bin/sh\nexec %s -b /run/synfin-kmods "$@"\n' "$(command -v modinfo)" >/run/synfin-bin/modinfo
chmod 755 /run/synfin-bin/modprobe /run/synfin-bin/modinfo
echo /run/synfin-bin/modprobe >/proc/sys/kernel/modprobe
export PATH=/run/synfin-bin:$PATH
mkdir -p "$REPO" 2>/dev/null
m -t 9p -o "ro,$P9" repo "$REPO"

hostname synfin-guest
ip link set lo up || die "cannot bring lo up"
modprobe virtio_rng 2>/dev/null
read -r up _ </proc/uptime
echo "$up" >"$R/booted"
uname -r >"$R/uname"
say "up after ${up}s on $(uname -r); running ${TESTS:-every test}"

cd "$REPO" || die "no $REPO"
[ -e /sys/kernel/btf/vmlinux ] || say "warning: this kernel has no /sys/kernel/btf/vmlinux"
./synfin check >"$R/check.txt" 2>&1
echo $? >"$R/check.rc"
say "synfin check: $(tail -n 1 "$R/check.txt") (exit $(cat "$R/check.rc"))"
./synfin check --json >"$R/check.json" 2>"$R/check-json.err"
echo $? >"$R/check-json.rc"

# Progress on the console (the host shows it), every test's output in run.log.
# shellcheck disable=SC2086
V=1 T_TIMEOUT=${T_TIMEOUT:-300} tests/integration/run.sh $TESTS 2>&1 |
	tee "$R/run.log" | grep --line-buffered -E '^(PASS|FAIL|SKIP) |^[0-9]+ passed, '
echo "${PIPESTATUS[0]}" >"$R/run.rc"

dmesg >"$R/dmesg.txt" 2>&1
read -r up _ </proc/uptime
echo "$up" >"$R/done"
say "done after ${up}s"
off
