# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# Installing synfin like any Debian tool (included by the Makefile):
#   make install / make uninstall   PREFIX (default /usr/local), DESTDIR, and the directories
#                                   below one by one (debian/rules sets SYSTEMDUNITDIR)
#   make man                        .output/synfin.8 from docs/synfin.8.scd (scdoc)
#   make deb                        .output/deb/synfin_VERSION_ARCH.deb (dpkg-buildpackage)
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/synfin
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALL ?= install
SCDOC ?= scdoc

SYNFIN_VERSION := $(shell sed -n 's/^\#define SYNFIN_VERSION "\(.*\)"$$/\1/p' user/version.h)
MAN := $(OUTPUT)/synfin.8
# deploy/'s examples, installed under DATADIR with the same relative paths.
EXAMPLES := README.md prometheus-scrape.yml daemonset.yaml prometheus/synfin-rules.yml \
	grafana/synfin.json
# The unit names the binary it starts: its ExecStart path, whatever it is in deploy/, becomes
# the installed one. It is the only line changed.
UNIT_SED := 's,^\(ExecStart=[-@:+!]*\)[^ ]*/synfin\( \|$$\),\1$(SBINDIR)/synfin\2,'

.PHONY: install uninstall man deb

man: $(MAN)

$(MAN): docs/synfin.8.scd user/version.h | $(OUTPUT)
	$(call msg,SCDOC,$@)
	$(Q)sed 's/"synfin VERSION"/"synfin $(SYNFIN_VERSION)"/' $< | $(SCDOC) >$@

install: synfin $(MAN)
	$(Q)$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR)/grafana
	$(Q)$(INSTALL) -m 0755 synfin $(DESTDIR)$(SBINDIR)/synfin
	$(Q)$(INSTALL) -m 0644 $(MAN) $(DESTDIR)$(MANDIR)/man8/synfin.8
	$(Q)$(INSTALL) -m 0644 completions/synfin.bash $(DESTDIR)$(BASHCOMPDIR)/synfin
	$(Q)sed $(UNIT_SED) deploy/synfin.service >$(OUTPUT)/synfin.service
	$(Q)grep -q '^ExecStart=[-@:+!]*$(SBINDIR)/synfin\( \|$$\)' $(OUTPUT)/synfin.service || \
		{ echo "make install: no ExecStart=.../synfin in deploy/synfin.service to point at $(SBINDIR)/synfin" >&2; exit 1; }
	$(Q)$(INSTALL) -m 0644 $(OUTPUT)/synfin.service $(DESTDIR)$(SYSTEMDUNITDIR)/synfin.service
	$(Q)for f in $(EXAMPLES); do \
		$(INSTALL) -m 0644 deploy/$$f $(DESTDIR)$(DATADIR)/$$f || exit 1; \
	done
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/synfin + unit + man page + completion + examples)

# Removes what install put there; directories only when they are synfin's own and empty.
uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/synfin $(DESTDIR)$(MANDIR)/man8/synfin.8 \
		$(DESTDIR)$(BASHCOMPDIR)/synfin $(DESTDIR)$(SYSTEMDUNITDIR)/synfin.service \
		$(addprefix $(DESTDIR)$(DATADIR)/,$(EXAMPLES))
	$(Q)for d in $(DESTDIR)$(DATADIR)/prometheus $(DESTDIR)$(DATADIR)/grafana $(DESTDIR)$(DATADIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d || exit 1; \
	done
	$(call msg,UNINSTALL,$(DESTDIR)$(SBINDIR)/synfin and its files)

# The package is built by debian/ (debhelper) in a copy of the tree under .output/deb/, so
# dpkg-buildpackage's clean step and its ../*.deb stay inside .output. What is copied is what
# .gitignore keeps (no build output), whether or not this is a git checkout. The make
# variables of this invocation must not leak into the package's build: MAKEFLAGS goes.
DEB_DIR := $(OUTPUT)/deb
DEB_SRC := $(DEB_DIR)/synfin-$(SYNFIN_VERSION)
deb: | $(OUTPUT)
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	$(Q)tar -cf - --exclude=./.output --exclude=./.git --exclude=./synfin \
		--exclude=./tests/bench/results --exclude='*.o' --exclude='*.d' . | tar -C $(DEB_SRC) -xf -
	$(call msg,DEB,$(DEB_DIR)/synfin_$(SYNFIN_VERSION)_*.deb)
	$(Q)cd $(DEB_SRC) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		dpkg-buildpackage --build=binary --no-sign -Jauto >../build.log 2>&1 || \
		{ tail -n 40 ../build.log >&2; echo "make deb: dpkg-buildpackage failed; the log is $(DEB_DIR)/build.log" >&2; exit 1; }
	$(Q)ls $(DEB_DIR)/synfin_$(SYNFIN_VERSION)_*.deb
