/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SYNFIN_RUN_H
#define SYNFIN_RUN_H

/* `synfin run [OPTIONS] -- CMD [ARGS...]`: observes the connections of CMD and its
 * descendants (a cgroup v2 of their own), gates on --assert, writes reports.
 * Returns the process exit status: 0 CMD succeeded and every assertion held, 1 an assertion
 * failed or the environment failed, CMD's own status when it failed (128+N when killed by
 * signal N), 2 usage errors. */
int run_main(int argc, char **argv);

#endif
