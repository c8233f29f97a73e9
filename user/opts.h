/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Strict number parsing and getopt_long driven by one option table, which also prints --help. */
#ifndef SYNFIN_OPTS_H
#define SYNFIN_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Decimal only, no sign, no trailing junk, within [min, max]: 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds as a positive decimal ("10", "0.5"), at most max_s: 0 or -EINVAL / -ERANGE. */
int parse_seconds(const char *s, double max_s, double *out);
/* A duration with a unit ("300us", "1.5s"): microseconds, or -EINVAL. */
int parse_duration_us(const char *s, double *out_us);
/* Microseconds per unit (unit: len bytes, "ns" ... "m"): 0, or -EINVAL for no such unit. */
int duration_unit_us(const char *unit, size_t len, double *us);
/* The units, for messages: "ns, us, ms, s, m". */
const char *duration_unit_list(void);
/* A size with an optional K/M/G suffix (powers of 1024). */
int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

struct opt_def {
	const char *name; /* long name, without dashes */
	int has_arg;      /* no_argument or required_argument */
	int key;          /* short option character, or a value > 255 for long-only */
	const char *arg;  /* metavar for --help */
	const char *help;
};

/* err is filled with a one-line message (without "synfin: ") when a callback fails. */
typedef int (*opt_apply_fn)(int key, const char *arg, void *ctx, char *err, size_t errlen);

/* Parses argv[optind...] against defs (terminated by a zero entry); "--help"/"-h" returns
 * 1 so the caller prints help. Returns the index of the first non-option argument, 1 for
 * help, or -EINVAL with err set. Stops at the first non-option ("+" getopt mode). */
int opts_parse(int argc, char **argv, const struct opt_def *defs, opt_apply_fn apply, void *ctx,
	       int *first_arg, char *err, size_t errlen);
void opts_help(FILE *f, const char *usage, const struct opt_def *defs);
/* Fills err with "invalid value 'ARG' for --NAME" (NAME looked up by key) and returns
 * -EINVAL: the one wording every face uses for a value its parser refused. */
int opts_bad_value(const struct opt_def *defs, int key, const char *arg, char *err, size_t errlen);

#endif
