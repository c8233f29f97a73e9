#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Checks of deploy/'s Prometheus rules and Grafana dashboard that promtool cannot make.

  check_deploy.py coverage RULES TESTS
      every alert of RULES has a promtool test case in TESTS where it fires and one where it
      does not, and every recording rule is read by an expression test: a rule without a
      test fails here instead of going untested.
  check_deploy.py lint DASHBOARD
      the dashboard's structure: unique panel ids, every panel has queries, the heatmaps
      of the handshake and TIME_WAIT histograms are there.
  check_deploy.py names SCRAPE RULES DASHBOARD [MANPAGE]
      every synfin_* name the rules and the dashboard query is a sample name in SCRAPE (a
      /metrics scrape of the real binary) and every recording-rule name the dashboard uses is
      defined in RULES, so neither can drift from synfin's metric table; with MANPAGE, every
      metric family of SCRAPE is documented there.
  check_deploy.py queries DASHBOARD API
      runs every query of the dashboard (panels and variables) against Prometheus's HTTP API
      (http://HOST:PORT/api/v1) as Grafana would, and fails unless each returns data.

One line per finding on stderr; exit status 1 when anything is wrong, 2 on bad usage.
"""
import json
import re
import sys
import urllib.parse
import urllib.request

import yaml


def fail(msg):
    print(f"check_deploy: {msg}", file=sys.stderr)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rules_of(path):
    return [r for g in load_yaml(path)["groups"] for r in g["rules"]]


def panels_of(dash):
    """Every panel, rows' collapsed children included, rows themselves excluded."""
    out = []
    for p in dash.get("panels", []):
        if p.get("type") == "row":
            out.extend(p.get("panels", []))
        else:
            out.append(p)
    return out


def dashboard_exprs(dash):
    """(where, expr) for every panel target and every query variable."""
    out = []
    for p in panels_of(dash):
        for t in p.get("targets", []):
            out.append((f"panel '{p.get('title')}' {t.get('refId')}", t.get("expr", "")))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            q = v.get("query")
            out.append((f"variable ${v['name']}", q["query"] if isinstance(q, dict) else q))
    return out


# ---------------------------------------------------------------- coverage

def cmd_coverage(rules_path, tests_path):
    rules = rules_of(rules_path)
    tests = load_yaml(tests_path)["tests"]
    fired, silent, exprs = set(), set(), []
    for t in tests:
        for a in t.get("alert_rule_test", []):
            (fired if a.get("exp_alerts") else silent).add(a["alertname"])
        exprs.extend(e["expr"] for e in t.get("promql_expr_test", []))
    bad = 0
    for r in rules:
        if "alert" in r:
            for have, what in ((fired, "fires"), (silent, "does not fire")):
                if r["alert"] not in have:
                    fail(f"alert {r['alert']}: no test case where it {what}")
                    bad += 1
        elif not any(re.search(r"(?<![\w:])" + re.escape(r["record"]) + r"(?![\w:])", e)
                     for e in exprs):
            fail(f"recording rule {r['record']}: no promql_expr_test reads it")
            bad += 1
    known = {r["alert"] for r in rules if "alert" in r}
    for name in sorted((fired | silent) - known):
        fail(f"test case for alert {name}, which the rules do not define")
        bad += 1
    n_alerts = len(known)
    print(f"{n_alerts} alerts fire and stay silent in a test; "
          f"{len(rules) - n_alerts} recording rules are tested")
    return bad == 0


# ---------------------------------------------------------------- lint

def cmd_lint(dash_path):
    dash = load_json(dash_path)
    bad = 0
    ids = [p.get("id") for p in dash.get("panels", [])] + \
        [c.get("id") for p in dash.get("panels", []) for c in p.get("panels", [])]
    for i in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        fail(f"panel id {i} used more than once")
        bad += 1
    heat = []
    for p in panels_of(dash):
        if not p.get("targets") or not all(t.get("expr") for t in p["targets"]):
            fail(f"panel '{p.get('title')}' has a target without a query")
            bad += 1
        if p.get("type") == "heatmap":
            heat.extend(t["expr"] for t in p.get("targets", []))
    for h in ("synfin_handshake_duration_seconds_bucket", "synfin_time_wait_duration_seconds_bucket"):
        if not any(h in e for e in heat):
            fail(f"no heatmap of {h}")
            bad += 1
    print(f"{len(panels_of(dash))} panels, {len(heat)} heatmap queries")
    return bad == 0


# ---------------------------------------------------------------- names

def names_in(expr):
    """synfin_* metric names and recording-rule names (level:metric:ops) an expression reads."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)   # label values ("a:9809") are not names
    e = re.sub(r"\[[^\]]*\]", "", e)                # nor range selectors
    return set(re.findall(r"(?<![\w:$])(?:synfin_\w+|[A-Za-z_]\w*:[\w:]+)", e))


def scrape_names(path):
    samples, families = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# TYPE "):
                families.add(line.split()[2])
            elif line.strip() and not line.startswith("#"):
                samples.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return samples, families


def cmd_names(scrape, rules_path, dash_path, man=None):
    samples, families = scrape_names(scrape)
    if not samples:
        fail(f"{scrape}: no samples")
        return False
    rules = rules_of(rules_path)
    records = {r["record"] for r in rules if "record" in r}
    used = [(f"rule {r.get('alert') or r.get('record')}", r["expr"]) for r in rules]
    used += [(f"dashboard {w}", e) for w, e in dashboard_exprs(load_json(dash_path))]
    bad = 0
    seen = set()
    for where, expr in used:
        for n in names_in(expr):
            seen.add(n)
            if ":" in n:
                if n not in records:
                    fail(f"{where}: recording rule {n} is not defined in {rules_path}")
                    bad += 1
            elif n not in samples:
                fail(f"{where}: {n} is not a metric synfin exports")
                bad += 1
    if man:
        with open(man, encoding="utf-8") as f:
            text = f.read()
        for fam in sorted(families):
            if not re.search(r"(?<!\w)" + re.escape(fam) + r"(?!\w)", text):
                fail(f"{man}: metric {fam} is not documented")
                bad += 1
    print(f"{len(seen)} names used by {len(used)} queries; all exported by synfin or recorded"
          + (f"; {len(families)} families documented" if man else ""))
    return bad == 0


# ---------------------------------------------------------------- queries

def grafana_expand(expr):
    """What Grafana sends for the default selection: every job and node, and a rate
    interval of a minute (four times the e2e test's 1 s scrape interval, and then some)."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "15s")
    expr = re.sub(r"\$\{?(job|instance)\}?", ".+", expr)
    # label_values(SELECTOR, label): Grafana asks for the series of SELECTOR
    m = re.fullmatch(r"\s*label_values\((.*),\s*\w+\)\s*", expr, re.S)
    return m.group(1) if m else expr


def cmd_queries(dash_path, api):
    bad = 0
    n = 0
    for where, expr in dashboard_exprs(load_json(dash_path)):
        q = grafana_expand(expr)
        n += 1
        url = f"{api}/query?" + urllib.parse.urlencode({"query": q})
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                res = json.load(r)
        except Exception as e:  # an HTTP 400 is a query Prometheus rejected
            body = getattr(e, "read", lambda: b"")().decode(errors="replace")
            fail(f"{where}: {q}: {e} {body.strip()}")
            bad += 1
            continue
        result = res.get("data", {}).get("result", [])
        if res.get("status") != "success":
            fail(f"{where}: {q}: {res.get('error')}")
            bad += 1
        elif not result:
            fail(f"{where}: {q}: no data")
            bad += 1
        else:
            vals = [s["value"][1] for s in result]
            print(f"  {where}: {len(result)} series, e.g. {vals[0]}")
    print(f"{n - bad} of {n} dashboard queries returned data")
    return bad == 0


def main(argv):
    cmds = {"coverage": (cmd_coverage, 2, 2), "lint": (cmd_lint, 1, 1),
            "names": (cmd_names, 3, 4), "queries": (cmd_queries, 2, 2)}
    if len(argv) < 2 or argv[1] not in cmds or \
            not cmds[argv[1]][1] <= len(argv) - 2 <= cmds[argv[1]][2]:
        fail("usage: check_deploy.py coverage RULES TESTS | lint DASHBOARD | "
             "names SCRAPE RULES DASHBOARD [MANPAGE] | queries DASHBOARD API")
        return 2
    try:
        return 0 if cmds[argv[1]][0](*argv[2:]) else 1
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as e:
        fail(f"{argv[1]}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
