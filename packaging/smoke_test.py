"""Smoke test of a built LiteLLM Bridge bundle, offline, with a throwaway BRIDGE_HOME.

    python packaging/smoke_test.py --bundle packaging/dist/litellm-bridge [--part core|serve|all]

core:  the bundle starts; `doctor` finds no problem and finds kv/, assets/, configs/ inside
       the bundle; the hidden `self-test` imports LiteLLM's proxy server and counts tokens
       offline (and, under Xvfb, loads the GUI); `verify` passes; after one flipped byte in a
       bundled file and one added file, `verify` fails naming both.
serve: `serve --port P` gets ready (/health/readiness 200), `proxy-key` prints the master
       key, the built-in `demo` model answers a chat completion, SIGINT stops it (exit 0),
       and `verify` still passes (serving wrote nothing inside the bundle).

On Linux the whole test re-runs itself in a new network namespace (`unshare -rn`) where
only loopback exists, so the bundle cannot reach the internet even if it tried. Exits 1 at
the first failing step, printing what the bundle said.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

EXE = "litellm-bridge.exe" if sys.platform == "win32" else "litellm-bridge"
GUI_EXE = "litellm-bridge-gui.exe"  # Windows only: the windowed GUI
FLIP_TARGET = "_internal/kv/diagnostics.kv"  # a bundled file verify itself does not need
ADDED_FILE = "_internal/sitecustomize.py"
INSIDE_NETNS = "BRIDGE_SMOKE_IN_NETNS"
COMMAND_TIMEOUT = 300


class StepFailed(Exception):
    pass


def ok(step: str, detail: str = "") -> None:
    print(f"  ok   {step}" + (f": {detail}" if detail else ""), flush=True)


def fail(step: str, detail: str, output: str = "") -> StepFailed:
    text = f"  FAIL {step}: {detail}"
    if output:
        text += "\n" + "\n".join("       | " + line for line in output.strip().splitlines()[-60:])
    return StepFailed(text)


def loopback_up() -> None:
    # A new network namespace starts with `lo` down; SIOCSIFFLAGS brings it up without `ip`.
    import fcntl
    import struct

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifreq = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, 0x8913, ifreq))[1]  # SIOCGIFFLAGS
        fcntl.ioctl(sock, 0x8914, struct.pack("16sh", b"lo", flags | 0x1))  # SIOCSIFFLAGS UP
    finally:
        sock.close()


def reexec_offline(argv: list[str]) -> int | None:
    """Run this script again inside a loopback-only network namespace, when Linux allows."""
    if not sys.platform.startswith("linux") or os.environ.get(INSIDE_NETNS):
        return None
    if shutil.which("unshare") is None:
        print("  note unshare not found: running without network isolation", flush=True)
        return None
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        print(
            "  note unprivileged network namespaces are not allowed here "
            f"({probe.stderr.strip()}): running without network isolation",
            flush=True,
        )
        return None
    env = {**os.environ, INSIDE_NETNS: "1"}
    print("==> re-running inside a network namespace with loopback only", flush=True)
    return subprocess.run(
        ["unshare", "-rn", sys.executable, str(Path(__file__).resolve()), *argv],
        env=env,
        check=False,
    ).returncode


def no_internet() -> str:
    try:
        socket.create_connection(("1.1.1.1", 443), timeout=3).close()
    except OSError as exc:
        return f"only loopback is reachable ({exc.__class__.__name__})"
    return "WARNING: the internet is reachable from this test"


class Bundle:
    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        self.exe = root / EXE
        # Nothing from the build machine's Python may help the frozen app, and the bundle
        # must set LITELLM_LOCAL_MODEL_COST_MAP itself.
        leaks = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "LITELLM_LOCAL_MODEL_COST_MAP")
        self.env = {
            **{
                k: v
                for k, v in os.environ.items()
                if k not in (*leaks, "DISPLAY", "WAYLAND_DISPLAY")
            },
            "BRIDGE_HOME": str(home),
            "BRIDGE_KEYRING": "off",
        }

    def run(
        self,
        *args: str,
        prefix: list[str] | None = None,
        env: dict[str, str] | None = None,
        exe: str = EXE,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*(prefix or []), str(self.root / exe), *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )


def core(bundle: Bundle, work: Path) -> None:
    step = "bundle starts"
    result = bundle.run("--version")
    if result.returncode != 0 or "litellm-bridge" not in result.stdout:
        raise fail(step, f"exit {result.returncode}", result.stdout + result.stderr)
    ok(step, result.stdout.strip())

    step = "doctor"
    result = bundle.run("doctor", "--json")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise fail(step, "no JSON report", result.stdout + result.stderr) from None
    if result.returncode != 0 or not report.get("ok"):
        raise fail(step, f"exit {result.returncode}", result.stdout + result.stderr)
    checks = {c["name"]: c for c in report["checks"]}
    inside = str(bundle.root.resolve())
    for kind in ("kv", "assets", "configs"):
        check = checks[f"{kind} folder"]
        if check["status"] != "ok" or not check["detail"].startswith(inside):
            raise fail(step, f"{kind} folder is not inside the bundle: {check}", result.stdout)
    text = bundle.run("doctor")
    if "No problems found." not in text.stdout:
        raise fail(step, "no 'No problems found.'", text.stdout + text.stderr)
    ok(step, f"No problems found; kv/assets/configs under {inside}; SQLCipher database opened")

    if sys.platform == "win32":
        step = "Windows executables and Kivy's DLLs"
        wanted = [GUI_EXE, "SDL2.dll", "glew32.dll", "libEGL.dll", "libGLESv2.dll"]
        missing = [name for name in wanted if not any(bundle.root.rglob(name))]
        if missing:
            raise fail(step, f"missing from the bundle: {', '.join(missing)}")
        ok(step, ", ".join(wanted))

    step = "self-test"
    gui = sys.platform == "win32" or (
        shutil.which("xvfb-run") is not None and sys.platform.startswith("linux")
    )
    if sys.platform == "win32":
        # ANGLE: what VMs and Remote Desktop sessions with only OpenGL 1.1 fall back to.
        result = bundle.run("self-test", "--gui", env={"KIVY_GL_BACKEND": "angle_sdl2"})
    elif gui:
        result = bundle.run("self-test", "--gui", prefix=["xvfb-run", "-a"])
    else:
        result = bundle.run("self-test")
    if result.returncode != 0 or "Self-test passed." not in result.stdout:
        raise fail(step, f"exit {result.returncode}", result.stdout + result.stderr)
    if "remote model cost map" in result.stdout + result.stderr:  # LiteLLM's phone-home warning
        raise fail(step, "LiteLLM tried to fetch its cost map online", result.stderr)
    passed = [line.strip()[3:].strip() for line in result.stdout.splitlines() if "  ok " in line]
    where = "under ANGLE; " if sys.platform == "win32" else "under Xvfb; " if gui else ""
    ok(step, where + "; ".join(passed))

    if sys.platform == "win32":
        # Launched, not only found: the program people start from the Start menu (no
        # console, so its verdict is its exit status).
        step = "windowed executable"
        result = bundle.run(
            "self-test", "--gui", env={"KIVY_GL_BACKEND": "angle_sdl2"}, exe=GUI_EXE
        )
        if result.returncode != 0:
            raise fail(step, f"{GUI_EXE} self-test --gui exited {result.returncode}")
        ok(step, f"{GUI_EXE} self-test --gui: exit 0 (its window opened under ANGLE)")

    step = "verify (fresh bundle)"
    result = bundle.run("verify", "--require")
    if result.returncode != 0 or "match the signed manifest" not in result.stdout:
        raise fail(step, f"exit {result.returncode}", result.stdout + result.stderr)
    ok(step, result.stdout.strip())

    step = "verify (tampered copy)"
    copy = work / "tampered" / bundle.root.name
    shutil.copytree(bundle.root, copy, symlinks=True)
    target = copy / FLIP_TARGET
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    (copy / ADDED_FILE).write_text("print('injected')\n")
    tampered = Bundle(copy, Path(bundle.env["BRIDGE_HOME"]))
    result = tampered.run("verify")
    output = result.stdout + result.stderr
    if result.returncode != 1:
        raise fail(step, f"verify exited {result.returncode}, expected 1", output)
    for expected in (f"changed: {FLIP_TARGET}", f"added: {ADDED_FILE}"):
        if expected not in result.stdout:
            raise fail(step, f"output does not name the file ({expected!r})", output)
    if "Traceback" in output:
        raise fail(step, "a traceback instead of a report", output)
    ok(step, f"exit 1 naming {FLIP_TARGET} (changed) and {ADDED_FILE} (added)")

    step = "doctor (tampered copy)"
    result = tampered.run("doctor")
    if result.returncode != 1 or "FAIL bundle integrity" not in result.stdout:
        raise fail(step, f"exit {result.returncode}, no failed integrity check", result.stdout)
    ok(step, "exit 1 with a failed bundle integrity check")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http(method: str, url: str, body: dict[str, object] | None = None, key: str = "") -> tuple:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/json")
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")


def serve(bundle: Bundle, work: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (work / "serve.log").open("w+", encoding="utf-8")
    flags = subprocess.CREATE_NEW_PROCESS_GROUP if sys.platform == "win32" else 0
    proc = subprocess.Popen(
        [str(bundle.exe), "serve", "--port", str(port)],
        env=bundle.env,
        stdout=log,
        stderr=subprocess.STDOUT,
        creationflags=flags,
    )

    def output() -> str:
        log.flush()
        return (work / "serve.log").read_text(encoding="utf-8", errors="replace")

    try:
        step = "serve gets ready"
        deadline = time.monotonic() + COMMAND_TIMEOUT
        status = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                said = output()
                why = f"serve exited {proc.returncode} before it was ready"
                if "No such command 'serve'" in said:
                    why += " (this build has no `serve` command: the proxy work is not in it)"
                raise fail(step, why, said)
            try:
                status, _ = http("GET", f"{base}/health/readiness")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        if status != 200:
            raise fail(step, f"/health/readiness never answered 200 (last {status})", output())
        ok(step, f"{base}/health/readiness is 200")

        step = "proxy-key"
        result = bundle.run("proxy-key")
        key = result.stdout.strip()
        if result.returncode != 0 or not key or "\n" in key:
            raise fail(step, f"exit {result.returncode}", result.stdout + result.stderr)
        ok(step, "printed the master key")

        step = "demo chat completion"
        status, body = http(
            "POST",
            f"{base}/v1/chat/completions",
            {"model": "demo", "messages": [{"role": "user", "content": "Hello, bundle"}]},
            key=key,
        )
        if status != 200:
            raise fail(step, f"HTTP {status}", body + "\n" + output())
        content = json.loads(body)["choices"][0]["message"]["content"]
        if not content:
            raise fail(step, "empty answer", body)
        ok(step, f"answered {content[:60]!r}")

        step = "Ctrl+Break stops serve" if sys.platform == "win32" else "SIGINT stops serve"
        if sys.platform == "win32":
            proc.send_signal(signal.CTRL_BREAK_EVENT)
        else:
            proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise fail(step, "still running 60 s after SIGINT", output()) from None
        if code != 0:
            raise fail(step, f"exit {code}, expected 0", output())
        ok(step, "exit 0")

        # Running the proxy must not write inside the bundle (IT would see a changed build).
        step = "verify after serving"
        result = bundle.run("verify")
        if result.returncode != 0:
            raise fail(step, "the bundle changed while serving", result.stdout + result.stderr)
        ok(step, result.stdout.strip())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the unpacked bundle folder")
    parser.add_argument("--part", choices=("core", "serve", "all"), default="all")
    parser.add_argument("--no-isolation", action="store_true", help="skip the network namespace")
    args = parser.parse_args()

    if not args.no_isolation:
        code = reexec_offline(sys.argv[1:])
        if code is not None:
            return code
    if os.environ.get(INSIDE_NETNS):
        loopback_up()

    root = args.bundle.resolve()
    if not (root / EXE).is_file():
        print(f"smoke_test: no {EXE} in {root}", file=sys.stderr)
        return 2
    print(f"==> smoke test of {root} ({args.part}); {no_internet()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bridge-smoke-") as tmp:
        work = Path(tmp)
        bundle = Bundle(root, work / "home")
        try:
            if args.part in ("core", "all"):
                core(bundle, work)
            if args.part in ("serve", "all"):
                serve(bundle, work)
        except StepFailed as exc:
            print(exc, flush=True)
            return 1
        except subprocess.TimeoutExpired as exc:
            print(f"  FAIL {exc.cmd}: no answer within {exc.timeout} s", flush=True)
            return 1
    print("==> smoke test passed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
