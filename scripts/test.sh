#!/usr/bin/env bash
# Sets everything up (including the npm CLI tools for the end-to-end tests), then runs the
# whole suite: ruff, mypy --strict (as Linux and as Windows see the code), and pytest with
# every marker (unit, integration, gui under Xvfb, e2e, slow). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --e2e
VENV=${BRIDGE_VENV:-$(pwd)/.venv}
export PATH="$VENV/bin:$PATH"
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy --strict bridge_app"
mypy
# These machines are Linux; the Windows code paths (sys.platform == "win32" branches, ctypes
# calls into kernel32/crypt32) are type-checked as Windows sees them. The dependency set is
# resolved for Windows by tests/packaging/test_windows_dependencies.py (marker slow).
echo "==> mypy --strict --platform win32 bridge_app"
mypy --platform win32
echo "==> import-linter (layering contracts in pyproject.toml)"
lint-imports
echo "==> pytest (all markers)"
export BRIDGE_TEST_ARTIFACTS=${BRIDGE_TEST_ARTIFACTS:-$(pwd)/test-artifacts}
run() {
  if [ -n "${DISPLAY:-}" ]; then "$@"; else xvfb-run -a -s "-screen 0 1920x1080x24" "$@"; fi
}
if [ "$#" -gt 0 ]; then
  run python -m pytest "$@"
  exit
fi
# Everything but the window on two workers, each file on one worker (module fixtures such
# as a running serve stay whole); then the GUI tests in one process with one window.
run python -m pytest -n 2 --dist loadfile -m "not gui" --durations=25
run python -m pytest -m gui --durations=10
