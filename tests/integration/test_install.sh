#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# make install / make uninstall into a DESTDIR, for the default PREFIX and PREFIX=/usr:
#   - exactly the expected files, with their modes; the binary is the tree's synfin;
#   - the installed unit differs from deploy/synfin.service only in ExecStart, which names
#     the installed binary;
#   - uninstall leaves no file and no synfin directory behind;
#   - the man page builds, and documents every option of every `--help` (and the bash
#     completion offers them all);
#   - EXTRA_CFLAGS is appended, and CFLAGS=... on the command line keeps -Wall -Werror.
source "$(dirname "$0")/lib.sh"
require_cmd make scdoc man
require_synfin
t_init
# Kernel-independent, and it writes to the tree (.output): in the kernel matrix's guests, where
# the host's / and the tree are mounted read-only, it cannot run (and proves nothing there).
findmnt -no OPTIONS -T "$T_REPO" | tr , '\n' | grep -qx ro &&
	skip "the tree is read-only here (a kernel-matrix guest); this test runs on the host"
MK=(make -C "$T_REPO" --no-print-directory)

# files_of DIR: every non-directory under DIR, relative, with its mode.
files_of() { (cd "$1" && find . -not -type d -printf '%m %P\n' | sort); }

for prefix in /usr/local /usr; do
	root=$T_DIR/root$(tr / _ <<<"$prefix")
	if ! "${MK[@]}" install DESTDIR="$root" PREFIX="$prefix" >"$T_DIR/install.out" 2>&1; then
		_bad "make install PREFIX=$prefix: $(tail -n 3 "$T_DIR/install.out")"
		continue
	fi
	p=${prefix#/}
	expected="755 $p/sbin/synfin
644 $p/lib/systemd/system/synfin.service
644 $p/share/bash-completion/completions/synfin
644 $p/share/man/man8/synfin.8
644 $p/share/synfin/README.md
644 $p/share/synfin/daemonset.yaml
644 $p/share/synfin/grafana/synfin.json
644 $p/share/synfin/prometheus-scrape.yml
644 $p/share/synfin/prometheus/synfin-rules.yml"
	check_eq "PREFIX=$prefix: installed files" "$(sort <<<"$expected" | paste -sd ' ')" \
		"$(files_of "$root" | paste -sd ' ')"
	check_true "PREFIX=$prefix: the binary is the tree's" cmp -s "$SYNFIN" "$root/$p/sbin/synfin"
	unit=$root/$p/lib/systemd/system/synfin.service
	check_eq "PREFIX=$prefix: ExecStart names the installed binary" "$prefix/sbin/synfin" \
		"$(sed -n 's/^ExecStart=[-@:+!]*\([^ ]*\).*/\1/p' "$unit")"
	check_eq "PREFIX=$prefix: the unit is deploy/'s but for ExecStart" "" \
		"$(diff <(grep -v '^ExecStart=' "$T_REPO/deploy/synfin.service") <(grep -v '^ExecStart=' "$unit"))"
	check_true "PREFIX=$prefix: rules example is deploy/'s" \
		cmp -s "$T_REPO/deploy/prometheus/synfin-rules.yml" "$root/$p/share/synfin/prometheus/synfin-rules.yml"
	"${MK[@]}" uninstall DESTDIR="$root" PREFIX="$prefix" >"$T_DIR/uninstall.out" 2>&1 ||
		_bad "make uninstall PREFIX=$prefix: $(tail -n 3 "$T_DIR/uninstall.out")"
	check_eq "PREFIX=$prefix: nothing left after uninstall" "" "$(files_of "$root" | paste -sd ' ')"
	check_eq "PREFIX=$prefix: no synfin directory left" "" "$(cd "$root" && find . -name '*synfin*')"
done

# The man page: it renders, with the version, and names every option of every --help.
MAN=$T_REPO/.output/synfin.8
check_true "man page renders" bash -c "man -l '$MAN' >'$T_DIR/man.txt' 2>'$T_DIR/man.err' && [ ! -s '$T_DIR/man.err' ]"
version=$("$SYNFIN" version | awk '{ print $2 }')
check_eq "man page carries synfin's version" 1 "$(grep -c "^synfin $version " <(tail -n 1 "$T_DIR/man.txt"))"
check_eq "man page: every section" "NAME SYNOPSIS DESCRIPTION COMMANDS WATCH OPTIONS COMMON OPTIONS SERVE OPTIONS RUN OPTIONS METRICS EXIT STATUS FILES EXAMPLES SEE ALSO" \
	"$(grep -E '^[A-Z]' "$T_DIR/man.txt" | grep -v '^synfin' | paste -sd ' ')"
comp=$T_REPO/completions/synfin.bash
for cmd in watch serve run check; do
	if [ $cmd = check ]; then
		opts="-v --json --live --duration --netns" # check has no --help: its usage line names them
		"$SYNFIN" check --help 2>&1 | grep -q -- "-v, --json, --live, --duration SECONDS and --netns PATH" ||
			_bad "check's usage line changed"
	else
		opts=$("$SYNFIN" $cmd --help | grep -oE '^ +(-[a-z0-9], )?--[a-z0-9-]+' | tr -d ',' | xargs)
	fi
	missing= nocomp=
	for o in $opts; do
		grep -qF -- "*$o*" "$T_REPO/docs/synfin.8.scd" || missing="$missing $o"
		# the completion, asked as bash asks it: COMP_WORDS up to the option's first letters
		got=$(bash -c 'source "$1"; COMP_WORDS=(synfin "$2" "$3"); COMP_CWORD=2; _synfin; printf "%s\n" "${COMPREPLY[@]}"' \
			_ "$comp" "$cmd" "$o")
		grep -qx -- "$o" <<<"$got" || nocomp="$nocomp $o"
	done
	check_eq "man page documents every option of $cmd ($(wc -w <<<"$opts"))" "" "${missing# }"
	check_eq "bash completion offers every option of $cmd" "" "${nocomp# }"
done
for cmd in watch serve run check version; do
	grep -qF "*$cmd*" "$T_REPO/docs/synfin.8.scd" || _bad "man page: no command $cmd"
	"$SYNFIN" --help | grep -qE "^  $cmd " || _bad "synfin --help: no command $cmd"
done

# EXTRA_CFLAGS is appended; a CFLAGS of the user's replaces only -O2 -g.
cc=$("${MK[@]}" -n -B CFLAGS=-O0 EXTRA_CFLAGS=-DSYNFIN_EXTRA_TEST .output/user/format.o | grep -- ' -c user/format.c')
check_eq "CFLAGS=-O0 keeps -Wall -Wextra -Werror" "-Wall -Wextra -Werror" \
	"$(grep -oE -- '-W(all|extra|error)( |$)' <<<"$cc" | xargs)"
check_eq "CFLAGS=-O0 is used, not -O2" "-O0" "$(grep -oE -- '-O[0-9s]' <<<"$cc" | xargs)"
check_eq "EXTRA_CFLAGS comes after the project's flags" "-DSYNFIN_EXTRA_TEST" \
	"$(grep -oE -- '-Werror .*' <<<"$cc" | grep -oE -- '-DSYNFIN_EXTRA_TEST')"

t_done
