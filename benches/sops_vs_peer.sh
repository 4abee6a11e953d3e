#!/usr/bin/env bash
# benches/sops_vs_peer.sh — sealer against the real sops on one YAML file with 10,000 leaves.
#
# Whole-process wall time, both tools run interleaved in one session so machine noise hits
# both alike: `sops -d` vs `sealer decrypt`, and `sops -e --age` vs `sealer encrypt --age`.
# Prints medians and ratios against the goals (decrypt >= 5x, encrypt >= 3x); it reports,
# it does not fail on timings. It does fail if the outputs disagree: both decryptions must be
# byte-identical, and sops must decrypt what sealer encrypted.
#
# Usage: benches/sops_vs_peer.sh [RUNS]   (RUNS per command, default 10; needs .peers/ from
# tools/peers/setup.sh, cargo and python3). Timing is done in Python with
# time.perf_counter: hyperfine cannot interleave two commands run for run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-10}"
cd "$REPO"
# shellcheck source=/dev/null
source .peers/env.sh
command -v sops >/dev/null && command -v age-keygen >/dev/null || {
  echo "sops or age-keygen missing: run tools/peers/setup.sh first" >&2
  exit 2
}

cargo build --release -p sealer
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
SEALER="$TARGET_DIR/release/sealer"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/sigil-bench.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"

# Only this key: no default keys.txt of the user, no .sops.yaml from a parent directory.
export XDG_CONFIG_HOME="$WORK/config" SOPS_AGE_KEY_FILE="$WORK/key.txt"
age-keygen -o key.txt 2>/dev/null
RECIPIENT="$(age-keygen -y key.txt)"

# The same document as crypto/benches/sops.rs: 100 maps x 100 leaves, mostly strings,
# every 10th an int, every 25th a bool.
python3 - <<'EOF'
with open("plain.yaml", "w") as f:
    for m in range(100):
        f.write(f"group_{m:03}:\n")
        for k in range(100):
            if k % 25 == 0:
                v = "true" if (m + k) % 2 == 0 else "false"
            elif k % 10 == 0:
                v = str(m * 1000 + k)
            else:
                v = f"value-{m}-{k}-abcdefghijklmnop"
            f.write(f"    key_{k:03}: {v}\n")
EOF

sops -e --age "$RECIPIENT" plain.yaml >sops.enc.yaml
"$SEALER" encrypt --age "$RECIPIENT" plain.yaml >sealer.enc.yaml

sops -d sops.enc.yaml >sops.dec.yaml
"$SEALER" decrypt sops.enc.yaml >sealer.dec.yaml
cmp sops.dec.yaml sealer.dec.yaml || { echo "FAIL: decrypt outputs differ" >&2; exit 1; }
sops -d sealer.enc.yaml >sops-of-sealer.dec.yaml
cmp sops.dec.yaml sops-of-sealer.dec.yaml || {
  echo "FAIL: sops does not decrypt sealer's output to the same text" >&2
  exit 1
}
leaves="$(grep -c '^    key_' sops.dec.yaml)"
echo "checks ok: $leaves leaves; decrypt outputs byte-identical; sops decrypts sealer's file"
echo "$(sops --version 2>/dev/null | head -n 1); $(nproc) CPUs; $RUNS runs each, interleaved"

SEALER="$SEALER" RECIPIENT="$RECIPIENT" RUNS="$RUNS" python3 - <<'EOF'
import os, statistics, subprocess, time

sealer, recipient, runs = os.environ["SEALER"], os.environ["RECIPIENT"], int(os.environ["RUNS"])
pairs = [
    ("decrypt", ["sops", "-d", "sops.enc.yaml"], [sealer, "decrypt", "sops.enc.yaml"], 5.0),
    ("encrypt", ["sops", "-e", "--age", recipient, "plain.yaml"],
                [sealer, "encrypt", "--age", recipient, "plain.yaml"], 3.0),
]

def once(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0

times = {(name, tool): [] for name, *_ in pairs for tool in ("sops", "sealer")}
for name, peer, ours, _ in pairs:  # one untimed warm-up run of each (page cache, binaries)
    once(peer), once(ours)
for i in range(runs):
    for name, peer, ours, _ in pairs:
        # Alternate which tool goes first, so neither always follows the other.
        order = [("sops", peer), ("sealer", ours)]
        for tool, cmd in order if i % 2 == 0 else reversed(order):
            times[(name, tool)].append(once(cmd))

ms = lambda s: f"{s * 1000:9.1f}"
print(f"\n{'':8} {'sops ms':>9} {'sealer ms':>9} {'ratio':>7} {'goal':>6}  (medians; min sops/sealer ms)")
for name, _, _, goal in pairs:
    p, o = times[(name, "sops")], times[(name, "sealer")]
    ratio = statistics.median(p) / statistics.median(o)
    verdict = "met" if ratio >= goal else "MISSED"
    print(f"{name:8} {ms(statistics.median(p))} {ms(statistics.median(o))} {ratio:6.1f}x "
          f"{goal:4.0f}x {verdict}  ({ms(min(p)).strip()}/{ms(min(o)).strip()})")
EOF
