"""Build the one-folder LiteLLM Bridge bundle, sign its manifest, and optionally archive it.

    python packaging/build.py [--key FILE] [--release] [--archive] [--no-cache] [--skip-manifest]
        [--version X.Y.Z] [--dist DIR]

Steps: stage the sources with the signing key's public half written into
bridge_app/integrity/_pubkey.py (the checkout is never modified); reuse a cached PyInstaller
output when nothing that goes into it changed (packaging/build/cache/<hash>), else run
PyInstaller; copy the bundle to packaging/dist/litellm-bridge; write the signed
MANIFEST.json into it; with --archive, pack it as a .tar.gz (Linux) or .zip (Windows) with
the manifest beside it.

The signing key comes from --key, $BRIDGE_SIGNING_KEY (the PEM) or $BRIDGE_SIGNING_KEY_FILE.
Without one (developer builds, the test suite) a development key is generated once under
packaging/build/ and the bundle says so; --release refuses to fall back to it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# BRIDGE_BUILD_DIR: a second build beside the first (the Windows build under Wine, made on
# the same checkout as the Linux one) keeps its stage, cache and key apart.
BUILD = Path(os.environ.get("BRIDGE_BUILD_DIR") or HERE / "build")
CACHE = BUILD / "cache"
STAGE = BUILD / "stage"
DIST = HERE / "dist"
DEV_KEY = BUILD / "dev-signing-key.pem"
SPEC = HERE / "litellm-bridge.spec"
NAME = "litellm-bridge"
KEEP_CACHED = 2  # bundles are ~370 MB each

sys.path.insert(0, str(REPO))
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402

from bridge_app import integrity  # noqa: E402 - needs the repository on sys.path

sys.path.insert(0, str(HERE))
import licenses  # noqa: E402 - packaging/ is not a package


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def project_version() -> str:
    import tomllib

    with (REPO / "pyproject.toml").open("rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def signing_key(path: Path | None, *, release: bool) -> Ed25519PrivateKey:
    if path is not None:
        return integrity.load_private_key(path)
    key = integrity.private_key_from_environment()
    if key is not None:
        return key
    if release:
        sys.exit(
            "build.py: --release needs the release signing key: pass --key FILE or set "
            f"${integrity.KEY_ENV} / ${integrity.KEY_FILE_ENV}."
        )
    if not DEV_KEY.exists():
        DEV_KEY.parent.mkdir(parents=True, exist_ok=True)
        integrity.write_private_key(integrity.generate_private_key(), DEV_KEY)
    say(f"No signing key supplied: using the DEVELOPMENT key {DEV_KEY} (not for release)")
    return integrity.load_private_key(DEV_KEY)


def stage_sources(public_key: str) -> None:
    """A copy of bridge_app with this build's public key."""
    shutil.rmtree(STAGE, ignore_errors=True)
    shutil.copytree(
        REPO / "bridge_app",
        STAGE / "bridge_app",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    pubkey = STAGE / "bridge_app" / "integrity" / "_pubkey.py"
    pubkey.write_text(integrity.render_pubkey_module(public_key), encoding="utf-8")


def stamp_version(bundle: Path, version: str) -> None:
    """The bundle's version, as installed metadata next to the bundled packages
    (bridge_app.__version__ reads it): written after PyInstaller, not into its cached
    output, so that a release of another version (--version) is a copy, not a rebuild."""
    contents = bundle / "_internal"
    for old in contents.glob("litellm_bridge-*.dist-info"):
        shutil.rmtree(old)
    info = contents / f"litellm_bridge-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: litellm-bridge\nVersion: {version}\n", encoding="utf-8"
    )


def write_notices(bundle: Path) -> None:
    """THIRD-PARTY-LICENSES.txt at the bundle's top (packaging/licenses.py), before the
    manifest is signed; a licence nobody reviewed stops the build."""
    shipped = licenses.shipped()
    refused = licenses.not_allowed(shipped)
    if refused:
        sys.exit(
            "build.py: the bundle would ship licences nobody reviewed: "
            + ", ".join(f"{s.name} {s.version} ({s.licence})" for s in refused)
            + ". Leave the package out (the spec's excludes) or review it in licenses.py."
        )
    text = licenses.notices(shipped)
    (bundle / licenses.NOTICES_NAME).write_text(text, encoding="utf-8")
    say(f"Third-party licences: {len(shipped)} packages ({len(text) / 1e3:.0f} kB)")


def _hash_paths(sha: hashlib._Hash, paths: list[Path]) -> None:
    for base in paths:
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts:
                continue
            sha.update(path.relative_to(REPO).as_posix().encode())
            sha.update(hashlib.sha256(path.read_bytes()).digest())


def cache_key() -> str:
    """Everything that changes PyInstaller's output: sources, resources, pins, tools, host."""
    sha = hashlib.sha256()
    for text in (sys.version, sys.platform, platform.machine()):
        sha.update(text.encode())
    import PyInstaller

    sha.update(PyInstaller.__version__.encode())
    _hash_paths(
        sha,
        [
            STAGE,
            REPO / "kv",
            REPO / "assets",
            REPO / "configs",
            REPO / "constraints.txt",
            REPO / "pyproject.toml",
            SPEC,
            HERE / "entry.py",
            HERE / "hooks",
        ],
    )
    return sha.hexdigest()[:20]


def run_pyinstaller(target: Path) -> float:
    work = BUILD / "work"
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    started = time.monotonic()
    env = {**os.environ, "BRIDGE_STAGE_DIR": str(STAGE)}
    log_file = BUILD / "pyinstaller.log"
    say(f"PyInstaller (log: {log_file})")
    with log_file.open("w", encoding="utf-8") as log:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "PyInstaller",
                "--noconfirm",
                "--log-level",
                "WARN",
                "--distpath",
                str(partial),
                "--workpath",
                str(work),
                str(SPEC),
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        print(log_file.read_text(encoding="utf-8", errors="replace")[-6000:], file=sys.stderr)
        sys.exit(f"build.py: PyInstaller failed (exit {result.returncode}); see {log_file}")
    (partial / NAME).rename(target)  # complete only once fully written
    shutil.rmtree(partial, ignore_errors=True)
    return time.monotonic() - started


def prune_cache(keep: Path) -> None:
    entries = sorted(
        (p for p in CACHE.iterdir() if p.is_dir() and p != keep and p.suffix != ".partial"),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for old in entries[KEEP_CACHED - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def folder_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def archive(bundle: Path, version: str, system: str | None = None) -> Path:
    """<name>.tar.gz / .zip beside the bundle, with copies of its manifest and signature.
    ``system``: the platform the bundle is for (default: this one's; the tests pack the
    Windows bundle on Linux as the Windows job packs it)."""
    system = system or ("windows" if sys.platform == "win32" else sys.platform.rstrip("0123456789"))
    machine = platform.machine().lower().replace("amd64", "x86_64")
    stem = f"{NAME}-{version}-{system}-{machine}"
    if system == "windows":
        out = bundle.parent / f"{stem}.zip"
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(bundle.rglob("*")):
                zf.write(path, Path(NAME) / path.relative_to(bundle))
    else:
        out = bundle.parent / f"{stem}.tar.gz"
        with tarfile.open(out, "w:gz", compresslevel=6) as tf:
            tf.add(bundle, arcname=NAME)
    for name in (integrity.MANIFEST_NAME, integrity.SIGNATURE_NAME):
        if (bundle / name).exists():
            shutil.copy2(bundle / name, bundle.parent / f"{stem}.{name}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--key", type=Path, help="Ed25519 private key (PEM) for the manifest")
    parser.add_argument("--release", action="store_true", help="refuse the development key")
    parser.add_argument("--archive", action="store_true", help="also write the .tar.gz/.zip")
    parser.add_argument("--no-cache", action="store_true", help="always run PyInstaller")
    parser.add_argument(
        "--skip-manifest",
        action="store_true",
        help="leave the manifest out (release: sign the executable first, then sign-manifest)",
    )
    parser.add_argument(
        "--archive-only",
        action="store_true",
        help="only pack the existing --dist bundle (after signing steps that change it)",
    )
    parser.add_argument("--dist", type=Path, default=DIST / NAME, help="where the bundle goes")
    parser.add_argument(
        "--version", help="the version to build (default: pyproject.toml's; test releases)"
    )
    args = parser.parse_args()

    started = time.monotonic()
    version = args.version or project_version()
    dist: Path = args.dist.resolve()
    if args.archive_only:
        out = archive(dist, version)
        say(f"Archive: {out} ({out.stat().st_size / 1e6:.0f} MB)")
        return
    key = signing_key(args.key, release=args.release)
    public_key = integrity.public_key_text(key)
    say(f"LiteLLM Bridge {version}; manifest key {integrity.key_id(public_key)}")
    stage_sources(public_key)

    CACHE.mkdir(parents=True, exist_ok=True)
    cached = CACHE / cache_key()
    if cached.is_dir() and not args.no_cache:
        say(f"Reusing the cached PyInstaller output {cached}")
        os.utime(cached)  # most recently used: pruned last
    else:
        shutil.rmtree(cached, ignore_errors=True)
        seconds = run_pyinstaller(cached)
        say(f"PyInstaller took {seconds:.0f} s")
    prune_cache(cached)

    shutil.rmtree(dist, ignore_errors=True)
    shutil.copytree(cached, dist, symlinks=True)
    stamp_version(dist, version)
    write_notices(dist)
    if not args.skip_manifest:
        manifest = integrity.sign_folder(dist, key, version=version)
        say(f"Signed manifest: {len(manifest.files)} files")
    size = folder_size(dist)
    say(f"Bundle: {dist} ({size / 1e6:.0f} MB)")
    if args.archive:
        out = archive(dist, version)
        say(f"Archive: {out} ({out.stat().st_size / 1e6:.0f} MB)")
    say(f"Done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
