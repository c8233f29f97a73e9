#!/bin/bash
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
# Verifier acceptance: `synfin check` loads every BPF program through the kernel verifier
# and checks BTF, privileges and each tracepoint; it must exit 0 on this machine.
source "$(dirname "$0")/lib.sh"

require_root
require_synfin
t_init

"$SYNFIN" check >"$T_DIR/check.out" 2>&1
rc=$?
sed 's/^/    /' "$T_DIR/check.out"
check_eq "synfin check exit status" 0 "$rc"
check_true "synfin check printed one line per item" test -s "$T_DIR/check.out"
t_done
