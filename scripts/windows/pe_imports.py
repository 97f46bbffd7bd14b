"""Test-environment only: reads and repoints imports of Windows PE files (DLL, .pyd) for the
Wine leg. Runs on Linux with the standard library (no pefile needed).

  pe_imports.py def UCRTBASE.DLL IMPLEMENTED.TXT OUT.def
      a .def for ucrtcplx.dll: the names listed in IMPLEMENTED.TXT (one a line) come from
      the DLL's own w_<name> functions; every other export of UCRTBASE.DLL is forwarded to
      ucrtbase, so the DLL can stand in for api-ms-win-crt-math-l1-1-0.dll or ucrtbase.dll.
  pe_imports.py patch DIR NEW.DLL IMPLEMENTED.TXT
      in every .pyd/.dll under DIR that imports one of the listed functions from
      api-ms-win-crt-math-*.dll or ucrtbase.dll, renames that imported DLL to NEW.DLL (in
      place: the name string is overwritten and padded with NULs). Prints what it changed.

Why: see ucrtcplx.c (Wine 8.0's ucrtbase lacks the C99 complex functions numpy calls).
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path
from typing import BinaryIO

REDIRECTABLE = ("api-ms-win-crt-math-", "ucrtbase.dll")


class PE:
    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        if self.read(0, 2) != b"MZ":
            raise ValueError("not a PE file")
        pe = struct.unpack("<I", self.read(0x3C, 4))[0]
        if self.read(pe, 4) != b"PE\0\0":
            raise ValueError("not a PE file")
        nsections, opt_size = struct.unpack("<2xH12xH2x", self.read(pe + 4, 20))
        opt = pe + 24
        magic = struct.unpack("<H", self.read(opt, 2))[0]
        dirs = opt + (112 if magic == 0x20B else 96)  # PE32+ or PE32
        self.dirs = [struct.unpack("<II", self.read(dirs + 8 * i, 8)) for i in range(2)]
        self.sections = []
        for i in range(nsections):
            vsize, va, rawsize, raw = struct.unpack(
                "<IIII", self.read(opt + opt_size + 40 * i + 8, 16)
            )
            self.sections.append((va, max(vsize, rawsize), raw))

    def read(self, offset: int, size: int) -> bytes:
        self.f.seek(offset)
        return self.f.read(size)

    def offset(self, rva: int) -> int:
        for va, size, raw in self.sections:
            if va <= rva < va + size:
                return rva - va + raw
        raise ValueError(f"RVA {rva:#x} outside every section")

    def cstring(self, rva: int) -> bytes:
        data = self.read(self.offset(rva), 512)
        return data[: data.index(b"\0")]

    def exports(self) -> list[str]:
        rva, _size = self.dirs[0]
        if not rva:
            return []
        nnames, names_rva, _ = struct.unpack("<I4xII", self.read(self.offset(rva) + 24, 16))
        ptrs = struct.unpack(f"<{nnames}I", self.read(self.offset(names_rva), 4 * nnames))
        return [self.cstring(p).decode() for p in ptrs]

    def imports(self) -> list[tuple[str, int, list[str]]]:
        """(dll name, RVA of the name string, functions imported by name) per imported DLL."""
        rva, _ = self.dirs[1]
        result = []
        while rva:
            ilt, _, _, name_rva, iat = struct.unpack("<IIIII", self.read(self.offset(rva), 20))
            if not name_rva:
                break
            funcs = []
            thunk = ilt or iat
            while True:
                (entry,) = struct.unpack("<Q", self.read(self.offset(thunk), 8))
                if not entry:
                    break
                if not entry >> 63:  # by name: hint (2 bytes) then the name
                    funcs.append(self.cstring((entry & 0x7FFFFFFF) + 2).decode())
                thunk += 8
            result.append((self.cstring(name_rva).decode(), name_rva, funcs))
            rva += 20
        return result


def make_def(ucrtbase: str, implemented: set[str], out: str) -> None:
    with open(ucrtbase, "rb") as f:
        names = PE(f).exports()
    lines = ["LIBRARY ucrtcplx.dll", "EXPORTS"]
    lines += [f"    {n}=w_{n}" for n in sorted(implemented)]
    lines += [f"    {n}=ucrtbase.{n}" for n in names if n not in implemented]
    Path(out).write_text("\n".join(lines) + "\n")


def patch(folder: str, new_dll: str, implemented: set[str]) -> int:
    changed = 0
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in (".pyd", ".dll") or not path.is_file():
            continue
        with open(path, "r+b") as f:
            try:
                pe = PE(f)
                imports = pe.imports()
            except (ValueError, struct.error):
                continue
            for dll, name_rva, funcs in imports:
                if not dll.lower().startswith(REDIRECTABLE) or not implemented & set(funcs):
                    continue
                if len(new_dll) > len(dll):
                    raise SystemExit(f"{path}: {new_dll} is longer than {dll}")
                f.seek(pe.offset(name_rva))
                f.write(new_dll.encode().ljust(len(dll), b"\0"))
                count = len(implemented & set(funcs))
                print(f"{path}: {dll} -> {new_dll} ({count} complex functions)")
                changed += 1
    return changed


def main(argv: list[str]) -> None:
    if len(argv) == 5 and argv[1] == "def":
        make_def(argv[2], set(Path(argv[3]).read_text().split()), argv[4])
    elif len(argv) == 5 and argv[1] == "patch":
        patch(argv[2], argv[3], set(Path(argv[4]).read_text().split()))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
