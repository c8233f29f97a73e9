/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* libbpf's messages: to stderr with -v, otherwise kept so a failed load can say why. */
#ifndef SYNFIN_BPF_LOG_H
#define SYNFIN_BPF_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Installs the print callback; verbose passes warnings and info to stderr as they come. */
void bpf_log_init(bool verbose);
/* Feature probes fail by design: while quiet, nothing is printed or kept. */
void bpf_log_quiet(bool quiet);
/* Forgets what was kept; call before a load whose failure should be explained. */
void bpf_log_reset(void);
/* After a failed load: the program the verifier rejected and the verifier's last words
 * ("R1 invalid mem access 'scalar'", "unknown func bpf_...#107"). 0 when found, -ENOENT. */
int bpf_log_rejection(char *prog, size_t proglen, char *reason, size_t reasonlen);

#endif
