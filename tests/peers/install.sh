#!/usr/bin/env bash
# Installs the real peer servers used by the interop tests, under target/peers (kept out of the
# tree): Python `websockets` in a venv and Node `ws`. Also tmux for the end-to-end TUI test.
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
peers=target/peers
mkdir -p "$peers"

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then need_apt+=(python3-venv); fi
if [ ${#need_apt[@]} -gt 0 ]; then
  # apt-get needs root: use sudo when we are not root (and say so when there is no sudo).
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "tests/peers/install.sh: need root or sudo to install: ${need_apt[*]}" >&2
      exit 1
    fi
  fi
  echo "installing with apt: ${need_apt[*]}"
  ${sudo[@]+"${sudo[@]}"} apt-get update -qq
  ${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$peers/venv/bin/python" ] || ! "$peers/venv/bin/python" -c 'import websockets' 2>/dev/null; then
  # --clear: a venv left broken (interrupted install, Python upgraded) is rebuilt from scratch.
  python3 -m venv --clear "$peers/venv"
  "$peers/venv/bin/python" -m pip install -q --disable-pip-version-check 'websockets>=13,<16'
fi
if [ ! -d "$peers/node/node_modules/ws" ]; then
  mkdir -p "$peers/node"
  (cd "$peers/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund 'ws@8')
fi
echo "peers ready: $("$peers/venv/bin/python" -c 'import websockets; print("websockets", websockets.__version__)'), ws $(node -p "require('./$peers/node/node_modules/ws/package.json').version")"
