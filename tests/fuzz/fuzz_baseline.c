// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer harness for the baseline reader (a JSON parser over untrusted CI artifacts):
 * no crash, no read past the buffer (ASan: the input is not NUL-terminated), bounded depth. */
#include <assert.h>
#include <stdint.h>
#include <string.h>
#include "baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct baseline b;
	char err[128];

	if (baseline_parse((const char *)data, size, &b, err, sizeof(err)))
		assert(err[0]);
	else
		assert(b.count <= run_metric_count());
	return 0;
}
