#!/usr/bin/env bash
# Everything, on a fresh Debian machine with only the npm registry and Debian apt reachable:
# install (idempotent), build, package, the CLI from the unpacked .vsix, extension-host tests, UI tests, the
# editor replay, the hostile-workspace run, every venue through the UI, Debug Order, the desk details (with the
# click-to-result figures). Prints the total time.
# Every suite runs even if an earlier one fails; the exit code is non-zero if any failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$(date +%s)
elapsed() { echo "$(( $(date +%s) - start ))s"; }

scripts/e2e/setup.sh
npm run --silent build
npm run --silent package >/dev/null
echo "[e2e] build + package done at $(elapsed)"

rc=0
t=$(date +%s); node test/e2e/cliFromVsix.mjs || rc=1
echo "[e2e] CLI from the .vsix: $(( $(date +%s) - t ))s"
t=$(date +%s); node scripts/e2e/run-extension-tests.mjs || rc=1
echo "[e2e] extension-host run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/ui.mjs || rc=1
echo "[e2e] UI run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/replay.mjs || rc=1
echo "[e2e] replay run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/hostileWorkspace.mjs || rc=1
echo "[e2e] hostile-workspace run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/venues.mjs || rc=1
echo "[e2e] venues run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/compare.mjs || rc=1
echo "[e2e] compare run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/desk.mjs || rc=1
echo "[e2e] desk run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/debug.mjs || rc=1
echo "[e2e] debug run: $(( $(date +%s) - t ))s"
t=$(date +%s); node test/e2e/deskDetails.mjs || rc=1
echo "[e2e] desk details run: $(( $(date +%s) - t ))s"
echo "[e2e] total $(elapsed), $([ $rc -eq 0 ] && echo OK || echo FAILED)"
exit $rc
