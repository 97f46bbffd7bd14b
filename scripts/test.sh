#!/usr/bin/env bash
# Sets everything up (including the npm CLI tools for the end-to-end tests and the Windows
# build under Wine), then runs the whole suite: ruff, mypy --strict (as Linux and as Windows
# see the code), and pytest with every marker (unit, integration, gui under Xvfb, e2e, slow,
# windows). Extra arguments go to pytest (Linux side only).
#
# The Windows leg: the tests marked `windows` also run with the Windows CPython of the
# release bundle and the real Windows wheels under Wine (scripts/windows/test.sh); the
# Windows program itself (serve, restarts, the window, the PyInstaller bundle built under
# Wine) is driven from Linux by tests/windows/. The bundle builds in the background while
# the Linux tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --e2e
VENV=${BRIDGE_VENV:-$(pwd)/.venv}
export PATH="$VENV/bin:$PATH"
echo "==> The Windows build under Wine (cached after the first run)"
bash scripts/windows.sh --setup
echo "==> ruff"
ruff check .
ruff format --check .
echo "==> mypy --strict bridge_app"
mypy
# These machines are Linux; the Windows code paths (sys.platform == "win32" branches, ctypes
# calls into kernel32/crypt32) are type-checked as Windows sees them, and run in the
# Windows leg below.
echo "==> mypy --strict --platform win32 bridge_app"
mypy --platform win32
echo "==> import-linter (layering contracts in pyproject.toml)"
lint-imports
echo "==> pytest (all markers)"
export BRIDGE_TEST_ARTIFACTS=${BRIDGE_TEST_ARTIFACTS:-$(pwd)/test-artifacts}
mkdir -p "$BRIDGE_TEST_ARTIFACTS"
# One virtual screen for the whole run: Wine binds its desktop to the display the first
# Windows program of a session saw, so every Windows program must see the same one.
if [ -z "${DISPLAY:-}" ]; then
  for number in $(seq 90 140); do [ -e "/tmp/.X11-unix/X$number" ] || break; done
  Xvfb ":$number" -screen 0 1920x1080x24 -nolisten tcp >/dev/null 2>&1 &
  xvfb=$!
  trap 'kill "$xvfb" 2>/dev/null || true' EXIT
  export DISPLAY=":$number"
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$number" ] && break; sleep 0.1; done
fi
# Every leg has a ceiling well inside CI's 90 minutes, so that a hang fails the run naming
# its leg instead of using up the whole budget (pytest's faulthandler_timeout already ends
# a single stuck test; this also covers what happens between tests).
bounded() {
  local minutes=$1 rc=0
  shift
  timeout --kill-after=30 "${minutes}m" "$@" || rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "==> stopped after $minutes minutes: $*" >&2
  fi
  return "$rc"
}
if [ "$#" -gt 0 ]; then
  python -m pytest "$@"
  exit
fi
# The Windows bundle (PyInstaller under Wine, ~10 min of one core) while the Linux tests
# run; tests/windows/test_wine_bundle.py then finds it in packaging/build.py's cache.
BUNDLE_LOG=$BRIDGE_TEST_ARTIFACTS/windows-bundle-build.log
BRIDGE_BUILD_DIR=$(pwd)/packaging/build-windows timeout --kill-after=30 40m \
  bash scripts/windows.sh --python \
  packaging/build.py --dist packaging/dist-windows/litellm-bridge >"$BUNDLE_LOG" 2>&1 &
bundle_build=$!
# Everything but the window on two workers, each file on one worker (module fixtures such
# as a running serve stay whole); then the GUI tests in one process with one window.
# A worker that dies (a crash in C, or faulthandler ending a test stuck past its timeout)
# leaves only "worker crashed" in pytest's report; its dying words went to stderr, far up
# the log. They are kept and repeated at the end, where a reader of the failure looks.
STDERR_LOG=$BRIDGE_TEST_ARTIFACTS/pytest-stderr.log
show_fatal_errors() {
  if grep -q -e "^Fatal Python error" -e "^Timeout (" "$STDERR_LOG" 2>/dev/null; then
    echo "==> What a dying test process printed ($STDERR_LOG):" >&2
    grep -A 60 -e "^Fatal Python error" -e "^Timeout (" "$STDERR_LOG" | head -150 >&2
  fi
  # A process the kernel killed for memory prints nothing itself.
  if dmesg 2>/dev/null | grep -qiE "out of memory|oom-kill|killed process"; then
    echo "==> The kernel killed processes for memory:" >&2
    dmesg 2>/dev/null | grep -iE "out of memory|oom-kill|killed process" | tail -5 >&2
  fi
  free -m >&2 2>/dev/null || true
}
bounded 30 python -m pytest -n 2 --dist loadfile -m "not gui" --durations=25 \
  --ignore=tests/windows/test_wine_bundle.py --ignore=tests/windows/test_wine_msi.py \
  --ignore=tests/windows/test_wine_update.py 2> >(tee "$STDERR_LOG" >&2) \
  || { rc=$?; show_fatal_errors; exit "$rc"; }
bounded 15 python -m pytest -m gui --durations=10 2> >(tee "$STDERR_LOG" >&2) \
  || { rc=$?; show_fatal_errors; exit "$rc"; }
echo "==> The Windows leg: the tests marked windows, by the Windows CPython under Wine"
bounded 20 bash scripts/windows/test.sh
echo "==> The Windows bundle built under Wine (log: $BUNDLE_LOG): run, installed, updated"
wait "$bundle_build" || { tail -40 "$BUNDLE_LOG"; echo "the Windows bundle did not build" >&2; exit 1; }
bounded 25 python -m pytest tests/windows/test_wine_bundle.py tests/windows/test_wine_msi.py \
  tests/windows/test_wine_update.py --durations=8
