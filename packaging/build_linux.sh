#!/usr/bin/env bash
# Builds the Linux one-folder bundle (packaging/dist/litellm-bridge), signs its manifest and,
# with --archive, packs litellm-bridge-<version>-linux-<arch>.tar.gz beside it.
# Extra arguments go to packaging/build.py (--key FILE, --release, --archive, --no-cache).
# The signing key comes from --key, $BRIDGE_SIGNING_KEY or $BRIDGE_SIGNING_KEY_FILE; without
# one a development key under packaging/build/ is used (never for a release).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BRIDGE_VENV:-$(pwd)/.venv}
if [ ! -x "$VENV/bin/python" ]; then
  bash scripts/setup.sh
fi
if ! "$VENV/bin/python" -c "import PyInstaller" 2>/dev/null; then
  "$VENV/bin/python" -m pip install -q -c constraints.txt "pyinstaller>=6.10"
fi
exec "$VENV/bin/python" packaging/build.py "$@"
