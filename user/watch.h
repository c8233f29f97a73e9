/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SYNFIN_WATCH_H
#define SYNFIN_WATCH_H

/* `synfin watch`: live events until SIGINT/SIGTERM or --duration, then a summary.
 * Returns the process exit status (0, 1 environment, 2 usage). */
int watch_main(int argc, char **argv);

#endif
