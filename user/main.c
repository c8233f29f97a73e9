// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Subcommand dispatch; the only place that decides the exit status' meaning:
 * 0 ok, 1 runtime or environment failure, 2 usage error. */
#include <stdio.h>
#include <string.h>
#include "check.h"
#include "format.h"
#include "run.h"
#include "serve.h"
#include "synfin/events.h"
#include "version.h"
#include "watch.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: synfin [COMMAND] [OPTIONS]\n\n"
		   "Watches every TCP connection from SYN to FIN with eBPF tracepoints.\n\n"
		   "Commands:\n"
		   "  watch     live handshakes, failed connects, closes, TIME_WAITs (default)\n"
		   "  serve     Prometheus metrics over HTTP (/metrics) and/or a node_exporter textfile\n"
		   "  run       run a command, observe only its connections, gate CI on --assert\n"
		   "  check     can synfin run here? one line per prerequisite\n"
		   "  version   print the version\n\n"
		   "'synfin COMMAND --help' shows a command's options.\n");
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "watch";

	if (argc > 1 && argv[1][0] == '-' && strcmp(argv[1], "-h") && strcmp(argv[1], "--help"))
		return watch_main(argc, argv); /* `synfin --json` = `synfin watch --json` */
	if (!strcmp(cmd, "watch"))
		return watch_main(argc > 1 ? argc - 1 : argc, argc > 1 ? argv + 1 : argv);
	if (!strcmp(cmd, "serve"))
		return serve_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return run_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return check_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("synfin %s (record ABI %d)\n", SYNFIN_VERSION, SYNFIN_ABI_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	char shown[160];

	fprintf(stderr, "synfin: unknown command '%s'\n", term_str(shown, sizeof(shown), cmd));
	usage(stderr);
	return 2;
}
