#!/usr/bin/env bash
# Builds the Linux bundle (reusing packaging/build/cache when nothing changed), then runs the
# smoke test on it: offline start, doctor, self-test, verify, byte-flip detection, and the
# headless proxy answering a demo request. `--part core` skips the proxy part.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BRIDGE_VENV:-$(pwd)/.venv}
bash packaging/build_linux.sh
exec "$VENV/bin/python" packaging/smoke_test.py --bundle packaging/dist/litellm-bridge "$@"
