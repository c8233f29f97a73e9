/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* `synfin run --html`: one self-contained page (inline CSS and SVG, no scripts, no external
 * assets) a person opens from the CI artifacts. Pure: the run model in, HTML out. */
#ifndef SYNFIN_REPORT_HTML_H
#define SYNFIN_REPORT_HTML_H

#include <stdio.h>
#include "run_model.h"

/* Rows of the endpoint table: the slowest by p99. */
#define HTML_TOP_ENDPOINTS 20

/* 0, or -EIO when the stream failed. */
int report_html_write(FILE *f, const struct run_report *r);
/* Writes s with &, <, >, " and ' escaped. */
void html_text(FILE *f, const char *s);

#endif
