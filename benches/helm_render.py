#!/usr/bin/env python3
"""benches/helm_render.py — Sigil's native Helm render beside the real Helm library.

Takes the corpus case whose chart renders the most text (../shared/helm-corpus, or --case),
and in one run:
- the real Helm v4 library (helm-python-sdk): load + render, one warm-up then RUNS timed, in
  one Python process; peak RSS of that process (VmHWM) before loading the library and after;
- Sigil (render/examples/helm_render.rs, release build): the same in one process, its VmHWM.
Prints one JSON line with both medians and their ratio. Not a test: nothing is asserted.

Usage: .peers/venv/bin/python benches/helm_render.py [--runs 5] [--case NAME]
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "..", "shared", "helm-corpus", "cases")


def vm_hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def chart_dir(case):
    d = os.path.join(CORPUS, case)
    if os.path.isdir(os.path.join(d, "chart")):
        return os.path.join(d, "chart")
    with open(os.path.join(d, "chart.txt")) as f:
        return os.path.normpath(os.path.join(d, f.read().strip()))


def release(case):
    out = {}
    with open(os.path.join(CORPUS, case, "release.yaml")) as f:
        for line in f:
            if ":" in line and not line.startswith(" ") and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k.strip()] = v.strip().strip('"')
    return out


def largest_case():
    best, size = None, -1
    for case in sorted(os.listdir(CORPUS)):
        p = os.path.join(CORPUS, case, "expected.json")
        if os.path.exists(p) and os.path.getsize(p) > size:
            best, size = case, os.path.getsize(p)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--case")
    a = ap.parse_args()
    case = a.case or largest_case()
    chart = chart_dir(case)
    values_file = os.path.join(CORPUS, case, "values.yaml")
    rel = release(case)
    name, ns = rel.get("name", "release"), rel.get("namespace", "default")

    subprocess.run(["cargo", "build", "--release", "-q", "-p", "sigil-render", "--example", "helm_render"],
                   cwd=REPO, check=True)
    meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=REPO,
                                     check=True, capture_output=True).stdout)
    ours_bin = os.path.join(meta["target_directory"], "release", "examples", "helm_render")
    ours = json.loads(subprocess.run([ours_bin, chart, values_file, str(a.runs), name, ns], check=True,
                                     capture_output=True, text=True).stdout)

    base_kib = vm_hwm_kib()
    from helm_python import Chart, values_from_yaml
    values_text = open(values_file).read()
    times = []
    out = {}
    for i in range(a.runs + 1):
        t = time.perf_counter()
        c = Chart.load(chart)  # render() changes a loaded chart: load afresh each time
        out = c.render(values_from_yaml(values_text), name=name, namespace=ns, revision=1, is_install=True)
        dt = time.perf_counter() - t
        if i > 0:
            times.append(dt)
    times.sort()
    helm = {"median_s": times[len(times) // 2], "runs": a.runs,
            "output_bytes": sum(len(v.encode()) for v in out.values()),
            "peak_rss_kib": vm_hwm_kib(), "python_baseline_rss_kib": base_kib}
    print(json.dumps({"case": case, "helm_library": helm, "sigil": ours,
                      "speedup": round(helm["median_s"] / ours["median_s"], 2) if ours["median_s"] else None}))


if __name__ == "__main__":
    sys.exit(main())
