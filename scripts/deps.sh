#!/usr/bin/env bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installs the Debian packages synfin's build, tests and benchmark need; a no-op when all are
# present. Why each is here: see the README's "Dependencies" section.
set -euo pipefail

packages=(
	make gcc clang llvm pkg-config   # build: C and the BPF target
	libbpf-dev libelf-dev zlib1g-dev # loading CO-RE programs (libbpf links libelf, zlib)
	bpftool                          # skeleton generation, vmlinux.h
	libmicrohttpd-dev                # the /metrics HTTP server
	libcap-ng-dev                    # dropping every capability once loaded (user/privilege.c)
	libjansson-dev                   # reading --baseline reports
	libcmocka-dev                    # unit tests
	iproute2 iptables jq procps python3 # integration tests: netns, drops, JSON, sysctl, traffic
	strace systemd python3-yaml      # test_service_unit: syscalls vs the unit, systemd-analyze, the DaemonSet
	libcap2-bin util-linux           # capsh, setpriv, prlimit: synfin with exactly the unit's capabilities
	curl prometheus                  # serve tests: scraping, promtool, a real Prometheus
	python3-jsonschema chromium      # run tests: report schema, HTML report rendered headless
	fonts-dejavu-core                #   (chromium needs one font to draw the SVG labels)
	clang libclang-rt-14-dev         # make fuzz: libFuzzer and the sanitizer runtimes
	scdoc                            # the man page synfin(8), from docs/synfin.8.scd
	debhelper dpkg-dev               # make deb: the Debian package (debian/rules)
)
if [ -n "${SYNFIN_EXTRA_PACKAGES:-}" ]; then
	read -r -a extra <<<"$SYNFIN_EXTRA_PACKAGES"
	packages+=("${extra[@]}")
fi

missing=()
for p in "${packages[@]}"; do
	[[ "$p" == \#* ]] && continue
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "synfin: missing packages: ${missing[*]}; run as root (sudo make deps) to install them" >&2
	exit 1
fi
echo "synfin: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
