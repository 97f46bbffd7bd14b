#!/usr/bin/env bash
# The Windows leg of the test command: the tests marked `windows` (those that touch a Windows
# branch of the app) run by the Windows CPython of the release bundle, with the real Windows
# wheels, under Wine. The smoke of the real thing (serve with restarts, the window, the
# PyInstaller build) is tests/windows/, which the Linux run drives through scripts/windows.sh.
#
#   bash scripts/windows/test.sh            # the `windows` tests (part of scripts/test.sh)
#   bash scripts/windows/test.sh --all      # every unit and integration test: before a release
#   bash scripts/windows/test.sh -k watchdog   # extra arguments go to pytest
#
# Needs a display for the tests that open a window: scripts/test.sh runs it under Xvfb.
set -euo pipefail
cd "$(dirname "$0")/../.."
selection=(-m "windows and not gui and not e2e")
if [ "${1:-}" = "--all" ]; then
  shift
  selection=(-m "not gui and not e2e")
fi
bash scripts/windows.sh --setup
echo "==> pytest under Wine (Windows CPython 3.11): ${selection[*]} $*"
# Two workers, each file on one worker (as on Linux); pytest's cache would write into the
# checkout through Wine: off.
exec bash scripts/windows.sh --python -m pytest -p no:cacheprovider -n 2 --dist loadfile \
  -rs --durations=15 "${selection[@]}" tests/unit tests/integration "$@"
