// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "format.h"
#include "render_prom.h"

struct prom_sink {
	struct metric_sink k; /* first: the table calls back with a pointer to it */
	FILE *f;
	const struct metric_def *m;
	enum prom_format fmt;
	int64_t wall_offset_ns;
};

void prom_float(char *buf, size_t len, double v, enum prom_format fmt)
{
	char tmp[40];
	int p, exp, decimals;

	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(buf, len, fmt == PROM_OPENMETRICS ? "0.0" : "0");
		return;
	}
	/* The fewest significant digits that read back as exactly v (at most 17). */
	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
	exp = atoi(strchr(tmp, 'e') + 1);
	/* Go's strconv 'g' with shortest precision: exponent form below 1e-4 or from 1e6 on. */
	if (exp < -4 || exp >= 6) {
		snprintf(buf, len, "%s", tmp);
	} else {
		decimals = p - 1 - exp;
		snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, v);
	}
	if (fmt == PROM_OPENMETRICS && !strpbrk(buf, ".e") && strlen(buf) + 2 < len)
		strcat(buf, ".0");
}

void prom_label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		switch (*v) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default: fputc(*v, f);
		}
	}
}

/* HELP text: 0.0.4 escapes backslash and newline; OpenMetrics also the double quote. */
static void help_text(FILE *f, const char *s, enum prom_format fmt)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '"' && fmt == PROM_OPENMETRICS)
			fputs("\\\"", f);
		else
			fputc(*s, f);
	}
}

/* The sample name: family name plus the type's suffix. */
static void sample_name(FILE *f, const struct metric_def *m, const char *suffix)
{
	fputs(m->name, f);
	if (m->type == METRIC_COUNTER)
		fputs("_total", f);
	else if (m->type == METRIC_INFO)
		fputs("_info", f);
	if (suffix)
		fputs(suffix, f);
}

static void labels(FILE *f, const struct metric_def *m, const char *const *lv, const char *le)
{
	bool any = false;
	unsigned int i;

	for (i = 0; lv && i < METRIC_MAX_LABELS && m->labels[i]; i++) {
		if (!lv[i])
			continue;
		fprintf(f, "%s%s=\"", any ? "," : "{", m->labels[i]);
		prom_label_value(f, lv[i]);
		fputc('"', f);
		any = true;
	}
	if (le) {
		fprintf(f, "%sle=\"%s\"", any ? "," : "{", le);
		any = true;
	}
	if (any)
		fputc('}', f);
}

static void sink_number(struct metric_sink *k, const char *const *lv, const struct metric_num *v)
{
	struct prom_sink *ps = (struct prom_sink *)k;
	char buf[40];

	sample_name(ps->f, ps->m, NULL);
	labels(ps->f, ps->m, lv, NULL);
	switch (v->kind) {
	case NUM_U64:
		fprintf(ps->f, " %" PRIu64 "\n", v->u);
		break;
	case NUM_I64:
		fprintf(ps->f, " %" PRId64 "\n", v->i);
		break;
	case NUM_F64:
		prom_float(buf, sizeof(buf), v->f, ps->fmt);
		fprintf(ps->f, " %s\n", buf);
		break;
	}
}

/* OpenMetrics caps an exemplar's label names and values at 128 characters together. */
#define EXEMPLAR_LABELS_MAX 128

/* " # {cookie="N",conn="L->R"} VALUE TIMESTAMP" after a bucket's count (OpenMetrics only):
 * the last connection that fell in that bucket. conn is left out where it would pass the
 * cap, cookie where the kernel gave none; the timestamp where the clock offset is unknown. */
static void exemplar(const struct prom_sink *ps, const struct hist_exemplar *x)
{
	char l[ADDR_STR_LEN + 8], r[ADDR_STR_LEN + 8], cookie[24] = "", v[40];
	size_t len = 0;
	bool conn;

	if (ps->fmt != PROM_OPENMETRICS || !x->ts_ns)
		return;
	format_endpoint(l, sizeof(l), x->id.family, x->id.laddr, x->id.lport);
	format_endpoint(r, sizeof(r), x->id.family, x->id.raddr, x->id.rport);
	if (x->cookie)
		len = strlen("cookie") + (size_t)snprintf(cookie, sizeof(cookie), "%" PRIu64, x->cookie);
	conn = len + strlen("conn") + strlen(l) + strlen("->") + strlen(r) <= EXEMPLAR_LABELS_MAX;
	fputs(" # {", ps->f);
	if (x->cookie)
		fprintf(ps->f, "cookie=\"%s\"%s", cookie, conn ? "," : "");
	if (conn)
		fprintf(ps->f, "conn=\"%s->%s\"", l, r);
	prom_float(v, sizeof(v), (double)x->value_us / 1e6, ps->fmt);
	fprintf(ps->f, "} %s", v);
	if (ps->wall_offset_ns) {
		int64_t t = (int64_t)x->ts_ns + ps->wall_offset_ns;

		fprintf(ps->f, " %" PRId64 ".%03" PRId64, t / 1000000000, t % 1000000000 / 1000000);
	}
}

static void sink_hist(struct metric_sink *k, const char *const *lv, const struct hist *h)
{
	struct prom_sink *ps = (struct prom_sink *)k;
	char le[40], sum[40];
	unsigned int i;

	for (i = 0; i < PROM_BUCKETS; i++) {
		prom_float(le, sizeof(le), (double)prom_bucket_us[i] / 1e6, ps->fmt);
		sample_name(ps->f, ps->m, "_bucket");
		labels(ps->f, ps->m, lv, le);
		fprintf(ps->f, " %" PRIu64, hist_prom_cumulative(h, i));
		exemplar(ps, &h->ex[i]);
		fputc('\n', ps->f);
	}
	sample_name(ps->f, ps->m, "_bucket");
	labels(ps->f, ps->m, lv, "+Inf");
	fprintf(ps->f, " %" PRIu64, h->count);
	exemplar(ps, &h->ex[PROM_BUCKETS]);
	fputc('\n', ps->f);
	prom_float(sum, sizeof(sum), (double)h->sum_us / 1e6, ps->fmt);
	sample_name(ps->f, ps->m, "_sum");
	labels(ps->f, ps->m, lv, NULL);
	fprintf(ps->f, " %s\n", sum);
	sample_name(ps->f, ps->m, "_count");
	labels(ps->f, ps->m, lv, NULL);
	fprintf(ps->f, " %" PRIu64 "\n", h->count);
}

static const char *type_name(enum metric_type t, enum prom_format fmt)
{
	switch (t) {
	case METRIC_COUNTER: return "counter";
	case METRIC_GAUGE: return "gauge";
	case METRIC_HISTOGRAM: return "histogram";
	case METRIC_INFO: return fmt == PROM_OPENMETRICS ? "info" : "gauge";
	}
	return "unknown";
}

static void family_header(FILE *f, const struct metric_def *m, enum prom_format fmt)
{
	if (fmt == PROM_OPENMETRICS) {
		/* OpenMetrics names the family: counters without _total, info without _info. */
		fprintf(f, "# TYPE %s %s\n", m->name, type_name(m->type, fmt));
		if (m->unit)
			fprintf(f, "# UNIT %s %s\n", m->name, m->unit);
		fprintf(f, "# HELP %s ", m->name);
	} else {
		fputs("# HELP ", f);
		sample_name(f, m, NULL);
		fputc(' ', f);
	}
	help_text(f, m->help, fmt);
	fputc('\n', f);
	if (fmt == PROM_TEXT) {
		fputs("# TYPE ", f);
		sample_name(f, m, NULL);
		fprintf(f, " %s\n", type_name(m->type, fmt));
	}
}

int prom_write(FILE *f, const struct metric_src *src, enum prom_format fmt)
{
	struct prom_sink ps = {
		.k = { .number = sink_number, .hist = sink_hist },
		.f = f,
		.fmt = fmt,
		.wall_offset_ns = src->wall_offset_ns,
	};
	unsigned int i;

	for (i = 0; i < metric_count; i++) {
		if (!metric_present(&metric_table[i], src))
			continue;
		ps.m = &metric_table[i];
		family_header(f, ps.m, ps.fmt);
		ps.m->collect(src, &ps.k);
	}
	if (ps.fmt == PROM_OPENMETRICS)
		fputs("# EOF\n", f);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}

const char *prom_content_type(enum prom_format fmt)
{
	return fmt == PROM_OPENMETRICS ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
				       : "text/plain; version=0.0.4; charset=utf-8";
}

/* Length of s without the spaces and tabs around it. */
static const char *trim(const char *s, const char *end, size_t *len)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*len = (size_t)(end - s);
	return s;
}

/* q of one media range "type/sub; a=b; q=0.5" (RFC 9110 12.4.2): 1 when absent. */
static double media_q(const char *p, const char *end)
{
	const char *semi, *v;
	size_t n;
	double q;
	char *qend;

	while ((semi = memchr(p, ';', (size_t)(end - p)))) {
		p = semi + 1;
		v = trim(p, (semi = memchr(p, ';', (size_t)(end - p))) ? semi : end, &n);
		if (n >= 2 && tolower((unsigned char)v[0]) == 'q' && v[1] == '=') {
			q = strtod(v + 2, &qend);
			if (qend == v + 2 || q < 0 || q > 1)
				return 0;
			return q;
		}
	}
	return 1;
}

enum prom_format prom_negotiate(const char *accept)
{
	static const char om[] = "application/openmetrics-text";
	static const char text[] = "text/plain";
	double q_om = -1, q_text = -1, q;
	const char *p = accept, *end, *type, *semi;
	size_t n;

	while (p && *p) {
		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		semi = memchr(p, ';', (size_t)(end - p));
		type = trim(p, semi ? semi : end, &n);
		q = media_q(p, end);
		if (n == sizeof(om) - 1 && !strncasecmp(type, om, n) && q > q_om)
			q_om = q;
		else if (n == sizeof(text) - 1 && !strncasecmp(type, text, n) && q > q_text)
			q_text = q;
		p = *end ? end + 1 : end;
	}
	return q_om > 0 && q_om >= q_text ? PROM_OPENMETRICS : PROM_TEXT;
}
