/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef SYNFIN_CHECK_H
#define SYNFIN_CHECK_H

/* `synfin check`: one line per prerequisite; 0 when synfin can run, 1 when it cannot. */
int check_main(int argc, char **argv);

#endif
