#!/usr/bin/env bash
# Builds the web UI (webapp/dist) and installs it into src/Shortener.Node/WebApp, which every node serves at /app.
#   webapp/build.sh            install deps if needed, build, copy to src/Shortener.Node/WebApp/ (committed; served at /app)
#   COPY=0 webapp/build.sh     same, but leave src/ untouched (only webapp/dist is produced)
set -euo pipefail

cd "$(dirname "$0")"
WEBAPP_DIR="$(pwd)"
TARGET="$WEBAPP_DIR/../src/Shortener.Node/WebApp"
STAMP="node_modules/.package-lock.sha256"

# npm ci only when node_modules is missing or package-lock.json changed since the last install.
LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -d node_modules || ! -f "$STAMP" || "$(cat "$STAMP")" != "$LOCK_HASH" ]]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
  echo "$LOCK_HASH" > "$STAMP"
else
  echo "==> node_modules up to date (package-lock.json unchanged), skipping npm ci"
fi

echo "==> npm run build"
npm run build

if [[ "${COPY:-1}" == "0" ]]; then
  echo "==> COPY=0: not copying dist/ to $TARGET"
else
  echo "==> copying dist/ to $TARGET"
  rm -rf "$TARGET"
  mkdir -p "$TARGET"
  cp -R dist/. "$TARGET/"
fi

echo "==> dist/ total size: $(du -sh dist | cut -f1) ($(du -sb dist | cut -f1) bytes, $(find dist -type f | wc -l) files)"
