#!/usr/bin/env bash
# Runs the Windows build of LiteLLM Bridge on Linux, under Wine: `litellm-bridge ARGS...` with
# the official CPython 3.11 for Windows and the project's real Windows wheels, importing the
# app from this checkout. The first run builds the environment (scripts/windows/setup.sh,
# minutes); later runs start at once unless pyproject.toml, the constraints files or the
# recipe under scripts/windows/ changed.
#
#   scripts/windows.sh doctor
#   scripts/windows.sh serve --port 58123           # Ctrl+C, kill -INT or kill -TERM stop it
#   printf '%s\n' "$PW" "$PW" | scripts/windows.sh user create admin --admin --password-stdin
#   scripts/windows.sh --python -m pytest tests/unit -q -p no:cacheprovider
#   scripts/windows.sh --setup                      # build or refresh the environment only
#
#   --python ARGS...  runs the Windows python.exe itself with ARGS (tests, one-off checks)
#   --exe DIR ARGS... runs DIR/litellm-bridge.exe, a packaged Windows build (PyInstaller's
#                     one-folder bundle), with ARGS instead of the checkout
#   --gui-exe DIR ... the same with DIR/litellm-bridge-gui.exe (the windowed executable)
#   --desktop WxH ... (before the others) runs the program on a Wine virtual desktop of
#                     that size, a screen of its own inside the X display (the window at
#                     800x480, say, whatever the display's size)
#   --setup           runs scripts/windows/setup.sh and exits
#
# What the Windows program sees:
# - stdin: passed through when it is a pipe or a terminal, otherwise fed through a pipe
#   (Python under Wine dies at start when a standard stream is a regular file); stdout and
#   stderr: pipes, carriage returns removed. The exit status is the program's.
# - SIGINT and SIGTERM reach it as Ctrl+C (SIGINT): Windows programs know no SIGTERM, and
#   Wine would end the process on the spot. The program runs in its own session, so a Ctrl+C
#   in the terminal reaches it once, through this script.
# - A Windows environment: Wine's own (USERPROFILE, APPDATA, LOCALAPPDATA, TEMP, PATH...),
#   plus DISPLAY/XAUTHORITY (the window), BRIDGE_*, LITELLM_*, KIVY_*, KCFG_* and SDL_*
#   variables, and any listed in BRIDGE_WINE_PASSENV; not Linux's HOME, SHELL, USER, LANG,
#   PYTHON*... BRIDGE_HOME and other BRIDGE_*_FILE/_DIR/_HOME paths that are absolute Linux
#   paths are translated with `winepath -w`. PYTHONPATH is this checkout (Z:\...), so the app
#   and its kv/, assets/, configs/ come from here and are never copied.
# - WINEDEBUG defaults to -all; set it (e.g. WINEDEBUG=err+all) to see what Wine says.
set -euo pipefail
# Started in the background by another script (`scripts/windows.sh serve &`), bash inherits
# SIGINT ignored and cannot trap a signal ignored at entry: start again with it restored, so
# that `kill -INT` stops the program as Ctrl+C does.
if (( 0x$(awk '/^SigIgn:/ { print $2 }' /proc/$$/status 2>/dev/null || echo 0) & 2 )); then
  exec env --default-signal=INT bash "$0" "$@"
fi
[ -e "/proc/$$/fd/0" ] || exec </dev/null # a closed stdin reads as empty
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/windows/env.sh
source "$ROOT/scripts/windows/env.sh"

desktop=""
if [ "${1:-}" = "--desktop" ]; then
  [[ ${2:-} =~ ^[0-9]+x[0-9]+$ ]] || die "--desktop needs a size such as 800x480"
  desktop=$2
  shift 2
fi
mode=app exe=""
case "${1:-}" in
  --python) mode=python; shift ;;
  --exe | --gui-exe)
    [ -n "${2:-}" ] || die "$1 needs the folder of a packaged build"
    name=litellm-bridge.exe; [ "$1" = --gui-exe ] && name=litellm-bridge-gui.exe
    exe=$(cd "$2" && pwd)/$name
    [ -f "$exe" ] || die "no $name in $2"
    mode=exe; shift 2 ;;
  --setup) exec bash "$ROOT/scripts/windows/setup.sh" ;;
esac

# Fast check (no Wine started): the environment exists and was built from these inputs.
if [ ! -f "$PYEXE" ] || [ "$(cat "$STATE/ready" 2>/dev/null)" != "$(ready_hash)" ]; then
  bash "$ROOT/scripts/windows/setup.sh" >&2 || die "the Windows environment could not be set up (see above)"
fi

# --- the environment ----------------------------------------------------------------------
wine_unix_env
paths=("$ROOT") path_vars=()
for name in $(compgen -e); do
  case "$name" in
    BRIDGE_VENV | BRIDGE_CACHE | BRIDGE_WINE_PASSENV) continue ;; # this script's, not the app's
    BRIDGE_* | LITELLM_* | KIVY_* | KCFG_* | SDL_*) ;;
    *) [[ " ${BRIDGE_WINE_PASSENV:-} " == *" $name "* ]] || continue ;;
  esac
  value=${!name}
  if [[ $name == BRIDGE_* && $name =~ (HOME|_FILE|_DIR)$ && $value == /* ]]; then
    paths+=("$value") path_vars+=("$name")
  else
    WINE_ENV+=("$name=$value")
  fi
done
# One winepath for every path (each Wine start costs time).
mapfile -t win_paths < <(env -i "${WINE_ENV[@]}" winepath -w "${paths[@]}" </dev/null 2>/dev/null | tr -d '\r')
[ "${#win_paths[@]}" -eq "${#paths[@]}" ] || die "winepath could not translate: ${paths[*]}"
for i in "${!path_vars[@]}"; do WINE_ENV+=("${path_vars[$i]}=${win_paths[$((i + 1))]}"); done
if [ "$mode" != exe ]; then # a packaged build brings everything it needs itself
  WINE_ENV+=(
    PYTHONPATH="${win_paths[0]}"
    PYTHONNOUSERSITE=1 # only the environment setup.sh built, never a user site-packages
  )
fi

if [ "$mode" = app ]; then
  # As the installed console script: the checkout on PYTHONPATH, not the current directory.
  cmd=("$PYEXE" -P -c 'import sys; from bridge_app.cli import main; sys.exit(main())' "$@")
elif [ "$mode" = exe ]; then
  cmd=("$exe" "$@")
else
  cmd=("$PYEXE" "$@")
fi
if [ -n "$desktop" ]; then
  cmd=(explorer "/desktop=bridge-$desktop,$desktop" "${cmd[@]}")
fi

# --- start it -------------------------------------------------------------------------------
strip_cr() { # output filter: immune to Ctrl+C so the program's last words still get through
  trap '' INT TERM
  exec stdbuf -o0 tr -d '\r'
}
# The filters read from FIFOs, as jobs of this shell, so that we can wait for their last line.
fifos=$(mktemp -d "${TMPDIR:-/tmp}/windows-sh.XXXXXX")
trap 'rm -rf "$fifos"' EXIT
mkfifo "$fifos/out" "$fifos/err"
strip_cr <"$fifos/out" &
out_filter=$!
strip_cr <"$fifos/err" >&2 &
err_filter=$!
# SIGINT/SIGTERM for us become Ctrl+C for the program (one that comes before it runs, too).
child="" pending=0
stop() { if [ -n "$child" ]; then kill -INT "$child" 2>/dev/null || true; else pending=1; fi; }
trap stop INT TERM
# Background jobs of a script start with SIGINT ignored: give the program the default back.
launch=(env --default-signal=INT -i "${WINE_ENV[@]}" setsid wine "${cmd[@]}")
# (`<&0` explicitly: a background job's stdin would otherwise be /dev/null.)
if [ -t 0 ] || [ -p /dev/stdin ]; then
  "${launch[@]}" <&0 >"$fifos/out" 2>"$fifos/err" &
else # a regular file or a device: hand it over as a pipe
  cat <&0 | "${launch[@]}" >"$fifos/out" 2>"$fifos/err" &
fi
child=$!
if [ "$pending" = 1 ]; then stop; fi

while kill -0 "$child" 2>/dev/null; do wait "$child" || true; done
set +e
wait "$child"
rc=$?
set -e
trap - INT TERM
wait "$out_filter" "$err_filter" || true # let the last lines out before we return
exit "$rc"
