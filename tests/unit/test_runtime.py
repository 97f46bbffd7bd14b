from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bridge_app.runtime import (
    AppPaths,
    BridgeError,
    InstanceLock,
    InstanceLockedError,
    Redactor,
    configure_logging,
    mask_secret,
    network_filesystem,
    resource_path,
)

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

REPO = Path(__file__).resolve().parents[2]


def test_bridge_home_puts_everything_under_one_folder(tmp_path: Path) -> None:
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path)})
    assert paths.source == "BRIDGE_HOME"
    for directory in paths.all_dirs().values():
        assert directory.is_relative_to(tmp_path)
    assert paths.database_file.is_relative_to(tmp_path)


def test_without_bridge_home_platform_dirs_are_used() -> None:
    paths = AppPaths.from_environment({})
    assert paths.source == "platform"
    assert "litellm-bridge" in str(paths.data_dir)


def test_unwritable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"  # a file where a folder should go fails even for root
    blocker.write_text("x")
    paths = AppPaths.from_environment({"BRIDGE_HOME": str(blocker / "home")})
    with pytest.raises(BridgeError, match="Cannot create the config directory"):
        paths.ensure()


def test_resources_are_found_whatever_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resource_path("kv", "diagnostics.kv").is_file()
    assert resource_path("assets", "icon.png").is_file()
    assert resource_path("configs").is_dir()
    with pytest.raises(ValueError):
        resource_path("secrets")


def test_second_instance_on_the_same_data_dir_is_refused(tmp_path: Path) -> None:
    lock_file = tmp_path / "instance.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from bridge_app.runtime import InstanceLock
            lock = InstanceLock(__import__("pathlib").Path({str(lock_file)!r}))
            lock.acquire()
            print("held", flush=True)
            sys.stdin.readline()
        """),
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InstanceLockedError, match=rf"pid {holder.pid}\) is already running"):
            InstanceLock(lock_file).acquire()
    finally:
        holder.kill()
        holder.wait()
    # The OS released it with the process: no stale lock after a crash.
    lock = InstanceLock(lock_file)
    lock.acquire()
    assert lock.held
    lock.release()


def test_redactor_masks_registered_secrets_and_credential_shapes() -> None:
    redactor = Redactor()
    redactor.register("corp-token-abc123XYZ", "ab")  # too-short values are ignored
    line = (
        "upstream said: invalid token corp-token-abc123XYZ; "
        "Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.c2lnbmF0dXJl "
        'body={"api_key": "sk-live-1234567890abcdef"} password=hunter2hunter2 about'
    )
    out = redactor.redact(line)
    for secret in ("corp-token-abc123XYZ", "eyJzdWIiOiIx", "sk-live-1234567890abcdef", "hunter2"):
        assert secret not in out
    assert "about" in out and "upstream said" in out
    redactor.forget("corp-token-abc123XYZ")
    assert "corp-token-abc123XYZ" in redactor.redact("value corp-token-abc123XYZ")


def test_redactor_keeps_ordinary_words_after_a_credential_label() -> None:
    # An IAM's reason reads "... password: invalid employee credentials": masking "invalid"
    # hid why the login failed and masked nothing secret.
    redactor = Redactor()
    said = "The IAM refused the login password: invalid employee credentials"
    assert redactor.redact(said) == said
    assert redactor.redact("password: hunter2x") == "password: ****"
    assert redactor.redact('{"password": "hunter"}') == '{"password": "****"}'
    assert redactor.redact("token: abcdefghijklmnopqrstuvwxyz") == "token: ****"


def test_log_file_never_receives_a_registered_secret(tmp_path: Path) -> None:
    redactor = Redactor()
    log_file = configure_logging(tmp_path, redactor, console_level=None)
    redactor.register("S3cr3t-Value-42")
    logger = logging.getLogger("bridge_app.test")
    logger.warning("config has %s inside", "S3cr3t-Value-42")
    try:
        raise RuntimeError("echo S3cr3t-Value-42 from upstream")
    except RuntimeError:
        logger.exception("failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    content = log_file.read_text(encoding="utf-8")
    assert "config has **** inside" in content
    assert "RuntimeError" in content
    assert "S3cr3t-Value-42" not in content


def test_mask_secret_shows_at_most_the_tail() -> None:
    assert mask_secret("") == ""
    assert mask_secret("short") == "****"
    assert mask_secret("sk-abcdefghijklmnop") == "****mnop"


MOUNTS = """\
/dev/sda1 / ext4 rw,relatime 0 0
proc /proc proc rw 0 0
//filer/home$ /home/corp cifs rw,vers=3.0 0 0
filer:/export /mnt/nfs nfs4 rw 0 0
/dev/sdb1 /home/corp/local ext4 rw 0 0
"""


@pytest.mark.parametrize(
    ("folder", "found"),
    [
        ("/home/corp/alice/.local/share/litellm-bridge", "a cifs mount at /home/corp"),
        ("/mnt/nfs/bridge", "a nfs4 mount at /mnt/nfs"),
        ("/home/corp/local/bridge", None),  # a local disk mounted inside the share
        ("/var/lib/bridge", None),
    ],
)
@pytest.mark.skipif(sys.platform == "win32", reason="Linux mount table")
def test_a_data_folder_on_a_network_file_system_is_recognised(
    folder: str, found: str | None
) -> None:
    assert network_filesystem(Path(folder), mounts=MOUNTS) == found


@pytest.mark.skipif(sys.platform != "win32", reason="Windows paths and drive types")
def test_a_data_folder_on_a_windows_share_is_recognised(tmp_path: Path) -> None:
    share = r"\\filer\home$\alice\AppData\Local\litellm-bridge"
    assert network_filesystem(Path(share)) == r"the network share \\filer\home$"
    assert network_filesystem(tmp_path) is None  # the local profile's temp folder
