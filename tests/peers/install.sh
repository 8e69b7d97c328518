#!/usr/bin/env bash
# Installs the real peer servers used by the interop tests, under target/peers (kept out of the
# tree): Python `websockets` in a venv, Node `ws`, and the npm graphql-ws and socket.io servers. Also tmux for the end-to-end TUI test,
# tinyproxy (HTTP CONNECT) and microsocks (SOCKS5) for tests/proxy.rs, and the prometheus server
# (the tests start their own instance on 127.0.0.1; a system service is never needed) with its
# promtool (the alert rules' unit tests), and headless Chromium for the report tests.
# Idempotent: a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
peers=target/peers
mkdir -p "$peers"

need_apt=()
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
command -v tinyproxy >/dev/null 2>&1 || need_apt+=(tinyproxy)
command -v microsocks >/dev/null 2>&1 || need_apt+=(microsocks)
# The prometheus package also ships promtool (tests/prometheus_rules.rs).
{ command -v prometheus && command -v promtool; } >/dev/null 2>&1 || need_apt+=(prometheus)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# Headless Chromium opens the HTML reports in tests/report_browser.rs (either binary will do).
if ! command -v chromium-headless-shell >/dev/null 2>&1 && ! command -v chromium >/dev/null 2>&1; then
  need_apt+=(chromium-headless-shell)
fi
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

# On a host running systemd, installing these packages starts their system services (prometheus
# on :9090, tinyproxy on :8888, and prometheus-node-exporter if recommends are on). The tests
# start their own instances on free loopback ports: stop and disable the ones just installed.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  as_root=(); [ "$(id -u)" -eq 0 ] || as_root=(sudo)
  for svc in prometheus prometheus-node-exporter tinyproxy; do
    if [[ " ${need_apt[*]} " == *" ${svc%-node-exporter} "* ]] && systemctl is-active --quiet "$svc" 2>/dev/null; then
      echo "stopping the $svc system service that the package started (tests run their own)"
      "${as_root[@]}" systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

if [ ! -x "$peers/venv/bin/python" ] || ! "$peers/venv/bin/python" -c 'import websockets' 2>/dev/null; then
  # --clear: a venv left broken (interrupted install, Python upgraded) is rebuilt from scratch.
  python3 -m venv --clear "$peers/venv"
  "$peers/venv/bin/python" -m pip install -q --disable-pip-version-check 'websockets>=13,<16'
fi
# hypercorn: a real RFC 8441 server (WebSockets over HTTP/2, h2c and TLS) for tests/h2.rs.
if [ ! -x "$peers/venv/bin/hypercorn" ]; then
  "$peers/venv/bin/python" -m pip install -q --disable-pip-version-check 'hypercorn==0.17.3'
fi
if [ ! -d "$peers/node/node_modules/ws" ]; then
  mkdir -p "$peers/node"
  (cd "$peers/node" && npm init -y >/dev/null && npm install --silent --no-audit --no-fund 'ws@8')
fi
# The real graphql-ws and Socket.IO servers of tests/protocols.rs (pinned: graphql-ws 6 wants
# graphql 15 or 16).
if [ ! -d "$peers/node/node_modules/graphql-ws" ] || [ ! -d "$peers/node/node_modules/graphql" ] \
  || [ ! -d "$peers/node/node_modules/socket.io" ]; then
  (cd "$peers/node" && npm install --silent --no-audit --no-fund 'graphql-ws@6.4.2' 'graphql@16.15.0' 'socket.io@4.8.4')
fi
echo "peers ready: $("$peers/venv/bin/python" -c 'import websockets; print("websockets", websockets.__version__)'), $("$peers/venv/bin/python" -c 'import importlib.metadata as m; print("hypercorn", m.version("hypercorn"))'), ws $(node -p "require('./$peers/node/node_modules/ws/package.json').version"), graphql-ws $(node -p "require('./$peers/node/node_modules/graphql-ws/package.json').version"), socket.io $(node -p "require('./$peers/node/node_modules/socket.io/package.json').version"), $(tinyproxy -v), microsocks, $(prometheus --version 2>&1 | head -1), $(promtool --version 2>&1 | head -1)"
