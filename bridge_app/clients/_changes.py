"""Apply and revert a tool's config files as one unit: plan every file first (parse, check,
detect conflicts), write only if all of them can be written, roll back on a failed write."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from bridge_app.clients._files import (
    atomic_write,
    check_home,
    check_target,
    read_bytes,
    remove,
    sha256,
    unified_diff,
)
from bridge_app.clients._formats import MERGERS, ConfigFileError
from bridge_app.clients._model import (
    Action,
    Env,
    FileChange,
    Platform,
    Target,
    ToolSpec,
)
from bridge_app.clients._store import Backup, ToolStore
from bridge_app.runtime import BridgeError

CHANGED_SINCE = "changed since LiteLLM Bridge wrote it"


@dataclass
class FileStep:
    file_id: str
    path: Path
    current: bytes | None
    new: bytes | None  # None: remove the file
    backup: Backup | None
    change: FileChange


def _decode(path: Path, data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigFileError(f"{path} is not UTF-8 text; nothing was changed.") from None


def plan_apply(
    spec: ToolSpec,
    target: Target,
    *,
    home: Path,
    platform: Platform,
    env: Env,
    store: ToolStore,
) -> list[FileStep]:
    check_home(home)
    steps = []
    for config in spec.files:
        path = config.path(home, platform, env)
        check_target(path, writing=True)
        current = read_bytes(path)
        new = MERGERS[config.format](path, _decode(path, current), config.values(target))
        new_bytes = new.encode()
        backup = store.backup(spec.id, config.id)
        conflict = None
        if backup is not None and sha256(current) != backup.written_sha256:
            conflict = CHANGED_SINCE if current is not None else "deleted since it was written"
        action: Action = "unchanged" if new_bytes == current else "update" if current else "create"
        diff = unified_diff(path, current, new_bytes, ("now", "after apply"))
        change = FileChange(path=path, action=action, diff=diff, conflict=conflict)
        steps.append(FileStep(config.id, path, current, new_bytes, backup, change))
    return steps


def plan_revert(
    spec: ToolSpec, *, home: Path, platform: Platform, env: Env, store: ToolStore
) -> list[FileStep]:
    check_home(home)
    steps = []
    for config in spec.files:
        path = config.path(home, platform, env)
        backup = store.backup(spec.id, config.id)
        if backup is None:
            steps.append(FileStep(config.id, path, None, None, None, FileChange(path, "none")))
            continue
        check_target(path, writing=True)
        current = read_bytes(path)
        original = backup.original if backup.existed else None
        conflict = None
        if sha256(current) != backup.written_sha256:
            conflict = CHANGED_SINCE if current is not None else "deleted since it was written"
        action: Action = "restore" if original is not None else "remove"
        diff = unified_diff(path, current, original, ("now", "after revert"))
        change = FileChange(path=path, action=action, diff=diff, conflict=conflict)
        steps.append(FileStep(config.id, path, current, original, backup, change))
    return steps


def new_backups(spec: ToolSpec, steps: list[FileStep]) -> list[Backup]:
    """The backups a first apply keeps of each file before touching it (set on the steps;
    the caller stores them)."""
    made: list[Backup] = []
    for step in steps:
        if step.backup is not None:
            continue
        mode = None
        if step.current is not None:
            mode = step.path.stat().st_mode & 0o7777
        step.backup = Backup(
            tool=spec.id,
            file=step.file_id,
            path=str(step.path),
            existed=step.current is not None,
            original=step.current or b"",
            mode=mode,
            written_sha256=sha256(step.current),
        )
        made.append(step.backup)
    return made


def write_steps(steps: list[FileStep], *, restore_modes: bool = False) -> tuple[Path, ...]:
    """Write every step's new bytes (None removes the file). A step in conflict with the
    user's own edits (forced) first keeps them aside in ``<file>.before-revert-<time>``
    when reverting. A failed write puts back the files already written and raises."""
    saved: list[Path] = []
    done: list[FileStep] = []
    try:
        for step in steps:
            if restore_modes and step.change.conflict and step.current is not None:
                # The user's own edits are kept aside, never thrown away.
                copy = step.path.with_name(
                    f"{step.path.name}.before-revert-{time.strftime('%Y%m%d-%H%M%S')}"
                )
                atomic_write(copy, step.current)
                saved.append(copy)
            if step.new == step.current:
                continue
            if step.new is None:
                remove(step.path)
            else:
                mode = step.backup.mode if restore_modes and step.backup else None
                atomic_write(step.path, step.new, mode=mode)
            done.append(step)
    except (OSError, BridgeError) as exc:
        _undo(done)
        if isinstance(exc, BridgeError):
            raise
        raise BridgeError(
            f"Could not write {exc.filename or 'a config file'}: {exc.strerror or exc}; "
            "the files were left as they were."
        ) from None
    return tuple(saved)


def _undo(done: list[FileStep]) -> None:
    for step in reversed(done):
        try:
            if step.current is None:
                remove(step.path)
            else:
                atomic_write(step.path, step.current)
        except (OSError, BridgeError):  # best effort; the error below names the file
            pass


def written(backup: Backup, digest: str | None) -> Backup:
    """``backup`` once the app wrote bytes with ``digest`` (None: it removed the file)."""
    return Backup(
        tool=backup.tool,
        file=backup.file,
        path=backup.path,
        existed=backup.existed,
        original=backup.original,
        mode=backup.mode,
        written_sha256=digest,
    )
