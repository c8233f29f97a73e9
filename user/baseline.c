// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include "baseline.h"
#include "json_writer.h"

/* The "metrics" object has had one shape since the first report: older baselines still work. */
#define BASELINE_OLDEST_SCHEMA 1

static int bad(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -EINVAL;
}

static int check_schema(const json_t *root, char *err, size_t errlen)
{
	const json_t *v = json_object_get(root, "schema_version");
	char what[96];
	double n;

	if (!json_is_number(v))
		return bad(err, errlen, "not a synfin run report (no \"schema_version\")");
	n = json_number_value(v);
	if (n < BASELINE_OLDEST_SCHEMA || n > JSON_SCHEMA_VERSION || n != (int)n) {
		snprintf(what, sizeof(what), "schema_version %g is not supported (this synfin reads %d to %d)",
			 n, BASELINE_OLDEST_SCHEMA, JSON_SCHEMA_VERSION);
		return bad(err, errlen, what);
	}
	return 0;
}

int baseline_parse(const char *text, size_t len, struct baseline *b, char *err, size_t errlen)
{
	const json_t *metrics, *entry, *v;
	const char *name;
	json_error_t je;
	json_t *root;
	int m, ret;

	memset(b, 0, sizeof(*b));
	if (errlen)
		err[0] = '\0';
	if (len > BASELINE_MAX_BYTES) {
		snprintf(err, errlen, "larger than %d KiB: not a synfin run report",
			 BASELINE_MAX_BYTES >> 10);
		return -EFBIG;
	}
	/* Numbers as doubles: a count past 2^63 is still a number, not a syntax error. */
	root = json_loadb(text, len, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "line %d: %s", je.line, je.text);
		return -EINVAL;
	}
	ret = json_is_object(root) ? check_schema(root, err, errlen)
				   : bad(err, errlen, "not a synfin run report (expected a JSON object)");
	metrics = json_object_get(root, "metrics");
	if (!ret && !json_is_object(metrics))
		ret = bad(err, errlen, "not a synfin run report (no \"metrics\" object)");
	if (ret) {
		json_decref(root);
		return ret;
	}
	/* Metrics this synfin does not know are a newer report's: ignored, as are null values. */
	json_object_foreach((json_t *)metrics, name, entry) {
		v = json_object_get(entry, "value");
		m = run_metric_find(name, strlen(name));
		if (m < 0 || !json_is_number(v) || !isfinite(json_number_value(v)))
			continue;
		b->v.v[m] = json_number_value(v);
		b->have[m] = true;
		b->count++;
	}
	json_decref(root);
	return 0;
}

int baseline_delta(const struct baseline *b, unsigned int metric, double now, double *delta,
		   double *pct)
{
	if (metric >= run_metric_count() || !b->have[metric])
		return -ENOENT;
	*delta = now - b->v.v[metric];
	*pct = b->v.v[metric] != 0 ? *delta / b->v.v[metric] * 100 : NAN;
	return 0;
}
