#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# fetch.sh [--no-update] ID...: downloads Debian's stock kernel for each kernel id (5.10,
# 6.1, 6.12, sid; see lib.sh) and unpacks it into the cache; prints one line per id:
# "ID TREE", where TREE/kernel.env describes it (KREL = uname -r, KVER = upstream version,
# KVMLINUZ, KMODDIR relative to TREE).
#
# Why this way: the matrix must run Debian's own kernels (their configs, their BTF) and must
# not change the machine it runs on. So apt runs with a private state under
# $SYNFIN_KERNEL_CACHE/apt (see lib.sh): its own sources.list naming the suites below on the
# machine's own mirror, its own lists and package cache, no dpkg status; packages are only
# downloaded (`apt-get download`) and unpacked with `dpkg-deb -x`, never installed. The
# newest package matching each id's pattern in its suite's Packages index is taken, so a
# new ABI (5.10.0-33, 6.1.0-58, ...) is picked up by itself; an older tree of the same id
# is then removed from the cache. Without network, the last tree fetched for an id is used.
#
# The unpacked tree gets a modules.dep (`depmod -b`, the package's postinst would make it):
# the guest mounts TREE/KMODDIR as /lib/modules, so its modprobe (the host's kmod, which
# reads .ko, .ko.xz and .ko.zst) loads iptables, conntrack and the xt_* matches on demand.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/kernels/lib.sh
source "$here/lib.sh"

update=1
if [ "${1:-}" = --no-update ]; then
	update=0
	shift
fi
[ $# -gt 0 ] || kdie "usage: fetch.sh [--no-update] ID... (ids: $KERNEL_IDS)"
[ "$(id -u)" -eq 0 ] || kdie "fetch.sh must run as root (it writes $KCACHE)"
for c in apt-get apt-cache dpkg-deb depmod flock; do
	command -v "$c" >/dev/null || kdie "'$c' not found (make test-kernels installs what it needs)"
done
[ -r "$KEYRING" ] || kdie "no keyring $KEYRING (package debian-archive-keyring)"

mkdir -p "$KAPT/lists/partial" "$KAPT/cache/archives/partial" "$KAPT/sources.list.d" \
	"$KAPT/preferences.d" "$KCACHE/debs" "$KCACHE/trees" || kdie "cannot create $KCACHE"
: >"$KAPT/preferences"
# apt drops privileges to _apt for downloads; let it write there (else it warns and
# downloads as root anyway).
chown _apt "$KAPT/lists/partial" "$KAPT/cache/archives/partial" "$KCACHE/debs" 2>/dev/null

# One fetch at a time per cache (a second harness run waits here).
exec 9>"$KCACHE/fetch.lock"
flock 9

write_sources() {
	local id seen=" " suite uri
	host_mirrors
	{
		echo "# written by synfin tests/kernels/fetch.sh: the suites of the kernel matrix"
		for id in $KERNEL_IDS; do
			suite=$(kid_suite "$id")
			case $seen in *" $suite "*) continue ;; esac
			seen="$seen$suite "
			uri=$MIRROR
			[ "$(kid_repo "$id")" = security ] && uri=$SECURITY_MIRROR
			echo "deb [signed-by=$KEYRING] $uri $suite main"
		done
	} >"$KAPT/sources.list.new"
	mv "$KAPT/sources.list.new" "$KAPT/sources.list"
}

# suite_index ID: the stanzas of the linux-* packages in ID's suite (its Packages index, read once
# into $work; apt-cache would rebuild its whole package cache, seconds, on every call here
# because the machine's apt.conf may disable the on-disk one).
suite_index() {
	local id=$1 suite file out
	suite=$(kid_suite "$id")
	out=$work/$suite.stanzas
	if [ ! -e "$out" ]; then
		file=$(kapt_get indextargets --format '$(FILENAME)' "Codename: $suite" \
			'Identifier: Packages' 2>/dev/null | head -n 1)
		[ -n "$file" ] && [ -e "$file" ] || return 1
		/usr/lib/apt/apt-helper cat-file "$file" |
			awk 'BEGIN { RS = ""; ORS = "\n\n" } /^Package: linux-/' >"$out" || return 1
	fi
	echo "$out"
}

# newest_package ID: the newest package name of ID's pattern in its suite.
newest_package() {
	local idx
	idx=$(suite_index "$1") || return 1
	sed -n 's/^Package: //p' "$idx" | grep -Ex "$(kid_pattern "$1")" | sort -V | tail -n 1 | grep .
}

# field ID PKG NAME: one field of PKG's stanza in ID's suite.
field() {
	awk -v p="$2" -v f="$3:" 'BEGIN { RS = ""; FS = "\n" }
		$1 == "Package: " p { for (i = 1; i <= NF; i++) if (index($i, f " ") == 1) {
			sub(/^[^:]*: */, "", $i); print $i; exit } }' "$(suite_index "$1")"
}

# tree_of_current ID: the tree the last successful fetch of ID left (offline fallback).
tree_of_current() {
	local t
	t=$(cat "$KCACHE/current-$1" 2>/dev/null) || return 1
	[ -e "$t/.complete" ] && echo "$t"
}

fetch_one() {
	local id=$1 pkg version krel tree tmp p deps f file size vmlinuz moddir old
	local -a pkgs files get=()
	if ! suite_index "$id" >/dev/null; then
		kmsg "$id: no package index for $(kid_suite "$id") (did apt-get update fail?)"
		return 1
	fi
	if ! pkg=$(newest_package "$id"); then
		kmsg "$id: no package matching $(kid_pattern "$id") in $(kid_suite "$id")"
		return 1
	fi
	version=$(field "$id" "$pkg" Version)
	krel=${pkg#linux-image-}
	tree=$KCACHE/trees/$krel
	if [ -e "$tree/.complete" ] && [ "$(. "$tree/kernel.env" && echo "$KVERSION")" = "$version" ]; then
		echo "$tree" >"$KCACHE/current-$id"
		echo "$id $tree"
		return 0
	fi
	# The image and the packages of the same kernel release it depends on (sid: the
	# vmlinuz, modules and base packages; older suites: none but itself).
	deps=$(field "$id" "$pkg" Depends | tr ',|' '\n\n' | awk '{ print $1 }' |
		awk -v s="-$krel" 'substr($0, 1, 6) == "linux-" && length($0) > length(s) &&
			substr($0, length($0) - length(s) + 1) == s')
	pkgs=("$pkg")
	for p in $deps; do pkgs+=("$p"); done
	kmsg "$id: $pkg $version (${pkgs[*]}) from $(kid_suite "$id")"
	files=()
	for p in "${pkgs[@]}"; do
		file=$(field "$id" "$p" Filename)
		size=$(field "$id" "$p" Size)
		f=$KCACHE/debs/${file##*/}
		[ -n "$file" ] || { kmsg "$id: no Filename for $p"; return 1; }
		[ -f "$f" ] && [ "$(stat -c %s "$f")" = "$size" ] || get+=("$p")
		files+=("$f")
	done
	# apt-get checks each download against the signed index.
	if [ ${#get[@]} -gt 0 ]; then
		(cd "$KCACHE/debs" && kapt_get -q download "${get[@]}" 2>&1 | grep -v '^Get:' >&2)
	fi
	for f in "${files[@]}"; do
		[ -f "$f" ] || { kmsg "$id: downloading ${f##*/} failed"; return 1; }
	done
	tmp=$tree.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for f in "${files[@]}"; do
		dpkg-deb -x "$f" "$tmp" || { kmsg "$id: dpkg-deb -x $f failed"; rm -rf "$tmp"; return 1; }
	done
	# One place for the modules: lib/modules/KREL (merged-/usr packages ship usr/lib/...).
	[ -e "$tmp/lib" ] || ln -s usr/lib "$tmp/lib"
	moddir=lib/modules/$krel
	[ -d "$tmp/$moddir/kernel" ] || { kmsg "$id: no $moddir/kernel in ${pkgs[*]}"; rm -rf "$tmp"; return 1; }
	vmlinuz=
	for f in "boot/vmlinuz-$krel" "$moddir/vmlinuz"; do
		[ -f "$tmp/$f" ] && { vmlinuz=$f; break; }
	done
	[ -n "$vmlinuz" ] || { kmsg "$id: no vmlinuz in ${pkgs[*]}"; rm -rf "$tmp"; return 1; }
	depmod -b "$tmp" "$krel" || { kmsg "$id: depmod failed"; rm -rf "$tmp"; return 1; }
	{
		printf 'KID=%q\n' "$id"
		printf 'KSUITE=%q\n' "$(kid_suite "$id")"
		printf 'KPKG=%q\n' "$pkg"
		printf 'KPKGS=%q\n' "${pkgs[*]}"
		printf 'KVERSION=%q\n' "$version"
		printf 'KVER=%q\n' "$(v=${version#*:} && echo "${v%-*}")"
		printf 'KREL=%q\n' "$krel"
		printf 'KVMLINUZ=%q\n' "$vmlinuz"
		printf 'KMODDIR=%q\n' "$moddir"
		printf 'KDEBS=%q\n' "${files[*]}"
		printf 'KFETCHED=%q\n' "$(date -u +%FT%TZ)"
	} >"$tmp/kernel.env"
	touch "$tmp/.complete"
	rm -rf "$tree"
	mv "$tmp" "$tree"
	echo "$tree" >"$KCACHE/current-$id"
	# Older releases of the same id: their tree and packages go.
	for old in "$KCACHE"/trees/*/kernel.env; do
		[ -e "$old" ] || continue
		(
			. "$old"
			[ "$KID" = "$id" ] && [ "$KREL" != "$krel" ] || exit 0
			kmsg "$id: removing the older $KREL from the cache"
			for f in $KDEBS; do rm -f "$f"; done
			rm -rf "${old%/kernel.env}"
		)
	done
	echo "$id $tree"
}

if [ "$update" = 1 ]; then
	write_sources
	kmsg "apt-get update (private lists in $KAPT)"
	if ! kapt_get -q update >"$KAPT/update.log" 2>&1 || grep -q '^[WE]: ' "$KAPT/update.log"; then
		grep -E '^(W|E|Err):' "$KAPT/update.log" | head -n 5 >&2
		kmsg "apt-get update had errors: continuing with the lists already in the cache"
	fi
fi
work=$(mktemp -d /tmp/synfin-fetch.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
rc=0
for id in "$@"; do
	kid_suite "$id" >/dev/null || { kmsg "unknown kernel id '$id' (known: $KERNEL_IDS)"; rc=1; continue; }
	if ! fetch_one "$id"; then
		# Offline, or the new release could not be had: the last tree fetched still serves.
		if tree=$(tree_of_current "$id"); then
			kmsg "$id: fetching failed; using the cached $tree"
			echo "$id $tree"
		else
			rc=1
		fi
	fi
done
exit $rc
