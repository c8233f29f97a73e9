#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Validates synfin's JSON against the schemas in docs/ (JSON Schema draft 2020-12).

    json_schema.py SCHEMA FILE            FILE is one JSON document (synfin run --report)
    json_schema.py --lines SCHEMA FILE    FILE is JSON lines (synfin watch --json)

Every docs/*.schema.json is loaded first, so the cross-file $refs (the report's summary is
records.schema.json#/$defs/summary) resolve offline. Prints the first errors and, with
--lines, how many records of each type were valid. Exit status 0 when everything validates.
Works with Debian 12's python3-jsonschema (4.10, RefResolver) and newer (referencing)."""
import collections
import glob
import json
import os
import sys

import jsonschema

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs")


def validator_for(name):
    schemas = {}
    for path in glob.glob(os.path.join(DOCS, "*.schema.json")):
        with open(path) as f:
            s = json.load(f)
        jsonschema.Draft202012Validator.check_schema(s)
        schemas[os.path.basename(path)] = s
    schema = schemas[name]
    try:
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (s["$id"], Resource.from_contents(s)) for s in schemas.values())
        return jsonschema.Draft202012Validator(schema, registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver.from_schema(
            schema, store={s["$id"]: s for s in schemas.values()})
        return jsonschema.Draft202012Validator(schema, resolver=resolver)


def main():
    args = sys.argv[1:]
    lines = args[:1] == ["--lines"]
    if lines:
        args = args[1:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    v = validator_for(args[0])
    with open(args[1]) as f:
        docs = [json.loads(l) for l in f if l.strip()] if lines else [json.load(f)]
    bad = 0
    types = collections.Counter()
    for n, doc in enumerate(docs, 1):
        errors = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            bad += 1
            if bad <= 3:
                for e in errors[:3]:
                    where = "/".join(map(str, e.absolute_path))
                    print(f"  {args[1]}:{n}: {where}: {e.message[:300]}", file=sys.stderr)
        elif isinstance(doc, dict):
            types[doc.get("type", "document")] += 1
    print(" ".join(f"{t}={c}" for t, c in sorted(types.items())))
    if not docs:
        print(f"  {args[1]}: no JSON documents", file=sys.stderr)
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
