#!/usr/bin/env python3
"""benches/sealed_vs_peer.py — sealer against kubesealpy on 1,000 values and one RSA-4096 key.

Unseal: `sealer unseal` of one SealedSecret holding 1,000 values (whole process: start, key
and YAML parsing, 1,000 RSA-OAEP decryptions on one thread, output) against kubesealpy's
`crypto.decrypt` opening the same 1,000 values in this Python process (no start-up counted).
Seal: `sealer seal` of a Secret with those 1,000 values against `crypto.encrypt` of them.
Runs interleaved, alternating which tool goes first; prints medians, values/s and ratios. It
reports, it does not fail on timings. It does fail if the tools disagree: each must open the
other's ciphertexts to the same plaintexts.

Usage: .peers/bin/python benches/sealed_vs_peer.py [RUNS]   (default 3; needs .peers/ from
tools/peers/setup.sh, with kubesealpy, and cargo; honours CARGO_TARGET_DIR)
"""

import base64
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from kubesealpy import crypto

VALUES = 1000
BITS = 4096
NAMESPACE, NAME = "apps", "db-creds"
LABEL = f"{NAMESPACE}/{NAME}".encode()  # strict scope


def sealer_binary(repo):
    subprocess.run(["cargo", "build", "--release", "-p", "sealer"], cwd=repo, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=repo, check=True, capture_output=True, text=True,
    )
    return os.path.join(json.loads(meta.stdout)["target_directory"], "release", "sealer")


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True).stdout


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sealer = sealer_binary(repo)
    with tempfile.TemporaryDirectory(prefix="sigil-sealed-bench.") as work:
        bench(sealer, work, runs)


def bench(sealer, work, runs):
    key_file, cert_file = os.path.join(work, "tls.key"), os.path.join(work, "tls.crt")
    secret_file, sealed_file = os.path.join(work, "secret.json"), os.path.join(work, "sealed.json")

    run([sealer, "keygen", "--bits", str(BITS), "--out-dir", work])
    with open(key_file, "rb") as f:
        private = serialization.load_pem_private_key(f.read(), password=None)
    with open(cert_file, "rb") as f:
        public = x509.load_pem_x509_certificate(f.read()).public_key()

    values = {f"key-{i:04}": secrets.token_urlsafe(18).encode() for i in range(VALUES)}
    secret = {
        "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "data": {k: base64.b64encode(v).decode() for k, v in values.items()},
    }
    with open(secret_file, "w") as f:
        json.dump(secret, f)

    # Cross-checks: kubesealpy opens sealer's values; sealer unseals kubesealpy's.
    ours = json.loads(run([sealer, "seal", "--cert", cert_file, "-o", "json", secret_file]))
    with open(sealed_file, "w") as f:
        json.dump(ours, f)
    ours_blobs = {k: base64.b64decode(v) for k, v in ours["spec"]["encryptedData"].items()}
    assert len(ours_blobs) == VALUES
    for k, blob in list(ours_blobs.items())[:50]:
        assert crypto.decrypt(blob, private, LABEL) == values[k], f"kubesealpy cannot open {k}"
    peer_sealed = dict(ours, spec=dict(ours["spec"], encryptedData={
        k: base64.b64encode(crypto.encrypt(v, public, LABEL)).decode() for k, v in values.items()
    }))
    peer_file = os.path.join(work, "peer-sealed.json")
    with open(peer_file, "w") as f:
        json.dump(peer_sealed, f)
    opened = json.loads(run([sealer, "unseal", "--recovery-private-key", key_file, "-o", "json", peer_file]))
    assert {k: base64.b64decode(v) for k, v in opened["data"].items()} == values, "sealer disagrees"
    print(f"checks ok: {VALUES} values each way; RSA-{BITS}; {os.cpu_count()} CPUs; "
          f"{runs} runs each, interleaved")

    blobs = list(ours_blobs.values())
    pairs = [
        ("unseal",
         lambda: [crypto.decrypt(b, private, LABEL) for b in blobs],
         lambda: run([sealer, "unseal", "--recovery-private-key", key_file, "-o", "json", sealed_file])),
        ("seal",
         lambda: [crypto.encrypt(v, public, LABEL) for v in values.values()],
         lambda: run([sealer, "seal", "--cert", cert_file, "-o", "json", secret_file])),
    ]
    times = {(name, tool): [] for name, *_ in pairs for tool in ("kubesealpy", "sealer")}
    for i in range(runs):
        for name, peer, ours_fn in pairs:
            order = [("kubesealpy", peer), ("sealer", ours_fn)]
            for tool, fn in order if i % 2 == 0 else reversed(order):
                times[(name, tool)].append(timed(fn)[0])

    print(f"\n{'':7} {'kubesealpy s':>12} {'values/s':>9} {'sealer s':>9} {'values/s':>9} "
          f"{'sealer speed-up':>15}  (medians)")
    for name, *_ in pairs:
        p = statistics.median(times[(name, "kubesealpy")])
        o = statistics.median(times[(name, "sealer")])
        print(f"{name:7} {p:12.2f} {VALUES / p:9.0f} {o:9.2f} {VALUES / o:9.0f} {p / o:14.2f}x")


if __name__ == "__main__":
    main()
