// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "assert_expr.h"
#include "opts.h"

static void trim_float(char *buf, size_t len, const char *fmt, double v, const char *unit)
{
	snprintf(buf, len, fmt, v);
	strncat(buf, unit, len - strlen(buf) - 1);
}

void run_metric_format(char *buf, size_t len, unsigned int metric, double v)
{
	double a = fabs(v);

	if (!len)
		return;
	buf[0] = '\0';
	if (isnan(v)) {
		snprintf(buf, len, "n/a");
	} else if (!run_metric_is_duration(metric)) {
		snprintf(buf, len, "%.15g", v);
	} else if (a < 1) {
		trim_float(buf, len, "%.4g", v * 1e3, "ns");
	} else if (a < 1e3) {
		trim_float(buf, len, "%.4g", v, "us");
	} else if (a < 1e6) {
		trim_float(buf, len, "%.4g", v / 1e3, "ms");
	} else if (a < 1e10) {
		trim_float(buf, len, "%.4g", v / 1e6, "s");
	} else {
		trim_float(buf, len, "%.0f", v / 1e6, "s");
	}
}

/* ---------------------------------------------------------------- the expression language
 *
 *   expr     := ws METRIC ws OP ws rhs ws
 *   rhs      := value | "baseline" [ ws "*" ws NUMBER | ws ("+" | "-") ws value ]
 *   value    := NUMBER [UNIT]     (a unit exactly when the metric is a duration)
 *   NUMBER   := DIGITS ["." DIGITS] | "." DIGITS
 *   UNIT     := ns | us | ms | s | m
 *   OP       := < | <= | > | >= | == | !=
 */

#define EXPR_MAX_LEN 256

struct cursor {
	const char *p;
	char *err;
	size_t errlen;
	const char *expr;
};

static void skip_ws(struct cursor *c)
{
	while (*c->p == ' ' || *c->p == '\t')
		c->p++;
}

static int fail(struct cursor *c, const char *fmt, const char *arg)
{
	char what[160];

	snprintf(what, sizeof(what), fmt, arg);
	snprintf(c->err, c->errlen, "--assert '%.80s': %s", c->expr, what);
	return -EINVAL;
}

/* A non-negative decimal; *tok receives its text. */
static int parse_number(struct cursor *c, double *out, char *tok, size_t toklen)
{
	const char *s = c->p;
	size_t n;
	char buf[48];

	while (isdigit((unsigned char)*c->p))
		c->p++;
	if (*c->p == '.') {
		c->p++;
		if (!isdigit((unsigned char)*c->p))
			return -EINVAL;
		while (isdigit((unsigned char)*c->p))
			c->p++;
	}
	n = (size_t)(c->p - s);
	if (!n || n >= sizeof(buf) || n >= toklen)
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*out = strtod(buf, NULL);
	if (!isfinite(*out))
		return -EINVAL;
	memcpy(tok, buf, n + 1);
	return 0;
}

/* value := NUMBER [UNIT], checked against the metric's kind. tok gets "5ms". */
static int parse_value(struct cursor *c, unsigned int metric, double *out, char *tok,
		       size_t toklen)
{
	const char *u, *name = run_metric(metric)->name;
	char what[160];
	double v, us;
	size_t n;

	if (parse_number(c, &v, tok, toklen))
		return fail(c, "expected a number, found '%.20s'", *c->p ? c->p : "end of expression");
	u = c->p;
	while (isalpha((unsigned char)*c->p))
		c->p++;
	n = (size_t)(c->p - u);
	if (!n) {
		if (!run_metric_is_duration(metric)) {
			*out = v;
			return 0;
		}
		snprintf(what, sizeof(what), "%s is a duration: give the value a unit (%s), e.g. 5ms",
			 name, duration_unit_list());
		return fail(c, "%s", what);
	}
	if (!run_metric_is_duration(metric))
		return fail(c, "%s is a count: write the value without a unit", name);
	if (duration_unit_us(u, n, &us)) {
		snprintf(what, sizeof(what), "unknown unit '%.*s' (use %s)", (int)(n < 20 ? n : 20), u,
			 duration_unit_list());
		return fail(c, "%s", what);
	}
	*out = v * us;
	if (strlen(tok) + n < toklen)
		strncat(tok, u, n);
	return 0;
}

static const char *const op_str[] = { "<", "<=", ">", ">=", "==", "!=" };

const char *assert_op_str(enum assert_op op)
{
	return (unsigned int)op < sizeof(op_str) / sizeof(op_str[0]) ? op_str[op] : "?";
}

static int parse_op(struct cursor *c, enum assert_op *op)
{
	const char *p = c->p;

	if (p[0] == '<' && p[1] == '=') {
		*op = OP_LE;
	} else if (p[0] == '>' && p[1] == '=') {
		*op = OP_GE;
	} else if (p[0] == '=' && p[1] == '=') {
		*op = OP_EQ;
	} else if (p[0] == '!' && p[1] == '=') {
		*op = OP_NE;
	} else if (p[0] == '<') {
		*op = OP_LT;
	} else if (p[0] == '>') {
		*op = OP_GT;
	} else if (p[0] == '=') {
		return fail(c, "'=' is not an operator: use == (or <, <=, >, >=, !=)%s", "");
	} else {
		return fail(c, "expected an operator (<, <=, >, >=, ==, !=) after the metric, found '%.20s'",
			    *p ? p : "end of expression");
	}
	c->p += strlen(op_str[*op]);
	return 0;
}

int assert_parse(const char *s, struct assertion *a, char *err, size_t errlen)
{
	struct cursor c = { .p = s, .err = err, .errlen = errlen, .expr = s ? s : "" };
	char tok[64] = "", rhs[96];
	const char *name;
	size_t n;
	int idx;

	memset(a, 0, sizeof(*a));
	if (!s)
		return fail(&c, "empty expression%s", "");
	if (strnlen(s, EXPR_MAX_LEN + 1) > EXPR_MAX_LEN)
		return fail(&c, "longer than %s characters", "256");
	skip_ws(&c);
	name = c.p;
	while (isalnum((unsigned char)*c.p) || *c.p == '_' || *c.p == '.')
		c.p++;
	n = (size_t)(c.p - name);
	if (!n)
		return fail(&c, "expected METRIC OP VALUE, e.g. 'handshake.client.p99 < 5ms'%s", "");
	idx = run_metric_find(name, n);
	if (idx < 0) {
		char bad[64];

		snprintf(bad, sizeof(bad), "%.*s", (int)(n < 60 ? n : 60), name);
		return fail(&c, "unknown metric '%s' (see 'synfin run --help' for the list)", bad);
	}
	a->metric = (unsigned int)idx;
	skip_ws(&c);
	if (parse_op(&c, &a->op))
		return -EINVAL;
	skip_ws(&c);
	if (!strncmp(c.p, "baseline", 8) && !isalnum((unsigned char)c.p[8]) && c.p[8] != '_') {
		c.p += 8;
		skip_ws(&c);
		a->rel = REL_BASE;
		snprintf(rhs, sizeof(rhs), "baseline");
		if (*c.p == '*') {
			c.p++;
			skip_ws(&c);
			a->rel = REL_MUL;
			if (parse_number(&c, &a->value, tok, sizeof(tok)))
				return fail(&c, "expected a factor after 'baseline *', found '%.20s'",
					    *c.p ? c.p : "end of expression");
			if (isalpha((unsigned char)*c.p))
				return fail(&c, "the factor after 'baseline *' is a plain number, without a unit%s", "");
			snprintf(rhs, sizeof(rhs), "baseline * %s", tok);
		} else if (*c.p == '+' || *c.p == '-') {
			char sign = *c.p++;

			skip_ws(&c);
			a->rel = sign == '+' ? REL_ADD : REL_SUB;
			if (parse_value(&c, a->metric, &a->value, tok, sizeof(tok)))
				return -EINVAL;
			snprintf(rhs, sizeof(rhs), "baseline %c %s", sign, tok);
		}
	} else {
		if (parse_value(&c, a->metric, &a->value, tok, sizeof(tok)))
			return -EINVAL;
		snprintf(rhs, sizeof(rhs), "%s", tok);
	}
	skip_ws(&c);
	if (*c.p)
		return fail(&c, "unexpected '%.20s' after the value", c.p);
	snprintf(a->text, sizeof(a->text), "%s %s %s", run_metric(a->metric)->name, op_str[a->op],
		 rhs);
	return 0;
}

/* Thresholds like baseline * 1.2 are not exact in binary: compare with a relative tolerance. */
static bool near(double x, double y)
{
	double scale = fmax(1.0, fmax(fabs(x), fabs(y)));

	return fabs(x - y) <= 1e-9 * scale;
}

void assert_eval(const struct assertion *a, const struct run_values *now, double base,
		 struct assert_result *r)
{
	double x, t;

	memset(r, 0, sizeof(*r));
	x = a->metric < run_metric_count() ? now->v[a->metric] : NAN;
	r->base = a->rel == REL_NONE ? NAN : base;
	switch (a->rel) {
	case REL_NONE:
		t = a->value;
		break;
	case REL_BASE:
		t = base;
		break;
	case REL_MUL:
		t = base * a->value;
		break;
	case REL_ADD:
		t = base + a->value;
		break;
	default:
		t = base - a->value;
		break;
	}
	r->measured = x;
	r->threshold = t;
	r->no_samples = isnan(x);
	if (isnan(x) || isnan(t))
		return;
	switch (a->op) {
	case OP_LT:
		r->passed = x < t && !near(x, t);
		break;
	case OP_LE:
		r->passed = x < t || near(x, t);
		break;
	case OP_GT:
		r->passed = x > t && !near(x, t);
		break;
	case OP_GE:
		r->passed = x > t || near(x, t);
		break;
	case OP_EQ:
		r->passed = near(x, t);
		break;
	case OP_NE:
		r->passed = !near(x, t);
		break;
	}
}

void assert_describe(char *buf, size_t len, const struct assertion *a,
		     const struct assert_result *r)
{
	char measured[32], thr[32], base[32];

	if (r->no_samples && !run_metric_is_duration(a->metric)) {
		/* a count has a value unless it does not apply (drift.* in run's cgroup) */
		snprintf(buf, len, "%s (no value: not applicable here)", a->text);
		return;
	}
	if (r->no_samples) {
		snprintf(buf, len, "%s (no samples: nothing was measured)", a->text);
		return;
	}
	run_metric_format(measured, sizeof(measured), a->metric, r->measured);
	if (a->rel == REL_NONE) {
		snprintf(buf, len, "%s (measured %s)", a->text, measured);
		return;
	}
	run_metric_format(thr, sizeof(thr), a->metric, r->threshold);
	run_metric_format(base, sizeof(base), a->metric, r->base);
	if (isnan(r->base))
		snprintf(buf, len, "%s (measured %s, the baseline has no value for %s)", a->text,
			 measured, run_metric(a->metric)->name);
	else
		snprintf(buf, len, "%s (measured %s, threshold %s, baseline %s)", a->text, measured,
			 thr, base);
}
