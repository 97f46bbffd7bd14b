#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine (or refreshes an existing set-up) for LiteLLM Bridge:
# system packages, a virtual environment in .venv, the app with its pinned dependencies, and,
# with --e2e, the real CLI tools (Claude Code, Gemini CLI, Codex CLI, OpenCode) from npm.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${BRIDGE_VENV:-$ROOT/.venv}
WITH_E2E=0
for arg in "$@"; do
  case "$arg" in
    --e2e) WITH_E2E=1 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }

# --- system packages (Debian's) -------------------------------------------------------
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  pkgs=(python3 python3-venv python3-dev build-essential pkg-config libcairo2-dev
        xvfb xauth libgl1 libegl1 libmtdev1 xclip redis-server xdotool matchbox-window-manager
        trayer docker-compose  # docker-compose: `config` checks the team export, no daemon
        libkrb5-dev)  # builds python-gssapi: Kerberos for the Negotiate proxy sign-in
  if [ "$WITH_E2E" = 1 ]; then
    # What only the tests use: the npm CLI tools, and OCR to read the Windows build's
    # window from a screenshot (tests/windows/).
    if ! command -v npm >/dev/null 2>&1; then pkgs+=(nodejs npm); fi
    pkgs+=(tesseract-ocr tesseract-ocr-eng openssl ca-certificates)  # openssl: hashes a test trust folder
    pkgs+=(squid)  # a real authenticating proxy (tests/integration/_squid.py)
    pkgs+=(chromium chromium-driver)  # the browser of the sign-in tests (tests/integration/_oidc.py)
    pkgs+=(krb5-kdc krb5-admin-server krb5-user)  # a real Kerberos realm (tests/integration/_kerberos.py)
    pkgs+=(iproute2)  # a private network namespace for the WPAD test (tests/integration/test_wpad.py)
    pkgs+=(rsyslog)  # a real syslog collector (tests/integration/test_audit_forward.py)
    pkgs+=(wixl msitools osslsigncode)  # the MSI and its Authenticode signature (packaging/build_msi.py)
  fi
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    say "Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
else
  say "No apt-get here: install Python 3.11+, Cairo headers and pkg-config yourself."
fi

# --- Python -----------------------------------------------------------------------------
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.12 python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1 &&
       "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      PY=$cand; break
    fi
  done
fi
[ -n "$PY" ] || { echo "setup.sh: Python 3.11 or newer is required" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  say "Creating the virtual environment $VENV with $($PY --version)"
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
say "Installing LiteLLM Bridge and its pinned dependencies"
# constraints.txt pins every transitive package to the versions CI tested.
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev,kerberos]"

# --- CLI tools for the end-to-end tests ------------------------------------------------------
if [ "$WITH_E2E" = 1 ]; then
  if [ -f tests/e2e/package.json ]; then
    say "Installing the CLI tools for the end-to-end tests (npm)"
    # package-lock.json names OpenCode's binaries for other platforms by version only: the
    # registry this project's CI reaches serves its linux-x64 ones alone, and npm ci
    # fetches only the current platform's.
    (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
say "Set-up complete: $VENV"
