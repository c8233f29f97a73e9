// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "baseline.h"
#include "json_writer.h"

/* Reports nest 5 deep; 64 leaves room for other producers and bounds the recursion. */
/* The "metrics" object has had one shape since the first report: older baselines still work. */
#define BASELINE_OLDEST_SCHEMA 1
#define MAX_DEPTH 64
#define KEY_MAX 96 /* longer keys are not ours: kept truncated, never matched */

struct reader {
	const char *p, *end, *start;
	struct baseline *b;
	char *err;
	size_t errlen;
	bool failed;
	bool have_schema;
	bool have_metrics;
	/* path[d] = key at depth d, only kept for the first 3 levels */
	char path[3][KEY_MAX];
};

static int bad(struct reader *r, const char *what)
{
	const char *q;
	unsigned int line = 1;

	if (r->failed)
		return -EINVAL;
	for (q = r->start; q < r->p && q < r->end; q++)
		line += *q == '\n';
	snprintf(r->err, r->errlen, "line %u: %s", line, what);
	r->failed = true;
	return -EINVAL;
}

static void ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string; its first KEY_MAX-1 bytes (escapes decoded, non-ASCII as '?') go to out. */
static int string(struct reader *r, char *out, size_t outlen)
{
	size_t n = 0;
	int i, h;

	if (r->p >= r->end || *r->p != '"')
		return bad(r, "expected a string");
	r->p++;
	while (r->p < r->end && *r->p != '"') {
		char c = *r->p++;

		if ((unsigned char)c < 0x20)
			return bad(r, "control character in a string");
		if (c == '\\') {
			if (r->p >= r->end)
				break;
			c = *r->p++;
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				for (i = 0, h = 0; i < 4; i++) {
					int d = r->p < r->end ? hexval(*r->p) : -1;

					if (d < 0)
						return bad(r, "bad \\u escape");
					h = h * 16 + d;
					r->p++;
				}
				c = h < 0x80 ? (char)h : '?';
				break;
			default:
				return bad(r, "bad escape in a string");
			}
		}
		if (out && n + 1 < outlen)
			out[n++] = c;
	}
	if (r->p >= r->end)
		return bad(r, "unterminated string");
	r->p++;
	if (out && outlen)
		out[n] = '\0';
	return 0;
}

/* RFC 8259 number grammar, exactly: no leading zeros, no '+', no bare '.'. */
static int number(struct reader *r, double *out)
{
	const char *s = r->p;
	char buf[64];
	size_t n;

	if (r->p < r->end && *r->p == '-')
		r->p++;
	if (r->p < r->end && *r->p == '0') {
		r->p++;
	} else if (r->p < r->end && isdigit((unsigned char)*r->p)) {
		while (r->p < r->end && isdigit((unsigned char)*r->p))
			r->p++;
	} else {
		return bad(r, "bad number");
	}
	if (r->p < r->end && *r->p == '.') {
		r->p++;
		if (r->p >= r->end || !isdigit((unsigned char)*r->p))
			return bad(r, "bad number");
		while (r->p < r->end && isdigit((unsigned char)*r->p))
			r->p++;
	}
	if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
		r->p++;
		if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
			r->p++;
		if (r->p >= r->end || !isdigit((unsigned char)*r->p))
			return bad(r, "bad number");
		while (r->p < r->end && isdigit((unsigned char)*r->p))
			r->p++;
	}
	n = (size_t)(r->p - s);
	if (n >= sizeof(buf))
		return bad(r, "number too long");
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	return 0;
}

static int literal(struct reader *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return bad(r, "unexpected character");
	r->p += n;
	return 0;
}

/* A number at path (depth keys in r->path): what the baseline wants from it. */
static int on_number(struct reader *r, int depth, double v)
{
	int m;

	if (depth == 1 && !strcmp(r->path[0], "schema_version")) {
		if (v < BASELINE_OLDEST_SCHEMA || v > JSON_SCHEMA_VERSION || v != (int)v) {
			char what[96];

			snprintf(what, sizeof(what), "schema_version %g is not supported (this synfin reads %d to %d)",
				 v, BASELINE_OLDEST_SCHEMA, JSON_SCHEMA_VERSION);
			return bad(r, what);
		}
		r->have_schema = true;
	} else if (depth == 3 && !strcmp(r->path[0], "metrics") && !strcmp(r->path[2], "value")) {
		m = run_metric_find(r->path[1], strlen(r->path[1]));
		if (m >= 0 && isfinite(v)) {
			if (!r->b->have[m])
				r->b->count++;
			r->b->v.v[m] = v;
			r->b->have[m] = true;
		}
	}
	return 0;
}

static int value(struct reader *r, int depth);

static int object(struct reader *r, int depth)
{
	char key[KEY_MAX];

	r->p++; /* '{' */
	ws(r);
	if (r->p < r->end && *r->p == '}') {
		r->p++;
		return 0;
	}
	for (;;) {
		ws(r);
		if (string(r, key, sizeof(key)))
			return -EINVAL;
		if (depth < 3)
			memcpy(r->path[depth], key, sizeof(key));
		if (depth == 0 && !strcmp(key, "metrics"))
			r->have_metrics = true;
		ws(r);
		if (r->p >= r->end || *r->p != ':')
			return bad(r, "expected ':' after a key");
		r->p++;
		if (value(r, depth + 1))
			return -EINVAL;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		return bad(r, "expected ',' or '}' in an object");
	}
}

static int array(struct reader *r, int depth)
{
	r->p++; /* '[' */
	ws(r);
	if (r->p < r->end && *r->p == ']') {
		r->p++;
		return 0;
	}
	for (;;) {
		/* array elements have no key: mark the level so no path matches through it */
		if (depth < 3)
			r->path[depth][0] = '\0';
		if (value(r, depth + 1))
			return -EINVAL;
		ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return bad(r, "expected ',' or ']' in an array");
	}
}

/* depth: number of keys (or array levels) above this value */
static int value(struct reader *r, int depth)
{
	double v;

	if (depth > MAX_DEPTH)
		return bad(r, "nested too deeply");
	ws(r);
	if (r->p >= r->end)
		return bad(r, "unexpected end of file");
	switch (*r->p) {
	case '{':
		return object(r, depth);
	case '[':
		return array(r, depth);
	case '"':
		return string(r, NULL, 0);
	case 't':
		return literal(r, "true");
	case 'f':
		return literal(r, "false");
	case 'n':
		return literal(r, "null");
	default:
		if (number(r, &v))
			return -EINVAL;
		return on_number(r, depth, v);
	}
}

int baseline_parse(const char *text, size_t len, struct baseline *b, char *err, size_t errlen)
{
	struct reader r = { .p = text, .end = text + len, .start = text, .b = b, .err = err,
			    .errlen = errlen };

	memset(b, 0, sizeof(*b));
	if (errlen)
		err[0] = '\0';
	ws(&r);
	if (r.p >= r.end || *r.p != '{')
		return bad(&r, "not a synfin run report (expected a JSON object)");
	if (value(&r, 0))
		return -EINVAL;
	ws(&r);
	if (r.p != r.end)
		return bad(&r, "trailing data after the JSON document");
	if (!r.have_schema)
		return bad(&r, "not a synfin run report (no \"schema_version\")");
	if (!r.have_metrics)
		return bad(&r, "not a synfin run report (no \"metrics\" object)");
	return 0;
}

int baseline_delta(const struct baseline *b, unsigned int metric, double now, double *delta,
		   double *pct)
{
	if (metric >= run_metric_count || !b->have[metric])
		return -ENOENT;
	*delta = now - b->v.v[metric];
	*pct = b->v.v[metric] != 0 ? *delta / b->v.v[metric] * 100 : NAN;
	return 0;
}
