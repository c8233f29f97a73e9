// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "format.h"
#include "opts.h"

#define MAX_OPTS 64

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_positive_double(const char *s, char **end, double *out)
{
	double v;

	if (!s || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, end);
	if (*end == s || errno == ERANGE || !isfinite(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int parse_seconds(const char *s, double max_s, double *out)
{
	char *end;
	double v;

	if (parse_positive_double(s, &end, &v) || *end)
		return -EINVAL;
	if (v <= 0 || v > max_s)
		return -ERANGE;
	*out = v;
	return 0;
}

/* The units a duration takes, everywhere one is written (--settle, --assert). */
static const struct {
	const char *name;
	double us;
} duration_units[] = {
	{ "ns", 1e-3 }, { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 },
};

int duration_unit_us(const char *unit, size_t len, double *us)
{
	size_t i;

	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++) {
		if (strlen(duration_units[i].name) == len && !memcmp(unit, duration_units[i].name, len)) {
			*us = duration_units[i].us;
			return 0;
		}
	}
	return -EINVAL;
}

const char *duration_unit_list(void)
{
	static char list[32];
	size_t i, n = 0;

	if (list[0])
		return list;
	for (i = 0; i < sizeof(duration_units) / sizeof(duration_units[0]); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
				      duration_units[i].name);
	return list;
}

int parse_duration_us(const char *s, double *out_us)
{
	double v, us;
	char *end;

	if (parse_positive_double(s, &end, &v) || duration_unit_us(end, strlen(end), &us))
		return -EINVAL;
	*out_us = v * us;
	return 0;
}

int parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char num[32];
	size_t len = s ? strlen(s) : 0;
	unsigned int shift = 0;
	uint64_t v;
	int err;

	if (!len || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	switch (num[len - 1]) {
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	}
	if (shift)
		num[len - 1] = '\0';
	err = parse_u64(num, 0, UINT64_MAX >> shift, &v);
	if (err)
		return err;
	v <<= shift;
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int opts_parse(int argc, char **argv, const struct opt_def *defs, opt_apply_fn apply, void *ctx,
	       int *first_arg, char *err, size_t errlen)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[2 * MAX_OPTS + 4] = "+:h";
	size_t n = 0, s = 3;
	int c, ret;

	for (; defs[n].name && n < MAX_OPTS; n++) {
		longopts[n] = (struct option){ defs[n].name, defs[n].has_arg, NULL, defs[n].key };
		if (defs[n].key > 0 && defs[n].key < 256) {
			shortopts[s++] = (char)defs[n].key;
			if (defs[n].has_arg == required_argument)
				shortopts[s++] = ':';
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ 0 };
	shortopts[s] = '\0';
	opterr = 0;
	optind = 1;
	char shown[160];

	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?') {
			if (optopt > 0 && optopt < 256)
				snprintf(err, errlen, "unknown option '-%c'", optopt);
			else
				snprintf(err, errlen, "unknown option '%s'",
					 term_str(shown, sizeof(shown), argv[optind - 1]));
			return -EINVAL;
		}
		if (c == ':') {
			snprintf(err, errlen, "option '%s' needs a value",
				 term_str(shown, sizeof(shown), argv[optind - 1]));
			return -EINVAL;
		}
		ret = apply(c, optarg, ctx, err, errlen);
		if (ret)
			return -EINVAL;
	}
	*first_arg = optind;
	return 0;
}

void opts_help(FILE *f, const char *usage, const struct opt_def *defs)
{
	char left[64];
	size_t i;

	fprintf(f, "%s\n\nOptions:\n", usage);
	for (i = 0; defs[i].name; i++) {
		if (defs[i].key > 0 && defs[i].key < 256)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", defs[i].key, defs[i].name,
				 defs[i].arg ? " " : "", defs[i].arg ? defs[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", defs[i].name,
				 defs[i].arg ? " " : "", defs[i].arg ? defs[i].arg : "");
		fprintf(f, "  %-30s %s\n", left, defs[i].help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "show this help");
}

int opts_bad_value(const struct opt_def *defs, int key, const char *arg, char *err, size_t errlen)
{
	char shown[160];
	size_t i;

	for (i = 0; defs[i].name; i++)
		if (defs[i].key == key)
			break;
	snprintf(err, errlen, "invalid value '%s' for --%s", term_str(shown, sizeof(shown), arg),
		 defs[i].name ? defs[i].name : "?");
	return -EINVAL;
}
