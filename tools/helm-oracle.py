#!/usr/bin/env python3
"""tools/helm-oracle.py — what the real Helm library (helm-python-sdk, Helm v4) renders.

Usage:
  helm-oracle.py CHART_DIR [VALUES.yaml] [--name N] [--namespace NS] [--revision N] [--upgrade]
      prints render()'s result as JSON ({template path: text}) or {"error": "..."}.
  helm-oracle.py --template 'TEXT' [--values 'YAML'] [--define 'TEXT']...
      renders TEXT as the template `t/templates/t.yaml` of a throwaway chart `t` (with each
      --define as `templates/_helpers<i>.tpl`), printing the raw output, or `ERROR: ...` and
      exit status 1. Handy for checking one construct: helm-oracle.py --template '{{ 1e6 }}'

Run it with the peers' Python (.peers/venv/bin/python, installed by tools/peers/setup.sh).
"""
import argparse
import json
import os
import sys
import tempfile

from helm_python import Chart, values_from_yaml


def render(chart_dir, values_text, name, namespace, revision, upgrade):
    chart = Chart.load(chart_dir)
    return chart.render(values_from_yaml(values_text or "{}"), name=name, namespace=namespace,
                        revision=revision, is_install=not upgrade, is_upgrade=upgrade)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("chart", nargs="?")
    ap.add_argument("values_file", nargs="?")
    ap.add_argument("--template")
    ap.add_argument("--values", default="{}")
    ap.add_argument("--define", action="append", default=[])
    ap.add_argument("--name", default="release")
    ap.add_argument("--namespace", default="default")
    ap.add_argument("--revision", type=int, default=1)
    ap.add_argument("--upgrade", action="store_true")
    a = ap.parse_args()
    if a.template is not None:
        with tempfile.TemporaryDirectory() as d:
            os.makedirs(os.path.join(d, "templates"))
            with open(os.path.join(d, "Chart.yaml"), "w") as f:
                f.write("apiVersion: v2\nname: t\nversion: 0.1.0\nappVersion: \"1.0\"\n")
            with open(os.path.join(d, "templates", "t.yaml"), "w") as f:
                f.write(a.template)
            for i, text in enumerate(a.define):
                with open(os.path.join(d, "templates", f"_helpers{i}.tpl"), "w") as f:
                    f.write(text)
            try:
                out = render(d, a.values, a.name, a.namespace, a.revision, a.upgrade)
            except Exception as e:  # the library raises with Helm's error text
                print(f"ERROR: {e}")
                sys.exit(1)
            sys.stdout.write(out["t/templates/t.yaml"])
        return
    if not a.chart:
        ap.error("CHART_DIR or --template is required")
    values = open(a.values_file).read() if a.values_file else "{}"
    try:
        out = render(a.chart, values, a.name, a.namespace, a.revision, a.upgrade)
    except Exception as e:
        print(json.dumps({"error": str(e)}))
        sys.exit(1)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
