/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* synfin's version, shown by `synfin version` and exported as synfin_build_info{version}. */
#ifndef SYNFIN_VERSION_H
#define SYNFIN_VERSION_H

#ifndef SYNFIN_VERSION
#define SYNFIN_VERSION "0.1.0"
#endif

#endif
