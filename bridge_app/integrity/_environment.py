"""The Python environment an installed (not packaged) app runs in, checked for what a
poisoned package leaves behind.

A packaged build is covered by its signed manifest (``_verify.py``). A pip install is not:
any package in the environment can ship a ``.pth`` file, and the ``site`` module executes
every line of one that starts with ``import`` at each interpreter start, before the app's
first line. That is how LiteLLM 1.82.7 and 1.82.8 stole credentials (BerriAI/litellm
#24512: ``litellm_init.pth``). So:

- a LiteLLM version known to be compromised is refused outright;
- every ``.pth`` file in the site directories is named unless it belongs to an installed
  distribution (its ``RECORD`` lists it) *and* either holds only path lines or is one of the
  few that run code on purpose (setuptools' distutils shim, pywin32's bootstrap).

A ``.pth`` no package owns is how a planted file looks; one that a package owns but that
runs code is how a poisoned release looks.
"""

from __future__ import annotations

import site
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Literal

#: LiteLLM releases that shipped malware (BerriAI/litellm #24512), and why each is refused.
COMPROMISED_LITELLM: dict[str, str] = {
    "1.82.7": "shipped a credential-stealing payload (BerriAI/litellm #24512)",
    "1.82.8": "shipped a credential-stealing litellm_init.pth (BerriAI/litellm #24512)",
}

#: ``.pth`` files that run code at start on purpose, by the distribution that installs them.
CODE_PTH_ALLOWED: dict[str, str] = {
    "distutils-precedence.pth": "setuptools",
    "pywin32.pth": "pywin32",
}

Severity = Literal["warn", "fail"]


@dataclass(frozen=True)
class PthFinding:
    path: Path
    owner: str | None  # "name version" of the distribution whose RECORD lists it
    runs_code: bool

    @property
    def severity(self) -> Severity:
        return "fail" if self.runs_code else "warn"

    def sentence(self) -> str:
        what = "runs code at every Python start" if self.runs_code else "adds import paths"
        who = f"installed by {self.owner}" if self.owner else "installed by no package"
        return f"{self.path}: {what}, {who}"


def site_directories() -> list[Path]:
    """The directories whose ``.pth`` files ``site`` processes for this interpreter."""
    dirs = [Path(p) for p in site.getsitepackages()]
    if site.ENABLE_USER_SITE:
        dirs.append(Path(site.getusersitepackages()))
    seen: list[Path] = []
    for d in dirs:
        if d.is_dir() and d not in seen:
            seen.append(d)
    return seen


def _runs_code(path: Path) -> bool:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True  # unreadable: treat as the worst case
    return any(line.startswith(("import ", "import\t")) for line in text.splitlines())


def _owners(dists: Iterable[metadata.Distribution]) -> dict[Path, str]:
    owners: dict[Path, str] = {}
    for dist in dists:
        for file in dist.files or ():
            if file.name.endswith(".pth"):
                located = Path(str(file.locate()))
                owners[located.resolve()] = f"{dist.metadata['Name']} {dist.version}"
    return owners


def unexpected_pth_files(
    directories: Iterable[Path] | None = None,
    dists: Iterable[metadata.Distribution] | None = None,
) -> list[PthFinding]:
    """The ``.pth`` files a person should look at, most dangerous first."""
    directories = site_directories() if directories is None else list(directories)
    owners = _owners(metadata.distributions() if dists is None else dists)
    findings: list[PthFinding] = []
    for directory in directories:
        for path in sorted(directory.glob("*.pth")):
            owner = owners.get(path.resolve())
            runs_code = _runs_code(path)
            allowed_owner = CODE_PTH_ALLOWED.get(path.name)
            if owner and not runs_code:
                continue
            if owner and allowed_owner and owner.split()[0].lower() == allowed_owner:
                continue
            findings.append(PthFinding(path, owner, runs_code))
    findings.sort(key=lambda f: (not f.runs_code, str(f.path)))
    return findings


def litellm_refusal(version: str | None = None) -> str | None:
    """Why the installed LiteLLM must not run, or None."""
    if version is None:
        try:
            version = metadata.version("litellm")
        except metadata.PackageNotFoundError:
            return None
    reason = COMPROMISED_LITELLM.get(version)
    return f"LiteLLM {version} {reason}" if reason else None


def packaged() -> bool:
    """A frozen build: no site directories, its files covered by the signed manifest."""
    return bool(getattr(sys, "frozen", False))
