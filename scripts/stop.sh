#!/usr/bin/env bash
# Stops the API and worker started by quickstart.sh (SIGTERM: they drain and exit).
set -euo pipefail
cd "$(dirname "$0")/.."
for name in api worker fake-anthropic; do
  pidfile=".cache/run/$name.pid"
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    echo "stopped $name ($pid)"
  fi
  rm -f "$pidfile"
done
