// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "assert_expr.h"

enum {
	M_HS_C_COUNT, M_HS_C_P50, M_HS_C_P90, M_HS_C_P99, M_HS_C_MAX,
	M_HS_S_COUNT, M_HS_S_P50, M_HS_S_P90, M_HS_S_P99, M_HS_S_MAX,
	M_HS_COUNT, M_HS_P50, M_HS_P90, M_HS_P99, M_HS_MAX,
	M_CF, M_CF_REFUSED, M_CF_TIMEOUT, M_CF_UNREACHABLE, M_CF_RESET, M_CF_OTHER,
	M_RTX_SYN, M_RTX_SYNACK,
	M_CLOSES, M_CL_LOCAL_FIN, M_CL_LOCAL_RST, M_CL_REMOTE_FIN, M_CL_REMOTE_RST,
	M_TW_COUNT, M_TW_PEAK,
	M_CW_MAX, M_CW_P99,
	M_LT_P50, M_LT_P99, M_LT_MAX,
	M_LOST, M_UNTRACKED,
	M_COUNT,
};

_Static_assert(M_COUNT <= RUN_METRIC_MAX, "raise RUN_METRIC_MAX");

/* The names are an interface (CI scripts, baselines): add, never rename. */
const struct run_metric_def run_metrics[M_COUNT] = {
	[M_HS_C_COUNT] = { "handshake.client.count", RM_COUNT, "connections this side opened (connect() reached ESTABLISHED)" },
	[M_HS_C_P50] = { "handshake.client.p50", RM_DURATION, "client handshake latency, SYN sent -> ESTABLISHED: median" },
	[M_HS_C_P90] = { "handshake.client.p90", RM_DURATION, "client handshake latency: 90th percentile" },
	[M_HS_C_P99] = { "handshake.client.p99", RM_DURATION, "client handshake latency: 99th percentile" },
	[M_HS_C_MAX] = { "handshake.client.max", RM_DURATION, "client handshake latency: slowest" },
	[M_HS_S_COUNT] = { "handshake.server.count", RM_COUNT, "connections accepted by CMD's listeners" },
	[M_HS_S_P50] = { "handshake.server.p50", RM_DURATION, "server handshake latency, SYN arrived -> ESTABLISHED: median" },
	[M_HS_S_P90] = { "handshake.server.p90", RM_DURATION, "server handshake latency: 90th percentile" },
	[M_HS_S_P99] = { "handshake.server.p99", RM_DURATION, "server handshake latency: 99th percentile" },
	[M_HS_S_MAX] = { "handshake.server.max", RM_DURATION, "server handshake latency: slowest" },
	[M_HS_COUNT] = { "handshake.count", RM_COUNT, "handshakes of both sides" },
	[M_HS_P50] = { "handshake.p50", RM_DURATION, "handshake latency, both sides merged: median" },
	[M_HS_P90] = { "handshake.p90", RM_DURATION, "handshake latency, both sides: 90th percentile" },
	[M_HS_P99] = { "handshake.p99", RM_DURATION, "handshake latency, both sides: 99th percentile" },
	[M_HS_MAX] = { "handshake.max", RM_DURATION, "handshake latency, both sides: slowest" },
	[M_CF] = { "connect_failures", RM_COUNT, "connect() attempts that never reached ESTABLISHED" },
	[M_CF_REFUSED] = { "connect_failures.refused", RM_COUNT, "... answered with a RST (ECONNREFUSED)" },
	[M_CF_TIMEOUT] = { "connect_failures.timeout", RM_COUNT, "... SYN retransmits exhausted (ETIMEDOUT)" },
	[M_CF_UNREACHABLE] = { "connect_failures.unreachable", RM_COUNT, "... ICMP host or network unreachable" },
	[M_CF_RESET] = { "connect_failures.reset", RM_COUNT, "... reset or aborted during the handshake" },
	[M_CF_OTHER] = { "connect_failures.other", RM_COUNT, "... closed by the application or a local error" },
	[M_RTX_SYN] = { "retransmits.syn", RM_COUNT, "SYNs sent again, by connects that succeeded or failed" },
	[M_RTX_SYNACK] = { "retransmits.synack", RM_COUNT, "SYN-ACKs sent again by CMD's listeners" },
	[M_CLOSES] = { "closes", RM_COUNT, "established connections closed (any initiator, FIN or RST)" },
	[M_CL_LOCAL_FIN] = { "closes.local.fin", RM_COUNT, "closes CMD started with a FIN" },
	[M_CL_LOCAL_RST] = { "closes.local.rst", RM_COUNT, "closes CMD started with a RST (abort, SO_LINGER 0)" },
	[M_CL_REMOTE_FIN] = { "closes.remote.fin", RM_COUNT, "closes the peer started with a FIN" },
	[M_CL_REMOTE_RST] = { "closes.remote.rst", RM_COUNT, "closes the peer started with a RST" },
	[M_TW_COUNT] = { "time_wait.count", RM_COUNT, "closes that left a TIME_WAIT socket behind (entries)" },
	[M_TW_PEAK] = { "time_wait.peak", RM_COUNT, "most TIME_WAIT sockets of CMD alive at once" },
	[M_CW_MAX] = { "close_wait.max", RM_DURATION, "longest CLOSE_WAIT (peer closed, CMD had not), open ones included" },
	[M_CW_P99] = { "close_wait.p99", RM_DURATION, "CLOSE_WAIT length of closed connections: 99th percentile" },
	[M_LT_P50] = { "lifetime.p50", RM_DURATION, "connection lifetime, SYN or accept -> CLOSE: median" },
	[M_LT_P99] = { "lifetime.p99", RM_DURATION, "connection lifetime: 99th percentile" },
	[M_LT_MAX] = { "lifetime.max", RM_DURATION, "connection lifetime: longest" },
	[M_LOST] = { "events.lost", RM_COUNT, "records the kernel could not queue: a non-zero value makes the counts low" },
	[M_UNTRACKED] = { "events.untracked", RM_COUNT, "connections not tracked because a kernel map was full" },
};
const unsigned int run_metric_count = M_COUNT;

static void hist_values(double *v, const struct hist *h)
{
	v[0] = (double)h->count;
	v[1] = (double)hist_quantile(h, 0.5);
	v[2] = (double)hist_quantile(h, 0.9);
	v[3] = (double)hist_quantile(h, 0.99);
	v[4] = (double)h->max_us;
}

void run_values_compute(struct run_values *out, const struct summary *s,
			const struct session_info *ri)
{
	double *v = out->v;
	uint64_t n = 0, cw_max;
	struct hist *both;
	unsigned int i, j;

	memset(out, 0, sizeof(*out));
	hist_values(&v[M_HS_C_COUNT], &s->handshake[SYNFIN_SIDE_CLIENT]);
	hist_values(&v[M_HS_S_COUNT], &s->handshake[SYNFIN_SIDE_SERVER]);
	/* ~8 KiB: too big for some callers' stacks (the fuzzer's, threads') */
	both = calloc(1, sizeof(*both));
	if (both) {
		hist_merge(both, &s->handshake[SYNFIN_SIDE_CLIENT]);
		hist_merge(both, &s->handshake[SYNFIN_SIDE_SERVER]);
		hist_values(&v[M_HS_COUNT], both);
		free(both);
	} else {
		v[M_HS_COUNT] = v[M_HS_C_COUNT] + v[M_HS_S_COUNT];
		v[M_HS_P50] = v[M_HS_P90] = v[M_HS_P99] = v[M_HS_MAX] = NAN;
	}
	for (i = 0; i < SYNFIN_FAIL_REASON_MAX; i++)
		n += s->connect_fail[i];
	v[M_CF] = (double)n;
	v[M_CF_REFUSED] = (double)s->connect_fail[SYNFIN_FAIL_REFUSED];
	v[M_CF_TIMEOUT] = (double)s->connect_fail[SYNFIN_FAIL_TIMEOUT];
	v[M_CF_UNREACHABLE] = (double)s->connect_fail[SYNFIN_FAIL_UNREACHABLE];
	v[M_CF_RESET] = (double)s->connect_fail[SYNFIN_FAIL_RESET];
	v[M_CF_OTHER] = (double)s->connect_fail[SYNFIN_FAIL_OTHER];
	v[M_RTX_SYN] = (double)(s->handshake_retransmits[SYNFIN_SIDE_CLIENT] +
				s->connect_fail_retransmits);
	v[M_RTX_SYNACK] = (double)s->handshake_retransmits[SYNFIN_SIDE_SERVER];
	n = 0;
	for (i = 0; i < SYNFIN_INIT_MAX; i++)
		for (j = 0; j < SYNFIN_HOW_MAX; j++)
			n += s->closes[i][j];
	v[M_CLOSES] = (double)n;
	v[M_CL_LOCAL_FIN] = (double)s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_FIN];
	v[M_CL_LOCAL_RST] = (double)s->closes[SYNFIN_INIT_LOCAL][SYNFIN_HOW_RST];
	v[M_CL_REMOTE_FIN] = (double)s->closes[SYNFIN_INIT_REMOTE][SYNFIN_HOW_FIN];
	v[M_CL_REMOTE_RST] = (double)s->closes[SYNFIN_INIT_REMOTE][SYNFIN_HOW_RST];
	v[M_TW_COUNT] = (double)s->tw_entries;
	v[M_TW_PEAK] = (double)s->tw_peak;
	cw_max = s->close_wait.max_us;
	if (ri && ri->close_wait_oldest_us > cw_max)
		cw_max = ri->close_wait_oldest_us;
	v[M_CW_MAX] = (double)cw_max;
	v[M_CW_P99] = (double)hist_quantile(&s->close_wait, 0.99);
	v[M_LT_P50] = (double)hist_quantile(&s->lifetime, 0.5);
	v[M_LT_P99] = (double)hist_quantile(&s->lifetime, 0.99);
	v[M_LT_MAX] = (double)s->lifetime.max_us;
	v[M_LOST] = ri ? (double)ri->lost : 0;
	v[M_UNTRACKED] = ri ? (double)ri->untracked : 0;
}

int run_metric_find(const char *name, size_t len)
{
	unsigned int i;

	for (i = 0; i < M_COUNT; i++)
		if (strlen(run_metrics[i].name) == len && !memcmp(run_metrics[i].name, name, len))
			return (int)i;
	return -1;
}

double run_metric_value(const struct run_values *v, const char *name)
{
	int i = run_metric_find(name, strlen(name));

	return i < 0 ? NAN : v->v[i];
}

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
	} else if (metric >= M_COUNT || run_metrics[metric].kind == RM_COUNT) {
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
static int parse_value(struct cursor *c, const struct run_metric_def *m, double *out, char *tok,
		       size_t toklen)
{
	static const struct { const char *unit; double us; } units[] = {
		{ "ns", 1e-3 }, { "us", 1 }, { "ms", 1e3 }, { "s", 1e6 }, { "m", 60e6 },
	};
	const char *u;
	char unit[8];
	size_t i, n;
	double v;

	if (parse_number(c, &v, tok, toklen))
		return fail(c, "expected a number, found '%.20s'", *c->p ? c->p : "end of expression");
	u = c->p;
	while (isalpha((unsigned char)*c->p))
		c->p++;
	n = (size_t)(c->p - u);
	if (!n) {
		if (m->kind == RM_DURATION)
			return fail(c, "%s is a duration: give the value a unit (ns, us, ms, s, m), e.g. 5ms",
				    m->name);
		*out = v;
		return 0;
	}
	if (n >= sizeof(unit))
		return fail(c, "unknown unit '%.20s' (use ns, us, ms, s or m)", u);
	memcpy(unit, u, n);
	unit[n] = '\0';
	if (m->kind == RM_COUNT)
		return fail(c, "%s is a count: write the value without a unit", m->name);
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(unit, units[i].unit)) {
			*out = v * units[i].us;
			if (strlen(tok) + n < toklen)
				strcat(tok, unit);
			return 0;
		}
	}
	return fail(c, "unknown unit '%s' (use ns, us, ms, s or m)", unit);
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
	const struct run_metric_def *m;
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
	m = &run_metrics[idx];
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
			if (parse_value(&c, m, &a->value, tok, sizeof(tok)))
				return -EINVAL;
			snprintf(rhs, sizeof(rhs), "baseline %c %s", sign, tok);
		}
	} else {
		if (parse_value(&c, m, &a->value, tok, sizeof(tok)))
			return -EINVAL;
		snprintf(rhs, sizeof(rhs), "%s", tok);
	}
	skip_ws(&c);
	if (*c.p)
		return fail(&c, "unexpected '%.20s' after the value", c.p);
	snprintf(a->text, sizeof(a->text), "%s %s %s", m->name, op_str[a->op], rhs);
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
	x = a->metric < M_COUNT ? now->v[a->metric] : NAN;
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

	run_metric_format(measured, sizeof(measured), a->metric, r->measured);
	if (a->rel == REL_NONE) {
		snprintf(buf, len, "%s (measured %s)", a->text, measured);
		return;
	}
	run_metric_format(thr, sizeof(thr), a->metric, r->threshold);
	run_metric_format(base, sizeof(base), a->metric, r->base);
	if (isnan(r->base))
		snprintf(buf, len, "%s (measured %s, the baseline has no value for %s)", a->text,
			 measured, run_metrics[a->metric].name);
	else
		snprintf(buf, len, "%s (measured %s, threshold %s, baseline %s)", a->text, measured,
			 thr, base);
}
