#!/bin/sh
# Installs the cross check's npm dependencies into DEST_DIR (the build directory) with `npm ci`,
# unless DEST_DIR/node_modules was already installed from the same package-lock.json.
#
#   npm_ci.sh SOURCE_DIR DEST_DIR
set -eu
src=$1
dest=$2
if [ -f "$dest/node_modules/.package-lock.json" ] &&
    cmp -s "$src/package-lock.json" "$dest/package-lock.json"; then
  echo "npm_ci.sh: $dest/node_modules is up to date"
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm_ci.sh: npm not found (apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
# No install scripts: none of these packages needs one (protobufjs' only checks its CLI).
exec npm ci --ignore-scripts --no-audit --no-fund
