/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SYNFIN_SERVE_H
#define SYNFIN_SERVE_H

/* `synfin serve`: Prometheus /metrics over HTTP and/or a node_exporter textfile, until
 * SIGINT/SIGTERM. Returns the process exit status (0, 1 environment, 2 usage). */
int serve_main(int argc, char **argv);

#endif
