#!/usr/bin/env bash
# Sets everything up, then starts LiteLLM Bridge: the window where there is a display,
# the headless proxy (`litellm-bridge serve`) where there is none. Extra arguments go to
# the app, e.g. `bash scripts/run.sh --kiosk`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=${BRIDGE_VENV:-$(pwd)/.venv}
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec "$VENV/bin/litellm-bridge" "$@"
fi
echo "No display found: starting the headless proxy (litellm-bridge serve)."
exec "$VENV/bin/litellm-bridge" serve "$@"
