#!/usr/bin/env python3
"""benches/agent_scale.py — `sigil-agent run` with many Syncs on a real API server.

Starts a fresh control plane from ../shared/kube (or uses SIGIL_TEST_KUBECONFIG), a local Git
repository holding the flux-benchmark app shape (ServiceAccount, ConfigMap, Service, Deployment
with resources), one GitSource, and N Syncs — Sync i in namespace bench-i, applying the app
there. Agents run out of cluster (release build, or SIGIL_AGENT_BIN); with --shards 2 two
agents split the Syncs by `--watch-label-selector shard=a|b`.

Reports, per run (JSON lines), never failing on a figure:
- creation → Ready per Sync: p50/p99/max, and how long after the last Sync was created the
  last one became Ready (Syncs are created by 8 client threads, as fast as the API server
  takes them; Ready is seen by listing all Syncs every 0.25 s);
- the agents' peak and settled RSS (VmHWM, VmRSS from /proc);
- a no-op round: with the Syncs' interval at `--interval` (default 20s, ±5 % jitter), once all
  are Ready and settled, over a window of two intervals: agent CPU (user+system, /proc) per
  reconcile, reconciles counted from /metrics, and the requests the agent made (its
  sigil_api_requests_total by verb: object gets/lists/applies/dry-runs/creates/deletes and
  status writes) — zero is the goal;
- with --dhat (an agent built with `--features heap-profile`): where the heap is at its peak,
  from dhat's profile (top allocation sites by bytes at t-gmax).

Usage: benches/agent_scale.py [--syncs N] [--shards 1|2] [--interval 20s] [--dhat]
"""
import argparse
import base64
import concurrent.futures
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_KUBE = os.path.join(REPO, "..", "shared", "kube")

APP = {
    "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: podinfo\n",
    "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: podinfo\ndata:\n  PODINFO_UI_MESSAGE: hello\n",
    "svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: podinfo\nspec:\n  selector: {app: podinfo}\n  ports:\n  - {name: http, port: 9898, targetPort: 9898}\n",
    "deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: podinfo\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: podinfo}\n  template:\n    metadata:\n      labels: {app: podinfo}\n    spec:\n      serviceAccountName: podinfo\n      containers:\n      - name: podinfo\n        image: ghcr.io/stefanprodan/podinfo:6.7.0\n        envFrom:\n        - configMapRef: {name: podinfo}\n        ports:\n        - {containerPort: 9898}\n        resources:\n          requests: {cpu: 10m, memory: 16Mi}\n          limits: {memory: 64Mi}\n",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A tiny client for the API server with the kubeconfig's client certificate."""

    def __init__(self, kubeconfig, work):
        import yaml  # noqa: PLC0415 (PyYAML is in the peers' venv)
        kc = yaml.safe_load(open(kubeconfig))
        cluster = kc["clusters"][0]["cluster"]
        user = kc["users"][0]["user"]
        self.host, self.port = cluster["server"].removeprefix("https://").split(":")
        ca, cert, key = (os.path.join(work, n) for n in ("ca.crt", "client.crt", "client.key"))
        for path, field in ((ca, cluster["certificate-authority-data"]), (cert, user["client-certificate-data"]),
                            (key, user["client-key-data"])):
            with open(path, "wb") as f:
                f.write(base64.b64decode(field))
        self.ctx = ssl.create_default_context(cafile=ca)
        self.ctx.load_cert_chain(cert, key)
        self.local = threading.local()

    def call(self, method, path, body=None, content_type="application/json"):
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPSConnection(self.host, int(self.port), context=self.ctx, timeout=120)
            self.local.conn = conn
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": content_type} if data is not None else {}
        try:
            conn.request(method, path, body=data, headers=headers)
            r = conn.getresponse()
            payload = r.read()
        except (http.client.HTTPException, OSError):
            self.local.conn = None
            raise
        if r.status >= 300 and r.status != 409:
            raise RuntimeError(f"{method} {path}: {r.status} {payload[:300]!r}")
        return r.status, (json.loads(payload) if payload else {})


def proc(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    mem = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                mem[k] = int(v.split()[0]) / 1024
    return cpu, mem


def metrics(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    out = {"reconciles": 0.0, "requests": {}}
    for line in text.splitlines():
        if line.startswith("sigil_reconcile_total{"):
            out["reconciles"] += float(line.rsplit(" ", 1)[1])
        elif line.startswith("sigil_reconcile_duration_seconds_sum{"):
            out["duration_sum"] = out.get("duration_sum", 0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith("sigil_reconcile_duration_seconds_count{"):
            out["duration_count"] = out.get("duration_count", 0) + float(line.rsplit(" ", 1)[1])
        elif line.startswith("sigil_api_requests_total{verb=\""):
            verb = line.split('"')[1]
            out["requests"][verb] = float(line.rsplit(" ", 1)[1])
    return out


def cpu_by_program(names=("kube-apiserver", "etcd", "kube-controller-manager", "sigil-agent")):
    """CPU seconds (user+system) used so far by every process whose program is one of `names`."""
    out = {n: 0.0 for n in names}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            if exe in out:
                out[exe] += proc(int(pid))[0]
        except OSError:
            continue
    return out


def apiserver_requests(api):
    """The API server's own count of requests, by (verb, resource, dry run), from its /metrics."""
    conn = http.client.HTTPSConnection(api.host, int(api.port), context=api.ctx, timeout=60)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    out = {}
    for line in text.splitlines():
        if not line.startswith("apiserver_request_total{"):
            continue
        labels = dict(kv.split("=", 1) for kv in line[line.index("{") + 1:line.rindex("}")].split(",") if "=" in kv)
        labels = {k: v.strip('"') for k, v in labels.items()}
        if labels.get("verb") in ("WATCH", "CONNECT"):
            continue
        key = f"{labels.get('verb')} {labels.get('resource')}{'/' + labels['subresource'] if labels.get('subresource') else ''}{' dry-run' if labels.get('dry_run') else ''}"
        out[key] = out.get(key, 0) + float(line.rsplit(" ", 1)[1])
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else None


def dhat_summary(path, top=12):
    """Bytes live at the heap's peak (t-gmax), grouped by the first frame in Sigil's code."""
    prof = json.load(open(path))
    frames = prof["ftbl"]
    groups = {}
    total = 0
    for pp in prof["pps"]:
        b = pp.get("gb", 0)
        if not b:
            continue
        total += b
        names = [frames[i] for i in pp["fs"]]
        ours = next((n for n in names if "sigil_" in n), None)
        deps = [n for n in names if "sigil_" not in n and "alloc::" not in n and "core::" not in n
                and "std::" not in n and "dhat" not in n and "[root]" not in n]
        key = (ours or (deps[0] if deps else names[-1] if names else "?")).split(" (")[0]
        key = key.split(": ", 1)[-1][:140]
        groups[key] = groups.get(key, 0) + b
    rows = sorted(groups.items(), key=lambda kv: -kv[1])[:top]
    return {"bytes_at_peak": total, "top_sites": [{"bytes": b, "site": k} for k, b in rows]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--syncs", type=int, default=1000)
    ap.add_argument("--shards", type=int, default=1, choices=(1, 2))
    ap.add_argument("--interval", default="20s")
    ap.add_argument("--dhat", action="store_true")
    ap.add_argument("--concurrency", type=int, default=0, help="agent --concurrency (0: its default)")
    ap.add_argument("--create", choices=("burst", "kubectl"), default="kubectl",
                    help="burst: 8 client threads as fast as the API server takes them; kubectl: one "
                         "`kubectl apply --server-side -f` of all the Syncs, as a user would")
    args = ap.parse_args()
    interval_s = float(args.interval.rstrip("s"))
    agent_bin = os.environ.get("SIGIL_AGENT_BIN")
    if not agent_bin:
        cmd = ["cargo", "build", "--release", "-q", "-p", "sigil-agent", "--bin", "sigil-agent"]
        if args.dhat:
            cmd += ["--features", "heap-profile"]
        subprocess.run(cmd, cwd=REPO, check=True)
        meta = json.loads(subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=REPO,
                                         check=True, capture_output=True).stdout)
        agent_bin = os.path.join(meta["target_directory"], "release", "sigil-agent")

    with tempfile.TemporaryDirectory(prefix="sigil-scale-") as work:
        state = None
        kubeconfig = os.environ.get("SIGIL_TEST_KUBECONFIG")
        if not kubeconfig:
            state = os.path.join(work, "kube")
            subprocess.run([os.path.join(SHARED_KUBE, "start.sh"), state], check=True, stdout=subprocess.DEVNULL)
            kubeconfig = os.path.join(state, "kubeconfig")
        agents = []
        try:
            run(args, interval_s, agent_bin, work, kubeconfig, agents)
        finally:
            for p, _, _ in agents:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=120)
                    except subprocess.TimeoutExpired:
                        p.kill()
            if state:
                subprocess.run([os.path.join(SHARED_KUBE, "stop.sh"), state], check=False)


def run(args, interval_s, agent_bin, work, kubeconfig, agents):
    api = Api(kubeconfig, work)
    n = args.syncs
    repo = os.path.join(work, "repo")
    os.makedirs(os.path.join(repo, "app"))
    for name, text in APP.items():
        with open(os.path.join(repo, "app", name), "w") as f:
            f.write(text)
    env = dict(os.environ, GIT_AUTHOR_NAME="b", GIT_AUTHOR_EMAIL="b@x", GIT_COMMITTER_NAME="b", GIT_COMMITTER_EMAIL="b@x")
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "app"]):
        subprocess.run(["git", *cmd], cwd=repo, check=True, env=env)

    crds = subprocess.run([agent_bin, "crds"], check=True, capture_output=True, text=True).stdout
    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-"], input=crds, text=True,
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["kubectl", "--kubeconfig", kubeconfig, "wait", "--for=condition=Established", "crd/syncs.sigil.dev",
                    "crd/gitsources.sigil.dev"], check=True, stdout=subprocess.DEVNULL)
    pool = concurrent.futures.ThreadPoolExecutor(8)
    for ns in ("sigil-system", "bench"):
        api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    t = time.time()
    list(pool.map(lambda i: api.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                                     "metadata": {"name": f"bench-{i}"}}), range(n)))
    # What a new namespace brings (its default ServiceAccount, kube-root-ca.crt) settles first:
    # that work is the namespaces', not the Syncs'.
    for _ in range(300):
        _, sas = api.call("GET", "/api/v1/serviceaccounts?fieldSelector=metadata.name%3Ddefault")
        _, cms = api.call("GET", "/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt")
        if len(sas.get("items", [])) >= n and len(cms.get("items", [])) >= n:
            break
        time.sleep(max(2.0, n / 2000))
    print(f"# {n} namespaces created and settled in {time.time() - t:.1f}s", file=sys.stderr, flush=True)
    shards = ["a", "b"][: args.shards]
    for shard in shards:
        api.call("POST", "/apis/sigil.dev/v1alpha1/namespaces/bench/gitsources",
                 {"apiVersion": "sigil.dev/v1alpha1", "kind": "GitSource",
                  "metadata": {"name": f"repo-{shard}", "labels": {"shard": shard}},
                  "spec": {"url": f"file://{repo}", "ref": {"branch": "main"}, "interval": "60m"}})
    for shard in shards:
        port = free_port()
        cmd = [agent_bin, "run", "--kubeconfig", kubeconfig, "--namespace", "sigil-system",
               "--http-addr", f"127.0.0.1:{port}", "--key-bits", "2048", "--allow-local-sources",
               "--git-cache-dir", os.path.join(work, f"cache-{shard}")]
        if args.shards > 1:
            cmd += ["--watch-label-selector", f"shard={shard}"]
        if args.concurrency:
            cmd += ["--concurrency", str(args.concurrency)]
        log = open(os.path.join(work, f"agent-{shard}.log"), "w")
        aenv = dict(os.environ, SIGIL_LOG="warn", SIGIL_DHAT_FILE=os.path.join(work, f"dhat-{shard}.json"))
        agents.append((subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, env=aenv), port, shard))
    for _, port, _ in agents:
        for _ in range(200):
            try:
                metrics(port)
                break
            except OSError:
                time.sleep(0.1)

    created = {}
    ready = {}
    stop = threading.Event()

    def watch_ready():
        while not stop.is_set():
            try:
                _, lst = api.call("GET", "/apis/sigil.dev/v1alpha1/syncs")
            except Exception:  # noqa: BLE001 (keep polling)
                time.sleep(0.25)
                continue
            now = time.time()
            for s in lst.get("items", []):
                key = s["metadata"]["namespace"]
                if key in ready:
                    continue
                for c in (s.get("status") or {}).get("conditions", []):
                    if c["type"] == "Ready" and c["status"] == "True":
                        ready[key] = now
            time.sleep(0.25)

    watcher = threading.Thread(target=watch_ready, daemon=True)
    watcher.start()

    def sync(i):
        shard = shards[i % len(shards)]
        return {"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync",
                "metadata": {"name": "app", "namespace": f"bench-{i}", "labels": {"shard": shard}},
                "spec": {"sourceRef": {"name": f"repo-{shard}", "namespace": "bench"}, "path": "./app",
                         "interval": args.interval, "prune": True}}

    def create(i):
        api.call("POST", f"/apis/sigil.dev/v1alpha1/namespaces/bench-{i}/syncs", sync(i))
        created[f"bench-{i}"] = time.time()

    t0 = time.time()
    cpu_start = cpu_by_program()
    requests_start = apiserver_requests(api)
    if args.create == "burst":
        list(pool.map(create, range(n)))
    else:
        # kubectl prints a line per object as the API server takes it: that is its creation time.
        stream = "".join("---\n" + json.dumps(sync(i)) + "\n" for i in range(n))
        k = subprocess.Popen(["kubectl", "--kubeconfig", kubeconfig, "apply", "--server-side", "-f", "-"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        k.stdin.write(stream)
        k.stdin.close()
        for i, _line in enumerate(k.stdout):
            created[f"bench-{i}"] = time.time()
        k.wait()
    last_created = max(created.values())
    deadline = time.time() + max(600, n * 0.5)
    while len(ready) < n and time.time() < deadline:
        time.sleep(0.5)
    all_ready = len(ready) == n
    last_ready = max(ready.values()) if ready else None
    latencies = [ready[k] - created[k] for k in ready if k in created]
    peak = {shard: proc(p.pid)[1] for p, _, shard in agents}
    cpu_end = cpu_by_program()
    cpu_used = {k: round(cpu_end[k] - cpu_start[k], 1) for k in cpu_end}
    agg = {"sum": 0.0, "count": 0.0}
    for _, port, _ in agents:
        m = metrics(port)
        agg["sum"] += m.get("duration_sum", 0)
        agg["count"] += m.get("duration_count", 0)
    result = {
        "syncs": n, "objects": 4 * n, "agents": len(agents), "created_by": args.create, "all_ready": all_ready,
        "create_s": round(last_created - t0, 2),
        "last_ready_after_last_created_s": round(last_ready - last_created, 2) if last_ready else None,
        "ready_p50_s": round(percentile(latencies, 50), 2) if latencies else None,
        "ready_p99_s": round(percentile(latencies, 99), 2) if latencies else None,
        "ready_max_s": round(max(latencies), 2) if latencies else None,
    }
    result["cpu_s_during_create"] = cpu_used
    requests_end = apiserver_requests(api)
    served = {k: int(v - requests_start.get(k, 0)) for k, v in requests_end.items() if v - requests_start.get(k, 0) >= n / 10}
    result["apiserver_requests_during_create"] = dict(sorted(served.items(), key=lambda kv: -kv[1]))
    if agg["count"]:
        result["reconcile_mean_s"] = round(agg["sum"] / agg["count"], 3)
    print(json.dumps({"phase": "create", **result, "rss_mib": peak}), flush=True)

    # Settle (the Deployment controller updates each Deployment's status a few times after
    # creation; the agent looks at each such change once): until a whole interval passes with no
    # apply, or five minutes. Then a no-op window of two intervals.
    settle_deadline = time.time() + 300
    while time.time() < settle_deadline:
        a0 = sum(metrics(port)["requests"].get("apply", 0) for _, port, _ in agents)
        time.sleep(interval_s * 1.2)
        if sum(metrics(port)["requests"].get("apply", 0) for _, port, _ in agents) == a0:
            break
    before = {shard: (proc(p.pid)[0], metrics(port)) for p, port, shard in agents}
    window = interval_s * 2
    time.sleep(window)
    noop = {}
    for p, port, shard in agents:
        cpu0, m0 = before[shard]
        cpu1, m1 = proc(p.pid)[0], metrics(port)
        reconciles = m1["reconciles"] - m0["reconciles"]
        requests = {v: m1["requests"].get(v, 0) - m0["requests"].get(v, 0) for v in m1["requests"]}
        noop[shard] = {
            "reconciles": reconciles,
            "cpu_ms_per_reconcile": round((cpu1 - cpu0) * 1000 / reconciles, 3) if reconciles else None,
            "requests": {k: v for k, v in requests.items() if v},
            "rss_mib": proc(p.pid)[1],
        }
    print(json.dumps({"phase": "no-op", "window_s": window, "agents": noop}), flush=True)
    stop.set()
    if args.dhat:
        for p, _, shard in agents:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=300)
            path = os.path.join(work, f"dhat-{shard}.json")
            if os.path.exists(path):
                print(json.dumps({"phase": "heap", "agent": shard, **dhat_summary(path)}), flush=True)


if __name__ == "__main__":
    main()
