"""The third-party licences the bundle ships: every distribution the app's runtime
dependencies pull in on this platform (pyproject.toml, markers evaluated here), minus those
the PyInstaller spec leaves out, each with its licence as its metadata declares it and the
licence files its wheel carries. build.py writes them to THIRD-PARTY-LICENSES.txt at the
bundle's top before signing the manifest, and refuses a build that would ship a licence
nobody reviewed (a new dependency under the GPL, say, or a proprietary one).

    python packaging/licenses.py            # the list, one line each
    python packaging/licenses.py --check    # exit 1 when a shipped licence is not allowed
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SPEC = HERE / "litellm-bridge.spec"
NOTICES_NAME = "THIRD-PARTY-LICENSES.txt"

#: Licences the bundle may ship without a second look: permissive ones, and the weak
#: copyleft ones whose terms a one-folder bundle of unmodified packages meets (MPL-2.0: the
#: files stay as published; LGPL: the modules stay separate files a user can replace, and
#: their source is on PyPI). Matched as words in the declared licence.
ALLOWED = (
    "MIT", "MIT-0", "MIT-CMU", "BSD", "BSD-2-Clause", "BSD-3-Clause", "0BSD", "ISC",
    "Apache", "Apache-2.0", "PSF", "PSF-2.0", "Python Software Foundation", "Zlib", "CC0-1.0",
    "Unlicense", "ZPL-2.1", "CNRI-Python", "MPL-2.0", "Mozilla Public License 2.0",
    "LGPL", "LGPLv2+", "LGPLv3", "LGPL-2.1-only", "LGPL-3.0-only", "Dual License",
)  # fmt: skip

#: Distributions whose metadata names no licence, read from the licence file they ship.
REVIEWED = {
    "sqlcipher3": "Zlib (its LICENSE: the pysqlite licence, zlib-style)",
    "materialyoucolor": "MIT (its LICENSE)",
    "isodate": "BSD-3-Clause (its classifier; the License field holds only a copyright)",
    "polars": "MIT (its classifier)",
    "pypiwin32": "PSF (an empty package that installs pywin32)",
}


@dataclass(frozen=True)
class Shipped:
    name: str
    version: str
    licence: str
    texts: tuple[tuple[str, str], ...]  # (file name, text)

    @property
    def allowed(self) -> bool:
        licence = self.licence.lower()
        words = set(re.split(r"[\s(),;/]+", licence))
        return any(
            allowed.lower() in words or licence.startswith(allowed.lower()) for allowed in ALLOWED
        ) and not re.search(r"(?<!l)gpl|agpl|proprietary", licence)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def spec_excludes(spec: Path = SPEC) -> list[str]:
    """The top-level modules the PyInstaller spec leaves out (its ``excludes`` list)."""
    for node in ast.parse(spec.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "excludes" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            assert isinstance(value, list)
            return [str(v) for v in value]
    raise ValueError(f"{spec} has no `excludes = [...]` list")


def _top_level(dist: md.Distribution) -> set[str]:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    names = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first.endswith((".dist-info", ".data")) or first == "..":
            continue
        names.add(first.removesuffix(".py").split(".")[0])
    return names


def _licence(dist: md.Distribution) -> str:
    meta = dist.metadata
    name = _norm(meta["Name"])
    if name in REVIEWED:
        return REVIEWED[name]
    declared = meta.get("License-Expression") or ""
    if not declared:
        # Often the licence's name, sometimes its whole text: the first line either way.
        field = (meta.get("License") or "").strip()
        declared = field.splitlines()[0][:80] if field else ""
    classifiers = [
        c.split("::")[-1].strip()
        for c in meta.get_all("Classifier") or []
        if c.startswith("License ::")
    ]
    if not declared or not any(ch.isalpha() for ch in declared):
        declared = " OR ".join(classifiers)
    return declared or "UNKNOWN"


def _licence_texts(dist: md.Distribution) -> tuple[tuple[str, str], ...]:
    texts = []
    for file in dist.files or []:
        if not file.parts[0].endswith(".dist-info"):
            continue
        leaf = file.name.upper()
        if leaf.startswith(("LICEN", "COPYING", "NOTICE")) or "licenses" in file.parts:
            try:
                data = Path(str(file.locate())).read_bytes()
            except OSError:
                continue
            texts.append((str(file), data.decode("utf-8", errors="replace")))
    return tuple(texts)


def shipped(pyproject: Path = REPO / "pyproject.toml") -> list[Shipped]:
    """Every distribution the runtime dependencies pull in here, minus the spec's excludes."""
    with pyproject.open("rb") as fh:
        project = tomllib.load(fh)["project"]
    environment = default_environment()
    excluded = set(spec_excludes())
    found: dict[str, md.Distribution] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    stack = [(Requirement(text), ("",)) for text in project["dependencies"]]
    while stack:
        req, extras = stack.pop()
        if req.marker and not any(
            req.marker.evaluate({**environment, "extra": extra}) for extra in extras
        ):
            continue
        key = (_norm(req.name), tuple(sorted(req.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            dist = md.distribution(req.name)
        except md.PackageNotFoundError:
            continue  # an optional dependency this environment does not have
        found[_norm(req.name)] = dist
        stack += [(Requirement(r), ("", *req.extras)) for r in dist.requires or []]
    result = []
    for name, dist in sorted(found.items()):
        modules = _top_level(dist)
        if modules and modules <= excluded:
            continue  # the spec leaves every module of it out
        result.append(Shipped(name, dist.version, _licence(dist), _licence_texts(dist)))
    return result


def notices(items: list[Shipped]) -> str:
    """THIRD-PARTY-LICENSES.txt: a table of contents, then each licence text."""
    head = [
        "LiteLLM Bridge ships these third-party packages; each keeps its own licence.",
        "LiteLLM Bridge itself: MIT (LICENSE in its source repository).",
        "",
    ]
    head += [f"{s.name} {s.version}: {s.licence}" for s in items]
    body = []
    for s in items:
        for file, text in s.texts:
            body += ["", "=" * 78, f"{s.name} {s.version} - {file}", "=" * 78, text.rstrip()]
    return "\n".join(head + body) + "\n"


def not_allowed(items: list[Shipped]) -> list[Shipped]:
    return [s for s in items if not s.allowed]


def main() -> int:
    items = shipped()
    refused = not_allowed(items)
    if "--check" not in sys.argv:
        for s in items:
            print(f"{s.name:28} {s.version:14} {s.licence}")
    for s in refused:
        print(f"not allowed: {s.name} {s.version} ({s.licence})", file=sys.stderr)
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
