// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "bpf_log.h"

/* The verifier's log of one failed program fits: libbpf prints it whole, and the reason is
 * at its end. Older text scrolls out. */
#define KEPT_BYTES (64 * 1024)

static bool log_verbose, log_quiet;
static char kept[KEPT_BYTES];
static size_t kept_len;

static void keep(const char *fmt, va_list args)
{
	static char msg[KEPT_BYTES]; /* one message may be a whole verifier log */
	int n = vsnprintf(msg, sizeof(msg), fmt, args);
	size_t len;

	if (n <= 0)
		return;
	len = (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1;
	if (kept_len + len >= sizeof(kept)) {
		size_t drop = kept_len + len - sizeof(kept) + 1;

		if (drop > kept_len) { /* keep the message's tail: the reason is at its end */
			memcpy(kept, msg + len - (sizeof(kept) - 1), sizeof(kept) - 1);
			kept_len = sizeof(kept) - 1;
			kept[kept_len] = '\0';
			return;
		}
		memmove(kept, kept + drop, kept_len - drop);
		kept_len -= drop;
	}
	memcpy(kept + kept_len, msg, len);
	kept_len += len;
	kept[kept_len] = '\0';
}

static int print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	va_list copy;

	if (log_quiet || level == LIBBPF_DEBUG)
		return 0;
	va_copy(copy, args);
	keep(fmt, copy);
	va_end(copy);
	return log_verbose ? vfprintf(stderr, fmt, args) : 0;
}

void bpf_log_init(bool verbose)
{
	log_verbose = verbose;
	libbpf_set_print(print);
}

void bpf_log_quiet(bool quiet)
{
	log_quiet = quiet;
	libbpf_set_print(print); /* libbpf's own default would print what we silence */
}

void bpf_log_reset(void)
{
	kept_len = 0;
	kept[0] = '\0';
}

static bool noise(const char *line, size_t len)
{
	static const char *const prefixes[] = { "processed ", "verification time", "stack depth",
						"-- END PROG LOAD LOG --", "libbpf: " };
	size_t i;

	if (!len)
		return true;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(line, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/* libbpf 1.x prints "libbpf: prog 'NAME': BPF program load failed: ..." and then the log
 * between "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG --". */
int bpf_log_rejection(char *prog, size_t proglen, char *reason, size_t reasonlen)
{
	const char *p = strstr(kept, "BPF program load failed"), *q, *begin, *end, *line;
	const char *last = NULL;
	size_t last_len = 0;

	if (!p)
		return -ENOENT;
	for (q = p; q > kept && q[-1] != '\n'; q--)
		;
	q = strstr(q, "prog '");
	if (!q || q > p)
		return -ENOENT;
	q += strlen("prog '");
	end = strchr(q, '\'');
	if (!end)
		return -ENOENT;
	snprintf(prog, proglen, "%.*s", (int)(end - q), q);
	begin = strstr(p, "-- BEGIN PROG LOAD LOG --");
	end = begin ? strstr(begin, "-- END PROG LOAD LOG --") : NULL;
	reason[0] = '\0';
	if (!begin || !end)
		return 0;
	for (line = strchr(begin, '\n'); line && line < end; line = strchr(line, '\n')) {
		const char *nl;
		size_t len;

		line++;
		nl = strchr(line, '\n');
		len = (size_t)((nl && nl < end ? nl : end) - line);
		if (!noise(line, len)) {
			last = line;
			last_len = len;
		}
	}
	if (last)
		snprintf(reason, reasonlen, "%.*s", (int)last_len, last);
	return 0;
}
