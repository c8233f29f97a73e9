# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Shared by the kernel matrix scripts (run.sh, fetch.sh, initramfs.sh): where the cache is,
# which Debian suite and package name pattern each kernel id stands for, and the private apt
# configuration every apt-get/apt-cache call of the harness uses.
#
# The harness never touches the machine's own apt state: its sources, lists, package cache
# and preferences all live under $KCACHE/apt, and the installed-package database is
# /dev/null (apt only downloads here, it never installs a kernel). The mirror is the one the
# machine's own apt configuration uses, read at run time (never written into the repo).
#
# Environment:
#   SYNFIN_KERNEL_CACHE   cache directory (default /var/cache/synfin-kernels), outside the
#                         clone so that a fresh clone reuses the downloads and extracted trees
#   SYNFIN_KERNEL_MIRROR / SYNFIN_KERNEL_SECURITY_MIRROR
#                         override the archive / security URIs read from the apt config
#   SYNFIN_KERNEL_KEYRING keyring for the private sources
#                         (default /usr/share/keyrings/debian-archive-keyring.gpg)

KCACHE=${SYNFIN_KERNEL_CACHE:-/var/cache/synfin-kernels}
KAPT=$KCACHE/apt
KEYRING=${SYNFIN_KERNEL_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

# Every kernel id the harness knows, in table order.
KERNEL_IDS="5.10 6.1 6.12 sid"

# kid_suite ID / kid_repo ID / kid_pattern ID: the Debian suite, which mirror (archive or
# security) and the extended regex of the package names (the newest match wins, by
# version sort). For sid the match is the small linux-image-V meta package: since 7.x it
# depends on linux-binary-V (vmlinuz), linux-modules-V and linux-base-V (config,
# modules.builtin); fetch.sh downloads every linux-*-V package it depends on.
kid_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo bookworm-security ;;
	6.12) echo trixie ;;
	sid) echo sid ;;
	*) return 1 ;;
	esac
}
kid_repo() {
	case $1 in
	6.1) echo security ;;
	*) echo archive ;;
	esac
}
kid_pattern() {
	case $1 in
	5.10) echo 'linux-image-5\.10\.0-[0-9]+-amd64' ;;
	6.1) echo 'linux-image-6\.1\.0-[0-9]+-amd64' ;;
	6.12) echo 'linux-image-6\.12\.[0-9]+\+deb13-amd64' ;;
	sid) echo 'linux-image-[0-9]+\.[0-9]+(\.[0-9]+)?\+deb[0-9]+-amd64' ;;
	*) return 1 ;;
	esac
}

kmsg() { printf 'kernels: %s\n' "$*" >&2; }
kdie() {
	kmsg "error: $*"
	exit 1
}

# The private apt configuration. The list and preferences "parts" directories are empty
# directories of our own, so nothing under /etc/apt/sources.list.d or preferences.d leaks in.
# No on-disk package cache (pkgcache.bin, ~190 MB for these four suites): fetch.sh reads the
# indexes itself and calls apt-get only to download.
APT_OPTS=(
	-o "Dir::Etc::sourcelist=$KAPT/sources.list"
	-o "Dir::Etc::sourceparts=$KAPT/sources.list.d"
	-o "Dir::Etc::preferences=$KAPT/preferences"
	-o "Dir::Etc::preferencesparts=$KAPT/preferences.d"
	-o "Dir::State::Lists=$KAPT/lists"
	-o "Dir::State::status=/dev/null"
	-o "Dir::Cache=$KAPT/cache"
	-o "Dir::Cache::pkgcache="
	-o "Dir::Cache::srcpkgcache="
	-o "APT::Architecture=amd64"
	-o "APT::Architectures=amd64"
	-o "Acquire::Languages=none"
	-o "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled=false"
	-o "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false"
)
kapt_get() { apt-get "${APT_OPTS[@]}" "$@"; }
kapt_cache() { apt-cache "${APT_OPTS[@]}" "$@"; }

# host_mirrors: sets MIRROR and SECURITY_MIRROR from the machine's own apt configuration
# (every Debian source apt knows about, whatever file and format it is written in).
# The security archive lives beside the main one ("debian-security" for "debian").
host_mirrors() {
	local uri codename label
	MIRROR=${SYNFIN_KERNEL_MIRROR:-}
	SECURITY_MIRROR=${SYNFIN_KERNEL_SECURITY_MIRROR:-}
	while read -r uri codename label; do
		# (the label is empty before the machine's first apt-get update: then the URI tells)
		case $codename:$label:$uri in
		*-security:* | *:Debian-Security:*) [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$uri ;;
		*:Debian:* | *::*/debian/) [ -n "$MIRROR" ] || MIRROR=$uri ;;
		esac
	done < <(apt-get indextargets --format '$(REPO_URI) $(CODENAME) $(LABEL)' \
		'Identifier: Packages' 2>/dev/null)
	[ -n "$MIRROR" ] || kdie "no Debian archive in this machine's apt sources" \
		"(apt-get indextargets lists none); set SYNFIN_KERNEL_MIRROR to its URI"
	MIRROR=${MIRROR%/}
	SECURITY_MIRROR=${SECURITY_MIRROR%/}
	[ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=${MIRROR%/debian}/debian-security
}
