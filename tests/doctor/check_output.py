#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks one output of `kmemguard doctor`.

  check_output.py json SCHEMA FILE [PATH=VALUE ...] [+FINDING ...] [-FINDING ...]
      validates FILE against SCHEMA (python3-jsonschema), then checks each
      dotted PATH (memcg_ids.dying, runtimes.0.version) equals the JSON VALUE,
      and that finding ids are present (+id) or absent (-id).
  check_output.py prom FILE [METRIC=VALUE ...]
      parses FILE with python3-prometheus-client and checks sample values
      (METRIC may carry labels as METRIC{label=value}).
  check_output.py get FILE PATH      prints one JSON value (for shell tests).
Exits 0 when every check holds, 1 otherwise (each failure on stderr).
"""
import json
import sys


def lookup(doc, path):
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def check_json(schema_file, out_file, checks):
    import jsonschema
    with open(schema_file) as f:
        schema = json.load(f)
    with open(out_file) as f:
        doc = json.load(f)
    failures = []
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.FormatChecker())
    for err in validator.iter_errors(doc):
        failures.append("schema: %s at %s" % (err.message, list(err.absolute_path)))
    ids = {f["id"] for f in doc.get("findings", [])}
    for c in checks:
        if c.startswith("+") or c.startswith("-"):
            want = c[0] == "+"
            if (c[1:] in ids) != want:
                failures.append("finding %s %s (have %s)" % (
                    c[1:], "missing" if want else "unexpected", sorted(ids)))
            continue
        path, value = c.split("=", 1)
        try:
            got = lookup(doc, path)
        except (KeyError, IndexError, TypeError):
            failures.append("%s: missing" % path)
            continue
        if got != json.loads(value):
            failures.append("%s: got %r, want %s" % (path, got, value))
    return failures


COUNTERS = {"kmemguard_unguarded_starts"}


def check_prom(out_file, checks):
    from prometheus_client.parser import text_string_to_metric_families
    with open(out_file) as f:
        text = f.read()
    samples = {}
    failures = []
    try:
        for family in text_string_to_metric_families(text):
            if not family.documentation:
                failures.append("%s: no HELP" % family.name)
            # Every metric is a gauge but the counters (docs/doctor.md);
            # the parser names a counter family without its _total.
            want = "counter" if family.name in COUNTERS else "gauge"
            if family.type != want:
                failures.append("%s: type %s, want %s" % (
                    family.name, family.type, want))
            for s in family.samples:
                labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
                samples[s.name + ("{%s}" % labels if labels else "")] = s.value
    except Exception as e:  # the parser raises ValueError and friends
        return ["prometheus parser: %r" % e]
    for c in checks:
        name, value = c.rsplit("=", 1)
        if name not in samples:
            failures.append("%s: missing (have %s)" % (name, sorted(samples)))
        elif samples[name] != float(value):
            failures.append("%s: got %s, want %s" % (name, samples[name], value))
    return failures


def main(argv):
    mode = argv[1]
    if mode == "json":
        failures = check_json(argv[2], argv[3], argv[4:])
    elif mode == "prom":
        failures = check_prom(argv[2], argv[3:])
    elif mode == "get":
        with open(argv[2]) as f:
            print(json.dumps(lookup(json.load(f), argv[3])))
        return 0
    else:
        print("unknown mode %s" % mode, file=sys.stderr)
        return 2
    for f in failures:
        print("  " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
