#!/usr/bin/env python3
"""benches/render_vs_peers.py — sigil-agent render against the real peers, side by side.

1. A 2,000-resource overlay tree (a base of 1,000 Deployments and 1,000 ConfigMaps from a
   generator-free base, an overlay with namespace, namePrefix, labels, images, a patch):
   `sigil-agent render DIR --path overlay` vs `kubectl kustomize overlay`. Same objects are
   required (parsed and compared), then whole-process wall times. Goal: >= 5x.
2. 500 SOPS-encrypted Secrets (age, made by the real sops): one `sigil-agent render` of the
   directory vs 500 `sops -d` invocations. Goal: >= 50x.

Runs interleaved (sigil, peer, sigil, peer, ...) so machine noise hits both; reports medians
and ratios; never fails on timings. Usage: benches/render_vs_peers.py [RUNS] (default 5).
Needs .peers/ (tools/peers/setup.sh), kubectl, and a release build of sigil-agent (built here).
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
PEERS = os.path.join(REPO, ".peers", "bin")
ENV = dict(os.environ, PATH=PEERS + os.pathsep + os.environ.get("PATH", ""))


def sh(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, env=kw.pop("env", ENV), **kw)


def target_dir():
    meta = sh(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=REPO).stdout
    return json.loads(meta)["target_directory"]


def timed(args, **kw):
    t0 = time.perf_counter()
    out = sh(args, **kw)
    return time.perf_counter() - t0, out.stdout


def load_yaml(text):
    # Parse with the same loader for both outputs: sealer's test helper is Rust, so use
    # the peers' Python (PyYAML is installed by tools/peers/setup.sh).
    import yaml  # noqa: PLC0415

    return [d for d in yaml.safe_load_all(text) if d]


def overlay_tree(root):
    base = os.path.join(root, "base")
    os.makedirs(base)
    names = []
    with open(os.path.join(base, "resources.yaml"), "w") as f:
        for i in range(1000):
            f.write(
                f"""---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
spec:
  replicas: 1
  selector:
    matchLabels: {{app: app-{i}}}
  template:
    metadata:
      labels: {{app: app-{i}}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
        envFrom: [{{configMapRef: {{name: cfg-{i}}}}}]
        ports: [{{containerPort: 8080}}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg-{i}
data:
  key: value-{i}
"""
            )
            names.append(f"app-{i}")
    with open(os.path.join(base, "kustomization.yaml"), "w") as f:
        f.write("resources: [resources.yaml]\ncommonLabels: {tier: bench}\n")
    ov = os.path.join(root, "overlay")
    os.makedirs(ov)
    with open(os.path.join(ov, "kustomization.yaml"), "w") as f:
        f.write(
            """resources: [../base]
namespace: bench
namePrefix: prod-
labels:
- pairs: {env: prod}
images:
- {name: nginx, newTag: "1.26"}
patches:
- target: {kind: Deployment}
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: any}
    spec:
      template:
        spec:
          containers:
          - name: main
            resources: {limits: {memory: 128Mi}}
"""
        )


def secrets_tree(root, key_file, recipient):
    d = os.path.join(root, "secrets")
    os.makedirs(d)
    files = []
    for i in range(500):
        p = os.path.join(d, f"s{i:03}.yaml")
        with open(p, "w") as f:
            f.write(
                f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\ntype: Opaque\n"
                f"stringData:\n  user: user-{i}\n  password: pw-{i}-{'x' * 20}\n"
            )
        sh(["sops", "--encrypt", "--in-place", "--age", recipient, p])
        files.append(p)
    return d, files


def median_ratio(a, b):
    ma, mb = statistics.median(a), statistics.median(b)
    return ma, mb, mb / ma


def main():
    sh(["cargo", "build", "--release", "-q", "-p", "sigil-agent"], cwd=REPO)
    agent = os.path.join(target_dir(), "release", "sigil-agent")
    with tempfile.TemporaryDirectory(prefix="sigil-render-bench.") as work:
        env = dict(ENV, XDG_CONFIG_HOME=os.path.join(work, "config"))
        # ---- 1. overlay
        overlay_tree(work)
        _, ours_out = timed([agent, "render", work, "--path", "overlay"])
        _, peer_out = timed(["kubectl", "kustomize", os.path.join(work, "overlay")])
        ours_docs, peer_docs = load_yaml(ours_out), load_yaml(peer_out)
        assert len(ours_docs) == 2000, len(ours_docs)
        assert ours_docs == peer_docs, "sigil-agent and kubectl kustomize disagree"
        t_ours, t_peer = [], []
        for _ in range(RUNS):
            t_ours.append(timed([agent, "render", work, "--path", "overlay"])[0])
            t_peer.append(timed(["kubectl", "kustomize", os.path.join(work, "overlay")])[0])
        mo, mp, r = median_ratio(t_ours, t_peer)
        print(f"overlay 2,000 resources: sigil-agent render {mo*1000:.0f} ms, kubectl kustomize {mp*1000:.0f} ms: {r:.1f}x (goal 5x)")

        # ---- 2. 500 SOPS Secrets
        key_file = os.path.join(work, "key.txt")
        sh(["age-keygen", "-o", key_file], env=env)
        recipient = sh(["age-keygen", "-y", key_file], env=env).stdout.decode().strip()
        d, files = secrets_tree(work, key_file, recipient)
        env_k = dict(env, SOPS_AGE_KEY_FILE=key_file)
        render = [agent, "render", d, "--age-key-file", key_file, "--show-secrets"]
        out = load_yaml(timed(render, env=env_k)[1])
        assert len(out) == 500 and all(o["stringData"]["user"].startswith("user-") for o in out)
        t_ours, t_peer = [], []
        for _ in range(RUNS):
            t_ours.append(timed(render, env=env_k)[0])
            t0 = time.perf_counter()
            for f in files:
                sh(["sops", "--decrypt", f], env=env_k)
            t_peer.append(time.perf_counter() - t0)
        mo, mp, r = median_ratio(t_ours, t_peer)
        print(f"500 SOPS Secrets: one sigil-agent render {mo*1000:.0f} ms, 500 x sops -d {mp*1000:.0f} ms: {r:.0f}x (goal 50x)")


if __name__ == "__main__":
    main()
