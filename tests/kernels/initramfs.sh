#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# initramfs.sh TREE OUT: builds OUT, a gzip'd cpio initramfs for the kernel unpacked in TREE
# (by fetch.sh), that mounts the host's root over virtio-9p and switch_roots into the
# harness's guest init (see initramfs-init).
#
# Why our own initramfs: Debian's (mkinitramfs, dracut) is built from modules installed in
# the host's /usr/lib/modules/KREL and the host's initramfs configuration, i.e. it would
# install each kernel on the machine that runs the matrix. This one needs nothing installed:
# a static busybox (package busybox-static), the 9p modules resolved from TREE's modules.dep
# by kmod itself (`modprobe -d TREE --show-depends`: virtio_pci with its helper modules if it
# is modular, 9pnet, 9pnet_virtio, netfs/fscache where 9p needs them, 9p), decompressed
# (newer Debian kernels ship .ko.xz or .ko.zst; busybox's insmod takes plain .ko), and /init.
# A module the kernel has built in (modules.builtin) is skipped.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kernels/lib.sh
source "$here/lib.sh"

[ $# -eq 2 ] || kdie "usage: initramfs.sh TREE OUT"
tree=$1 out=$2
# shellcheck disable=SC1091
. "$tree/kernel.env" || kdie "no $tree/kernel.env (run fetch.sh)"
busybox=${SYNFIN_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] && ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable' ||
	kdie "$busybox is not a static binary (install busybox-static)"

work=$(mktemp -d /tmp/synfin-initramfs.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
mkdir -p "$work"/{bin,dev,proc,sys,tmp,newroot,lib/modules} || exit 1
mknod "$work/dev/console" c 5 1 || kdie "mknod /dev/console failed"
cp "$busybox" "$work/bin/busybox" || exit 1
cp "$here/initramfs-init" "$work/init" && chmod 755 "$work/init" || exit 1

# Load order: what modprobe would insmod, dependencies first, each module once.
: >"$work/lib/modules/load.list"
for mod in virtio_pci 9pnet_virtio 9p; do
	deps=$(modprobe -d "$tree" -S "$KREL" --show-depends "$mod" 2>&1) ||
		kdie "$KREL: modprobe --show-depends $mod: $deps"
	while read -r verb path _; do
		[ "$verb" = insmod ] || continue # "builtin NAME": nothing to load
		name=$(basename "$path")
		name=${name%.xz}
		name=${name%.zst}
		name=${name%.gz}
		grep -qx "$name" "$work/lib/modules/load.list" && continue
		case $path in
		*.ko.xz) xz -dc "$path" >"$work/lib/modules/$name" ;;
		*.ko.zst) zstd -qdc "$path" >"$work/lib/modules/$name" ;;
		*.ko.gz) gzip -dc "$path" >"$work/lib/modules/$name" ;;
		*.ko) cp "$path" "$work/lib/modules/$name" ;;
		*) false ;;
		esac || kdie "$KREL: cannot unpack $path"
		echo "$name" >>"$work/lib/modules/load.list"
	done <<<"$deps"
done

(cd "$work" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
	gzip -1 >"$out.tmp" && mv "$out.tmp" "$out" || kdie "cannot write $out"
kmsg "$KID: initramfs $(du -k "$out" | cut -f1) KiB, modules: $(paste -sd ' ' "$work/lib/modules/load.list")"
