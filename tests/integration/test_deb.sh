#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# The Debian package, end to end on this machine:
#   - make deb builds .output/deb/synfin_VERSION_ARCH.deb with debhelper (debian/), its
#     version that of the tree's synfin;
#   - apt-get install ./synfin_*.deb installs it: /usr/sbin/synfin (the package's, not the
#     tree's: run by absolute path with a PATH that does not hold the tree), its unit naming
#     /usr/sbin/synfin, synfin(8), the completion, /usr/share/synfin; `synfin check` passes;
#     dpkg --verify finds every file as shipped; the unit is not enabled;
#   - apt-get purge removes it: every file it installed is gone, and the package list, the
#     systemd state and the directories it touched are as before.
# The package is installed and purged system-wide: the test refuses to run when a synfin
# package is already installed (it would remove the operator's), and purges on any exit.
source "$(dirname "$0")/lib.sh"
require_root
require_cmd apt-get dpkg dpkg-buildpackage dpkg-deb make
require_synfin
t_init
# Kernel-independent, and it installs into / and writes to the tree: in the kernel matrix's guests, where
# the host's / and the tree are mounted read-only, it cannot run (and proves nothing there).
findmnt -no OPTIONS -T "$T_REPO" | tr , '\n' | grep -qx ro &&
	skip "the tree is read-only here (a kernel-matrix guest); this test runs on the host"

APT=(apt-get -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends)
installed() { dpkg-query -W -f='${Status}' synfin 2>/dev/null | grep -q 'ok installed'; }
installed && die "a synfin package is already installed here; the test installs and purges its own"

# purge_ours: what the EXIT trap does too, so a failed check never leaves the package behind.
OURS=0
purge_ours() {
	[ "$OURS" = 1 ] || return 0
	OURS=0
	DEBIAN_FRONTEND=noninteractive "${APT[@]}" purge synfin >"$T_DIR/purge.out" 2>&1
}
trap 'purge_ours; t_cleanup' EXIT

# state: what the package may touch, before and after. Packages with their status and
# auto/manual mark, systemd's and deb-systemd-helper's state, the directories it installs
# into (names, not contents: other engineers' runs change no file there).
state() {
	dpkg-query -W -f='${Package}:${Architecture} ${Version} ${Status}\n' | sort
	apt-mark showauto | sort | sed 's/^/auto /'
	find /usr/sbin /lib/systemd/system /etc/systemd /var/lib/systemd /usr/share/man/man8 \
		/usr/share/bash-completion /usr/share/doc /usr/share/synfin -xdev 2>/dev/null | sort
}
state >"$T_DIR/state.before"

version=$("$SYNFIN" version | awk '{ print $2 }')
if ! make -C "$T_REPO" --no-print-directory deb >"$T_DIR/deb.out" 2>&1; then
	die "make deb failed: $(tail -n 20 "$T_DIR/deb.out")"
fi
debs=("$T_REPO"/.output/deb/synfin_*.deb)
check_eq "make deb: one package" 1 "${#debs[@]}"
deb=${debs[0]}
check_eq "package version is synfin's" "$version" "$(dpkg-deb -f "$deb" Version)"
check_eq "package name" synfin "$(dpkg-deb -f "$deb" Package)"
check_true "package depends on the libraries it links" \
	bash -c "dpkg-deb -f '$deb' Depends | grep -q libbpf1 && dpkg-deb -f '$deb' Depends | grep -q libmicrohttpd12"

# apt-get wants ./ for a local file.
OURS=1
if ! (cd "$(dirname "$deb")" && DEBIAN_FRONTEND=noninteractive "${APT[@]}" install "./$(basename "$deb")") \
	>"$T_DIR/install.out" 2>&1; then
	die "apt-get install failed: $(tail -n 10 "$T_DIR/install.out")"
fi
check_true "installed" installed
check_eq "installed version" "$version" "$(dpkg-query -W -f='${Version}' synfin)"
# The package's binary, not the tree's: by absolute path, with no directory of the tree in
# PATH, and it is the file dpkg says it owns.
check_eq "/usr/sbin/synfin belongs to the package" "synfin: /usr/sbin/synfin" "$(dpkg -S /usr/sbin/synfin 2>&1)"
check_eq "synfin on a clean PATH is /usr/sbin/synfin" /usr/sbin/synfin \
	"$(env -i PATH=/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin bash -c 'command -v synfin')"
check_eq "installed synfin version" "synfin $version" "$(/usr/sbin/synfin version | awk '{ print $1, $2 }')"
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin /usr/sbin/synfin check >"$T_DIR/check.out" 2>&1
rc=$?
check_eq "installed synfin check exits 0" 0 "$rc" || sed 's/^/      /' "$T_DIR/check.out"
check_eq "installed synfin check: verdict" "synfin can run here" "$(tail -n 1 "$T_DIR/check.out")"
check_eq "dpkg --verify: every file as shipped" "" "$(dpkg --verify synfin 2>&1)"
check_eq "unit's ExecStart" /usr/sbin/synfin \
	"$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' /lib/systemd/system/synfin.service)"
check_eq "unit not enabled by the package" "" \
	"$(find /etc/systemd/system -name synfin.service 2>/dev/null)"
check_true "synfin(8) installed" test -s /usr/share/man/man8/synfin.8.gz
check_true "bash completion installed" test -s /usr/share/bash-completion/completions/synfin
check_true "rules, dashboard and scrape config under /usr/share/synfin" test -s \
	/usr/share/synfin/prometheus/synfin-rules.yml -a -s /usr/share/synfin/grafana/synfin.json \
	-a -s /usr/share/synfin/prometheus-scrape.yml
dpkg -L synfin | sort >"$T_DIR/files"

purge_ours || _bad "apt-get purge synfin: $(tail -n 5 "$T_DIR/purge.out")"
check_true "purged" bash -c '! dpkg-query -W -f="\${Status}" synfin 2>/dev/null | grep -q "ok installed"'
left=
while read -r f; do
	# directories (and /lib, a symlink to one) are shared with other packages
	if [ ! -d "$f" ] && { [ -e "$f" ] || [ -L "$f" ]; }; then
		left="$left $f"
	fi
done <"$T_DIR/files"
check_eq "no file of the package left" "" "${left# }"
check_true "/usr/sbin/synfin gone" test ! -e /usr/sbin/synfin
state >"$T_DIR/state.after"
check_eq "packages, systemd state and directories as before" "" \
	"$(diff "$T_DIR/state.before" "$T_DIR/state.after" | head -n 20)"

t_done
