#!/usr/bin/env python3
"""benches/agent_scale.py — `sigil-agent run` with many Syncs, against the kmock emulator.

For each N (default 100 and 1000): one GitSource on a local repository holding the
flux-benchmark app shape (ServiceAccount, Service, Deployment scaled to 0, Ingress) and N Syncs
of it, each into its own namespace (targetNamespace). Reports:
- the agent's resident memory (VmRSS) once every Sync is Ready and the agent is idle, and its
  peak (VmHWM);
- a no-op reconcile of the unchanged commit (all N Syncs asked at once through the
  reconcile.sigil.dev/requestedAt annotation): the agent's CPU time (user + system, from
  /proc) per Sync, and the API requests it made (one GET + one dry-run apply per object, no
  render, no decryption, no write).
kmock (Python) serves the API, so wall times measure it more than the agent; CPU and memory
are the agent's own. Never fails on figures. Usage: benches/agent_scale.py [N ...].
Needs .peers/ (tools/peers/setup.sh, with kmock) and builds sigil-agent in release mode (or
takes SIGIL_AGENT_BIN).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = os.path.join(REPO, ".peers", "bin", "python")
SIZES = [int(a) for a in sys.argv[1:]] or [100, 1000]

APP = {
    "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: podinfo\n",
    "svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\nspec:\n  selector: {app: podinfo}\n  ports:\n  - {name: http, port: 9898, targetPort: 9898}\n",
    "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: podinfo}\n  template:\n    metadata:\n      labels: {app: podinfo}\n    spec:\n      serviceAccountName: podinfo\n      containers:\n      - name: podinfo\n        image: ghcr.io/stefanprodan/podinfo:6.7.0\n        ports:\n        - {containerPort: 9898}\n        resources:\n          requests: {cpu: 10m, memory: 16Mi}\n",
    "ingress.yaml": "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: podinfo\nspec:\n  rules:\n  - host: podinfo.example.com\n    http:\n      paths:\n      - path: /\n        pathType: Prefix\n        backend:\n          service:\n            name: podinfo\n            port: {number: 9898}\n",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def target_dir():
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=REPO,
                          check=True, capture_output=True).stdout
    return json.loads(meta)["target_directory"]


def api(base, method, path, body=None, content_type="application/json"):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", content_type)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"{}")


def apply(base, path, obj):
    return api(base, "PATCH", path + "?fieldManager=bench&force=true", obj, "application/apply-patch+yaml")


def proc_stat(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / tick
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                mem[k] = int(v.split()[0]) / 1024
    return cpu, mem


def wait(what, limit, pred):
    deadline = time.time() + limit
    while time.time() < deadline:
        r = pred()
        if r:
            return r
        time.sleep(5)
    raise SystemExit(f"timed out: {what}")


def run(agent, n, work):
    port = free_port()
    kmock = subprocess.Popen([PY, os.path.join(REPO, "tools/peers/kmock_server.py"), "--port", str(port)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert kmock.stdout.readline().startswith("READY")
    base = f"http://127.0.0.1:{port}"
    kubeconfig = os.path.join(work, f"kubeconfig-{n}")
    with open(kubeconfig, "w") as f:
        f.write(f"apiVersion: v1\nkind: Config\nclusters:\n- name: k\n  cluster: {{server: '{base}'}}\n"
                "contexts:\n- name: k\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {}\n"
                "current-context: k\n")
    log = open(os.path.join(work, f"agent-{n}.log"), "w")
    agent_p = subprocess.Popen([agent, "run", "--kubeconfig", kubeconfig, "--namespace", "sigil-system",
                                "--http-addr", f"127.0.0.1:{free_port()}", "--key-bits", "2048",
                                "--git-cache-dir", os.path.join(work, f"cache-{n}"), "--concurrency", "4"],
                               stdout=subprocess.DEVNULL, stderr=log, env=dict(os.environ, SIGIL_LOG="warn"))
    try:
        apply(base, "/apis/sigil.dev/v1alpha1/namespaces/bench/gitsources/repo",
              {"apiVersion": "sigil.dev/v1alpha1", "kind": "GitSource", "metadata": {"name": "repo", "namespace": "bench"},
               "spec": {"url": os.path.join(work, "repo"), "ref": {"branch": "main"}, "interval": "60m"}})
        t0 = time.time()
        for i in range(n):
            apply(base, f"/apis/sigil.dev/v1alpha1/namespaces/bench/syncs/app-{i}",
                  {"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": f"app-{i}", "namespace": "bench"},
                   "spec": {"sourceRef": {"name": "repo"}, "path": "./app", "interval": "60m", "prune": True,
                            "targetNamespace": f"ns-{i}"}})

        def ready_count():
            items = api(base, "GET", "/apis/sigil.dev/v1alpha1/namespaces/bench/syncs")["items"]
            return sum(1 for s in items for c in (s.get("status") or {}).get("conditions", [])
                       if c["type"] == "Ready" and c["status"] == "True")

        wait("all Syncs ready", 1800, lambda: ready_count() == n)
        first = time.time() - t0
        time.sleep(5)
        _, idle = proc_stat(agent_p.pid)
        cpu0, _ = proc_stat(agent_p.pid)
        token = str(time.time())
        t1 = time.time()
        for i in range(n):
            api(base, "PATCH", f"/apis/sigil.dev/v1alpha1/namespaces/bench/syncs/app-{i}",
                {"metadata": {"annotations": {"reconcile.sigil.dev/requestedAt": token}}},
                "application/merge-patch+json")

        def handled():
            items = api(base, "GET", "/apis/sigil.dev/v1alpha1/namespaces/bench/syncs")["items"]
            return sum(1 for s in items if (s.get("status") or {}).get("lastHandledReconcileAt") == token) == n

        wait("no-op reconciles", 1800, handled)
        noop_wall = time.time() - t1
        cpu1, after = proc_stat(agent_p.pid)
        return {
            "syncs": n, "objects": 4 * n, "first_sync_s": round(first, 1),
            "rss_idle_mib": round(idle["VmRSS"], 1), "rss_after_noop_mib": round(after["VmRSS"], 1),
            "peak_mib": round(after["VmHWM"], 1),
            "noop_cpu_ms_per_sync": round((cpu1 - cpu0) * 1000 / n, 2), "noop_wall_s": round(noop_wall, 1),
        }
    finally:
        agent_p.send_signal(signal.SIGTERM)
        agent_p.wait(timeout=30)
        kmock.terminate()
        kmock.wait(timeout=30)


def main():
    agent = os.environ.get("SIGIL_AGENT_BIN")
    if not agent:
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "sigil-agent", "--bin", "sigil-agent"], cwd=REPO,
                       check=True)
        agent = os.path.join(target_dir(), "release", "sigil-agent")
    with tempfile.TemporaryDirectory() as work:
        repo = os.path.join(work, "repo")
        os.makedirs(os.path.join(repo, "app"))
        for name, text in APP.items():
            with open(os.path.join(repo, "app", name), "w") as f:
                f.write(text)
        env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b",
                   GIT_COMMITTER_EMAIL="b@x")
        for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "app"]):
            subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)
        for n in SIZES:
            print(json.dumps(run(agent, n, work)), flush=True)


if __name__ == "__main__":
    main()
