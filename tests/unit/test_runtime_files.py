"""Writes and logs that survive other processes holding the file (Windows' sharing rules).

Linux lets a file be replaced or renamed while it is open; Windows does not. The sharing
violation is simulated at the OS-call boundary (``os.replace``) with the error Windows
raises; everything else (the temp file, the lock, the other process) is real.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from bridge_app.runtime import BridgeError, SharedRotatingFileHandler, atomic_write

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

REPO = Path(__file__).resolve().parents[2]
_real_replace = os.replace


def sharing_violation(target: str) -> PermissionError:
    exc = PermissionError(
        errno.EACCES, "The process cannot access the file because it is being used", target
    )
    exc.winerror = 32  # type: ignore[attr-defined]  # set by Windows; absent on Linux
    return exc


def replace_held_for(
    attempts: int, calls: list[str], *, only: str | None = None
) -> Callable[[str, str], None]:
    """os.replace as Windows answers while another process holds the target open."""

    def fake(src: str, dst: str) -> None:
        calls.append(os.fspath(dst))
        if (only is None or os.fspath(src) == only) and len(calls) <= attempts:
            raise sharing_violation(os.fspath(dst))
        _real_replace(src, dst)

    return fake


def test_atomic_write_waits_out_a_reader_holding_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "proxy-status.json"
    target.write_text('{"state": "starting"}')
    calls: list[str] = []
    monkeypatch.setattr(os, "replace", replace_held_for(3, calls))
    atomic_write(target, b'{"state": "running"}')
    assert target.read_text() == '{"state": "running"}'
    assert len(calls) == 4  # three refusals, then the replace went through
    assert [p.name for p in tmp_path.iterdir()] == ["proxy-status.json"]  # no temp left


def test_a_file_held_for_good_fails_clearly_and_keeps_the_old_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "config.yaml"
    target.write_text("old: true\n")
    calls: list[str] = []
    monkeypatch.setattr(os, "replace", replace_held_for(10_000, calls))
    with pytest.raises(BridgeError) as caught:
        atomic_write(target, b"new: true\n")
    assert "being used" in caught.value.message
    assert "previous file is unchanged" in (caught.value.hint or "")
    assert target.read_text() == "old: true\n"
    assert [p.name for p in tmp_path.iterdir()] == ["config.yaml"]


def test_other_errors_are_not_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def refuse(src: str, dst: str) -> None:
        calls.append(dst)
        raise PermissionError(errno.EACCES, "Permission denied", dst)  # no winerror: real

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(BridgeError):
        atomic_write(tmp_path / "x.json", b"{}")
    assert len(calls) == 1


def _handler(path: Path, max_bytes: int, backups: int) -> logging.Logger:
    logger = logging.getLogger(f"test-rotation-{path}")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = SharedRotatingFileHandler(path, max_bytes=max_bytes, backup_count=backups)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    return logger


def _all_lines(log: Path) -> list[str]:
    lines: list[str] = []
    for file in log.parent.glob(log.name + "*"):
        if not file.name.endswith(".lock"):
            lines += file.read_text(encoding="utf-8").splitlines()
    return lines


_WRITER = textwrap.dedent(
    """
    import logging, sys, time
    from pathlib import Path
    from bridge_app.runtime import SharedRotatingFileHandler
    log, stop = Path(sys.argv[1]), Path(sys.argv[2])
    logger = logging.getLogger("other-process")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    handler = SharedRotatingFileHandler(log, max_bytes=4096, backup_count=10_000)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    count = 0
    while not stop.exists() or count < 200:
        logger.info("B-%06d the other process appends while this one rotates", count)
        count += 1
        time.sleep(0.0005)
    handler.close()
    print(count)
    """
)


def test_log_rotates_while_another_process_appends(tmp_path: Path) -> None:
    log = tmp_path / "proxy.log"
    stop = tmp_path / "stop"
    other = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(log), str(stop)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not log.exists() and other.poll() is None:  # it has the file open
            pass
        logger = _handler(log, 4096, 10_000)
        for i in range(1500):
            logger.info("A-%06d this process writes and rotates at the same time", i)
    finally:
        stop.touch()
        out, err = other.communicate(timeout=60)
    for handler in logger.handlers:
        handler.close()
    assert other.returncode == 0, err
    assert "Logging error" not in err
    written = int(out)
    lines = Counter(_all_lines(log))
    mine = [line for line in lines if line.startswith("A-")]
    theirs = [line for line in lines if line.startswith("B-")]
    assert len(mine) == 1500 and len(theirs) == written  # nothing lost ...
    assert all(n == 1 for n in lines.values())  # ... nothing rotated twice
    backups = [p for p in tmp_path.glob("proxy.log.*") if p.suffix != ".lock"]
    assert len(backups) > 10  # it really rotated, many times
    assert log.stat().st_size < 2 * 4096


def test_rotation_copies_and_truncates_when_the_log_is_held_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: the live log cannot be renamed while `logs -f` (or serve) holds it."""
    log = tmp_path / "app.log"
    calls: list[str] = []
    monkeypatch.setattr(os, "replace", replace_held_for(10_000, calls, only=str(log)))
    logger = _handler(log, 2048, 3)
    with log.open("a", encoding="utf-8"):  # another reader/writer holds it
        for i in range(60):
            logger.info("line %03d of a log someone else has open", i)
    for handler in logger.handlers:
        handler.close()
    backup = tmp_path / "app.log.1"
    assert backup.exists() and backup.stat().st_size > 0
    assert log.stat().st_size < 2048
    lines = log.read_text().splitlines()
    assert lines and lines[-1] == "line 059 of a log someone else has open"
    earlier = backup.read_text().splitlines()
    assert earlier[-1] == f"line {int(lines[0][5:8]) - 1:03d} of a log someone else has open"
