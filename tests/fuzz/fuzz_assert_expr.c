// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer harness for the --assert language: any bytes must parse or fail cleanly, and an
 * accepted expression must evaluate, describe itself, and parse again to the same thing
 * from its normalized text. `make fuzz` runs it (and fuzz_baseline) for a bounded time. */
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "assert_expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct assertion a, b;
	struct assert_result r;
	struct run_values v;
	char err[256], line[512];
	char *s = malloc(size + 1);
	unsigned int i;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (assert_parse(s, &a, err, sizeof(err)) == 0) {
		assert(a.metric < run_metric_count());
		assert(a.text[0] && strlen(a.text) < sizeof(a.text));
		for (i = 0; i < run_metric_count(); i++)
			v.v[i] = (double)i * 1000;
		assert_eval(&a, &v, size ? (double)data[0] : NAN, &r);
		assert_describe(line, sizeof(line), &a, &r);
		/* the normalized text is itself a valid expression with the same meaning */
		assert(assert_parse(a.text, &b, err, sizeof(err)) == 0);
		assert(b.metric == a.metric && b.op == a.op && b.rel == a.rel);
		assert(b.value == a.value || fabs(b.value - a.value) <= 1e-9 * fabs(a.value));
	} else {
		assert(err[0]);
	}
	free(s);
	return 0;
}
