"""The packaged app, built with PyInstaller exactly as a release is, run offline.

Building takes minutes on a cold cache (packaging/build/cache makes a rebuild of unchanged
sources a copy); both tests share one build.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging._left_out import left_out_problems

REPO = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 3600

pytestmark = [pytest.mark.slow, pytest.mark.timeout(BUILD_TIMEOUT + 900)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist") / "litellm-bridge"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_SIGNING_KEY")}
    result = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "build.py"), "--dist", str(dist)],
        env=env,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    return dist


def smoke(bundle: Path, part: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "packaging" / "smoke_test.py"),
            "--bundle",
            str(bundle),
            "--part",
            part,
        ],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    print(result.stdout, result.stderr)
    return result


def test_bundle_runs_offline_and_verify_names_a_flipped_byte(bundle: Path) -> None:
    result = smoke(bundle, "core")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "ok   doctor: No problems found" in out
    assert "ok   self-test" in out
    assert "litellm.proxy.proxy_server imported" in out
    assert "tokenizer counted" in out
    assert "PAC files: a PAC file answered 'PROXY proxy.corp.example:3128'" in out  # pypac, dukpy
    assert "proxy sign-in: an NTLM message was built" in out  # pyspnego (and sspilib)
    assert "ok   verify (fresh bundle): All" in out
    assert "ok   verify (tampered copy): exit 1 naming _internal/kv/diagnostics.kv (changed)" in out
    assert "smoke test passed" in out
    if sys.platform == "win32":
        assert "ok   Windows executables and Kivy's DLLs: litellm-bridge-gui.exe" in out
        assert "ok   self-test: under ANGLE" in out
        assert "ok   windowed executable: litellm-bridge-gui.exe self-test --gui: exit 0" in out


def test_bundle_serves_a_demo_request_offline(bundle: Path) -> None:
    # Needs `litellm-bridge serve` and `proxy-key` (the proxy branch): fails until merged.
    result = smoke(bundle, "serve")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok   demo chat completion" in result.stdout
    stop = "Ctrl+Break stops serve" if sys.platform == "win32" else "SIGINT stops serve"
    assert f"ok   {stop}: exit 0" in result.stdout


def test_the_bundle_lists_its_licences_and_leaves_berriais_enterprise_code_out(
    bundle: Path,
) -> None:
    """THIRD-PARTY-LICENSES.txt (packaging/licenses.py), covered by the signed manifest; the
    enterprise add-on litellm[proxy] installs, whose licence forbids distributing it, is in
    neither the list nor the bundle (the demo request above is served without it)."""
    notices = (bundle / "THIRD-PARTY-LICENSES.txt").read_text(encoding="utf-8")
    lines = notices.splitlines()
    assert lines[0].startswith("LiteLLM Bridge ships these third-party packages")
    assert any(line.startswith("litellm 1.") and line.endswith(": MIT") for line in lines)
    assert "Permission is hereby granted, free of charge" in notices
    assert "litellm-enterprise" not in notices
    assert not [p for p in bundle.rglob("*litellm_enterprise*")]
    manifest = json.loads((bundle / "MANIFEST.json").read_text(encoding="utf-8"))
    assert "THIRD-PARTY-LICENSES.txt" in manifest["files"]


def test_the_bundle_leaves_out_the_admin_ui_and_hugging_face_tokenization(bundle: Path) -> None:
    """LiteLLM's admin UI (a stand-in keeps LiteLLM's import quiet), the `tokenizers` and
    `huggingface_hub` packages and the DeepSeek tokenizer file are in neither the folder nor
    the executable's archive; the smoke tests above count tokens and serve without them."""
    exe = bundle / ("litellm-bridge.exe" if sys.platform == "win32" else "litellm-bridge")
    assert left_out_problems(bundle, exe) == []


def _dpkg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["dpkg", *args], capture_output=True, text=True, check=False)


@pytest.mark.skipif(sys.platform == "win32", reason="the Debian package (the MSI is Windows')")
def test_the_deb_installs_runs_and_is_removed(bundle: Path, tmp_path: Path) -> None:
    """packaging/build_deb.py on the bundle just built, installed with dpkg on this Debian:
    the command on PATH, the desktop entry, the company policy in /etc as a root-owned
    conffile that the installed app reports, the login autostart entry, a demo request
    served offline; removed, then purged."""
    if os.geteuid() != 0:
        pytest.fail("dpkg -i needs root (CI runs as root)")
    if _dpkg("-s", "litellm-bridge").returncode == 0:
        pytest.fail("a litellm-bridge package is installed on this machine; remove it first")
    from bridge_app.policy import EXAMPLE_POLICY

    policy = tmp_path / "policy.yaml"
    policy.write_text(EXAMPLE_POLICY, encoding="utf-8")
    built = subprocess.run(
        [sys.executable, str(REPO / "packaging" / "build_deb.py"), "--bundle", str(bundle),
         "--out", str(tmp_path), "--policy", str(policy), "--autostart"],
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    print(built.stdout)
    assert built.returncode == 0, built.stdout + built.stderr
    (deb,) = tmp_path.glob("litellm-bridge_*.deb")
    info = _dpkg("--info", str(deb)).stdout
    assert "Package: litellm-bridge" in info and "Depends: libc6, libgl1" in info, info
    contents = _dpkg("--contents", str(deb)).stdout
    for line in (
        "root/root", "./opt/litellm-bridge/litellm-bridge", "./etc/litellm-bridge/policy.yaml",
        "./usr/bin/litellm-bridge -> /opt/litellm-bridge/litellm-bridge",
        "./usr/share/applications/litellm-bridge.desktop",
        "./etc/xdg/autostart/litellm-bridge.desktop", "./usr/share/doc/litellm-bridge/copyright",
        "./opt/litellm-bridge/THIRD-PARTY-LICENSES.txt",
    ):  # fmt: skip
        assert line in contents, (line, contents[:2000])
    installed = _dpkg("-i", str(deb))
    try:
        assert installed.returncode == 0, installed.stdout + installed.stderr
        home = tmp_path / "home"
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") and k != "DISPLAY"
        } | {"BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"}

        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["/usr/bin/litellm-bridge", *args], env=env, capture_output=True, text=True,
                timeout=300, check=False,
            )  # fmt: skip

        doctor = run("doctor")
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        shown = run("policy", "show")
        assert "/etc/litellm-bridge/policy.yaml" in shown.stdout, shown.stdout + shown.stderr
        autostart = Path("/etc/xdg/autostart/litellm-bridge.desktop").read_text("utf-8")
        assert "Exec=litellm-bridge\n" in autostart, autostart
        served = smoke(Path("/opt/litellm-bridge"), "serve")
        assert "ok   demo chat completion" in served.stdout, served.stdout + served.stderr
    finally:
        removed = _dpkg("-r", "litellm-bridge")
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not Path("/usr/bin/litellm-bridge").exists()
    assert not Path("/opt/litellm-bridge").exists()
    # A conffile stays after removal (IT's policy outlives a reinstall), until a purge.
    assert Path("/etc/litellm-bridge/policy.yaml").exists()
    purged = _dpkg("-P", "litellm-bridge")
    assert purged.returncode == 0, purged.stdout + purged.stderr
    assert not Path("/etc/litellm-bridge/policy.yaml").exists()
    assert not Path("/etc/xdg/autostart/litellm-bridge.desktop").exists()


def _release(version: str, root: Path, *, damage: bool = False) -> Path:
    """A release of ``version`` by the real build script (the cached PyInstaller output,
    stamped with that version, its manifest signed) packed as the release workflow packs
    it. ``damage``: a file removed after signing, as a broken build ships."""
    dist = root / version / "litellm-bridge"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_SIGNING_KEY")}
    build = [sys.executable, str(REPO / "packaging" / "build.py"), "--dist", str(dist)]
    made = subprocess.run(
        [*build, "--version", version, *([] if damage else ["--archive"])],
        env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    assert "Reusing the cached PyInstaller output" in made.stdout  # a copy, not a rebuild
    if damage:
        (dist / "_internal" / "kv" / "main.kv").unlink()
        packed = subprocess.run(
            [*build, "--version", version, "--archive-only"],
            env=env, capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
        )  # fmt: skip
        assert packed.returncode == 0, packed.stdout + packed.stderr
    (archive,) = dist.parent.glob(f"litellm-bridge-{version}-linux-*.tar.gz")
    return archive


@pytest.mark.skipif(sys.platform == "win32", reason="the Linux release archive")
def test_an_installed_release_updates_to_the_next_and_a_broken_one_rolls_back(
    bundle: Path, tmp_path: Path
) -> None:
    """Two real releases: the bundle built above (A, this version) updates to B (the same
    build script, version 0.1.1, a .tar.gz with its top-level folder) published in a TUF
    repository on loopback — check, download with progress, verify, install beside, health
    check, switch, and A's executable then runs B. Then B' (0.1.2), whose build lost a file
    after signing: it fails its health check, the app stays on B, the database intact."""
    from tests._tuf_repo import serve_repo
    from tests.integration._serve import ADMIN_PW

    version_a = subprocess.run(
        [str(bundle / "litellm-bridge"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    home = tmp_path / "home"
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") and k != "DISPLAY"
    } | {"BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"}
    admin = ("--as", "root", "--password-stdin")

    def run(*args: str, stdin: str = ADMIN_PW) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(bundle / "litellm-bridge"), *args], env=env, input=stdin,
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip

    made = run("user", "create", "root", "--admin", "--password-stdin")
    assert made.returncode == 0, made.stderr
    release_b = _release("0.1.1", tmp_path / "releases")
    with serve_repo(tmp_path / "repo") as (repo, url):
        repo.publish("0.1.1", release_b.read_bytes(), name=release_b.name)
        root_json = str(repo.dir / "metadata" / "root.json")
        configured = run("update", "configure", url, "--root", root_json, *admin)
        assert configured.returncode == 0, configured.stderr
        checked = run("update", "check")
        assert checked.stdout.strip() == (
            f"Version 0.1.1 is available (running {version_a.split()[-1]})."
        ), checked.stdout + checked.stderr
        applied = run("update", "apply", "--yes", *admin)
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "downloading" in applied.stderr and " MB" in applied.stderr  # progress
        assert "0.1.1 installed; it starts at the next start." in applied.stdout

        # The next start of A checks B (its own doctor, serve, a demo request) and switches.
        lines = _serve_once(bundle, env)
        assert "Update: switched to 0.1.1 (health check passed)\n" in lines, lines
        assert run("--version").stdout.split()[-1] == "0.1.1"  # A hands over to B

        release_c = _release("0.1.2", tmp_path / "releases", damage=True)
        repo.publish("0.1.2", release_c.read_bytes(), name=release_c.name)
        applied = run("update", "apply", "--yes", *admin)  # run by B now
        assert applied.returncode == 0, applied.stdout + applied.stderr
    status = run("update", "status")
    assert "Pending   0.1.2 (starts at the next start)" in status.stdout, status.stdout
    lines = _serve_once(bundle, env)  # the next start: 0.1.2's doctor finds the lost file
    said = next((line for line in lines if line.startswith("Update: ")), "")
    assert said.startswith("Update: 0.1.2 failed its health check and was rolled back to 0.1.1"), (
        lines
    )
    assert "doctor failed" in said and "main.kv" in said, said
    assert run("--version").stdout.split()[-1] == "0.1.1"
    users = run("user", "list", *admin)
    assert users.returncode == 0 and "root" in users.stdout, users.stdout + users.stderr


def _serve_once(bundle: Path, env: dict[str, str]) -> list[str]:
    """`serve` started until it is ready, then Ctrl+C: what it said."""
    served = subprocess.Popen(
        [str(bundle / "litellm-bridge"), "serve", "--port", "0"], env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    assert served.stdout is not None
    for line in served.stdout:
        lines.append(line)
        if line.startswith("Press Ctrl+C"):
            break
    served.send_signal(signal.SIGINT)
    _out, err = served.communicate(timeout=120)
    assert any(line.startswith("Press Ctrl+C") for line in lines), [*lines, err[-2000:]]
    return lines
