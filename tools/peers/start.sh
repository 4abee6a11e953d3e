#!/usr/bin/env bash
# tools/peers/start.sh — start/stop the loopback peer servers installed by setup.sh.
#
# Usage: tools/peers/start.sh [start|stop|status]      (default: start)
#
# Servers (127.0.0.1 only):
#   moto  AWS KMS emulator via `moto-fixed-kms` (fixed key id + material, so stored
#         KMS-encrypted vectors decrypt across restarts)
#   bao   OpenBao dev server (Vault API, in memory), root token $BAO_ROOT_TOKEN;
#         transit engine with key $BAO_TRANSIT_KEY; kubernetes + approle auth enabled
# Ports are free ones picked at start (so parallel runs and busy machines don't clash)
# unless MOTO_PORT / BAO_PORT are set. A peer already running is reused with its port.
# After `start`, `source "$PEERS_RUN_DIR/peers.env"` gives the tests AWS_ENDPOINT_URL,
# AWS creds (test/test), AWS_REGION, PEERS_KMS_ARN, VAULT_ADDR, VAULT_TOKEN,
# PEERS_TRANSIT_URL, ...
# Env:
#   PEERS_PREFIX    install prefix of setup.sh   (default <repo>/.peers)
#   PEERS_RUN_DIR   pid/port/log/env files       (default $PEERS_PREFIX/run)
#   MOTO_PORT, BAO_PORT, BAO_ROOT_TOKEN=root, BAO_TRANSIT_KEY=sops-key
# Exit status: 0 ok; 1 a peer failed to start; status: 3 when not all peers run.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PEERS_PREFIX="${PEERS_PREFIX:-$REPO/.peers}"
PEERS_RUN_DIR="${PEERS_RUN_DIR:-$PEERS_PREFIX/run}"
BAO_ROOT_TOKEN="${BAO_ROOT_TOKEN:-root}"
BAO_TRANSIT_KEY="${BAO_TRANSIT_KEY:-sops-key}"
AWS_REGION_PEER="us-east-1"   # moto-fixed-kms default region; the key lives there
BIN="$PEERS_PREFIX/bin"
PEERS=(moto bao)

plog() { printf '[peers] %s\n' "$*" >&2; }

# free_port [SPAN]: a loopback port P with P..P+SPAN-1 all free (bao's dev server also
# binds its cluster listener on P+1). The kernel picks P via bind(0). There is a small window
# before the server binds it; a clash then fails loudly and start.sh reports it.
free_port() {
  python3 - "${1:-1}" <<'PY'
import socket, sys
span = int(sys.argv[1])
for _ in range(50):
    socks = [socket.socket()]
    socks[0].bind(("127.0.0.1", 0))
    port = socks[0].getsockname()[1]
    try:
        for extra in range(1, span):
            s = socket.socket()
            socks.append(s)
            s.bind(("127.0.0.1", port + extra))
    except OSError:
        continue
    finally:
        for s in socks:
            s.close()
    print(port)
    break
else:
    sys.exit("no free loopback port range found")
PY
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

alive() {
  local pidf="$PEERS_RUN_DIR/$1.pid"
  [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null
}

# wait_until SECONDS CMD...: poll every 0.1 s until CMD succeeds.
wait_until() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.1
  done
}

# pick_port NAME ENVVAR [SPAN]: the running peer's port, else $ENVVAR, else a free port.
pick_port() {
  local name=$1 want=${!2:-}
  if alive "$name" && [ -f "$PEERS_RUN_DIR/$name.port" ]; then cat "$PEERS_RUN_DIR/$name.port"
  elif [ -n "$want" ]; then echo "$want"
  else free_port "${3:-1}"
  fi
}

# spawn NAME PORT CMD...: start CMD detached from our stdio (so callers capturing output
# don't hang), record its pid and port. A peer that is already running is left alone.
spawn() {
  local name=$1 port=$2; shift 2
  if alive "$name"; then
    plog "$name already running (pid $(cat "$PEERS_RUN_DIR/$name.pid"), port $port)"; return 0
  fi
  if port_busy "$port"; then
    plog "ERROR: 127.0.0.1:$port is in use by something else; set another ${name^^}_PORT"; return 1
  fi
  nohup "$@" >"$PEERS_RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$PEERS_RUN_DIR/$name.pid"
  echo "$port" >"$PEERS_RUN_DIR/$name.port"
  plog "$name started (pid $!, 127.0.0.1:$port)"
}

# fail NAME: show why NAME didn't come up, stop everything, exit 1.
fail() {
  plog "ERROR: $1 did not become ready"
  if [ -s "$PEERS_RUN_DIR/$1.log" ]; then
    plog "last lines of $PEERS_RUN_DIR/$1.log:"
    tail -n 20 "$PEERS_RUN_DIR/$1.log" >&2
  fi
  peers_stop
  exit 1
}

peers_start() {
  local t0 moto_port bao_port arn
  t0=$(date +%s%N)
  if [ ! -x "$BIN/bao" ] || [ ! -x "$BIN/moto-fixed-kms" ]; then
    plog "ERROR: peers not installed in $PEERS_PREFIX — run tools/peers/setup.sh first"; exit 1
  fi
  mkdir -p "$PEERS_RUN_DIR"

  # --- moto (KMS): ready once the launcher has printed its key's ARN.
  moto_port="$(pick_port moto MOTO_PORT)"
  spawn moto "$moto_port" "$BIN/moto-fixed-kms" --host 127.0.0.1 --port "$moto_port" \
    --region "$AWS_REGION_PEER" || fail moto
  wait_until 60 grep -q '"arn"' "$PEERS_RUN_DIR/moto.log" || fail moto

  # --- bao (Vault API), on BAO_PORT and BAO_PORT+1 (cluster listener).
  # -dev-no-store-token: don't write ~/.vault-token on the machine.
  bao_port="$(pick_port bao BAO_PORT 2)"   # +1: cluster listener
  spawn bao "$bao_port" "$BIN/bao" server -dev -dev-root-token-id="$BAO_ROOT_TOKEN" \
    -dev-listen-address="127.0.0.1:$bao_port" -dev-no-store-token -log-level=warn || fail bao
  wait_until 60 curl -sf "http://127.0.0.1:$bao_port/v1/sys/health" || fail bao

  # Engines are in memory: configure them once per server process (skip if a reused
  # server already has transit).
  local api="http://127.0.0.1:$bao_port/v1" hdr="X-Vault-Token: $BAO_ROOT_TOKEN"
  if ! curl -sf -H "$hdr" "$api/sys/mounts" | grep -q '"transit/"'; then
    { curl -sf -X POST -H "$hdr" "$api/sys/mounts/transit" -d '{"type":"transit"}' \
        && curl -sf -X POST -H "$hdr" "$api/transit/keys/$BAO_TRANSIT_KEY" -d '{}' \
        && curl -sf -X POST -H "$hdr" "$api/sys/auth/kubernetes" -d '{"type":"kubernetes"}' \
        && curl -sf -X POST -H "$hdr" "$api/sys/auth/approle" -d '{"type":"approle"}'
    } >/dev/null || fail bao
  fi

  arn="$(grep -o '"arn": "[^"]*"' "$PEERS_RUN_DIR/moto.log" | sed -n 1p | cut -d'"' -f4)"
  [ -n "$arn" ] || fail moto

  # Written to a temp file and renamed, so a reader never sees half an env file.
  # The unset line keeps a developer's real AWS session/profile out of the tests.
  cat >"$PEERS_RUN_DIR/peers.env.tmp" <<EOF
# Generated by tools/peers/start.sh; valid while the peers run (see start.sh status).
unset AWS_SESSION_TOKEN AWS_PROFILE
export PEERS_PREFIX=$PEERS_PREFIX
export MOTO_PORT=$moto_port
export BAO_PORT=$bao_port
export AWS_ENDPOINT_URL=http://127.0.0.1:$moto_port
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=$AWS_REGION_PEER
export AWS_DEFAULT_REGION=$AWS_REGION_PEER
export AWS_EC2_METADATA_DISABLED=true
export PEERS_KMS_ARN=$arn
export VAULT_ADDR=http://127.0.0.1:$bao_port
export VAULT_TOKEN=$BAO_ROOT_TOKEN
export BAO_ADDR=http://127.0.0.1:$bao_port
export BAO_TOKEN=$BAO_ROOT_TOKEN
export PEERS_TRANSIT_URL=http://127.0.0.1:$bao_port/v1/transit/keys/$BAO_TRANSIT_KEY
EOF
  mv -f "$PEERS_RUN_DIR/peers.env.tmp" "$PEERS_RUN_DIR/peers.env"
  plog "ready in $(( ($(date +%s%N) - t0) / 1000000 )) ms; source $PEERS_RUN_DIR/peers.env"
}

# Stop only the processes whose pids we recorded: TERM all, wait up to 10 s, then KILL.
peers_stop() {
  local name pid i n pids=() names=()
  for name in "${PEERS[@]}"; do
    local pidf="$PEERS_RUN_DIR/$name.pid"
    [ -f "$pidf" ] || continue
    pid="$(cat "$pidf")"
    rm -f "$pidf" "$PEERS_RUN_DIR/$name.port"
    if kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null; then
      pids+=("$pid"); names+=("$name")
    fi
  done
  for i in "${!pids[@]}"; do
    n=0
    while kill -0 "${pids[$i]}" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    if kill -0 "${pids[$i]}" 2>/dev/null; then
      kill -KILL "${pids[$i]}" 2>/dev/null || true
      plog "${names[$i]} (pid ${pids[$i]}) killed after 10 s"
    else
      plog "${names[$i]} (pid ${pids[$i]}) stopped"
    fi
  done
  rm -f "$PEERS_RUN_DIR/peers.env"
}

peers_status() {
  local name all=0
  for name in "${PEERS[@]}"; do
    if alive "$name"; then
      echo "$name: running (pid $(cat "$PEERS_RUN_DIR/$name.pid"), 127.0.0.1:$(cat "$PEERS_RUN_DIR/$name.port" 2>/dev/null || echo '?'))"
    else
      echo "$name: stopped"; all=3
    fi
  done
  return "$all"
}

case "${1:-start}" in
  start) peers_start ;;
  stop) peers_stop ;;
  status) peers_status ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac
