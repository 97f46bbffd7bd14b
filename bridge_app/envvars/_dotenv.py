"""`.env` files: parsed by python-dotenv (with line numbers), written so they parse back."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from dotenv.parser import parse_stream

from bridge_app.envvars._names import EnvError, check_name, check_value
from bridge_app.runtime import BridgeError, atomic_write

MAX_FILE_BYTES = 1024 * 1024

LineStatus = Literal["new", "changed", "unchanged", "invalid"]


@dataclass(frozen=True)
class PreviewLine:
    line: int
    name: str | None
    status: LineStatus
    reason: str = ""
    value: str | None = field(default=None, repr=False)  # never shown; masked in the UI


@dataclass(frozen=True)
class ImportPreview:
    source: str
    lines: tuple[PreviewLine, ...]

    def count(self, status: LineStatus) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def applicable(self) -> tuple[PreviewLine, ...]:
        return tuple(line for line in self.lines if line.status in ("new", "changed"))


def read_env_file(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise EnvError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    if size > MAX_FILE_BYTES:
        raise EnvError(
            f"{path} is {size // 1024} KiB; a .env file larger than "
            f"{MAX_FILE_BYTES // 1024} KiB is refused."
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise EnvError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
    return decode_env_bytes(data, str(path))


def decode_env_bytes(data: bytes, source: str) -> str:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise EnvError(f"{source} is not a text file (binary data on line {line}).")
    try:
        # A .env file written on Windows has CRLF line ends; inside a quoted multi-line
        # value they would otherwise stay as \r\n (python-dotenv reads text mode: \n).
        return data.decode("utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EnvError(
            f"{source} is not valid UTF-8 (line {line}, byte {exc.start}).",
            hint="Save the file as UTF-8 and import it again.",
        ) from exc


def preview_import(text: str, current: Mapping[str, str], *, source: str) -> ImportPreview:
    """Classify every binding of a .env text against the current values; applies nothing."""
    bindings = list(parse_stream(io.StringIO(text)))
    last_line_of: dict[str, int] = {}
    for binding in bindings:
        if binding.key is not None and not binding.error:
            last_line_of[binding.key] = binding.original.line
    lines: list[PreviewLine] = []
    for binding in bindings:
        number = binding.original.line
        if binding.error:
            snippet = (
                binding.original.string.strip().splitlines()[0][:40]
                if (binding.original.string.strip())
                else ""
            )
            lines.append(
                PreviewLine(number, None, "invalid", f"cannot parse this line: {snippet!r}")
            )
            continue
        if binding.key is None:
            continue  # blank line or comment
        if binding.value is None:
            lines.append(
                PreviewLine(number, binding.key, "invalid", "no '=' and no value on this line")
            )
            continue
        if last_line_of.get(binding.key) != number:
            lines.append(
                PreviewLine(
                    number,
                    binding.key,
                    "invalid",
                    f"duplicate: {binding.key} is set again on line {last_line_of[binding.key]}",
                )
            )
            continue
        try:
            name = check_name(binding.key)
            value = check_value(name, binding.value)
        except EnvError as exc:
            lines.append(PreviewLine(number, binding.key, "invalid", exc.message))
            continue
        if name not in current:
            status: LineStatus = "new"
        elif current[name] == value:
            status = "unchanged"
        else:
            status = "changed"
        lines.append(PreviewLine(number, name, status, value=value))
    return ImportPreview(source=source, lines=tuple(lines))


def _quote(value: str) -> str:
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def render_env(entries: Iterable[tuple[str, str | None]], *, header: str) -> str:
    """``NAME="value"`` lines (or ``NAME=`` for a template) that python-dotenv reads back
    exactly."""
    out = [f"# {line}" if line else "#" for line in header.splitlines()]
    for name, value in entries:
        out.append(f"{name}=" if value is None else f"{name}={_quote(value)}")
    return "\n".join(out) + "\n"


def write_private_file(path: Path, text: str) -> None:
    """Atomic, owner-only write: a failed export leaves no partial file behind."""
    try:
        atomic_write(path, text.encode("utf-8"), mode=0o600)
    except BridgeError as exc:
        raise EnvError(exc.message, hint=exc.hint) from exc
